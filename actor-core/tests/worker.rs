//! Workers: tasks run in order, panics are isolated, stopping is graceful or immediate.

use std::time::Duration;

use actor_core::{ExitReason, ReplyError, System, Worker};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn ten_thousand_tasks_return_in_submission_order() {
    let system = System::new();
    let worker = Worker::spawn(&system).unwrap();
    let (log_tx, log) = crossbeam_channel::unbounded();
    let results: Vec<_> = (0..10_000u32)
        .map(|i| {
            let log_tx = log_tx.clone();
            worker.submit(move || {
                log_tx.send(i).unwrap();
                i * 2
            })
        })
        .collect();
    for (i, mut result) in results.into_iter().enumerate() {
        assert_eq!(result.wait_timeout(WAIT).unwrap(), i as u32 * 2);
    }
    drop(log_tx);
    let ran: Vec<u32> = log.iter().collect();
    assert_eq!(
        ran,
        (0..10_000).collect::<Vec<_>>(),
        "tasks ran in submission order"
    );
    system.shutdown();
}

#[test]
fn a_panicking_task_fails_alone_and_the_worker_goes_on() {
    let system = System::new();
    let worker = Worker::spawn(&system).unwrap();
    let before = worker.submit(|| 1);
    let broken = worker.submit(|| -> u32 { panic!("task {} exploded", 7) });
    let after = worker.submit(|| 3);
    assert_eq!(before.wait(), Ok(1));
    assert_eq!(
        broken.wait(),
        Err(ReplyError::Panicked("task 7 exploded".into()))
    );
    assert_eq!(after.wait(), Ok(3));
    system.shutdown();
}

#[test]
fn a_task_error_is_the_callers_data() {
    let system = System::new();
    let worker = Worker::spawn(&system).unwrap();
    let parsed = worker.submit(|| "nope".parse::<u8>());
    assert!(parsed.wait().unwrap().is_err());
    assert_eq!(worker.submit(|| 5).wait(), Ok(5), "the worker lives on");
    system.shutdown();
}

/// Parks the worker in a task until the returned sender is dropped.
fn park(worker: &Worker) -> crossbeam_channel::Sender<()> {
    let (started_tx, started) = crossbeam_channel::bounded(1);
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let _ = worker.submit(move || {
        started_tx.send(()).unwrap();
        let _ = gate.recv();
    });
    started.recv_timeout(WAIT).unwrap();
    release
}

#[test]
fn graceful_stop_runs_every_queued_task() {
    let system = System::new();
    let worker = Worker::spawn(&system).unwrap();
    let release = park(&worker);
    let queued: Vec<_> = (0..100).map(|i| worker.submit(move || i)).collect();
    worker.stop();
    let refused = worker.submit(|| -1);
    assert_eq!(
        refused.wait(),
        Err(ReplyError::Dropped),
        "no new tasks after stop"
    );
    drop(release);
    assert!(matches!(worker.join().unwrap(), ExitReason::Stopped));
    let values: Vec<i32> = queued.into_iter().map(|p| p.wait().unwrap()).collect();
    assert_eq!(values, (0..100).collect::<Vec<_>>());
}

#[test]
fn immediate_stop_fails_every_queued_task_at_once() {
    let system = System::new();
    let worker = Worker::spawn(&system).unwrap();
    let release = park(&worker);
    let queued: Vec<_> = (0..100).map(|i| worker.submit(move || i)).collect();
    worker.kill();
    drop(release);
    assert!(matches!(worker.join().unwrap(), ExitReason::Killed));
    for pending in queued {
        assert_eq!(pending.wait(), Err(ReplyError::Dropped));
    }
}
