//! An actor that prints what it gets: send "Hello" and "World", stop, join.
//!
//! Run with `cargo run --example print_actor`.

use actor::prelude::*;

struct Printer;

impl Actor for Printer {
    type Msg = String;

    fn started(&mut self, ctx: &mut Context<String>) -> HandlerResult {
        println!("printer {} started", ctx.id());
        Ok(())
    }

    fn handle(&mut self, msg: String, _ctx: &mut Context<String>) -> HandlerResult {
        println!("got: {msg}");
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<String>) {
        println!("printer stopped");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let printer = system.spawn(Printer)?;
    println!("sending \"Hello\" and \"World\"");
    printer.tell("Hello".to_string())?;
    printer.tell("World".to_string())?;
    printer.stop();
    let reason = printer.join()?;
    println!("joined: the printer {reason}");
    system.shutdown();
    Ok(())
}
