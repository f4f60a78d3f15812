//! [`Pool`]: a fixed number of threads, started with the server, that take the admitted
//! connections from one channel, one at a time each.
//!
//! The listener hands a connection over only while fewer than `max_connections` (the number
//! of threads) are handled, so a connection never waits in the channel for long: at most
//! until a thread that just finished one comes back for the next. Stopping closes the
//! channel; each thread ends after its current connection, and is joined.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::super::connection::{Job, Serve};

/// The pool's threads and the channel that feeds them.
#[derive(Debug)]
pub(in super::super) struct Pool {
    name: Arc<str>,
    /// `None` once stopping.
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `threads` threads (at least 1).
    ///
    /// # Errors
    ///
    /// When a thread cannot start; those started are joined first.
    pub(super) fn start(
        serve: Arc<Serve>,
        threads: usize,
        stack_size: Option<usize>,
    ) -> io::Result<Pool> {
        let (jobs, queue) = crossbeam_channel::unbounded();
        // From here on, dropping `pool` on an error stops and joins what was started.
        let mut pool = Pool {
            name: Arc::clone(&serve.name),
            jobs: Some(jobs),
            threads: Vec::with_capacity(threads),
        };
        for n in 0..threads.max(1) {
            let mut builder = std::thread::Builder::new().name(format!("{}-{n}", serve.name));
            if let Some(bytes) = stack_size {
                builder = builder.stack_size(bytes);
            }
            let serve = Arc::clone(&serve);
            let queue = queue.clone();
            pool.threads
                .push(builder.spawn(move || work(&serve, &queue))?);
        }
        Ok(pool)
    }

    /// Queues `job` for the next free thread.
    pub(super) fn run(&mut self, job: Job) {
        let Some(jobs) = &self.jobs else {
            return;
        };
        // Fails only if every thread has ended, which only stopping does; the job dropped
        // closes its connection.
        if let Err(lost) = jobs.send(job) {
            let peer = lost.0.peer;
            tracing::warn!(%peer, server = %self.name, "no pool thread for a connection");
        }
    }

    /// Closes the channel and joins every thread.
    pub(super) fn stop(&mut self) {
        self.jobs = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A pool thread: runs the connections it is given until the channel closes.
fn work(serve: &Serve, queue: &Receiver<Job>) {
    for job in queue {
        job.run(serve);
    }
}
