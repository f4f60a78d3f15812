//! An actor that receives a tick every 100 ms from the system's timer, and stops itself
//! after 5.
//!
//! Run with `cargo run --example ticker`.

use std::time::{Duration, Instant};

use actor::prelude::*;

#[derive(Clone)]
struct Tick;

struct Ticker {
    started: Instant,
    ticks: u32,
}

impl Actor for Ticker {
    type Msg = Tick;

    fn started(&mut self, ctx: &mut Context<Tick>) -> HandlerResult {
        // The timer ends by itself once this actor has stopped.
        ctx.system()
            .send_interval(Duration::from_millis(100), ctx.myself(), Tick);
        println!("ticker started: a tick every 100 ms");
        Ok(())
    }

    fn handle(&mut self, _tick: Tick, ctx: &mut Context<Tick>) -> HandlerResult {
        self.ticks += 1;
        println!(
            "tick {} at {:>4} ms",
            self.ticks,
            self.started.elapsed().as_millis()
        );
        if self.ticks == 5 {
            println!("five ticks: stopping");
            ctx.stop();
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let ticker = system.spawn(Ticker {
        started: Instant::now(),
        ticks: 0,
    })?;
    let reason = ticker.join()?;
    println!("ticker {reason}");
    system.shutdown();
    Ok(())
}
