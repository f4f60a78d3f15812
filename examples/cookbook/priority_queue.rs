//! Recipe `priority_queue`: a queue that hands out the highest-priority item first, arrival
//! order among equals; consumers block until an item arrives.
//!
//! Run with `cargo run --example priority_queue`.

use std::thread;

use actor::prelude::*;

#[derive(Debug)]
struct Job {
    priority: u32,
    name: &'static str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = WorkQueue::with_priority(Mailbox::Unbounded, |job: &Job| job.priority)?;

    // Consumers start on the empty queue and block until items arrive.
    let consumers: Vec<_> = (0..2)
        .map(|id| {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut handled = 0;
                while let Ok(job) = queue.get() {
                    println!("consumer {id} got {} (priority {})", job.name, job.priority);
                    handled += 1;
                }
                handled
            })
        })
        .collect();
    queue.put(Job {
        priority: 1,
        name: "first arrival",
    })?;
    queue.put(Job {
        priority: 2,
        name: "second arrival",
    })?;
    queue.close();
    let mut handled = 0;
    for consumer in consumers {
        handled += consumer.join().map_err(|_| "a consumer panicked")?;
    }
    if handled != 2 {
        return Err(format!("the consumers handled {handled} jobs, not 2").into());
    }

    // Queued together, jobs come out by priority, in arrival order among equals.
    let queue = WorkQueue::with_priority(Mailbox::Unbounded, |job: &Job| job.priority)?;
    for (priority, name) in [
        (1, "tidy"),
        (5, "fire"),
        (3, "call"),
        (5, "flood"),
        (1, "file"),
    ] {
        queue.put(Job { priority, name })?;
    }
    queue.close();
    let mut order = Vec::new();
    while let Ok(job) = queue.get() {
        order.push(job.name);
    }
    println!("handed out in this order: {order:?}");
    if order != ["fire", "flood", "call", "tidy", "file"] {
        return Err("wrong order".into());
    }
    Ok(())
}
