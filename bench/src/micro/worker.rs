//! Worker cost: submit-to-result of an (almost) empty task, sequentially, through
//! [`actor_core::Worker`] and through a plain thread reading boxed closures from a channel.

use std::thread;

use actor_core::{System, Worker};
use crossbeam_channel::{Receiver, Sender};

use crate::error::{BenchError, BenchResult};
use crate::report::Sample;
use crate::wait;

/// Default number of tasks.
pub(crate) const N: u64 = 100_000;

/// What the raw worker thread runs.
type Task = Box<dyn FnOnce() -> u64 + Send>;

/// The framework: `Worker::submit(..).wait()`.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let system = System::new();
    let measured = submit_all(&system, n);
    // On every path: a failed run still stops and joins the worker.
    system.shutdown();
    measured
}

fn submit_all(system: &System, n: u64) -> BenchResult<Vec<Sample>> {
    let worker = Worker::spawn(system)?;
    super::task_cost(n, |i| Ok(worker.submit(move || i + 1).wait()?))
}

/// The baseline: boxed closures through a crossbeam channel to a thread that runs each and
/// sends its result back on a second channel.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let (task_tx, task_rx) = crossbeam_channel::unbounded::<Task>();
    let (result_tx, result_rx) = crossbeam_channel::unbounded::<u64>();
    let runner = thread::Builder::new()
        .name("raw-worker".into())
        .spawn(move || run_tasks(&task_rx, &result_tx))?;
    let measured = super::task_cost(n, |i| submit(&task_tx, &result_rx, Box::new(move || i + 1)));
    // On every path: closing the task channel ends the thread.
    drop(task_tx);
    wait::join(runner, "the worker thread")?;
    measured
}

fn run_tasks(tasks: &Receiver<Task>, results: &Sender<u64>) {
    for task in tasks {
        if results.send(task()).is_err() {
            break;
        }
    }
}

fn submit(tasks: &Sender<Task>, results: &Receiver<u64>, task: Task) -> BenchResult<u64> {
    // The task inside the error is not `Sync`; only the fact matters.
    if tasks.send(task).is_err() {
        return Err(Box::new(BenchError::Thread("the worker thread")));
    }
    wait::recv(results, "a task's result")
}
