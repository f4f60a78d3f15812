//! [`UdpServer`] and its builder: one datagram in, at most one datagram out, through a
//! handler of the user's.
//!
//! The parts: `responder.rs` is the actor that runs the handler, and the receive thread that
//! filters the datagrams before they reach it.

mod responder;

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actor_core::{ActorRef, Mailbox, Overflow, System};

use super::error::ServerError;
use super::rate_limit::RateLimit;
use responder::{Datagram, Filter, Responder};

/// How many sources the rate limit remembers at most; see [`UdpServerBuilder::rate_limit`].
const MAX_SOURCES: usize = 4096;

/// The largest datagram a UDP socket can carry over IPv4 or IPv6 without jumbograms.
const MAX_UDP_PAYLOAD: usize = 65_535;

/// A UDP server: an actor that answers each datagram with what a handler of yours returns.
/// Made by [`UdpServer::builder`]; see the [module documentation](super) for a tutorial.
///
/// A thread receives the datagrams and ignores, with a count ([`ignored`](Self::ignored)),
/// those over the size limit, from service ports (below 1024) and from sources over their
/// rate, so that two answering services cannot be set talking to each other forever; the
/// others wait in a bounded queue for the handler, and those that find it full are dropped
/// (counted by [`dropped`](Self::dropped)). See [`UdpServerBuilder`] for the defaults.
///
/// [`shutdown`](UdpServer::shutdown) (also run on drop, and when the [`System`] it was
/// spawned in shuts down) stops the receive thread and the actor and joins them.
///
/// # Examples
///
/// ```
/// use std::net::UdpSocket;
/// use std::time::Duration;
/// use actor_core::System;
/// use actor_net::server::UdpServer;
///
/// let system = System::new();
/// // Answers with the request in upper case.
/// let server = UdpServer::builder().spawn(&system, "127.0.0.1:0", |request: Vec<u8>, _peer| {
///     Some(request.to_ascii_uppercase())
/// })?;
///
/// let client = UdpSocket::bind("127.0.0.1:0")?;
/// client.set_read_timeout(Some(Duration::from_secs(5)))?;
/// client.send_to(b"hello", server.local_addr())?;
/// let mut answer = [0; 16];
/// let n = client.recv(&mut answer)?;
/// assert_eq!(&answer[..n], b"HELLO");
/// server.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct UdpServer {
    actor: ActorRef<Datagram>,
    local_addr: SocketAddr,
    ignored: Arc<AtomicU64>,
}

impl UdpServer {
    /// Starts configuring a server.
    ///
    /// # Examples
    ///
    /// See [`UdpServerBuilder`].
    #[must_use]
    pub fn builder() -> UdpServerBuilder {
        UdpServerBuilder {
            name: Arc::from("udp-server"),
            max_datagram: 8192,
            queue: 64,
            rate: Some(RateLimit {
                burst: 32,
                per_second: 64,
                max_sources: MAX_SOURCES,
            }),
            ignore_service_ports: true,
            ignored_ports: Vec::new(),
        }
    }

    /// The address the server's socket is bound to (with the port the system chose, when it
    /// was given as 0).
    ///
    /// # Examples
    ///
    /// See [`UdpServer`].
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many datagrams were dropped because the queue in front of the handler was full.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::System;
    /// # use actor_net::server::UdpServer;
    /// # let system = System::new();
    /// let server = UdpServer::builder().spawn(&system, "127.0.0.1:0", |_, _| None)?;
    /// assert_eq!(server.dropped(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.actor.dropped_count()
    }

    /// How many datagrams were ignored by the protections: too large, from an ignored port,
    /// or over their source's rate.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use std::time::{Duration, Instant};
    /// use actor_core::System;
    /// use actor_net::server::UdpServer;
    ///
    /// let system = System::new();
    /// let server = UdpServer::builder()
    ///     .max_datagram(512)
    ///     .spawn(&system, "127.0.0.1:0", |request, _| Some(request))?;
    /// let client = UdpSocket::bind("127.0.0.1:0")?;
    /// client.send_to(&[0; 1000], server.local_addr())?;
    /// let deadline = Instant::now() + Duration::from_secs(5);
    /// while server.ignored() == 0 {
    ///     assert!(Instant::now() < deadline, "the datagram was not ignored");
    ///     std::thread::yield_now();
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn ignored(&self) -> u64 {
        self.ignored.load(Ordering::Relaxed)
    }

    /// Stops the receive thread (woken by a datagram to the server's own address) and the
    /// actor (after the datagrams already queued), and waits for both to end. Idempotent. Not
    /// to be called from the handler (it would wait for itself).
    ///
    /// # Examples
    ///
    /// See [`UdpServer`].
    pub fn shutdown(&self) {
        self.stop();
        self.join();
    }

    /// Starts the stop sequence without waiting for it (see [`shutdown`](Self::shutdown)).
    pub(crate) fn stop(&self) {
        self.actor.stop();
    }

    /// Waits for the stop sequence to end.
    pub(crate) fn join(&self) {
        // Fails only when called from the actor itself, which never calls it.
        let _ = self.actor.join();
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Configures a [`UdpServer`]. Made by [`UdpServer::builder`].
///
/// # Examples
///
/// ```
/// use actor_core::System;
/// use actor_net::server::UdpServer;
///
/// let system = System::new();
/// let server = UdpServer::builder()
///     .name("echo")
///     .max_datagram(1024)
///     .queue(256)
///     .rate_limit(8, 16)
///     .ignore_port(5353)
///     .spawn(&system, "127.0.0.1:0", |request, _peer| Some(request))?;
/// assert_ne!(server.local_addr().port(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct UdpServerBuilder {
    name: Arc<str>,
    max_datagram: usize,
    queue: usize,
    rate: Option<RateLimit>,
    ignore_service_ports: bool,
    ignored_ports: Vec<u16>,
}

impl UdpServerBuilder {
    /// The server's name, in its logs and the names of its threads. By default,
    /// `udp-server`.
    ///
    /// # Examples
    ///
    /// See [`UdpServerBuilder`].
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Arc::from(name.into());
        self
    }

    /// The largest datagram handled, in bytes (at most 65,535); larger ones are ignored. By
    /// default, 8192.
    ///
    /// # Examples
    ///
    /// See [`UdpServerBuilder`].
    #[must_use]
    pub fn max_datagram(mut self, bytes: usize) -> Self {
        self.max_datagram = bytes.min(MAX_UDP_PAYLOAD);
        self
    }

    /// How many datagrams may wait for the handler (at least 1); those that find the queue
    /// full are dropped and counted ([`UdpServer::dropped`]), so that a flood costs a bounded
    /// amount of memory, as UDP allows. By default, 64.
    ///
    /// # Examples
    ///
    /// See [`UdpServerBuilder`].
    #[must_use]
    pub fn queue(mut self, datagrams: usize) -> Self {
        self.queue = datagrams.max(1);
        self
    }

    /// Handles at most `burst` datagrams at once from one source, and `per_second` a second
    /// over time (a token bucket per source: an IPv4 address, or an IPv6 /64 network); the
    /// excess is ignored. At most 4096 sources are remembered, and while the table is full
    /// of active ones a new source is ignored. A burst of 0 ignores everything. By default,
    /// a burst of 32 and 64 a second: so that two answering services, each answering the
    /// other, stop within a few dozen datagrams.
    ///
    /// # Examples
    ///
    /// See [`UdpServerBuilder`].
    #[must_use]
    pub fn rate_limit(mut self, burst: u32, per_second: u32) -> Self {
        self.rate = Some(RateLimit {
            burst,
            per_second,
            max_sources: MAX_SOURCES,
        });
        self
    }

    /// Handles every datagram, however fast its source sends (see
    /// [`rate_limit`](Self::rate_limit) for the default). For a server that never answers,
    /// or that only answers clients it authenticates.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::server::UdpServer;
    /// let builder = UdpServer::builder().without_rate_limit();
    /// # drop(builder);
    /// ```
    #[must_use]
    pub fn without_rate_limit(mut self) -> Self {
        self.rate = None;
        self
    }

    /// Whether to ignore datagrams from source ports below 1024 and from port 0. Those ports
    /// belong to services (echo 7, daytime 13, chargen 19, time 37 among them), not to
    /// clients, which send from ephemeral ports: a datagram from one is a forged request
    /// meant to set two services answering each other. By default, true.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::server::UdpServer;
    /// // A server whose clients are services themselves.
    /// let builder = UdpServer::builder().ignore_service_ports(false);
    /// # drop(builder);
    /// ```
    #[must_use]
    pub fn ignore_service_ports(mut self, ignore: bool) -> Self {
        self.ignore_service_ports = ignore;
        self
    }

    /// Also ignores datagrams from source port `port`: the port of another answering service
    /// on the same hosts, typically. By default, no port besides the service ports.
    ///
    /// # Examples
    ///
    /// See [`UdpServerBuilder`].
    #[must_use]
    pub fn ignore_port(mut self, port: u16) -> Self {
        self.ignored_ports.push(port);
        self
    }

    /// Binds `addr` (the first of its addresses that can be bound; port 0 lets the system
    /// choose) and starts the server's actor on `system`, with `handler` answering each
    /// datagram.
    ///
    /// The handler is given the datagram and its source, and returns the answer to send
    /// back, or `None`. It runs on the actor's thread, one datagram at a time, so it may keep
    /// state. A panic is caught and logged at `warn` level, and that datagram is not
    /// answered.
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] when `addr` cannot be resolved or bound; the others as
    /// [`spawn_on`](Self::spawn_on).
    ///
    /// # Examples
    ///
    /// See [`UdpServer`].
    pub fn spawn<F>(
        self,
        system: &System,
        addr: impl ToSocketAddrs,
        handler: F,
    ) -> Result<UdpServer, ServerError>
    where
        F: FnMut(Vec<u8>, SocketAddr) -> Option<Vec<u8>> + Send + 'static,
    {
        let socket = UdpSocket::bind(addr).map_err(ServerError::Bind)?;
        self.spawn_on(system, socket, handler)
    }

    /// As [`spawn`](Self::spawn), on a `socket` bound already: one whose options you set
    /// yourself. The server sets its read and write timeouts.
    ///
    /// # Errors
    ///
    /// [`ServerError::Socket`] when the socket's address cannot be read, or the socket cannot
    /// be cloned or given its timeouts; [`ServerError::Spawn`] when the actor cannot start
    /// (`system` is shutting down).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use actor_core::System;
    /// use actor_net::server::UdpServer;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0")?;
    /// socket.set_ttl(16)?;
    /// let addr = socket.local_addr()?;
    /// let system = System::new();
    /// let server = UdpServer::builder().spawn_on(&system, socket, |_, _| None)?;
    /// assert_eq!(server.local_addr(), addr);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_on<F>(
        self,
        system: &System,
        socket: UdpSocket,
        handler: F,
    ) -> Result<UdpServer, ServerError>
    where
        F: FnMut(Vec<u8>, SocketAddr) -> Option<Vec<u8>> + Send + 'static,
    {
        let local_addr = socket.local_addr().map_err(ServerError::Socket)?;
        let ignored = Arc::new(AtomicU64::new(0));
        let filter = Filter {
            max_datagram: self.max_datagram,
            ignore_service_ports: self.ignore_service_ports,
            ignored_ports: self.ignored_ports,
            rate: self.rate,
            ignored: Arc::clone(&ignored),
        };
        let responder = Responder::new(self.name, socket, local_addr, filter, Box::new(handler))
            .map_err(ServerError::Socket)?;
        let actor = system
            .actor_from(responder)
            .mailbox(Mailbox::bounded(self.queue, Overflow::DropNewest))
            .spawn()
            .map_err(ServerError::Spawn)?;
        Ok(UdpServer {
            actor,
            local_addr,
            ignored,
        })
    }
}
