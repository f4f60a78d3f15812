//! The executor seam: an actor driven by hand through `Runner::run`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actor_core::{
    Actor, Context, ExitReason, Failure, HandlerResult, RunStatus, Supervision, System,
};

mod common;
use common::{Msg, Summer};

#[test]
fn a_runner_handles_at_most_a_batch_per_call() {
    let system = System::new();
    let (summer, mut runner) = system.actor(Summer::default).build_runner().unwrap();
    assert!(
        matches!(runner.run(64), RunStatus::Idle),
        "nothing queued yet"
    );
    for n in 1..=10 {
        summer.tell(Msg::Add(n)).unwrap();
    }
    let mut sum = summer.request(Msg::Sum).unwrap();
    assert!(matches!(runner.run(4), RunStatus::Yielded));
    assert!(matches!(runner.run(4), RunStatus::Yielded));
    assert_eq!(sum.try_get(), None, "the request is still queued");
    assert!(matches!(runner.run(4), RunStatus::Idle));
    assert_eq!(sum.try_get(), Some(Ok(55)));

    summer.tell(Msg::Add(1)).unwrap();
    summer.stop();
    assert!(matches!(
        runner.run(64),
        RunStatus::Stopped(ExitReason::Stopped)
    ));
    assert!(matches!(
        runner.run(64),
        RunStatus::Stopped(ExitReason::Stopped)
    ));
    assert!(!summer.is_alive());
    assert!(matches!(
        summer.join_timeout(Duration::from_secs(1)),
        Ok(ExitReason::Stopped)
    ));
}

#[test]
fn a_runner_applies_supervision() {
    let system = System::new();
    let (summer, mut runner) = system
        .actor(Summer::default)
        .supervision(Supervision::restart(1, Duration::from_secs(3600)))
        .build_runner()
        .unwrap();
    summer.tell(Msg::Add(5)).unwrap();
    summer.tell(Msg::Panic).unwrap();
    let mut sum = summer.request(Msg::Sum).unwrap();
    assert!(matches!(runner.run(64), RunStatus::Idle));
    assert_eq!(sum.try_get(), Some(Ok(0)), "restarted with fresh state");

    summer.tell(Msg::Panic).unwrap();
    match runner.run(64) {
        RunStatus::Stopped(ExitReason::Failed(Failure::Panic(msg))) => {
            assert_eq!(msg, "summer panicked")
        }
        other => panic!("expected the restart limit to stop it, got {other:?}"),
    }
}

#[test]
fn a_dropped_runner_ends_its_actor() {
    let system = System::new();
    let (summer, runner) = system.actor(Summer::default).build_runner().unwrap();
    let mut pending = summer.request(Msg::Sum).unwrap();
    assert_eq!(system.actor_count(), 1);
    drop(runner);
    assert!(matches!(summer.join().unwrap(), ExitReason::Killed));
    assert_eq!(
        pending.try_get(),
        Some(Err(actor_core::ReplyError::Dropped))
    );
    assert_eq!(system.actor_count(), 0);
    system.shutdown();
}

#[test]
fn a_killed_runner_stops_on_its_next_run() {
    let system = System::new();
    let (summer, mut runner) = system.actor(Summer::default).build_runner().unwrap();
    summer.tell(Msg::Add(1)).unwrap();
    summer.kill();
    assert!(matches!(
        runner.run(64),
        RunStatus::Stopped(ExitReason::Killed)
    ));
}

#[test]
fn a_stop_after_an_idle_run_leaves_mail_for_the_executor() {
    // An executor runs an actor again only if it has mail once the run is over: the wake-up
    // of a stop that came after the runner found its mailbox empty must count as mail, or
    // the actor is never run again and waiting for its end hangs.
    let system = System::new();
    let (summer, mut runner) = system.actor(Summer::default).build_for_executor().unwrap();
    assert!(matches!(runner.run(64), RunStatus::Idle));
    summer.stop();
    assert!(runner.has_mail(), "the stop's wake-up is mail");
    assert!(matches!(
        runner.run(64),
        RunStatus::Stopped(ExitReason::Stopped)
    ));
    system.shutdown();
}

/// Counts its `stopped` hook.
struct Hooked(Arc<AtomicUsize>);

impl Actor for Hooked {
    type Msg = ();
    fn handle(&mut self, (): (), _: &mut Context<()>) -> HandlerResult {
        Ok(())
    }
    fn stopped(&mut self, _: &mut Context<()>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn an_instance_never_started_ends_without_its_stopped_hook() {
    // The instance waits in the runner for its first run: dropping the runner before then
    // must not run the hook of an actor whose `started` never ran.
    let system = System::new();
    let stops = Arc::new(AtomicUsize::new(0));
    let (hooked, runner) = system
        .actor_from(Hooked(Arc::clone(&stops)))
        .build_runner()
        .unwrap();
    drop(runner);
    assert!(matches!(
        hooked.join_timeout(Duration::from_secs(1)),
        Ok(ExitReason::Killed)
    ));
    assert_eq!(stops.load(Ordering::SeqCst), 0);

    let (hooked, mut runner) = system
        .actor_from(Hooked(Arc::clone(&stops)))
        .build_runner()
        .unwrap();
    assert!(matches!(runner.run(64), RunStatus::Idle));
    hooked.stop();
    assert!(matches!(
        runner.run(64),
        RunStatus::Stopped(ExitReason::Stopped)
    ));
    assert_eq!(
        stops.load(Ordering::SeqCst),
        1,
        "a started instance's hook runs once"
    );
}

#[test]
fn a_finished_runner_keeps_saying_why_its_actor_ended() {
    let system = System::new();
    let (summer, mut runner) = system.actor(Summer::default).build_runner().unwrap();
    summer.tell(Msg::Panic).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            runner.run(64),
            RunStatus::Stopped(ExitReason::Failed(Failure::Panic(_)))
        ));
    }
}
