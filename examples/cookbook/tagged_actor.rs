//! An actor whose messages are (tag, payload) pairs dispatched to a handler per tag, with a
//! clear error for an unknown tag; a second node sends it pairs over the wire.
//!
//! Run with `cargo run --example tagged_actor`.

use std::time::Duration;

use actor::net::{Node, Secret};
use actor::prelude::*;
use actor::{AskTaggedError, RouteError, Router, RouterActor, Tagged};

const WAIT: Duration = Duration::from_secs(5);

/// What the handlers keep between messages: how many of each tag they ran.
#[derive(Default)]
struct Seen {
    a: u32,
    b: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One handler per tag; each payload is decoded as the handler's argument type.
    let router = Router::new()
        .on("A", |seen: &mut Seen, x: i32| {
            seen.a += 1;
            println!("A: {x}");
            Ok(())
        })
        .on("B", |seen: &mut Seen, (x, y): (i32, i32)| {
            seen.b += 1;
            println!("B: {x} {y}");
            Ok(x * y)
        })
        .on("summary", |seen: &mut Seen, ()| {
            Ok(format!("handled {} A and {} B", seen.a, seen.b))
        });
    let system = System::new();
    let actor = system.spawn(RouterActor::new(Seen::default(), router))?;

    // Here, as a tell and as an ask whose answer is decoded.
    actor.tell(Tagged::encode("A", &1)?)?;
    let product: i32 = actor.ask_tagged("B", &(2, 3), WAIT)?;
    println!("B (2, 3) answered {product}");

    // From another node: the actor exported on one, looked up from the other.
    let secret = Secret::generate()?;
    let server = Node::builder(secret.clone())
        .listen("127.0.0.1:0")
        .build()?;
    server.export("tagged", &actor)?;
    let client = Node::builder(secret).build()?;
    let addr = server.local_addr().ok_or("the server is not listening")?;
    let remote = client.lookup::<Tagged>(addr, "tagged")?;
    remote.tell(Tagged::encode("A", &4)?)?;
    let remote_product: i32 = remote.ask_tagged("B", &(6, 7), WAIT)?;
    println!("B (6, 7) over the wire answered {remote_product}");

    // An unknown tag is a typed error, across the wire too; the actor goes on.
    match remote.ask_tagged::<_, ()>("C", &5, WAIT) {
        Err(AskTaggedError::Route(error @ RouteError::UnknownTag(_))) => {
            println!("C was refused: {error}");
        }
        other => return Err(format!("expected an unknown-tag error, got {other:?}").into()),
    }
    let summary: String = remote.ask_tagged("summary", &(), WAIT)?;
    println!("{summary}");

    client.shutdown();
    server.shutdown();
    system.shutdown();
    if (product, remote_product) != (6, 42) || summary != "handled 2 A and 2 B" {
        return Err("the tagged actor answered wrongly".into());
    }
    Ok(())
}
