//! The TCP variant: an accept thread, and per connection a thread that connects to the
//! upstream and runs four pumps, a reader and a writer for each direction, with a
//! [`DelayLine`] between them.
//!
//! ```text
//! client ──read──▶ line[ToUpstream] ──write──▶ upstream
//! client ◀─write── line[ToClient]   ◀──read─── upstream
//! ```
//!
//! A reader that reaches the end of its stream queues an `End`, which its writer turns into a
//! half-close (`shutdown(Write)`) once due, so a close travels in order behind the data. A
//! failed read or write aborts the whole connection: both sockets shut down, both lines
//! closed, so that every pump returns. The connection thread joins its pumps (a guard joins
//! them even if it panics) and the accept thread joins the connection threads.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use parking_lot::Mutex;

use super::delay_line::DelayLine;
use super::{Limits, POLL, Shared};
use crate::faults::Direction;

/// The most a reader takes from its socket at once.
const CHUNK: usize = 16 * 1024;

/// A listener for the proxy, non-blocking so that the accept thread can look at the stop
/// flag (see [`POLL`]).
pub(super) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Starts the accept thread, which owns every connection.
pub(super) fn start(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: Limits,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("fault-proxy-tcp".into())
        .spawn(move || accept_loop(&listener, &shared, limits))
}

/// Accepts clients and starts a connection for each, until the proxy stops.
///
/// The listener does not block, so a new client waits up to [`POLL`] to be accepted when the
/// proxy was idle.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, limits: Limits) {
    // Dropped last, also on a panic: closes every connection and joins its thread.
    let mut open = Connections(Vec::new());
    while !shared.stopping() {
        open.reap();
        match listener.accept() {
            Ok((client, _)) => {
                if open.0.len() >= limits.max_clients {
                    shared.counters.refused();
                    continue; // dropping `client` closes it
                }
                match Connection::start(client, shared, limits) {
                    Ok(connection) => open.0.push(connection),
                    Err(_) => shared.counters.refused(),
                }
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            // Nothing to accept, or an error such as running out of file descriptors: wait a
            // little before trying again.
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// The connections of an accept thread; closes and joins them all when dropped.
struct Connections(Vec<Connection>);

impl Connections {
    /// Joins the connections whose thread has ended.
    fn reap(&mut self) {
        let (ended, open) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|connection| connection.thread.is_finished());
        self.0 = open;
        for connection in ended {
            let _ = connection.thread.join();
        }
    }
}

impl Drop for Connections {
    fn drop(&mut self) {
        for connection in &self.0 {
            connection.link.close();
        }
        for connection in self.0.drain(..) {
            let _ = connection.thread.join();
        }
    }
}

/// One proxied connection: its thread and what can abort it.
struct Connection {
    link: Arc<Link>,
    thread: JoinHandle<()>,
}

impl Connection {
    fn start(client: TcpStream, shared: &Arc<Shared>, limits: Limits) -> io::Result<Connection> {
        // Accepted from a non-blocking listener: some systems pass that on.
        client.set_nonblocking(false)?;
        let link = Arc::new(Link {
            sockets: Mutex::new(Some(Vec::new())),
            lines: [
                DelayLine::new(limits.max_queued_bytes),
                DelayLine::new(limits.max_queued_bytes),
            ],
        });
        let thread = {
            let link = Arc::clone(&link);
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name("fault-proxy-tcp-conn".into())
                .spawn(move || run(client, &link, &shared, limits))?
        };
        Ok(Connection { link, thread })
    }
}

/// What the threads of one connection share: its sockets, to shut them down, and its two
/// delay lines.
struct Link {
    /// Clones of the client's and the upstream's sockets; `None` once closed, after which
    /// no socket can be added (one added late is shut down at once by its owner).
    sockets: Mutex<Option<Vec<TcpStream>>>,
    /// Indexed by [`Direction::index`].
    lines: [DelayLine<Chunk>; 2],
}

impl Link {
    /// Keeps a clone of `socket` to shut down on [`close`](Self::close); `false` if the link
    /// is already closed (or the clone failed), and then the caller gives up.
    fn add(&self, socket: &TcpStream) -> bool {
        let mut sockets = self.sockets.lock();
        match (sockets.as_mut(), socket.try_clone()) {
            (Some(sockets), Ok(clone)) => {
                sockets.push(clone);
                true
            }
            _ => false,
        }
    }

    /// Shuts both sockets down and closes both lines, so that every pump returns: a blocked
    /// read sees the end of its stream, a blocked write fails, a wait on a line ends.
    /// Idempotent.
    fn close(&self) {
        if let Some(sockets) = self.sockets.lock().take() {
            for socket in sockets {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
        for line in &self.lines {
            line.close();
        }
    }

    fn line(&self, direction: Direction) -> &DelayLine<Chunk> {
        &self.lines[direction.index()]
    }
}

/// What a reader hands its writer.
enum Chunk {
    Data(Vec<u8>),
    /// The reader's stream ended: half-close the writer's.
    End,
}

/// Closes the link when dropped during a panic, so that the other pumps do not wait forever.
struct CloseOnPanic<'a>(&'a Link);

impl Drop for CloseOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.close();
        }
    }
}

/// The connection thread: connects to the upstream, runs the four pumps, closes the link
/// when they are done.
fn run(client: TcpStream, link: &Arc<Link>, shared: &Arc<Shared>, limits: Limits) {
    if !link.add(&client) {
        return;
    }
    let upstream = match TcpStream::connect_timeout(&limits.upstream, limits.connect_timeout) {
        Ok(upstream) => upstream,
        Err(_) => {
            shared.counters.refused();
            link.close();
            return;
        }
    };
    if !link.add(&upstream) {
        let _ = upstream.shutdown(Shutdown::Both);
        return;
    }
    shared.counters.opened();
    // Small writes go out at once: the delay is the proxy's to add, not Nagle's.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let mut pumps = Pumps {
        link: Arc::clone(link),
        threads: Vec::new(),
    };
    let sides = [
        (Direction::ToUpstream, &client, &upstream),
        (Direction::ToClient, &upstream, &client),
    ];
    for (direction, from, to) in sides {
        let started = pumps
            .start("fault-proxy-tcp-read", from, direction, shared, read_side)
            .and_then(|()| pumps.start("fault-proxy-tcp-write", to, direction, shared, write_side));
        if started.is_err() {
            link.close();
            return; // `pumps` joins those that started
        }
    }
    pumps.join();
    // Both directions are done: release the sockets now rather than when the accept thread
    // reaps this connection.
    link.close();
}

/// The pump threads of one connection; joined when dropped (after closing the link if the
/// connection thread panicked).
struct Pumps {
    link: Arc<Link>,
    threads: Vec<JoinHandle<()>>,
}

impl Pumps {
    /// Starts a pump running `pump` on a clone of `socket`, going `direction`.
    fn start(
        &mut self,
        name: &str,
        socket: &TcpStream,
        direction: Direction,
        shared: &Arc<Shared>,
        pump: fn(TcpStream, Direction, &Link, &Shared),
    ) -> io::Result<()> {
        let socket = socket.try_clone()?;
        let link = Arc::clone(&self.link);
        let shared = Arc::clone(shared);
        let thread = thread::Builder::new().name(name.into()).spawn(move || {
            let _guard = CloseOnPanic(&link);
            pump(socket, direction, &link, &shared);
        })?;
        self.threads.push(thread);
        Ok(())
    }

    fn join(&mut self) {
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Pumps {
    fn drop(&mut self) {
        if thread::panicking() {
            self.link.close();
        }
        self.join();
    }
}

/// Reads `from` and queues what it reads going `direction`, until the stream ends or fails.
fn read_side(mut from: TcpStream, direction: Direction, link: &Link, shared: &Shared) {
    let line = link.line(direction);
    let faults = &shared.faults;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(n) => n,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(_) => {
                link.close();
                return;
            }
        };
        if n == 0 {
            if faults.blackhole() {
                // The close is swallowed like the data: the other side hears nothing.
                line.close();
            } else {
                let _ = line.push(Chunk::End, 0, faults.delay(direction));
            }
            return;
        }
        if faults.blackhole() {
            shared.counters.dropped(direction, n, false);
            continue;
        }
        // Waits for room: a full line slows the sender down through TCP, and loses nothing.
        if line
            .push(Chunk::Data(buf[..n].to_vec()), n, faults.delay(direction))
            .is_err()
        {
            return; // closed
        }
    }
}

/// Writes to `to` what is due going `direction`, until the line ends or closes.
fn write_side(mut to: TcpStream, direction: Direction, link: &Link, shared: &Shared) {
    let line = link.line(direction);
    while let Some(chunk) = line.pop() {
        // Looked at again when due: the blackhole also swallows what was delayed before it.
        let blackhole = shared.faults.blackhole();
        match chunk {
            Chunk::Data(bytes) if blackhole => {
                shared.counters.dropped(direction, bytes.len(), false)
            }
            Chunk::Data(bytes) => {
                if to.write_all(&bytes).is_err() {
                    shared.counters.dropped(direction, bytes.len(), false);
                    link.close();
                    return;
                }
                shared.counters.forwarded(direction, bytes.len(), false);
            }
            Chunk::End => {
                if !blackhole {
                    let _ = to.shutdown(Shutdown::Write);
                }
                return;
            }
        }
    }
}
