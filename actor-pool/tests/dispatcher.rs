//! The dispatcher: many actors on few threads, with the runtime's guarantees intact.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use actor_core::tap::Recorder;
use actor_core::{
    Actor, AskError, Context, ExitReason, Failure, HandlerResult, Mailbox, Overflow, Reply,
    SendError, Supervision, System,
};
use actor_pool::Dispatcher;

const WAIT: Duration = Duration::from_secs(20);

enum Msg {
    Add(u64),
    Panic,
    Total(Reply<u64>),
}

#[derive(Default)]
struct Counter(u64);

impl Actor for Counter {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Add(n) => self.0 += n,
            Msg::Panic => panic!("counter asked to panic at {}", self.0),
            Msg::Total(reply) => reply.send(self.0),
        }
        Ok(())
    }
}

#[test]
fn ask_and_ordered_delivery_work_on_the_dispatcher() {
    let system = System::new();
    let dispatcher = Dispatcher::new(&system, 2).unwrap();
    let counter = dispatcher.spawn(Counter::default()).unwrap();
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..50_000 {
                    counter.tell(Msg::Add(1)).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    assert_eq!(counter.ask(Msg::Total, WAIT).unwrap(), 200_000);
    dispatcher.shutdown();
    assert!(!counter.is_alive());
    assert_eq!(counter.ask(Msg::Total, WAIT), Err(AskError::Closed));
}

#[test]
fn stop_handles_what_is_queued_and_kill_does_not() {
    let system = System::new();
    let dispatcher = Dispatcher::new(&system, 2).unwrap();
    let stopped = dispatcher.spawn(Counter::default()).unwrap();
    let totals: Vec<_> = (0..100)
        .map(|_| {
            stopped.tell(Msg::Add(1)).unwrap();
            stopped.request(Msg::Total).unwrap()
        })
        .collect();
    stopped.stop();
    assert!(matches!(
        stopped.join_timeout(WAIT).unwrap(),
        ExitReason::Stopped
    ));
    assert_eq!(totals.into_iter().last().unwrap().wait().unwrap(), 100);

    let killed = dispatcher.spawn(Counter::default()).unwrap();
    killed.kill();
    assert!(matches!(
        killed.join_timeout(WAIT).unwrap(),
        ExitReason::Killed
    ));
    dispatcher.shutdown();
}

#[test]
fn supervision_restarts_with_fresh_state_and_monitors_get_down_at_the_limit() {
    let system = System::new();
    let dispatcher = Dispatcher::new(&system, 2).unwrap();
    let counter = dispatcher
        .spawn_builder(
            system
                .actor(Counter::default)
                .name("supervised")
                .supervision(Supervision::restart(1, Duration::from_secs(3600))),
        )
        .unwrap();
    let down = counter.monitor();
    counter.tell(Msg::Add(5)).unwrap();
    counter.tell(Msg::Panic).unwrap();
    assert_eq!(
        counter.ask(Msg::Total, WAIT).unwrap(),
        0,
        "fresh state after the restart"
    );
    assert_eq!(system.lookup::<Msg>("supervised").unwrap(), counter);
    counter.tell(Msg::Panic).unwrap();
    let notice = down.wait().unwrap();
    assert!(matches!(
        notice.reason,
        ExitReason::Failed(Failure::Panic(_))
    ));
    assert!(
        system.lookup::<Msg>("supervised").is_err(),
        "the name is freed"
    );
    dispatcher.shutdown();
}

#[test]
fn bounded_mailboxes_timers_and_exchanges_work_on_the_dispatcher() {
    let system = System::new();
    let dispatcher = Dispatcher::new(&system, 2).unwrap();

    /// Reports each value; parks on `gate` when it gets 0.
    struct Echo {
        out: crossbeam_channel::Sender<u32>,
        gate: crossbeam_channel::Receiver<()>,
    }
    impl Actor for Echo {
        type Msg = u32;
        fn handle(&mut self, n: u32, _: &mut Context<u32>) -> HandlerResult {
            self.out.send(n)?;
            if n == 0 {
                let _ = self.gate.recv();
            }
            Ok(())
        }
    }
    let (out, rx) = crossbeam_channel::unbounded();
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let echo = dispatcher
        .spawn_builder(
            system
                .actor_from(Echo { out, gate })
                .mailbox(Mailbox::bounded(2, Overflow::Fail)),
        )
        .unwrap();

    // The bounded mailbox's policy: parked on 0, it holds two more, then refuses.
    echo.tell(0).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), 0);
    echo.tell(1).unwrap();
    echo.tell(2).unwrap();
    assert!(matches!(echo.tell(3), Err(SendError::Full(3))));
    drop(release);
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), 1);
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), 2);

    // Timers.
    system.send_after(Duration::from_millis(5), &echo, 7);
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), 7);

    // Exchanges, with the dispatched actor as a subscriber.
    let numbers = system.exchange::<u32>("numbers").unwrap();
    numbers.attach(echo.clone());
    numbers.publish(8);
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), 8);

    echo.stop();
    echo.join_timeout(WAIT).unwrap();
    assert!(matches!(echo.tell(9), Err(SendError::Closed(9))));
    dispatcher.shutdown();
}

#[test]
fn one_flooded_actor_does_not_starve_a_thousand_others() {
    const FLOOD: u64 = 20_000;
    let system = System::new();
    let dispatcher = Dispatcher::builder(&system)
        .threads(2)
        .batch(64)
        .build()
        .unwrap();
    let progress = Arc::new(AtomicU64::new(0));

    /// Each message takes a few microseconds, so the flood lasts long after it is queued.
    struct Flooded(Arc<AtomicU64>);
    impl Actor for Flooded {
        type Msg = ();
        fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult {
            let mut x = 1u64;
            for _ in 0..5_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            std::hint::black_box(x);
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
    /// Reports how far the flood had got when it was handled.
    struct Small(Arc<AtomicU64>, crossbeam_channel::Sender<u64>);
    impl Actor for Small {
        type Msg = ();
        fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult {
            self.1.send(self.0.load(Ordering::Relaxed))?;
            Ok(())
        }
    }

    let flooded = dispatcher.spawn(Flooded(Arc::clone(&progress))).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let smalls: Vec<_> = (0..1_000)
        .map(|_| {
            dispatcher
                .spawn(Small(Arc::clone(&progress), tx.clone()))
                .unwrap()
        })
        .collect();
    for _ in 0..FLOOD {
        flooded.tell(()).unwrap();
    }
    for small in &smalls {
        small.tell(()).unwrap();
    }
    let seen: Vec<u64> = (0..1_000).map(|_| rx.recv_timeout(WAIT).unwrap()).collect();
    let starved = seen.iter().filter(|&&at| at >= FLOOD).count();
    assert_eq!(
        starved, 0,
        "every small actor ran while the flood was in progress"
    );
    dispatcher.shutdown();
    assert_eq!(progress.load(Ordering::Relaxed), FLOOD);
}

#[test]
fn no_actor_is_ever_run_by_two_threads_at_once() {
    struct Exclusive {
        inside: Arc<AtomicBool>,
        overlaps: Arc<AtomicU64>,
    }
    impl Actor for Exclusive {
        type Msg = u64;
        fn handle(&mut self, n: u64, _: &mut Context<u64>) -> HandlerResult {
            if self.inside.swap(true, Ordering::SeqCst) {
                self.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            // Stay inside long enough for an overlap to show.
            let mut x = n;
            for _ in 0..200 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            std::hint::black_box(x);
            self.inside.store(false, Ordering::SeqCst);
            Ok(())
        }
    }
    let system = System::new();
    let dispatcher = Dispatcher::builder(&system)
        .threads(4)
        .batch(8)
        .build()
        .unwrap();
    let overlaps = Arc::new(AtomicU64::new(0));
    let actors: Vec<_> = (0..50)
        .map(|_| {
            dispatcher
                .spawn(Exclusive {
                    inside: Arc::new(AtomicBool::new(false)),
                    overlaps: Arc::clone(&overlaps),
                })
                .unwrap()
        })
        .collect();
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let actors = actors.clone();
            std::thread::spawn(move || {
                for n in 0..2_000u64 {
                    for actor in &actors {
                        actor.tell(n).unwrap();
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    dispatcher.shutdown();
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
}

#[test]
fn lifecycle_events_are_published_for_dispatched_actors() {
    let system = System::new();
    let events = Recorder::new(100);
    system
        .attach_pattern::<actor_core::SystemEvent>("system.lifecycle", events.clone())
        .unwrap();
    let dispatcher = Dispatcher::new(&system, 1).unwrap();
    let counter = dispatcher.spawn(Counter::default()).unwrap();
    counter.stop();
    counter.join_timeout(WAIT).unwrap();
    assert!(events.wait_for(2, WAIT));
    dispatcher.shutdown();
}
