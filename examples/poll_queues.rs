//! One consumer waits on three queues at once, fed by three producer threads, and takes
//! whichever has a message first, without busy-waiting.
//!
//! Run with `cargo run --example poll_queues`.

use std::time::Duration;

use actor::prelude::*;

const PER_PRODUCER: u32 = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let names = ["sensors", "orders", "alerts"];
    let queues: Vec<Inbox<Option<String>>> = names.iter().map(|_| Inbox::new()).collect();

    let producers: Vec<_> = names
        .iter()
        .zip(&queues)
        .enumerate()
        .map(|(n, (name, queue))| {
            let queue = queue.actor_ref().clone();
            let name = name.to_string();
            std::thread::spawn(move || -> Result<(), SendError<Option<String>>> {
                for i in 0..PER_PRODUCER {
                    // Producers run at different paces, so the queues fill unevenly.
                    std::thread::sleep(Duration::from_millis(3 * (n as u64 + 1)));
                    queue.tell(Some(format!("{name} #{i}")))?;
                }
                queue.tell(None)
            })
        })
        .collect();

    let mut select = Select::new();
    let indexes: Vec<usize> = queues.iter().map(|queue| select.inbox(queue)).collect();
    let mut open = queues.len();
    let mut received = 0;
    while open > 0 {
        let ready = select.ready();
        let Some(source) = indexes.iter().position(|&index| index == ready) else {
            continue;
        };
        match queues[source].try_recv() {
            Ok(Some(item)) => {
                received += 1;
                println!("from {:<8} {item}", names[source]);
            }
            Ok(None) => {
                println!("{} is done", names[source]);
                select.remove(ready);
                open -= 1;
            }
            Err(_) => {}
        }
    }
    for producer in producers {
        producer.join().map_err(|_| "a producer panicked")??;
    }
    println!("received {received} items from {} queues", names.len());
    if received != PER_PRODUCER * names.len() as u32 {
        return Err("items were lost".into());
    }
    Ok(())
}
