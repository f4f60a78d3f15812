//! [`ActorBuilder`]: how an actor is named, queued, supervised and run.

use std::fmt;
use std::sync::{Arc, Weak};

use crate::actor::{Actor, Context};
use crate::actor_id::ActorId;
use crate::actor_ref::ActorRef;
use crate::cell::ActorCell;
use crate::error::SpawnError;
use crate::executor::{Exec, Executor};
use crate::local::{AnyLocal, Hook, Host, Local};
use crate::mailbox::{Mailbox, PriorityFn};
use crate::runner::{Runner, Source};
use crate::supervision::Supervision;
// A builder spawns into its system, which hands out builders: the two go together.
use crate::system::System;

/// Configures an actor before it starts. Made by [`System::actor`] (from a factory) or
/// [`System::actor_from`] (from an instance).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Actor, Context, HandlerResult, Mailbox, Overflow, Supervision, System};
///
/// #[derive(Default)]
/// struct Logger;
/// impl Actor for Logger {
///     type Msg = String;
///     fn handle(&mut self, line: String, _: &mut Context<String>) -> HandlerResult {
///         println!("{line}");
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let logger = system
///     .actor(Logger::default)
///     .name("logger")
///     .mailbox(Mailbox::bounded(1024, Overflow::DropNewest))
///     .supervision(Supervision::restart(5, Duration::from_secs(60)))
///     .spawn()?;
/// logger.tell("ready".to_string())?;
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ActorBuilder<A: Actor> {
    system: System,
    source: Source<A>,
    name: Option<Arc<str>>,
    mailbox: Mailbox,
    supervision: Supervision,
    stack_size: Option<usize>,
    priority: Option<PriorityFn<A::Msg>>,
}

impl<A: Actor> ActorBuilder<A> {
    pub(crate) fn new(system: System, source: Source<A>) -> ActorBuilder<A> {
        ActorBuilder {
            system,
            source,
            name: None,
            mailbox: Mailbox::default(),
            supervision: Supervision::default(),
            stack_size: None,
            priority: None,
        }
    }

    /// Registers the actor under `name`, unique among live actors, for
    /// [`System::lookup`]; the name is freed when the actor ends. By default, the actor is
    /// unnamed.
    ///
    /// # Examples
    ///
    /// See [`ActorBuilder`].
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(Arc::from(name.into()));
        self
    }

    /// Chooses the mailbox. By default, [`Mailbox::Unbounded`].
    ///
    /// # Examples
    ///
    /// See [`ActorBuilder`].
    #[must_use]
    pub fn mailbox(mut self, mailbox: Mailbox) -> Self {
        self.mailbox = mailbox;
        self
    }

    /// Chooses what happens when a handler fails. By default, [`Supervision::Stop`].
    ///
    /// # Examples
    ///
    /// See [`ActorBuilder`].
    #[must_use]
    pub fn supervision(mut self, supervision: Supervision) -> Self {
        self.supervision = supervision;
        self
    }

    /// Gives the actor a priority mailbox: `priority` rates each message as it is sent,
    /// and the highest rating is handled first (first in, first out among equals). The
    /// mailbox's capacity and overflow policy still apply. By default, messages are
    /// handled in arrival order.
    ///
    /// A priority mailbox takes a lock per message; an ordinary mailbox does not.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Actor, Context, HandlerResult, Reply, RunStatus, System};
    ///
    /// enum Job {
    ///     Routine(u32),
    ///     Urgent(u32),
    ///     Done(Reply<Vec<u32>>),
    /// }
    ///
    /// #[derive(Default)]
    /// struct Log(Vec<u32>);
    /// impl Actor for Log {
    ///     type Msg = Job;
    ///     fn handle(&mut self, job: Job, _: &mut Context<Job>) -> HandlerResult {
    ///         match job {
    ///             Job::Routine(n) | Job::Urgent(n) => self.0.push(n),
    ///             Job::Done(reply) => reply.send(std::mem::take(&mut self.0)),
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let (log, mut runner) = system
    ///     .actor(Log::default)
    ///     .priority(|job: &Job| match job {
    ///         Job::Urgent(_) => 2,
    ///         Job::Routine(_) => 1,
    ///         Job::Done(_) => 0,
    ///     })
    ///     .build_runner()?;
    /// log.tell(Job::Routine(1))?;
    /// log.tell(Job::Urgent(2))?;
    /// log.tell(Job::Routine(3))?;
    /// log.tell(Job::Urgent(4))?;
    /// let order = log.request(Job::Done)?;
    /// runner.run(10);
    /// assert_eq!(order.wait()?, [2, 4, 1, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn priority(mut self, priority: impl Fn(&A::Msg) -> u32 + Send + Sync + 'static) -> Self {
        self.priority = Some(std::sync::Arc::new(priority));
        self
    }

    /// Sets the stack size of the actor's thread, in bytes. By default, the standard
    /// library's default for new threads.
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
    /// system.actor(Nop::default).stack_size(256 * 1024).spawn()?;
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts the actor on a thread of its own (named `actor-<name>` or `actor-<id>`).
    ///
    /// # Errors
    ///
    /// [`SpawnError::NameTaken`], [`SpawnError::ShuttingDown`],
    /// [`SpawnError::ZeroCapacity`], [`SpawnError::RestartNeedsFactory`] for a restart
    /// policy on an actor built from an instance, [`SpawnError::Thread`] when the OS refuses
    /// a thread.
    ///
    /// # Examples
    ///
    /// See [`ActorBuilder`].
    pub fn spawn(self) -> Result<ActorRef<A::Msg>, SpawnError> {
        let mut thread = std::thread::Builder::new();
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let system = self.system.clone();
        let (_, actor_ref, runner) = self.build(false, |_| ())?;
        let label = match actor_ref.name() {
            Some(name) => format!("actor-{name}"),
            None => format!("actor-{}", actor_ref.id().as_u64()),
        };
        // On failure the closure, and the runner in it, is dropped: the actor ends as
        // killed and leaves the registry.
        let handle = thread
            .name(label)
            .spawn(move || {
                runner.run_blocking();
            })
            .map_err(SpawnError::Thread)?;
        system.attach_thread(actor_ref.id(), handle);
        Ok(actor_ref)
    }

    /// Starts the actor on `executor`, which runs it whenever it has something to do (see
    /// [`Executor`]). The actor, its mailbox and its runner share one allocation: an idle
    /// actor costs that allocation and its entries in the system's and the executor's
    /// tables, and no thread.
    ///
    /// # Errors
    ///
    /// As [`spawn`](ActorBuilder::spawn), except [`SpawnError::Thread`]. An executor that
    /// has shut down does not fail the spawn: the actor ends at once, as killed.
    ///
    /// # Examples
    ///
    /// See [`Executor`].
    pub fn spawn_on<E: Executor + 'static>(
        self,
        executor: &Arc<E>,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        let executor = Arc::downgrade(executor);
        let (local, actor_ref, runner) = self.build(true, |me| Exec::new(me.clone(), executor))?;
        Exec::start(&local, runner);
        Ok(actor_ref)
    }

    /// Creates the actor without running it: returns its ref and the [`Runner`] that an
    /// executor of your own drives (the seam a dispatcher uses). The actor is registered at
    /// once, so its name is taken and [`System::shutdown`] waits for it.
    ///
    /// # Errors
    ///
    /// As [`spawn`](ActorBuilder::spawn), except [`SpawnError::Thread`].
    ///
    /// # Examples
    ///
    /// See [`Runner`].
    pub fn build_runner(self) -> Result<(ActorRef<A::Msg>, Runner<A>), SpawnError> {
        let (_, actor_ref, runner) = self.build(false, |_| Hook::default())?;
        Ok((actor_ref, runner))
    }

    /// Like [`build_runner`](ActorBuilder::build_runner), for an executor that runs the
    /// actor only when it has something to do (see [`Runner::on_mail`]). The actor gets a
    /// compact mailbox (a queue under a mutex rather than a channel), so that a hundred
    /// thousand idle actors cost little memory. An executor that implements [`Executor`]
    /// gets leaner still with [`spawn_on`](ActorBuilder::spawn_on): the runner then lives in
    /// the actor's own allocation, and needs no notification function.
    ///
    /// # Errors
    ///
    /// As [`build_runner`](ActorBuilder::build_runner).
    ///
    /// # Examples
    ///
    /// See [`Runner::on_mail`].
    pub fn build_for_executor(self) -> Result<(ActorRef<A::Msg>, Runner<A>), SpawnError> {
        let (_, actor_ref, runner) = self.build(true, |_| Hook::default())?;
        Ok((actor_ref, runner))
    }

    /// Creates the actor's allocation, with the host `host` makes (given the allocation's
    /// weak self-reference), registers it, and makes its runner.
    fn build<H: Host + 'static>(
        self,
        compact: bool,
        host: impl FnOnce(&Weak<Local<A::Msg, H>>) -> H,
    ) -> Result<Built<A, H>, SpawnError> {
        if matches!(self.supervision, Supervision::Restart { .. })
            && matches!(self.source, Source::Instance(_))
        {
            return Err(SpawnError::RestartNeedsFactory);
        }
        let (mailbox, rx) = self.mailbox.create(self.priority, compact)?;
        let cell = ActorCell::new(ActorId::next(), self.name, self.system.events());
        let local = Arc::new_cyclic(|me| Local::new(cell, mailbox, host(me)));
        let actor_ref = ActorRef::local(Arc::clone(&local) as Arc<Local<A::Msg>>);
        let shared: Arc<dyn AnyLocal> = Arc::clone(&local) as Arc<dyn AnyLocal>;
        self.system.register(&actor_ref, &shared)?;
        let ctx = Context::new(actor_ref.clone(), shared, self.system);
        let runner = Runner::new(self.source, rx, ctx, self.supervision);
        Ok((local, actor_ref, runner))
    }
}

/// What `ActorBuilder::build` makes: the actor's allocation (its host's type known), a ref
/// to it, and its runner.
type Built<A, H> = (
    Arc<Local<<A as Actor>::Msg, H>>,
    ActorRef<<A as Actor>::Msg>,
    Runner<A>,
);

impl<A: Actor> fmt::Debug for ActorBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorBuilder")
            .field("name", &self.name)
            .field("mailbox", &self.mailbox)
            .field("supervision", &self.supervision)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}
