//! [`Roster`]: which worker process runs in each slot of a process pool, and how to start one.

use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;

use parking_lot::Mutex;

use super::worker::{Launch, WorkerProcess};
use crate::error::StartError;

/// The running worker of each slot, for `worker_pids` and for `kill` to cut; and how
/// workers are started.
#[derive(Debug)]
pub(crate) struct Roster {
    slots: Mutex<Vec<Option<Running>>>,
    launch: Launch,
}

/// What the pool keeps of a running worker besides its slot thread.
#[derive(Debug)]
struct Running {
    pid: u32,
    /// A second handle on the connection; shutting it down ends the call under way.
    connection: UnixStream,
}

impl Roster {
    /// A roster of `slots` empty slots, whose workers are started as `launch` says.
    pub(crate) fn new(slots: usize, launch: Launch) -> Roster {
        Roster {
            slots: Mutex::new((0..slots).map(|_| None).collect()),
            launch,
        }
    }

    /// The program the workers run.
    pub(crate) fn program(&self) -> &Path {
        &self.launch.program
    }

    /// Starts a worker for slot `index` and records it.
    pub(crate) fn start(&self, index: usize) -> Result<WorkerProcess, StartError> {
        let worker = WorkerProcess::start(index, &self.launch)?;
        self.register(&worker);
        Ok(worker)
    }

    /// Records a running worker.
    ///
    /// `kill` sets the crew's `discarding` flag and then cuts every recorded
    /// connection ([`cut_all`](Roster::cut_all)), under the `slots` lock; a slot thread
    /// records its new worker under that lock and then checks the flag before each call. The
    /// lock orders the two: either the cut finds the worker, or the check (even a relaxed
    /// load) sees the flag.
    pub(crate) fn register(&self, worker: &WorkerProcess) {
        let running = match worker.connection_handle() {
            Ok(connection) => Some(Running {
                pid: worker.pid(),
                connection,
            }),
            Err(error) => {
                // Only `kill` needs the handle, and it then waits for the running
                // call instead of cutting it.
                tracing::warn!(%error, "could not keep a handle on a worker's connection");
                None
            }
        };
        if let Some(slot) = self.slots.lock().get_mut(worker.index()) {
            *slot = running;
        }
    }

    /// Forgets the worker of slot `index`.
    pub(crate) fn unregister(&self, index: usize) {
        if let Some(slot) = self.slots.lock().get_mut(index) {
            *slot = None;
        }
    }

    /// Cuts the connection of every recorded worker, so that the calls under way end.
    pub(crate) fn cut_all(&self) {
        for running in self.slots.lock().iter().flatten() {
            let _ = running.connection.shutdown(Shutdown::Both);
        }
    }

    /// The process ids of the recorded workers, in slot order.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.slots
            .lock()
            .iter()
            .flatten()
            .map(|running| running.pid)
            .collect()
    }
}
