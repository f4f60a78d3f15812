//! Thread-pool cost: submit-to-result of an (almost) empty task, sequentially, through a
//! [`ThreadPool`] of [`THREADS`] threads. Read against `channel-worker` (see
//! [`super::worker`]): one thread taking boxed closures from a channel.

use actor_pool::ThreadPool;

use crate::error::BenchResult;
use crate::report::Sample;

/// Default number of tasks.
pub(crate) const N: u64 = 100_000;

/// Threads of the pool.
const THREADS: usize = 2;

/// The framework: `ThreadPool::submit(..)` and a wait on its `Pending`.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let pool = ThreadPool::builder().threads(THREADS).build()?;
    let measured = super::task_cost(n, |i| super::result_of(pool.submit(move || i + 1)));
    // On every path: the threads are joined before the figures are reported.
    pool.shutdown();
    measured
}
