//! Bounded waits: every wait of a measurement ends, so a bug fails the run instead of
//! hanging the driver.

use std::net::{Shutdown, TcpStream};
use std::process::{Child, ExitStatus};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

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

/// [`join`] for a scoped thread.
pub(crate) fn join_scoped<T>(
    handle: thread::ScopedJoinHandle<'_, T>,
    what: &'static str,
) -> BenchResult<T> {
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

/// How often [`exit`] polls a child: std has no wait with a timeout on a child.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// Waits up to `limit` for `child` to exit and returns how it ended; kills and reaps it when
/// the time runs out, and then fails with a [`BenchError::Timeout`] naming `what`. Calling it
/// again on a reaped child returns the same status.
pub(crate) fn exit(
    child: &mut Child,
    limit: Duration,
    what: &'static str,
) -> BenchResult<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Err(Box::new(BenchError::Timeout(what)));
        }
        thread::sleep(EXIT_POLL);
    }
}

/// Shuts a socket down unless disarmed within [`WAIT_LIMIT`], so that a whole phase of
/// blocking socket i/o is bounded: a socket timeout bounds each call only, and a send to a
/// stalled peer that moves a few bytes now and then never runs into it.
#[derive(Debug)]
pub(crate) struct Watchdog {
    /// Dropping it disarms the watchdog.
    disarm: Option<Sender<()>>,
    /// Returns whether the watchdog fired.
    thread: Option<JoinHandle<bool>>,
}

impl Watchdog {
    /// Starts watching `socket` (a clone of the stream the phase uses).
    pub(crate) fn arm(socket: TcpStream) -> BenchResult<Watchdog> {
        let (disarm, disarmed) = crossbeam_channel::bounded::<()>(0);
        let thread =
            thread::Builder::new()
                .name("watchdog".into())
                .spawn(move || match disarmed.recv_timeout(WAIT_LIMIT) {
                    Err(RecvTimeoutError::Timeout) => {
                        // Fails the blocked call at once, and every later one.
                        let _ = socket.shutdown(Shutdown::Both);
                        true
                    }
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => false,
                })?;
        Ok(Watchdog {
            disarm: Some(disarm),
            thread: Some(thread),
        })
    }

    /// Ends the watch; a [`BenchError::Timeout`] naming `what` if the watchdog fired.
    pub(crate) fn disarm(mut self, what: &'static str) -> BenchResult<()> {
        if self.stop()? {
            Err(Box::new(BenchError::Timeout(what)))
        } else {
            Ok(())
        }
    }

    fn stop(&mut self) -> BenchResult<bool> {
        drop(self.disarm.take());
        match self.thread.take() {
            Some(thread) => join(thread, "the watchdog"),
            None => Ok(false),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // On an early return or a panic: the thread still ends at once and is joined.
        let _ = self.stop();
    }
}
