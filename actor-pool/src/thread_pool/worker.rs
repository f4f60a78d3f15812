//! The loop each thread of a [`ThreadPool`](crate::ThreadPool) runs, and its guard.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;

use actor_core::panic_message;

use super::Shared;
use super::job::Job;

/// Starts one more pool thread.
pub(super) fn spawn(shared: &Arc<Shared>) -> std::io::Result<()> {
    // Counted before the thread starts, so that a thread replacing another is counted before
    // the one it replaces leaves (see `Guard`). AcqRel pairs with the decrement in `Guard`.
    shared.live.fetch_add(1, Ordering::AcqRel);
    let for_thread = Arc::clone(shared);
    let spawned = shared.crew.spawn(move || {
        let guard = Guard {
            shared: Arc::clone(&for_thread),
        };
        work(&for_thread);
        drop(guard);
    });
    if spawned.is_err() {
        shared.live.fetch_sub(1, Ordering::AcqRel);
    }
    spawned
}

/// Runs queued jobs until the queue is closed and empty.
fn work(shared: &Shared) {
    while let Ok(job) = shared.receiver.recv() {
        // Relaxed: a hint. A thread that misses the flag runs a job it had already taken off
        // the queue, which `shutdown_now` allows (it fails only what is still queued).
        if shared.discarding.load(Ordering::Relaxed) {
            discard(job);
            continue;
        }
        // A submitted job catches its own panic and hands it to its `Pending`; this catch is
        // for jobs queued with `execute`, which have nobody to hand it to.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job.run())) {
            let message = panic_message(payload.as_ref());
            tracing::error!(pool = shared.crew.prefix(), %message, "a pool task panicked");
        }
    }
}

/// Drops a job that will not run, failing its `Pending` with `ReplyError::Dropped`.
pub(super) fn discard(job: Box<dyn Job>) {
    // Dropping runs the drop code of whatever the closure captured; a panic there must not
    // take a pool thread (or the caller of `shutdown_now`) down with it.
    if catch_unwind(AssertUnwindSafe(|| drop(job))).is_err() {
        tracing::error!("dropping a discarded pool task panicked");
    }
}

/// Keeps the pool whole when a pool thread ends.
///
/// If the thread is unwinding (a panic outside any task: task panics are caught), a
/// replacement is started so that the pool keeps its size. The last thread to leave fails
/// whatever is still queued, so that no `Pending` waits for a task that no thread will run.
struct Guard {
    shared: Arc<Shared>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if thread::panicking() {
            tracing::error!(pool = self.shared.crew.prefix(), "a pool thread panicked");
            if let Err(error) = spawn(&self.shared) {
                tracing::error!(%error, "could not replace a pool thread");
            }
        }
        // AcqRel pairs with the increment in `spawn`: the last one out sees every thread that
        // was started.
        if self.shared.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            while let Ok(job) = self.shared.receiver.try_recv() {
                discard(job);
            }
        }
    }
}
