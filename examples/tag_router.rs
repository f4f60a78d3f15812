//! Messages that arrive by name: a router maps the tag `"A"` to a handler of `i32` and
//! `"B"` to a handler of `(i32, i32)`, decodes each payload with the wire codec and calls
//! the handler. An unknown tag `"C"` gets a typed error, not a panic.
//!
//! Run with `cargo run --example tag_router`.

use std::time::Duration;

use actor::codec::{Bincode, Codec};
use actor::prelude::*;
use actor::{RouteError, Router, RouterActor, Tagged};

const TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::new()
        .on("A", |_state: &mut (), x: i32| {
            println!("A handler got {x}");
            Ok(x)
        })
        .on("B", |_state: &mut (), (x, y): (i32, i32)| {
            println!("B handler got ({x}, {y})");
            Ok(x + y)
        });
    let system = System::new();
    let actor = system.spawn(RouterActor::new((), router))?;

    let a = Tagged::encode("A", &1)?;
    let answer = actor.ask(|reply| a.with_reply(reply), TIMEOUT)??;
    println!(
        "(\"A\", 1) answered {}",
        Bincode::new().decode::<i32>(&answer)?
    );

    let b = Tagged::encode("B", &(2, 3))?;
    let answer = actor.ask(|reply| b.with_reply(reply), TIMEOUT)??;
    println!(
        "(\"B\", (2, 3)) answered {}",
        Bincode::new().decode::<i32>(&answer)?
    );

    let c = Tagged::encode("C", &4)?;
    match actor.ask(|reply| c.with_reply(reply), TIMEOUT)? {
        Err(error @ RouteError::UnknownTag(_)) => println!("(\"C\", 4) was refused: {error}"),
        other => return Err(format!("expected an unknown-tag error, got {other:?}").into()),
    }
    system.shutdown();
    Ok(())
}
