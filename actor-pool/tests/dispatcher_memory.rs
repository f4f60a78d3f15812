//! 100,000 actors spawned and stopped on a dispatcher, twice: memory comes back to where
//! it was, so nothing is kept per actor once it has ended.
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
    let second_peak = cycle(&system, &dispatcher);
    let after_second = rss_bytes();
    println!(
        "rss: before {before}, peak {first_peak}, after {after_first}; \
         second peak {second_peak}, after {after_second}; \
         {} bytes per live actor",
        (first_peak - before) / ACTORS
    );
    // The second round reuses the memory the first one freed: no growth per round.
    let slack = (first_peak - before) / 10;
    assert!(
        second_peak <= first_peak + slack,
        "the second round needed more memory: {second_peak} > {first_peak}"
    );
    assert!(
        after_second <= after_first + slack,
        "memory grew across rounds"
    );
    dispatcher.shutdown();
    system.shutdown();
}
