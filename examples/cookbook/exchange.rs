//! Recipe: publish/subscribe through exchanges found by name, subscribers attached and
//! detached, a scoped subscription, and a diagnostic subscriber that prints every message numbered.

use std::time::Duration;

use actor::channel;
use actor::prelude::*;
use actor::tap::Printer;

/// A task actor that reports each message it gets.
struct Task(channel::Sender<String>);

impl Actor for Task {
    type Msg = String;

    fn handle(&mut self, msg: String, _ctx: &mut Context<String>) -> HandlerResult {
        println!("task got {msg:?}");
        self.0.send(msg)?;
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    // The registry: the same name always finds the same exchange.
    let tasks = system.exchange::<String>("tasks")?;
    let printer = Printer::display(); // msg[1]: ..., msg[2]: ...
    tasks.attach(printer.clone());

    // Attached, then detached by hand.
    let (tx, channel_got) = channel::unbounded();
    let id = system.exchange::<String>("tasks")?.attach(tx);
    tasks.publish("first".to_string());
    if !tasks.detach(id) {
        return Err("the channel was not attached".into());
    }

    // Attached for the length of a block: the guard detaches the actor at its end.
    let (done, task_got) = channel::unbounded();
    {
        let task = system.spawn(Task(done))?;
        let _scope = tasks.subscribe(task);
        tasks.publish("second".to_string());
        task_got.recv_timeout(Duration::from_secs(5))?;
    }
    let reached = tasks.publish("third".to_string());
    println!("\"third\" reached {reached} subscriber: the printer alone");

    let channel_got: Vec<String> = channel_got.try_iter().collect();
    system.shutdown();
    if channel_got != ["first"] || reached != 1 || printer.printed() != 3 {
        return Err("a subscriber got what it should not have".into());
    }
    Ok(())
}
