//! [`Dispatcher`]: many actors on a few threads.
//!
//! A thread per actor is simple and right for a few hundred long-lived actors; a program
//! that models each connection, order or device as an actor needs many more. A dispatcher
//! is an [`Executor`]: it runs its actors on a crew of threads (`crew.rs`) whose queue
//! carries the actors themselves ([`ActorTask`]s). An actor is submitted when its mailbox
//! becomes non-empty (or it is asked to stop), runs at most a batch of messages, and goes
//! back to idle; `actor-core`'s `executor.rs` keeps the scheduling flag that makes sure it
//! is never queued twice. An idle actor costs memory only, one allocation (its cell,
//! mailbox and runner together) and an entry in the dispatcher's table: no thread, no
//! timer, no wake-up. Scheduling one costs no allocation.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use actor_core::{Actor, ActorBuilder, ActorId, ActorRef, ActorTask, Executor, SpawnError, System};
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
    crew: Arc<Crew<ActorTask>>,
    threads: usize,
    batch: usize,
    /// The actors that have not ended, to stop them at shutdown. Their allocations keep
    /// themselves alive until they end; this table only reaches them.
    live: Mutex<HashMap<ActorId, ActorTask>>,
    /// Signalled when an actor ends.
    ended: Condvar,
}

impl Executor for Shared {
    fn added(&self, task: &ActorTask) {
        self.live.lock().insert(task.id(), task.clone());
    }

    fn submit(&self, task: ActorTask) -> Result<(), ActorTask> {
        // The queue is unbounded: a push waits for nothing, and fails only once the crew
        // has shut down.
        self.crew
            .push(task, Wait::Forever)
            .map_err(|refused| refused.into_inner())
    }

    fn ended(&self, actor: ActorId) {
        self.live.lock().remove(&actor);
        self.ended.notify_all();
    }
}

/// The dispatcher's queue carries the actors themselves: queuing one clones an `Arc`, where
/// a boxed closure would cost an allocation per scheduling.
impl Item for ActorTask {
    type Hand = Batch;

    fn run(self, batch: &mut Batch, crew: &Crew<Self>) {
        let batch = batch.0;
        // The task catches the actor's panics; this is for the dispatcher's own, which must
        // not cost a thread.
        crew.contain(|| ActorTask::run(self, batch));
    }

    /// Only the last thread out discards, when every thread died and none could be
    /// replaced: the actor ends, so that `shutdown` does not wait for it.
    fn discard(self) {
        self.end();
    }
}

/// What each dispatcher thread keeps: the batch size, here rather than in each actor.
pub(crate) struct Batch(usize);

impl Hand for Batch {
    fn finish(self) {}

    fn replacement(&mut self) -> Batch {
        Batch(self.0)
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
        // The first run starts the actor (its `started` hook), like a new thread would.
        builder.spawn_on(&self.shared)
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
        let live: Vec<ActorTask> = self.shared.live.lock().values().cloned().collect();
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
