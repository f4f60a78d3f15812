//! A hundred thousand actors on two threads: a ring of 100,000 actors on a 2-thread
//! dispatcher passes a token around ten times (1,000,000 hops), counting down to zero, while
//! a printer actor receives every value. Prints the spawn time per actor, the hops per
//! second and the resident memory of the idle ring, per actor and in total.
//!
//! Run with `cargo run --release --example many_actors`. `--actors N` sets the ring's size
//! and `--laps N` the number of laps: a million idle actors fit in well under a gigabyte
//! (`-- --actors 1000000`). The two numbers may also be given bare, size first
//! (`-- 10000 3`).

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

/// The ring's size and the number of laps, from the command line.
struct Options {
    actors: usize,
    laps: u64,
}

impl Options {
    const USAGE: &str = "usage: many_actors [--actors N (100000)] [--laps N (10)]";

    fn parse() -> Result<Options, String> {
        let mut options = Options {
            actors: 100_000,
            laps: 10,
        };
        let mut args = std::env::args().skip(1);
        let mut bare = 0;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--actors" => options.actors = number("--actors", args.next())?,
                "--laps" => options.laps = number("--laps", args.next())?,
                "-h" | "--help" => {
                    println!("{}", Options::USAGE);
                    std::process::exit(0);
                }
                // The older form: the ring's size, then the laps, bare.
                bare_number if bare == 0 && !bare_number.starts_with('-') => {
                    options.actors = number("the ring's size", Some(arg.clone()))?;
                    bare += 1;
                }
                bare_number if bare == 1 && !bare_number.starts_with('-') => {
                    options.laps = number("the laps", Some(arg.clone()))?;
                    bare += 1;
                }
                other => return Err(format!("unexpected argument {other:?}\n{}", Options::USAGE)),
            }
        }
        if options.actors == 0 || options.laps == 0 {
            return Err("the ring needs at least one actor and one lap".to_string());
        }
        Ok(options)
    }
}

/// The number `what` takes, from `value`.
fn number<T: std::str::FromStr>(what: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{what} takes a number"))?;
    value
        .parse()
        .map_err(|_| format!("{what} takes a number, not {value:?}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Options { actors, laps } = Options::parse().unwrap_or_else(|message| {
        eprintln!("many_actors: {message}");
        std::process::exit(2);
    });
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
    let ring = rss_after.saturating_sub(rss_before);
    println!(
        "memory: {} bytes per idle actor ({} MiB resident for the ring of {actors}, {} MiB for \
         the whole process)",
        ring / actors as u64,
        ring / (1024 * 1024),
        rss_after / (1024 * 1024)
    );
    dispatcher.shutdown();
    system.shutdown();
    Ok(())
}
