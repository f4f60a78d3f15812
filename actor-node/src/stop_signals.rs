//! [`StopSignals`]: the signals that ask `serve` to stop, caught so that it can stop cleanly.

use std::io;

/// SIGTERM and SIGINT, caught from [`catch`](Self::catch) on: instead of killing the process,
/// they end [`wait`](Self::wait).
///
/// Only Unix has these signals; elsewhere `wait` never returns and Ctrl-C ends the process as
/// it always has.
#[derive(Debug)]
pub(crate) struct StopSignals {
    #[cfg(unix)]
    signals: signal_hook::iterator::Signals,
}

#[cfg(unix)]
impl StopSignals {
    /// Starts catching SIGTERM and SIGINT.
    pub(crate) fn catch() -> io::Result<StopSignals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        Ok(StopSignals { signals })
    }

    /// Blocks until one of the signals arrives, and returns its name.
    pub(crate) fn wait(&mut self) -> &'static str {
        use signal_hook::consts::{SIGINT, SIGTERM};
        // The iterator ends only if the signals are closed, which nothing here does.
        match self.signals.forever().next() {
            Some(SIGTERM) => "SIGTERM",
            Some(SIGINT) => "SIGINT",
            Some(_) | None => "another signal",
        }
    }
}

#[cfg(not(unix))]
impl StopSignals {
    /// Nothing to catch here.
    pub(crate) fn catch() -> io::Result<StopSignals> {
        Ok(StopSignals {})
    }

    /// Never returns: without the signals, the process is stopped from outside.
    pub(crate) fn wait(&mut self) -> &'static str {
        loop {
            std::thread::park();
        }
    }
}
