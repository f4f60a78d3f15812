//! One timer thread shared by many timers: the ground under `send_after` and `send_interval`.
//!
//! [`Timers`] owns a single thread, named `actor-timer`, started by the first
//! [`schedule`](Timers::schedule). It sleeps until the earliest deadline, runs the due timer's
//! action, and goes back to sleep. A timer is a boxed action plus an optional period; the action
//! answers [`TimerAction::Cancel`] once its target is gone, which is how a timer whose actor has
//! stopped removes itself.
//!
//! Actions run on the timer thread, one after another, with no lock held. They must be quick (a
//! `try_tell`, never a blocking send): a slow action delays every other timer, and an action that
//! waits for another timer to fire waits forever.
//!
//! # Timer states
//!
//! The lock-protected [`State`] is the single source of truth; a handle's `active` flag mirrors
//! "the timer is in the map" so that [`TimerHandle::is_active`] needs no lock.
//!
//! | state   | entry in `State::timers`        | entries in the heap | `is_active` |
//! |---------|---------------------------------|---------------------|-------------|
//! | armed   | yes, holding its action         | exactly one         | `true`      |
//! | running | yes, action out on the thread   | none                | `true`      |
//! | gone    | no                              | at most one, stale  | `false`     |
//!
//! Only interval timers are ever *running*: a one-shot timer goes from armed to gone as its
//! firing starts, since it can never start again. An interval timer returns to armed after each
//! firing, until its action returns `Cancel` or panics. [`TimerHandle::cancel`] moves any state to
//! gone. A stale heap entry left by a cancel is discarded when it reaches the top of the heap, or
//! by a compaction once the heap holds more than twice as many entries as there are live timers.
//!
//! # Shutdown sequence
//!
//! 1. Under the lock, [`State::close`] marks the state shut down, empties the heap and takes every
//!    timer out of the map, clearing the handles' flags.
//! 2. The thread is woken, and the taken actions are dropped outside the lock.
//! 3. The thread is joined. It finishes the action it is running, if any, sees the mark and
//!    returns. Joining is skipped when `shutdown` runs on the timer thread itself, from inside an
//!    action: the thread then exits as soon as that action returns.
//!
//! [`Timers`]'s `Drop` runs the same sequence, so no timer thread outlives its owner (except in the
//! self-join case above, where the thread is already on its way out).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::supervision::panic_message;

/// Name of the timer thread, so it is recognisable in panics, debuggers and `top -H`.
const THREAD_NAME: &str = "actor-timer";

/// Shortest period an interval timer can have.
///
/// Shorter periods (zero included) are raised to this one, so that an interval timer cannot keep
/// the shared thread busy firing it alone.
pub(crate) const MIN_PERIOD: Duration = Duration::from_millis(1);

/// What a timer's action tells the timer thread after it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerAction {
    /// Keep the timer: an interval timer fires again at its next tick. A one-shot timer is done
    /// after its single firing whatever its action answers.
    Continue,
    /// Remove the timer, typically because the actor it sends to is gone.
    Cancel,
}

/// The work a timer does each time it fires.
type Action = Box<dyn FnMut() -> TimerAction + Send>;

/// Identity of one timer, never reused, so a stale heap entry can never be mistaken for a live
/// timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct TimerId(u64);

/// One heap entry: when a timer is due.
///
/// The derived ordering compares the fields in declaration order: deadline first, then the
/// sequence number, so that timers with equal deadlines fire in the order they were armed. The
/// id never decides, since sequence numbers are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    /// When the timer fires.
    deadline: Instant,
    /// Order in which heap entries were pushed; breaks ties between equal deadlines.
    seq: u64,
    /// The timer this entry is for; absent from `State::timers` once the timer is gone.
    id: TimerId,
}

/// A timer that is armed or running: what a cancel removes.
struct Entry {
    /// The action; `None` while an interval timer's action runs on the timer thread.
    action: Option<Action>,
    /// `None` for a one-shot timer.
    period: Option<Duration>,
    /// Shared with the timer's handles; cleared, under the lock, when the entry leaves the map.
    active: Arc<AtomicBool>,
}

impl Entry {
    /// Tells the timer's handles that it is gone; called whenever the entry leaves the map.
    fn deactivate(&self) {
        // Relaxed is enough: the flag publishes no other data, it only goes from true to false,
        // and it is always written under the lock. A reader that sees a stale `true` takes the
        // lock in `cancel` and finds the truth there.
        self.active.store(false, Ordering::Relaxed);
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("running", &self.action.is_none())
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// Everything the timer thread and the schedulers share, behind one lock.
///
/// Invariant: each armed timer has exactly one entry in `heap`; a running timer has none. This is
/// what makes "the id is absent from `timers`" the complete test for a stale heap entry.
struct State {
    /// Min-heap (through `Reverse`) of deadlines, possibly holding stale entries of gone timers.
    heap: BinaryHeap<Reverse<Due>>,
    /// Live timers: armed or running.
    timers: HashMap<TimerId, Entry>,
    /// Next timer id to hand out.
    next_id: u64,
    /// Next heap sequence number to hand out.
    next_seq: u64,
    /// Set once by `close`; the thread exits and `schedule` refuses new timers.
    shut_down: bool,
}

impl State {
    /// Arms `id` at `deadline`, and says whether it became the earliest deadline, in which case
    /// the sleeping thread must be woken to sleep for less.
    fn push(&mut self, deadline: Instant, id: TimerId) -> bool {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Due { deadline, seq, id }));
        self.heap.peek().is_some_and(|Reverse(top)| top.seq == seq)
    }

    /// Takes timer `id` out of the map, if it is still there, and returns its entry so that the
    /// caller drops the action after releasing the lock: an action's captures may run arbitrary
    /// code when dropped, including calls back into the timers.
    fn remove(&mut self, id: TimerId) -> Option<Entry> {
        let entry = self.timers.remove(&id)?;
        entry.deactivate();
        // Each live timer has at most one heap entry, so past twice as many heap entries as live
        // timers, more than half of the heap is stale. Rebuilding then costs O(n) once per n/2
        // cancels, and keeps a workload that cancels most of its timers (a reply timeout that
        // rarely fires) from growing the heap without bound before the deadlines come.
        if self.heap.len() > 2 * self.timers.len() {
            let timers = &self.timers;
            self.heap
                .retain(|Reverse(due)| timers.contains_key(&due.id));
        }
        Some(entry)
    }

    /// Marks the state shut down and takes out every timer, for the caller to drop outside the
    /// lock.
    fn close(&mut self) -> Vec<Entry> {
        self.shut_down = true;
        self.heap = BinaryHeap::new();
        let entries: Vec<Entry> = self.timers.drain().map(|(_, entry)| entry).collect();
        for entry in &entries {
            entry.deactivate();
        }
        entries
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("timers", &self.timers.len())
            .field("heap", &self.heap.len())
            .field("shut_down", &self.shut_down)
            .finish_non_exhaustive()
    }
}

/// What [`Timers`], its thread and its handles share.
///
/// The heap lives behind a `parking_lot` mutex with a condvar rather than on the far side of a
/// channel: `schedule`, `cancel` and `is_active` all need the same view of which timers exist, and
/// with a channel the heap would belong to the thread, every cancel would be a message only that
/// thread could apply (and compact), and `is_active` would need shared state anyway. With one lock
/// there is one source of truth, and `Condvar::wait_until` releases it while sleeping to the
/// earliest deadline. A wake-up cannot be lost: a scheduler changes the heap under the lock, and
/// the thread looks at the heap under the same lock before it waits.
struct Shared {
    /// Timers, heap and shutdown mark.
    state: Mutex<State>,
    /// Wakes the thread when an earlier deadline is armed, or on shutdown.
    wakeup: Condvar,
    /// The timer thread's id, set by the thread itself before it runs any action, so that an
    /// action calling back into [`Timers`] is recognised as running on that thread.
    thread_id: OnceLock<ThreadId>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("thread_id", &self.thread_id.get())
            .finish_non_exhaustive()
    }
}

/// The timer thread's life, as seen by its owner.
///
/// | phase        | reached by                                 | `schedule`             |
/// |--------------|--------------------------------------------|------------------------|
/// | `NotStarted` | `Timers::new`                              | spawns, then `Running` |
/// | `Running`    | the first `schedule`                       | arms the timer         |
/// | `Stopped`    | `shutdown` from any thread but the timer's | inactive handle        |
enum ThreadSlot {
    /// No timer scheduled yet: owners that never use timers never pay for a thread.
    NotStarted,
    /// The thread runs and has not been joined.
    Running(JoinHandle<()>),
    /// Shut down; the thread, if there was one, is joined.
    Stopped,
}

impl fmt::Debug for ThreadSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("NotStarted"),
            Self::Running(handle) => f
                .debug_tuple("Running")
                .field(&handle.thread().id())
                .finish(),
            Self::Stopped => f.write_str("Stopped"),
        }
    }
}

/// One thread that fires many timers: the scheduler behind `send_after` and `send_interval`.
///
/// The thread starts with the first [`schedule`](Self::schedule) and is joined by
/// [`shutdown`](Self::shutdown) or by dropping the `Timers`. Actions must not own the `Timers`
/// that runs them (hold a `Weak` instead): an interval timer owning its `Timers` would keep both
/// alive forever.
pub(crate) struct Timers {
    /// State shared with the thread and, weakly, with the handles.
    shared: Arc<Shared>,
    /// The thread, for joining. Separate from the state lock so that joining never holds a lock
    /// the thread needs.
    thread: Mutex<ThreadSlot>,
}

impl Timers {
    /// Creates a scheduler; its thread starts with the first timer.
    pub(crate) fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    heap: BinaryHeap::new(),
                    timers: HashMap::new(),
                    next_id: 0,
                    next_seq: 0,
                    shut_down: false,
                }),
                wakeup: Condvar::new(),
                thread_id: OnceLock::new(),
            }),
            thread: Mutex::new(ThreadSlot::NotStarted),
        }
    }

    /// Runs `action` on the timer thread after `delay`, then every `period` if one is given,
    /// until it returns [`TimerAction::Cancel`], panics, or the returned handle is cancelled.
    ///
    /// An interval timer is re-armed at its previous deadline plus `period`, not at the time its
    /// action finished, so its ticks do not drift. If the thread fell behind by a whole period or
    /// more (a slow action elsewhere, a suspended machine), the missed ticks are skipped: the timer
    /// fires once late and then resumes on its original grid of ticks, rather than firing a burst
    /// to catch up. Periods shorter than [`MIN_PERIOD`] are raised to it. A deadline too far away
    /// for [`Instant`] to represent never comes: such a timer stays active, and never fires, until
    /// cancelled.
    ///
    /// After [`shutdown`](Self::shutdown), or if the timer thread cannot be spawned (logged), the
    /// action is dropped unrun and the returned handle is already inactive. This is a handle
    /// rather than an error because shutdown races with every scheduler, and an inactive handle
    /// already says all a caller could act on ("this will never fire"), the same way a message to
    /// a stopped actor is simply dropped; a caller that cares asks
    /// [`is_active`](TimerHandle::is_active).
    pub(crate) fn schedule(
        &self,
        delay: Duration,
        period: Option<Duration>,
        action: Box<dyn FnMut() -> TimerAction + Send>,
    ) -> TimerHandle {
        self.schedule_at(Instant::now().checked_add(delay), period, action)
    }

    /// [`schedule`](Self::schedule) with the deadline already computed; `None` is a deadline
    /// beyond what `Instant` can represent. Tests use it to give timers exact deadlines.
    fn schedule_at(
        &self,
        deadline: Option<Instant>,
        period: Option<Duration>,
        action: Action,
    ) -> TimerHandle {
        // On the timer thread, the thread obviously exists; skipping the slot lock there also
        // keeps an action from waiting on an owner that holds the slot while joining this thread.
        if !self.on_timer_thread() && !self.ensure_thread() {
            return TimerHandle::inactive();
        }
        let active = Arc::new(AtomicBool::new(true));
        let mut state = self.shared.state.lock();
        if state.shut_down {
            drop(state);
            drop(action);
            return TimerHandle::inactive();
        }
        let id = TimerId(state.next_id);
        state.next_id += 1;
        let entry = Entry {
            action: Some(action),
            period: period.map(|period| period.max(MIN_PERIOD)),
            active: Arc::clone(&active),
        };
        state.timers.insert(id, entry);
        let earliest = deadline.is_some_and(|deadline| state.push(deadline, id));
        drop(state);
        if earliest {
            self.shared.wakeup.notify_one();
        }
        TimerHandle {
            id,
            active,
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Stops the timer thread and joins it; pending timers are dropped unrun and their handles
    /// become inactive. Idempotent.
    ///
    /// An action that is already firing finishes first. Called from inside an action, on the
    /// timer thread itself, it cannot join (that would wait for itself forever): it only stops
    /// the thread, which exits once that action returns and is joined by the next `shutdown` or
    /// by `Drop` on another thread. If that `Drop` also happens on the timer thread (an action
    /// held the last owner), the thread is left to finish on its own, which it does right away.
    pub(crate) fn shutdown(&self) {
        let orphans = self.shared.state.lock().close();
        self.shared.wakeup.notify_all();
        drop(orphans);
        if self.on_timer_thread() {
            return;
        }
        // The slot stays locked while joining, so that every `shutdown` that returns has seen the
        // thread gone, even when two run at once. Nothing the thread does needs this lock: see
        // `schedule_at` and the check above.
        let mut slot = self.thread.lock();
        if let ThreadSlot::Running(handle) = mem::replace(&mut *slot, ThreadSlot::Stopped)
            && handle.join().is_err()
        {
            tracing::error!("the timer thread panicked; its timers were cancelled");
        }
    }

    /// Whether the caller runs on this scheduler's timer thread, that is inside one of its
    /// actions.
    fn on_timer_thread(&self) -> bool {
        self.shared.thread_id.get() == Some(&thread::current().id())
    }

    /// Starts the timer thread if it has not started yet; says whether it runs.
    fn ensure_thread(&self) -> bool {
        let mut slot = self.thread.lock();
        match &*slot {
            ThreadSlot::Running(_) => true,
            ThreadSlot::Stopped => false,
            ThreadSlot::NotStarted => {
                let shared = Arc::clone(&self.shared);
                let spawned = thread::Builder::new()
                    .name(THREAD_NAME.to_owned())
                    .spawn(move || run(&shared));
                match spawned {
                    Ok(handle) => {
                        *slot = ThreadSlot::Running(handle);
                        true
                    }
                    Err(error) => {
                        // Left `NotStarted`: the next `schedule` tries again.
                        tracing::error!(%error, "could not spawn the timer thread");
                        false
                    }
                }
            }
        }
    }
}

impl Drop for Timers {
    /// Shuts down and joins the thread, so that it does not outlive its owner.
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Timers");
        out.field("state", &*self.shared.state.lock());
        // `try_lock`: a `shutdown` holds the slot while it joins, and a `Debug` call (say, in a
        // log line inside an action) must not wait for that.
        match self.thread.try_lock() {
            Some(slot) => out.field("thread", &*slot),
            None => out.field("thread", &format_args!("<being joined>")),
        };
        out.finish()
    }
}

/// A handle to one timer, for cancelling it or asking whether it is still active.
///
/// Handles come from `send_after` and `send_interval`. Clones refer to the same timer. A handle
/// does not keep the timer, nor its scheduler, alive: dropping every handle leaves the timer
/// running, and a handle outliving its scheduler reports an inactive timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Inbox, System};
///
/// let system = System::new();
/// let inbox = Inbox::new();
/// let reminder = system.send_after(Duration::from_secs(3600), inbox.actor_ref(), "reminder");
/// assert!(reminder.is_active());
/// reminder.cancel();
/// assert!(!reminder.is_active());
/// system.shutdown();
/// ```
#[derive(Debug, Clone)]
pub struct TimerHandle {
    /// Which timer, in its scheduler's map.
    id: TimerId,
    /// Cleared when the timer is gone; see [`Entry::deactivate`].
    active: Arc<AtomicBool>,
    /// The scheduler, weakly, so handles never keep a shut down scheduler's memory.
    shared: Weak<Shared>,
}

impl TimerHandle {
    /// A handle to a timer that will never fire, for when none could be armed.
    fn inactive() -> Self {
        Self {
            id: TimerId(u64::MAX),
            active: Arc::new(AtomicBool::new(false)),
            shared: Weak::new(),
        }
    }

    /// Cancels the timer; does nothing if it is no longer active.
    ///
    /// Once `cancel` returns, the timer's action will not start again. A firing already in
    /// progress on the timer thread may still finish, so one more message may arrive after
    /// `cancel` returns, unless `cancel` was called from inside the action itself. The action is
    /// dropped by the time `cancel` returns, or, if it is firing, right after that firing.
    ///
    /// # Examples
    ///
    /// See [`TimerHandle`].
    pub fn cancel(&self) {
        if !self.is_active() {
            return;
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        // The guard is a temporary of this statement, so the entry, and with it the action, is
        // dropped after the lock is released.
        let removed = shared.state.lock().remove(self.id);
        drop(removed);
    }

    /// Whether the timer may still fire: `false` once it was cancelled (by its handle or by its
    /// action's answer), its scheduler shut down, or a one-shot timer's firing started.
    ///
    /// An interval timer that stops itself (its target is gone) reads as active until its last
    /// firing has returned.
    ///
    /// # Examples
    ///
    /// See [`TimerHandle`].
    #[must_use]
    pub fn is_active(&self) -> bool {
        // Relaxed, as in `Entry::deactivate`: `false` is final, and `true` may be re-checked
        // under the lock.
        self.active.load(Ordering::Relaxed)
    }
}

/// Makes sure that when the timer thread exits, even by a panic, every timer is cancelled, so
/// that no handle reports a timer active that no thread will ever fire.
#[derive(Debug)]
struct ExitGuard<'a> {
    /// The state to close.
    shared: &'a Shared,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            tracing::error!("the timer thread panicked; cancelling its timers");
        }
        let orphans = self.shared.state.lock().close();
        drop(orphans);
    }
}

/// The timer thread: sleeps until the earliest deadline, fires what is due, and returns on
/// shutdown.
fn run(shared: &Shared) {
    // `run` is the only code that sets it, once per `Shared`, so it cannot be set already.
    let _ = shared.thread_id.set(thread::current().id());
    // Declared before the guard of the state lock, so that on the way out the lock is released
    // first and the exit guard can take it.
    let _exit = ExitGuard { shared };
    let mut state = shared.state.lock();
    while !state.shut_down {
        let Some(&Reverse(due)) = state.heap.peek() else {
            shared.wakeup.wait(&mut state);
            continue;
        };
        if due.deadline > Instant::now() {
            // Woken early by an earlier timer or by shutdown, or spuriously: either way the loop
            // looks again.
            shared.wakeup.wait_until(&mut state, due.deadline);
            continue;
        }
        state.heap.pop();
        fire(&mut state, due);
    }
}

/// Fires the timer that `due` is for, unless it is gone; the lock is released while the action
/// runs and while it is dropped.
fn fire(state: &mut MutexGuard<'_, State>, due: Due) {
    let Some(entry) = state.timers.get_mut(&due.id) else {
        // A stale entry of a cancelled timer, discarded now that it reached the top.
        return;
    };
    let Some(period) = entry.period else {
        // A one-shot timer is gone as soon as its firing starts: nothing can start it again, and
        // a cancel during the firing has nothing left to do.
        let entry = state
            .remove(due.id)
            .expect("invariant: the entry was found under the same lock");
        let mut action = entry
            .action
            .expect("invariant: an armed timer holds its action");
        // The action answers nothing that matters to a one-shot timer.
        MutexGuard::unlocked(state, || {
            guarded(due.id, move || {
                action();
                drop(action);
            })
        });
        return;
    };
    let mut action = entry
        .action
        .take()
        .expect("invariant: an armed timer holds its action");
    let outcome =
        MutexGuard::unlocked(state, || guarded(due.id, &mut action)).unwrap_or(TimerAction::Cancel);
    let now = Instant::now();
    match (outcome, state.timers.get_mut(&due.id)) {
        (TimerAction::Continue, Some(entry)) => {
            entry.action = Some(action);
            if let Some(next) = next_deadline(due.deadline, period, now) {
                state.push(next, due.id);
            }
        }
        (TimerAction::Cancel, Some(_)) => {
            drop(state.remove(due.id));
            MutexGuard::unlocked(state, || guarded(due.id, move || drop(action)));
        }
        // Cancelled, or shut down, while it ran.
        (_, None) => {
            MutexGuard::unlocked(state, || guarded(due.id, move || drop(action)));
        }
    }
}

/// Runs `f`, which calls or drops timer `id`'s action, so that a panic in it is logged instead of
/// ending the timer thread; `None` if it panicked.
///
/// `AssertUnwindSafe` is sound here: after a panic the action is never called again (its timer
/// is cancelled), so no state the panic left half-updated inside it is observed, and the panic
/// cannot reach the timers' own state, which is behind a lock the action does not hold.
fn guarded<R>(id: TimerId, f: impl FnOnce() -> R) -> Option<R> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => Some(result),
        Err(payload) => {
            tracing::error!(
                timer = id.0,
                panic = panic_message(&*payload),
                "a timer action panicked; the timer is cancelled"
            );
            None
        }
    }
}

/// The deadline after `previous` for an interval timer with `period` (at least [`MIN_PERIOD`]),
/// when it is `now`; `None` if it cannot be represented.
///
/// Normally `previous + period`, so that the time actions take does not accumulate as drift. If
/// that is already past, the ticks up to `now` are skipped and the timer moves to the first tick
/// of its original grid (`previous + k * period`) that is strictly after `now`.
fn next_deadline(previous: Instant, period: Duration, now: Instant) -> Option<Instant> {
    let next = previous.checked_add(period)?;
    if next > now {
        return Some(next);
    }
    let period_nanos = period.as_nanos().max(1);
    let ticks = now.duration_since(previous).as_nanos() / period_nanos + 1;
    let offset = u64::try_from(period_nanos.checked_mul(ticks)?).ok()?;
    previous.checked_add(Duration::from_nanos(offset))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, unbounded};

    use super::*;

    /// Bound on every wait, so that a bug fails the test instead of hanging it.
    const WAIT: Duration = Duration::from_secs(10);

    /// A deadline that no test reaches.
    const FAR: Duration = Duration::from_secs(3600);

    /// Wraps a closure as a one-shot timer action.
    fn once(f: impl FnOnce() + Send + 'static) -> Action {
        let mut f = Some(f);
        Box::new(move || {
            if let Some(f) = f.take() {
                f();
            }
            TimerAction::Continue
        })
    }

    /// Waits until every timer due now has fired and every firing in progress is fully processed:
    /// the thread fires in deadline order, and finishes one timer before it starts the next.
    fn barrier(timers: &Timers) {
        let (tx, rx) = bounded(1);
        timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                let _ = tx.send(());
            }),
        );
        rx.recv_timeout(WAIT).expect("the barrier timer fires");
    }

    /// Keeps the timer thread inside an action until dropped, so that a test can arrange timers
    /// that are already due without any of them firing meanwhile.
    #[derive(Debug)]
    struct Blocker {
        /// Dropping it ends the blocking action.
        _release: Sender<()>,
    }

    /// Blocks the timer thread; see [`Blocker`].
    fn block(timers: &Timers) -> Blocker {
        let (entered_tx, entered_rx) = bounded(1);
        let (release_tx, release_rx) = bounded::<()>(0);
        timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                let _ = entered_tx.send(());
                let _ = release_rx.recv_timeout(WAIT);
            }),
        );
        entered_rx
            .recv_timeout(WAIT)
            .expect("the blocking action starts");
        Blocker {
            _release: release_tx,
        }
    }

    /// Sends on its channel when dropped: installed in a thread-local, it reports that the
    /// thread has really terminated.
    #[derive(Debug)]
    struct NotifyOnDrop(Sender<()>);

    impl Drop for NotifyOnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    thread_local! {
        /// Where the timer thread keeps its [`NotifyOnDrop`], destroyed as that thread exits.
        static ON_EXIT: RefCell<Option<NotifyOnDrop>> = const { RefCell::new(None) };
    }

    /// Starts the timer thread if needed, and returns a channel that receives once it exits.
    fn watch_thread_exit(timers: &Timers) -> Receiver<()> {
        let (exit_tx, exit_rx) = bounded(1);
        let (done_tx, done_rx) = bounded(1);
        timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                ON_EXIT.with(|slot| *slot.borrow_mut() = Some(NotifyOnDrop(exit_tx)));
                let _ = done_tx.send(());
            }),
        );
        done_rx
            .recv_timeout(WAIT)
            .expect("the exit watcher is installed");
        exit_rx
    }

    /// A fixed permutation of `items` (Fisher-Yates with xorshift), the same on every run.
    fn shuffle<T>(items: &mut [T]) {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in (1..items.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let j = usize::try_from(seed % (i as u64 + 1)).expect("below the slice length");
            items.swap(i, j);
        }
    }

    #[test]
    fn handles_and_timers_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TimerHandle>();
        assert_send_sync::<Timers>();
    }

    #[test]
    fn no_thread_until_the_first_timer() {
        let timers = Timers::new();
        assert!(matches!(*timers.thread.lock(), ThreadSlot::NotStarted));
        timers.shutdown();
        assert!(matches!(*timers.thread.lock(), ThreadSlot::Stopped));
    }

    #[test]
    fn thousand_one_shots_fire_once_each_in_deadline_order_on_one_thread() {
        const COUNT: u32 = 1000;
        let timers = Timers::new();
        let (tx, rx) = unbounded();
        let blocker = block(&timers);
        let start = Instant::now();
        let step = Duration::from_micros(200);
        let mut order: Vec<u32> = (0..COUNT).collect();
        shuffle(&mut order);
        assert_ne!(order, (0..COUNT).collect::<Vec<_>>());
        for &i in &order {
            let tx = tx.clone();
            timers.schedule_at(
                Some(start + step * i),
                None,
                once(move || {
                    let current = thread::current();
                    let name = current.name().map(str::to_owned);
                    let _ = tx.send((i, current.id(), name));
                }),
            );
        }
        drop(tx);
        drop(blocker);
        let fired: Vec<_> = (0..COUNT)
            .map(|_| rx.recv_timeout(WAIT).expect("every timer fires"))
            .collect();
        timers.shutdown();
        // The thread is joined and every action dropped: no firing can follow, and none did.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        let indices: Vec<u32> = fired.iter().map(|(i, _, _)| *i).collect();
        assert_eq!(indices, (0..COUNT).collect::<Vec<_>>());
        let (_, first_thread, first_name) = &fired[0];
        assert_ne!(*first_thread, thread::current().id());
        assert_eq!(first_name.as_deref(), Some(THREAD_NAME));
        assert!(fired.iter().all(|(_, id, _)| id == first_thread));
    }

    #[test]
    fn equal_deadlines_fire_in_scheduling_order() {
        let timers = Timers::new();
        let (tx, rx) = unbounded();
        let blocker = block(&timers);
        let deadline = Instant::now();
        for i in 0..100 {
            let tx = tx.clone();
            timers.schedule_at(
                Some(deadline),
                None,
                once(move || {
                    let _ = tx.send(i);
                }),
            );
        }
        drop(blocker);
        let fired: Vec<i32> = (0..100)
            .map(|_| rx.recv_timeout(WAIT).expect("every timer fires"))
            .collect();
        assert_eq!(fired, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn an_earlier_timer_wakes_the_sleeping_thread() {
        let timers = Timers::new();
        let late = timers.schedule(FAR, None, once(|| ()));
        // The thread now sleeps until `FAR`; only a wake-up lets this one fire in time.
        barrier(&timers);
        assert!(late.is_active());
    }

    #[test]
    fn cancelled_timer_never_fires_even_when_overdue() {
        let timers = Timers::new();
        let (tx, rx) = unbounded::<()>();
        let blocker = block(&timers);
        let handle = timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                let _ = tx.send(());
            }),
        );
        assert!(handle.is_active());
        handle.cancel();
        assert!(!handle.is_active());
        // Idempotent, and shared by clones.
        handle.cancel();
        assert!(!handle.clone().is_active());
        // Cancel dropped the action at once, without running it.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        drop(blocker);
        barrier(&timers);
        assert!(timers.shared.state.lock().heap.is_empty());
    }

    #[test]
    fn stale_entry_is_discarded_when_it_reaches_the_top() {
        let timers = Timers::new();
        // Live timers keep the heap from being compacted, so only the lazy path can remove the
        // stale entry.
        let keep: Vec<TimerHandle> = (0..2)
            .map(|_| timers.schedule(FAR, None, once(|| ())))
            .collect();
        let blocker = block(&timers);
        let cancelled = timers.schedule(Duration::ZERO, None, once(|| ()));
        cancelled.cancel();
        assert_eq!(timers.shared.state.lock().heap.len(), 3);
        drop(blocker);
        barrier(&timers);
        assert_eq!(timers.shared.state.lock().heap.len(), 2);
        assert!(keep.iter().all(TimerHandle::is_active));
    }

    #[test]
    fn cancelled_entries_are_compacted_past_half_the_heap() {
        let timers = Timers::new();
        let handles: Vec<TimerHandle> = (0..100)
            .map(|_| timers.schedule(FAR, None, once(|| ())))
            .collect();
        for handle in &handles[..50] {
            handle.cancel();
        }
        // Exactly half is stale: left for the lazy path.
        assert_eq!(timers.shared.state.lock().heap.len(), 100);
        handles[50].cancel();
        let state = timers.shared.state.lock();
        assert_eq!(state.heap.len(), 49);
        assert_eq!(state.timers.len(), 49);
    }

    #[test]
    fn interval_fires_until_its_action_returns_cancel() {
        let timers = Timers::new();
        let (tx, rx) = unbounded();
        let mut count = 0;
        let handle = timers.schedule(
            Duration::ZERO,
            Some(Duration::from_millis(2)),
            Box::new(move || {
                count += 1;
                let _ = tx.send(count);
                if count == 5 {
                    TimerAction::Cancel
                } else {
                    TimerAction::Continue
                }
            }),
        );
        for expected in 1..=5 {
            assert_eq!(rx.recv_timeout(WAIT), Ok(expected));
        }
        barrier(&timers);
        assert!(!handle.is_active());
        // Removed and dropped: it cannot fire again.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn cancel_from_inside_the_action_does_not_deadlock() {
        let timers = Timers::new();
        let (tx, rx) = unbounded();
        let own_handle: Arc<OnceLock<TimerHandle>> = Arc::new(OnceLock::new());
        let blocker = block(&timers);
        let handle = timers.schedule(
            Duration::ZERO,
            Some(MIN_PERIOD),
            Box::new({
                let own_handle = Arc::clone(&own_handle);
                move || {
                    if let Some(handle) = own_handle.get() {
                        handle.cancel();
                    }
                    let _ = tx.send(());
                    TimerAction::Continue
                }
            }),
        );
        own_handle
            .set(handle.clone())
            .expect("set once, before the first firing");
        drop(blocker);
        assert_eq!(rx.recv_timeout(WAIT), Ok(()));
        barrier(&timers);
        assert!(!handle.is_active());
        // The `Continue` of the cancelled firing was not obeyed: the action is dropped.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn panicking_action_is_cancelled_and_the_thread_survives() {
        let timers = Timers::new();
        let (tx, rx) = unbounded();
        let before = {
            let tx = tx.clone();
            once(move || {
                let _ = tx.send(thread::current().id());
            })
        };
        let after = once(move || {
            let _ = tx.send(thread::current().id());
        });
        let blocker = block(&timers);
        let deadline = Instant::now();
        timers.schedule_at(Some(deadline), None, before);
        let interval = timers.schedule_at(
            Some(deadline),
            Some(MIN_PERIOD),
            Box::new(|| panic!("interval action panics")),
        );
        let one_shot = timers.schedule_at(
            Some(deadline),
            None,
            once(|| panic!("one-shot action panics")),
        );
        timers.schedule_at(Some(deadline), None, after);
        drop(blocker);
        let first = rx
            .recv_timeout(WAIT)
            .expect("the timer before the panics fires");
        let second = rx
            .recv_timeout(WAIT)
            .expect("the timer after the panics fires");
        assert_eq!(first, second);
        assert!(!interval.is_active());
        assert!(!one_shot.is_active());
        barrier(&timers);
    }

    #[test]
    fn shutdown_joins_the_thread_and_cancels_pending_timers() {
        let timers = Timers::new();
        let exited = watch_thread_exit(&timers);
        let (tx, rx) = unbounded::<()>();
        let pending = timers.schedule(
            FAR,
            None,
            once(move || {
                let _ = tx.send(());
            }),
        );
        timers.shutdown();
        // The thread-local guard was destroyed as the thread terminated, before the join returned.
        assert_eq!(exited.try_recv(), Ok(()));
        assert!(!pending.is_active());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        timers.shutdown();
        pending.cancel();
    }

    #[test]
    fn schedule_after_shutdown_returns_an_inactive_handle() {
        let timers = Timers::new();
        barrier(&timers);
        timers.shutdown();
        let (tx, rx) = unbounded::<()>();
        let handle = timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                let _ = tx.send(());
            }),
        );
        assert!(!handle.is_active());
        // The action was dropped unrun.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        handle.cancel();
    }

    #[test]
    fn dropping_the_owner_joins_the_thread() {
        let timers = Timers::new();
        let exited = watch_thread_exit(&timers);
        let handle = timers.schedule(FAR, Some(FAR), Box::new(|| TimerAction::Continue));
        drop(timers);
        assert_eq!(exited.try_recv(), Ok(()));
        assert!(!handle.is_active());
        handle.cancel();
    }

    #[test]
    fn shutdown_from_inside_an_action_does_not_self_join() {
        let timers = Arc::new(Timers::new());
        let exited = watch_thread_exit(&timers);
        let (tx, rx) = bounded(1);
        let weak = Arc::downgrade(&timers);
        timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                if let Some(timers) = weak.upgrade() {
                    timers.shutdown();
                    let late = timers.schedule(Duration::ZERO, None, once(|| ()));
                    let _ = tx.send(late.is_active());
                }
            }),
        );
        assert_eq!(rx.recv_timeout(WAIT), Ok(false));
        exited
            .recv_timeout(WAIT)
            .expect("the thread exits after the action that shut it down");
        drop(timers);
    }

    #[test]
    fn last_owner_dropped_on_the_timer_thread_does_not_self_join() {
        let timers = Arc::new(Timers::new());
        let exited = watch_thread_exit(&timers);
        let blocker = block(&timers);
        let owner = Arc::clone(&timers);
        timers.schedule(Duration::ZERO, None, once(move || drop(owner)));
        drop(timers);
        drop(blocker);
        exited
            .recv_timeout(WAIT)
            .expect("the thread exits after dropping its last owner");
    }

    #[test]
    fn schedule_from_inside_an_action() {
        let timers = Arc::new(Timers::new());
        let (tx, rx) = bounded(1);
        let weak = Arc::downgrade(&timers);
        timers.schedule(
            Duration::ZERO,
            None,
            once(move || {
                if let Some(timers) = weak.upgrade() {
                    timers.schedule(
                        Duration::ZERO,
                        None,
                        once(move || {
                            let _ = tx.send(());
                        }),
                    );
                }
            }),
        );
        assert_eq!(rx.recv_timeout(WAIT), Ok(()));
    }

    #[test]
    fn unrepresentable_deadline_stays_active_until_cancelled() {
        let timers = Timers::new();
        let handle = timers.schedule(Duration::MAX, None, once(|| ()));
        assert!(handle.is_active());
        barrier(&timers);
        assert!(handle.is_active());
        handle.cancel();
        assert!(!handle.is_active());
    }

    #[test]
    fn interval_rearms_from_its_previous_deadline_without_drift() {
        let start = Instant::now();
        let period = Duration::from_millis(10);
        let late = start + Duration::from_millis(3);
        assert_eq!(next_deadline(start, period, late), Some(start + period));
        assert_eq!(next_deadline(start, period, start), Some(start + period));
    }

    #[test]
    fn interval_skips_missed_ticks_instead_of_firing_a_burst() {
        let start = Instant::now();
        let period = Duration::from_millis(10);
        let ms = Duration::from_millis;
        assert_eq!(
            next_deadline(start, period, start + ms(10)),
            Some(start + ms(20))
        );
        assert_eq!(
            next_deadline(start, period, start + ms(35)),
            Some(start + ms(40))
        );
        assert_eq!(
            next_deadline(start, period, start + ms(40)),
            Some(start + ms(50))
        );
    }

    #[test]
    fn interval_beyond_representable_time_is_not_rearmed() {
        let start = Instant::now();
        assert_eq!(next_deadline(start, Duration::MAX, start), None);
    }

    #[test]
    fn debug_shows_the_thread_and_timer_count() {
        let timers = Timers::new();
        let _handle = timers.schedule(FAR, None, once(|| ()));
        let text = format!("{timers:?}");
        assert!(text.contains("timers: 1"), "{text}");
        assert!(text.contains("Running"), "{text}");
    }
}
