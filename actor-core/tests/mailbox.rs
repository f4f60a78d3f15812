//! Bounded mailboxes: each overflow policy behaves as documented.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actor_core::{
    Actor, ActorRef, Context, HandlerResult, Mailbox, Overflow, SendError, SpawnError, System,
};
use crossbeam_channel::{Receiver, Sender, bounded};

const WAIT: Duration = Duration::from_secs(10);

enum Msg {
    Hold(Sender<()>, Receiver<()>),
    Value(u32),
}

struct Recorder(Arc<parking_lot::Mutex<Vec<u32>>>);

impl Actor for Recorder {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Hold(entered, gate) => {
                entered.send(())?;
                let _ = gate.recv();
            }
            Msg::Value(v) => self.0.lock().push(v),
        }
        Ok(())
    }
}

/// Spawns a recorder with a mailbox of capacity 2 and parks it in a handler, so that the
/// mailbox is empty and nothing drains it until the returned gate is dropped.
type Seen = Arc<parking_lot::Mutex<Vec<u32>>>;

fn parked(overflow: Overflow) -> (System, ActorRef<Msg>, Sender<()>, Seen) {
    let system = System::new();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let recorder = system
        .actor_from(Recorder(Arc::clone(&seen)))
        .mailbox(Mailbox::bounded(2, overflow))
        .spawn()
        .unwrap();
    let (entered_tx, entered_rx) = bounded(1);
    let (gate_tx, gate_rx) = bounded(0);
    recorder.tell(Msg::Hold(entered_tx, gate_rx)).unwrap();
    entered_rx.recv_timeout(WAIT).unwrap();
    (system, recorder, gate_tx, seen)
}

#[test]
fn block_waits_for_room() {
    let (system, recorder, gate, seen) = parked(Overflow::Block);
    recorder.tell(Msg::Value(1)).unwrap();
    recorder.tell(Msg::Value(2)).unwrap();
    assert!(matches!(
        recorder.try_tell(Msg::Value(3)),
        Err(SendError::Full(Msg::Value(3)))
    ));
    assert!(matches!(
        recorder.tell_timeout(Msg::Value(3), Duration::from_millis(20)),
        Err(SendError::Timeout(Msg::Value(3)))
    ));
    let (done_tx, done_rx) = bounded(1);
    let blocked = {
        let recorder = recorder.clone();
        std::thread::spawn(move || {
            recorder.tell(Msg::Value(3)).unwrap();
            done_tx.send(()).unwrap();
        })
    };
    assert!(
        done_rx.try_recv().is_err(),
        "tell must wait while the mailbox is full"
    );
    drop(gate);
    done_rx
        .recv_timeout(WAIT)
        .expect("the blocked tell completes once there is room");
    blocked.join().unwrap();
    system.shutdown();
    assert_eq!(*seen.lock(), [1, 2, 3]);
}

#[test]
fn fail_gives_the_message_back() {
    let (system, recorder, gate, seen) = parked(Overflow::Fail);
    recorder.tell(Msg::Value(1)).unwrap();
    recorder.tell(Msg::Value(2)).unwrap();
    match recorder.tell(Msg::Value(3)) {
        Err(SendError::Full(Msg::Value(3))) => {}
        other => panic!("expected Full(3), got {other:?}"),
    }
    drop(gate);
    system.shutdown();
    assert_eq!(*seen.lock(), [1, 2]);
    assert_eq!(recorder.dropped_count(), 0);
}

#[test]
fn drop_newest_counts_what_it_drops() {
    let (system, recorder, gate, seen) = parked(Overflow::DropNewest);
    for v in 1..=5 {
        recorder.tell(Msg::Value(v)).unwrap();
    }
    recorder.try_tell(Msg::Value(6)).unwrap();
    assert_eq!(recorder.dropped_count(), 4);
    drop(gate);
    system.shutdown();
    assert_eq!(*seen.lock(), [1, 2]);
}

#[test]
fn unbounded_never_blocks() {
    let system = System::new();
    let handled = Arc::new(AtomicU64::new(0));
    struct Count(Arc<AtomicU64>);
    impl Actor for Count {
        type Msg = ();
        fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
    let count = system.spawn(Count(Arc::clone(&handled))).unwrap();
    for _ in 0..100_000 {
        count.try_tell(()).unwrap();
    }
    system.shutdown();
    assert_eq!(handled.load(Ordering::Relaxed), 100_000);
}

#[test]
fn zero_capacity_is_refused() {
    let system = System::new();
    let err = system
        .actor_from(Recorder(Default::default()))
        .mailbox(Mailbox::bounded(0, Overflow::Block))
        .spawn()
        .unwrap_err();
    assert!(matches!(err, SpawnError::ZeroCapacity));
}

#[derive(Debug, PartialEq, Eq)]
enum Job {
    Low(u32),
    High(u32),
}

struct Jobs(Arc<parking_lot::Mutex<Vec<Job>>>);

impl Actor for Jobs {
    type Msg = Job;
    fn handle(&mut self, job: Job, _: &mut Context<Job>) -> HandlerResult {
        self.0.lock().push(job);
        Ok(())
    }
}

fn rank(job: &Job) -> u32 {
    match job {
        Job::Low(_) => 0,
        Job::High(_) => 10,
    }
}

#[test]
fn priority_mailbox_serves_the_highest_first_and_fifo_among_equals() {
    let system = System::new();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (jobs, mut runner) = system
        .actor_from(Jobs(Arc::clone(&seen)))
        .priority(rank)
        .build_runner()
        .unwrap();
    for i in 0..5 {
        jobs.tell(Job::Low(i)).unwrap();
        jobs.tell(Job::High(i)).unwrap();
    }
    while !matches!(runner.run(3), actor_core::RunStatus::Idle) {}
    let expected: Vec<Job> = (0..5).map(Job::High).chain((0..5).map(Job::Low)).collect();
    assert_eq!(*seen.lock(), expected);
}

#[test]
fn bounded_priority_mailbox_applies_its_overflow_policy() {
    let system = System::new();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (jobs, mut runner) = system
        .actor_from(Jobs(Arc::clone(&seen)))
        .priority(rank)
        .mailbox(Mailbox::bounded(2, Overflow::Fail))
        .build_runner()
        .unwrap();
    jobs.tell(Job::Low(1)).unwrap();
    jobs.tell(Job::High(2)).unwrap();
    assert!(matches!(
        jobs.tell(Job::High(3)),
        Err(SendError::Full(Job::High(3)))
    ));
    assert!(matches!(
        jobs.try_tell(Job::Low(4)),
        Err(SendError::Full(Job::Low(4)))
    ));
    runner.run(10);
    assert_eq!(*seen.lock(), [Job::High(2), Job::Low(1)]);
    jobs.stop();
    runner.run(10);
    assert!(matches!(jobs.tell(Job::Low(5)), Err(SendError::Closed(_))));
}

#[test]
fn a_thread_backed_actor_with_a_priority_mailbox_blocks_and_wakes() {
    let system = System::new();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let jobs = system
        .actor_from(Jobs(Arc::clone(&seen)))
        .priority(rank)
        .mailbox(Mailbox::bounded(4, Overflow::Block))
        .spawn()
        .unwrap();
    for i in 0..1_000 {
        jobs.tell(Job::Low(i)).unwrap();
    }
    jobs.stop();
    jobs.join_timeout(WAIT).unwrap();
    assert_eq!(seen.lock().len(), 1_000);
}
