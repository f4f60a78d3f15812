//! [`ThreadPool`]: a fixed set of threads that run queued closures.
//!
//! The pool is a `Crew` whose items are boxed closures (`job.rs`); the crew's module docs
//! give the shutdown sequence.

mod job;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actor_core::{Pending, Reply, ReplyError};

use crate::crew::{Crew, Wait, default_threads};
use crate::error::{PoolError, SubmitError};
use crate::ordered::Ordered;
use crate::queue::Queue;
use job::{Executed, Job, Submitted, unbox};

/// How many tasks `map` keeps submitted ahead of the result it waits for, per thread.
const MAP_WINDOW_PER_THREAD: usize = 16;

/// A fixed number of threads that run submitted closures.
///
/// [`submit`](ThreadPool::submit) queues a closure and returns its result to come, a
/// [`Pending`]: wait for it, poll it, or attach a completion callback with
/// [`Pending::on_complete`] (the callback runs on the pool thread that completes the task).
/// [`map`](ThreadPool::map) runs a function over many inputs and yields the results in input
/// order, each as soon as it and those before it are ready.
///
/// A task that panics yields [`ReplyError::Panicked`] with the panic message; the thread that
/// ran it goes on with the next task.
///
/// Shutting down: [`shutdown`](ThreadPool::shutdown) runs what is queued, then joins every
/// thread; [`kill`](ThreadPool::kill) fails what is queued at once with
/// [`ReplyError::Dropped`], then joins every thread (each finishes the task it is running).
/// Dropping the pool calls `shutdown`, or `kill` when the drop happens during a
/// panic, so that the panic is not held up by queued work. No thread of the pool outlives
/// it.
///
/// # Examples
///
/// ```
/// use actor_pool::ThreadPool;
/// use actor_core::ReplyError;
///
/// let pool = ThreadPool::builder().threads(2).build()?;
///
/// let sum = pool.submit(|| (1..=10).sum::<u32>());
/// let broken = pool.submit(|| -> u32 { panic!("no such file") });
/// assert_eq!(sum.wait()?, 55);
/// assert_eq!(broken.wait(), Err(ReplyError::Panicked("no such file".into())));
///
/// let squares: Vec<u64> = pool.map(|x: u64| x * x, 1..=4).collect::<Result<_, _>>()?;
/// assert_eq!(squares, [1, 4, 9, 16]);
///
/// // A completion callback instead of a wait.
/// let (tx, rx) = std::sync::mpsc::channel();
/// pool.submit(|| "done").on_complete(move |result| tx.send(result).unwrap());
/// assert_eq!(rx.recv()?, Ok("done"));
///
/// pool.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ThreadPool {
    crew: Arc<Crew<Box<dyn Job>>>,
    threads: usize,
    queue: Queue,
}

impl ThreadPool {
    /// Starts configuring a pool.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{Queue, ThreadPool};
    ///
    /// let pool = ThreadPool::builder()
    ///     .threads(4)
    ///     .queue(Queue::Bounded(100))
    ///     .name_prefix("resize")
    ///     .build()?;
    /// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).wait()?;
    /// assert!(name.unwrap().starts_with("resize-"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    /// Starts a pool with the default configuration: one thread per available CPU, an
    /// unbounded queue.
    ///
    /// # Errors
    ///
    /// As [`ThreadPoolBuilder::build`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::new()?;
    /// assert_eq!(pool.submit(|| 6 * 7).wait()?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Result<ThreadPool, PoolError> {
        ThreadPoolBuilder::new().build()
    }

    /// Queues `task` and returns its result to come; waits for room when a bounded queue is
    /// full.
    ///
    /// If the pool is shut down, the result is [`ReplyError::Dropped`] at once (use
    /// [`try_submit`](ThreadPool::try_submit) to get the closure back instead). A panic in
    /// `task` becomes [`ReplyError::Panicked`].
    ///
    /// A task that submits to its own pool with a full bounded queue can wait forever if every
    /// thread does the same: tasks should use `try_submit`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::new()?;
    /// let pending = pool.submit(|| "hello".to_uppercase());
    /// assert_eq!(pending.wait()?, "HELLO");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit<T, F>(&self, task: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, pending) = Reply::pair();
        // A refused task is dropped with its reply inside, which fails `pending` at once.
        let _ = self.push(Submitted { task, reply }, Wait::Forever);
        pending
    }

    /// Queues `task` if that needs no waiting; otherwise gives it back.
    ///
    /// # Errors
    ///
    /// [`SubmitError::Full`] when a bounded queue is full, [`SubmitError::ShutDown`] when the
    /// pool is shut down or shutting down; both hold `task`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{Queue, SubmitError, ThreadPool};
    ///
    /// // No queue at all: a task is taken only by an idle thread.
    /// let pool = ThreadPool::builder().threads(1).queue(Queue::Bounded(0)).build()?;
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// let busy = pool.submit(move || {
    ///     started_tx.send(()).unwrap();
    ///     gate.recv().ok()
    /// });
    /// started.recv()?; // the only thread is busy
    /// assert!(matches!(pool.try_submit(|| 1), Err(SubmitError::Full(_))));
    /// drop(release);
    /// busy.wait()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_submit<T, F>(&self, task: F) -> Result<Pending<T>, SubmitError<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.submit_with(task, Wait::No)
    }

    /// Queues `task`, waiting at most `timeout` for room in a full bounded queue.
    ///
    /// # Errors
    ///
    /// [`SubmitError::Timeout`] when the queue stayed full, [`SubmitError::ShutDown`] when the
    /// pool is shut down or shutting down; both hold `task`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = actor_pool::ThreadPool::new()?;
    /// let pending = pool.submit_timeout(|| 3, Duration::from_millis(100)).ok().unwrap();
    /// assert_eq!(pending.wait()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit_timeout<T, F>(
        &self,
        task: F,
        timeout: Duration,
    ) -> Result<Pending<T>, SubmitError<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.submit_with(task, Wait::at_most(timeout))
    }

    fn submit_with<T, F>(&self, task: F, wait: Wait) -> Result<Pending<T>, SubmitError<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, pending) = Reply::pair();
        match self.push(Submitted { task, reply }, wait) {
            Ok(()) => Ok(pending),
            Err(error) => Err(error.map(|submitted| submitted.task)),
        }
    }

    /// Queues `task` to run for its effect alone, with no [`Pending`] to complete; waits for
    /// room when a bounded queue is full.
    ///
    /// This is the entry point for code that builds its own scheduling on the pool (such as a
    /// scheduler of its own running actors): a task costs one boxed closure and no result
    /// slot. A panic
    /// in `task` is caught and logged (`tracing`, level error), and the thread goes on.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`], holding `task`, when the pool is shut down or shutting down.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let task: Box<dyn FnOnce() + Send> = Box::new(move || tx.send(1).unwrap());
    /// pool.execute(task).ok().unwrap();
    /// assert_eq!(rx.recv()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute<F>(&self, task: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.execute_with(task, Wait::Forever)
    }

    /// Queues `task` as [`execute`](ThreadPool::execute) does, if that needs no waiting.
    ///
    /// # Errors
    ///
    /// [`SubmitError::Full`] when a bounded queue is full, [`SubmitError::ShutDown`] when the
    /// pool is shut down or shutting down; both hold `task`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{SubmitError, ThreadPool};
    ///
    /// let pool = ThreadPool::new()?;
    /// pool.shutdown();
    /// assert!(matches!(pool.try_execute(|| ()), Err(SubmitError::ShutDown(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_execute<F>(&self, task: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.execute_with(task, Wait::No)
    }

    /// Queues `task` as [`execute`](ThreadPool::execute) does, waiting at most `timeout` for
    /// room in a full bounded queue.
    ///
    /// # Errors
    ///
    /// [`SubmitError::Timeout`] when the queue stayed full, [`SubmitError::ShutDown`] when the
    /// pool is shut down or shutting down; both hold `task`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = actor_pool::ThreadPool::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.execute_timeout(move || tx.send("ran").unwrap(), Duration::from_secs(1))
    ///     .ok()
    ///     .unwrap();
    /// assert_eq!(rx.recv()?, "ran");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute_timeout<F>(&self, task: F, timeout: Duration) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.execute_with(task, Wait::at_most(timeout))
    }

    fn execute_with<F>(&self, task: F, wait: Wait) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.push(Executed(task), wait)
            .map_err(|error| error.map(|executed| executed.0))
    }

    /// Runs `f` on every item on the pool, yielding the results in the order of the items.
    ///
    /// Each result is yielded as soon as it and the ones before it are ready; the pool works
    /// on the following items meanwhile. A bounded number of items (a few per thread) is
    /// submitted ahead of the result being waited for, starting when `map` is called, so
    /// `items` may be long or endless without filling memory. Dropping the iterator stops the
    /// submissions; tasks already submitted still run.
    ///
    /// An item whose call panicked yields [`ReplyError::Panicked`]; after a shutdown, items
    /// yield [`ReplyError::Dropped`]. Called from a task of the same pool, `map` waits for
    /// threads that may all be waiting the same way: call it from outside the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::builder().threads(3).build()?;
    /// let lengths = pool.map(|word: &str| word.len(), ["map", "in", "order"]);
    /// assert_eq!(lengths.collect::<Result<Vec<_>, _>>()?, [3, 2, 5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<A, R, F, I>(&self, f: F, items: I) -> impl Iterator<Item = Result<R, ReplyError>>
    where
        A: Send + 'static,
        R: Send + 'static,
        F: Fn(A) -> R + Send + Sync + 'static,
        I: IntoIterator<Item = A>,
    {
        let f = Arc::new(f);
        Ordered::new(
            items.into_iter(),
            move |item| {
                let f = Arc::clone(&f);
                self.submit(move || f(item))
            },
            self.threads.saturating_mul(MAP_WINDOW_PER_THREAD),
        )
    }

    /// Stops taking tasks, runs every task already queued, then joins every thread.
    ///
    /// Submissions after this call (and those waiting for room in a full bounded queue when it
    /// is made) are refused. Calling it again, or after `kill`, only waits for the
    /// threads. Called from a task of this pool, it cannot wait for the thread running that
    /// task, which ends on its own once the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::ReplyError;
    ///
    /// let pool = actor_pool::ThreadPool::builder().threads(1).build()?;
    /// let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    /// pool.shutdown();
    /// for (i, pending) in queued.into_iter().enumerate() {
    ///     assert_eq!(pending.wait()?, i);
    /// }
    /// assert_eq!(pool.submit(|| 0).wait(), Err(ReplyError::Dropped));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self) {
        self.crew.shutdown();
    }

    /// Stops taking tasks, fails every queued task at once with [`ReplyError::Dropped`], then
    /// joins every thread.
    ///
    /// A task already running is not interrupted (a thread cannot be): the call returns once
    /// the running tasks have finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::ReplyError;
    ///
    /// let pool = actor_pool::ThreadPool::builder().threads(1).build()?;
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let running = pool.submit(move || {
    ///     started_tx.send(()).unwrap();
    ///     "finished"
    /// });
    /// started.recv()?;
    /// let queued = pool.submit(|| "never runs");
    /// pool.kill();
    /// assert_eq!(running.wait()?, "finished");
    /// // Unless the thread took it before the shutdown, the queued task never ran.
    /// assert!(matches!(queued.wait(), Ok("never runs") | Err(ReplyError::Dropped)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) {
        // Nothing to interrupt: a running task is not stopped (a thread cannot be).
        self.crew.kill(|| ());
    }

    /// Puts `job` in the queue, waiting for room as `wait` allows.
    fn push<J: Job>(&self, job: J, wait: Wait) -> Result<(), SubmitError<J>> {
        self.crew
            .push(Box::new(job), wait)
            .map_err(|error| error.map(unbox))
    }

    /// The number of threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::builder().threads(3).build()?;
    /// assert_eq!(pool.threads(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The kind of queue the pool was built with.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{Queue, ThreadPool};
    /// assert_eq!(ThreadPool::new()?.queue(), Queue::Unbounded);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn queue(&self) -> Queue {
        self.queue
    }

    /// The number of tasks waiting for a thread (not counting those running), a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::new()?;
    /// pool.shutdown();
    /// assert_eq!(pool.queued(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn queued(&self) -> usize {
        self.crew.queued()
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.crew.shut_down_on_drop(|| ());
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("name_prefix", &self.crew.prefix())
            .field("threads", &self.threads)
            .field("queue", &self.queue)
            .field("queued", &self.queued())
            .field("shut_down", &self.crew.is_closed())
            .finish()
    }
}

/// Configures and starts a [`ThreadPool`].
///
/// # Examples
///
/// ```
/// use actor_pool::{Queue, ThreadPool};
///
/// let pool = ThreadPool::builder().threads(2).queue(Queue::Bounded(8)).build()?;
/// assert_eq!(pool.threads(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    threads: Option<usize>,
    queue: Queue,
    name_prefix: String,
    stack_size: Option<usize>,
}

impl ThreadPoolBuilder {
    fn new() -> ThreadPoolBuilder {
        ThreadPoolBuilder {
            threads: None,
            queue: Queue::Unbounded,
            name_prefix: "thread-pool".to_string(),
            stack_size: None,
        }
    }

    /// Sets the number of threads.
    ///
    /// By default, the available parallelism ([`std::thread::available_parallelism`]), or 1
    /// when it is unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::builder().threads(1).build()?;
    /// assert_eq!(pool.threads(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Sets the queue between submitters and threads.
    ///
    /// By default, [`Queue::Unbounded`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{Queue, ThreadPool};
    /// let pool = ThreadPool::builder().queue(Queue::Bounded(16)).build()?;
    /// assert_eq!(pool.queue(), Queue::Bounded(16));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue(mut self, queue: Queue) -> Self {
        self.queue = queue;
        self
    }

    /// Sets the prefix of the threads' names: the threads are named `<prefix>-<n>`.
    ///
    /// By default, `thread-pool`. (Linux shows only the first 15 bytes of a thread's name.)
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::builder().threads(1).name_prefix("io").build()?;
    /// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).wait()?;
    /// assert_eq!(name.as_deref(), Some("io-0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Sets the stack size of each thread, in bytes.
    ///
    /// By default, the standard library's default ([`std::thread::Builder::stack_size`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = actor_pool::ThreadPool::builder().stack_size(4 << 20).build()?;
    /// assert_eq!(pool.submit(|| 1).wait()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts the pool's threads.
    ///
    /// # Errors
    ///
    /// [`PoolError::NoWorkers`] when zero threads were asked for, [`PoolError::SpawnThread`]
    /// when the operating system refused a thread (the threads already started are joined).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{PoolError, ThreadPool};
    /// assert!(ThreadPool::builder().build().is_ok());
    /// assert!(matches!(ThreadPool::builder().threads(0).build(), Err(PoolError::NoWorkers)));
    /// ```
    pub fn build(self) -> Result<ThreadPool, PoolError> {
        let threads = self.threads.unwrap_or_else(default_threads);
        if threads == 0 {
            return Err(PoolError::NoWorkers);
        }
        let crew = Crew::start(
            self.name_prefix,
            self.stack_size,
            self.queue,
            std::iter::repeat_n((), threads),
        )
        .map_err(PoolError::SpawnThread)?;
        Ok(ThreadPool {
            crew,
            threads,
            queue: self.queue,
        })
    }
}

impl Default for ThreadPoolBuilder {
    /// The default configuration, as [`ThreadPool::builder`].
    fn default() -> Self {
        ThreadPoolBuilder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_task_is_given_back_unchanged() {
        let pool = ThreadPool::builder().threads(1).build().unwrap();
        pool.shutdown();
        let text = String::from("kept");
        let err = pool.try_submit(move || text).unwrap_err();
        assert!(err.is_shut_down());
        assert_eq!((err.into_inner())(), "kept");
    }
}
