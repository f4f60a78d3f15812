//! [`Worker`]: an actor that runs submitted closures in order and hands back their results.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::actor::{Actor, Context, HandlerResult};
use crate::actor_id::ActorId;
use crate::actor_ref::ActorRef;
use crate::error::{JoinError, SpawnError};
use crate::reply::{Pending, Reply, ReplyError};
use crate::supervision::{ExitReason, panic_message};
use crate::system::System;

/// A task queued on a worker: runs the closure and completes its reply.
type Task = Box<dyn FnOnce() + Send>;

struct WorkerActor;

impl Actor for WorkerActor {
    type Msg = Task;

    fn handle(&mut self, task: Task, _ctx: &mut Context<Task>) -> HandlerResult {
        task();
        Ok(())
    }
}

/// A thread that runs submitted closures one at a time, in submission order, and returns
/// each result as a [`Pending`].
///
/// A task's panic is caught: its result becomes [`ReplyError::Panicked`] with the panic
/// message, and the worker goes on with the next task. A task that returns `Result<T, E>`
/// hands its `Err` to the caller as data, like any other value.
///
/// Stopping: [`stop`](Worker::stop) runs every task already submitted, then ends;
/// [`kill`](Worker::kill) ends after the running task and fails every queued task
/// at once with [`ReplyError::Dropped`].
///
/// # Examples
///
/// ```
/// use actor_core::{ReplyError, System, Worker};
///
/// let system = System::new();
/// let worker = Worker::spawn(&system)?;
///
/// let eight = worker.submit(|| 2_i32.pow(3));
/// let parsed = worker.submit(|| "x".parse::<i32>());
/// let broken = worker.submit(|| -> i32 { panic!("division by zero") });
/// let after = worker.submit(|| "still alive");
///
/// assert_eq!(eight.wait()?, 8);
/// assert!(parsed.wait()?.is_err()); // the task's own error is data
/// assert_eq!(broken.wait(), Err(ReplyError::Panicked("division by zero".into())));
/// assert_eq!(after.wait()?, "still alive");
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Worker {
    actor: ActorRef<Task>,
}

impl Worker {
    /// Starts a worker on a thread of its own.
    ///
    /// # Errors
    ///
    /// As [`System::spawn`].
    ///
    /// # Examples
    ///
    /// See [`Worker`].
    pub fn spawn(system: &System) -> Result<Worker, SpawnError> {
        Ok(Worker {
            actor: system.spawn(WorkerActor)?,
        })
    }

    /// Starts a worker registered under `name` (see [`System::lookup`], with message type
    /// [`Worker::message_type`]).
    ///
    /// # Errors
    ///
    /// As [`ActorBuilder::spawn`](crate::ActorBuilder::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{System, Worker};
    /// let system = System::new();
    /// let worker = Worker::spawn_named(&system, "io")?;
    /// assert_eq!(worker.submit(|| 1).wait()?, 1);
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_named(system: &System, name: &str) -> Result<Worker, SpawnError> {
        Ok(Worker {
            actor: system.actor(|| WorkerActor).name(name).spawn()?,
        })
    }

    /// Queues `task` and returns its result to come.
    ///
    /// If the worker has stopped, the result is [`ReplyError::Dropped`] at once.
    ///
    /// # Examples
    ///
    /// See [`Worker`].
    pub fn submit<T, F>(&self, task: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, pending) = Reply::pair();
        // A refused task is dropped with its reply inside, which fails `pending` at once.
        let _ = self.actor.tell(Box::new(move || run(task, reply)));
        pending
    }

    /// Runs every task already submitted, then ends; later submissions fail at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{System, Worker};
    /// let system = System::new();
    /// let worker = Worker::spawn(&system)?;
    /// let results: Vec<_> = (0..3).map(|i| worker.submit(move || i * 10)).collect();
    /// worker.stop();
    /// worker.join()?;
    /// let values: Vec<i32> = results.into_iter().map(|p| p.wait()).collect::<Result<_, _>>()?;
    /// assert_eq!(values, [0, 10, 20]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop(&self) {
        self.actor.stop();
    }

    /// Ends after the running task; every queued task fails at once with
    /// [`ReplyError::Dropped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{ReplyError, System, Worker};
    /// let system = System::new();
    /// let worker = Worker::spawn(&system)?;
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// let running = worker.submit(move || {
    ///     started_tx.send(()).unwrap();
    ///     gate.recv().is_ok()
    /// });
    /// let queued = worker.submit(|| "never runs");
    /// started.recv()?; // the first task is running
    /// worker.kill();
    /// drop(release);
    /// assert_eq!(queued.wait(), Err(ReplyError::Dropped));
    /// assert_eq!(running.wait(), Ok(false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) {
        self.actor.kill();
    }

    /// Waits until the worker has ended.
    ///
    /// # Errors
    ///
    /// [`JoinError::OwnActor`] when called from one of the worker's own tasks.
    ///
    /// # Examples
    ///
    /// See [`stop`](Worker::stop).
    pub fn join(&self) -> Result<ExitReason, JoinError> {
        self.actor.join()
    }

    /// The identity of the worker's actor.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{System, Worker};
    /// let system = System::new();
    /// let worker = Worker::spawn(&system)?;
    /// assert_eq!(worker.id(), worker.clone().id());
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.actor.id()
    }

    /// The name of the worker's message type, for [`LookupError`](crate::LookupError)
    /// diagnostics.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actor_core::Worker::message_type().contains("FnOnce"));
    /// ```
    #[must_use]
    pub fn message_type() -> &'static str {
        std::any::type_name::<Task>()
    }
}

/// Runs one task and completes its reply; a panic becomes the task's result, not the
/// worker's failure.
fn run<T, F: FnOnce() -> T>(task: F, reply: Reply<T>) {
    match catch_unwind(AssertUnwindSafe(task)) {
        Ok(value) => reply.send(value),
        Err(panic) => reply.fail(ReplyError::Panicked(panic_message(panic.as_ref()).into())),
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("actor", &self.actor)
            .finish()
    }
}
