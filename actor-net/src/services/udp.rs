//! [`UdpListenerActor`]: one datagram in, one datagram out.
//!
//! The actor owns the socket through a receive thread that it starts in `started` and joins
//! in `stopped`. The thread hands each datagram to the actor, whose bounded mailbox drops
//! what it has no room for (a flood costs a bounded amount of memory, as UDP allows); the
//! actor asks the echo or time actor for the answer and sends it.
//!
//! Datagrams are ignored, never answered, when they are larger than [`MAX_DATAGRAM`], when
//! they come from the port of one of the set's own UDP listeners, from a port below 1024 (where the classic services that answer everything
//! live: echo, daytime, chargen, time) or from port 0, and when their source address has
//! used up its token bucket ([`SourceBuckets`]): so that two answering services, this one
//! included, cannot be made to answer each other forever. Every answer is at most as large
//! as the request or, for daytime and time, a few dozen bytes.
//!
//! Stopping: the receive thread is told to stop and woken by a datagram to the socket's own
//! address (its read timeout ends the wait anyway), then joined.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actor_core::{Actor, ActorRef, Context, HandlerResult, SendError};

use super::io::{is_timeout, wake_addr};
use super::limits::Limits;
use super::protocol::Protocol;
use super::rate_limit::SourceBuckets;
use super::service::UdpService;
use crate::source::Source;

/// The largest datagram answered, in bytes; larger ones are ignored.
pub(crate) const MAX_DATAGRAM: usize = 8192;

/// How many datagrams may wait for the actor; more are dropped.
pub(crate) const QUEUE: usize = 64;

/// Source ports below this one are never answered: they belong to services (echo 7,
/// daytime 13, chargen 19, time 37 among them), not to clients, which send from ephemeral
/// ports.
const FIRST_CLIENT_PORT: u16 = 1024;

/// How often the receive thread looks at the stop flag even if no datagram wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Stack size of the receive thread.
const THREAD_STACK: usize = 128 * 1024;

/// A datagram received, for the listener actor to answer.
#[derive(Debug)]
pub(crate) struct Datagram {
    bytes: Vec<u8>,
    peer: SocketAddr,
}

/// A UDP listener for one protocol; see the module documentation.
#[derive(Debug)]
pub(crate) struct UdpListenerActor {
    protocol: Protocol,
    local_addr: SocketAddr,
    /// Sends the answers (a handle on the same socket as the receiving one).
    socket: UdpSocket,
    /// Moved into the receive thread when the actor starts.
    receiver: Option<UdpSocket>,
    service: UdpService,
    limits: Limits,
    /// Source ports never answered besides those below 1024: the set's own UDP listeners.
    ignored_ports: Vec<u16>,
    /// Set when the actor stops; read by the receive thread after each wake-up.
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpListenerActor {
    /// A listener actor for `socket`, which is bound already.
    ///
    /// # Errors
    ///
    /// When the socket cannot be cloned or configured.
    pub(crate) fn new(
        protocol: Protocol,
        socket: UdpSocket,
        local_addr: SocketAddr,
        service: UdpService,
        limits: Limits,
        ignored_ports: Vec<u16>,
    ) -> std::io::Result<UdpListenerActor> {
        socket.set_read_timeout(Some(POLL))?;
        socket.set_write_timeout(Some(limits.ask_timeout))?;
        Ok(UdpListenerActor {
            protocol,
            local_addr,
            receiver: Some(socket.try_clone()?),
            socket,
            service,
            limits,
            ignored_ports,
            stopping: Arc::new(AtomicBool::new(false)),
            thread: None,
        })
    }
}

impl Actor for UdpListenerActor {
    type Msg = Datagram;

    fn started(&mut self, ctx: &mut Context<Datagram>) -> HandlerResult {
        let Some(receiver) = self.receiver.take() else {
            return Ok(());
        };
        let myself = ctx.myself().clone();
        let stopping = Arc::clone(&self.stopping);
        let protocol = self.protocol;
        let filter = Filter {
            ignored_ports: self.ignored_ports.clone(),
            buckets: SourceBuckets::new(self.limits.udp_rate),
        };
        let thread = std::thread::Builder::new()
            .name(format!("actor-net-{protocol}"))
            .stack_size(THREAD_STACK)
            .spawn(move || receive_loop(&receiver, &stopping, &myself, protocol, filter))?;
        self.thread = Some(thread);
        Ok(())
    }

    fn handle(&mut self, datagram: Datagram, _ctx: &mut Context<Datagram>) -> HandlerResult {
        let Datagram { bytes, peer } = datagram;
        let protocol = self.protocol;
        match self.service.answer(bytes, &self.limits) {
            Ok(answer) => {
                if let Err(error) = self.socket.send_to(&answer, peer) {
                    tracing::debug!(%peer, service = %protocol, %error, "answer not sent");
                }
            }
            Err(error) => tracing::debug!(%peer, service = %protocol, %error, "no answer"),
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
        tracing::debug!(addr = %self.local_addr, service = %self.protocol, "listener stopped");
    }
}

/// What the receive thread checks before handing a datagram on.
#[derive(Debug)]
struct Filter {
    ignored_ports: Vec<u16>,
    buckets: SourceBuckets,
}

/// Receives datagrams and hands them to the listener actor until it stops.
fn receive_loop(
    socket: &UdpSocket,
    stopping: &AtomicBool,
    myself: &ActorRef<Datagram>,
    protocol: Protocol,
    mut filter: Filter,
) {
    // One byte more than the limit: a datagram that fills the buffer was too large (the
    // system truncates what does not fit).
    let mut buf = vec![0; MAX_DATAGRAM + 1];
    while !stopping.load(Ordering::SeqCst) {
        let (len, peer) = match socket.recv_from(&mut buf) {
            Ok(received) => received,
            Err(error) if is_timeout(&error) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                // An ICMP error for an earlier answer, typically; the socket is still good.
                tracing::debug!(service = %protocol, %error, "receiving a datagram failed");
                continue;
            }
        };
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        if len > MAX_DATAGRAM {
            tracing::debug!(%peer, service = %protocol, "oversized datagram ignored");
            continue;
        }
        if peer.port() < FIRST_CLIENT_PORT || filter.ignored_ports.contains(&peer.port()) {
            tracing::debug!(%peer, service = %protocol, "datagram from a service port ignored");
            continue;
        }
        if !filter.buckets.admit(Source::of(peer.ip()), Instant::now()) {
            tracing::debug!(%peer, service = %protocol, "datagram over the source's rate ignored");
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
