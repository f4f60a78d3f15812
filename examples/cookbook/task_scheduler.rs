//! Recipe: many tiny cooperative tasks (countdowns and countups) interleaved by one scheduler
//! thread: each task is an actor that does one step per message, on a one-thread dispatcher.

use std::time::Duration;

use actor::channel;
use actor::pool::Dispatcher;
use actor::prelude::*;

/// Counts from `at` towards `to`, one step per message, then reports its name.
struct Count {
    name: String,
    at: i32,
    to: i32,
    /// Prints each step.
    verbose: bool,
    done: channel::Sender<String>,
}

impl Actor for Count {
    type Msg = ();

    fn handle(&mut self, (): (), ctx: &mut Context<()>) -> HandlerResult {
        if self.at == self.to {
            self.done.send(std::mem::take(&mut self.name))?;
            ctx.stop();
        } else {
            self.at += (self.to - self.at).signum();
            if self.verbose {
                println!("{}: {}", self.name, self.at);
            }
            // Yields: the next step waits behind the other tasks' steps.
            ctx.myself().tell(())?;
        }
        Ok(())
    }
}

const TASKS: i32 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    // One thread, one message per turn: a round-robin scheduler.
    let scheduler = Dispatcher::builder(&system).threads(1).batch(1).build()?;
    let (done, finished) = channel::unbounded();
    for n in 0..TASKS {
        let (at, to) = if n % 2 == 0 { (5, 0) } else { (0, 5) };
        let kind = if at > to { "countdown" } else { "countup" };
        let task = scheduler.spawn(Count {
            name: format!("{kind} {n}"),
            at,
            to,
            verbose: n < 4,
            done: done.clone(),
        })?;
        task.tell(())?;
    }
    let mut order = Vec::new();
    for _ in 0..TASKS {
        order.push(finished.recv_timeout(Duration::from_secs(10))?);
    }
    println!(
        "{TASKS} tasks of 5 steps each finished; first {:?}, last {:?}",
        order[0],
        order[order.len() - 1]
    );
    scheduler.shutdown();
    system.shutdown();
    Ok(())
}
