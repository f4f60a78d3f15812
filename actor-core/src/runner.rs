//! The executor seam: [`Runner`] runs one actor's messages, on whatever thread drives it.
//!
//! A thread-backed actor is a `Runner` driven by [`Runner::run_blocking`] on its own thread.
//! A dispatcher that shares a few threads among many actors drives each `Runner` with
//! [`Runner::run`], which handles at most a batch of already-queued messages and never
//! blocks. Both paths share the same delivery, supervision and shutdown code.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::TryRecvError;

use crate::actor::{Actor, Context};
use crate::actor_id::{ActorId, CurrentActor};
use crate::budget::Ticket;
use crate::cell::ActorCell;
use crate::event::{DeadLetterReason, SystemEvent};
use crate::mailbox::{Envelope, MailboxQueue, MailboxReceiver};
use crate::supervision::{ExitReason, Failure, RestartWindow, Supervision};

/// Where new actor instances come from: a factory (restartable) or one instance.
pub(crate) enum Source<A> {
    Factory(Box<dyn FnMut() -> A + Send>),
    Instance(A),
}

/// What one call to [`Runner::run`] left behind.
#[derive(Debug, Clone)]
pub enum RunStatus {
    /// The mailbox is empty: nothing to do until a message arrives.
    Idle,
    /// The batch limit was reached (or the actor is stopping): run it again soon.
    Yielded,
    /// The actor has ended, for this reason. Further calls return the same status.
    Stopped(ExitReason),
}

enum Phase {
    Fresh,
    Running,
    /// Ended; the reason is the cell's (see `ActorCell::exit_reason`).
    Finished,
}

enum Next<M> {
    /// A message, and its transport's ticket, kept until the message has been handled.
    Msg(M, Option<Ticket>),
    Empty,
    Exit(ExitReason),
}

/// One actor, ready to be driven: its state, its mailbox's receiving end and its
/// supervision.
///
/// Get one from [`ActorBuilder::build_runner`](crate::ActorBuilder::build_runner) to run the
/// actor on an executor of your own; [`ActorBuilder::spawn`](crate::ActorBuilder::spawn)
/// instead gives it a thread that calls [`run_blocking`](Runner::run_blocking).
///
/// A runner must be driven until it returns [`RunStatus::Stopped`], or dropped: dropping an
/// unfinished runner ends its actor as [`ExitReason::Killed`]. `System::shutdown` waits for
/// every actor to end, so it waits for the runners you hold, too.
///
/// # Examples
///
/// Driving an actor by hand, two messages at a time:
///
/// ```
/// use actor_core::{Actor, Context, ExitReason, HandlerResult, RunStatus, System};
///
/// #[derive(Default)]
/// struct Sum(u64);
/// impl Actor for Sum {
///     type Msg = u64;
///     fn handle(&mut self, n: u64, _: &mut Context<u64>) -> HandlerResult {
///         self.0 += n;
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let (sum, mut runner) = system.actor(Sum::default).build_runner()?;
/// for n in 1..=3 {
///     sum.tell(n)?;
/// }
/// assert!(matches!(runner.run(2), RunStatus::Yielded));
/// assert!(matches!(runner.run(2), RunStatus::Idle));
/// sum.stop();
/// assert!(matches!(runner.run(2), RunStatus::Stopped(ExitReason::Stopped)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Runner<A: Actor> {
    /// Makes the instances, for an actor built from a factory; `None` for one built from an
    /// instance, which waits in `actor` for its start (`Phase::Fresh`).
    factory: Option<Box<dyn FnMut() -> A + Send>>,
    actor: Option<A>,
    /// The receiving side's own part of the mailbox; the mailbox itself is in the actor's
    /// allocation (`ctx.local()`).
    rx: MailboxReceiver<A::Msg>,
    ctx: Context<A::Msg>,
    /// `None` for the default policy, [`Supervision::Stop`]; any other is boxed, with the
    /// restarts it counts, since an idle actor pays for every byte of its runner.
    supervision: Option<Box<Supervised>>,
    /// Messages taken from the mailbox, compared with the cell's announced count when the
    /// actor stops (see `cell.rs`).
    received: u64,
    phase: Phase,
}

/// A supervision policy other than the default, and what it remembers.
struct Supervised {
    policy: Supervision,
    /// The recent restarts, for a [`Supervision::Restart`] limit.
    restarts: RestartWindow,
}

impl<A: Actor> Runner<A> {
    pub(crate) fn new(
        source: Source<A>,
        rx: MailboxReceiver<A::Msg>,
        ctx: Context<A::Msg>,
        supervision: Supervision,
    ) -> Runner<A> {
        let (factory, actor) = match source {
            Source::Factory(factory) => (Some(factory), None),
            Source::Instance(actor) => (None, Some(actor)),
        };
        Runner {
            factory,
            actor,
            rx,
            ctx,
            supervision: match supervision {
                Supervision::Stop => None,
                policy => Some(Box::new(Supervised {
                    policy,
                    restarts: RestartWindow::default(),
                })),
            },
            received: 0,
            phase: Phase::Fresh,
        }
    }

    fn cell(&self) -> &ActorCell {
        self.ctx.cell()
    }

    fn mailbox(&self) -> &MailboxQueue<A::Msg> {
        &self.ctx.local().mailbox
    }

    /// The identity of the actor this runner drives.
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
    /// let (nop, runner) = system.actor(Nop::default).build_runner()?;
    /// assert_eq!(runner.id(), nop.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> ActorId {
        self.ctx.id()
    }

    /// Registers `notify`, which is called whenever the actor has something to do: after a
    /// message is queued for it, and when it is asked to stop or is killed. This is how an
    /// executor learns to schedule the actor; `notify` runs on the sender's thread, so it
    /// must be quick (mark the actor as scheduled and queue it, say). Returns `false`, and
    /// does nothing, if a function was registered before.
    ///
    /// # Examples
    ///
    /// An executor reduced to its bones: a channel of "run me" signals.
    ///
    /// ```
    /// use actor_core::{Actor, Context, HandlerResult, RunStatus, System};
    ///
    /// #[derive(Default)]
    /// struct Sum(u64);
    /// impl Actor for Sum {
    ///     type Msg = u64;
    ///     fn handle(&mut self, n: u64, _: &mut Context<u64>) -> HandlerResult {
    ///         self.0 += n;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let (sum, mut runner) = system.actor(Sum::default).build_for_executor()?;
    /// let (ready_tx, ready) = crossbeam_channel::unbounded();
    /// runner.on_mail(move || {
    ///     let _ = ready_tx.send(());
    /// });
    /// sum.tell(1)?;
    /// sum.tell(2)?;
    /// assert_eq!(ready.len(), 2, "told twice: it has something to do");
    /// assert!(matches!(runner.run(64), RunStatus::Idle));
    /// sum.stop();
    /// ready.try_recv()?; // told again by the stop
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_mail(&self, notify: impl Fn() + Send + Sync + 'static) -> bool {
        self.ctx.local().host.on_mail(Box::new(notify))
    }

    /// Returns `true` when messages are queued for the actor (a hint: they may be taken or
    /// added at any moment by other threads).
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
    /// let (nop, mut runner) = system.actor(Nop::default).build_for_executor()?;
    /// assert!(!runner.has_mail());
    /// nop.tell(())?;
    /// assert!(runner.has_mail());
    /// runner.run(1);
    /// assert!(!runner.has_mail());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_mail(&self) -> bool {
        !self.mailbox().is_empty(&self.rx)
    }

    /// Handles at most `max` messages that are already queued, without blocking (starting
    /// the actor first if this is the first call), and says what is left.
    ///
    /// This is the step a dispatcher calls when the actor's mailbox is non-empty. It must
    /// not be called from two threads at once, which `&mut self` guarantees.
    ///
    /// # Examples
    ///
    /// See [`Runner`].
    pub fn run(&mut self, max: usize) -> RunStatus {
        let _current = CurrentActor::enter(self.ctx.shared());
        if let Some(status) = self.begin() {
            return status;
        }
        for _ in 0..max {
            match self.next(false) {
                Next::Msg(msg, ticket) => {
                    let outcome = self.deliver(msg);
                    drop(ticket);
                    if let Some(reason) = outcome {
                        return RunStatus::Stopped(self.finish(reason));
                    }
                }
                Next::Empty => return RunStatus::Idle,
                Next::Exit(reason) => return RunStatus::Stopped(self.finish(reason)),
            }
        }
        if self.mailbox().is_empty(&self.rx) && self.cell().is_running() {
            RunStatus::Idle
        } else {
            RunStatus::Yielded
        }
    }

    /// Runs the actor on the calling thread until it ends, blocking while its mailbox is
    /// empty, and returns why it ended. This is what a thread-backed actor's thread does.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, ExitReason, HandlerResult, System};
    /// # #[derive(Default)] struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let (nop, runner) = system.actor(Nop::default).build_runner()?;
    /// let thread = std::thread::spawn(move || runner.run_blocking());
    /// nop.tell(())?;
    /// nop.stop();
    /// assert!(matches!(thread.join().unwrap(), ExitReason::Stopped));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_blocking(mut self) -> ExitReason {
        let _current = CurrentActor::enter(self.ctx.shared());
        if let Some(RunStatus::Stopped(reason)) = self.begin() {
            return reason;
        }
        loop {
            match self.next(true) {
                Next::Msg(msg, ticket) => {
                    let outcome = self.deliver(msg);
                    drop(ticket);
                    if let Some(reason) = outcome {
                        return self.finish(reason);
                    }
                }
                Next::Empty => {}
                Next::Exit(reason) => return self.finish(reason),
            }
        }
    }

    /// Starts the actor on the first call; returns the final status once it has ended.
    fn begin(&mut self) -> Option<RunStatus> {
        match &self.phase {
            Phase::Running => None,
            Phase::Finished => Some(RunStatus::Stopped(
                // Recorded by `finish` before it set the phase.
                self.cell().exit_reason().unwrap_or(ExitReason::Killed),
            )),
            Phase::Fresh => {
                self.phase = Phase::Running;
                tracing::debug!(actor = %self.id(), name = ?self.cell().name, "actor started");
                let exit = match self.instantiate() {
                    Ok(()) => {
                        self.publish(|actor, name| SystemEvent::Started { actor, name });
                        None
                    }
                    Err(failure) => self.supervise(failure),
                };
                exit.map(|reason| RunStatus::Stopped(self.finish(reason)))
            }
        }
    }

    /// Takes the next message, skipping wake-ups; reports the end of the actor when it has
    /// been killed, or stopped with nothing left to handle.
    fn next(&mut self, block: bool) -> Next<A::Msg> {
        loop {
            let envelope = match self.mailbox().try_recv(&self.rx) {
                Ok(envelope) => envelope,
                Err(TryRecvError::Disconnected) => return Next::Exit(ExitReason::Stopped),
                Err(TryRecvError::Empty) => match self.empty_mailbox(block) {
                    Ok(envelope) => envelope,
                    Err(next) => return next,
                },
            };
            if self.cell().is_killed() {
                return Next::Exit(ExitReason::Killed);
            }
            if let Some((msg, ticket)) = envelope.into_parts() {
                self.received += 1;
                return Next::Msg(msg, ticket);
            }
        }
    }

    /// Decides what an empty mailbox means: the end of a stopping actor (once no sender is
    /// inside the gate, see `cell.rs`), nothing to do (`block` false), or a wait for mail.
    fn empty_mailbox(&mut self, block: bool) -> Result<Envelope<A::Msg>, Next<A::Msg>> {
        match self.requested_exit() {
            Some(ExitReason::Killed) => return Err(Next::Exit(ExitReason::Killed)),
            Some(reason) if self.cell().announced() == self.received => {
                // Every announced message has been taken: this look ends it.
                return self
                    .mailbox()
                    .try_recv(&self.rx)
                    .map_err(|_| Next::Exit(reason));
            }
            // An announced message is on its way: its push (or its sender taking it back)
            // wakes or schedules the actor.
            _ => {}
        }
        if !block {
            return Err(Next::Empty);
        }
        // The actor's allocation holds a sender as long as the actor exists.
        self.mailbox()
            .recv(&self.rx)
            .map_err(|_| Next::Exit(ExitReason::Stopped))
    }

    fn requested_exit(&self) -> Option<ExitReason> {
        let cell = self.cell();
        if cell.is_killed() {
            Some(ExitReason::Killed)
        } else if cell.is_stopping() {
            Some(ExitReason::Stopped)
        } else {
            None
        }
    }

    /// Hands one message to the actor; returns the reason to end when it failed for good.
    fn deliver(&mut self, msg: A::Msg) -> Option<ExitReason> {
        let Some(actor) = self.actor.as_mut() else {
            return Some(ExitReason::Killed);
        };
        let ctx = &mut self.ctx;
        match catch_unwind(AssertUnwindSafe(|| actor.handle(msg, ctx))) {
            Ok(Ok(())) => None,
            Ok(Err(error)) => self.supervise(Failure::Error(Arc::from(error))),
            Err(panic) => self.supervise(Failure::from_panic(panic)),
        }
    }

    /// Makes a fresh instance (or takes the one the actor was built from) and runs its
    /// `started` hook.
    fn instantiate(&mut self) -> Result<(), Failure> {
        if let Some(factory) = &mut self.factory {
            match catch_unwind(AssertUnwindSafe(factory)) {
                Ok(actor) => self.actor = Some(actor),
                Err(panic) => return Err(Failure::from_panic(panic)),
            }
        }
        let Some(actor) = self.actor.as_mut() else {
            return Err(Failure::Panic(
                "no instance to start: build with a factory to restart".into(),
            ));
        };
        let ctx = &mut self.ctx;
        match catch_unwind(AssertUnwindSafe(|| actor.started(ctx))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Failure::Error(Arc::from(error))),
            Err(panic) => Err(Failure::from_panic(panic)),
        }
    }

    /// Applies the supervision policy to a failure; returns the reason to end, if any.
    fn supervise(&mut self, mut failure: Failure) -> Option<ExitReason> {
        loop {
            tracing::warn!(actor = %self.id(), name = ?self.cell().name, %failure, "actor failed");
            let reported = failure.clone();
            self.publish(|actor, name| SystemEvent::Failed {
                actor,
                name,
                failure: reported,
            });
            let Some(supervised) = self.supervision.as_deref_mut() else {
                // `Stop`, the default.
                return Some(ExitReason::Failed(failure));
            };
            match supervised.policy {
                Supervision::Stop => return Some(ExitReason::Failed(failure)),
                Supervision::Resume if self.actor.is_some() => return None,
                Supervision::Resume => return Some(ExitReason::Failed(failure)),
                Supervision::Restart {
                    max_restarts,
                    within,
                } => {
                    if !supervised
                        .restarts
                        .try_record(Instant::now(), max_restarts, within)
                    {
                        tracing::warn!(actor = %self.id(), "restart limit reached");
                        return Some(ExitReason::Failed(failure));
                    }
                    self.run_stopped_hook();
                    tracing::info!(actor = %self.id(), name = ?self.cell().name, "actor restarted");
                    self.publish(|actor, name| SystemEvent::Restarted { actor, name });
                    match self.instantiate() {
                        Ok(()) => return None,
                        Err(next) => failure = next,
                    }
                }
            }
        }
    }

    /// Publishes a lifecycle event about this actor, if anyone can hear it.
    fn publish(&self, event: impl FnOnce(ActorId, Option<Arc<str>>) -> SystemEvent) {
        let cell = self.cell();
        if let Some(events) = cell.events() {
            events.lifecycle.publish(event(cell.id, cell.name.clone()));
        }
    }

    fn run_stopped_hook(&mut self) {
        if matches!(self.phase, Phase::Fresh) {
            // Never started: an instance waiting for its start is dropped without the hook.
            self.actor = None;
            return;
        }
        if let Some(mut actor) = self.actor.take() {
            let ctx = &mut self.ctx;
            if catch_unwind(AssertUnwindSafe(|| actor.stopped(ctx))).is_err() {
                tracing::error!(actor = %self.id(), "the stopped hook panicked");
            }
        }
    }

    /// Ends the actor: hook, no more tells, queued messages discarded (their replies fail at
    /// once), name freed, monitors told.
    fn finish(&mut self, reason: ExitReason) -> ExitReason {
        self.run_stopped_hook();
        let shared = Arc::clone(self.ctx.shared());
        let cell = shared.cell();
        cell.close();
        while let Ok(envelope) = self.mailbox().try_recv(&self.rx) {
            if let Some(discarded) = envelope.into_parts() {
                // Dropped before reporting: a reply inside fails its asker at once (and a
                // ticket goes back to its budget).
                drop(discarded);
                let message_type = std::any::type_name::<A::Msg>();
                cell.report_dead_letter(message_type, DeadLetterReason::Discarded);
            }
        }
        self.ctx.system().deregister(cell.id);
        tracing::debug!(actor = %cell.id, name = ?cell.name, %reason, "actor ended");
        let ended = reason.clone();
        self.publish(|actor, name| SystemEvent::Stopped {
            actor,
            name,
            reason: ended,
        });
        cell.notify_exit(reason.clone());
        self.phase = Phase::Finished;
        reason
    }
}

impl<A: Actor> Drop for Runner<A> {
    fn drop(&mut self) {
        if !matches!(self.phase, Phase::Finished) {
            self.finish(ExitReason::Killed);
        }
        // The receiving side is gone: a locked queue refuses sends from now on and lets its
        // blocked senders go (a channel does so when `rx` is dropped, just after this).
        self.mailbox().close();
    }
}

impl<A: Actor> std::fmt::Debug for Runner<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("id", &self.id())
            .field("in_mailbox", &self.mailbox().len())
            .finish_non_exhaustive()
    }
}
