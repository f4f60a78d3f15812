//! Recipe: pollable queues: one consumer thread waits on three queues and a UDP socket at once
//! and handles whichever is ready first, without busy-waiting and without read timeouts.
//!
//! Run with `cargo run --example pollable_queue`.

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use actor::prelude::*;

const PER_PRODUCER: u32 = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let names = ["sensors", "orders", "alerts"];
    let queues: Vec<Inbox<String>> = names.iter().map(|_| Inbox::new()).collect();
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_nonblocking(true)?;

    let producers: Vec<_> = names
        .iter()
        .zip(&queues)
        .enumerate()
        .map(|(n, (name, queue))| {
            let queue = queue.actor_ref().clone();
            let name = name.to_string();
            std::thread::spawn(move || -> Result<(), SendError<String>> {
                for i in 0..PER_PRODUCER {
                    // Producers run at different paces, so the queues fill unevenly.
                    std::thread::sleep(Duration::from_millis(3 * (n as u64 + 1)));
                    queue.tell(format!("{name} #{i}"))?;
                }
                // Closes the queue: the consumer gets what is queued, then `Closed`.
                queue.stop();
                Ok(())
            })
        })
        .collect();
    // A fourth producer sends datagrams; an empty one says it is done.
    let socket_at = socket.local_addr()?;
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        let client = UdpSocket::bind("127.0.0.1:0")?;
        for i in 0..PER_PRODUCER {
            std::thread::sleep(Duration::from_millis(4));
            client.send_to(format!("datagram #{i}").as_bytes(), socket_at)?;
        }
        client.send_to(b"", socket_at).map(drop)
    });

    let started = Instant::now();
    let mut select = Select::new();
    let indexes: Vec<usize> = queues.iter().map(|queue| select.inbox(queue)).collect();
    let socket_index = select.readable(&socket)?;
    let mut open = queues.len() + 1;
    let mut received = 0;
    while open > 0 {
        let ready = select.ready();
        if ready == socket_index {
            let mut buffer = [0; 64];
            match socket.recv(&mut buffer) {
                Ok(0) => {
                    println!("socket   is done");
                    select.remove(ready);
                    open -= 1;
                }
                Ok(len) => {
                    received += 1;
                    println!("from socket   {}", String::from_utf8_lossy(&buffer[..len]));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
            continue;
        }
        let Some(source) = indexes.iter().position(|&index| index == ready) else {
            continue;
        };
        match queues[source].try_recv() {
            Ok(item) => {
                received += 1;
                println!("from {:<8} {item}", names[source]);
            }
            Err(RecvError::Closed) => {
                println!("{} is done", names[source]);
                select.remove(ready);
                open -= 1;
            }
            Err(_) => {} // another reader took it first: wait again
        }
    }
    println!("all done after {:?}", started.elapsed());
    for producer in producers {
        producer.join().map_err(|_| "a producer panicked")??;
    }
    sender.join().map_err(|_| "the sender panicked")??;
    println!(
        "received {received} items from {} queues and a socket",
        names.len()
    );
    if received != PER_PRODUCER * (names.len() as u32 + 1) {
        return Err("items were lost".into());
    }
    Ok(())
}
