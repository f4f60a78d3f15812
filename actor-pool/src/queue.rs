//! [`Queue`]: the kinds of queue a pool can be built with.

/// The queue between a [`ThreadPool`](crate::ThreadPool)'s submitters and its threads.
///
/// # Examples
///
/// ```
/// use actor_pool::{Queue, ThreadPool};
///
/// let pool = ThreadPool::builder().queue(Queue::Bounded(64)).build()?;
/// assert_eq!(pool.queue(), Queue::Bounded(64));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Queue {
    /// Holds any number of tasks; submitting never waits.
    #[default]
    Unbounded,
    /// Holds at most this many tasks waiting for a thread; when it is full, `submit` waits for
    /// room (backpressure), `try_submit` fails at once and `submit_timeout` waits up to its
    /// timeout. `Bounded(0)` hands each task directly to an idle thread.
    Bounded(usize),
}
