//! Process-pool cost: submit-to-result of an (almost) empty function through a
//! [`ProcessPool`] of [`WORKERS`] worker processes, sequentially (`process-pool`) and
//! pipelined (`process-pool-pipelined`: all `n` submitted before the first result is read,
//! so both workers are busy). The workers are this binary again, which turns into a worker at
//! the start of `main` (`functions().serve_if_worker()`). Read against `process-echo`
//! ([`super::process_echo`]): a child of the same binary echoing one frame over the same kind
//! of socket pair, one request at a time or, for the pipelined figure
//! (`process-echo-pipelined`), all of them written by one thread while another reads the
//! echoes.
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

/// The framework, pipelined: `n` calls of `increment` submitted, then their `Pending`s
/// waited on in order.
pub(crate) fn actor_pipelined(n: u64) -> BenchResult<Vec<Sample>> {
    let (functions, increment) = functions();
    let pool = ProcessPool::builder(&functions).workers(WORKERS).build()?;
    let measured = super::pipelined_cost(n, |count| {
        let pending = (0..count)
            .map(|i| pool.submit(&increment, i))
            .collect::<Result<Vec<_>, _>>()?;
        pending.into_iter().map(super::result_of).collect()
    });
    // On every path: every worker is stopped and reaped before the figures are reported.
    pool.shutdown();
    measured
}
