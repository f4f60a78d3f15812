//! Two actors exchanging asks 10,000 times; prints the count and the mean round trip.
//!
//! Run with `cargo run --release --example ping_pong`.

use std::time::{Duration, Instant};

use actor::prelude::*;

const ROUNDS: u64 = 10_000;
const TIMEOUT: Duration = Duration::from_secs(5);

/// Answers `Ping(n)` with `n + 1`.
struct Pong;

impl Actor for Pong {
    type Msg = (u64, Reply<u64>);

    fn handle(&mut self, (n, reply): Self::Msg, _ctx: &mut Context<Self::Msg>) -> HandlerResult {
        reply.send(n + 1);
        Ok(())
    }
}

/// Asks `Pong` a given number of times, then reports how many answers came and how long
/// the exchange took.
struct Ping {
    pong: ActorRef<(u64, Reply<u64>)>,
}

enum PingMsg {
    Play(u64, Reply<Result<(u64, Duration), AskError>>),
}

impl Actor for Ping {
    type Msg = PingMsg;

    fn handle(&mut self, msg: PingMsg, _ctx: &mut Context<PingMsg>) -> HandlerResult {
        let PingMsg::Play(rounds, reply) = msg;
        let start = Instant::now();
        let mut outcome = Ok(0);
        let mut ball = 0;
        for _ in 0..rounds {
            match self.pong.ask(|r| (ball, r), TIMEOUT) {
                Ok(next) => ball = next,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if outcome.is_ok() {
            outcome = Ok(ball);
        }
        reply.send(outcome.map(|count| (count, start.elapsed())));
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let pong = system.actor(|| Pong).name("pong").spawn()?;
    let ping = system.actor_from(Ping { pong }).name("ping").spawn()?;

    println!("ping asks pong {ROUNDS} times");
    let (count, elapsed) = ping.ask(|r| PingMsg::Play(ROUNDS, r), Duration::from_secs(120))??;
    let mean = elapsed / u32::try_from(count)?;
    println!("round trips: {count}");
    println!("total: {elapsed:.2?}, mean round trip: {mean:.2?}");
    system.shutdown();
    if count != ROUNDS {
        return Err(format!("expected {ROUNDS} round trips, got {count}").into());
    }
    Ok(())
}
