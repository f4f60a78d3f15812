//! [`Responder`]: the actor behind a [`UdpServer`](super::UdpServer), and the receive thread
//! that feeds it.
//!
//! The actor owns the socket through a receive thread that it starts in `started` and joins
//! in `stopped`. The thread checks each datagram against the [`Filter`] and hands those that
//! pass to the actor, whose bounded mailbox drops (and counts) what it has no room for; the
//! actor runs the handler and sends its answer.
//!
//! Stopping: the receive thread is told to stop and woken by a datagram to the socket's own
//! address (its read timeout ends the wait anyway), then joined.

use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actor_core::{Actor, ActorRef, Context, HandlerResult, SendError, panic_message};

use crate::server::io::{is_timeout, wake_addr};
use crate::server::rate_limit::{RateLimit, SourceBuckets};
use crate::source::Source;

/// What a handler is: run on the actor's thread for each datagram.
pub(super) type Handler = dyn FnMut(Vec<u8>, SocketAddr) -> Option<Vec<u8>> + Send;

/// Source ports below this one are service ports; see
/// [`UdpServerBuilder::ignore_service_ports`](super::UdpServerBuilder::ignore_service_ports).
const FIRST_CLIENT_PORT: u16 = 1024;

/// How often the receive thread looks at the stop flag even if no datagram wakes it.
const POLL: Duration = Duration::from_secs(1);

/// How long sending an answer may wait for room in the socket's buffer.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Stack size of the receive thread.
const THREAD_STACK: usize = 128 * 1024;

/// A datagram received, for the actor to answer.
#[derive(Debug)]
pub(super) struct Datagram {
    bytes: Vec<u8>,
    peer: SocketAddr,
}

/// What the receive thread checks before handing a datagram on.
#[derive(Debug)]
pub(super) struct Filter {
    pub(super) max_datagram: usize,
    pub(super) ignore_service_ports: bool,
    pub(super) ignored_ports: Vec<u16>,
    pub(super) rate: Option<RateLimit>,
    /// Counts the datagrams the filter ignored.
    pub(super) ignored: Arc<AtomicU64>,
}

/// The actor behind a UDP server; see the module documentation.
pub(super) struct Responder {
    name: Arc<str>,
    local_addr: SocketAddr,
    /// Sends the answers (a handle on the same socket as the receiving one).
    socket: UdpSocket,
    /// Moved into the receive thread when the actor starts, with the filter.
    receiver: Option<(UdpSocket, Filter)>,
    handler: Box<Handler>,
    /// Set when the actor stops; read by the receive thread after each wake-up.
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("name", &self.name)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder for `socket`, which is bound (to `local_addr`) already.
    ///
    /// # Errors
    ///
    /// When the socket cannot be cloned or given its timeouts.
    pub(super) fn new(
        name: Arc<str>,
        socket: UdpSocket,
        local_addr: SocketAddr,
        filter: Filter,
        handler: Box<Handler>,
    ) -> std::io::Result<Responder> {
        socket.set_read_timeout(Some(POLL))?;
        socket.set_write_timeout(Some(SEND_TIMEOUT))?;
        Ok(Responder {
            name,
            local_addr,
            receiver: Some((socket.try_clone()?, filter)),
            socket,
            handler,
            stopping: Arc::new(AtomicBool::new(false)),
            thread: None,
        })
    }
}

impl Actor for Responder {
    type Msg = Datagram;

    fn started(&mut self, ctx: &mut Context<Datagram>) -> HandlerResult {
        let Some((receiver, filter)) = self.receiver.take() else {
            return Ok(());
        };
        let myself = ctx.myself().clone();
        let stopping = Arc::clone(&self.stopping);
        let name = Arc::clone(&self.name);
        let thread = std::thread::Builder::new()
            .name(format!("{}-receive", self.name))
            .stack_size(THREAD_STACK)
            .spawn(move || receive_loop(&receiver, &stopping, &myself, &name, filter))?;
        self.thread = Some(thread);
        Ok(())
    }

    fn handle(&mut self, datagram: Datagram, _ctx: &mut Context<Datagram>) -> HandlerResult {
        let Datagram { bytes, peer } = datagram;
        let name = &self.name;
        let handler = &mut self.handler;
        match catch_unwind(AssertUnwindSafe(|| handler(bytes, peer))) {
            Ok(Some(answer)) => {
                if let Err(error) = self.socket.send_to(&answer, peer) {
                    tracing::debug!(%peer, server = %name, %error, "answer not sent");
                }
            }
            Ok(None) => {}
            Err(panic) => {
                let panic = panic_message(panic.as_ref());
                tracing::warn!(%peer, server = %name, %panic, "the datagram's handler panicked");
            }
        }
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<Datagram>) {
        // Pairs with the load in `receive_loop`, which happens after the wake-up below.
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // If the wake-up is lost, the read timeout ends the wait within `POLL`.
            let _ = self.socket.send_to(&[], wake_addr(self.local_addr));
            let _ = thread.join();
        }
        tracing::debug!(addr = %self.local_addr, server = %self.name, "server stopped");
    }
}

/// Receives datagrams and hands those the filter lets through to the actor until it stops.
fn receive_loop(
    socket: &UdpSocket,
    stopping: &AtomicBool,
    myself: &ActorRef<Datagram>,
    name: &str,
    filter: Filter,
) {
    let mut buckets = filter.rate.map(SourceBuckets::new);
    let ignore = |peer: SocketAddr, why: &str| {
        filter.ignored.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%peer, server = %name, "datagram ignored: {why}");
    };
    // One byte more than the limit: a datagram that fills the buffer was too large (the
    // system truncates what does not fit).
    let mut buf = vec![0; filter.max_datagram + 1];
    while !stopping.load(Ordering::SeqCst) {
        let (len, peer) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            Err(error) if is_timeout(&error) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                // An ICMP error for an earlier answer, typically; the socket is still good.
                tracing::debug!(server = %name, %error, "receiving a datagram failed");
                continue;
            }
        };
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        if len > filter.max_datagram {
            ignore(peer, "too large");
            continue;
        }
        let port = peer.port();
        if filter.ignore_service_ports && port < FIRST_CLIENT_PORT {
            ignore(peer, "from a service port");
            continue;
        }
        if filter.ignored_ports.contains(&port) {
            ignore(peer, "from an ignored port");
            continue;
        }
        if let Some(buckets) = &mut buckets
            && !buckets.admit(Source::of(peer.ip()), Instant::now())
        {
            ignore(peer, "over the source's rate");
            continue;
        }
        let datagram = Datagram {
            bytes: buf[..len].to_vec(),
            peer,
        };
        // A full mailbox drops the datagram (and counts it); only a stopped actor fails.
        if let Err(SendError::Closed(_)) = myself.try_tell(datagram) {
            break;
        }
    }
}
