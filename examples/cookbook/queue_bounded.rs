//! Recipe `queue_bounded`: a bounded queue: a non-blocking put that reports a full queue, a
//! put with a timeout, a get with a timeout.
//!
//! Run with `cargo run --example queue_bounded`.

use std::thread;
use std::time::Duration;

use actor::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = WorkQueue::with_mailbox(Mailbox::bounded(2, Overflow::Block))?;
    queue.try_put("a")?;
    queue.try_put("b")?;

    // A non-blocking put reports the full queue and gives the item back.
    match queue.try_put("c") {
        Err(SendError::Full(item)) => println!("queue full: {item:?} not queued"),
        other => return Err(format!("expected a full queue, got {other:?}").into()),
    }

    // A put with a timeout gives up when no room comes in time...
    match queue.put_timeout("c", Duration::from_millis(50)) {
        Err(SendError::Timeout(item)) => println!("still full after 50 ms: {item:?} not queued"),
        other => return Err(format!("expected a timeout, got {other:?}").into()),
    }
    // ...and succeeds when a consumer makes room in time.
    let consumer = {
        let queue = queue.clone();
        thread::spawn(move || queue.get().map(|item| *item))
    };
    queue.put_timeout("c", Duration::from_secs(5))?;
    let first = consumer.join().map_err(|_| "the consumer panicked")??;
    println!("a consumer took {first:?}, so \"c\" got in");

    // A get with a timeout takes what is there, then gives up on the empty queue.
    let mut rest = Vec::new();
    loop {
        match queue.get_timeout(Duration::from_millis(50)) {
            Ok(item) => rest.push(*item),
            Err(RecvError::Timeout) => break,
            Err(other) => return Err(other.into()),
        }
    }
    println!("then got {rest:?}, and nothing more within 50 ms");
    if first != "a" || rest != ["b", "c"] {
        return Err("wrong items".into());
    }
    Ok(())
}
