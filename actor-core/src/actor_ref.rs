//! [`ActorRef`]: the address of an actor.
//!
//! Two flavors behind one private enum: a local actor (its mailbox and shared cell), and a
//! remote one reached through a transport (`remote.rs`).

mod remote;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::actor_id::{ActorId, CurrentActor};
use crate::budget::Ticket;
use crate::cell::ActorCell;
use crate::error::{AskError, JoinError, SendError};
use crate::event::DeadLetterReason;
use crate::local::Local;
use crate::mailbox::{Envelope, Sent};
use crate::reply::{Pending, Reply, ReplyError};
use crate::send_wait::SendWait;
use crate::supervision::{Down, ExitReason};
use remote::Remote;
pub use remote::RemoteTarget;

/// The address of an actor that takes messages of type `M`.
///
/// Cheap to clone, `Send + Sync`, and generic over the message type only, so collections,
/// registries and exchanges can hold refs to actors of any type that accept `M`.
///
/// - [`tell`](ActorRef::tell) queues a message (waiting for room if a bounded mailbox with
///   [`Overflow::Block`](crate::Overflow::Block) is full); [`try_tell`](ActorRef::try_tell)
///   never blocks; [`tell_timeout`](ActorRef::tell_timeout) waits at most a given time. A
///   message that cannot be delivered comes back in the [`SendError`].
/// - [`ask`](ActorRef::ask) sends a message carrying a [`Reply`] and waits for the answer;
///   [`request`](ActorRef::request) sends it and returns the [`Pending`] answer.
/// - [`stop`](ActorRef::stop) ends the actor after what is queued; [`kill`](ActorRef::kill)
///   ends it after its current message; [`join`](ActorRef::join) waits for the end;
///   [`monitor`](ActorRef::monitor) is told of it.
///
/// Delivery is at most once, and in order between one sender and one actor.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Actor, Context, HandlerResult, Reply, System};
///
/// enum Msg {
///     Add(u64),
///     Get(Reply<u64>),
/// }
///
/// #[derive(Default)]
/// struct Counter(u64);
///
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, msg: Msg, _ctx: &mut Context<Msg>) -> HandlerResult {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Get(reply) => reply.send(self.0),
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let counter = system.spawn(Counter::default())?;
/// counter.tell(Msg::Add(2))?;
/// counter.tell(Msg::Add(3))?;
/// assert_eq!(counter.ask(Msg::Get, Duration::from_secs(1))?, 5);
/// counter.stop();
/// counter.join()?;
/// assert!(!counter.is_alive());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ActorRef<M> {
    flavor: Flavor<M>,
}

/// Where the actor is: in this process (its one allocation: cell, mailbox, host), or behind
/// a transport.
enum Flavor<M> {
    Local(Arc<Local<M>>),
    Remote(Remote<M>),
}

impl<M> ActorRef<M> {
    /// A ref to an actor (or inbox) of this process.
    pub(crate) fn local(local: Arc<Local<M>>) -> ActorRef<M> {
        ActorRef {
            flavor: Flavor::Local(local),
        }
    }

    /// The actor's allocation, for a local actor.
    pub(crate) fn as_local(&self) -> Option<&Local<M>> {
        match &self.flavor {
            Flavor::Local(local) => Some(local),
            Flavor::Remote(_) => None,
        }
    }

    /// A ref to an actor that `target` reaches (a transport's proxy for a remote actor). The
    /// ref gets an identity of its own in this process.
    ///
    /// # Examples
    ///
    /// See [`RemoteTarget`].
    pub fn remote(target: impl RemoteTarget<M> + 'static) -> ActorRef<M> {
        ActorRef {
            flavor: Flavor::Remote(Remote {
                id: ActorId::next(),
                target: Arc::new(target),
            }),
        }
    }

    /// Returns `true` when the actor lives in another process, reached through a transport.
    ///
    /// # Examples
    ///
    /// ```
    /// let inbox = actor_core::Inbox::<u8>::new();
    /// assert!(!inbox.actor_ref().is_remote());
    /// ```
    #[must_use]
    pub fn is_remote(&self) -> bool {
        matches!(self.flavor, Flavor::Remote(_))
    }

    /// The actor's identity (for a remote actor, the identity of this process's proxy).
    ///
    /// # Examples
    ///
    /// See [`ActorId`].
    #[must_use]
    pub fn id(&self) -> ActorId {
        match &self.flavor {
            Flavor::Local(local) => local.cell.id,
            Flavor::Remote(remote) => remote.id,
        }
    }

    /// The name the actor was registered under, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # #[derive(Default)] struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let named = system.actor(Nop::default).name("nop").spawn()?;
    /// assert_eq!(named.name(), Some("nop"));
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        match &self.flavor {
            Flavor::Local(local) => local.cell.name.as_deref(),
            Flavor::Remote(remote) => remote.target.name(),
        }
    }

    /// Returns `true` until the actor has ended (a stopping actor is still alive).
    ///
    /// # Examples
    ///
    /// See [`ActorRef`].
    #[must_use]
    pub fn is_alive(&self) -> bool {
        match &self.flavor {
            Flavor::Local(local) => local.cell.is_alive(),
            Flavor::Remote(remote) => remote.target.is_alive(),
        }
    }

    /// Messages discarded because the mailbox was full under
    /// [`Overflow::DropNewest`](crate::Overflow::DropNewest) (always 0 for a remote actor).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// assert_eq!(system.spawn(Nop)?.dropped_count(), 0);
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dropped_count(&self) -> u64 {
        match &self.flavor {
            Flavor::Local(local) => local
                .cell
                .dropped
                .load(std::sync::atomic::Ordering::Relaxed),
            Flavor::Remote(_) => 0,
        }
    }

    /// Queues `msg` for the actor; when a bounded mailbox with `Overflow::Block` is full,
    /// waits for room.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the actor has stopped or is stopping;
    /// [`SendError::Full`] when a bounded mailbox with `Overflow::Fail` is full;
    /// [`SendError::Unreachable`] when a remote actor's node cannot be reached now. The
    /// message is given back in the error.
    ///
    /// # Examples
    ///
    /// See [`ActorRef`] and [`SendError`].
    #[inline]
    pub fn tell(&self, msg: M) -> Result<(), SendError<M>> {
        self.send(msg, SendWait::Forever)
    }

    /// Queues `msg` without ever blocking.
    ///
    /// # Errors
    ///
    /// As [`tell`](ActorRef::tell), and [`SendError::Full`] when a bounded mailbox is full
    /// whatever its overflow policy (except `DropNewest`, which counts and drops).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = u8;
    /// #     fn handle(&mut self, _: u8, _: &mut Context<u8>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let nop = system.spawn(Nop)?;
    /// nop.try_tell(1)?;
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn try_tell(&self, msg: M) -> Result<(), SendError<M>> {
        self.send(msg, SendWait::Never)
    }

    /// Queues `msg`, waiting at most `timeout` for room in a full bounded mailbox.
    ///
    /// # Errors
    ///
    /// As [`tell`](ActorRef::tell), and [`SendError::Timeout`] when no room came in time.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = u8;
    /// #     fn handle(&mut self, _: u8, _: &mut Context<u8>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let nop = system.spawn(Nop)?;
    /// nop.tell_timeout(1, Duration::from_millis(100))?;
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tell_timeout(&self, msg: M, timeout: Duration) -> Result<(), SendError<M>> {
        let wait = Instant::now()
            .checked_add(timeout)
            .map_or(SendWait::Forever, SendWait::Until);
        self.send(msg, wait)
    }

    #[inline]
    fn send(&self, msg: M, wait: SendWait) -> Result<(), SendError<M>> {
        let local = match &self.flavor {
            Flavor::Local(local) => local,
            Flavor::Remote(remote) => return remote.target.send(msg, wait),
        };
        report(&local.cell, offer_local(local, Envelope::Msg(msg), wait))
    }

    /// Queues `msg` without reporting: the caller decides what a failure means.
    #[inline]
    pub(crate) fn offer(&self, msg: M, wait: SendWait) -> Result<Sent, SendError<M>> {
        match &self.flavor {
            Flavor::Local(local) => offer_local(local, Envelope::Msg(msg), wait),
            Flavor::Remote(remote) => remote.target.send(msg, wait).map(|()| Sent::Queued),
        }
    }

    /// Queues `msg` with `ticket`, a transport's share of a [`Budget`](crate::Budget) that
    /// goes back once the actor has handled the message (or discarded it, or refused it:
    /// whatever happens, the ticket is given back exactly once), waiting for room as `wait`
    /// allows. For transports that bound what they have in flight towards local actors; a
    /// remote actor gets the message without the ticket, which is given back at once.
    ///
    /// # Errors
    ///
    /// As [`tell`](ActorRef::tell).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Actor, Budget, Context, HandlerResult, Reply, SendWait, System};
    /// use std::time::Duration;
    ///
    /// struct Echo;
    /// impl Actor for Echo {
    ///     type Msg = Reply<u8>;
    ///     fn handle(&mut self, reply: Reply<u8>, _: &mut Context<Reply<u8>>) -> HandlerResult {
    ///         reply.send(7);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let echo = system.spawn(Echo)?;
    /// let budget = Budget::new(16, 1024);
    /// let (reply, mut answer) = Reply::pair();
    /// let ticket = budget.try_take(100).expect("room");
    /// echo.tell_ticketed(reply, ticket, SendWait::Forever)?;
    /// assert_eq!(answer.wait_timeout(Duration::from_secs(5))?, 7);
    /// system.shutdown();
    /// assert_eq!(budget.in_use(), (0, 0), "handled, so given back");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tell_ticketed(
        &self,
        msg: M,
        ticket: Ticket,
        wait: SendWait,
    ) -> Result<(), SendError<M>> {
        let local = match &self.flavor {
            Flavor::Local(local) => local,
            Flavor::Remote(remote) => {
                drop(ticket);
                return remote.target.send(msg, wait);
            }
        };
        let env = Envelope::Ticketed(Box::new((msg, ticket)));
        report(&local.cell, offer_local(local, env, wait))
    }

    /// How many messages wait in the actor's mailbox now (0 for a remote actor). A snapshot:
    /// other threads may add or take messages at any moment.
    ///
    /// # Examples
    ///
    /// ```
    /// let inbox = actor_core::Inbox::<u8>::new();
    /// let actor = inbox.actor_ref();
    /// actor.tell(1)?;
    /// actor.tell(2)?;
    /// assert_eq!(actor.mailbox_len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn mailbox_len(&self) -> usize {
        match &self.flavor {
            Flavor::Local(local) => local.mailbox.len(),
            Flavor::Remote(_) => 0,
        }
    }

    /// Sends the message built by `make` around a fresh [`Reply`], and waits at most
    /// `timeout` (in all: for room in the mailbox, then for the answer).
    ///
    /// # Errors
    ///
    /// [`AskError::Closed`] at once when the actor has stopped; [`AskError::Full`] when its
    /// bounded mailbox refuses the request; [`AskError::Unreachable`] when a remote actor's
    /// node cannot be reached now; [`AskError::Timeout`] when no answer came in time;
    /// [`AskError::Dropped`] as soon as the actor drops the request unanswered;
    /// [`AskError::AskedItself`] at once, without sending, when called from the actor's own
    /// handler.
    ///
    /// # Asking from a handler
    ///
    /// An actor that asks blocks its handler until the answer comes, and handles nothing
    /// else meanwhile. Two actors that ask each other from their handlers therefore wait for
    /// each other until one ask times out. When an actor asks another one that is itself
    /// blocked asking the first, the ask goes ahead but a
    /// [`SystemEvent::AskCycle`](crate::SystemEvent::AskCycle) naming both is published on
    /// `system.warnings` (and logged as a warning) before it waits. Longer cycles are not
    /// detected. To avoid the wait, answer later instead: send a request with
    /// [`request`](ActorRef::request) and handle the answer as a message
    /// ([`Pending::on_complete`]).
    ///
    /// # Examples
    ///
    /// See [`ActorRef`].
    pub fn ask<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> M,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let _asking = self.asking_from_handler()?;
        let deadline = Instant::now().checked_add(timeout);
        let (reply, mut pending) = Reply::pair();
        self.send(
            make(reply),
            deadline.map_or(SendWait::Forever, SendWait::Until),
        )?;
        match deadline {
            Some(deadline) => Ok(pending.wait_deadline(deadline)?),
            None => Ok(pending.wait()?),
        }
    }

    /// When called from an actor's handler: refuses an ask of the actor itself, warns when
    /// this actor is blocked asking the caller, and records until the guard is dropped that
    /// the caller waits for this actor.
    fn asking_from_handler(&self) -> Result<Option<Asking>, AskError> {
        CurrentActor::with(|current| {
            let Some(current) = current else {
                return Ok(None);
            };
            if current.id == self.id() {
                return Err(AskError::AskedItself);
            }
            if let Flavor::Local(local) = &self.flavor
                && local.cell.is_asking(current.id)
            {
                current.report_ask_cycle(&local.cell);
            }
            current.set_asking(Some(self.id()));
            Ok(Some(Asking))
        })
    }

    /// Sends the message built by `make` around a fresh [`Reply`] and returns the answer to
    /// come, without waiting for it.
    ///
    /// # Errors
    ///
    /// As [`tell`](ActorRef::tell); the message (with its reply inside) is given back.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, Reply, System};
    /// struct Doubler;
    /// impl Actor for Doubler {
    ///     type Msg = (u32, Reply<u32>);
    ///     fn handle(&mut self, (n, reply): Self::Msg, _: &mut Context<Self::Msg>) -> HandlerResult {
    ///         reply.send(n * 2);
    ///         Ok(())
    ///     }
    /// }
    /// let system = System::new();
    /// let doubler = system.spawn(Doubler)?;
    /// let answers: Vec<_> = (0..3)
    ///     .map(|n| doubler.request(|reply| (n, reply)))
    ///     .collect::<Result<_, _>>()?;
    /// let values: Vec<u32> = answers.into_iter().map(|p| p.wait()).collect::<Result<_, _>>()?;
    /// assert_eq!(values, [0, 2, 4]);
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request<R>(&self, make: impl FnOnce(Reply<R>) -> M) -> Result<Pending<R>, SendError<M>> {
        let (reply, pending) = Reply::pair();
        self.tell(make(reply))?;
        Ok(pending)
    }

    /// Stops the actor gracefully: it takes no new messages, handles what is already queued,
    /// runs its `stopped` hook and ends. Returns at once; use [`join`](ActorRef::join) to
    /// wait for the end. For a remote actor, the transport decides (see
    /// [`RemoteTarget::stop`]).
    ///
    /// # Examples
    ///
    /// See [`ActorRef`].
    pub fn stop(&self) {
        match &self.flavor {
            Flavor::Local(local) => local.stop(),
            Flavor::Remote(remote) => remote.target.stop(),
        }
    }

    /// Stops the actor now: after its current message (if any), without handling what is
    /// queued. Queued requests fail with [`ReplyError::Dropped`](crate::ReplyError::Dropped). Returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, ExitReason, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let nop = system.spawn(Nop)?;
    /// nop.kill();
    /// assert!(matches!(nop.join()?, ExitReason::Killed));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) {
        match &self.flavor {
            Flavor::Local(local) => local.kill(),
            Flavor::Remote(remote) => remote.target.kill(),
        }
    }

    /// Waits until the actor has ended and returns why.
    ///
    /// # Errors
    ///
    /// [`JoinError::OwnActor`] when called from the actor's own handler.
    ///
    /// # Examples
    ///
    /// See [`ActorRef`].
    pub fn join(&self) -> Result<ExitReason, JoinError> {
        self.check_not_self()?;
        exit_reason(self.monitor().wait())
    }

    /// Waits at most `timeout` for the actor to end and returns why.
    ///
    /// # Errors
    ///
    /// [`JoinError::Timeout`] when it was still running; [`JoinError::OwnActor`] when called
    /// from the actor's own handler.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_core::{Actor, Context, HandlerResult, JoinError, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let nop = system.spawn(Nop)?;
    /// assert_eq!(nop.join_timeout(Duration::from_millis(10)).unwrap_err(), JoinError::Timeout);
    /// nop.stop();
    /// nop.join_timeout(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<ExitReason, JoinError> {
        self.check_not_self()?;
        exit_reason(self.monitor().wait_timeout(timeout))
    }

    fn check_not_self(&self) -> Result<(), JoinError> {
        if ActorId::current() == Some(self.id()) {
            return Err(JoinError::OwnActor);
        }
        Ok(())
    }

    /// Watches the actor: the returned result completes with a [`Down`] notice when it ends
    /// (at once if it already has). Threads wait on it; actors use
    /// [`Context::monitor`](crate::Context::monitor) to get the notice as a message. For a
    /// remote actor, the notice comes when the transport can no longer reach it (its node
    /// was lost).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, ExitReason, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let nop = system.spawn(Nop)?;
    /// let down = nop.monitor();
    /// nop.stop();
    /// let notice = down.wait()?;
    /// assert_eq!(notice.id, nop.id());
    /// assert!(matches!(notice.reason, ExitReason::Stopped));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn monitor(&self) -> Pending<Down> {
        match &self.flavor {
            Flavor::Local(local) => local.cell.monitor(),
            Flavor::Remote(remote) => {
                let (reply, pending) = Reply::pair();
                let id = remote.id;
                let name = remote.target.name().map(Arc::from);
                remote.target.ended().on_complete(move |reason| {
                    // A transport that drops its end notice leaves the actor unreachable.
                    let reason = reason.unwrap_or(ExitReason::Killed);
                    reply.send(Down { id, name, reason });
                });
                pending
            }
        }
    }
}

/// What a `tell` to a local actor returns, once its outcome is reported: a dropped message
/// on `system.dropped`, a message refused by an actor that is gone as a dead letter.
/// Queues an envelope in a local actor's mailbox, through the actor's gate: announces the
/// push, pushes, and schedules the actor (or takes the announcement back when nothing was
/// queued).
#[inline]
fn offer_local<M>(
    local: &Local<M>,
    env: Envelope<M>,
    wait: SendWait,
) -> Result<Sent, SendError<M>> {
    if !local.cell.enter() {
        local.wake();
        return Err(SendError::Closed(env.into_msg()));
    }
    match local.mailbox.send(env, wait) {
        Ok(Sent::Queued) => {
            local.host.schedule(&local.cell);
            Ok(Sent::Queued)
        }
        Ok(Sent::Dropped) => {
            local.undo();
            local
                .cell
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(Sent::Dropped)
        }
        Err(error) => {
            local.undo();
            Err(error)
        }
    }
}

#[inline]
fn report<M>(cell: &ActorCell, sent: Result<Sent, SendError<M>>) -> Result<(), SendError<M>> {
    match sent {
        Ok(Sent::Queued) => Ok(()),
        Ok(Sent::Dropped) => {
            cell.report_dropped(std::any::type_name::<M>());
            Ok(())
        }
        Err(error) => {
            if error.is_closed() {
                let message_type = std::any::type_name::<M>();
                cell.report_dead_letter(message_type, DeadLetterReason::ActorGone);
            }
            Err(error)
        }
    }
}

fn exit_reason(down: Result<Down, ReplyError>) -> Result<ExitReason, JoinError> {
    match down {
        Ok(down) => Ok(down.reason),
        Err(ReplyError::Timeout) => Err(JoinError::Timeout),
        // A runner always records how its actor ended, even when it is dropped unfinished
        // (see `Runner`'s Drop), so a monitor is never dropped unanswered; were it ever, the
        // actor is gone without a reason, which is what `Killed` says.
        Err(_) => Ok(ExitReason::Killed),
    }
}

impl<M> Clone for ActorRef<M> {
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            Flavor::Local(local) => Flavor::Local(Arc::clone(local)),
            Flavor::Remote(remote) => Flavor::Remote(remote.clone()),
        };
        ActorRef { flavor }
    }
}

impl<M> PartialEq for ActorRef<M> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<M> Eq for ActorRef<M> {}

impl<M> Hash for ActorRef<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl<M> fmt::Debug for ActorRef<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorRef")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("alive", &self.is_alive())
            .field("remote", &self.is_remote())
            .finish()
    }
}

/// Clears, when dropped, the record that the calling actor waits for an answer.
struct Asking;

impl Drop for Asking {
    fn drop(&mut self) {
        CurrentActor::with(|current| {
            if let Some(current) = current {
                current.set_asking(None);
            }
        });
    }
}
