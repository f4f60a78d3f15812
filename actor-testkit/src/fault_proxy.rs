//! [`FaultProxy`]: a TCP or UDP proxy that injects delay, loss and blackholes, and
//! [`FaultProxyBuilder`], which starts one.
//!
//! The two protocols are two variants behind [`Protocol`], one file each (`tcp.rs`,
//! `udp.rs`), sharing the delay queue (`delay_line.rs`). Each runs on one thread that the
//! proxy owns; that thread owns and joins everything it starts.
//!
//! Stopping: [`FaultProxy::stop`] (or dropping the proxy) sets the shared `stopping` flag
//! and joins the main thread. The main thread sees the flag within [`POLL`], stops taking new
//! clients, closes every connection or flow (sockets shut down, delay queues closed, so that
//! no thread stays blocked), and joins their threads before it returns.

mod delay_line;
mod tcp;
mod udp;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::BuildError;
use crate::faults::{Direction, Faults, check_probability};
use crate::stats::{Counters, ProxyStats};

/// How often a blocked accept or receive looks at the stop flag. The standard library cannot
/// interrupt a blocked `accept` or `recv` from another thread, and waking one with a
/// connection or datagram to itself fails when the address is unreachable (a link set down in
/// a test), so the proxy's sockets time out this often instead.
const POLL: Duration = Duration::from_millis(20);

/// Which protocol a proxy forwards.
///
/// # Examples
///
/// ```
/// use actor_testkit::Protocol;
///
/// assert_eq!(Protocol::Udp.to_string(), "udp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Accepts connections and connects each to the upstream; forwards bytes both ways.
    Tcp,
    /// Forwards datagrams to the upstream from one socket per client address, and the
    /// upstream's answers back to that client.
    Udp,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

/// A running proxy: clients connect (or send) to [`local_addr`](Self::local_addr), and the
/// proxy forwards to the upstream, injecting the [`Faults`] in force.
///
/// Threads only. Its memory is bounded: each delay queue holds at most
/// [`max_queued_bytes`](FaultProxyBuilder::max_queued_bytes) (TCP: the reader waits for room,
/// so a delayed stream slows down and loses nothing; UDP: the excess datagram is dropped and
/// counted), and the connections and flows are bounded too. Dropping the proxy stops it, as
/// [`stop`](Self::stop) does: every thread is joined.
///
/// # Examples
///
/// A TCP proxy in front of an echo server, delaying what goes upstream:
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::{TcpListener, TcpStream};
/// use std::time::Duration;
/// use actor_testkit::{Direction, FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let upstream = TcpListener::bind("127.0.0.1:0")?;
/// let upstream_addr = upstream.local_addr()?;
/// let echo = std::thread::spawn(move || -> std::io::Result<()> {
///     let (mut stream, _) = upstream.accept()?;
///     let mut buf = [0u8; 5];
///     stream.read_exact(&mut buf)?;
///     stream.write_all(&buf)
/// });
///
/// let proxy = FaultProxy::builder(Protocol::Tcp, upstream_addr)
///     .delay_toward(Direction::ToUpstream, Duration::from_millis(20))
///     .build()?;
/// let mut client = TcpStream::connect(proxy.local_addr())?;
/// client.set_read_timeout(Some(Duration::from_secs(10)))?;
/// client.write_all(b"hello")?;
/// let mut answer = [0u8; 5];
/// client.read_exact(&mut answer)?;
/// assert_eq!(&answer, b"hello");
/// echo.join().unwrap()?;
/// let stats = proxy.stop();
/// assert_eq!(stats.to_client.forwarded_bytes, 5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FaultProxy {
    protocol: Protocol,
    local_addr: SocketAddr,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What a proxy's threads share with its handle.
#[derive(Debug)]
struct Shared {
    faults: Faults,
    counters: Counters,
    /// Set once, by `stop`; read by every loop after each wait (within [`POLL`]). `Relaxed`:
    /// the threads learn nothing else through it, and the join in `stop` orders the rest.
    stopping: AtomicBool,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}

/// The settings the main thread needs, fixed at build time.
#[derive(Debug, Clone, Copy)]
struct Limits {
    upstream: SocketAddr,
    max_queued_bytes: usize,
    max_clients: usize,
    connect_timeout: Duration,
}

impl FaultProxy {
    /// A builder for a proxy of `protocol` in front of `upstream`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?)
    ///     .drop_probability(0.1)
    ///     .seed(42)
    ///     .build()?;
    /// assert_eq!(proxy.protocol(), Protocol::Udp);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(protocol: Protocol, upstream: SocketAddr) -> FaultProxyBuilder {
        FaultProxyBuilder {
            protocol,
            upstream,
            listen: (Ipv4Addr::LOCALHOST, 0).into(),
            delay: [Duration::ZERO; 2],
            drop_probability: 0.0,
            seed: 0,
            blackhole: false,
            max_queued_bytes: 1 << 20,
            max_clients: 64,
            connect_timeout: Duration::from_secs(3),
        }
    }

    /// The address clients connect or send to (with the port chosen when it was 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// assert_ne!(proxy.local_addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the proxy forwards to.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// assert_eq!(proxy.upstream_addr(), upstream.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn upstream_addr(&self) -> SocketAddr {
        self.upstream
    }

    /// The protocol the proxy forwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// assert_eq!(proxy.protocol(), Protocol::Tcp);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The faults in force, to read or change; clone the handle to change them from another
    /// thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// proxy.faults().set_blackhole(true);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// What the proxy has forwarded and dropped so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// assert_eq!(proxy.stats().refused, 0);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stats(&self) -> ProxyStats {
        self.shared.counters.snapshot()
    }

    /// Stops the proxy: closes the listening socket and every connection or flow (what is
    /// still delayed is discarded), and joins every thread. Returns the final counters: once
    /// every thread has ended, they count everything the proxy did (a counter is updated
    /// after its write, so a snapshot taken while data flows may lag what a peer received).
    ///
    /// Returns within about 20 ms, plus, for a TCP connection still connecting to an
    /// unreachable upstream, what is left of its
    /// [`connect_timeout`](FaultProxyBuilder::connect_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpStream;
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// let addr = proxy.local_addr();
    /// proxy.stop();
    /// assert!(TcpStream::connect(addr).is_err());
    /// # Ok(())
    /// # }
    /// ```
    // Called for the stop itself as often as for the counters: not `must_use`.
    #[allow(clippy::must_use_candidate)]
    pub fn stop(mut self) -> ProxyStats {
        self.stop_and_join();
        self.stats()
    }

    fn stop_and_join(&mut self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // A panic on that thread has already closed what it owned (its guards did).
            let _ = thread.join();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Starts a [`FaultProxy`]; from [`FaultProxy::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_testkit::{FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?)
///     .listen("127.0.0.1:0".parse()?)
///     .delay(Duration::from_millis(10))
///     .max_queued_bytes(64 * 1024)
///     .max_clients(8)
///     .build()?;
/// # drop(proxy);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build`"]
pub struct FaultProxyBuilder {
    protocol: Protocol,
    upstream: SocketAddr,
    listen: SocketAddr,
    delay: [Duration; 2],
    drop_probability: f64,
    seed: u64,
    blackhole: bool,
    max_queued_bytes: usize,
    max_clients: usize,
    connect_timeout: Duration,
}

impl FaultProxyBuilder {
    /// Where the proxy listens (TCP) or receives (UDP). By default, `127.0.0.1:0`: the
    /// loopback, on a free port.
    pub fn listen(mut self, addr: SocketAddr) -> FaultProxyBuilder {
        self.listen = addr;
        self
    }

    /// The delay of both directions at the start ([`Faults::set_delay`]). By default, none.
    pub fn delay(mut self, delay: Duration) -> FaultProxyBuilder {
        self.delay = [delay; 2];
        self
    }

    /// The delay of one direction at the start ([`Faults::set_delay_toward`]). By default,
    /// none.
    pub fn delay_toward(mut self, direction: Direction, delay: Duration) -> FaultProxyBuilder {
        self.delay[direction.index()] = delay;
        self
    }

    /// The probability of dropping each UDP datagram at the start
    /// ([`Faults::set_drop_probability`]); checked by `build`. By default, 0.
    pub fn drop_probability(mut self, probability: f64) -> FaultProxyBuilder {
        self.drop_probability = probability;
        self
    }

    /// The seed of the generators that decide which datagrams to drop. By default, 0: a
    /// proxy drops the same datagrams on every run unless it is given another seed.
    pub fn seed(mut self, seed: u64) -> FaultProxyBuilder {
        self.seed = seed;
        self
    }

    /// Whether the blackhole is on at the start ([`Faults::set_blackhole`]). By default, off.
    pub fn blackhole(mut self, on: bool) -> FaultProxyBuilder {
        self.blackhole = on;
        self
    }

    /// The bytes each delay queue may hold: one per direction of each TCP connection, one per
    /// direction for all UDP flows. By default, 1 MiB. A TCP reader waits for room (the
    /// stream slows down, nothing is lost); a UDP datagram that does not fit is dropped and
    /// counted. A single item larger than the bound passes when its queue is empty.
    pub fn max_queued_bytes(mut self, bytes: usize) -> FaultProxyBuilder {
        self.max_queued_bytes = bytes;
        self
    }

    /// The TCP connections open at once (more are closed at once and counted as refused), or
    /// the UDP client addresses with a flow of their own (a new client evicts the one that
    /// sent least recently, counted as evicted). By default, 64.
    pub fn max_clients(mut self, clients: usize) -> FaultProxyBuilder {
        self.max_clients = clients;
        self
    }

    /// How long a TCP connection to the upstream may take before the client's connection is
    /// closed (and counted as refused). By default, 3 seconds.
    pub fn connect_timeout(mut self, timeout: Duration) -> FaultProxyBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// Binds the listening socket and starts the proxy.
    ///
    /// # Errors
    ///
    /// [`BuildError::Bind`] if the address cannot be bound, [`BuildError::Probability`] for a
    /// drop probability outside `[0, 1]`, [`BuildError::Zero`] for a zero bound or timeout,
    /// [`BuildError::Spawn`] if the thread cannot start.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{BuildError, FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let refused = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?)
    ///     .drop_probability(-1.0)
    ///     .build();
    /// assert!(matches!(refused, Err(BuildError::Probability(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn build(self) -> Result<FaultProxy, BuildError> {
        let drop_probability = check_probability(self.drop_probability)?;
        for (setting, zero) in [
            ("max_queued_bytes", self.max_queued_bytes == 0),
            ("max_clients", self.max_clients == 0),
            ("connect_timeout", self.connect_timeout.is_zero()),
        ] {
            if zero {
                return Err(BuildError::Zero { setting });
            }
        }
        let faults = Faults::new(self.seed);
        for direction in Direction::ALL {
            faults.set_delay_toward(direction, self.delay[direction.index()]);
        }
        faults.set_drop_probability(drop_probability)?;
        faults.set_blackhole(self.blackhole);
        let shared = Arc::new(Shared {
            faults,
            counters: Counters::default(),
            stopping: AtomicBool::new(false),
        });
        let limits = Limits {
            upstream: self.upstream,
            max_queued_bytes: self.max_queued_bytes,
            max_clients: self.max_clients,
            connect_timeout: self.connect_timeout,
        };
        let bind_error = |source| BuildError::Bind {
            addr: self.listen,
            source,
        };
        let (local_addr, thread) = match self.protocol {
            Protocol::Tcp => {
                let listener = tcp::bind(self.listen).map_err(bind_error)?;
                let local_addr = listener.local_addr().map_err(bind_error)?;
                let thread = tcp::start(listener, Arc::clone(&shared), limits);
                (local_addr, thread.map_err(BuildError::Spawn)?)
            }
            Protocol::Udp => {
                let socket = udp::bind(self.listen).map_err(bind_error)?;
                let local_addr = socket.local_addr().map_err(bind_error)?;
                let thread = udp::start(socket, Arc::clone(&shared), limits);
                (local_addr, thread.map_err(BuildError::Spawn)?)
            }
        };
        Ok(FaultProxy {
            protocol: self.protocol,
            local_addr,
            upstream: self.upstream,
            shared,
            thread: Some(thread),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<FaultProxy>();
        send_sync::<Faults>();
        send_sync::<FaultProxyBuilder>();
    }

    #[test]
    fn zero_bounds_are_refused() {
        let upstream: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let build = |builder: FaultProxyBuilder| builder.build().unwrap_err().to_string();
        assert_eq!(
            build(FaultProxy::builder(Protocol::Tcp, upstream).max_queued_bytes(0)),
            "max_queued_bytes must not be zero"
        );
        assert_eq!(
            build(FaultProxy::builder(Protocol::Udp, upstream).max_clients(0)),
            "max_clients must not be zero"
        );
        assert_eq!(
            build(FaultProxy::builder(Protocol::Tcp, upstream).connect_timeout(Duration::ZERO)),
            "connect_timeout must not be zero"
        );
    }
}
