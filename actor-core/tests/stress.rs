//! Load: many senders, many actors, exact counts and per-sender order, also while one actor
//! keeps failing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actor_core::{Actor, Context, ExitReason, HandlerResult, Reply, Supervision, System};

const WAIT: Duration = Duration::from_secs(60);

enum Msg {
    /// (sender, sequence number from that sender)
    Seq(usize, u64),
    Panic,
    Report(Reply<(u64, bool)>),
}

/// Counts messages and checks that each sender's numbers arrive in order.
struct Checker {
    next: Vec<u64>,
    count: u64,
    in_order: bool,
}

impl Checker {
    fn new(senders: usize) -> Checker {
        Checker {
            next: vec![0; senders],
            count: 0,
            in_order: true,
        }
    }
}

impl Actor for Checker {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Seq(sender, n) => {
                if self.next[sender] != n {
                    self.in_order = false;
                }
                self.next[sender] = n + 1;
                self.count += 1;
            }
            Msg::Panic => panic!("asked to fail"),
            Msg::Report(reply) => reply.send((self.count, self.in_order)),
        }
        Ok(())
    }
}

#[test]
fn a_million_tells_from_eight_threads_to_eight_actors() {
    const SENDERS: usize = 8;
    const PER_SENDER: u64 = 125_000;
    let system = System::new();
    let actors: Vec<_> = (0..8)
        .map(|_| system.spawn(Checker::new(SENDERS)).unwrap())
        .collect();
    let threads: Vec<_> = (0..SENDERS)
        .map(|s| {
            let actors = actors.clone();
            std::thread::spawn(move || {
                // Each sender numbers its messages per actor, round robin over the actors.
                let mut seq = vec![0u64; actors.len()];
                for i in 0..PER_SENDER {
                    let a = (i as usize + s) % actors.len();
                    actors[a].tell(Msg::Seq(s, seq[a])).unwrap();
                    seq[a] += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut total = 0;
    for actor in &actors {
        let (count, in_order) = actor.ask(Msg::Report, WAIT).unwrap();
        assert!(in_order, "each sender's messages arrive in order");
        total += count;
    }
    assert_eq!(total, SENDERS as u64 * PER_SENDER);
    system.shutdown();
}

#[test]
fn a_failing_actor_under_load_loses_nothing_for_the_others_and_keeps_its_limit() {
    const SENDERS: usize = 4;
    const PER_SENDER: u64 = 50_000;
    let system = System::new();
    let steady: Vec<_> = (0..3)
        .map(|_| system.spawn(Checker::new(SENDERS)).unwrap())
        .collect();
    let restarts = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&restarts);
    let fragile = system
        .actor(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            Checker::new(SENDERS)
        })
        .supervision(Supervision::restart(5, Duration::from_secs(3600)))
        .spawn()
        .unwrap();
    let down = fragile.monitor();
    let threads: Vec<_> = (0..SENDERS)
        .map(|s| {
            let steady = steady.clone();
            let fragile = fragile.clone();
            std::thread::spawn(move || {
                let mut seq = vec![0u64; steady.len()];
                for i in 0..PER_SENDER {
                    let a = i as usize % steady.len();
                    steady[a].tell(Msg::Seq(s, seq[a])).unwrap();
                    seq[a] += 1;
                    if i % 5_000 == 0 {
                        // Refused once the fragile actor has used up its restarts.
                        let _ = fragile.tell(Msg::Panic);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut total = 0;
    for actor in &steady {
        let (count, in_order) = actor.ask(Msg::Report, WAIT).unwrap();
        assert!(in_order);
        total += count;
    }
    assert_eq!(
        total,
        SENDERS as u64 * PER_SENDER,
        "nothing lost for the actors that did not fail"
    );
    // 4 senders x 10 panics each: the limit of 5 restarts ends it.
    assert!(matches!(down.wait().unwrap().reason, ExitReason::Failed(_)));
    assert_eq!(
        restarts.load(Ordering::Relaxed),
        1 + 5,
        "the first instance and 5 restarts"
    );
    system.shutdown();
}
