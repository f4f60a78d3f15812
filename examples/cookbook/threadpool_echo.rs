//! The thread-pool echo server recipe: a fixed pool of threads handles every connection.
//!
//! Run with `cargo run --example threadpool_echo`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};

use actor::BoxError;
use actor::System;
use actor::net::server::{Excess, TcpServer, Threads};

const POOL: usize = 4;
const CLIENTS: usize = 12;

fn main() -> Result<(), BoxError> {
    let system = System::new();
    let workers = Arc::new(Mutex::new(BTreeSet::new())); // the threads that served someone
    let seen = Arc::clone(&workers);
    let server = TcpServer::builder()
        .max_connections(POOL)
        .threads(Threads::Pool)
        .excess(Excess::Queue(64)) // clients beyond the pool wait their turn
        .spawn(&system, "127.0.0.1:0", move |stream, _peer| {
            let name = std::thread::current().name().unwrap_or("?").to_string();
            seen.lock().map_err(|_| "poisoned")?.insert(name);
            std::io::copy(&mut &stream, &mut &stream)?;
            Ok(())
        })?;

    let addr = server.local_addr();
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|n| {
                scope.spawn(move || -> Result<(), BoxError> {
                    let mut stream = TcpStream::connect(addr)?;
                    let message = format!("hello from client {n}");
                    stream.write_all(message.as_bytes())?;
                    stream.shutdown(Shutdown::Write)?;
                    let mut back = String::new();
                    stream.read_to_string(&mut back)?;
                    println!("client {n}: got {back:?}");
                    if back != message {
                        return Err(format!("client {n} got {back:?}").into());
                    }
                    Ok(())
                })
            })
            .collect();
        clients
            .into_iter()
            .try_for_each(|c| c.join().unwrap_or_else(|_| Err("a client panicked".into())))
    })?;

    system.shutdown(); // stops the server and joins its pool
    let workers = workers.lock().map_err(|_| "poisoned")?;
    println!(
        "{CLIENTS} clients served by {} pool threads: {workers:?}",
        workers.len()
    );
    if workers.len() > POOL {
        return Err("more threads than the pool has".into());
    }
    Ok(())
}
