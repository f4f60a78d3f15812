//! The state an actor shares with every ref to it: identity, lifecycle phase, counters and
//! the monitors waiting for its end.
//!
//! Lifecycle phases (`ActorCell::state`):
//!
//! | phase        | tells    | queued messages | entered by                          |
//! |--------------|----------|-----------------|-------------------------------------|
//! | `RUNNING`    | accepted | handled         | spawn                               |
//! | `STOPPING`   | refused  | handled         | `stop` (graceful), system shutdown  |
//! | `KILLED`     | refused  | discarded       | `kill`                              |
//! | `TERMINATED` | refused  | discarded       | the runner, once the actor ended    |
//!
//! Phases only move down the table. The phase publishes no other data (the exit reason is
//! under `exit`'s mutex), so it is read and written with `Relaxed`: a runner blocked on its
//! mailbox learns of a new phase through the wake envelope, and the channel hand-off orders
//! that.
//!
//! The gate (`ActorCell::gate`) makes "refused or handled" exact when an actor stops while others
//! are telling it: its high bit says the mailbox is closed (set on leaving `RUNNING`), its
//! other bits count the messages announced over the actor's life. A sender announces its push
//! (adds one, and takes it back if the gate is closed), pushes, and takes the announcement
//! back only if nothing was queued. The actor counts the messages it takes from its mailbox.
//! A stopping actor ends only once its mailbox is empty *and* it has taken as many messages
//! as were announced, so every message whose `tell` returned `Ok` is handled before it ends.
//! Announcing and closing use `SeqCst`, so either the sender sees the closed gate or the
//! actor sees the announcement; a successful push costs the sender one atomic operation.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::actor_id::ActorId;
use crate::event::{DeadLetterReason, Events, SystemEvent};
use crate::reply::{Pending, Reply};
use crate::supervision::{Down, ExitReason};

const RUNNING: u8 = 0;
const STOPPING: u8 = 1;
const KILLED: u8 = 2;
const TERMINATED: u8 = 3;

/// The gate's closed bit; the bits below count senders inside.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// Shared, type-erased state of one actor. It lives in the actor's allocation, beside its
/// mailbox (see `local.rs`), which does what needs the mailbox: waking the actor.
// `repr(C)` keeps the fields in this order: what senders write on every message (`gate`)
// first, what the actor reads on every message (`state`) last, and the rarely touched fields
// between, so that the two sides do not share a cache line.
#[repr(C)]
pub(crate) struct ActorCell {
    /// See the module documentation.
    gate: AtomicUsize,
    /// Empty until the actor ends or is first monitored: most actors are never monitored,
    /// and an idle actor should cost little.
    exit: Mutex<Option<Box<Exit>>>,
    pub(crate) name: Option<Arc<str>>,
    /// The system's exchanges for reporting about this actor (empty for an inbox).
    events: Weak<Events>,
    pub(crate) id: ActorId,
    /// Messages discarded by a `DropNewest` mailbox.
    pub(crate) dropped: AtomicU64,
    /// The number of the actor this one is blocked asking from its handler; 0 when none.
    asking: AtomicU64,
    state: AtomicU8,
    /// For an actor run by an [`Executor`](crate::Executor): whether it is submitted or
    /// running (see `executor.rs`). Here, in what would be padding, rather than beside the
    /// runner, to keep the actor's allocation small.
    pub(crate) scheduled: AtomicBool,
}

#[derive(Default)]
struct Exit {
    reason: Option<ExitReason>,
    monitors: Vec<Reply<Down>>,
}

impl ActorCell {
    pub(crate) fn new(id: ActorId, name: Option<Arc<str>>, events: Weak<Events>) -> ActorCell {
        ActorCell {
            id,
            name,
            state: AtomicU8::new(RUNNING),
            gate: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            asking: AtomicU64::new(0),
            // An executor's actor is scheduled until its spawn submits the first run.
            scheduled: AtomicBool::new(true),
            events,
            exit: Mutex::new(None),
        }
    }

    /// The system's exchanges, while the system exists.
    pub(crate) fn events(&self) -> Option<Arc<Events>> {
        self.events.upgrade()
    }

    /// Records that the actor's handler is blocked asking `target` (`None`: no longer).
    pub(crate) fn set_asking(&self, target: Option<ActorId>) {
        // Read by `is_asking` on another actor's thread, as a hint only: nothing else is
        // published through it.
        self.asking
            .store(target.map_or(0, ActorId::as_u64), Ordering::Relaxed);
    }

    /// Whether the actor's handler is blocked asking `target`.
    pub(crate) fn is_asking(&self, target: ActorId) -> bool {
        self.asking.load(Ordering::Relaxed) == target.as_u64()
    }

    /// Warns that this actor asks `target`, which is blocked asking this actor.
    pub(crate) fn report_ask_cycle(&self, target: &ActorCell) {
        tracing::warn!(asker = %self.id, target = %target.id,
            "ask cycle: the actor asked is waiting for an answer from the asker");
        if let Some(events) = self.events() {
            events.warnings.publish(SystemEvent::AskCycle {
                asker: self.id,
                asker_name: self.name.clone(),
                target: target.id,
                target_name: target.name.clone(),
            });
        }
    }

    /// Reports a message for this actor that no handler will see.
    pub(crate) fn report_dead_letter(&self, message_type: &'static str, reason: DeadLetterReason) {
        if let Some(events) = self.events() {
            events.dead_letters.publish(SystemEvent::DeadLetter {
                actor: Some(self.id),
                name: self.name.clone(),
                message_type,
                reason,
            });
        }
    }

    /// Reports a message a full `DropNewest` mailbox discarded (already counted).
    pub(crate) fn report_dropped(&self, message_type: &'static str) {
        if let Some(events) = self.events() {
            events.dropped.publish(SystemEvent::Dropped {
                actor: Some(self.id),
                subscription: None,
                message_type,
            });
        }
    }

    /// Announces a push; `false` when the actor takes no more messages. The announcement is
    /// then taken back already, and the caller wakes the actor, as after a closed
    /// [`undo`](ActorCell::undo): it may be waiting for the count.
    #[inline]
    #[must_use]
    pub(crate) fn enter(&self) -> bool {
        let before = self.gate.fetch_add(1, Ordering::SeqCst);
        if before & CLOSED != 0 {
            self.gate.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Takes back an announced push that queued nothing (refused, or dropped by a full
    /// mailbox). Returns `true` when the gate is closed: an actor stopping meanwhile may be
    /// waiting for the count, and the caller wakes it.
    #[inline]
    #[must_use]
    pub(crate) fn undo(&self) -> bool {
        let before = self.gate.fetch_sub(1, Ordering::SeqCst);
        before & CLOSED != 0
    }

    /// How many messages have been announced and not taken back, over the actor's life.
    pub(crate) fn announced(&self) -> u64 {
        (self.gate.load(Ordering::SeqCst) & !CLOSED) as u64
    }

    /// Whether the gate is closed and every message announced over the actor's life has
    /// been taken (`taken` of them): nothing more can arrive. One `SeqCst` load, ordered with
    /// the senders' announcements like the actor's own check.
    pub(crate) fn is_drained(&self, taken: u64) -> bool {
        let gate = self.gate.load(Ordering::SeqCst);
        gate & CLOSED != 0 && (gate & !CLOSED) as u64 == taken
    }

    /// Whether the gate is closed: no new message is accepted.
    pub(crate) fn is_closed(&self) -> bool {
        self.gate.load(Ordering::SeqCst) & CLOSED != 0
    }

    fn close_gate(&self) {
        self.gate.fetch_or(CLOSED, Ordering::SeqCst);
    }

    /// Whether the actor is running normally (not stopping, killed or ended).
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        self.state.load(Ordering::Relaxed) == RUNNING
    }

    #[inline]
    pub(crate) fn is_stopping(&self) -> bool {
        self.state.load(Ordering::Relaxed) == STOPPING
    }

    #[inline]
    pub(crate) fn is_killed(&self) -> bool {
        self.state.load(Ordering::Relaxed) == KILLED
    }

    #[inline]
    pub(crate) fn is_alive(&self) -> bool {
        self.state.load(Ordering::Relaxed) != TERMINATED
    }

    /// Asks for a graceful stop: no new messages, the queued ones are handled. Returns
    /// `true` when the phase moved: the caller then wakes the actor to look at it.
    #[must_use]
    pub(crate) fn stop(&self) -> bool {
        let moved = self
            .state
            .compare_exchange(RUNNING, STOPPING, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        if moved {
            self.close_gate();
        }
        moved
    }

    /// Asks for an immediate stop: the queued messages are discarded. Returns `true` when
    /// the phase moved: the caller then wakes the actor to look at it.
    #[must_use]
    pub(crate) fn kill(&self) -> bool {
        let moved = self
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                (s < KILLED).then_some(KILLED)
            })
            .is_ok();
        if moved {
            self.close_gate();
        }
        moved
    }

    /// Refuses every further message. Called by the runner as the actor ends.
    pub(crate) fn close(&self) {
        self.close_gate();
        self.state.store(TERMINATED, Ordering::Relaxed);
    }

    /// Records why the actor ended and notifies every monitor. Called once, by its runner,
    /// after [`close`](ActorCell::close).
    pub(crate) fn notify_exit(&self, reason: ExitReason) {
        let monitors = {
            let mut exit = self.exit.lock();
            let exit = exit.get_or_insert_with(Box::default);
            exit.reason = Some(reason.clone());
            std::mem::take(&mut exit.monitors)
        };
        for reply in monitors {
            reply.send(self.down(reason.clone()));
        }
    }

    /// Why the actor ended; `None` while it has not.
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        let exit = self.exit.lock();
        exit.as_ref().and_then(|exit| exit.reason.clone())
    }

    fn down(&self, reason: ExitReason) -> Down {
        Down {
            id: self.id,
            name: self.name.clone(),
            reason,
        }
    }

    /// A result completed with the actor's [`Down`] notice when it ends (at once if it has).
    pub(crate) fn monitor(&self) -> Pending<Down> {
        let mut exit = self.exit.lock();
        let exit = exit.get_or_insert_with(Box::default);
        if let Some(reason) = &exit.reason {
            return Pending::ready(Ok(self.down(reason.clone())));
        }
        // Monitors whose waiter is gone would otherwise pile up on a long-lived actor.
        exit.monitors.retain(|reply| !reply.is_canceled());
        let (reply, pending) = Reply::pair();
        exit.monitors.push(reply);
        pending
    }
}
