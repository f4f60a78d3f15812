//! Bounded waits: every wait of a measurement ends, so a bug fails the run instead of
//! hanging the driver.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::{BenchError, BenchResult};

/// The longest any single wait may take. Runs are meant to take seconds, so reaching it means
/// a lost message or a stuck thread, not a slow machine.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(120);

/// Receives one value from `rx` within [`WAIT_LIMIT`]; `what` names it in the error.
pub(crate) fn recv<T>(rx: &Receiver<T>, what: &'static str) -> BenchResult<T> {
    match rx.recv_timeout(WAIT_LIMIT) {
        Ok(value) => Ok(value),
        Err(RecvTimeoutError::Timeout) => Err(Box::new(BenchError::Timeout(what))),
        Err(RecvTimeoutError::Disconnected) => Err(Box::new(BenchError::Thread(what))),
    }
}

/// Receives `count` values from `rx`, each within [`WAIT_LIMIT`].
pub(crate) fn recv_all<T>(
    rx: &Receiver<T>,
    count: usize,
    what: &'static str,
) -> BenchResult<Vec<T>> {
    (0..count).map(|_| recv(rx, what)).collect()
}

/// Joins a helper thread, turning its panic into an error.
pub(crate) fn join<T>(handle: std::thread::JoinHandle<T>, what: &'static str) -> BenchResult<T> {
    handle
        .join()
        .map_err(|_| Box::new(BenchError::Thread(what)).into())
}

/// Joins every helper thread, even after one has panicked; reports the first panic.
pub(crate) fn join_all(
    handles: impl IntoIterator<Item = std::thread::JoinHandle<()>>,
    what: &'static str,
) -> BenchResult<()> {
    let mut first = Ok(());
    for handle in handles {
        let joined = join(handle, what);
        if first.is_ok() {
            first = joined;
        }
    }
    first
}
