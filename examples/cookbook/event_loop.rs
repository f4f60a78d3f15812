//! An event loop: one thread waits on several sockets at once (UDP time and echo services, a
//! TCP echo acceptor and its connections) and dispatches to handlers; no thread per socket.
//!
//! Run with `cargo run --example event_loop`.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actor::prelude::*;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A socket of the loop and what it is for.
enum Handler {
    Time(UdpSocket),
    Echo(UdpSocket),
    Acceptor(TcpListener),
    /// A connection, with the bytes it could not echo back yet. While there are some, the
    /// loop waits for it to be writable instead of readable: a client that does not read
    /// cannot make the loop buffer without bound.
    Connection(TcpStream, Vec<u8>),
}

/// What the loop does with a handler after it has run.
enum After {
    Keep,
    Add(Handler),
    /// The connection now waits for the other direction.
    Flip,
    Close,
}

impl Handler {
    /// Handles one readiness of this handler's socket.
    fn handle(&mut self, buffer: &mut [u8]) -> io::Result<After> {
        match self {
            Handler::Time(socket) => {
                if let Some((_, peer)) = ready(socket.recv_from(buffer))? {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    socket.send_to(now.as_secs().to_string().as_bytes(), peer)?;
                }
            }
            Handler::Echo(socket) => {
                if let Some((n, peer)) = ready(socket.recv_from(buffer))? {
                    socket.send_to(&buffer[..n], peer)?;
                }
            }
            Handler::Acceptor(listener) => {
                if let Some((stream, peer)) = ready(listener.accept())? {
                    println!("loop: connection from {peer}");
                    stream.set_nonblocking(true)?;
                    return Ok(After::Add(Handler::Connection(stream, Vec::new())));
                }
            }
            Handler::Connection(stream, unsent) => {
                let reading = unsent.is_empty();
                if reading {
                    match ready(stream.read(buffer))? {
                        Some(0) => return Ok(After::Close),
                        Some(n) => unsent.extend_from_slice(&buffer[..n]),
                        None => {}
                    }
                }
                while !unsent.is_empty()
                    && let Some(n) = ready(stream.write(unsent))?
                {
                    unsent.drain(..n);
                }
                if reading != unsent.is_empty() {
                    return Ok(After::Flip);
                }
            }
        }
        Ok(After::Keep)
    }
}

/// `None` for `WouldBlock`: readiness is a hint, and the socket had nothing after all.
fn ready<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
        other => other.map(Some),
    }
}

/// Adds `handler`'s socket to `select`, for reading, or for writing if it has bytes to send.
fn watch(
    select: &mut Select<'_>,
    table: &mut HashMap<usize, Handler>,
    handler: Handler,
) -> Result<(), SelectError> {
    let index = match &handler {
        Handler::Time(socket) | Handler::Echo(socket) => select.readable(socket)?,
        Handler::Acceptor(listener) => select.readable(listener)?,
        Handler::Connection(stream, unsent) if unsent.is_empty() => select.readable(stream)?,
        Handler::Connection(stream, _) => select.writable(stream)?,
    };
    table.insert(index, handler);
    Ok(())
}

/// The loop: runs until a message comes to `stop`; returns how many events it handled.
fn event_loop(handlers: Vec<Handler>, stop: Inbox<()>) -> Result<usize, Error> {
    let mut table = HashMap::new();
    let mut select = Select::new();
    let stop_index = select.inbox(&stop);
    for handler in handlers {
        watch(&mut select, &mut table, handler)?;
    }
    let mut buffer = vec![0; 64 * 1024];
    let mut events = 0;
    loop {
        let index = select.ready();
        if index == stop_index {
            return Ok(events);
        }
        let Some(handler) = table.get_mut(&index) else {
            continue;
        };
        events += 1;
        match handler.handle(&mut buffer) {
            Ok(After::Keep) => {}
            Ok(After::Add(handler)) => watch(&mut select, &mut table, handler)?,
            Ok(After::Flip) => {
                select.remove(index);
                if let Some(handler) = table.remove(&index) {
                    watch(&mut select, &mut table, handler)?;
                }
            }
            Ok(After::Close) | Err(_) => {
                select.remove(index);
                table.remove(&index);
            }
        }
    }
}

fn main() -> Result<(), Error> {
    let time = UdpSocket::bind("127.0.0.1:0")?;
    let echo = UdpSocket::bind("127.0.0.1:0")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let (time_at, echo_at, tcp_at) = (
        time.local_addr()?,
        echo.local_addr()?,
        listener.local_addr()?,
    );
    time.set_nonblocking(true)?;
    echo.set_nonblocking(true)?;
    listener.set_nonblocking(true)?;
    let stop = Inbox::new();
    let stop_ref = stop.actor_ref().clone();
    let handlers = vec![
        Handler::Time(time),
        Handler::Echo(echo),
        Handler::Acceptor(listener),
    ];
    let server = thread::spawn(move || event_loop(handlers, stop));

    // Clients. Their timeouts only turn a broken loop into an error instead of a hang.
    let udp = UdpSocket::bind("127.0.0.1:0")?;
    udp.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut answer = [0; 64];
    udp.send_to(b"what time is it?", time_at)?;
    let n = udp.recv(&mut answer)?;
    let seconds: u64 = std::str::from_utf8(&answer[..n])?.parse()?;
    println!("time service: {seconds} s since 1970");
    udp.send_to(b"hello, echo", echo_at)?;
    let n = udp.recv(&mut answer)?;
    println!("echo service: {:?}", String::from_utf8_lossy(&answer[..n]));
    if &answer[..n] != b"hello, echo" {
        return Err("the UDP echo differs".into());
    }

    // Two TCP clients at once, and a third sending 4 MB: more than the socket buffers hold,
    // so the loop has to wait for it to read before echoing the rest.
    let mut small: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(tcp_at))
        .collect::<Result<_, _>>()?;
    for round in 0..3 {
        for (i, client) in small.iter_mut().enumerate() {
            client.set_read_timeout(Some(Duration::from_secs(5)))?;
            let line = format!("client {i}, line {round}\n");
            client.write_all(line.as_bytes())?;
            let mut back = vec![0; line.len()];
            client.read_exact(&mut back)?;
            if back != line.as_bytes() {
                return Err("a TCP echo differs".into());
            }
        }
    }
    let big: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let mut client = TcpStream::connect(tcp_at)?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut writer = client.try_clone()?;
    let mut back = vec![0; big.len()];
    thread::scope(|scope| {
        let sending = scope.spawn(|| writer.write_all(&big));
        client.read_exact(&mut back)?;
        sending
            .join()
            .map_err(|_| io::Error::other("the sender panicked"))?
    })?;
    println!(
        "TCP echo: 2 clients x 3 lines, and {} bytes through one connection",
        back.len()
    );
    if back != big {
        return Err("the big TCP echo differs".into());
    }
    drop((small, client));

    stop_ref.tell(())?;
    let events = server.join().map_err(|_| "the loop panicked")??;
    println!("the loop handled {events} events on one thread");
    Ok(())
}
