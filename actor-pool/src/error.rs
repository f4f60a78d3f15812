//! The error types of the pools.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use actor_core::codec::{CodecError, FrameError};

#[cfg(unix)]
use crate::process_pool::signature::Signature;

/// A pool could not be built, or a process pool refused a call.
///
/// # Examples
///
/// ```
/// use actor_pool::{PoolError, ThreadPool};
///
/// let err = ThreadPool::builder().threads(0).build().unwrap_err();
/// assert!(matches!(err, PoolError::NoWorkers));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The pool was asked for zero threads or zero worker processes.
    #[error("a pool needs at least one thread or worker")]
    NoWorkers,
    /// The operating system refused to start one of the pool's threads.
    #[error("could not start a pool thread: {0}")]
    SpawnThread(#[source] io::Error),
    /// One of a process pool's worker processes could not be started.
    #[error("could not start worker process {worker}: {source}")]
    StartWorker {
        /// The worker's number within the pool.
        worker: usize,
        /// Why it could not be started.
        #[source]
        source: StartError,
    },
    /// A process pool was built inside a worker process.
    ///
    /// A worker never starts workers of its own: this is what keeps a program that forgot to
    /// call [`Functions::serve_if_worker`](crate::Functions::serve_if_worker) from starting
    /// workers that start workers.
    #[error(
        "this process is a pool worker, and workers start no process pools \
         (does main call Functions::serve_if_worker first?)"
    )]
    InsideWorker,
    /// The pool has been shut down and takes no more work.
    #[error("the pool is shut down")]
    ShutDown,
    /// A process pool was called with the handle of a function that its registry does not
    /// have: the handle comes from another [`Functions`](crate::Functions) registry.
    #[error("the pool's registry has no function named {name:?}")]
    UnknownFunction {
        /// The name of the function called.
        name: String,
    },
    /// A process pool was called with the handle of a function that its registry has under
    /// the same name but with other argument or result types: the handle comes from another
    /// [`Functions`](crate::Functions) registry.
    ///
    /// Unix only, as the process pool that reports it: on other targets the variant does not
    /// exist, so a `match` that names it needs `#[cfg(unix)]` too (`PoolError` is
    /// `#[non_exhaustive]`, so a wildcard arm covers it everywhere).
    #[cfg(unix)]
    #[error(
        "function {name:?} is registered as {registered} in the pool's registry, but was called as {called}"
    )]
    TypeMismatch {
        /// The function's name.
        name: String,
        /// The types it was registered with.
        registered: Signature,
        /// The types it was called with.
        called: Signature,
    },
    /// The arguments of a call could not be encoded (for instance they exceed the codec's
    /// limit).
    #[error("the arguments could not be encoded: {0}")]
    Encode(#[source] CodecError),
}

/// Why a worker process could not be started.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_pool::StartError;
///
/// let err = StartError::Timeout(Duration::from_secs(10));
/// assert!(err.to_string().contains("serve_if_worker"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The path of the running program, the default worker program, is unknown.
    #[error("could not locate the current executable: {0}")]
    CurrentExe(#[source] io::Error),
    /// The pipe to the worker could not be created, or the program could not be run.
    #[error("could not run {program:?}: {source}")]
    Spawn {
        /// The program that was to be run.
        program: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The process ended before it said it was ready.
    #[error(
        "the process ended before it was ready ({}); \
         does its main call Functions::serve_if_worker first?",
        status_text(.status.as_ref())
    )]
    Exited {
        /// How it ended; `None` if that cannot be known (the program lets the system reap
        /// its children).
        status: Option<ExitStatus>,
    },
    /// The process did not say it was ready within the startup timeout.
    #[error(
        "the process was not ready within {0:?}; \
         does its main call Functions::serve_if_worker first?"
    )]
    Timeout(Duration),
    /// The process answered, but not as a worker does.
    #[error("the process did not greet as a worker: {0}")]
    Handshake(#[source] ProtocolError),
}

/// How a process ended, for messages: `exit status: 3`, `signal: 6 (SIGABRT)`.
pub(crate) fn status_text(status: Option<&ExitStatus>) -> String {
    status.map_or_else(|| "status unknown".to_string(), ExitStatus::to_string)
}

/// A worker process sent bytes that break the pool's protocol.
///
/// A pool never trusts what a worker sends: every frame's length is bounded and every message
/// is decoded into a typed value. A worker that breaks the protocol is stopped and replaced,
/// and the task it was running fails with [`ReplyError::Crashed`](actor_core::ReplyError).
///
/// # Examples
///
/// ```
/// use actor_pool::ProtocolError;
///
/// let err = ProtocolError::Version { found: 7, expected: 1 };
/// assert_eq!(err.to_string(), "the worker speaks protocol version 7, this pool version 1");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame could not be read or written.
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    /// A frame's payload is not a valid message.
    #[error("bad message: {0}")]
    Codec(#[from] CodecError),
    /// The stream ended where a message was due.
    #[error("the stream ended where a message was due")]
    Ended,
    /// The worker speaks another version of the protocol.
    #[error("the worker speaks protocol version {found}, this pool version {expected}")]
    Version {
        /// The worker's version.
        found: u32,
        /// The pool's version.
        expected: u32,
    },
    /// A message came that has no place at this point of the conversation.
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    /// An answer names another task than the one the worker was given.
    #[error("answer for task {found}, but the worker was running task {expected}")]
    WrongTask {
        /// The task the worker was given.
        expected: u64,
        /// The task the answer names.
        found: u64,
    },
}

/// A task could not be queued on a [`ThreadPool`](crate::ThreadPool); the task is given back.
///
/// # Examples
///
/// ```
/// use actor_pool::{Queue, SubmitError, ThreadPool};
///
/// let pool = ThreadPool::builder().threads(1).queue(Queue::Bounded(1)).build()?;
/// pool.shutdown();
/// match pool.try_submit(|| 1 + 1) {
///     Err(SubmitError::ShutDown(task)) => assert_eq!(task(), 2),
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
#[non_exhaustive]
pub enum SubmitError<F> {
    /// The pool is shut down or shutting down; it takes no more tasks.
    ShutDown(F),
    /// The bounded queue is full.
    Full(F),
    /// The bounded queue stayed full until the timeout passed.
    Timeout(F),
}

impl<F> SubmitError<F> {
    /// Gives back the task that was not queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = actor_pool::SubmitError::Full(5);
    /// assert_eq!(err.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> F {
        match self {
            SubmitError::ShutDown(task) | SubmitError::Full(task) | SubmitError::Timeout(task) => {
                task
            }
        }
    }

    /// Returns `true` when the pool takes no more tasks (as opposed to a full queue).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actor_pool::SubmitError::ShutDown(()).is_shut_down());
    /// assert!(!actor_pool::SubmitError::Full(()).is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, SubmitError::ShutDown(_))
    }

    pub(crate) fn map<G>(self, f: impl FnOnce(F) -> G) -> SubmitError<G> {
        match self {
            SubmitError::ShutDown(task) => SubmitError::ShutDown(f(task)),
            SubmitError::Full(task) => SubmitError::Full(f(task)),
            SubmitError::Timeout(task) => SubmitError::Timeout(f(task)),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            SubmitError::ShutDown(_) => "the pool is shut down",
            SubmitError::Full(_) => "the queue is full",
            SubmitError::Timeout(_) => "timed out waiting for room in the queue",
        }
    }
}

// Like crossbeam's errors, these do not require `F: Debug`: closures never are.
impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SubmitError::ShutDown(_) => "ShutDown",
            SubmitError::Full(_) => "Full",
            SubmitError::Timeout(_) => "Timeout",
        };
        write!(f, "{name}(..)")
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task not queued: {}", self.describe())
    }
}

impl<F> std::error::Error for SubmitError<F> {}

#[cfg(test)]
mod tests {
    use super::*;
    use actor_core::ErrorChain;

    #[test]
    fn error_chain_joins_sources() {
        let error = PoolError::StartWorker {
            worker: 2,
            source: StartError::Timeout(Duration::from_secs(1)),
        };
        let text = ErrorChain(&error).to_string();
        assert!(text.starts_with("could not start worker process 2: the process was not ready"));
    }

    #[test]
    fn submit_errors_show_no_task() {
        let error = SubmitError::Full(|| ());
        assert_eq!(format!("{error:?}"), "Full(..)");
        assert_eq!(error.to_string(), "task not queued: the queue is full");
    }
}
