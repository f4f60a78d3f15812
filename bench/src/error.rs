//! [`BenchError`]: why a measurement did not produce a figure.

use std::error::Error;
use std::fmt;

/// What every measurement returns: its figures, or why there are none.
pub(crate) type BenchResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// A failed run that is not an error of a library call: bad arguments, a correctness check
/// that did not hold, a wait that ran out, a thread that panicked.
#[derive(Debug)]
pub(crate) enum BenchError {
    /// The command line names no measurement or has a bad option.
    Usage(String),
    /// A correctness check failed: the run produced no valid number.
    Check(String),
    /// Nothing arrived within [`WAIT_LIMIT`](crate::wait::WAIT_LIMIT).
    Timeout(&'static str),
    /// A helper thread panicked or a channel to it closed early.
    Thread(&'static str),
    /// The serving process of a remote workload (W4, W5) failed or misbehaved.
    Peer(String),
}

impl BenchError {
    /// A failed correctness check, boxed for `?`.
    pub(crate) fn check(what: impl Into<String>) -> Box<dyn Error + Send + Sync> {
        Box::new(BenchError::Check(what.into()))
    }

    /// A failure of the serving process, boxed for `?`.
    pub(crate) fn peer(what: impl Into<String>) -> Box<dyn Error + Send + Sync> {
        Box::new(BenchError::Peer(what.into()))
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Usage(what) => write!(f, "usage: {what}"),
            BenchError::Check(what) => write!(f, "correctness check failed: {what}"),
            BenchError::Timeout(what) => write!(f, "timed out waiting for {what}"),
            BenchError::Thread(what) => write!(f, "{what} ended early (panicked or disconnected)"),
            BenchError::Peer(what) => write!(f, "the serving process {what}"),
        }
    }
}

impl Error for BenchError {}
