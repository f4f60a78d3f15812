//! Recipe `queue_join`: a producer waits until every item it queued has been fully processed
//! (the queue's `task_done`/`join` pair), and until one particular item has been processed
//! (an item carrying its own completion signal).
//!
//! Run with `cargo run --example queue_join`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use actor::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every item: each task taken from the queue is done when the consumer drops it (even
    // if the consumer panics), and `join` waits until all are.
    let queue = WorkQueue::new();
    let total = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (queue, total) = (queue.clone(), Arc::clone(&total));
            thread::spawn(move || {
                while let Ok(n) = queue.get() {
                    total.fetch_add(*n, Ordering::Relaxed);
                } // `n` is dropped here: that item is done
            })
        })
        .collect();
    for n in 1..=100 {
        queue.put(n)?;
    }
    queue.join();
    let sum = total.load(Ordering::Relaxed);
    println!("joined: all 100 items processed, their sum is {sum}");
    if sum != 5050 {
        return Err("join returned before every item was processed".into());
    }
    queue.close();
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")?;
    }

    // One item: it carries a `Reply`, and the producer waits on its `Pending`.
    let queue: WorkQueue<(u64, Reply<u64>)> = WorkQueue::new();
    let worker = {
        let queue = queue.clone();
        thread::spawn(move || {
            while let Ok(task) = queue.get() {
                let (n, reply) = task.into_inner();
                reply.send(n * n);
            }
        })
    };
    let (reply, mut square) = Reply::pair();
    queue.put((12, reply))?;
    let square = square.wait_timeout(Duration::from_secs(5))?;
    println!("item 12 processed: {square}");
    queue.close();
    worker.join().map_err(|_| "the worker panicked")?;
    if square != 144 {
        return Err("wrong result".into());
    }
    Ok(())
}
