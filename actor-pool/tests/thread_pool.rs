//! Black-box tests of the thread pool: order of `map`, panic isolation, both shutdowns, and
//! that no thread outlives the pool.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use actor_core::{Pending, ReplyError};
use actor_pool::{PoolError, Queue, SubmitError, ThreadPool};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use proptest::prelude::*;

/// Every wait in these tests is bounded by this, so that a bug fails a test instead of
/// hanging it.
const LIMIT: Duration = Duration::from_secs(10);

/// Waits for a result, at most `LIMIT`.
fn wait<T>(mut pending: Pending<T>) -> Result<T, ReplyError> {
    pending.wait_timeout(LIMIT)
}

/// A gate that tasks wait at until the test opens it (or the limit passes).
fn gate() -> (Sender<()>, Receiver<()>) {
    bounded(0)
}

/// Occupies the only thread of a one-thread pool until `release` is dropped; returns once the
/// task is running.
fn occupy(pool: &ThreadPool) -> (Sender<()>, Pending<bool>) {
    let (started_tx, started) = bounded(1);
    let (release, wait) = gate();
    let running = pool.submit(move || {
        started_tx.send(()).unwrap();
        // Disconnected (the test dropped `release`) is the signal.
        wait.recv_timeout(LIMIT).is_err()
    });
    started.recv_timeout(LIMIT).expect("the task did not start");
    (release, running)
}

#[test]
fn map_yields_results_in_input_order_whatever_order_they_finish_in() {
    let pool = ThreadPool::builder().threads(4).build().unwrap();
    // Task i finishes only after task i + 1 has: they finish in the order 3, 2, 1, 0.
    let links: Arc<Vec<_>> = Arc::new((0..4).map(|_| bounded::<()>(1)).collect());
    let finished = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let order = Arc::clone(&finished);
    let results: Vec<usize> = pool
        .map(
            move |i: usize| {
                if i < 3 {
                    links[i]
                        .1
                        .recv_timeout(LIMIT)
                        .expect("the next task did not finish");
                }
                order.lock().push(i);
                if i > 0 {
                    links[i - 1].0.send(()).unwrap();
                }
                i * 10
            },
            0..4,
        )
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(results, [0, 10, 20, 30]);
    assert_eq!(*finished.lock(), [3, 2, 1, 0]);
}

#[test]
fn map_yields_each_result_as_soon_as_it_is_ready() {
    let pool = ThreadPool::builder().threads(2).build().unwrap();
    let (release, wait) = gate();
    let (results_tx, results) = unbounded();
    let consumer = thread::spawn(move || {
        let items = [None, Some(wait)];
        for result in pool.map(
            |wait: Option<Receiver<()>>| {
                if let Some(wait) = wait {
                    let _ = wait.recv_timeout(LIMIT);
                }
                "done"
            },
            items,
        ) {
            results_tx.send(result).unwrap();
        }
    });
    // The first result comes while the second task is still held at the gate.
    assert_eq!(results.recv_timeout(LIMIT).unwrap(), Ok("done"));
    assert!(results.try_recv().is_err());
    drop(release);
    assert_eq!(results.recv_timeout(LIMIT).unwrap(), Ok("done"));
    consumer.join().unwrap();
}

#[test]
fn map_takes_endless_input_lazily() {
    let pool = ThreadPool::builder().threads(2).build().unwrap();
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&taken);
    let naturals = (0_u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let first: Vec<u64> = pool
        .map(|x| x + 1, naturals)
        .take(100)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first, (1..=100).collect::<Vec<_>>());
    // Only a bounded window (a few items per thread) is taken ahead of the results.
    let taken = taken.load(Ordering::Relaxed);
    assert!((100..200).contains(&taken), "{taken} items taken");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn map_keeps_input_order(items in proptest::collection::vec(any::<u32>(), 0..200)) {
        let pool = ThreadPool::builder().threads(3).queue(Queue::Bounded(4)).build().unwrap();
        let results: Vec<u64> = pool
            .map(|x: u32| u64::from(x) * 3, items.clone())
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<u64> = items.iter().map(|&x| u64::from(x) * 3).collect();
        prop_assert_eq!(results, expected);
    }
}

#[test]
fn a_panicking_task_yields_its_message_and_the_thread_goes_on() {
    let pool = ThreadPool::builder()
        .threads(1)
        .name_prefix("survivor")
        .build()
        .unwrap();
    let mut broken = pool.submit(|| -> u8 { panic!("task failed on purpose: {}", 42) });
    let mut formatted = pool.submit(|| -> u8 { std::panic::panic_any(String::from("owned")) });
    let mut after = pool.submit(|| thread::current().name().map(str::to_owned));
    assert_eq!(
        broken.wait_timeout(LIMIT),
        Err(ReplyError::Panicked("task failed on purpose: 42".into()))
    );
    assert_eq!(
        formatted.wait_timeout(LIMIT),
        Err(ReplyError::Panicked("owned".into()))
    );
    // The same thread, not a replacement, ran the next task.
    assert_eq!(
        after.wait_timeout(LIMIT).unwrap().as_deref(),
        Some("survivor-0")
    );
}

#[test]
fn a_panic_in_an_executed_task_leaves_the_thread_running() {
    let pool = ThreadPool::builder()
        .threads(1)
        .name_prefix("exec")
        .build()
        .unwrap();
    pool.execute(|| panic!("executed task failed on purpose"))
        .ok()
        .unwrap();
    let mut name = pool.submit(|| thread::current().name().map(str::to_owned));
    assert_eq!(name.wait_timeout(LIMIT).unwrap().as_deref(), Some("exec-0"));
}

/// A panic payload that panics again when dropped: the pool's thread drops it outside any
/// task, which is the one way left for a pool thread itself to panic.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("payload dropped on purpose");
    }
}

#[test]
fn a_thread_that_panics_outside_a_task_is_replaced() {
    let pool = ThreadPool::builder()
        .threads(2)
        .name_prefix("phoenix")
        .build()
        .unwrap();
    pool.execute(|| std::panic::panic_any(PanicsOnDrop))
        .ok()
        .unwrap();

    // Both threads (the survivor and the replacement) can be busy at once.
    let (arrived_tx, arrived) = unbounded();
    let (release, wait) = gate();
    let held: Vec<_> = (0..2)
        .map(|_| {
            let arrived_tx = arrived_tx.clone();
            let wait = wait.clone();
            pool.submit(move || {
                arrived_tx
                    .send(thread::current().name().map(str::to_owned))
                    .unwrap();
                let _ = wait.recv_timeout(LIMIT);
            })
        })
        .collect();
    let mut names: Vec<_> = (0..2)
        .map(|_| arrived.recv_timeout(LIMIT).expect("two threads").unwrap())
        .collect();
    names.sort();
    drop(release);
    for mut pending in held {
        pending.wait_timeout(LIMIT).unwrap();
    }
    // The replacement got a fresh number.
    assert!(names.contains(&"phoenix-2".to_string()), "{names:?}");
}

#[test]
fn shutdown_runs_what_is_queued_then_joins() {
    let pool = Arc::new(ThreadPool::builder().threads(1).build().unwrap());
    let (release, mut running) = occupy(&pool);
    let queued: Vec<_> = (0..10).map(|i| pool.submit(move || i * 2)).collect();

    let (done_tx, done) = bounded(1);
    let shutting = Arc::clone(&pool);
    let shutdown = thread::spawn(move || {
        shutting.shutdown();
        done_tx.send(()).unwrap();
    });
    // Still running the first task: shutdown must wait for it and for the queue.
    assert!(done.recv_timeout(Duration::from_millis(50)).is_err());
    drop(release);
    assert_eq!(running.wait_timeout(LIMIT), Ok(true));
    for (i, mut pending) in queued.into_iter().enumerate() {
        assert_eq!(pending.wait_timeout(LIMIT), Ok(i * 2));
    }
    done.recv_timeout(LIMIT).expect("shutdown did not return");
    shutdown.join().unwrap();

    // After the shutdown: `submit` fails its Pending, `try_submit` gives the task back.
    assert_eq!(pool.submit(|| 1).wait(), Err(ReplyError::Dropped));
    match pool.try_submit(|| 2) {
        Err(SubmitError::ShutDown(task)) => assert_eq!(task(), 2),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(pool.execute(|| ()), Err(SubmitError::ShutDown(_))));
}

#[test]
fn shutdown_now_fails_what_is_queued_at_once() {
    let pool = Arc::new(ThreadPool::builder().threads(1).build().unwrap());
    let (release, mut running) = occupy(&pool);
    let ran = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..10)
        .map(|_| {
            let ran = Arc::clone(&ran);
            pool.submit(move || ran.fetch_add(1, Ordering::Relaxed))
        })
        .collect();

    let stopping = Arc::clone(&pool);
    let shutdown = thread::spawn(move || stopping.kill());
    // The queued tasks fail while the running one still holds the only thread.
    for mut pending in queued {
        assert_eq!(pending.wait_timeout(LIMIT), Err(ReplyError::Dropped));
    }
    assert!(!running.is_ready());
    drop(release);
    assert_eq!(running.wait_timeout(LIMIT), Ok(true));
    shutdown.join().unwrap();
    assert_eq!(ran.load(Ordering::Relaxed), 0);
}

#[test]
fn shutdown_wakes_submitters_waiting_on_a_full_queue() {
    let pool = Arc::new(
        ThreadPool::builder()
            .threads(1)
            .queue(Queue::Bounded(1))
            .build()
            .unwrap(),
    );
    let (release, mut running) = occupy(&pool);
    let mut queued = pool.try_submit(|| "queued").ok().unwrap();
    assert!(matches!(
        pool.try_submit(|| "no room"),
        Err(SubmitError::Full(_))
    ));
    assert!(matches!(
        pool.submit_timeout(|| "no room", Duration::from_millis(20)),
        Err(SubmitError::Timeout(_))
    ));

    let (waiting_tx, waiting) = bounded(1);
    let blocked_pool = Arc::clone(&pool);
    let blocked = thread::spawn(move || {
        waiting_tx.send(()).unwrap();
        blocked_pool.submit_timeout(|| "late", LIMIT * 2).is_err()
    });
    waiting.recv_timeout(LIMIT).unwrap();
    let stopping = Arc::clone(&pool);
    let shutdown = thread::spawn(move || stopping.shutdown());
    // The waiting submitter is refused at once (well before its own timeout), even though
    // the only thread is still busy.
    let deadline = Instant::now() + LIMIT;
    while !blocked.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the blocked submitter was not woken"
        );
        thread::yield_now();
    }
    assert!(blocked.join().unwrap());
    drop(release);
    assert_eq!(running.wait_timeout(LIMIT), Ok(true));
    assert_eq!(queued.wait_timeout(LIMIT), Ok("queued"));
    shutdown.join().unwrap();
}

#[test]
fn dropping_the_pool_runs_what_is_queued() {
    let pool = ThreadPool::builder().threads(2).build().unwrap();
    let queued: Vec<_> = (0..50).map(|i| pool.submit(move || i)).collect();
    drop(pool);
    for (i, mut pending) in queued.into_iter().enumerate() {
        assert_eq!(pending.wait_timeout(LIMIT), Ok(i));
    }
}

#[test]
fn dropping_the_pool_during_a_panic_fails_what_is_queued() {
    let pool = ThreadPool::builder().threads(1).build().unwrap();
    let (release, mut running) = occupy(&pool);
    let queued = pool.submit(|| "should not run");
    let owner = thread::spawn(move || {
        let _pool = pool;
        panic!("owner failed on purpose");
    });
    let mut queued = queued;
    assert_eq!(queued.wait_timeout(LIMIT), Err(ReplyError::Dropped));
    drop(release);
    assert_eq!(running.wait_timeout(LIMIT), Ok(true));
    assert!(owner.join().is_err());
}

thread_local! {
    /// Set in each pool thread; sends on its channel when the thread ends.
    static EXIT_NOTICE: RefCell<Option<ExitNotice>> = const { RefCell::new(None) };
}

struct ExitNotice(Sender<String>);

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self
            .0
            .send(thread::current().name().unwrap_or_default().to_owned());
    }
}

#[test]
fn no_thread_outlives_the_pool() {
    const THREADS: usize = 3;
    let pool = ThreadPool::builder()
        .threads(THREADS)
        .name_prefix("leakcheck")
        .build()
        .unwrap();
    let (exits_tx, exits) = unbounded();
    // Reach every thread: each task stays until all have arrived, so each runs on its own.
    let (arrived_tx, arrived) = unbounded();
    let (release, wait) = gate();
    let held: Vec<_> = (0..THREADS)
        .map(|_| {
            let exits_tx = exits_tx.clone();
            let arrived_tx = arrived_tx.clone();
            let wait = wait.clone();
            pool.submit(move || {
                EXIT_NOTICE.with(|notice| *notice.borrow_mut() = Some(ExitNotice(exits_tx)));
                arrived_tx.send(()).unwrap();
                let _ = wait.recv_timeout(LIMIT);
            })
        })
        .collect();
    for _ in 0..THREADS {
        arrived
            .recv_timeout(LIMIT)
            .expect("every thread takes a task");
    }
    drop(release);
    for mut pending in held {
        pending.wait_timeout(LIMIT).unwrap();
    }
    drop(pool);
    // Joined threads have run their thread-local destructors: every notice is already here,
    // with no waiting.
    let mut ended: Vec<String> = exits.try_iter().collect();
    ended.sort();
    assert_eq!(ended, ["leakcheck-0", "leakcheck-1", "leakcheck-2"]);
    #[cfg(target_os = "linux")]
    assert_no_thread_named("leakcheck");
}

/// Checks that no thread of this process has a name starting with `prefix`. A joined thread
/// may linger in `/proc` for a moment after the join returns, so this polls, with a deadline.
#[cfg(target_os = "linux")]
fn assert_no_thread_named(prefix: &str) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let lingering: Vec<String> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with(prefix))
            .collect();
        if lingering.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "threads left: {lingering:?}");
        thread::yield_now();
    }
}

#[test]
fn shutdown_from_a_task_of_the_pool_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::builder().threads(2).build().unwrap());
    let inner = Arc::clone(&pool);
    let mut result = pool.submit(move || {
        inner.shutdown();
        "shut down from inside"
    });
    assert_eq!(result.wait_timeout(LIMIT), Ok("shut down from inside"));
    pool.shutdown();
}

#[test]
fn completion_callbacks_run_when_the_task_completes() {
    let pool = ThreadPool::builder()
        .threads(1)
        .name_prefix("callback")
        .build()
        .unwrap();
    let (tx, rx) = bounded(1);
    pool.submit(|| 5).on_complete(move |result| {
        tx.send((result, thread::current().name().map(str::to_owned)))
            .unwrap();
    });
    let (result, thread) = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(result, Ok(5));
    assert_eq!(thread.as_deref(), Some("callback-0"));
}

#[test]
fn a_rendezvous_queue_hands_tasks_to_idle_threads_only() {
    let pool = ThreadPool::builder()
        .threads(1)
        .queue(Queue::Bounded(0))
        .build()
        .unwrap();
    let (release, mut running) = occupy(&pool);
    assert!(matches!(pool.try_execute(|| ()), Err(SubmitError::Full(_))));
    drop(release);
    assert_eq!(running.wait_timeout(LIMIT), Ok(true));
    assert_eq!(wait(pool.submit(|| 1)), Ok(1));
}

#[test]
fn zero_threads_is_an_error() {
    assert!(matches!(
        ThreadPool::builder().threads(0).build(),
        Err(PoolError::NoWorkers)
    ));
}
