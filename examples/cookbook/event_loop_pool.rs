//! An event loop that hands slow requests (Fibonacci numbers) to a thread pool and writes
//! each result back when it completes, without blocking the loop.
//!
//! Run with `cargo run --release --example event_loop_pool`.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use actor::pool::ThreadPool;
use actor::prelude::*;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Slow on purpose.
fn fib(n: u32) -> u64 {
    if n < 2 {
        n.into()
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// `None` for `WouldBlock`: readiness is a hint, and the socket had nothing after all.
fn ready<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
        other => other.map(Some),
    }
}

/// Answers `n` with fib(n), computed on `pool`, and anything else at once with itself. One
/// thread waits on the socket, the pool's results and `stop` together.
fn event_loop(socket: UdpSocket, pool: &ThreadPool, stop: Inbox<()>) -> Result<(), Error> {
    let results: Inbox<(SocketAddr, String)> = Inbox::new();
    let mut select = Select::new();
    let socket_index = select.readable(&socket)?;
    let results_index = select.inbox(&results);
    let stop_index = select.inbox(&stop);
    let mut buffer = [0; 512];
    loop {
        let index = select.ready();
        if index == socket_index {
            let Some((len, peer)) = ready(socket.recv_from(&mut buffer))? else {
                continue;
            };
            let request = String::from_utf8_lossy(&buffer[..len]);
            match request.parse::<u32>() {
                Ok(n @ 0..=45) => {
                    let results = results.actor_ref().clone();
                    let task = move || {
                        // Fails only if the loop has ended: nobody is waiting then.
                        let _ = results.tell((peer, format!("fib({n}) = {}", fib(n))));
                    };
                    pool.execute(task).map_err(|_| "the pool is shut down")?;
                }
                Ok(_) => {
                    socket.send_to(b"too big", peer)?;
                }
                Err(_) => {
                    socket.send_to(request.as_bytes(), peer)?;
                }
            }
        } else if index == results_index {
            if let Ok((peer, answer)) = results.try_recv() {
                socket.send_to(answer.as_bytes(), peer)?;
            }
        } else if index == stop_index {
            return Ok(());
        }
    }
}

fn main() -> Result<(), Error> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_nonblocking(true)?;
    let server_at = socket.local_addr()?;
    let stop = Inbox::new();
    let stop_ref = stop.actor_ref().clone();
    let server = thread::spawn(move || {
        let pool = ThreadPool::builder().threads(2).build()?;
        event_loop(socket, &pool, stop)
    });

    // A client asks for four slow numbers, then says hello: the hello is answered at once,
    // while the pool computes.
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.connect(server_at)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let requests = ["35", "30", "34", "50", "hello"];
    for request in requests {
        client.send(request.as_bytes())?;
    }
    let mut answers = Vec::new();
    let mut buffer = [0; 512];
    for _ in requests {
        let len = client.recv(&mut buffer)?;
        let answer = String::from_utf8_lossy(&buffer[..len]).into_owned();
        println!("answer: {answer}");
        answers.push(answer);
    }
    stop_ref.tell(())?;
    server.join().map_err(|_| "the loop panicked")??;

    answers.sort();
    let expected = [
        "fib(30) = 832040",
        "fib(34) = 5702887",
        "fib(35) = 9227465",
        "hello",
        "too big",
    ];
    if answers != expected {
        return Err(format!("unexpected answers {answers:?}").into());
    }
    Ok(())
}
