//! Recipe: a counter shared by many threads, incremented and read safely; here the counter is
//! an actor, so its state needs no lock, and every thread holds a cheap clone of its ref.

use std::time::Duration;

use actor::prelude::*;

enum CounterMsg {
    Add(u64),
    Get(Reply<u64>),
}

#[derive(Default)]
struct Counter(u64);

impl Actor for Counter {
    type Msg = CounterMsg;

    fn handle(&mut self, msg: CounterMsg, _ctx: &mut Context<CounterMsg>) -> HandlerResult {
        match msg {
            CounterMsg::Add(n) => self.0 += n,
            CounterMsg::Get(reply) => reply.send(self.0),
        }
        Ok(())
    }
}

const THREADS: u64 = 8;
const INCREMENTS: u64 = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let counter = system.spawn(Counter::default())?;
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || -> Result<(), SendError<CounterMsg>> {
                (0..INCREMENTS).try_for_each(|_| counter.tell(CounterMsg::Add(1)))
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")??;
    }
    // Every increment was queued before this request, and the mailbox keeps their order.
    let total = counter.ask(CounterMsg::Get, Duration::from_secs(5))?;
    println!("{THREADS} threads added 1 {INCREMENTS} times each: the counter reads {total}");
    system.shutdown();
    if total != THREADS * INCREMENTS {
        return Err("increments were lost".into());
    }
    Ok(())
}
