//! 100,000 actors spawned and stopped on a dispatcher, round after round: memory comes back
//! to where it was, so nothing is kept per actor once it has ended.
//!
//! The only test in this binary, so that no other test's memory blurs the figures.

use std::time::Duration;

use actor_core::{Actor, Context, HandlerResult, System};
use actor_pool::Dispatcher;

const ACTORS: usize = 100_000;

struct Idle;

impl Actor for Idle {
    type Msg = ();
    fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult {
        Ok(())
    }
}

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

/// Spawns `ACTORS` idle actors, then stops them all; returns the RSS while they lived.
fn cycle(system: &System, dispatcher: &Dispatcher) -> usize {
    let actors: Vec<_> = (0..ACTORS)
        .map(|_| dispatcher.spawn(Idle).unwrap())
        .collect();
    let peak = rss_bytes();
    for actor in &actors {
        actor.stop();
    }
    for actor in &actors {
        actor.join_timeout(Duration::from_secs(60)).unwrap();
    }
    drop(actors);
    assert_eq!(dispatcher.actor_count(), 0);
    assert_eq!(system.actor_count(), 0);
    peak
}

#[test]
fn a_hundred_thousand_actors_come_and_go_without_keeping_memory() {
    let system = System::new();
    let dispatcher = Dispatcher::new(&system, 2).unwrap();
    let before = rss_bytes();
    let first_peak = cycle(&system, &dispatcher);
    let after_first = rss_bytes();
    let mut after = Vec::new();
    for _ in 0..5 {
        cycle(&system, &dispatcher);
        after.push(rss_bytes());
    }
    println!(
        "rss: before {before}, first peak {first_peak} ({} bytes per live actor), \
         after the first round {after_first}, after each further round {after:?}",
        (first_peak - before) / ACTORS
    );
    // After the allocator has settled (a couple of rounds), later rounds reuse the memory
    // the earlier ones left: no growth per round beyond the allocator's slack.
    let slack = (first_peak - before) / 10;
    let last = after[after.len() - 1];
    assert!(
        last <= after[1] + slack,
        "memory grew across rounds: {after:?}"
    );
    assert!(
        last <= first_peak * 3 / 2,
        "memory stays near the first round's: {after:?}"
    );
    dispatcher.shutdown();
    system.shutdown();
}
