//! Exchanges: fan-out, guards, gone subscribers, patterns, slow subscribers, system events.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actor_core::tap::{Counter, Printer, Recorder, TracingTap};
use actor_core::{
    Actor, Context, DeadLetterReason, ExchangeError, ExitReason, HandlerResult, Mailbox, Overflow,
    Reply, SUBSCRIBERS, SendError, Supervision, System, SystemEvent, from_fn,
};

const WAIT: Duration = Duration::from_secs(10);

/// Checks that it sees 0, 1, 2, ... and counts them.
struct InOrder {
    next: u64,
}

enum InOrderMsg {
    Value(u64),
    Seen(Reply<u64>),
}

impl Actor for InOrder {
    type Msg = InOrderMsg;
    fn handle(&mut self, msg: InOrderMsg, _: &mut Context<InOrderMsg>) -> HandlerResult {
        match msg {
            InOrderMsg::Value(v) if v == self.next => self.next += 1,
            InOrderMsg::Value(v) => return Err(format!("expected {}, got {v}", self.next).into()),
            InOrderMsg::Seen(reply) => reply.send(self.next),
        }
        Ok(())
    }
}

#[test]
fn fan_out_to_eight_subscribers_delivers_everything_in_order() {
    const N: u64 = 100_000;
    let system = System::new();
    let numbers = system.exchange::<u64>("numbers").unwrap();
    let actors: Vec<_> = (0..8)
        .map(|_| system.spawn(InOrder { next: 0 }).unwrap())
        .collect();
    // Actors take `InOrderMsg`; a closure adapts the exchange's `u64`.
    for actor in &actors {
        let actor = actor.clone();
        numbers.attach(from_fn(move |_: &str, v: u64| {
            let _ = actor.tell(InOrderMsg::Value(v));
        }));
    }
    for v in 0..N {
        assert_eq!(numbers.publish(v), 8);
    }
    for actor in &actors {
        assert_eq!(actor.ask(InOrderMsg::Seen, WAIT).unwrap(), N);
    }
    system.shutdown();
}

#[test]
fn each_subscriber_sees_each_publishers_messages_in_order() {
    const PER_PUBLISHER: u64 = 20_000;
    let system = System::new();
    let exchange = system.exchange::<(u64, u64)>("pairs").unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    exchange.attach(tx);
    let publishers: Vec<_> = (0..4)
        .map(|p| {
            let exchange = exchange.clone();
            std::thread::spawn(move || {
                for i in 0..PER_PUBLISHER {
                    exchange.publish((p, i));
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().unwrap();
    }
    let mut next = [0u64; 4];
    for (p, i) in rx.try_iter() {
        assert_eq!(i, next[p as usize], "publisher {p} out of order");
        next[p as usize] += 1;
    }
    assert_eq!(next, [PER_PUBLISHER; 4]);
}

#[test]
fn a_guard_detaches_on_drop_and_on_unwind() {
    let system = System::new();
    let exchange = system.exchange::<u8>("guarded").unwrap();
    let counter = Counter::new();
    {
        let _guard = exchange.subscribe(counter.clone());
        exchange.publish(1);
    }
    exchange.publish(2);
    assert_eq!(counter.count(), 1);

    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = exchange
            .subscribe(counter.clone())
            .and(exchange.subscribe(Counter::new()));
        assert_eq!(exchange.subscriber_count(), 2);
        panic!("unwinding with a guard");
    }));
    assert!(unwound.is_err());
    assert_eq!(exchange.subscriber_count(), 0);
    exchange.publish(3);
    assert_eq!(counter.count(), 1);
}

#[test]
fn a_gone_subscriber_is_detached_and_reported_and_the_others_still_get_the_message() {
    struct Sink(Arc<AtomicU64>);
    impl Actor for Sink {
        type Msg = u32;
        fn handle(&mut self, _: u32, _: &mut Context<u32>) -> HandlerResult {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
    let system = System::new();
    let gone_reports = Recorder::new(10);
    system
        .exchange::<SystemEvent>(SUBSCRIBERS)
        .unwrap()
        .attach(gone_reports.clone());
    let exchange = system.exchange::<u32>("work").unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let stopped = system.spawn(Sink(Arc::new(AtomicU64::new(0)))).unwrap();
    let alive = system.spawn(Sink(Arc::clone(&handled))).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let stopped_id = exchange.attach(stopped.clone());
    exchange.attach(alive.clone());
    let channel_id = exchange.attach(tx);
    stopped.stop();
    stopped.join().unwrap();
    drop(rx);

    assert_eq!(exchange.publish(1), 1, "only the live actor took it");
    assert_eq!(exchange.subscriber_count(), 1);
    assert_eq!(exchange.publish(2), 1);
    alive.stop();
    alive.join().unwrap();
    assert_eq!(handled.load(Ordering::Relaxed), 2);

    let reported: Vec<_> = gone_reports
        .messages()
        .into_iter()
        .filter_map(|e| match e {
            SystemEvent::SubscriberGone { subscription, .. } => Some(subscription),
            _ => None,
        })
        .collect();
    assert_eq!(reported, [stopped_id, channel_id]);
    system.shutdown();
}

#[test]
fn patterns_match_later_exchanges_with_star_and_rest_semantics() {
    let system = System::new();
    let one = Recorder::new(100);
    let rest = Recorder::new(100);
    system.exchange::<String>("orders.eu").unwrap();
    system
        .attach_pattern::<String>("orders.*", one.clone())
        .unwrap();
    system
        .attach_pattern::<String>("orders.>", rest.clone())
        .unwrap();
    // Created after the patterns.
    for name in [
        "orders.eu",
        "orders.us",
        "orders.eu.paris",
        "orders",
        "trades.eu",
    ] {
        system
            .exchange::<String>(name)
            .unwrap()
            .publish(name.to_string());
    }
    // Same name shape, other type: not matched, and no error.
    system.exchange::<u32>("orders.jp").unwrap().publish(1);
    assert_eq!(one.messages(), ["orders.eu", "orders.us"]);
    assert_eq!(
        rest.messages(),
        ["orders.eu", "orders.us", "orders.eu.paris"]
    );
}

#[test]
fn a_pattern_guard_detaches_everywhere() {
    let system = System::new();
    let counter = Counter::new();
    let a = system.exchange::<u8>("a.x").unwrap();
    let guard = system
        .subscribe_pattern::<u8>("a.*", counter.clone())
        .unwrap();
    let b = system.exchange::<u8>("a.y").unwrap();
    a.publish(1);
    b.publish(2);
    drop(guard);
    a.publish(3);
    b.publish(4);
    system.exchange::<u8>("a.z").unwrap().publish(5);
    assert_eq!(counter.count(), 2);
}

#[test]
fn names_types_and_patterns_are_checked() {
    let system = System::new();
    system.exchange::<String>("orders").unwrap();
    match system.exchange::<u64>("orders") {
        Err(ExchangeError::WrongType { name, actual, .. }) => {
            assert_eq!(name, "orders");
            assert!(actual.contains("String"));
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(matches!(
        system.exchange::<u8>("a..b"),
        Err(ExchangeError::InvalidName(_))
    ));
    assert!(matches!(
        system.exchange::<u8>("a.*"),
        Err(ExchangeError::InvalidName(_))
    ));
    assert!(matches!(
        system.attach_pattern::<u8>("a.>.b", Counter::new()),
        Err(ExchangeError::InvalidPattern(_))
    ));
}

struct Parked;
impl Actor for Parked {
    type Msg = u32;
    fn handle(&mut self, _: u32, _: &mut Context<u32>) -> HandlerResult {
        Ok(())
    }
}

#[test]
fn slow_subscribers_get_their_mailbox_policy_and_drops_are_counted() {
    let system = System::new();
    let dropped_events = Counter::new();
    system
        .exchange::<SystemEvent>(actor_core::DROPPED)
        .unwrap()
        .attach(dropped_events.clone());
    let feed = system.exchange::<u32>("feed").unwrap();
    // Runners that are never run: their mailboxes of 2 fill and stay full.
    let (dropper, _r1) = system
        .actor(|| Parked)
        .mailbox(Mailbox::bounded(2, Overflow::DropNewest))
        .build_runner()
        .unwrap();
    let (failer, _r2) = system
        .actor(|| Parked)
        .mailbox(Mailbox::bounded(2, Overflow::Fail))
        .build_runner()
        .unwrap();
    let drop_id = feed.attach(dropper.clone());
    let fail_id = feed.attach(failer.clone());
    let counter = Counter::new();
    feed.attach(counter.clone());
    for n in 0..5 {
        feed.publish(n);
    }
    assert_eq!(
        counter.count(),
        5,
        "a slow subscriber does not hold the others back"
    );
    let stats = feed.subscriptions();
    let dropped = |id| stats.iter().find(|s| s.id == id).unwrap().dropped;
    assert_eq!(dropped(drop_id), 3);
    assert_eq!(dropped(fail_id), 3);
    assert_eq!(dropper.dropped_count(), 3);
    assert_eq!(dropped_events.count(), 6);
    assert!(matches!(failer.try_tell(9), Err(SendError::Full(9))));
}

#[test]
fn a_blocking_subscriber_holds_the_publisher_back() {
    let system = System::new();
    let feed = system.exchange::<u32>("blocking").unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    feed.attach(tx);
    feed.publish(1);
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let publisher = std::thread::spawn(move || {
        feed.publish(2);
        done_tx.send(()).unwrap();
    });
    assert!(
        done.try_recv().is_err(),
        "the second publish waits for room"
    );
    assert_eq!(rx.recv_timeout(WAIT), Ok(1));
    done.recv_timeout(WAIT).unwrap();
    assert_eq!(rx.recv_timeout(WAIT), Ok(2));
    publisher.join().unwrap();
}

#[test]
fn taps_see_what_flows() {
    let system = System::new();
    let exchange = system.exchange::<String>("tapped").unwrap();
    let printer = Printer::debug();
    let recorder = Recorder::new(2);
    exchange.attach(printer.clone());
    exchange.attach(recorder.clone());
    exchange.attach(TracingTap);
    for word in ["a", "b", "c"] {
        assert_eq!(exchange.publish(word.to_string()), 3);
    }
    assert_eq!(printer.printed(), 3);
    assert_eq!(recorder.messages(), ["b", "c"]);
    assert_eq!(recorder.received(), 3);
}

#[test]
fn the_system_publishes_lifecycle_dead_letters_and_drops() {
    #[derive(Default)]
    struct Fragile;
    impl Actor for Fragile {
        type Msg = bool;
        fn handle(&mut self, panic: bool, _: &mut Context<bool>) -> HandlerResult {
            assert!(!panic, "asked to panic");
            Ok(())
        }
    }
    let system = System::new();
    let events = Recorder::new(100);
    system
        .attach_pattern::<SystemEvent>("system.>", events.clone())
        .unwrap();
    let fragile = system
        .actor(Fragile::default)
        .name("fragile")
        .supervision(Supervision::restart(1, Duration::from_secs(3600)))
        .spawn()
        .unwrap();
    fragile.tell(true).unwrap();
    fragile.tell(false).unwrap();
    fragile.stop();
    fragile.join().unwrap();
    assert!(matches!(fragile.tell(false), Err(SendError::Closed(false))));

    let id = fragile.id();
    let kinds: Vec<String> = events
        .messages()
        .into_iter()
        .map(|event| match event {
            SystemEvent::Started { actor, .. } if actor == id => "started".to_string(),
            SystemEvent::Failed { actor, .. } if actor == id => "failed".to_string(),
            SystemEvent::Restarted { actor, .. } if actor == id => "restarted".to_string(),
            SystemEvent::Stopped {
                actor,
                reason: ExitReason::Stopped,
                ..
            } if actor == id => "stopped".to_string(),
            SystemEvent::DeadLetter {
                actor: Some(actor),
                reason: DeadLetterReason::ActorGone,
                ..
            } if actor == id => "dead letter".to_string(),
            other => format!("unexpected: {other}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["started", "failed", "restarted", "stopped", "dead letter"]
    );
    system.shutdown();
}

#[test]
fn messages_discarded_by_a_kill_are_dead_letters() {
    let system = System::new();
    let dead = Counter::new();
    system
        .exchange::<SystemEvent>(actor_core::DEAD_LETTERS)
        .unwrap()
        .attach(dead.clone());
    let (parked, runner) = system.actor(|| Parked).build_runner().unwrap();
    for n in 0..10 {
        parked.tell(n).unwrap();
    }
    parked.kill();
    drop(runner);
    assert_eq!(dead.count(), 10);
}
