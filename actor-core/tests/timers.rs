//! Timers through the system: one shared thread, deadline order, cancel, self-cancel.

use std::time::{Duration, Instant};

use actor_core::{Actor, Context, HandlerResult, Inbox, RecvError, System};

const WAIT: Duration = Duration::from_secs(10);

/// Polls `condition` until it holds or `WAIT` passes.
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::yield_now();
    }
    condition()
}

#[test]
fn a_thousand_timers_fire_once_each_in_deadline_order() {
    let system = System::new();
    let inbox = Inbox::new();
    // A fixed shuffle of 0..1000, so the heap, not the scheduling order, decides.
    let order: Vec<u64> = (0..1000u64).map(|i| (i * 7919) % 1000).collect();
    let mut windows = vec![(Instant::now(), Instant::now()); 1000];
    let base = Duration::from_millis(50);
    for &i in &order {
        let delay = base + Duration::from_millis(i);
        let before = Instant::now();
        system.send_after(delay, inbox.actor_ref(), i);
        windows[i as usize] = (before + delay, Instant::now() + delay);
    }
    let fired: Vec<u64> = (0..1000)
        .map(|_| inbox.recv_timeout(WAIT).expect("every timer fires"))
        .collect();
    let mut sorted = fired.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..1000).collect::<Vec<_>>(),
        "each timer fired exactly once"
    );
    for pair in fired.windows(2) {
        let (first, second) = (windows[pair[0] as usize], windows[pair[1] as usize]);
        // Deadlines are only known within their scheduling window; no inversion may be
        // certain.
        assert!(
            first.0 <= second.1,
            "timer {} fired before {}",
            pair[0],
            pair[1]
        );
    }
    assert_eq!(inbox.try_recv(), Err(RecvError::Empty));
    system.shutdown();
}

#[test]
fn a_cancelled_timer_never_fires() {
    let system = System::new();
    let inbox = Inbox::new();
    let cancelled = system.send_after(Duration::from_millis(20), inbox.actor_ref(), "cancelled");
    let marker = system.send_after(Duration::from_millis(40), inbox.actor_ref(), "marker");
    cancelled.cancel();
    assert_eq!(inbox.recv_timeout(WAIT), Ok("marker"));
    assert_eq!(inbox.try_recv(), Err(RecvError::Empty));
    assert!(!marker.is_active());
    system.shutdown();
}

#[test]
fn an_interval_timer_whose_target_is_gone_cancels_itself() {
    struct Sink;
    impl Actor for Sink {
        type Msg = ();
        fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult {
            Ok(())
        }
    }
    let system = System::new();
    let sink = system.spawn(Sink).unwrap();
    let ticker = system.send_interval(Duration::from_millis(1), &sink, ());
    assert!(ticker.is_active());
    sink.stop();
    sink.join().unwrap();
    assert!(
        eventually(|| !ticker.is_active()),
        "the timer ends with its target"
    );
    system.shutdown();
}

#[test]
fn timers_after_shutdown_are_inactive() {
    let system = System::new();
    let inbox = Inbox::new();
    system.shutdown();
    let late = system.send_after(Duration::ZERO, inbox.actor_ref(), 1);
    assert!(!late.is_active());
}
