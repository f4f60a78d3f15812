//! [`ProxyStats`]: what a proxy forwarded and dropped, read from counters that its threads
//! bump.
//!
//! Each counter is an independent `Relaxed` atomic: a snapshot is not taken at one instant
//! (a datagram may be counted in one field and not yet in another), which is why tests poll
//! the counters they wait for with a deadline rather than compare two fields once.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::faults::Direction;

/// A snapshot of a proxy's counters, from [`FaultProxy::stats`](crate::FaultProxy::stats).
///
/// # Examples
///
/// ```
/// use actor_testkit::{FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
/// let stats = proxy.stats();
/// assert_eq!(stats.opened, 0);
/// assert_eq!(stats.to_upstream.forwarded_bytes, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyStats {
    /// From the clients to the upstream.
    pub to_upstream: DirectionStats,
    /// From the upstream to the clients.
    pub to_client: DirectionStats,
    /// TCP connections proxied (connected to the upstream), or UDP flows opened (one per
    /// client address).
    pub opened: u64,
    /// TCP connections closed at once: the connection limit reached, or the upstream
    /// unreachable. Always 0 for UDP.
    pub refused: u64,
    /// UDP flows closed to make room for a new client when the table was full. Always 0 for
    /// TCP.
    pub evicted: u64,
}

/// The counters of one direction.
///
/// # Examples
///
/// ```
/// use actor_testkit::{FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let proxy = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?).build()?;
/// let toward_client = proxy.stats().to_client;
/// assert_eq!(toward_client.dropped_datagrams, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectionStats {
    /// Bytes written to the destination.
    pub forwarded_bytes: u64,
    /// Datagrams sent to the destination (UDP; 0 for TCP).
    pub forwarded_datagrams: u64,
    /// Bytes discarded: by the blackhole, a drop, a full delay queue, or a failed send.
    pub dropped_bytes: u64,
    /// Datagrams discarded, for the same reasons (UDP; 0 for TCP).
    pub dropped_datagrams: u64,
}

/// The live counters behind [`ProxyStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    forwarded_bytes: [AtomicU64; 2],
    forwarded_datagrams: [AtomicU64; 2],
    dropped_bytes: [AtomicU64; 2],
    dropped_datagrams: [AtomicU64; 2],
    opened: AtomicU64,
    refused: AtomicU64,
    evicted: AtomicU64,
}

impl Counters {
    /// Counts `bytes` written toward `direction`, as one datagram if `datagram`.
    pub(crate) fn forwarded(&self, direction: Direction, bytes: usize, datagram: bool) {
        let i = direction.index();
        self.forwarded_bytes[i].fetch_add(bytes as u64, Ordering::Relaxed);
        if datagram {
            self.forwarded_datagrams[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts `bytes` discarded going `direction`, as one datagram if `datagram`.
    pub(crate) fn dropped(&self, direction: Direction, bytes: usize, datagram: bool) {
        let i = direction.index();
        self.dropped_bytes[i].fetch_add(bytes as u64, Ordering::Relaxed);
        if datagram {
            self.dropped_datagrams[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a connection or flow opened.
    pub(crate) fn opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection refused.
    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a flow evicted.
    pub(crate) fn evicted(&self) {
        self.evicted.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as they are now.
    pub(crate) fn snapshot(&self) -> ProxyStats {
        let direction = |d: Direction| {
            let i = d.index();
            DirectionStats {
                forwarded_bytes: self.forwarded_bytes[i].load(Ordering::Relaxed),
                forwarded_datagrams: self.forwarded_datagrams[i].load(Ordering::Relaxed),
                dropped_bytes: self.dropped_bytes[i].load(Ordering::Relaxed),
                dropped_datagrams: self.dropped_datagrams[i].load(Ordering::Relaxed),
            }
        };
        ProxyStats {
            to_upstream: direction(Direction::ToUpstream),
            to_client: direction(Direction::ToClient),
            opened: self.opened.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
        }
    }
}
