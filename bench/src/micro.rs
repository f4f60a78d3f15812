//! Micro-costs: the price of one operation on a hot path, framework and raw.
//!
//! Each is timed over `n` operations after a short warm-up, on one thread, and reported per
//! operation: the codec and HMAC in ns, and a task's submit-to-result through the worker, the
//! thread pool and the process pool (and their raw counterparts) in µs, through
//! [`task_cost`]. The process pool is also timed pipelined ([`pipelined_cost`]): all `n`
//! tasks submitted before the first result is read, the total time spread over the tasks.

pub(crate) mod codec;
pub(crate) mod hmac;
pub(crate) mod process_echo;
pub(crate) mod process_pool;
pub(crate) mod thread_pool;
pub(crate) mod worker;

use std::time::Instant;

use actor_core::Pending;

use crate::error::{BenchError, BenchResult};
use crate::report::Sample;
use crate::wait::WAIT_LIMIT;

/// Operations before timing starts (fewer when `n` is smaller).
fn warm_up(n: u64) -> u64 {
    n.min(10_000)
}

/// Tasks before timing starts in [`task_cost`]: each is a round trip, so fewer than
/// [`warm_up`] are enough.
fn task_warm_up(n: u64) -> u64 {
    warm_up(n).min(1_000)
}

/// Times `n` sequential submissions of task `i` (which returns `i + 1`) after
/// [`task_warm_up`] of them, checking every result; reports µs per task.
fn task_cost(n: u64, mut submit: impl FnMut(u64) -> BenchResult<u64>) -> BenchResult<Vec<Sample>> {
    cost_per_task(n, |ops| {
        (0..ops).try_for_each(|i| check_task(i, submit(i)?))
    })
}

/// Times `n` tasks run pipelined by `run_all` after [`task_warm_up`] of them run the same way:
/// `run_all(count)` submits tasks `0..count` (task `i` returns `i + 1`) before it reads the
/// first result, and returns the results in order, each of which is checked; reports µs per
/// task.
fn pipelined_cost(
    n: u64,
    mut run_all: impl FnMut(u64) -> BenchResult<Vec<u64>>,
) -> BenchResult<Vec<Sample>> {
    cost_per_task(n, |count| {
        let results = run_all(count)?;
        if results.len() as u64 != count {
            return Err(BenchError::check(format!(
                "{} results of {count} tasks",
                results.len()
            )));
        }
        (0..)
            .zip(results)
            .try_for_each(|(i, result)| check_task(i, result))
    })
}

/// Runs [`task_warm_up`] tasks through `run`, then times `n`; reports µs per task.
fn cost_per_task(n: u64, mut run: impl FnMut(u64) -> BenchResult<()>) -> BenchResult<Vec<Sample>> {
    run(task_warm_up(n))?;
    let start = Instant::now();
    run(n)?;
    let per_task_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    Ok(vec![Sample::new("cost", per_task_us, "us/task")])
}

/// Checks that task `i` returned `i + 1`.
fn check_task(i: u64, result: u64) -> BenchResult<()> {
    if result == i + 1 {
        Ok(())
    } else {
        Err(BenchError::check(format!("task {i} returned {result}")))
    }
}

/// The result of a pool's task, within [`WAIT_LIMIT`].
fn result_of<T>(mut pending: Pending<T>) -> BenchResult<T> {
    Ok(pending.wait_timeout(WAIT_LIMIT)?)
}
