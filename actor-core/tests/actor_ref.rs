//! Black-box tests of `ActorRef`: delivery, stop, kill, ask, join.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actor_core::{
    Actor, ActorRef, AskError, Context, ExitReason, HandlerResult, JoinError, Pending, Reply,
    SendError, System,
};
use crossbeam_channel::{Receiver, Sender, bounded};

const WAIT: Duration = Duration::from_secs(10);

enum Msg {
    /// Blocks the actor until the gate is released (or dropped).
    Hold(Sender<()>, Receiver<()>),
    Count(u64),
    Total(Reply<u64>),
}

#[derive(Default)]
struct Counter {
    handled: Arc<AtomicU64>,
    sum: u64,
}

impl Actor for Counter {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        self.handled.fetch_add(1, Ordering::Relaxed);
        match msg {
            Msg::Hold(entered, gate) => {
                entered.send(())?;
                let _ = gate.recv();
            }
            Msg::Count(n) => self.sum += n,
            Msg::Total(reply) => reply.send(self.sum),
        }
        Ok(())
    }
}

/// Parks the actor inside a handler; returns the sender that releases it (dropping it does too).
fn hold(actor: &ActorRef<Msg>) -> Sender<()> {
    let (entered_tx, entered_rx) = bounded(1);
    let (gate_tx, gate_rx) = bounded(0);
    actor.tell(Msg::Hold(entered_tx, gate_rx)).unwrap();
    entered_rx
        .recv_timeout(WAIT)
        .expect("actor entered the held handler");
    gate_tx
}

#[test]
fn no_message_is_lost_from_four_senders() {
    const SENDERS: u64 = 4;
    const PER_SENDER: u64 = 250_000;
    let system = System::new();
    let counter = system.spawn(Counter::default()).unwrap();
    let start = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for i in 0..PER_SENDER {
                    counter.tell(Msg::Count(s * PER_SENDER + i)).unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let total = counter.ask(Msg::Total, WAIT).unwrap();
    let elapsed = start.elapsed();
    let n = SENDERS * PER_SENDER;
    assert_eq!(total, n * (n - 1) / 2);
    println!(
        "{n} tells from {SENDERS} threads handled in {elapsed:?} ({:.0} msgs/s)",
        n as f64 / elapsed.as_secs_f64()
    );
    system.shutdown();
}

#[test]
fn messages_from_one_sender_arrive_in_order() {
    struct Ordered(u64);
    impl Actor for Ordered {
        type Msg = (u64, Option<Reply<u64>>);
        fn handle(&mut self, (n, reply): Self::Msg, _: &mut Context<Self::Msg>) -> HandlerResult {
            if let Some(reply) = reply {
                reply.send(self.0);
            } else if n == self.0 {
                self.0 += 1;
            } else {
                return Err(format!("expected {}, got {n}", self.0).into());
            }
            Ok(())
        }
    }
    let system = System::new();
    let ordered = system.spawn(Ordered(0)).unwrap();
    for n in 0..10_000 {
        ordered.tell((n, None)).unwrap();
    }
    assert_eq!(ordered.ask(|r| (0, Some(r)), WAIT).unwrap(), 10_000);
    system.shutdown();
}

#[test]
fn stop_handles_every_queued_message_first() {
    let system = System::new();
    let handled = Arc::new(AtomicU64::new(0));
    let counter = system
        .spawn(Counter {
            handled: Arc::clone(&handled),
            sum: 0,
        })
        .unwrap();
    let gate = hold(&counter);
    for i in 0..1_000 {
        counter.tell(Msg::Count(i)).unwrap();
    }
    let total = counter.request(Msg::Total).unwrap();
    counter.stop();
    assert!(
        counter.is_alive(),
        "a stopping actor is alive until it ends"
    );
    match counter.tell(Msg::Count(1)) {
        Err(SendError::Closed(Msg::Count(1))) => {}
        other => panic!("a tell after stop must be refused, got {other:?}"),
    }
    drop(gate);
    assert!(matches!(counter.join().unwrap(), ExitReason::Stopped));
    assert_eq!(handled.load(Ordering::Relaxed), 1 + 1_000 + 1);
    assert_eq!(total.wait().unwrap(), 999 * 1_000 / 2);
    assert!(!counter.is_alive());
}

#[test]
fn kill_does_not_wait_for_queued_messages() {
    let system = System::new();
    let handled = Arc::new(AtomicU64::new(0));
    let counter = system
        .spawn(Counter {
            handled: Arc::clone(&handled),
            sum: 0,
        })
        .unwrap();
    let gate = hold(&counter);
    for i in 0..1_000 {
        counter.tell(Msg::Count(i)).unwrap();
    }
    let total: Pending<u64> = counter.request(Msg::Total).unwrap();
    // Returns while the actor is still parked in its handler.
    counter.kill();
    drop(gate);
    assert!(matches!(counter.join().unwrap(), ExitReason::Killed));
    assert_eq!(
        handled.load(Ordering::Relaxed),
        1,
        "only the message in hand was handled"
    );
    assert_eq!(total.wait(), Err(actor_core::ReplyError::Dropped));
}

#[test]
fn ask_to_a_busy_actor_times_out_in_about_its_timeout() {
    let system = System::new();
    let counter = system.spawn(Counter::default()).unwrap();
    let gate = hold(&counter);
    let timeout = Duration::from_millis(100);
    let start = Instant::now();
    assert_eq!(counter.ask(Msg::Total, timeout), Err(AskError::Timeout));
    let elapsed = start.elapsed();
    assert!(elapsed >= timeout, "returned early: {elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_secs(5),
        "returned late: {elapsed:?}"
    );
    drop(gate);
    system.shutdown();
}

#[test]
fn ask_to_a_stopped_actor_fails_at_once() {
    let system = System::new();
    let counter = system.spawn(Counter::default()).unwrap();
    counter.stop();
    counter.join().unwrap();
    let start = Instant::now();
    assert_eq!(
        counter.ask(Msg::Total, Duration::from_secs(60)),
        Err(AskError::Closed)
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_request_dropped_unanswered_fails_the_asker_at_once() {
    struct Forgetful;
    impl Actor for Forgetful {
        type Msg = Reply<u8>;
        fn handle(&mut self, reply: Reply<u8>, _: &mut Context<Reply<u8>>) -> HandlerResult {
            drop(reply);
            Ok(())
        }
    }
    let system = System::new();
    let forgetful = system.spawn(Forgetful).unwrap();
    let start = Instant::now();
    assert_eq!(
        forgetful.ask(|r| r, Duration::from_secs(60)),
        Err(AskError::Dropped)
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    system.shutdown();
}

#[test]
fn an_actor_cannot_join_itself() {
    struct SelfJoin;
    impl Actor for SelfJoin {
        type Msg = Reply<Result<ExitReason, JoinError>>;
        fn handle(&mut self, reply: Self::Msg, ctx: &mut Context<Self::Msg>) -> HandlerResult {
            reply.send(ctx.myself().join());
            Ok(())
        }
    }
    let system = System::new();
    let actor = system.spawn(SelfJoin).unwrap();
    let answer = actor.ask(|r| r, WAIT).unwrap();
    assert_eq!(answer.unwrap_err(), JoinError::OwnActor);
    system.shutdown();
}

#[test]
fn refs_compare_by_identity_and_report_liveness() {
    let system = System::new();
    let a = system.spawn(Counter::default()).unwrap();
    let b = system.spawn(Counter::default()).unwrap();
    assert_eq!(a, a.clone());
    assert_ne!(a, b);
    assert!(a.is_alive());
    a.stop();
    a.join().unwrap();
    assert!(!a.is_alive());
    assert!(b.is_alive());
    system.shutdown();
    assert!(!b.is_alive());
}

#[test]
fn public_handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ActorRef<Msg>>();
    check::<System>();
    check::<Pending<u64>>();
    check::<Reply<u64>>();
    check::<SendError<u64>>();
}

/// Asks itself from its handler when told to, and reports what came of it.
struct SelfAsker {
    me: Option<ActorRef<Ask>>,
    outcome: crossbeam_channel::Sender<Result<u32, AskError>>,
}

enum Ask {
    Yourself,
    Value(Reply<u32>),
    Me(ActorRef<Ask>),
}

impl Actor for SelfAsker {
    type Msg = Ask;
    fn handle(&mut self, msg: Ask, _: &mut Context<Ask>) -> HandlerResult {
        match msg {
            Ask::Me(me) => self.me = Some(me),
            Ask::Value(reply) => reply.send(7),
            Ask::Yourself => {
                if let Some(me) = &self.me {
                    // A timeout far longer than the test: an ask that waited would fail it.
                    let answer = me.ask(Ask::Value, std::time::Duration::from_secs(3600));
                    let _ = self.outcome.send(answer);
                }
            }
        }
        Ok(())
    }
}

#[test]
fn an_actor_that_asks_itself_gets_an_error_at_once() {
    let system = System::new();
    let (outcome, outcomes) = crossbeam_channel::unbounded();
    let actor = system.spawn(SelfAsker { me: None, outcome }).unwrap();
    actor.tell(Ask::Me(actor.clone())).unwrap();
    actor.tell(Ask::Yourself).unwrap();
    let answer = outcomes.recv().unwrap();
    assert_eq!(answer, Err(AskError::AskedItself));
    // From outside its handler, the same ref asks as usual.
    assert_eq!(
        actor.ask(Ask::Value, std::time::Duration::from_secs(10)),
        Ok(7)
    );
    system.shutdown();
}

/// Two actors that ask each other from their handlers.
enum Cross {
    /// Ask the other actor `Back`, and send the outcome out.
    Start(
        ActorRef<Cross>,
        Sender<Result<Result<(), AskError>, AskError>>,
    ),
    /// Ask the sender (blocked asking us) `Ping`, and answer with the outcome.
    Back(ActorRef<Cross>, Reply<Result<(), AskError>>),
    Ping(Reply<()>),
}

struct CrossAsker;

impl Actor for CrossAsker {
    type Msg = Cross;

    fn handle(&mut self, msg: Cross, ctx: &mut Context<Cross>) -> HandlerResult {
        match msg {
            Cross::Start(other, outcome) => {
                let me = ctx.myself().clone();
                let _ = outcome.send(other.ask(|reply| Cross::Back(me, reply), WAIT));
            }
            Cross::Back(asker, reply) => {
                // Cannot be answered: the asker waits for this handler to end.
                reply.send(asker.ask(Cross::Ping, Duration::from_millis(100)));
            }
            Cross::Ping(reply) => reply.send(()),
        }
        Ok(())
    }
}

#[test]
fn two_actors_asking_each_other_publish_an_ask_cycle_warning() {
    let system = System::new();
    let (warnings_tx, warnings) = crossbeam_channel::unbounded();
    let _guard = system
        .exchange::<actor_core::SystemEvent>(actor_core::WARNINGS)
        .unwrap()
        .attach(warnings_tx);
    let a = system.spawn(CrossAsker).unwrap();
    let b = system.spawn(CrossAsker).unwrap();
    let (outcome_tx, outcome) = crossbeam_channel::unbounded();
    a.tell(Cross::Start(b.clone(), outcome_tx)).unwrap();

    match warnings.recv_timeout(WAIT).unwrap() {
        actor_core::SystemEvent::AskCycle { asker, target, .. } => {
            assert_eq!((asker, target), (b.id(), a.id()));
        }
        other => panic!("unexpected event {other}"),
    }
    // The inner ask timed out, and its error reached the outer asker as the answer.
    assert_eq!(
        outcome.recv_timeout(WAIT).unwrap(),
        Ok(Err(AskError::Timeout))
    );
    // Asks that are not cycles warn of nothing.
    assert_eq!(a.ask(Cross::Ping, WAIT), Ok(()));
    assert!(warnings.try_recv().is_err());
    system.shutdown();
}
