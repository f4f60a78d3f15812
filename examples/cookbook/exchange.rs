//! Pub/sub: two task actors and a numbered printer attached to one exchange. Two messages
//! are published and reach all three; then the guard is dropped, and a third message reaches
//! nobody.
//!
//! Run with `cargo run --example exchange`.

use std::time::Duration;

use actor::prelude::*;
use actor::tap::Printer;

/// A task actor that reports what it got.
struct Task {
    name: &'static str,
    done: crossbeam_channel::Sender<()>,
}

impl Actor for Task {
    type Msg = String;

    fn handle(&mut self, msg: String, _ctx: &mut Context<String>) -> HandlerResult {
        println!("{} got {msg:?}", self.name);
        self.done.send(())?;
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let (done_tx, done) = crossbeam_channel::unbounded();
    let task_a = system.spawn(Task {
        name: "task A",
        done: done_tx.clone(),
    })?;
    let task_b = system.spawn(Task {
        name: "task B",
        done: done_tx,
    })?;

    let exchange = system.exchange::<String>("tasks")?;
    let printer = Printer::debug();
    let guard = exchange
        .subscribe(task_a)
        .and(exchange.subscribe(task_b))
        .and(exchange.subscribe(printer.clone()));

    for msg in ["first", "second"] {
        let delivered = exchange.publish(msg.to_string());
        println!("published {msg:?} to {delivered} subscribers");
    }
    // Both task actors have handled both messages before we go on.
    for _ in 0..4 {
        done.recv_timeout(Duration::from_secs(5))?;
    }

    drop(guard);
    let delivered = exchange.publish("third".to_string());
    println!("guard dropped; published \"third\" to {delivered} subscribers: nobody got it");
    system.shutdown();
    if delivered != 0 || printer.printed() != 2 {
        return Err("the guard did not detach its subscribers".into());
    }
    Ok(())
}
