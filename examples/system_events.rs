//! A printer attached to all the system exchanges (`system.>`) while an actor is spawned,
//! panics, restarts and stops, and a message is sent to it after it stopped.
//!
//! Run with `cargo run --example system_events`.

use std::time::Duration;

use actor::SystemEvent;
use actor::prelude::*;
use actor::tap::Printer;

#[derive(Default)]
struct Fragile;

enum Msg {
    Work(u32),
    Panic,
}

impl Actor for Fragile {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, _ctx: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Work(n) => println!("fragile did work {n}"),
            Msg::Panic => panic!("fragile was asked to panic"),
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The panic is reported as an event below; keep the default panic message out of the way.
    std::panic::set_hook(Box::new(|_| {}));

    let system = System::new();
    let printer = Printer::display();
    system.attach_pattern::<SystemEvent>("system.>", printer.clone())?;

    let fragile = system
        .actor(Fragile::default)
        .name("fragile")
        .supervision(Supervision::restart(3, Duration::from_secs(60)))
        .spawn()?;
    fragile.tell(Msg::Work(1))?;
    fragile.tell(Msg::Panic)?;
    fragile.tell(Msg::Work(2))?;
    fragile.stop();
    fragile.join()?;

    match fragile.tell(Msg::Work(3)) {
        Err(SendError::Closed(_)) => println!("a tell after the stop came back: the actor is gone"),
        other => return Err(format!("expected a closed error, got {other:?}").into()),
    }
    system.shutdown();
    println!("{} system events printed", printer.printed());
    Ok(())
}
