//! An actor whose message is an enum: each variant is a tag, dispatched by `match`.
//!
//! Run with `cargo run --example tagged_actor`.

use std::time::Duration;

use actor::prelude::*;

/// The tags this actor understands.
enum Msg {
    A(i32),
    B(i32, i32),
    /// A request: the answer travels back in the reply.
    Summary(Reply<String>),
}

#[derive(Default)]
struct Tagged {
    a_seen: u32,
    b_seen: u32,
}

impl Actor for Tagged {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, _ctx: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::A(x) => {
                self.a_seen += 1;
                println!("A: {x}");
            }
            Msg::B(x, y) => {
                self.b_seen += 1;
                println!("B: {x} {y} (product {})", x * y);
            }
            Msg::Summary(reply) => {
                reply.send(format!("handled {} A and {} B", self.a_seen, self.b_seen))
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let tagged = system.spawn(Tagged::default())?;
    tagged.tell(Msg::A(1))?;
    tagged.tell(Msg::B(2, 3))?;
    tagged.tell(Msg::A(4))?;
    let summary = tagged.ask(Msg::Summary, Duration::from_secs(5))?;
    println!("{summary}");
    system.shutdown();
    Ok(())
}
