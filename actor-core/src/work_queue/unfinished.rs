//! [`Unfinished`]: the count of items put and not yet done, and the wait for it to reach 0.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// Items put and not yet done; `join` waits until there are none.
///
/// The count is an atomic, so that a put and a done cost one atomic operation each; the
/// lock is taken only by waiters and by the done that brings the count to 0. A waiter checks
/// the count under the lock and sleeps in the same step, and that done notifies under the
/// lock, so the wake-up cannot fall between the check and the sleep.
#[derive(Debug, Default)]
pub(super) struct Unfinished {
    count: AtomicUsize,
    lock: Mutex<()>,
    all_done: Condvar,
}

impl Unfinished {
    /// One more item is on its way in (counted before it can be taken, so that its done
    /// never comes first).
    pub(super) fn add(&self) {
        // Relaxed: the item travels to its consumer through the queue, which orders this
        // before the consumer's `done`.
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// One item is done (or was never queued after all).
    pub(super) fn done(&self) {
        // Release pairs with the Acquire in `wait`: what the consumer did with the item
        // happens before `join` returns.
        if self.count.fetch_sub(1, Ordering::Release) == 1 {
            let _lock = self.lock.lock();
            self.all_done.notify_all();
        }
    }

    pub(super) fn get(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits until the count is 0, until `deadline` at most; `false` when it was not.
    pub(super) fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut lock = self.lock.lock();
        while self.get() != 0 {
            match deadline {
                None => self.all_done.wait(&mut lock),
                Some(deadline) => {
                    if self.all_done.wait_until(&mut lock, deadline).timed_out() {
                        return self.get() == 0;
                    }
                }
            }
        }
        true
    }
}
