//! The TCP echo server recipe: a reusable server building block runs our per-connection
//! handler on a thread per connection, on a bounded pool of threads, and with a read timeout.
//!
//! Run with `cargo run --example tcp_echo_server`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actor::BoxError;
use actor::System;
use actor::net::server::{Excess, TcpServer, Threads};

/// The handler: echoes each line until the client closes. `?` ends the connection on error.
fn echo(stream: TcpStream, peer: SocketAddr) -> Result<(), BoxError> {
    for line in BufReader::new(&stream).lines() {
        writeln!(&stream, "{}", line?)?;
    }
    println!("  server: {peer} closed");
    Ok(())
}

/// A client: sends each line, prints and checks what comes back.
fn client(addr: SocketAddr, lines: &[&str]) -> Result<(), BoxError> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut answers = BufReader::new(&stream).lines();
    for line in lines {
        writeln!(&stream, "{line}")?;
        let answer = answers.next().ok_or("the server closed")??;
        println!("  client: sent {line:?}, got {answer:?}");
        if answer != *line {
            return Err(format!("{line:?} came back as {answer:?}").into());
        }
    }
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let system = System::new();

    println!("One thread per connection:");
    let server = TcpServer::builder().spawn(&system, "127.0.0.1:0", echo)?;
    client(server.local_addr(), &["hello", "world"])?;
    server.shutdown();

    println!("A pool of 2 threads, 6 clients at once (the excess waits its turn):");
    let server = TcpServer::builder()
        .max_connections(2)
        .threads(Threads::Pool)
        .excess(Excess::Queue(16))
        .spawn(&system, "127.0.0.1:0", echo)?;
    let addr = server.local_addr();
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..6)
            .map(|n| scope.spawn(move || client(addr, &[&format!("from client {n}")])))
            .collect();
        clients
            .into_iter()
            .try_for_each(|c| c.join().unwrap_or_else(|_| Err("a client panicked".into())))
    })?;
    server.shutdown();

    println!("A read timeout of 200 ms:");
    let server = TcpServer::builder()
        .idle_timeout(Duration::from_millis(200))
        .spawn(&system, "127.0.0.1:0", echo)?;
    let silent = TcpStream::connect(server.local_addr())?;
    silent.set_read_timeout(Some(Duration::from_secs(5)))?;
    // The client says nothing: the handler's read times out and the server closes.
    let read = BufReader::new(&silent).read_line(&mut String::new())?;
    println!("  client: said nothing, and the server closed the connection");
    if read != 0 {
        return Err("the silent client was not closed".into());
    }

    system.shutdown(); // stops the last server too
    Ok(())
}
