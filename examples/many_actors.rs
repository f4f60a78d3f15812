//! A hundred thousand actors on two threads: a ring of 100,000 actors on a 2-thread
//! dispatcher passes a token around ten times (1,000,000 hops), counting down to zero, while
//! a printer actor receives every value. Prints the spawn time per actor, the hops per
//! second and the resident memory per idle actor.
//!
//! Run with `cargo run --release --example many_actors` (or give the ring size and the number
//! of laps: `-- 10000 3`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actor::pool::Dispatcher;
use actor::prelude::*;

enum RingMsg {
    /// The token, with the number of hops still to go.
    Hop(u64),
    /// Closes the ring: the last actor learns of the first.
    Link(ActorRef<RingMsg>),
}

struct RingNode {
    next: Option<ActorRef<RingMsg>>,
    printer: ActorRef<u64>,
    started: Arc<AtomicUsize>,
    done: crossbeam_channel::Sender<()>,
}

impl Actor for RingNode {
    type Msg = RingMsg;

    fn started(&mut self, _ctx: &mut Context<RingMsg>) -> HandlerResult {
        self.started.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn handle(&mut self, msg: RingMsg, _ctx: &mut Context<RingMsg>) -> HandlerResult {
        match msg {
            RingMsg::Link(next) => self.next = Some(next),
            RingMsg::Hop(remaining) => {
                self.printer.tell(remaining)?;
                if remaining == 0 {
                    self.done.send(())?;
                } else if let Some(next) = &self.next {
                    next.tell(RingMsg::Hop(remaining - 1))?;
                }
            }
        }
        Ok(())
    }
}

/// Receives every value of the countdown; prints a line every `every` values.
struct Printer {
    received: u64,
    every: u64,
}

impl Actor for Printer {
    type Msg = u64;

    fn handle(&mut self, value: u64, _ctx: &mut Context<u64>) -> HandlerResult {
        self.received += 1;
        if self.received.is_multiple_of(self.every) || value == 0 {
            println!(
                "printer: {} values received, token at {value}",
                self.received
            );
        }
        Ok(())
    }
}

fn rss_bytes() -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmRSS in /proc/self/status")?;
    Ok(kib * 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let actors: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let laps: u64 = args.next().map_or(Ok(10), |a| a.parse())?;
    let hops = actors as u64 * laps;

    let system = System::new();
    let dispatcher = Dispatcher::new(&system, 2)?;
    let printer = dispatcher.spawn(Printer {
        received: 0,
        every: (hops / 10).max(1),
    })?;
    let started = Arc::new(AtomicUsize::new(0));
    let (done_tx, done) = crossbeam_channel::bounded(1);

    println!("spawning a ring of {actors} actors on a 2-thread dispatcher");
    let rss_before = rss_bytes()?;
    let spawn_start = Instant::now();
    let mut next: Option<ActorRef<RingMsg>> = None;
    let mut last = None;
    for _ in 0..actors {
        let node = dispatcher.spawn(RingNode {
            next: next.take(),
            printer: printer.clone(),
            started: Arc::clone(&started),
            done: done_tx.clone(),
        })?;
        last.get_or_insert_with(|| node.clone());
        next = Some(node);
    }
    while started.load(Ordering::Relaxed) < actors {
        std::thread::yield_now();
    }
    let spawn_time = spawn_start.elapsed();
    let rss_after = rss_bytes()?;
    let first = next.ok_or("an empty ring")?;
    last.ok_or("an empty ring")?
        .tell(RingMsg::Link(first.clone()))?;

    println!("passing a token around the ring {laps} times ({hops} hops)");
    let hop_start = Instant::now();
    first.tell(RingMsg::Hop(hops - 1))?;
    done.recv_timeout(Duration::from_secs(600))?;
    let hop_time = hop_start.elapsed();

    println!(
        "spawn: {:.2} µs per actor ({actors} actors in {spawn_time:.2?})",
        spawn_time.as_secs_f64() * 1e6 / actors as f64
    );
    println!(
        "hops: {:.0} per second ({hops} in {hop_time:.2?})",
        hops as f64 / hop_time.as_secs_f64()
    );
    println!(
        "memory: {} bytes per idle actor (resident, {} MiB for the ring)",
        rss_after.saturating_sub(rss_before) / actors as u64,
        rss_after.saturating_sub(rss_before) / (1024 * 1024)
    );
    dispatcher.shutdown();
    system.shutdown();
    Ok(())
}
