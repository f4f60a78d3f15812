//! Black-box tests of the process pool.
//!
//! The pool starts its workers from the running program, so this test binary is its own
//! worker: it has no libtest harness (`harness = false`), and its `main` first calls
//! `serve_if_worker`, then runs the tests one after the other, printing each name and its
//! outcome. Every wait is bounded, and a watchdog ends the run if it takes too long.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec, FrameReader, FrameWriter};
use actor_core::{Pending, ReplyError};
use actor_pool::{Function, Functions, PoolError, ProcessPool, StartError};
use serde::{Deserialize, Serialize};

/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(20);

/// The whole run is bounded by this.
const WATCHDOG: Duration = Duration::from_secs(180);

/// Run the binary with this argument to make it a program that builds a pool, prints its
/// workers' process ids, and waits to be killed.
const ORPHANING_PARENT: &str = "--orphaning-parent";

/// Run the binary with this argument (as a pool's worker program) to make it a worker that
/// greets properly and then answers every call with a frame header announcing 4 GiB.
const LYING_WORKER: &str = "--lying-worker";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
    lines: Vec<(String, u32)>,
    note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Verdict {
    Accepted { total: u32 },
    Rejected(String),
}

/// The registry of the functions the tests call, with their handles.
struct Fns {
    functions: Functions,
    square: Function<u64, u64>,
    echo: Function<String, String>,
    check_order: Function<Order, Verdict>,
    panic: Function<String, u8>,
    abort: Function<(), u8>,
    exit: Function<i32, u8>,
    pid: Function<(), u32>,
    repeat: Function<(String, usize), String>,
    sleep_ms: Function<u64, u64>,
    /// Creates `path` to say the call has started, then sleeps for `ms`.
    mark_then_sleep: Function<(PathBuf, u64), u64>,
}

fn fns() -> Fns {
    let mut functions = Functions::new();
    // Returns bytes that are not UTF-8, which a registry that claims the function returns a
    // `String` sees as a result that does not decode.
    functions.register("not_utf8", |_: ()| vec![0xFF_u8]);
    Fns {
        square: functions.register("square", |x: u64| x * x),
        echo: functions.register("echo", |text: String| text),
        check_order: functions.register("check_order", |order: Order| {
            let total = order.lines.iter().map(|(_, quantity)| quantity).sum();
            if order.customer.is_empty() {
                Verdict::Rejected(format!("order {} has no customer", order.id))
            } else {
                Verdict::Accepted { total }
            }
        }),
        panic: functions.register("panic", |message: String| -> u8 { panic!("{message}") }),
        abort: functions.register("abort", |_: ()| -> u8 { std::process::abort() }),
        exit: functions.register("exit", |code: i32| -> u8 { std::process::exit(code) }),
        pid: functions.register("pid", |_: ()| std::process::id()),
        repeat: functions.register("repeat", |(text, times): (String, usize)| {
            text.repeat(times)
        }),
        sleep_ms: functions.register("sleep_ms", |ms: u64| {
            thread::sleep(Duration::from_millis(ms));
            ms
        }),
        mark_then_sleep: functions.register("mark_then_sleep", |(path, ms): (PathBuf, u64)| {
            std::fs::write(&path, b"started").unwrap();
            thread::sleep(Duration::from_millis(ms));
            ms
        }),
        // Last: the fields above register into it first.
        functions,
    }
}

/// A test: it calls the functions of the registry it is given.
type Test = fn(&Fns);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == LYING_WORKER) {
        lying_worker();
    }
    // Before serving, so that workers are quiet about the panics caused on purpose too.
    quiet_expected_panics();
    let fns = fns();
    fns.functions.serve_if_worker();
    if args.iter().any(|arg| arg == ORPHANING_PARENT) {
        orphaning_parent(&fns);
    }

    thread::spawn(|| {
        thread::sleep(WATCHDOG);
        eprintln!("process_pool tests: still running after {WATCHDOG:?}; giving up");
        std::process::exit(101);
    });

    let tests: &[(&str, Test)] = &[
        (
            "typed_arguments_and_results_round_trip",
            typed_arguments_and_results_round_trip,
        ),
        (
            "values_over_the_codec_limit_are_refused_on_both_sides",
            values_over_the_codec_limit_are_refused_on_both_sides,
        ),
        ("map_yields_results_in_order", map_yields_results_in_order),
        (
            "a_handle_from_another_registry_is_a_typed_error",
            a_handle_from_another_registry_is_a_typed_error,
        ),
        (
            "a_handle_with_other_types_under_a_known_name_is_a_typed_error",
            a_handle_with_other_types_under_a_known_name_is_a_typed_error,
        ),
        (
            "a_panicking_function_leaves_the_worker_running",
            a_panicking_function_leaves_the_worker_running,
        ),
        (
            "a_worker_that_aborts_fails_only_its_task",
            a_worker_that_aborts_fails_only_its_task,
        ),
        ("a_killed_worker_is_replaced", a_killed_worker_is_replaced),
        (
            "a_worker_that_exits_is_replaced",
            a_worker_that_exits_is_replaced,
        ),
        (
            "a_result_that_does_not_decode_is_a_remote_error",
            a_result_that_does_not_decode_is_a_remote_error,
        ),
        (
            "a_worker_that_breaks_the_protocol_is_stopped",
            a_worker_that_breaks_the_protocol_is_stopped,
        ),
        ("shutdown_runs_what_is_queued", shutdown_runs_what_is_queued),
        (
            "shutdown_now_fails_running_and_queued_calls",
            shutdown_now_fails_running_and_queued_calls,
        ),
        (
            "no_child_remains_after_the_pool_is_dropped",
            no_child_remains_after_the_pool_is_dropped,
        ),
        (
            "no_child_remains_when_the_owner_panics",
            no_child_remains_when_the_owner_panics,
        ),
        (
            "workers_exit_when_the_parent_is_killed",
            workers_exit_when_the_parent_is_killed,
        ),
        (
            "a_worker_in_the_middle_of_a_call_exits_when_the_pool_closes_its_end",
            a_worker_in_the_middle_of_a_call_exits_when_the_pool_closes_its_end,
        ),
        (
            "a_program_that_is_not_a_worker_fails_to_start",
            a_program_that_is_not_a_worker_fails_to_start,
        ),
        (
            "a_silent_program_times_out_and_is_reaped",
            a_silent_program_times_out_and_is_reaped,
        ),
        ("zero_workers_is_an_error", zero_workers_is_an_error),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        print!("test {name} ... ");
        let _ = std::io::stdout().flush();
        match catch_unwind(AssertUnwindSafe(|| test(&fns))) {
            Ok(()) => println!("ok"),
            Err(payload) => {
                failed += 1;
                let message = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                println!("FAILED: {message}");
            }
        }
    }
    println!("{} passed, {failed} failed", tests.len() - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Keeps the panics that tests cause on purpose out of the output; others are printed.
fn quiet_expected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if !text.contains("on purpose") {
            default(info);
        }
    }));
}

fn pool(fns: &Fns, workers: usize) -> ProcessPool {
    ProcessPool::builder(&fns.functions)
        .workers(workers)
        .build()
        .expect("the pool starts")
}

fn wait<T>(mut pending: Pending<T>) -> Result<T, ReplyError> {
    pending.wait_timeout(LIMIT)
}

fn typed_arguments_and_results_round_trip(fns: &Fns) {
    let pool = pool(fns, 2);
    assert_eq!(wait(pool.submit(&fns.square, 12_u64).unwrap()), Ok(144));
    let text = "héllo, wörld ✓".to_string();
    assert_eq!(
        wait(pool.submit(&fns.echo, text.clone()).unwrap()),
        Ok(text)
    );
    let order = Order {
        id: 7,
        customer: "ada".into(),
        lines: vec![("tea".into(), 2), ("scones".into(), 6)],
        note: Some("no raisins".into()),
    };
    assert_eq!(
        wait(pool.submit(&fns.check_order, order.clone()).unwrap()),
        Ok(Verdict::Accepted { total: 8 })
    );
    let anonymous = Order {
        customer: String::new(),
        ..order
    };
    assert_eq!(
        wait(pool.submit(&fns.check_order, anonymous).unwrap()),
        Ok(Verdict::Rejected("order 7 has no customer".into()))
    );
    // A large argument and result (1 MiB) cross intact.
    let big = "x".repeat(1 << 20);
    assert_eq!(wait(pool.submit(&fns.echo, big.clone()).unwrap()), Ok(big));
}

fn values_over_the_codec_limit_are_refused_on_both_sides(fns: &Fns) {
    let pool = pool(fns, 1);
    let pid = wait(pool.submit(&fns.pid, ()).unwrap()).unwrap();
    // An argument over the 16 MiB limit is refused before it is sent.
    let huge = "x".repeat(17 << 20);
    assert!(matches!(
        pool.submit(&fns.echo, huge),
        Err(PoolError::Encode(_))
    ));
    // A result over the limit is refused by the worker, which goes on.
    let repeated = pool.submit(&fns.repeat, ("x".to_string(), 17_usize << 20));
    match wait(repeated.unwrap()) {
        Err(ReplyError::Remote(why)) => assert!(why.contains("limit"), "{why}"),
        other => panic!("unexpected {:?}", other.map(|text| text.len())),
    }
    assert_eq!(wait(pool.submit(&fns.pid, ()).unwrap()), Ok(pid));
}

fn map_yields_results_in_order(fns: &Fns) {
    let pool = pool(fns, 2);
    let squares: Vec<u64> = pool
        .map(&fns.square, 0..500_u64)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(squares, (0..500_u64).map(|x| x * x).collect::<Vec<_>>());
    // Later items finishing first do not change the order.
    let naps: Vec<u64> = pool
        .map(&fns.sleep_ms, [30_u64, 0, 20, 0, 10, 0])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(naps, [30, 0, 20, 0, 10, 0]);
}

fn a_handle_from_another_registry_is_a_typed_error(fns: &Fns) {
    let pool = pool(fns, 1);
    let mut other = Functions::new();
    let cube = other.register("cube", |x: u64| x * x * x);
    match pool.submit(&cube, 3) {
        Err(PoolError::UnknownFunction { name }) => assert_eq!(name, "cube"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        pool.map(&cube, [1]),
        Err(PoolError::UnknownFunction { .. })
    ));
    // The pool still works.
    assert_eq!(wait(pool.submit(&fns.square, 3).unwrap()), Ok(9));
}

fn a_handle_with_other_types_under_a_known_name_is_a_typed_error(fns: &Fns) {
    let pool = pool(fns, 1);
    let mut other = Functions::new();
    let square = other.register("square", |x: i32| u64::from(x.unsigned_abs()).pow(2));
    match pool.submit(&square, 3) {
        Err(PoolError::TypeMismatch {
            name,
            registered,
            called,
        }) => {
            assert_eq!(name, "square");
            assert_eq!(registered.to_string(), "fn(u64) -> u64");
            assert_eq!(called.to_string(), "fn(i32) -> u64");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        pool.map(&square, [1, 2]),
        Err(PoolError::TypeMismatch { .. })
    ));
    // A handle with the pool's name and types calls the pool's function, whatever registry
    // it comes from: the name and the types are all a call carries.
    let twin = Functions::new().register("square", |x: u64| x + 1);
    assert_eq!(wait(pool.submit(&twin, 4).unwrap()), Ok(16));
}

fn a_panicking_function_leaves_the_worker_running(fns: &Fns) {
    let pool = pool(fns, 1);
    let pid = wait(pool.submit(&fns.pid, ()).unwrap()).unwrap();
    let failed = pool
        .submit(&fns.panic, "worker task failed on purpose".to_string())
        .unwrap();
    assert_eq!(
        wait(failed),
        Err(ReplyError::Panicked("worker task failed on purpose".into()))
    );
    assert_eq!(wait(pool.submit(&fns.pid, ()).unwrap()), Ok(pid));
}

fn a_worker_that_aborts_fails_only_its_task(fns: &Fns) {
    let pool = pool(fns, 2);
    let before: Vec<_> = (0..10_u64)
        .map(|i| pool.submit(&fns.square, i).unwrap())
        .collect();
    let aborting = pool.submit(&fns.abort, ()).unwrap();
    let after: Vec<_> = (10..20_u64)
        .map(|i| pool.submit(&fns.square, i).unwrap())
        .collect();

    match wait(aborting) {
        Err(ReplyError::Crashed(how)) => {
            assert!(how.contains("SIGABRT"), "{how}");
            assert!(how.contains("\"abort\""), "{how}");
        }
        other => panic!("unexpected {other:?}"),
    }
    for (i, pending) in (0..10_u64).zip(before).chain((10..20).zip(after)) {
        assert_eq!(wait(pending), Ok(i * i));
    }
    // The pool goes on: the next 100 tasks all succeed, on two workers again.
    let results: Vec<u64> = pool
        .map(&fns.square, 0..100_u64)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(results, (0..100_u64).map(|x| x * x).collect::<Vec<_>>());
    // The replacement starts beside the other worker's work; it is there soon after.
    wait_for(
        || pool.worker_pids().len() == 2,
        "the crashed worker's replacement",
    );
}

fn a_killed_worker_is_replaced(fns: &Fns) {
    let pool = pool(fns, 1);
    let [pid] = pool.worker_pids()[..] else {
        panic!("one worker expected");
    };
    let marker = scratch_path("killed");
    let running = pool
        .submit(&fns.mark_then_sleep, (marker.clone(), 60_000_u64))
        .unwrap();
    wait_for(|| marker.exists(), "the call to start");
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("the kill command runs");
    assert!(status.success());
    match wait(running) {
        Err(ReplyError::Crashed(how)) => assert!(how.contains("SIGKILL"), "{how}"),
        other => panic!("unexpected {other:?}"),
    }
    let _ = std::fs::remove_file(&marker);
    let new_pid = wait(pool.submit(&fns.pid, ()).unwrap()).unwrap();
    assert_ne!(new_pid, pid);
}

fn a_worker_that_exits_is_replaced(fns: &Fns) {
    let pool = pool(fns, 1);
    match wait(pool.submit(&fns.exit, 3).unwrap()) {
        Err(ReplyError::Crashed(how)) => assert!(how.contains("exit status: 3"), "{how}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(wait(pool.submit(&fns.square, 5_u64).unwrap()), Ok(25));
}

fn a_result_that_does_not_decode_is_a_remote_error(_: &Fns) {
    // The worker runs this same program, whose "not_utf8" returns `Vec<u8>`; a second
    // registry that claims it returns a `String` stands for a program and a worker that
    // disagree.
    let mut liar = Functions::new();
    let not_utf8 = liar.register("not_utf8", |_: ()| String::new());
    let pid = liar.register("pid", |_: ()| std::process::id());
    let pool = ProcessPool::builder(&liar).workers(1).build().unwrap();
    let first = wait(pool.submit(&pid, ()).unwrap()).unwrap();
    match wait(pool.submit(&not_utf8, ()).unwrap()) {
        Err(ReplyError::Remote(why)) => assert!(why.contains("String"), "{why}"),
        other => panic!("unexpected {other:?}"),
    }
    // The stream did not fall out of step: the same worker goes on.
    assert_eq!(wait(pool.submit(&pid, ()).unwrap()), Ok(first));
}

fn a_worker_that_breaks_the_protocol_is_stopped(fns: &Fns) {
    let pool = ProcessPool::builder(&fns.functions)
        .workers(1)
        .args([LYING_WORKER])
        .build()
        .unwrap();
    for _ in 0..3 {
        match wait(pool.submit(&fns.square, 2_u64).unwrap()) {
            Err(ReplyError::Crashed(how)) => {
                assert!(how.contains("broke the protocol"), "{how}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(pool);
    assert_no_children();
}

/// A worker that greets properly and then announces a 4 GiB answer to every call.
fn lying_worker() -> ! {
    let connection = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(UnixStream::from)
        .unwrap();
    let mut writer = FrameWriter::new(&connection);
    // `FromWorker::Ready { version: 1, pid: 0 }`: variant 0, then two varints.
    writer.write_frame(&[0, 1, 0]).unwrap();
    let mut reader = FrameReader::new(&connection);
    while let Ok(Some(_call)) = reader.read_frame() {
        if reader.read_frame().is_err() {
            break;
        }
        // A hostile length: the pool must refuse it without allocating it.
        if (&connection).write_all(&[0xFF, 0xFF, 0xFF, 0xFF]).is_err() {
            break;
        }
    }
    std::process::exit(0)
}

fn shutdown_runs_what_is_queued(fns: &Fns) {
    let pool = pool(fns, 2);
    let queued: Vec<_> = (0..50_u64)
        .map(|i| pool.submit(&fns.square, i).unwrap())
        .collect();
    pool.shutdown();
    for (i, pending) in (0..50_u64).zip(queued) {
        assert_eq!(wait(pending), Ok(i * i));
    }
    assert!(matches!(
        pool.submit(&fns.square, 1_u64),
        Err(PoolError::ShutDown)
    ));
    assert!(pool.worker_pids().is_empty());
    assert_no_children();
}

fn shutdown_now_fails_running_and_queued_calls(fns: &Fns) {
    let pool = pool(fns, 1);
    let marker = scratch_path("shutdown-now");
    let running = pool
        .submit(&fns.mark_then_sleep, (marker.clone(), 60_000_u64))
        .unwrap();
    let queued = pool.submit(&fns.square, 2_u64).unwrap();
    wait_for(|| marker.exists(), "the call to start");
    let started = Instant::now();
    pool.kill();
    assert!(started.elapsed() < LIMIT);
    assert_eq!(wait(running), Err(ReplyError::Dropped));
    assert_eq!(wait(queued), Err(ReplyError::Dropped));
    let _ = std::fs::remove_file(&marker);
    assert_no_children();
}

fn no_child_remains_after_the_pool_is_dropped(fns: &Fns) {
    let pool = pool(fns, 3);
    let pids = pool.worker_pids();
    assert_eq!(pids.len(), 3);
    assert_eq!(children(), sorted(pids.clone()));
    let _: Vec<u64> = pool
        .map(&fns.square, 0..30_u64)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(pool);
    assert_no_children();
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} remains"
        );
    }
}

fn no_child_remains_when_the_owner_panics(fns: &Fns) {
    let (started_tx, started) = crossbeam_channel::bounded(1);
    let (done_tx, done) = crossbeam_channel::bounded::<()>(1);
    let marker = scratch_path("owner-panics");
    let (functions, mark_then_sleep) = (fns.functions.clone(), fns.mark_then_sleep.clone());
    let owner = thread::spawn(move || {
        let _done = NotifyOnDrop(done_tx);
        let pool = ProcessPool::builder(&functions).workers(2).build().unwrap();
        let running = pool
            .submit(&mark_then_sleep, (marker.clone(), 60_000_u64))
            .unwrap();
        wait_for(|| marker.exists(), "the call to start");
        let _ = std::fs::remove_file(&marker);
        started_tx.send(running).unwrap();
        // Dropping the pool during the panic must not wait for the 60 s call.
        let _pool = pool;
        panic!("owner failed on purpose");
    });
    let running = started.recv_timeout(LIMIT).unwrap();
    // Disconnected: the owner's drops, the pool's first, are done.
    assert_eq!(
        done.recv_timeout(LIMIT),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected)
    );
    assert!(owner.join().is_err());
    assert_eq!(wait(running), Err(ReplyError::Dropped));
    assert_no_children();
}

struct NotifyOnDrop(#[allow(dead_code)] crossbeam_channel::Sender<()>);

fn workers_exit_when_the_parent_is_killed(_: &Fns) {
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .arg(ORPHANING_PARENT)
        .stdout(Stdio::piped())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<u32> = line
        .split_whitespace()
        .map(|pid| pid.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{line:?}");
    parent.kill().unwrap();
    parent.wait().unwrap();
    // The workers (one idle, one in the middle of a 60 s call) are now orphans: nobody here
    // can wait for them, so poll until each has ended.
    wait_for(
        || pids.iter().all(|&pid| !is_running(pid)),
        "the orphaned workers to exit",
    );
}

/// Builds a pool, starts a long call, prints the workers' pids, and waits to be killed.
fn orphaning_parent(fns: &Fns) -> ! {
    let pool = pool(fns, 2);
    let marker = scratch_path("orphan");
    let running = pool
        .submit(&fns.mark_then_sleep, (marker.clone(), 60_000_u64))
        .unwrap();
    wait_for(|| marker.exists(), "the call to start");
    let _ = std::fs::remove_file(&marker);
    let pids: Vec<String> = pool.worker_pids().iter().map(u32::to_string).collect();
    println!("{}", pids.join(" "));
    let _ = std::io::stdout().flush();
    // Killed here; if the test runner went away instead, end with it.
    let _ = std::io::stdin().read_line(&mut String::new());
    drop(running);
    std::process::exit(0)
}

/// The pool's first message to a worker, as `protocol.rs` defines it: encoded alike by
/// bincode.
#[derive(Serialize)]
enum ToWorker {
    Call { id: u64, function: String },
}

fn a_worker_in_the_middle_of_a_call_exits_when_the_pool_closes_its_end(_: &Fns) {
    // This test stands in for the pool: it starts a worker by hand and closes its end of the
    // connection while the worker runs a 60 s call, which no pool code is left to kill.
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut worker = Command::new(std::env::current_exe().unwrap())
        .env("ACTOR_POOL_WORKER", "1")
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .spawn()
        .unwrap();
    ours.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(
        matches!(FrameReader::new(&ours).read_frame(), Ok(Some(_))),
        "no greeting"
    );
    let codec = Bincode::new();
    let marker = scratch_path("pool-closes");
    let mut header = Vec::new();
    let call = ToWorker::Call {
        id: 0,
        function: "mark_then_sleep".into(),
    };
    codec.encode(&call, &mut header).unwrap();
    let mut argument = Vec::new();
    codec
        .encode(&(marker.clone(), 60_000_u64), &mut argument)
        .unwrap();
    let mut writer = FrameWriter::new(&ours);
    writer.write_frame(&header).unwrap();
    writer.write_frame(&argument).unwrap();
    wait_for(|| marker.exists(), "the call to start");
    let _ = std::fs::remove_file(&marker);
    drop(ours);

    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = worker.kill();
            let _ = worker.wait();
            panic!("the worker still runs its call after its connection closed");
        }
        thread::sleep(Duration::from_millis(1));
    };
    // Exited by itself, and cleanly: not killed, and not a protocol error.
    assert!(status.success(), "{status}");
}

fn a_program_that_is_not_a_worker_fails_to_start(fns: &Fns) {
    let result = ProcessPool::builder(&fns.functions)
        .workers(2)
        .program("/bin/true")
        .build();
    match result {
        Err(PoolError::StartWorker {
            source: StartError::Exited {
                status: Some(status),
            },
            ..
        }) => assert!(status.success()),
        other => panic!("unexpected {other:?}"),
    }
    let result = ProcessPool::builder(&fns.functions)
        .program("/nonexistent/program")
        .build();
    assert!(matches!(
        result,
        Err(PoolError::StartWorker {
            source: StartError::Spawn { .. },
            ..
        })
    ));
    assert_no_children();
}

fn a_silent_program_times_out_and_is_reaped(fns: &Fns) {
    let started = Instant::now();
    let result = ProcessPool::builder(&fns.functions)
        .workers(2)
        .program("sleep")
        .args(["30"])
        .startup_timeout(Duration::from_millis(200))
        .build();
    assert!(
        matches!(
            result,
            Err(PoolError::StartWorker {
                source: StartError::Timeout(_),
                ..
            })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < LIMIT);
    assert_no_children();
}

fn zero_workers_is_an_error(fns: &Fns) {
    assert!(matches!(
        ProcessPool::builder(&fns.functions).workers(0).build(),
        Err(PoolError::NoWorkers)
    ));
}

/// A path in the temporary directory, unique to this process, `name` and call.
fn scratch_path(name: &str) -> PathBuf {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "actor-pool-test-{}-{name}-{call}",
        std::process::id()
    ))
}

/// Polls `condition` until it holds, failing after `LIMIT`.
fn wait_for(condition: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + LIMIT;
    let mut pause = Duration::from_micros(100);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The process ids of this process's children (running or zombie), from `/proc`.
fn children() -> Vec<u32> {
    let me = std::process::id();
    let mut children: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let (_, ppid) = stat(pid)?;
            (ppid == me).then_some(pid)
        })
        .collect();
    children.sort_unstable();
    children
}

/// The state letter and parent pid of a process, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: split after its end.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether the process exists and has not ended (a zombie has ended).
fn is_running(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
}

fn assert_no_children() {
    let children = children();
    let states: BTreeMap<u32, Option<(char, u32)>> =
        children.iter().map(|&pid| (pid, stat(pid))).collect();
    assert!(children.is_empty(), "children remain: {states:?}");
}

fn sorted(mut pids: Vec<u32>) -> Vec<u32> {
    pids.sort_unstable();
    pids
}
