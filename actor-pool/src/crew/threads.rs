//! [`Threads`]: the named threads of one crew, and the one place that joins them.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};

use parking_lot::Mutex;

/// Starts a pool's threads under the names `<prefix>-<n>` and joins them all at shutdown.
///
/// Threads may be added while a join is under way (a pool replaces a thread that died of a
/// panic), so [`join`](Threads::join) takes the handles in batches until none are left, never
/// holding the list's lock while it waits for a thread.
pub(crate) struct Threads {
    prefix: String,
    stack_size: Option<usize>,
    next_number: AtomicUsize,
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Held for a whole join, so that a second caller returns only once the first has joined
    /// everything.
    joining: Mutex<()>,
}

impl Threads {
    pub(crate) fn new(prefix: String, stack_size: Option<usize>) -> Threads {
        Threads {
            prefix,
            stack_size,
            next_number: AtomicUsize::new(0),
            handles: Mutex::new(Vec::new()),
            joining: Mutex::new(()),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Starts a thread named `<prefix>-<n>`, `n` counting every thread started here.
    pub(crate) fn spawn(&self, body: impl FnOnce() + Send + 'static) -> io::Result<()> {
        // Relaxed: the number only has to be unique, which the atomic increment ensures.
        let number = self.next_number.fetch_add(1, Ordering::Relaxed);
        let mut builder = thread::Builder::new().name(format!("{}-{number}", self.prefix));
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let handle = builder.spawn(body)?;
        self.handles.lock().push(handle);
        Ok(())
    }

    /// Waits until every thread started here has ended.
    ///
    /// Called from one of these threads, it cannot wait for that thread: it waits for
    /// the others and lets the calling thread end on its own when its work runs out.
    pub(crate) fn join(&self) {
        let _one_join_at_a_time = self.joining.lock();
        let me = thread::current().id();
        loop {
            let batch = std::mem::take(&mut *self.handles.lock());
            if batch.is_empty() {
                return;
            }
            for handle in batch {
                if handle.thread().id() == me {
                    continue;
                }
                // A thread that ended in a panic has already been replaced and logged by the
                // crew's guard; there is nothing more to do with the panic here.
                let _ = handle.join();
            }
        }
    }
}

impl std::fmt::Debug for Threads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Threads")
            .field("prefix", &self.prefix)
            .field("threads", &self.handles.lock().len())
            .finish()
    }
}
