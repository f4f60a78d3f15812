//! [`Snapshot`]: a list read on every publish and replaced on every attach or detach.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;

/// A value read often and replaced rarely: readers clone the current `Arc` and let go of
/// the lock at once; a writer swaps in a new one.
pub(super) struct Snapshot<T> {
    current: RwLock<Arc<T>>,
    /// The length of the current list, so an empty one is seen without the lock.
    len: AtomicUsize,
}

impl<M> Snapshot<Vec<M>> {
    pub(super) fn new(list: Vec<M>) -> Self {
        Snapshot {
            len: AtomicUsize::new(list.len()),
            current: RwLock::new(Arc::new(list)),
        }
    }

    pub(super) fn load(&self) -> Arc<Vec<M>> {
        Arc::clone(&self.current.read())
    }

    pub(super) fn store(&self, list: Vec<M>) {
        let len = list.len();
        *self.current.write() = Arc::new(list);
        // Release pairs with the Acquire in `is_empty`: a publisher that sees the new length
        // after `attach` returned also sees the new list.
        self.len.store(len, Ordering::Release);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }
}
