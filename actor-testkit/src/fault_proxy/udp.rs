//! The UDP variant: a main thread that receives from clients, one flow per client address
//! (a socket connected to the upstream and a thread reading its answers), and one writer per
//! direction behind a [`DelayLine`].
//!
//! ```text
//! client ──▶ listen socket ─main─▶ line[ToUpstream] ─writer─▶ flow's socket ──▶ upstream
//! client ◀── listen socket ◀─writer─ line[ToClient] ◀─flow's reader─ flow's socket ◀── upstream
//! ```
//!
//! Each direction has one line for all flows, so its datagrams leave in the order they came,
//! within each flow as across them. The flow table is bounded: a new client evicts the flow
//! that sent least recently (its reader is stopped and joined later). A guard owned by the
//! main thread stops every flow, closes both lines and joins every thread when the main
//! thread ends, also on a panic.

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::delay_line::DelayLine;
use super::{Limits, POLL, Shared};
use crate::faults::Direction;

/// Room for the largest datagram: a shorter buffer would truncate it.
const MAX_DATAGRAM: usize = 64 * 1024;

/// A datagram on its way to the upstream, with the flow's socket that sends it.
type Upward = (Arc<UdpSocket>, Vec<u8>);
/// A datagram on its way back, with the client it goes to.
type Downward = (SocketAddr, Vec<u8>);

/// The proxy's socket, with a read timeout so that the main thread can look at the stop flag
/// (see [`POLL`]).
pub(super) fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_read_timeout(Some(POLL))?;
    Ok(socket)
}

/// Starts the main thread, which owns the flows and the writers.
pub(super) fn start(
    socket: UdpSocket,
    shared: Arc<Shared>,
    limits: Limits,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("fault-proxy-udp".into())
        .spawn(move || run(socket, &shared, limits))
}

/// The two delay lines.
struct Lines {
    up: DelayLine<Upward>,
    down: DelayLine<Downward>,
}

/// Everything the main thread started; stopped and joined when dropped.
struct Owned {
    lines: Arc<Lines>,
    flows: HashMap<SocketAddr, Flow>,
    /// Readers of evicted flows, told to stop and not yet joined.
    retired: Vec<JoinHandle<()>>,
    writers: Vec<JoinHandle<()>>,
}

/// One client's flow.
struct Flow {
    socket: Arc<UdpSocket>,
    last_sent: Instant,
    /// Tells the reader to return (it looks within [`POLL`]). `Relaxed`: it guards nothing.
    stop: Arc<AtomicBool>,
    reader: JoinHandle<()>,
}

impl Drop for Owned {
    fn drop(&mut self) {
        for flow in self.flows.values() {
            flow.stop.store(true, Ordering::Relaxed);
        }
        for (_, flow) in self.flows.drain() {
            let _ = flow.reader.join();
        }
        for reader in self.retired.drain(..) {
            let _ = reader.join();
        }
        self.lines.up.close();
        self.lines.down.close();
        for writer in self.writers.drain(..) {
            let _ = writer.join();
        }
    }
}

fn run(socket: UdpSocket, shared: &Arc<Shared>, limits: Limits) {
    let socket = Arc::new(socket);
    let lines = Arc::new(Lines {
        up: DelayLine::new(limits.max_queued_bytes),
        down: DelayLine::new(limits.max_queued_bytes),
    });
    let mut owned = Owned {
        lines: Arc::clone(&lines),
        flows: HashMap::new(),
        retired: Vec::new(),
        writers: Vec::new(),
    };
    if start_writers(&mut owned, &socket, shared).is_err() {
        return; // `owned` joins what started; the proxy forwards nothing
    }
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while !shared.stopping() {
        let (n, client) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            Err(error) if is_transient(&error) => continue,
            Err(_) => {
                thread::sleep(POLL);
                continue;
            }
        };
        let Some(flow) = owned.flow(client, shared, limits) else {
            shared.counters.dropped(Direction::ToUpstream, n, true);
            continue;
        };
        admit(
            shared,
            Direction::ToUpstream,
            &lines.up,
            (flow, buf[..n].to_vec()),
            n,
        );
    }
}

/// Starts the writer of each direction.
fn start_writers(
    owned: &mut Owned,
    socket: &Arc<UdpSocket>,
    shared: &Arc<Shared>,
) -> io::Result<()> {
    let (lines, shared_up) = (Arc::clone(&owned.lines), Arc::clone(shared));
    owned.writers.push(
        thread::Builder::new()
            .name("fault-proxy-udp-up".into())
            .spawn(move || {
                while let Some((flow, bytes)) = lines.up.pop() {
                    send(&shared_up, Direction::ToUpstream, &bytes, || {
                        flow.send(&bytes)
                    });
                }
            })?,
    );
    let (lines, shared_down, socket) = (
        Arc::clone(&owned.lines),
        Arc::clone(shared),
        Arc::clone(socket),
    );
    owned.writers.push(
        thread::Builder::new()
            .name("fault-proxy-udp-down".into())
            .spawn(move || {
                while let Some((client, bytes)) = lines.down.pop() {
                    send(&shared_down, Direction::ToClient, &bytes, || {
                        socket.send_to(&bytes, client)
                    });
                }
            })?,
    );
    Ok(())
}

impl Owned {
    /// The socket of `client`'s flow, opened if it has none (evicting the flow that sent least
    /// recently if the table is full); `None` if no socket or thread could be had.
    fn flow(
        &mut self,
        client: SocketAddr,
        shared: &Arc<Shared>,
        limits: Limits,
    ) -> Option<Arc<UdpSocket>> {
        self.retired.retain(|reader| !reader.is_finished());
        if let Some(flow) = self.flows.get_mut(&client) {
            flow.last_sent = Instant::now();
            return Some(Arc::clone(&flow.socket));
        }
        if self.flows.len() >= limits.max_clients {
            let oldest = self
                .flows
                .iter()
                .min_by_key(|(_, flow)| flow.last_sent)
                .map(|(addr, _)| *addr);
            if let Some(flow) = oldest.and_then(|addr| self.flows.remove(&addr)) {
                flow.stop.store(true, Ordering::Relaxed);
                self.retired.push(flow.reader);
                shared.counters.evicted();
            }
        }
        let flow = self.open(client, shared, limits).ok()?;
        let socket = Arc::clone(&flow.socket);
        self.flows.insert(client, flow);
        shared.counters.opened();
        Some(socket)
    }

    /// A socket connected to the upstream for `client`, and the thread reading its answers.
    fn open(&self, client: SocketAddr, shared: &Arc<Shared>, limits: Limits) -> io::Result<Flow> {
        let any: SocketAddr = match limits.upstream {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(any)?;
        socket.connect(limits.upstream)?;
        socket.set_read_timeout(Some(POLL))?;
        let socket = Arc::new(socket);
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (socket, stop) = (Arc::clone(&socket), Arc::clone(&stop));
            let (shared, lines) = (Arc::clone(shared), Arc::clone(&self.lines));
            thread::Builder::new()
                .name("fault-proxy-udp-flow".into())
                .spawn(move || read_upstream(&socket, client, &stop, &shared, &lines.down))?
        };
        Ok(Flow {
            socket,
            last_sent: Instant::now(),
            stop,
            reader,
        })
    }
}

/// Queues what the upstream sends on one flow for `client`, until the flow or the proxy
/// stops.
fn read_upstream(
    socket: &UdpSocket,
    client: SocketAddr,
    stop: &AtomicBool,
    shared: &Shared,
    line: &DelayLine<Downward>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while !stop.load(Ordering::Relaxed) && !shared.stopping() {
        match socket.recv(&mut buf) {
            Ok(n) => admit(
                shared,
                Direction::ToClient,
                line,
                (client, buf[..n].to_vec()),
                n,
            ),
            Err(error) if is_transient(&error) => {}
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// Queues a datagram going `direction`, unless the blackhole, a drop or a full line
/// discards it (counted).
fn admit<T>(shared: &Shared, direction: Direction, line: &DelayLine<T>, item: T, bytes: usize) {
    let faults = &shared.faults;
    if faults.blackhole() || faults.drop_next(direction) {
        shared.counters.dropped(direction, bytes, true);
        return;
    }
    if line.try_push(item, bytes, faults.delay(direction)).is_err() {
        shared.counters.dropped(direction, bytes, true);
    }
}

/// Sends a due datagram with `send`, unless the blackhole came on while it waited; counts it
/// either way.
fn send(
    shared: &Shared,
    direction: Direction,
    bytes: &[u8],
    send: impl FnOnce() -> io::Result<usize>,
) {
    if !shared.faults.blackhole() && send().is_ok() {
        shared.counters.forwarded(direction, bytes.len(), true);
    } else {
        shared.counters.dropped(direction, bytes.len(), true);
    }
}

/// Whether a receive error is one to try again after at once: the read timeout, a signal, or
/// an ICMP error left by an earlier send (an upstream not listening yet, say).
fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::WouldBlock
            | ErrorKind::TimedOut
            | ErrorKind::Interrupted
            | ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
    )
}
