//! [`ProcessPool`]: functions run by name in worker processes started from the running
//! program.
//!
//! # How the pieces fit
//!
//! - [`Functions`] (`functions.rs`) names the functions and knows their types; the same
//!   value is used in the program (to build the pool) and in each worker (to run them). Each
//!   function is an entry (`entry.rs`) holding its [`Signature`] (`signature.rs`) and a call
//!   on encoded bytes. Registering one returns its typed handle, a [`Function`]
//!   (`function.rs`), which the pool's calls take.
//! - The conversation with a worker (`protocol.rs`) is frames of the wire codec over a Unix
//!   socket pair that is the worker's standard input.
//! - The worker's side (`serve.rs`) answers calls, one at a time, catching panics: its main
//!   thread reads, runs and answers each call, while a watcher thread, blocked in `poll` for
//!   the connection's hang-up alone, exits the process when the pool's end closes.
//! - A call (`task.rs`) waits in the pool's queue until a worker runs it; it decodes the
//!   answer and completes the caller's `Pending`.
//! - The pool's side of one worker (`worker.rs`) starts it, calls it, and always reaps it.
//! - The roster (`roster.rs`) records the running worker of each slot, for `worker_pids` and
//!   for `kill` to cut, and starts workers.
//! - The pool's queue and threads are a `Crew` of tasks, one thread per worker; each
//!   thread's hand is a slot (`slot.rs`) that drives its worker and replaces it when it
//!   crashes.
//!
//! # Shutdown sequence
//!
//! The crew's sequence (see `crew.rs`), in which `kill` also cuts every worker's
//! connection after the queue is drained, so that the calls under way fail with
//! `ReplyError::Dropped` too. Each slot thread, finding the queue closed and empty, closes
//! its worker's connection; the worker exits; the thread reaps it (killing it if it is not
//! gone after a grace period).
//!
//! If the program's process ends without a shutdown (it exits, is killed, or aborts), the
//! kernel closes the pool's ends of the connections, and each worker exits as soon as it
//! sees that, even in the middle of a call: no worker outlives its connection to the pool.

mod entry;
mod function;
mod functions;
mod protocol;
mod roster;
mod serve;
pub(crate) mod signature;
mod slot;
mod task;
mod worker;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actor_core::codec::{Bincode, Codec};
use actor_core::{ErrorChain, Pending, Reply, ReplyError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crew::{Crew, Wait, default_threads};
use crate::error::{PoolError, StartError};
use crate::ordered::Ordered;
use crate::queue::Queue;
pub use function::Function;
pub use functions::Functions;
use protocol::WORKER_ENV;
use roster::Roster;
pub use signature::Signature;
use slot::Slot;
use task::Task;
use worker::{Launch, WorkerProcess};

/// How many tasks `map` keeps submitted ahead of the result it waits for, per worker.
const MAP_WINDOW_PER_WORKER: usize = 4;

/// Worker processes, started from the running program, that run registered [`Functions`].
///
/// Arguments and results travel between the processes as frames of the wire codec
/// ([`actor_core::codec`]) over a Unix socket pair, each worker running one call at a time.
/// The program turns into a worker with one line at the start of `main`:
/// `functions.serve_if_worker();` (see [`Functions::serve_if_worker`]).
///
/// Calls go through the typed handles that [`Functions::register`] returns, so their
/// argument and result types are checked when the program compiles.
/// [`submit`](ProcessPool::submit) queues a call and returns its result to come, a
/// [`Pending`]; [`map`](ProcessPool::map) calls one function on many arguments and yields the
/// results in order.
///
/// # Failures
///
/// - A function that panics: the call fails with [`ReplyError::Panicked`] and the worker
///   goes on.
/// - A worker that crashes (aborts, is killed, exits, or sends bytes that break the protocol):
///   the call it was running fails with [`ReplyError::Crashed`], which says which worker and
///   how it ended (`worker 1 (pid 4242) ended (signal: 6 (SIGABRT)) while running "parse"`);
///   the worker is reaped and replaced, and the pool goes on with the other tasks.
/// - A result that does not decode as the expected type: [`ReplyError::Remote`].
///
/// # Shutdown
///
/// [`shutdown`](ProcessPool::shutdown) runs what is queued, then closes each worker's
/// connection and waits for it; [`kill`](ProcessPool::kill) fails what is
/// queued and what is running. Dropping the pool calls `shutdown`, or `kill` when the
/// drop happens during a panic. Every worker is waited for, so none is left running or as a
/// zombie; and if the program ends without shutting the pool down, each worker sees its
/// connection close and exits by itself.
///
/// Unix only.
///
/// # Examples
///
/// ```no_run
/// use actor_core::ReplyError;
/// use actor_pool::{Functions, ProcessPool};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let mut functions = Functions::new();
///     let square = functions.register("square", |x: u64| x * x);
///     let fail = functions.register("fail", |_: ()| -> u64 { panic!("on purpose") });
///     functions.serve_if_worker();
///
///     let pool = ProcessPool::builder(&functions).workers(2).build()?;
///     let squares: Vec<u64> = pool.map(&square, 1..=5)?.collect::<Result<_, _>>()?;
///     assert_eq!(squares, [1, 4, 9, 16, 25]);
///     let failed = pool.submit(&fail, ())?.wait();
///     assert_eq!(failed, Err(ReplyError::Panicked("on purpose".into())));
///     pool.shutdown();
///     Ok(())
/// }
/// ```
pub struct ProcessPool {
    crew: Arc<Crew<Task>>,
    roster: Arc<Roster>,
    signatures: BTreeMap<Arc<str>, Signature>,
    next_id: AtomicU64,
    workers: usize,
}

impl ProcessPool {
    /// Starts configuring a pool that runs the functions of `functions`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let mut functions = Functions::new();
    /// functions.register("echo", |text: String| text);
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions)
    ///     .workers(4)
    ///     .startup_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(functions: &Functions) -> ProcessPoolBuilder<'_> {
        ProcessPoolBuilder {
            functions,
            workers: None,
            program: None,
            args: Vec::new(),
            startup_timeout: Duration::from_secs(10),
            name_prefix: "process-pool".to_string(),
        }
    }

    /// Queues a call of `function` with `argument`, and returns its result to come.
    ///
    /// # Errors
    ///
    /// - [`PoolError::ShutDown`] when the pool is shut down or shutting down.
    /// - [`PoolError::Encode`] when `argument` cannot be encoded.
    /// - [`PoolError::UnknownFunction`] when `function` comes from another registry than the
    ///   pool's, which has no function of its name.
    /// - [`PoolError::TypeMismatch`] when `function` comes from another registry than the
    ///   pool's, in which its name has other types.
    ///
    /// The call itself can fail later, through the [`Pending`]: see [`ProcessPool`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, PoolError, ProcessPool};
    ///
    /// let mut functions = Functions::new();
    /// let square = functions.register("square", |x: u64| x * x);
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).build()?;
    /// assert_eq!(pool.submit(&square, 9)?.wait()?, 81);
    ///
    /// // A handle of a function the pool's registry does not have.
    /// let cube = Functions::new().register("cube", |x: u64| x * x * x);
    /// assert!(matches!(pool.submit(&cube, 9), Err(PoolError::UnknownFunction { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit<A, R>(
        &self,
        function: &Function<A, R>,
        argument: A,
    ) -> Result<Pending<R>, PoolError>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let name = self.check(function)?;
        self.submit_checked(name, &argument)
    }

    /// Calls `function` on every item, yielding the results in the order of the items.
    ///
    /// Each result is yielded as soon as it and the ones before it are ready; the workers go
    /// on with the following items meanwhile. A bounded number of items (a few per worker) is
    /// submitted ahead of the result being waited for, starting when `map` is called, so
    /// `items` may be long or endless. Dropping the iterator stops the submissions.
    ///
    /// An item that could not be submitted yields an error: [`ReplyError::Dropped`] after a
    /// shutdown, [`ReplyError::Remote`] for an argument that cannot be encoded.
    ///
    /// # Errors
    ///
    /// [`PoolError::UnknownFunction`] and [`PoolError::TypeMismatch`] as for
    /// [`submit`](ProcessPool::submit), checked once before any item is taken.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let mut functions = Functions::new();
    /// let len = functions.register("len", |text: String| text.len() as u64);
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).build()?;
    /// let words = ["map", "in", "order"].map(String::from);
    /// let lengths: Vec<u64> = pool.map(&len, words)?.collect::<Result<_, _>>()?;
    /// assert_eq!(lengths, [3, 2, 5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<A, R, I>(
        &self,
        function: &Function<A, R>,
        items: I,
    ) -> Result<impl Iterator<Item = Result<R, ReplyError>>, PoolError>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let name = self.check(function)?;
        Ok(Ordered::new(
            items.into_iter(),
            move |item| {
                self.submit_checked(Arc::clone(&name), &item)
                    .unwrap_or_else(|error| {
                        Pending::ready(Err(match error {
                            PoolError::Encode(error) => ReplyError::Remote(format!(
                                "the argument could not be encoded: {}",
                                ErrorChain(&error)
                            )),
                            _ => ReplyError::Dropped,
                        }))
                    })
            },
            self.workers.saturating_mul(MAP_WINDOW_PER_WORKER),
        ))
    }

    /// Checks that the pool's registry has `function` with its types, and returns its name.
    ///
    /// A handle from the pool's own registry always passes; the check is for handles from
    /// another registry, which the types cannot tell apart.
    fn check<A: 'static, R: 'static>(
        &self,
        function: &Function<A, R>,
    ) -> Result<Arc<str>, PoolError> {
        let Some(registered) = self.signatures.get(function.name()) else {
            return Err(PoolError::UnknownFunction {
                name: function.name().to_owned(),
            });
        };
        let called = function.signature();
        if *registered != called {
            return Err(PoolError::TypeMismatch {
                name: function.name().to_owned(),
                registered: *registered,
                called,
            });
        }
        Ok(Arc::clone(function.shared_name()))
    }

    fn submit_checked<A, R>(
        &self,
        function: Arc<str>,
        argument: &A,
    ) -> Result<Pending<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let mut encoded = Vec::new();
        Bincode::new()
            .encode(argument, &mut encoded)
            .map_err(PoolError::Encode)?;
        let (reply, pending) = Reply::pair();
        // Relaxed: ids only have to be unique, which the increment ensures.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let task = Task::new(id, function, encoded, reply);
        // The queue is unbounded: a push waits for nothing.
        self.crew
            .push(task, Wait::Forever)
            .map_err(|_| PoolError::ShutDown)?;
        Ok(pending)
    }

    /// Stops taking calls, runs every call already queued, then closes every worker and
    /// waits for it.
    ///
    /// Calling it again, or after `kill`, only waits. Called from a completion
    /// callback (which runs on one of the pool's threads), it cannot wait for that thread and
    /// its worker, which end on their own once the queue is empty.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, PoolError, ProcessPool};
    ///
    /// let mut functions = Functions::new();
    /// let id = functions.register("id", |x: u8| x);
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).build()?;
    /// let queued = pool.submit(&id, 1)?;
    /// pool.shutdown();
    /// assert_eq!(queued.wait()?, 1);
    /// assert!(matches!(pool.submit(&id, 2), Err(PoolError::ShutDown)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self) {
        self.crew.shutdown();
    }

    /// Stops taking calls, fails every queued call and every running call with
    /// [`ReplyError::Dropped`], then closes every worker and waits for it.
    ///
    /// Unlike a thread, a worker process can be stopped in the middle of a call: its
    /// connection is cut, and the worker exits at once.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_core::ReplyError;
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let mut functions = Functions::new();
    /// let spin = functions.register("spin", |_: ()| -> u8 {
    ///     loop {
    ///         std::hint::spin_loop()
    ///     }
    /// });
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).workers(1).build()?;
    /// let endless = pool.submit(&spin, ())?;
    /// pool.kill();
    /// assert_eq!(endless.wait(), Err(ReplyError::Dropped));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) {
        // The crew cuts the connections after it has set its discarding flag, which
        // `Roster::register` relies on.
        self.crew.kill(|| self.roster.cut_all());
    }

    /// The number of workers.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let functions = Functions::new();
    /// functions.serve_if_worker();
    /// assert_eq!(ProcessPool::builder(&functions).workers(3).build()?.workers(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The process ids of the workers running now, in worker order (a snapshot: a worker that
    /// crashed and is being replaced is missing).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let functions = Functions::new();
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).workers(2).build()?;
    /// assert_eq!(pool.worker_pids().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        self.roster.pids()
    }

    /// The number of calls waiting for a worker (not counting those running), a snapshot.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let functions = Functions::new();
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).build()?;
    /// assert_eq!(pool.queued(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queued(&self) -> usize {
        self.crew.queued()
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.crew.shut_down_on_drop(|| self.roster.cut_all());
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPool")
            .field("program", &self.roster.program())
            .field("workers", &self.workers)
            .field("worker_pids", &self.worker_pids())
            .field("queued", &self.queued())
            .field("functions", &self.signatures.keys())
            .finish()
    }
}

/// Configures and starts a [`ProcessPool`].
///
/// # Examples
///
/// ```no_run
/// use actor_pool::{Functions, ProcessPool};
///
/// let mut functions = Functions::new();
/// functions.register("square", |x: u64| x * x);
/// functions.serve_if_worker();
/// let pool = ProcessPool::builder(&functions).workers(2).name_prefix("squares").build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProcessPoolBuilder<'a> {
    functions: &'a Functions,
    workers: Option<usize>,
    program: Option<PathBuf>,
    args: Vec<OsString>,
    startup_timeout: Duration,
    name_prefix: String,
}

impl ProcessPoolBuilder<'_> {
    /// Sets the number of worker processes.
    ///
    /// By default, the available parallelism ([`std::thread::available_parallelism`]), or 1
    /// when it is unknown.
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolBuilder`].
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Sets the prefix of the names of the pool's threads (one per worker): `<prefix>-<n>`.
    ///
    /// By default, `process-pool`.
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolBuilder`].
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Sets the program the workers run.
    ///
    /// It must call [`Functions::serve_if_worker`] at the start of its `main`, with a registry
    /// holding the same functions under the same names and types as this pool's.
    ///
    /// By default, the running program ([`std::env::current_exe`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let mut functions = Functions::new();
    /// functions.register("square", |x: u64| x * x);
    /// let pool = ProcessPool::builder(&functions).program("/usr/local/bin/squares").build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Sets the command-line arguments the workers are started with.
    ///
    /// By default, none.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actor_pool::{Functions, ProcessPool};
    ///
    /// let functions = Functions::new();
    /// functions.serve_if_worker();
    /// let pool = ProcessPool::builder(&functions).args(["--worker"]).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how long a worker may take to start and greet the pool.
    ///
    /// By default, 10 seconds.
    ///
    /// # Examples
    ///
    /// See [`ProcessPool::builder`].
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Starts the workers, waits until each has greeted the pool, and starts a thread for
    /// each.
    ///
    /// # Errors
    ///
    /// - [`PoolError::NoWorkers`] when zero workers were asked for.
    /// - [`PoolError::InsideWorker`] when called in a worker process.
    /// - [`PoolError::StartWorker`] when a worker could not be started or did not greet in
    ///   time (the workers already started are stopped and reaped).
    /// - [`PoolError::SpawnThread`] when a thread could not be started.
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolBuilder`].
    pub fn build(self) -> Result<ProcessPool, PoolError> {
        if std::env::var_os(WORKER_ENV).is_some() {
            return Err(PoolError::InsideWorker);
        }
        let workers = self.workers.unwrap_or_else(default_threads);
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let program = match self.program {
            Some(program) => program,
            None => std::env::current_exe().map_err(|error| PoolError::StartWorker {
                worker: 0,
                source: StartError::CurrentExe(error),
            })?,
        };
        let launch = Launch {
            program,
            args: self.args,
            startup_timeout: self.startup_timeout,
        };

        // Start every process first and then wait for the greetings, so that the workers
        // start up side by side. On error, the workers already started are dropped: killed
        // and reaped.
        let mut started = Vec::with_capacity(workers);
        for index in 0..workers {
            let worker =
                WorkerProcess::spawn(index, &launch).map_err(|source| PoolError::StartWorker {
                    worker: index,
                    source,
                })?;
            started.push(worker);
        }
        for worker in &mut started {
            let index = worker.index();
            worker
                .handshake(launch.startup_timeout)
                .map_err(|source| PoolError::StartWorker {
                    worker: index,
                    source,
                })?;
        }

        let roster = Arc::new(Roster::new(workers, launch));
        let slots = started.into_iter().map(|worker| {
            roster.register(&worker);
            Slot::new(Arc::clone(&roster), worker.index(), Some(worker))
        });
        // On error, the slots already started are shut down, and the workers not yet handed
        // to a slot are dropped: killed and reaped.
        let crew = Crew::start(self.name_prefix, None, Queue::Unbounded, slots)
            .map_err(PoolError::SpawnThread)?;
        Ok(ProcessPool {
            crew,
            roster,
            signatures: self.functions.signatures(),
            next_id: AtomicU64::new(0),
            workers,
        })
    }
}
