//! Failures are caught at the actor's boundary and handled by its supervision policy.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actor_core::{
    Actor, AskError, Context, ExitReason, Failure, HandlerResult, Reply, SpawnError, Supervision,
    System,
};

const WAIT: Duration = Duration::from_secs(10);

enum Msg {
    Incr,
    Panic,
    Fail,
    Get(Reply<u32>),
}

struct Fragile {
    count: u32,
}

impl Actor for Fragile {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Incr => self.count += 1,
            Msg::Panic => panic!("fragile broke at {}", self.count),
            Msg::Fail => return Err(format!("fragile failed at {}", self.count).into()),
            Msg::Get(reply) => reply.send(self.count),
        }
        Ok(())
    }
}

fn factory(instances: &Arc<AtomicUsize>) -> impl FnMut() -> Fragile + Send + 'static {
    let instances = Arc::clone(instances);
    move || {
        instances.fetch_add(1, Ordering::SeqCst);
        Fragile { count: 0 }
    }
}

#[test]
fn a_panicking_actor_restarts_fresh_until_its_limit_then_monitors_get_down() {
    let system = System::new();
    let instances = Arc::new(AtomicUsize::new(0));
    let fragile = system
        .actor(factory(&instances))
        .supervision(Supervision::restart(2, Duration::from_secs(3600)))
        .spawn()
        .unwrap();
    let down = fragile.monitor();

    fragile.tell(Msg::Incr).unwrap();
    fragile.tell(Msg::Incr).unwrap();
    assert_eq!(fragile.ask(Msg::Get, WAIT).unwrap(), 2);

    // The panic stays on the actor's side: the sender's tell succeeded and it goes on.
    fragile.tell(Msg::Panic).unwrap();
    assert_eq!(
        fragile.ask(Msg::Get, WAIT).unwrap(),
        0,
        "restarted with fresh state"
    );
    fragile.tell(Msg::Incr).unwrap();
    fragile.tell(Msg::Fail).unwrap();
    assert_eq!(
        fragile.ask(Msg::Get, WAIT).unwrap(),
        0,
        "an Err restarts it too"
    );
    assert_eq!(instances.load(Ordering::SeqCst), 3);
    assert!(!down.is_ready());

    // The third failure within the window exceeds the limit of 2 restarts.
    fragile.tell(Msg::Panic).unwrap();
    let notice = down.wait().unwrap();
    assert_eq!(notice.id, fragile.id());
    match notice.reason {
        ExitReason::Failed(Failure::Panic(msg)) => assert_eq!(msg, "fragile broke at 0"),
        other => panic!("expected a panic failure, got {other:?}"),
    }
    assert!(!fragile.is_alive());
    assert_eq!(instances.load(Ordering::SeqCst), 3);
    assert_eq!(fragile.ask(Msg::Get, WAIT), Err(AskError::Closed));
}

#[test]
fn a_request_in_flight_when_the_handler_panics_fails_with_dropped() {
    struct PanicOnAsk;
    impl Actor for PanicOnAsk {
        type Msg = Reply<u8>;
        fn handle(&mut self, _reply: Reply<u8>, _: &mut Context<Reply<u8>>) -> HandlerResult {
            panic!("no answer")
        }
    }
    let system = System::new();
    let actor = system.spawn(PanicOnAsk).unwrap();
    assert_eq!(actor.ask(|r| r, WAIT), Err(AskError::Dropped));
    assert!(matches!(
        actor.join().unwrap(),
        ExitReason::Failed(Failure::Panic(_))
    ));
}

#[test]
fn resume_keeps_the_state_and_drops_the_failing_message() {
    let system = System::new();
    let fragile = system
        .actor_from(Fragile { count: 0 })
        .supervision(Supervision::Resume)
        .spawn()
        .unwrap();
    fragile.tell(Msg::Incr).unwrap();
    fragile.tell(Msg::Panic).unwrap();
    fragile.tell(Msg::Fail).unwrap();
    fragile.tell(Msg::Incr).unwrap();
    assert_eq!(fragile.ask(Msg::Get, WAIT).unwrap(), 2);
    system.shutdown();
}

#[test]
fn stop_policy_ends_the_actor_with_the_error() {
    let system = System::new();
    let fragile = system.spawn(Fragile { count: 7 }).unwrap();
    fragile.tell(Msg::Fail).unwrap();
    match fragile.join().unwrap() {
        ExitReason::Failed(Failure::Error(e)) => assert_eq!(e.to_string(), "fragile failed at 7"),
        other => panic!("expected an error failure, got {other:?}"),
    }
}

#[test]
fn a_failing_started_hook_is_supervised() {
    struct BadStart(Arc<AtomicUsize>);
    impl Actor for BadStart {
        type Msg = Reply<()>;
        fn started(&mut self, _: &mut Context<Reply<()>>) -> HandlerResult {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err("first start fails".into());
            }
            Ok(())
        }
        fn handle(&mut self, reply: Reply<()>, _: &mut Context<Reply<()>>) -> HandlerResult {
            reply.send(());
            Ok(())
        }
    }
    let system = System::new();
    let starts = Arc::new(AtomicUsize::new(0));
    let starts2 = Arc::clone(&starts);
    let actor = system
        .actor(move || BadStart(Arc::clone(&starts2)))
        .supervision(Supervision::restart(1, Duration::from_secs(3600)))
        .spawn()
        .unwrap();
    actor.ask(|r| r, WAIT).unwrap();
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    system.shutdown();
}

#[test]
fn stopped_hook_runs_before_a_restart_and_at_the_end() {
    struct Hooked(Arc<AtomicUsize>);
    impl Actor for Hooked {
        type Msg = bool;
        fn handle(&mut self, fail: bool, _: &mut Context<bool>) -> HandlerResult {
            if fail {
                Err("asked to fail".into())
            } else {
                Ok(())
            }
        }
        fn stopped(&mut self, _: &mut Context<bool>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let system = System::new();
    let stops = Arc::new(AtomicUsize::new(0));
    let stops2 = Arc::clone(&stops);
    let actor = system
        .actor(move || Hooked(Arc::clone(&stops2)))
        .supervision(Supervision::restart(5, Duration::from_secs(3600)))
        .spawn()
        .unwrap();
    actor.tell(true).unwrap();
    actor.stop();
    actor.join().unwrap();
    assert_eq!(stops.load(Ordering::SeqCst), 2);
}

#[test]
fn restart_needs_a_factory() {
    let system = System::new();
    let err = system
        .actor_from(Fragile { count: 0 })
        .supervision(Supervision::restart(1, Duration::from_secs(1)))
        .spawn()
        .unwrap_err();
    assert!(matches!(err, SpawnError::RestartNeedsFactory));
}

#[test]
fn a_thread_monitor_of_an_ended_actor_is_told_at_once() {
    let system = System::new();
    let fragile = system.spawn(Fragile { count: 0 }).unwrap();
    fragile.stop();
    fragile.join().unwrap();
    let mut down = fragile.monitor();
    let notice = down.try_get().expect("ready at once").unwrap();
    assert!(matches!(notice.reason, ExitReason::Stopped));
}
