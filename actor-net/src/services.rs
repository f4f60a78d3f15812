//! Services written as ordinary actors: [`Echo`] answers with what it is given, [`Time`] with
//! the current time.
//!
//! A [`Node`] exports them by name ([`ECHO`], [`TIME`]) for remote callers, and a
//! [`ServiceSet`] also puts the same actors behind the classic Internet protocols, each on a
//! listener of its own, so that standard clients (`nc`, `rdate`, the classic recipe's
//! authenticated echo client) can talk to them:
//!
//! | [`Protocol`] | RFC | answer |
//! |---|---|---|
//! | `echo-tcp`, `echo-udp` | 862 | the same bytes |
//! | `daytime-tcp`, `daytime-udp` | 867 | one line of local time: `Fri Nov 27 14:15:03 2026\r\n` |
//! | `time-tcp`, `time-udp` | 868 | 4 bytes: seconds since 1900-01-01 UTC, big-endian |
//! | `auth-echo` | | the same bytes, once the client answered a challenge with its HMAC-SHA256 under the shared key |
//!
//! [`answer_challenge`] is the authenticated echo's client half.
//!
//! Every listener is a [`TcpServer`] or a [`UdpServer`] of the [`server`](crate::server)
//! module, whose handler speaks the protocol. A TCP listener serves each connection on its
//! own thread and keeps at most
//! [`max_connections`](ServiceSetBuilder::max_connections) of them, and at most
//! [`max_connections_per_source`](ServiceSetBuilder::max_connections_per_source) from one
//! source address: the excess is closed at once, never queued. A connection that stays
//! silent for the [`idle_timeout`](ServiceSetBuilder::idle_timeout) is closed, and every
//! connection at its [`connection_deadline`](ServiceSetBuilder::connection_deadline), however
//! busy. Every answer comes from the echo and time actors: the listeners ask them, with a
//! time limit.
//! A UDP listener answers one datagram with one datagram; it ignores datagrams over 8 KiB,
//! datagrams from ports below 1024 (where the services that answer everything live) and from
//! the ports of the set's own UDP listeners, and datagrams from a source address that used
//! up its token bucket ([`udp_rate_limit`](ServiceSetBuilder::udp_rate_limit)): so that no
//! two answering services can be set talking to each other forever. It drops what it has no
//! room to queue. No answer is larger than a small multiple of its request (the
//! amplification factor, answer bytes over request bytes; an empty request counts as one
//! byte):
//!
//! | service | answer | amplification |
//! |---|---|---|
//! | `echo-udp` | the request | 1 |
//! | `daytime-udp` | 26 bytes | at most 26 |
//! | `time-udp` | 4 bytes | at most 4 |
//!
//! [`ServiceSet::shutdown`] (or stopping the system) stops the listeners, closes their
//! connections and joins every thread.
//!
//! The `actor-node` binary (the crate of that name in this workspace) serves a node with these
//! actors exported and any of the listeners (`actor-node serve --help`).
//!
//! # Examples
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::{Shutdown, TcpStream, UdpSocket};
//! use actor_core::System;
//! use actor_net::services::{Protocol, ServiceSet};
//!
//! let system = System::new();
//! let services = ServiceSet::builder()
//!     .listen(Protocol::EchoTcp, "127.0.0.1:0")
//!     .listen(Protocol::TimeUdp, "127.0.0.1:0")
//!     .build(&system)?;
//!
//! // RFC 862 over TCP: what goes in comes back, until the client closes its side.
//! let echo_addr = services.local_addr(Protocol::EchoTcp).ok_or("no echo listener")?;
//! let mut echo = TcpStream::connect(echo_addr)?;
//! echo.write_all(b"hello")?;
//! echo.shutdown(Shutdown::Write)?;
//! let mut back = Vec::new();
//! echo.read_to_end(&mut back)?;
//! assert_eq!(back, b"hello");
//!
//! // RFC 868 over UDP: any datagram gets 4 bytes, the seconds since 1900.
//! let client = UdpSocket::bind("127.0.0.1:0")?;
//! let time_addr = services.local_addr(Protocol::TimeUdp).ok_or("no time listener")?;
//! client.send_to(b"", time_addr)?;
//! let mut seconds = [0; 4];
//! assert_eq!(client.recv(&mut seconds)?, 4);
//! assert!(u32::from_be_bytes(seconds) > 3_900_000_000); // after 2023
//!
//! services.shutdown();
//! system.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Visible to the crate root, and its items `pub`, so that the `fuzzing` feature can re-export
// them; without the feature, the services are their only user.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod auth_echo;
mod echo;
mod error;
mod io;
mod limits;
mod protocol;
mod service;
mod time;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use actor_core::{ActorRef, SpawnError, System};

use crate::error::NetError;
use crate::node::Node;
use crate::secret::Secret;
use crate::server::{ServerError, TcpServer, UdpServer};
use crate::source::RefusalLog;

pub use auth_echo::answer_challenge;
pub use echo::{Echo, EchoMsg};
pub use error::ServiceError;
pub use protocol::Protocol;
pub use time::{RFC868_OFFSET, Time, TimeMsg, TimeOfDay};

use limits::Limits;
use service::{TcpService, UdpService};

/// The largest datagram a UDP listener answers, in bytes; larger ones are ignored.
const MAX_DATAGRAM: usize = 8192;

/// How many datagrams may wait for a UDP listener; more are dropped.
const UDP_QUEUE: usize = 64;

/// Stack size of the connection threads: they move small buffers around.
const THREAD_STACK: usize = 256 * 1024;

/// The name [`ServiceSet::export`] gives the echo actor on a node.
///
/// # Examples
///
/// See [`ServiceSet::export`].
pub const ECHO: &str = "echo";

/// The name [`ServiceSet::export`] gives the time actor on a node.
///
/// # Examples
///
/// See [`ServiceSet::export`].
pub const TIME: &str = "time";

/// The echo and time actors, and the classic listeners that answer through them. Made by
/// [`ServiceSet::builder`]; see the [module documentation](self) for the protocols.
///
/// Dropping the set shuts it down.
///
/// # Examples
///
/// See the [module documentation](self) and [`ServiceSet::export`].
#[derive(Debug)]
pub struct ServiceSet {
    echo: ActorRef<EchoMsg>,
    time: ActorRef<TimeMsg>,
    listeners: Vec<Bound>,
}

/// A listener, with what it listens for and where.
#[derive(Debug)]
struct Bound {
    protocol: Protocol,
    addr: SocketAddr,
    listener: Listener,
}

/// A listener of either transport.
#[derive(Debug)]
enum Listener {
    Tcp(TcpServer),
    Udp(UdpServer),
}

impl Listener {
    fn stop(&self) {
        match self {
            Listener::Tcp(server) => server.stop(),
            Listener::Udp(server) => server.stop(),
        }
    }

    fn join(&self) {
        match self {
            Listener::Tcp(server) => server.join(),
            Listener::Udp(server) => server.join(),
        }
    }
}

/// Configures a [`ServiceSet`]. Made by [`ServiceSet::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::System;
/// use actor_net::Secret;
/// use actor_net::services::{Protocol, ServiceSet};
///
/// let system = System::new();
/// let services = ServiceSet::builder()
///     .listen(Protocol::DaytimeTcp, "127.0.0.1:0")
///     .listen(Protocol::AuthEcho, "127.0.0.1:0")
///     .secret(Secret::generate()?)
///     .max_connections(16)
///     .max_connections_per_source(4)
///     .idle_timeout(Duration::from_secs(10))
///     .connection_deadline(Duration::from_secs(60))
///     .auth_timeout(Duration::from_secs(5))
///     .udp_rate_limit(16, 32)
///     .build(&system)?;
/// assert!(services.local_addr(Protocol::AuthEcho).is_some());
/// assert!(services.local_addr(Protocol::EchoUdp).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ServiceSetBuilder {
    addrs: BTreeMap<Protocol, String>,
    secret: Option<Secret>,
    limits: Limits,
}

impl ServiceSet {
    /// Starts configuring a set. With no listener, the set is just the echo and time actors,
    /// for a node to export.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn builder() -> ServiceSetBuilder {
        ServiceSetBuilder {
            addrs: BTreeMap::new(),
            secret: None,
            limits: Limits {
                max_connections: 64,
                max_connections_per_source: 8,
                idle_timeout: Duration::from_secs(30),
                connection_deadline: Duration::from_secs(120),
                auth_timeout: Duration::from_secs(10),
                ask_timeout: Duration::from_secs(5),
                linger: Duration::from_secs(1),
                udp_burst: 32,
                udp_per_second: 64,
            },
        }
    }

    /// The echo actor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::System;
    /// use actor_net::services::{EchoMsg, ServiceSet};
    ///
    /// let system = System::new();
    /// let services = ServiceSet::builder().build(&system)?;
    /// let answer = services.echo().ask(|r| EchoMsg::Echo(vec![1, 2], r), Duration::from_secs(5))?;
    /// assert_eq!(answer, [1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn echo(&self) -> &ActorRef<EchoMsg> {
        &self.echo
    }

    /// The time actor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::System;
    /// use actor_net::services::{ServiceSet, TimeMsg};
    ///
    /// let system = System::new();
    /// let services = ServiceSet::builder().build(&system)?;
    /// let now = services.time().ask(TimeMsg::Now, Duration::from_secs(5))?;
    /// assert!(!now.daytime.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn time(&self) -> &ActorRef<TimeMsg> {
        &self.time
    }

    /// The address the listener for `protocol` is bound to, if the set has one (with the
    /// port chosen by the system when it was given as 0).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    #[must_use]
    pub fn local_addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|bound| bound.protocol == protocol)
            .map(|bound| bound.addr)
    }

    /// Every listener of the set and its address, in the order of [`Protocol::ALL`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::System;
    /// use actor_net::services::{Protocol, ServiceSet};
    ///
    /// let system = System::new();
    /// let services = ServiceSet::builder()
    ///     .listen(Protocol::EchoUdp, "127.0.0.1:0")
    ///     .listen(Protocol::EchoTcp, "127.0.0.1:0")
    ///     .build(&system)?;
    /// for (protocol, addr) in services.listeners() {
    ///     println!("{protocol} on {addr}");
    /// }
    /// let protocols: Vec<_> = services.listeners().map(|(p, _)| p).collect();
    /// assert_eq!(protocols, [Protocol::EchoTcp, Protocol::EchoUdp]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn listeners(&self) -> impl Iterator<Item = (Protocol, SocketAddr)> + '_ {
        self.listeners
            .iter()
            .map(|bound| (bound.protocol, bound.addr))
    }

    /// Exports the echo actor as [`ECHO`] and the time actor as [`TIME`] on `node`, for
    /// remote callers.
    ///
    /// # Errors
    ///
    /// [`NetError::AlreadyExported`] when either name is taken (then neither is exported).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::System;
    /// use actor_net::services::{self, EchoMsg, ServiceSet, TimeMsg};
    /// use actor_net::{Node, Secret};
    ///
    /// let secret = Secret::generate()?;
    /// let system = System::new();
    /// let services = ServiceSet::builder().build(&system)?;
    /// let server = Node::builder(secret.clone()).listen("127.0.0.1:0").build()?;
    /// services.export(&server)?;
    ///
    /// let client = Node::builder(secret.clone()).build()?;
    /// let addr = server.local_addr().ok_or("the server does not listen")?;
    /// let echo = client.lookup::<EchoMsg>(addr, services::ECHO)?;
    /// let time = client.lookup::<TimeMsg>(addr, services::TIME)?;
    /// let wait = Duration::from_secs(5);
    /// assert_eq!(echo.ask(|r| EchoMsg::Echo(b"hi".to_vec(), r), wait)?, b"hi");
    /// assert!(time.ask(TimeMsg::Now, wait)?.secs > 1_700_000_000);
    ///
    /// client.shutdown();
    /// server.shutdown();
    /// services.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export(&self, node: &Node) -> Result<(), NetError> {
        self.export_as(node, ECHO, TIME)
    }

    /// As [`export`](Self::export), under the names `echo` and `time`: several members of a
    /// cluster can then each offer theirs under a name of its own.
    ///
    /// # Errors
    ///
    /// [`NetError::AlreadyExported`] when either name is taken (then neither is exported).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::System;
    /// use actor_net::services::ServiceSet;
    /// use actor_net::{Node, Secret};
    ///
    /// let system = System::new();
    /// let services = ServiceSet::builder().build(&system)?;
    /// let node = Node::builder(Secret::generate()?).listen("127.0.0.1:0").build()?;
    /// services.export_as(&node, "echo-4", "time-4")?;
    /// assert!(node.unexport("echo-4"));
    /// # services.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_as(&self, node: &Node, echo: &str, time: &str) -> Result<(), NetError> {
        node.export(echo, &self.echo)?;
        if let Err(error) = node.export(time, &self.time) {
            node.unexport(echo);
            return Err(error);
        }
        Ok(())
    }

    /// Stops the listeners (closing their connections) and then the echo and time actors,
    /// and waits until every one of their threads has ended. Idempotent; stopping the
    /// system does the same.
    ///
    /// Not to be called from one of the set's own actors (it would wait for itself).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn shutdown(&self) {
        for bound in &self.listeners {
            bound.listener.stop();
        }
        for bound in &self.listeners {
            bound.listener.join();
        }
        self.echo.stop();
        self.time.stop();
        let _ = self.echo.join();
        let _ = self.time.join();
    }
}

impl Drop for ServiceSet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl ServiceSetBuilder {
    /// Listens for `protocol` on `addr` (port 0 lets the system choose; see
    /// [`ServiceSet::local_addr`]); a second call for the same protocol replaces the first.
    /// By default, the set has no listener.
    ///
    /// [`Protocol::AuthEcho`] also needs the [`secret`](ServiceSetBuilder::secret).
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn listen(mut self, protocol: Protocol, addr: impl Into<String>) -> Self {
        self.addrs.insert(protocol, addr.into());
        self
    }

    /// The key that clients of the authenticated echo prove they hold (usually the node's).
    /// By default, none: the authenticated echo cannot listen.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// At most this many live connections per TCP listener (at least 1); a connection over
    /// the limit is closed as soon as it is accepted. By default, 64.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max.max(1);
        self
    }

    /// At most this many live connections per TCP listener from one source address (at
    /// least 1); a connection over the limit is closed as soon as it is accepted, so that
    /// slow clients from one host cannot take every slot. By default, 8.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn max_connections_per_source(mut self, max: usize) -> Self {
        self.limits.max_connections_per_source = max.max(1);
        self
    }

    /// Closes a TCP connection on which the client sent nothing, or took nothing of what it
    /// was sent, for this long. By default, 30 seconds.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.limits.idle_timeout = limit;
        self
    }

    /// Closes a TCP connection this long after it was accepted, however busy it is: the
    /// idle timeout restarts with each byte, this deadline does not, so that slow clients
    /// cannot hold a slot for as long as they like. By default, 120 seconds.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn connection_deadline(mut self, limit: Duration) -> Self {
        self.limits.connection_deadline = limit;
        self
    }

    /// How long a client of the authenticated echo has, from its connection, to answer the
    /// challenge; then it is closed. By default, 10 seconds.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn auth_timeout(mut self, limit: Duration) -> Self {
        self.limits.auth_timeout = limit;
        self
    }

    /// Each UDP listener answers at most `burst` datagrams at once to one source address,
    /// and `per_second` datagrams a second over time (a token bucket per source; at most
    /// 4096 sources are remembered, and while the table is full of active sources a new one
    /// is not answered). A burst of 0 answers nothing. By default, a burst of 32 and 64 a
    /// second.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    #[must_use]
    pub fn udp_rate_limit(mut self, burst: u32, per_second: u32) -> Self {
        self.limits.udp_burst = burst;
        self.limits.udp_per_second = per_second;
        self
    }

    /// Starts the echo and time actors on `system`, then binds each listener and starts its
    /// actor.
    ///
    /// # Errors
    ///
    /// [`ServiceError::MissingSecret`] for the authenticated echo without a key;
    /// [`ServiceError::Bind`] and [`ServiceError::NoAddress`] for an address that cannot be
    /// used; [`ServiceError::Spawn`] when an actor cannot start. Whatever was started is
    /// stopped before the error is returned.
    ///
    /// # Examples
    ///
    /// See [`ServiceSetBuilder`].
    pub fn build(self, system: &System) -> Result<ServiceSet, ServiceError> {
        let key = match (self.addrs.contains_key(&Protocol::AuthEcho), self.secret) {
            (true, None) => return Err(ServiceError::MissingSecret),
            (true, Some(secret)) => Some(Arc::new(secret)),
            (false, _) => None,
        };
        let echo = system.spawn(Echo).map_err(spawn_error("echo"))?;
        let time = match system.spawn(Time) {
            Ok(time) => time,
            Err(error) => {
                echo.stop();
                return Err(spawn_error("time")(error));
            }
        };
        // From here on, dropping `set` on an error stops what was started.
        let mut set = ServiceSet {
            echo,
            time,
            listeners: Vec::with_capacity(self.addrs.len()),
        };
        // The UDP sockets are bound first, so that each UDP listener knows the ports of all
        // of them and never answers a datagram from one of its siblings.
        let mut udp_sockets = BTreeMap::new();
        for (&protocol, addr) in self.addrs.iter().filter(|(p, _)| p.is_udp()) {
            udp_sockets.insert(protocol, bind_udp(protocol, addr)?);
        }
        let start = Start {
            system,
            limits: self.limits,
            own_udp_ports: udp_sockets
                .values()
                .map(|(_, local)| local.port())
                .collect(),
        };
        for (protocol, addr) in self.addrs {
            let mut bound_udp = || {
                udp_sockets
                    .remove(&protocol)
                    .ok_or_else(|| bind_error(protocol, &addr)(std::io::ErrorKind::NotFound.into()))
            };
            let (echo, time) = (set.echo.clone(), set.time.clone());
            let bound = match protocol {
                Protocol::EchoTcp => start.tcp(protocol, &addr, TcpService::Echo(echo)),
                Protocol::EchoUdp => start.udp(protocol, bound_udp()?, UdpService::Echo(echo)),
                Protocol::DaytimeTcp => start.tcp(protocol, &addr, TcpService::Daytime(time)),
                Protocol::DaytimeUdp => {
                    start.udp(protocol, bound_udp()?, UdpService::Daytime(time))
                }
                Protocol::TimeTcp => start.tcp(protocol, &addr, TcpService::Time(time)),
                Protocol::TimeUdp => start.udp(protocol, bound_udp()?, UdpService::Time(time)),
                Protocol::AuthEcho => {
                    let key = Arc::clone(key.as_ref().ok_or(ServiceError::MissingSecret)?);
                    start.tcp(
                        protocol,
                        &addr,
                        TcpService::AuthEcho {
                            echo,
                            key,
                            refusals: Arc::new(RefusalLog::default()),
                        },
                    )
                }
            }?;
            tracing::info!(service = %protocol, addr = %bound.addr, "listening");
            set.listeners.push(bound);
        }
        Ok(set)
    }
}

impl std::fmt::Debug for ServiceSetBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSetBuilder")
            .field("addrs", &self.addrs)
            .field("secret", &self.secret)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Maps a failure to start the actor named `actor`.
fn spawn_error(actor: &'static str) -> impl Fn(SpawnError) -> ServiceError {
    move |source| ServiceError::Spawn { actor, source }
}

/// What starting a listener needs.
struct Start<'a> {
    system: &'a System,
    limits: Limits,
    /// The ports of every UDP listener of the set, whose datagrams none of them answers.
    own_udp_ports: Vec<u16>,
}

impl Start<'_> {
    /// Binds a TCP listener for `protocol` on `addr` and starts its server.
    fn tcp(
        &self,
        protocol: Protocol,
        addr: &str,
        service: TcpService,
    ) -> Result<Bound, ServiceError> {
        let failed = bind_error(protocol, addr);
        let listener = TcpListener::bind(resolve(protocol, addr)?).map_err(&failed)?;
        let limits = self.limits;
        let server = TcpServer::builder()
            .name(protocol.name())
            .max_connections(limits.max_connections)
            .max_connections_per_source(limits.max_connections_per_source)
            .idle_timeout(limits.idle_timeout)
            .deadline(limits.connection_deadline)
            .stack_size(THREAD_STACK)
            .spawn_on(self.system, listener, move |stream, peer| {
                Ok(service.serve(stream, peer, &limits)?)
            })
            .map_err(server_error(protocol, addr))?;
        Ok(Bound {
            protocol,
            addr: server.local_addr(),
            listener: Listener::Tcp(server),
        })
    }

    /// Starts the server of the UDP `socket` bound for `protocol`.
    fn udp(
        &self,
        protocol: Protocol,
        (socket, local): (UdpSocket, SocketAddr),
        service: UdpService,
    ) -> Result<Bound, ServiceError> {
        let limits = self.limits;
        let mut builder = UdpServer::builder()
            .name(protocol.name())
            .max_datagram(MAX_DATAGRAM)
            .queue(UDP_QUEUE)
            .rate_limit(limits.udp_burst, limits.udp_per_second);
        for &port in &self.own_udp_ports {
            builder = builder.ignore_port(port);
        }
        let server = builder
            .spawn_on(self.system, socket, move |datagram, peer| {
                match service.answer(datagram, &limits) {
                    Ok(answer) => Some(answer),
                    Err(error) => {
                        tracing::debug!(%peer, service = %protocol, %error, "no answer");
                        None
                    }
                }
            })
            .map_err(server_error(protocol, &local.to_string()))?;
        Ok(Bound {
            protocol,
            addr: server.local_addr(),
            listener: Listener::Udp(server),
        })
    }
}

/// Maps a failure to start the server for `protocol` on `addr`.
fn server_error(protocol: Protocol, addr: &str) -> impl Fn(ServerError) -> ServiceError {
    let bind = bind_error(protocol, addr);
    move |error| match error {
        ServerError::Spawn(source) => spawn_error(protocol.name())(source),
        ServerError::Bind(source) | ServerError::Socket(source) | ServerError::Thread(source) => {
            bind(source)
        }
    }
}

/// Binds a UDP socket for `protocol` on `addr`; returns it with its address.
fn bind_udp(protocol: Protocol, addr: &str) -> Result<(UdpSocket, SocketAddr), ServiceError> {
    let failed = bind_error(protocol, addr);
    let socket = UdpSocket::bind(resolve(protocol, addr)?).map_err(&failed)?;
    let local = socket.local_addr().map_err(&failed)?;
    Ok((socket, local))
}

/// Maps a failure to resolve or bind `addr` for `protocol`.
fn bind_error(protocol: Protocol, addr: &str) -> impl Fn(std::io::Error) -> ServiceError {
    let addr = addr.to_string();
    move |source| ServiceError::Bind {
        protocol,
        addr: addr.clone(),
        source,
    }
}

/// The first socket address `addr` resolves to.
fn resolve(protocol: Protocol, addr: &str) -> Result<SocketAddr, ServiceError> {
    addr.to_socket_addrs()
        .map_err(bind_error(protocol, addr))?
        .next()
        .ok_or_else(|| ServiceError::NoAddress {
            protocol,
            addr: addr.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ServiceSet>();
        check::<ServiceError>();
    }
}
