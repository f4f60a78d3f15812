//! Process-pool cost: submit-to-result of an (almost) empty function, sequentially, through a
//! [`ProcessPool`] of [`WORKERS`] worker processes. The workers are this binary again, which
//! turns into a worker at the start of `main` (`functions().serve_if_worker()`). Read against
//! `process-echo` ([`super::process_echo`]): a child of the same binary echoing one frame
//! over the same kind of socket pair.
//!
//! The workers are started and have greeted the pool before the warm-up; only calls are
//! timed.

use actor_pool::{Function, Functions, ProcessPool};

use crate::error::BenchResult;
use crate::report::Sample;

/// Default number of tasks.
pub(crate) const N: u64 = 20_000;

/// Worker processes of the pool.
const WORKERS: usize = 2;

/// What the pool's workers can run, and the handle of its one function, `increment`: the
/// registry a worker process serves from (`main` calls `serve_if_worker` on it first thing)
/// and the pool is built from.
pub(crate) fn functions() -> (Functions, Function<u64, u64>) {
    let mut functions = Functions::new();
    let increment = functions.register("increment", |i: u64| i + 1);
    (functions, increment)
}

/// The framework: `ProcessPool::submit(..)` of `increment` and a wait on its `Pending`.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let (functions, increment) = functions();
    let pool = ProcessPool::builder(&functions).workers(WORKERS).build()?;
    let measured = super::task_cost(n, |i| super::result_of(pool.submit(&increment, i)?));
    // On every path: every worker is stopped and reaped before the figures are reported.
    pool.shutdown();
    measured
}
