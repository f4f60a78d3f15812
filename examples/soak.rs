//! A soak test, run by hand: two nodes exchange asks over authenticated TCP for a while
//! (60 seconds by default), and the resident memory is printed every ten seconds, so that a
//! leak shows as a climb.
//!
//! Run with `cargo run --release --example soak` (or `-- SECONDS`).

use std::time::{Duration, Instant};

use actor::net::{Node, RemoteMessage, Secret};
use actor::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Next(u64, Reply<u64>);

impl RemoteMessage for Next {
    const NAME: &'static str = "soak.next";
}

struct Incrementer;

impl Actor for Incrementer {
    type Msg = Next;
    fn handle(&mut self, Next(n, reply): Next, _ctx: &mut Context<Next>) -> HandlerResult {
        reply.send(n + 1);
        Ok(())
    }
}

fn rss_kib() -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc/self/status".into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).map_or(Ok(60), |s| s.parse())?;
    let secret = Secret::generate()?;
    let system = System::new();
    let a = Node::builder(secret.clone())
        .name("a")
        .listen("127.0.0.1:0")
        .build()?;
    let b = Node::builder(secret)
        .name("b")
        .listen("127.0.0.1:0")
        .build()?;
    a.export("inc", &system.spawn(Incrementer)?)?;
    b.export("inc", &system.spawn(Incrementer)?)?;
    let at_a = b.lookup::<Next>(a.local_addr().ok_or("a is not listening")?, "inc")?;
    let at_b = a.lookup::<Next>(b.local_addr().ok_or("b is not listening")?, "inc")?;

    let timeout = Duration::from_secs(10);
    let start = Instant::now();
    let mut next_report = Duration::from_secs(10);
    let mut asks = 0u64;
    let mut n = 0u64;
    println!(
        "two nodes exchanging asks for {seconds} s; rss at start: {} KiB",
        rss_kib()?
    );
    while start.elapsed() < Duration::from_secs(seconds) {
        n = at_a.ask(|r| Next(n, r), timeout)?;
        n = at_b.ask(|r| Next(n, r), timeout)?;
        asks += 2;
        if start.elapsed() >= next_report {
            println!(
                "{:>3} s: {asks} asks ({:.0}/s), rss {} KiB",
                next_report.as_secs(),
                asks as f64 / start.elapsed().as_secs_f64(),
                rss_kib()?
            );
            next_report += Duration::from_secs(10);
        }
    }
    if n != asks {
        return Err(format!("the counter is at {n} after {asks} asks").into());
    }
    println!(
        "done: {asks} asks, every answer correct; rss at end: {} KiB",
        rss_kib()?
    );
    a.shutdown();
    b.shutdown();
    system.shutdown();
    Ok(())
}
