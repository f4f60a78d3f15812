//! [`Slot`]: what the thread that drives one worker process keeps, and how it runs a task:
//! call the worker, deliver the answer, replace the worker when it crashes.

use std::sync::Arc;
use std::time::Duration;

use actor_core::codec::FrameError;
use actor_core::{ErrorChain, ReplyError};

use super::roster::Roster;
use super::task::Task;
use super::worker::{CallError, WorkerProcess};
use crate::crew::{Crew, Hand, Item};
use crate::error::{ProtocolError, status_text};

/// The hand of a process pool's thread: the slot it drives, and the slot's worker process
/// (`None` until one is started, or after one crashed and could not be replaced).
pub(crate) struct Slot {
    roster: Arc<Roster>,
    index: usize,
    worker: Option<WorkerProcess>,
}

impl Slot {
    /// Slot `index`, with its worker already started (and registered), or `None`: the thread
    /// starts one when the first task comes.
    pub(crate) fn new(roster: Arc<Roster>, index: usize, worker: Option<WorkerProcess>) -> Slot {
        Slot {
            roster,
            index,
            worker,
        }
    }

    /// Runs `task` on the slot's worker, starting or replacing the worker as needed.
    fn run(&mut self, task: Task, crew: &Crew<Task>) {
        let index = self.index;
        // A call that could not even be written never reached the worker, which must have died
        // while idle: the task is given once more to a fresh worker rather than failed.
        let mut may_retry = true;
        loop {
            let worker = match &mut self.worker {
                Some(worker) => worker,
                None => match self.roster.start(index) {
                    Ok(worker) => self.worker.insert(worker),
                    Err(error) => {
                        task.fail(ReplyError::Crashed(format!(
                            "worker {index} could not be restarted: {}",
                            ErrorChain(&error)
                        )));
                        return;
                    }
                },
            };
            // Checked again here because a worker started just now was not there for
            // `kill` to cut (see `Roster::register`).
            if crew.is_discarding() {
                task.fail(ReplyError::Dropped);
                return;
            }
            let error = match worker.call(task.id, &task.function, &task.argument) {
                Ok((outcome, result)) => {
                    task.finish(index, outcome, result);
                    return;
                }
                Err(error) => error,
            };
            let mut broken = self
                .worker
                .take()
                .expect("invariant: the slot holds the worker that was just called");
            self.roster.unregister(index);
            let status = broken.kill_and_reap();
            let discarding = crew.is_discarding();
            match error {
                CallError::NotSent(error) if may_retry && !discarding => {
                    tracing::warn!(
                        worker = index,
                        pid = broken.pid(),
                        status = status_text(status.as_ref()),
                        error = %ErrorChain(&error),
                        "worker gone before a call; retrying the call on a new worker"
                    );
                    may_retry = false;
                }
                CallError::NotSent(error) | CallError::Broke(error) => {
                    if discarding {
                        // `kill` cut the connection: the task was discarded, not crashed.
                        task.fail(ReplyError::Dropped);
                        return;
                    }
                    let how = if died(&error) {
                        format!("ended ({})", status_text(status.as_ref()))
                    } else {
                        format!(
                            "broke the protocol ({}) and was stopped",
                            ErrorChain(&error)
                        )
                    };
                    tracing::warn!(worker = index, pid = broken.pid(), %how, "worker crashed");
                    let crashed = format!(
                        "worker {index} (pid {}) {how} while running {:?}",
                        broken.pid(),
                        task.function
                    );
                    task.fail(ReplyError::Crashed(crashed));
                    // Replace it now, so that the next task finds a worker ready.
                    match self.roster.start(index) {
                        Ok(worker) => self.worker = Some(worker),
                        Err(error) => tracing::error!(
                            worker = index,
                            error = %ErrorChain(&error),
                            "could not replace a crashed worker; trying again with the next task"
                        ),
                    }
                    return;
                }
            }
        }
    }
}

impl Item for Task {
    type Hand = Slot;

    /// A caller that waits for each result before it submits again gets the result from this
    /// thread and submits the next call a microsecond or so later. Caught by the thread that
    /// just finished, the call goes to the same worker, whose process is still warm, and
    /// waits for no thread to wake up; slept through, it waits for an idle thread (the one
    /// that has slept longest) to wake and then for that thread's worker. Measured on
    /// `actor-bench micro process-pool` (2 workers, 2 cores): about 23 µs a call without
    /// lingering, 18.5 with 2 µs (the raw round trip to a child process is 14); 1 or 3 µs
    /// did no better. (The thread pool, whose tasks take well under a microsecond, got
    /// slower with the same lingering: it is the process pool's alone.)
    const LINGER: Duration = Duration::from_micros(2);

    fn run(self, slot: &mut Slot, crew: &Crew<Task>) {
        slot.run(self, crew);
    }

    /// Drops the task, which fails its `Pending` with `ReplyError::Dropped`.
    fn discard(self) {}
}

impl Hand for Slot {
    /// Closes the worker and waits for it.
    fn finish(self) {
        if let Some(worker) = self.worker {
            self.roster.unregister(self.index);
            worker.close();
        }
    }

    /// Kills and reaps the worker (which may be in the middle of a call) and takes it out of
    /// the roster; the replacement thread starts a worker when its first task comes.
    fn replacement(&mut self) -> Slot {
        drop(self.worker.take());
        self.roster.unregister(self.index);
        tracing::error!(
            worker = self.index,
            "stopped the worker of a process pool thread that panicked"
        );
        Slot::new(Arc::clone(&self.roster), self.index, None)
    }
}

/// Whether a call broke because the worker's end of the connection closed (the worker died,
/// and its exit status says how), rather than because the worker sent something invalid.
fn died(error: &ProtocolError) -> bool {
    matches!(
        error,
        ProtocolError::Ended
            | ProtocolError::Frame(
                FrameError::Io(_)
                    | FrameError::TruncatedHeader { .. }
                    | FrameError::TruncatedPayload { .. }
            )
    )
}
