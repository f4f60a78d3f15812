//! The thread that drives one worker process: take a task, call the worker, deliver the
//! answer; replace the worker when it crashes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;

use actor_core::codec::FrameError;
use actor_core::{ErrorChain, ReplyError};

use super::Shared;
use super::task::Task;
use super::worker::{CallError, WorkerProcess};
use crate::error::{ProtocolError, status_text};

/// Starts the thread that drives worker slot `index`, with the worker already started (and
/// registered) for it, or `None`: the thread starts one when the first task comes.
pub(super) fn spawn(
    shared: &Arc<Shared>,
    index: usize,
    worker: Option<WorkerProcess>,
) -> std::io::Result<()> {
    // AcqRel pairs with the decrement in `Guard`; counted before the thread starts so that a
    // replacement is counted before the thread it replaces leaves.
    shared.live.fetch_add(1, Ordering::AcqRel);
    let for_thread = Arc::clone(shared);
    let spawned = shared.crew.spawn(move || {
        let guard = Guard {
            shared: Arc::clone(&for_thread),
            index,
        };
        work(&for_thread, index, worker);
        drop(guard);
    });
    if spawned.is_err() {
        shared.live.fetch_sub(1, Ordering::AcqRel);
    }
    spawned
}

/// Runs tasks until the queue is closed and empty, then closes the worker.
fn work(shared: &Shared, index: usize, mut worker: Option<WorkerProcess>) {
    while let Ok(task) = shared.receiver.recv() {
        // Relaxed: a hint, as in the thread pool; `shutdown_now` drains the queue itself.
        if shared.discarding.load(Ordering::Relaxed) {
            drop(task);
            continue;
        }
        run(shared, index, &mut worker, task);
    }
    if let Some(worker) = worker {
        shared.unregister(index);
        worker.close();
    }
}

/// Runs `task` on the slot's worker, starting or replacing the worker as needed.
fn run(shared: &Shared, index: usize, slot: &mut Option<WorkerProcess>, task: Task) {
    // A call that could not even be written never reached the worker, which must have died
    // while idle: the task is given once more to a fresh worker rather than failed.
    let mut may_retry = true;
    loop {
        let worker = match slot {
            Some(worker) => worker,
            None => match shared.start(index) {
                Ok(worker) => slot.insert(worker),
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
        // `shutdown_now` to cut (see `Shared::register`).
        if shared.discarding.load(Ordering::Relaxed) {
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
        let mut broken = slot
            .take()
            .expect("invariant: the slot holds the worker that was just called");
        shared.unregister(index);
        let status = broken.kill_and_reap();
        let discarding = shared.discarding.load(Ordering::Relaxed);
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
                    // `shutdown_now` cut the connection: the task was discarded, not crashed.
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
                match shared.start(index) {
                    Ok(worker) => *slot = Some(worker),
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

/// Keeps the pool whole when a slot thread ends.
///
/// A slot thread that panics (a bug: tasks run in other processes) has its worker killed and
/// reaped by the worker's own drop during the unwinding; the guard takes the slot out of the
/// registry and starts a replacement thread, which starts a worker when its first task comes.
/// The last thread to leave fails whatever is still queued, so that no `Pending` waits for a
/// task that no thread will run.
struct Guard {
    shared: Arc<Shared>,
    index: usize,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if thread::panicking() {
            self.shared.unregister(self.index);
            tracing::error!(worker = self.index, "a process pool thread panicked");
            if let Err(error) = spawn(&self.shared, self.index, None) {
                tracing::error!(%error, "could not replace a process pool thread");
            }
        }
        // AcqRel pairs with the increment in `spawn`.
        if self.shared.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            while let Ok(task) = self.shared.receiver.try_recv() {
                drop(task);
            }
        }
    }
}
