//! [`PerConnection`]: a thread started for each connection and joined when it ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::super::connection::{Job, Serve};

/// The threads of the live connections, by connection id.
#[derive(Debug)]
pub(in super::super) struct PerConnection {
    serve: Arc<Serve>,
    stack_size: Option<usize>,
    threads: HashMap<u64, JoinHandle<()>>,
}

impl PerConnection {
    pub(super) fn new(serve: Arc<Serve>, stack_size: Option<usize>) -> PerConnection {
        PerConnection {
            serve,
            stack_size,
            threads: HashMap::new(),
        }
    }

    /// Runs `job` on a new thread.
    pub(super) fn run(&mut self, id: u64, job: Job) {
        let serve = Arc::clone(&self.serve);
        let peer = job.peer;
        let mut builder = std::thread::Builder::new().name(self.serve.name.to_string());
        if let Some(bytes) = self.stack_size {
            builder = builder.stack_size(bytes);
        }
        // On failure the closure, and the job in it, is dropped: the listener hears that the
        // connection ended.
        match builder.spawn(move || job.run(&serve)) {
            Ok(thread) => {
                self.threads.insert(id, thread);
            }
            Err(error) => {
                tracing::warn!(%peer, server = %self.serve.name, %error, "no thread for a connection");
            }
        }
    }

    /// Joins the thread of connection `id`, whose last act was to say it ended: the join is
    /// short.
    pub(super) fn finished(&mut self, id: u64) {
        if let Some(thread) = self.threads.remove(&id) {
            let _ = thread.join();
        }
    }

    /// Joins every thread.
    pub(super) fn stop(&mut self) {
        for (_, thread) in self.threads.drain() {
            let _ = thread.join();
        }
    }
}
