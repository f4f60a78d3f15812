//! [`Dispatcher`]: many actors on a few threads.
//!
//! A thread per actor is simple and right for a few hundred long-lived actors; a program
//! that models each connection, order or device as an actor needs many more. A dispatcher
//! runs them on a crew of threads (`crew.rs`) whose queue carries the actors themselves: an
//! actor is scheduled when its mailbox becomes non-empty (or it is asked to stop), runs at
//! most a batch of messages, and goes back to idle. An idle actor costs memory only: no
//! thread, no timer, no wake-up; scheduling one costs no allocation.
//!
//! Each actor's scheduling state is one flag:
//!
//! | `scheduled` | meaning                                                     |
//! |-------------|-------------------------------------------------------------|
//! | `false`     | idle: its mailbox was empty when it last ran                |
//! | `true`      | queued on the pool, or running; nobody else may queue it    |
//!
//! Whoever turns the flag from `false` to `true` queues the actor, so it is never queued
//! twice and never run by two threads at once. A run that ends with mail left (the batch
//! was used up) queues it again with the flag still set. A run that finds the mailbox empty
//! clears the flag and then looks again, so that a message that arrived in between is not
//! stranded: either its sender saw the cleared flag and queued the actor, or the second look
//! sees the message. Both sides use `SeqCst` on the flag for this handshake.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use actor_core::{Actor, ActorBuilder, ActorId, ActorRef, RunStatus, Runner, SpawnError, System};
use parking_lot::{Condvar, Mutex};

use crate::crew::{Crew, Hand, Item, Wait, default_threads};
use crate::error::PoolError;
use crate::queue::Queue;

/// Runs many actors on a few threads.
///
/// The same [`Actor`] implementations run here as on their own threads, and senders cannot
/// tell the difference: `spawn` gives the same [`ActorRef`]. Everything the thread-backed
/// runtime offers works: `ask`, `stop` and `kill`, supervision and restarts, monitors,
/// registry names, bounded mailboxes, timers, exchanges.
///
/// A handler that blocks (on I/O, a lock, a long computation, an `ask` to a slow actor)
/// holds one of the dispatcher's threads the whole time, and the actors waiting behind it
/// wait too. Give such an actor its own thread with [`spawn_pinned`](Dispatcher::spawn_pinned).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Actor, Context, HandlerResult, Reply, System};
/// use actor_pool::Dispatcher;
///
/// enum Msg {
///     Add(u64),
///     Total(Reply<u64>),
/// }
///
/// #[derive(Default)]
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Total(reply) => reply.send(self.0),
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let dispatcher = Dispatcher::new(&system, 2)?;
/// let counters: Vec<_> = (0..1_000)
///     .map(|_| dispatcher.spawn(Counter::default()))
///     .collect::<Result<_, _>>()?;
/// for (i, counter) in counters.iter().enumerate() {
///     counter.tell(Msg::Add(i as u64))?;
/// }
/// assert_eq!(counters[999].ask(Msg::Total, Duration::from_secs(5))?, 999);
/// dispatcher.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Dispatcher {
    shared: Arc<Shared>,
}

struct Shared {
    system: System,
    crew: Arc<Crew<Arc<dyn Dispatched>>>,
    threads: usize,
    batch: usize,
    /// The actors that have not ended. This table owns them: the mailbox hook that
    /// schedules an actor holds it weakly (a strong hook would form a cycle through the
    /// actor's state and keep it alive forever), and the queue holds it while it is queued.
    live: Mutex<HashMap<ActorId, Arc<dyn Dispatched>>>,
    /// Signalled when an actor ends.
    ended: Condvar,
}

/// What the dispatcher needs of an actor, whatever its type.
trait Dispatched: Send + Sync {
    /// Handles at most `batch` messages, then queues the actor again, lets it idle, or
    /// lets it go if it has ended.
    fn run(self: Arc<Self>, batch: usize);
    /// Asks the actor to stop once it has handled what is queued.
    fn stop(&self);
    /// The actor will not run again: lets go of it.
    fn end(&self);
}

/// The dispatcher's queue carries the actors themselves: queuing one clones an `Arc`, where
/// a boxed closure would cost an allocation per scheduling.
impl Item for Arc<dyn Dispatched> {
    type Hand = Batch;

    fn run(self, batch: &mut Batch, crew: &Crew<Self>) {
        let batch = batch.0;
        // `Runner::run` catches the actor's panics; this is for the dispatcher's own, which
        // must not cost a thread.
        crew.contain(|| Dispatched::run(self, batch));
    }

    /// Only the last thread out discards, when every thread died and none could be
    /// replaced: the actor ends, so that `shutdown` does not wait for it.
    fn discard(self) {
        self.end();
    }
}

/// What each dispatcher thread keeps: the batch size, here rather than in each actor.
struct Batch(usize);

impl Hand for Batch {
    fn finish(self) {}

    fn replacement(&mut self) -> Batch {
        Batch(self.0)
    }
}

/// One actor on the dispatcher.
struct Task<A: Actor> {
    /// `None` once the actor has ended. Locked only by the thread that runs it (the
    /// `scheduled` flag makes that one thread at a time), and briefly by `idle`.
    runner: Mutex<Option<Runner<A>>>,
    scheduled: AtomicBool,
    actor: ActorRef<A::Msg>,
    shared: Weak<Shared>,
}

impl<A: Actor> Task<A> {
    /// The actor has something to do: queue it unless it is queued or running already.
    fn schedule(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            self.submit();
        }
    }

    fn submit(self: &Arc<Self>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let task: Arc<dyn Dispatched> = Arc::<Self>::clone(self);
        // The queue is unbounded: a push waits for nothing.
        if shared.crew.push(task, Wait::Forever).is_err() {
            // The crew has shut down: nothing will run this actor again.
            self.end();
        }
    }

    /// Clears the flag, then looks at the mailbox once more (see the module docs).
    fn idle(self: &Arc<Self>) {
        self.scheduled.store(false, Ordering::SeqCst);
        let has_mail = self.runner.lock().as_ref().is_some_and(Runner::has_mail);
        if has_mail {
            self.schedule();
        }
    }
}

impl<A: Actor> Dispatched for Task<A> {
    fn run(self: Arc<Self>, batch: usize) {
        let status = match self.runner.lock().as_mut() {
            Some(runner) => runner.run(batch),
            None => return,
        };
        match status {
            RunStatus::Yielded => self.submit(),
            RunStatus::Idle => self.idle(),
            RunStatus::Stopped(_) => self.end(),
        }
    }

    fn stop(&self) {
        self.actor.stop();
    }

    /// The actor has ended: let go of its state and of the dispatcher's record of it.
    fn end(&self) {
        let runner = self.runner.lock().take();
        drop(runner);
        if let Some(shared) = self.shared.upgrade() {
            shared.live.lock().remove(&self.actor.id());
            shared.ended.notify_all();
        }
    }
}

impl Dispatcher {
    /// A dispatcher for `system` running its actors on `threads` threads (at least 1).
    ///
    /// # Errors
    ///
    /// [`PoolError`] when the threads cannot be started.
    ///
    /// # Examples
    ///
    /// See [`Dispatcher`].
    pub fn new(system: &System, threads: usize) -> Result<Dispatcher, PoolError> {
        Dispatcher::builder(system).threads(threads).build()
    }

    /// Starts configuring a dispatcher for `system`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::Dispatcher;
    /// let system = actor_core::System::new();
    /// let dispatcher = Dispatcher::builder(&system).threads(2).batch(16).build()?;
    /// # dispatcher.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn builder(system: &System) -> DispatcherBuilder {
        DispatcherBuilder {
            system: system.clone(),
            threads: default_threads(),
            batch: 64,
        }
    }

    /// Runs `actor` on the dispatcher, unnamed, with an unbounded mailbox and the `Stop`
    /// policy. For anything else, configure it with `System::actor` and use
    /// [`spawn_builder`](Dispatcher::spawn_builder).
    ///
    /// # Errors
    ///
    /// As [`ActorBuilder::spawn`].
    ///
    /// # Examples
    ///
    /// See [`Dispatcher`].
    pub fn spawn<A: Actor>(&self, actor: A) -> Result<ActorRef<A::Msg>, SpawnError> {
        self.spawn_builder(self.shared.system.actor_from(actor))
    }

    /// Runs the actor configured by `builder` (name, mailbox, supervision, priority) on the
    /// dispatcher.
    ///
    /// # Errors
    ///
    /// As [`ActorBuilder::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Actor, Context, HandlerResult, Supervision, System};
    /// use actor_pool::Dispatcher;
    ///
    /// #[derive(Default)]
    /// struct Fragile;
    /// impl Actor for Fragile {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// let dispatcher = Dispatcher::new(&system, 2)?;
    /// let fragile = dispatcher.spawn_builder(
    ///     system
    ///         .actor(Fragile::default)
    ///         .name("fragile")
    ///         .supervision(Supervision::restart(3, Duration::from_secs(10))),
    /// )?;
    /// assert_eq!(system.lookup::<()>("fragile")?, fragile);
    /// # dispatcher.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_builder<A: Actor>(
        &self,
        builder: ActorBuilder<A>,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        let (actor, runner) = builder.build_for_executor()?;
        let task = Arc::new(Task {
            runner: Mutex::new(None),
            scheduled: AtomicBool::new(false),
            actor: actor.clone(),
            shared: Arc::downgrade(&self.shared),
        });
        let scheduling = Arc::downgrade(&task);
        runner.on_mail(move || {
            if let Some(task) = scheduling.upgrade() {
                task.schedule();
            }
        });
        *task.runner.lock() = Some(runner);
        self.shared.live.lock().insert(actor.id(), task.clone());
        // The first run starts the actor (its `started` hook), like a new thread would.
        task.schedule();
        Ok(actor)
    }

    /// Runs `actor` on a thread of its own instead, for an actor whose handler blocks: it
    /// then holds only its own thread. The actor is still the dispatcher's system's.
    ///
    /// # Errors
    ///
    /// As [`System::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # use actor_pool::Dispatcher;
    /// struct BlockingIo;
    /// impl Actor for BlockingIo {
    ///     type Msg = String;
    ///     fn handle(&mut self, path: String, _: &mut Context<String>) -> HandlerResult {
    ///         let _ = std::fs::metadata(path); // blocking is fine on its own thread
    ///         Ok(())
    ///     }
    /// }
    /// let system = System::new();
    /// let dispatcher = Dispatcher::new(&system, 2)?;
    /// dispatcher.spawn_pinned(BlockingIo)?.tell("/".to_string())?;
    /// # dispatcher.shutdown();
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_pinned<A: Actor>(&self, actor: A) -> Result<ActorRef<A::Msg>, SpawnError> {
        self.shared.system.spawn(actor)
    }

    /// The number of actors running on the dispatcher that have not ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_pool::Dispatcher;
    /// let system = actor_core::System::new();
    /// let dispatcher = Dispatcher::new(&system, 1)?;
    /// assert_eq!(dispatcher.actor_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn actor_count(&self) -> usize {
        self.shared.live.lock().len()
    }

    /// Stops every actor on the dispatcher gracefully (each handles what is queued), waits
    /// for them to end, and joins the dispatcher's threads. Idempotent.
    ///
    /// # Examples
    ///
    /// See [`Dispatcher`].
    pub fn shutdown(&self) {
        let live: Vec<Arc<dyn Dispatched>> = self.shared.live.lock().values().cloned().collect();
        for actor in &live {
            actor.stop();
        }
        drop(live);
        let mut remaining = self.shared.live.lock();
        while !remaining.is_empty() {
            // Every stopped actor runs once more, ends, and leaves the table.
            self.shared.ended.wait(&mut remaining);
        }
        drop(remaining);
        self.shared.crew.shutdown();
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("threads", &self.shared.threads)
            .field("batch", &self.shared.batch)
            .field("actors", &self.actor_count())
            .finish()
    }
}

/// Configures a [`Dispatcher`]. Made by [`Dispatcher::builder`].
///
/// # Examples
///
/// See [`Dispatcher::builder`].
#[derive(Debug)]
pub struct DispatcherBuilder {
    system: System,
    threads: usize,
    batch: usize,
}

impl DispatcherBuilder {
    /// The number of threads. By default, the available parallelism, or 1 when it is
    /// unknown.
    ///
    /// # Examples
    ///
    /// See [`Dispatcher::builder`].
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The most messages an actor handles before the others get their turn. By default, 64.
    ///
    /// # Examples
    ///
    /// See [`Dispatcher::builder`].
    #[must_use]
    pub fn batch(mut self, messages: usize) -> Self {
        self.batch = messages.max(1);
        self
    }

    /// Starts the dispatcher's threads.
    ///
    /// # Errors
    ///
    /// [`PoolError`] when the threads cannot be started.
    ///
    /// # Examples
    ///
    /// See [`Dispatcher::builder`].
    pub fn build(self) -> Result<Dispatcher, PoolError> {
        let crew = Crew::start(
            "dispatcher".to_string(),
            None,
            Queue::Unbounded,
            (0..self.threads).map(|_| Batch(self.batch)),
        )
        .map_err(PoolError::SpawnThread)?;
        Ok(Dispatcher {
            shared: Arc::new(Shared {
                system: self.system,
                crew,
                threads: self.threads,
                batch: self.batch,
                live: Mutex::new(HashMap::new()),
                ended: Condvar::new(),
            }),
        })
    }
}
