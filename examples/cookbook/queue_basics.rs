//! Recipe `queue_basics`: a producer and a consumer thread over a queue, shut down by closing
//! the queue (no sentinel value); then several consumers sharing one queue.
//!
//! Run with `cargo run --example queue_basics`.

use std::thread;
use std::time::Duration;

use actor::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One producer (this thread), one consumer.
    let queue = WorkQueue::new();
    let consumer = {
        let queue = queue.clone();
        thread::spawn(move || {
            let mut got = Vec::new();
            // Ends by itself once the queue is closed and everything in it taken.
            while let Ok(item) = queue.get() {
                println!("consumer got {}", *item);
                got.push(*item);
            }
            got
        })
    };
    for n in 0..5 {
        queue.put(n)?;
    }
    queue.close();
    let got = consumer.join().map_err(|_| "the consumer panicked")?;
    if got != [0, 1, 2, 3, 4] {
        return Err(format!("the consumer got {got:?}").into());
    }

    // Several consumers share one queue: each item goes to exactly one of them.
    let queue = WorkQueue::new();
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut handled = Vec::new();
                while let Ok(item) = queue.get() {
                    thread::sleep(Duration::from_millis(1)); // the work an item stands for
                    handled.push(*item);
                }
                handled
            })
        })
        .collect();
    for n in 0..30 {
        queue.put(n)?;
    }
    queue.close();
    let mut all = Vec::new();
    for (id, consumer) in consumers.into_iter().enumerate() {
        let handled = consumer.join().map_err(|_| "a consumer panicked")?;
        println!("consumer {id} handled {} items", handled.len());
        all.extend(handled);
    }
    all.sort_unstable();
    if all != (0..30).collect::<Vec<_>>() {
        return Err(format!("items lost or taken twice: {all:?}").into());
    }
    println!("each of the 30 items was handled exactly once");
    Ok(())
}
