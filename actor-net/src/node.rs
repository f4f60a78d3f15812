//! [`Node`]: listens and connects, exports local actors by name, and owns the connections
//! to its peers.
//!
//! Threads: one accept thread (when listening); per inbound connection one thread that
//! runs the handshake and then reads; per outbound connection a reader thread; per
//! connection a writer thread. The node owns every one of them and joins them at
//! [`shutdown`](Node::shutdown) (or drop).
//!
//! Limits: at most `max_connections` inbound connections (established or still in their
//! handshake), at most `max_handshaking` in their handshake, and at most
//! `max_handshaking_per_source` of those from one source (an IPv4 address or an IPv6 /64); an
//! excess connection is answered with ERROR BUSY and closed at once, so one host cannot hold
//! every handshake slot. A handshake must finish within its timeout, so a client that connects
//! and sends nothing, or sends garbage, costs one bounded slot for a bounded time. What all
//! the connections together have received and not yet handled (frames being read, and the
//! told messages waiting for their actors) is bounded by one node-wide budget,
//! `inbound_total_bytes` (see `reader.rs`).
//!
//! Logs: anyone can open a connection, so refusals of unauthenticated peers (limits, failed
//! handshakes) are logged at `debug`, and at `info` at most once a minute per source with a
//! count (`source.rs`); an authenticated peer is logged at `info` when it arrives and leaves.

mod connection;
mod export;
mod pending_requests;
mod reader;
mod redial;
mod writer;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actor_core::{ActorRef, Budget, Escaped, Exchange, ExitReason, System};
use parking_lot::{Condvar, Mutex};
use serde::de::DeserializeOwned;

use crate::cluster::{
    CLUSTER, Cluster, ClusterActor, ClusterError, ClusterMember, ClusterMsg, ClusterSettings,
    NameOwner, NodeId, View,
};
use crate::error::NetError;
use crate::handshake::{self, Encryption, HandshakeConfig};
use crate::net_event::{NET_EXCHANGE, NetEvent};
use crate::pubsub::Shares;
use crate::remote_message::RemoteMessage;
use crate::secret::Secret;
use crate::session::Opener;
use crate::source::{RefusalLog, Source};

pub(crate) use connection::Connection;
use export::Exports;
use redial::Redials;
pub(crate) use redial::{DialError, Redial};
pub(crate) use writer::Refused;

/// Stack size of the node's threads: they decode messages and hand them to mailboxes.
const THREAD_STACK: usize = 512 * 1024;

/// Messages one connection may have in flight towards local actors, by default.
const DEFAULT_INBOUND_MESSAGES: usize = 1024;
/// Bytes (of message payload) one connection may have in flight towards local actors.
const DEFAULT_INBOUND_BYTES: usize = 8 << 20;
/// Bytes all connections together may have received and not yet handled, by default.
const DEFAULT_INBOUND_TOTAL_BYTES: usize = 64 << 20;
/// Messages that may wait for one connection's writer, by default.
const DEFAULT_OUTBOUND_MESSAGES: usize = 8192;
/// Bytes that may wait for one connection's writer, by default.
const DEFAULT_OUTBOUND_BYTES: usize = 8 << 20;
/// The bounded mailbox an export gets unless another size is chosen at export.
const DEFAULT_EXPORT_MAILBOX: usize = 1024;
/// How long a connection's reader may wait for room before the connection is closed.
const DEFAULT_BLOCKED_TIMEOUT: Duration = Duration::from_secs(10);
/// Inbound connections in their handshake at once from one source, by default.
const DEFAULT_MAX_HANDSHAKING_PER_SOURCE: usize = 8;

/// Which limit refused an inbound connection.
#[derive(Debug, Clone, Copy)]
enum Full {
    Connections,
    Handshakes,
    SourceHandshakes,
}

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Full::Connections => "busy: the connection limit is reached",
            Full::Handshakes => "busy: the handshake limit is reached",
            Full::SourceHandshakes => "busy: the source's handshake limit is reached",
        })
    }
}

/// A process's presence on the network: it exports local actors by name and looks up the
/// actors other nodes export. Every connection is mutually authenticated with the shared
/// secret, and every frame on it is authenticated (see `PROTOCOL.md`).
///
/// # Examples
///
/// Two nodes in one process (they would usually be two processes or machines):
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Actor, Context, HandlerResult, Reply, System};
/// use actor_net::{Node, RemoteMessage, Secret};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// enum Msg {
///     Add(u64),
///     Total(Reply<u64>),
/// }
///
/// // The identity lookups compare: both programs declare the same name and version.
/// impl RemoteMessage for Msg {
///     const NAME: &'static str = "example.counter";
/// }
///
/// #[derive(Default)]
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Msg = Msg;
///     fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Total(reply) => reply.send(self.0),
///         }
///         Ok(())
///     }
/// }
///
/// let secret = Secret::generate()?;
/// let system = System::new();
/// let server = Node::builder(secret.clone()).name("server").listen("127.0.0.1:0").build()?;
/// server.export("counter", &system.spawn(Counter::default())?)?;
///
/// let client = Node::builder(secret.clone()).name("client").build()?;
/// let counter = client.lookup::<Msg>(server.local_addr().unwrap(), "counter")?;
/// counter.tell(Msg::Add(2))?;
/// counter.tell(Msg::Add(3))?;
/// assert_eq!(counter.ask(Msg::Total, Duration::from_secs(5))?, 5);
///
/// client.shutdown();
/// server.shutdown();
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Node {
    shared: Arc<Shared>,
    accept: Mutex<Option<JoinHandle<()>>>,
    /// The node's part in its cluster, if it joined one.
    cluster: Option<Cluster>,
    /// The actor a cluster member exports as `cluster`.
    cluster_actor: Option<ActorRef<ClusterMsg>>,
    /// The actor system whose exchanges the node publishes on.
    system: System,
}

/// What the node's threads share.
pub(crate) struct Shared {
    pub(crate) config: NodeConfig,
    secret: Secret,
    handshake: HandshakeConfig,
    pub(crate) exports: Exports,
    local_addr: Option<SocketAddr>,
    connections: Mutex<Connections>,
    /// Signalled whenever a connection leaves the table.
    connection_left: Condvar,
    /// Serialises outbound connects, so two lookups do not open two connections.
    connecting: Mutex<()>,
    /// How remote refs reconnect to each peer address (see `redial.rs`).
    pub(crate) redials: Redials,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shutting_down: AtomicBool,
    next_connection: AtomicU64,
    refused: AtomicU64,
    /// Reports refusals of unauthenticated peers without flooding the log.
    refusals: RefusalLog,
    /// Connections closed because they stayed blocked past the blocked timeout.
    pub(crate) blocked: AtomicU64,
    /// The cluster's member table and registry, for refs that follow a name.
    cluster_view: Option<Arc<View>>,
    /// Where the node's connection events go (`system.net`).
    net_events: Option<Exchange<NetEvent>>,
    /// The actor system whose exchanges the node publishes on and shares.
    pub(crate) system: System,
    /// The message types whose exchanges peers may subscribe to.
    pub(crate) shares: Shares,
    /// What all connections together have received and not yet handled: the frames being
    /// read and dispatched, and the told messages waiting for their actors (see `reader.rs`).
    pub(crate) inbound: Arc<Budget>,
}

#[derive(Default)]
struct Connections {
    inbound: HashMap<u64, Arc<Connection>>,
    outbound: HashMap<SocketAddr, Arc<Connection>>,
    handshaking: usize,
    /// The connections in their handshake, per source; a source without any has no entry.
    handshaking_from: HashMap<Source, usize>,
    /// A handle on the socket of each connection in its handshake, to close it at shutdown.
    handshake_sockets: HashMap<u64, TcpStream>,
}

/// The node's settings; see [`NodeBuilder`].
#[derive(Debug, Clone)]
pub(crate) struct NodeConfig {
    pub(crate) name: String,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) max_connections: usize,
    pub(crate) max_handshaking: usize,
    pub(crate) max_handshaking_per_source: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) max_frame: u32,
    pub(crate) inbound_messages: usize,
    pub(crate) inbound_bytes: usize,
    pub(crate) inbound_total_bytes: usize,
    pub(crate) outbound_messages: usize,
    pub(crate) outbound_bytes: usize,
    pub(crate) export_mailbox: usize,
    pub(crate) blocked_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) encryption: Encryption,
}

/// Configures a [`Node`]. Made by [`Node::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_net::{Node, Secret};
///
/// let node = Node::builder(Secret::generate()?)
///     .name("edge-1")
///     .listen("127.0.0.1:0")
///     .max_connections(64)
///     .heartbeat(Duration::from_millis(500), Duration::from_secs(2))
///     .build()?;
/// assert!(node.local_addr().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NodeBuilder {
    secret: Secret,
    config: NodeConfig,
    listen: Option<String>,
    /// `Some` when the node joins a cluster, with its seeds (none for the first member).
    seeds: Option<Vec<String>>,
    cluster_settings: ClusterSettings,
    system: Option<System>,
    /// The message types the node shares with its peers.
    pub(crate) shares: Shares,
    /// The first type given to `share` whose declared name breaks the rule.
    pub(crate) share_error: Option<crate::remote_message::MessageNameError>,
}

impl Node {
    /// Starts configuring a node that authenticates its peers with `secret`.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    #[must_use]
    pub fn builder(secret: Secret) -> NodeBuilder {
        NodeBuilder {
            secret,
            config: NodeConfig {
                name: format!("node-{}", std::process::id()),
                listen: None,
                max_connections: 256,
                max_handshaking: 256,
                max_handshaking_per_source: DEFAULT_MAX_HANDSHAKING_PER_SOURCE,
                handshake_timeout: Duration::from_secs(5),
                heartbeat_interval: Duration::from_secs(1),
                heartbeat_timeout: Duration::from_secs(3),
                max_frame: crate::frame::DEFAULT_MAX_PAYLOAD,
                inbound_messages: DEFAULT_INBOUND_MESSAGES,
                inbound_bytes: DEFAULT_INBOUND_BYTES,
                inbound_total_bytes: DEFAULT_INBOUND_TOTAL_BYTES,
                outbound_messages: DEFAULT_OUTBOUND_MESSAGES,
                outbound_bytes: DEFAULT_OUTBOUND_BYTES,
                export_mailbox: DEFAULT_EXPORT_MAILBOX,
                blocked_timeout: DEFAULT_BLOCKED_TIMEOUT,
                request_timeout: Duration::from_secs(10),
                connect_timeout: Duration::from_secs(5),
                encryption: Encryption::default(),
            },
            listen: None,
            seeds: None,
            cluster_settings: ClusterSettings::default(),
            system: None,
            shares: Shares::default(),
            share_error: None,
        }
    }

    /// The address the node listens on, if it listens.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.shared.local_addr
    }

    /// This node's id in its cluster; `None` if it did not [`join`](NodeBuilder::join) one.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder::join`].
    pub fn node_id(&self) -> Option<NodeId> {
        self.cluster.as_ref().map(Cluster::id)
    }

    /// The members of this node's cluster as it sees them: itself first (up), then the others
    /// by address, with those declared down or left until they are forgotten
    /// ([`ClusterSettings::forget_down_after`]). Empty if the node is not a cluster member.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder::join`].
    pub fn members(&self) -> Vec<ClusterMember> {
        self.cluster
            .as_ref()
            .map(Cluster::members)
            .unwrap_or_default()
    }

    /// Bytes of membership datagrams this node has sent and received, and datagrams it has
    /// refused (not from a key holder, or replayed); zeros if it is not a cluster member.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// assert_eq!(node.membership_traffic(), (0, 0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn membership_traffic(&self) -> (u64, u64, u64) {
        self.cluster.as_ref().map_or((0, 0, 0), Cluster::traffic)
    }

    /// The actor system whose exchanges the node publishes on: the one given to
    /// [`NodeBuilder::system`], or the node's own.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{ClusterMember, Node, Secret};
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// let members = node.system().exchange::<ClusterMember>("cluster.members")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn system(&self) -> &System {
        &self.system
    }

    /// The name this node gives its peers.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?).name("n1").build()?;
    /// assert_eq!(node.name(), "n1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.shared.config.name
    }

    /// Makes `actor` reachable by peers under `name`. Its message type must be serde (a
    /// `Reply<T>` inside a message crosses the wire and the answer comes back to the asker)
    /// and declare its stable name and version with [`RemoteMessage`]: a peer's lookup
    /// succeeds when it asks for the same declared identity, whatever its Rust type is called.
    ///
    /// Any authenticated peer may send to an exported actor; messages that do not decode
    /// as its type are refused (and requests in them answered with an error).
    ///
    /// On a cluster member ([`NodeBuilder::join`]), the name is also registered in the
    /// cluster: every member finds it by name alone ([`Node::lookup_name`]). The names of the
    /// built-in `cluster` actor and names longer than
    /// [`MAX_CLUSTER_NAME`](crate::cluster::MAX_CLUSTER_NAME) bytes stay local.
    ///
    /// # Errors
    ///
    /// [`NetError::AlreadyExported`] when the name is taken; [`NetError::MessageName`] when
    /// `M::NAME` breaks the naming rule of [`RemoteMessage`].
    ///
    /// # Examples
    ///
    /// See [`Node`].
    pub fn export<M>(&self, name: &str, actor: &ActorRef<M>) -> Result<(), NetError>
    where
        M: RemoteMessage + DeserializeOwned + Send + 'static,
    {
        self.export_with_mailbox(name, actor, self.shared.config.export_mailbox)
    }

    /// As [`export`](Node::export), with a bounded mailbox of `mailbox` messages (at least 1)
    /// instead of the node's default ([`NodeBuilder::export_mailbox`]): at most that many
    /// messages from peers are queued for the actor or being handled at once; a message that
    /// finds it full waits, and its connection stops reading until there is room.
    ///
    /// # Errors
    ///
    /// As [`export`](Node::export).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # use actor_net::{Node, RemoteMessage, Secret};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Ping;
    /// # impl RemoteMessage for Ping { const NAME: &'static str = "ping"; }
    /// # struct Pong;
    /// # impl Actor for Pong {
    /// #     type Msg = Ping;
    /// #     fn handle(&mut self, _: Ping, _: &mut Context<Ping>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// node.export_with_mailbox("pong", &system.spawn(Pong)?, 64)?;
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_with_mailbox<M>(
        &self,
        name: &str,
        actor: &ActorRef<M>,
        mailbox: usize,
    ) -> Result<(), NetError>
    where
        M: RemoteMessage + DeserializeOwned + Send + 'static,
    {
        self.shared.exports.export(name, actor, mailbox.max(1))?;
        if let Some(cluster) = &self.cluster {
            cluster.claim(name);
        }
        Ok(())
    }

    /// Stops exporting `name`; returns `false` if nothing was exported under it. Peers that
    /// looked it up before get their messages refused from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// assert!(!node.unexport("nothing"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unexport(&self, name: &str) -> bool {
        let unexported = self.shared.exports.unexport(name);
        if unexported && let Some(cluster) = &self.cluster {
            cluster.release(name);
        }
        unexported
    }

    /// The member of this node's cluster that owns `name`: its id and address. A name
    /// exported by several members is owned by the one whose process started first (then the
    /// smaller id), the same everywhere; see [`cluster`](crate::cluster). `None` when no
    /// member this node sees as up exports it, or the node is not a cluster member.
    ///
    /// # Examples
    ///
    /// See [`Node::lookup_name`].
    pub fn whereis(&self, name: &str) -> Option<(NodeId, SocketAddr)> {
        self.cluster.as_ref()?.whereis(name)
    }

    /// Looks up `name` wherever it is exported in this node's cluster ([`Node::whereis`]),
    /// and returns a ref to it, as [`lookup`](Node::lookup) at its owner's address does.
    ///
    /// The ref follows the name: when the connection to its member is lost, the next send
    /// asks the cluster where the name is now, and reaches the member that exports it then
    /// (a send fails as unreachable while no member does). So a ref by name survives the
    /// loss of its member once another member exports the name.
    ///
    /// # Errors
    ///
    /// [`NetError::NotInCluster`] when no member exports `name` (as this node sees it), and
    /// the errors of [`lookup`](Node::lookup).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use actor_core::{Actor, Context, HandlerResult, Reply, System};
    /// use actor_net::{Node, RemoteMessage, Secret};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Get(Reply<u64>);
    /// impl RemoteMessage for Get {
    ///     const NAME: &'static str = "example.counter.get";
    /// }
    /// struct Counter;
    /// impl Actor for Counter {
    ///     type Msg = Get;
    ///     fn handle(&mut self, Get(reply): Get, _: &mut Context<Get>) -> HandlerResult {
    ///         reply.send(42);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let secret = Secret::generate()?;
    /// let first = Node::builder(secret.clone()).listen("127.0.0.1:0").join(Vec::<String>::new()).build()?;
    /// let seed = first.local_addr().unwrap().to_string();
    /// let second = Node::builder(secret).listen("127.0.0.1:0").join([seed]).build()?;
    /// second.export("counter", &system.spawn(Counter)?)?;
    ///
    /// // The first node finds it by name alone, once the news has reached it.
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// while first.whereis("counter").is_none() {
    ///     assert!(Instant::now() < deadline);
    ///     std::thread::sleep(Duration::from_millis(10));
    /// }
    /// let counter = first.lookup_name::<Get>("counter")?;
    /// assert_eq!(counter.ask(Get, Duration::from_secs(5))?, 42);
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup_name<M>(&self, name: &str) -> Result<ActorRef<M>, NetError>
    where
        M: RemoteMessage + serde::Serialize + Send + 'static,
    {
        let (_, addr) = self
            .whereis(name)
            .ok_or_else(|| NetError::NotInCluster(name.to_owned()))?;
        self.lookup_at(addr, name, true)
    }

    /// The number of authenticated connections open now (inbound and outbound).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// assert_eq!(node.connection_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connection_count(&self) -> usize {
        let connections = self.shared.connections.lock();
        connections.inbound.len() + connections.outbound.len()
    }

    /// The number of inbound connections refused so far because of the connection limits.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// assert_eq!(node.refused_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn refused_count(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// The number of connections closed so far because they stayed blocked longer than the
    /// blocked timeout (see [`NodeBuilder::blocked_timeout`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?).build()?;
    /// assert_eq!(node.blocked_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn blocked_count(&self) -> u64 {
        self.shared.blocked.load(Ordering::Relaxed)
    }

    /// Stops listening, says goodbye to every peer, closes every connection (requests
    /// waiting on them fail at once), and joins the node's threads. Idempotent.
    ///
    /// # Examples
    ///
    /// See [`Node`].
    pub fn shutdown(&self) {
        let shared = &self.shared;
        if shared.shutting_down.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(cluster) = &self.cluster {
            cluster.leave();
        }
        if let Some(actor) = &self.cluster_actor {
            actor.stop();
        }
        if let Some(addr) = shared.local_addr {
            // Wakes the accept thread, which then sees the flag.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
        if let Some(accept) = self.accept.lock().take() {
            let _ = accept.join();
        }
        // Connections in their handshake end now rather than at their handshake timeout.
        for socket in shared.connections.lock().handshake_sockets.values() {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
        for connection in shared.all_connections() {
            connection.say_goodbye();
        }
        // Give the writers a moment to flush their goodbyes, then close what is left.
        shared.wait_for_no_connections(Instant::now() + Duration::from_secs(1));
        for connection in shared.all_connections() {
            connection.close(ExitReason::Stopped);
        }
        let threads = std::mem::take(&mut *shared.threads.lock());
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.shared.config.name)
            .field("local_addr", &self.shared.local_addr)
            .field("connections", &self.connection_count())
            .finish()
    }
}

impl NodeBuilder {
    /// The name this node gives its peers (at most 255 bytes). By default, `node-<pid>`.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Listens for peers on `addr` (port 0 picks a free port; see
    /// [`Node::local_addr`]). By default, the node does not listen: it only connects.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    #[must_use]
    pub fn listen(mut self, addr: impl Into<String>) -> Self {
        self.listen = Some(addr.into());
        self
    }

    /// At most this many inbound connections at once, counting those still in their
    /// handshake; the excess is answered with ERROR BUSY and closed at once. By default, 256.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max;
        self
    }

    /// At most this many inbound connections in their handshake at once (a slot costs a
    /// thread with a small stack for at most the handshake timeout); the excess is answered
    /// with ERROR BUSY and closed at once. By default, 256.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .max_handshaking(8)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_handshaking(mut self, max: usize) -> Self {
        self.config.max_handshaking = max;
        self
    }

    /// At most this many inbound connections in their handshake at once from one source: one
    /// IPv4 address, or one IPv6 /64 network (what one host is commonly given). The excess is
    /// answered with ERROR BUSY and closed at once. Without it, one host that opens
    /// connections faster than the handshake timeout lets them go would hold every slot of
    /// [`max_handshaking`](Self::max_handshaking) and lock every other peer out. By default, 8.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .max_handshaking(64)
    ///     .max_handshaking_per_source(4)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_handshaking_per_source(mut self, max: usize) -> Self {
        self.config.max_handshaking_per_source = max;
        self
    }

    /// The timeout of a whole handshake. By default, 5 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .handshake_timeout(Duration::from_secs(2))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn handshake_timeout(mut self, limit: Duration) -> Self {
        self.config.handshake_timeout = limit;
        self
    }

    /// Sends a heartbeat after `interval` without traffic, and closes a connection on
    /// which nothing arrived for `timeout` (a silent or half-open peer): requests waiting on
    /// it fail and monitors of its actors get a `Down`. By default, 1 s and 3 s.
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    #[must_use]
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self.config.heartbeat_timeout = timeout;
        self
    }

    /// The largest frame accepted or sent, in bytes; a message larger than a frame cannot
    /// be sent. By default, 1 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .max_frame(64 * 1024)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_frame(mut self, bytes: u32) -> Self {
        self.config.max_frame = bytes;
        self
    }

    /// How many messages one connection may have in flight towards local actors (received,
    /// and not yet handled). A connection whose inbound budget is spent stops reading (its
    /// peer's writes block in TCP) until the actors have caught up. By default, 1024.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .inbound_messages(256)
    ///     .inbound_bytes(1 << 20)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn inbound_messages(mut self, messages: usize) -> Self {
        self.config.inbound_messages = messages.max(1);
        self
    }

    /// How many bytes of messages one connection may have in flight towards local actors
    /// (see [`inbound_messages`](NodeBuilder::inbound_messages)). A single message larger
    /// than this passes when nothing else is in flight. By default, 8 MiB.
    ///
    /// # Examples
    ///
    /// See [`inbound_messages`](NodeBuilder::inbound_messages).
    #[must_use]
    pub fn inbound_bytes(mut self, bytes: usize) -> Self {
        self.config.inbound_bytes = bytes.max(1);
        self
    }

    /// How many bytes all connections together may have received and not yet handled: the
    /// frames being read (each counted from its header, before its payload is read) and the
    /// told messages waiting for their actors or being handled (see
    /// [`inbound_bytes`](NodeBuilder::inbound_bytes), which bounds each connection's share).
    /// A connection whose next frame finds no room stops reading (its peer's writes block in
    /// TCP) until the actors have caught up, for at most the
    /// [blocked timeout](NodeBuilder::blocked_timeout).
    ///
    /// At least the largest frame ([`max_frame`](NodeBuilder::max_frame)), so that any frame
    /// can be read: a smaller value is raised to it when the node is built; at most 4 GiB.
    /// By default, 64 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .max_frame(256 * 1024)
    ///     .inbound_total_bytes(16 << 20)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn inbound_total_bytes(mut self, bytes: usize) -> Self {
        self.config.inbound_total_bytes = bytes;
        self
    }

    /// How many messages may wait for one connection's writer. A `tell` to a remote actor
    /// waits for room beyond that (`try_tell` fails with the message); a connection whose
    /// queue is full gets no new requests from its peer dispatched until it drains. By
    /// default, 8192.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .outbound_messages(1024)
    ///     .outbound_bytes(4 << 20)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn outbound_messages(mut self, messages: usize) -> Self {
        self.config.outbound_messages = messages.max(1);
        self
    }

    /// How many bytes may wait for one connection's writer (see
    /// [`outbound_messages`](NodeBuilder::outbound_messages)). By default, 8 MiB.
    ///
    /// # Examples
    ///
    /// See [`outbound_messages`](NodeBuilder::outbound_messages).
    #[must_use]
    pub fn outbound_bytes(mut self, bytes: usize) -> Self {
        self.config.outbound_bytes = bytes.max(1);
        self
    }

    /// The bounded mailbox an exported actor gets (see [`Node::export_with_mailbox`]): at
    /// most this many messages from peers queued for it or being handled. By default, 1024.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .export_mailbox(128)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn export_mailbox(mut self, messages: usize) -> Self {
        self.config.export_mailbox = messages.max(1);
        self
    }

    /// How long a connection's reader may wait for room (the node's inbound budget, its
    /// own, an exported actor's mailbox, or its own outbound queue before it dispatches a
    /// request) before the connection is closed as blocked; such closings are counted
    /// ([`Node::blocked_count`]) and logged. By default, 10 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .blocked_timeout(Duration::from_secs(2))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn blocked_timeout(mut self, limit: Duration) -> Self {
        self.config.blocked_timeout = limit;
        self
    }

    /// How long a lookup waits for the peer's answer. By default, 10 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .request_timeout(Duration::from_secs(1))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn request_timeout(mut self, limit: Duration) -> Self {
        self.config.request_timeout = limit;
        self
    }

    /// How long connecting to a peer may take (before the handshake). By default, 5 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_net::{Node, Secret};
    /// let node = Node::builder(Secret::generate()?)
    ///     .connect_timeout(Duration::from_secs(1))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.config.connect_timeout = limit;
        self
    }

    /// Whether the node encrypts its sessions (ChaCha20-Poly1305): agreed with each peer in
    /// the handshake, from both sides' settings, in a way nobody on the way can change. By
    /// default, [`Encryption::Preferred`]: encrypted with every peer that does not have
    /// encryption off. See [`Encryption`] for the table and for what encryption hides and what
    /// it does not.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::Encryption;
    /// use actor_net::{Node, Secret};
    ///
    /// let node = Node::builder(Secret::generate()?)
    ///     .encryption(Encryption::Required)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn encryption(mut self, encryption: Encryption) -> Self {
        self.config.encryption = encryption;
        self
    }

    /// Makes the node a member of a cluster, which it joins through any of `seeds` (addresses
    /// of members; none for the first member). Seeds that do not answer are tried again every
    /// second until one does. A member must [`listen`](Self::listen) on an address the others
    /// can reach: membership runs over UDP on the same address and port. A member exports its
    /// own `cluster` actor ([`ClusterMsg`](crate::cluster::ClusterMsg)) under the name
    /// `cluster`, which is therefore taken. See [`cluster`](crate::cluster).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use actor_net::{MemberState, Node, Secret};
    ///
    /// let secret = Secret::generate()?;
    /// let first = Node::builder(secret.clone()).listen("127.0.0.1:0").join(Vec::<String>::new()).build()?;
    /// let seed = first.local_addr().unwrap().to_string();
    /// let second = Node::builder(secret).listen("127.0.0.1:0").join([seed]).build()?;
    ///
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// while first.members().iter().filter(|m| m.state == MemberState::Up).count() < 2 {
    ///     assert!(Instant::now() < deadline, "the second node did not join");
    ///     std::thread::sleep(Duration::from_millis(10));
    /// }
    /// assert_eq!(first.members()[1].id, second.node_id().unwrap());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn join<I, A>(mut self, seeds: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        self.seeds = Some(seeds.into_iter().map(Into::into).collect());
        self
    }

    /// The timing of membership and failure detection, for a node that
    /// [`join`](Self::join)s a cluster. By default, [`ClusterSettings::default`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_net::{ClusterSettings, Node, Secret};
    ///
    /// let settings = ClusterSettings { suspect_timeout: Duration::from_secs(3), ..Default::default() };
    /// let node = Node::builder(Secret::generate()?)
    ///     .listen("127.0.0.1:0")
    ///     .join(Vec::<String>::new())
    ///     .cluster_settings(settings)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn cluster_settings(mut self, settings: ClusterSettings) -> Self {
        self.cluster_settings = settings;
        self
    }

    /// The actor system whose exchanges the node publishes on (`cluster.members`). By
    /// default, the node makes a system of its own ([`Node::system`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::System;
    /// use actor_net::{ClusterMember, Node, Secret};
    ///
    /// let system = System::new();
    /// let changes = system.exchange::<ClusterMember>("cluster.members")?;
    /// let node = Node::builder(Secret::generate()?)
    ///     .listen("127.0.0.1:0")
    ///     .join(Vec::<String>::new())
    ///     .system(&system)
    ///     .build()?;
    /// assert_eq!(changes.name(), "cluster.members");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn system(mut self, system: &System) -> Self {
        self.system = Some(system.clone());
        self
    }

    /// Starts the node (and its accept thread, if it listens).
    ///
    /// # Errors
    ///
    /// [`NetError::Io`] when the listen address cannot be bound; [`NetError::NoAddress`]
    /// when it resolves to nothing; [`NetError::Config`] for an invalid setting (a name
    /// longer than 255 bytes).
    ///
    /// # Examples
    ///
    /// See [`NodeBuilder`].
    pub fn build(mut self) -> Result<Node, NetError> {
        if let Some(error) = self.share_error.take() {
            return Err(error.into());
        }
        let handshake = HandshakeConfig::builder()
            .name(self.config.name.clone())
            .timeout(self.config.handshake_timeout)
            .encryption(self.config.encryption)
            .build()?;
        let system = self.system.take().unwrap_or_default();
        let (listener, cluster) = self.bind(&system)?;
        let local_addr = listener.as_ref().map(TcpListener::local_addr).transpose()?;
        self.config.listen = local_addr;
        let max_frame = usize::try_from(self.config.max_frame).unwrap_or(usize::MAX);
        let total = &mut self.config.inbound_total_bytes;
        *total = (*total).max(max_frame);
        // Frames and messages are counted in bytes only: every one of them is a message of
        // this budget, and there is no limit on their number.
        let inbound = Budget::new(usize::MAX, *total);
        let shared = Arc::new(Shared {
            config: self.config,
            secret: self.secret,
            handshake,
            exports: Exports::default(),
            local_addr,
            connections: Mutex::new(Connections::default()),
            connection_left: Condvar::new(),
            connecting: Mutex::new(()),
            redials: Redials::default(),
            threads: Mutex::new(Vec::new()),
            shutting_down: AtomicBool::new(false),
            next_connection: AtomicU64::new(1),
            refused: AtomicU64::new(0),
            refusals: RefusalLog::default(),
            blocked: AtomicU64::new(0),
            cluster_view: cluster.as_ref().map(|cluster| Arc::clone(cluster.view())),
            // Taken already with another type: the node's events are not published.
            net_events: system.exchange::<NetEvent>(NET_EXCHANGE).ok(),
            system: system.clone(),
            shares: std::mem::take(&mut self.shares),
            inbound,
        });
        let accept = match listener {
            Some(listener) => {
                let shared = Arc::clone(&shared);
                Some(
                    std::thread::Builder::new()
                        .name("actor-net-accept".into())
                        .stack_size(THREAD_STACK)
                        .spawn(move || shared.accept_loop(listener))?,
                )
            }
            None => None,
        };
        if let Some(addr) = local_addr {
            tracing::info!(%addr, name = %shared.config.name, encryption = %shared.config.encryption, "node listening");
        }
        let cluster_actor = match &cluster {
            Some(cluster) => Some(system.spawn(ClusterActor {
                view: Arc::clone(cluster.view()),
            })?),
            None => None,
        };
        let node = Node {
            shared,
            accept: Mutex::new(accept),
            cluster,
            cluster_actor,
            system,
        };
        if let Some(actor) = &node.cluster_actor {
            node.export(CLUSTER, actor)?;
        }
        Ok(node)
    }

    /// Binds the listener, and for a cluster member the membership socket on the same address
    /// and port. With port 0, the port the system picks for TCP may be taken for UDP: then
    /// another port is tried, a few times.
    fn bind(&self, system: &System) -> Result<(Option<TcpListener>, Option<Cluster>), NetError> {
        const ATTEMPTS: usize = 16;
        let Some(listen) = &self.listen else {
            return match self.seeds {
                Some(_) => Err(ClusterError::NotListening.into()),
                None => Ok((None, None)),
            };
        };
        let requested = resolve(listen.as_str())?;
        let Some(seeds) = &self.seeds else {
            return Ok((Some(TcpListener::bind(requested)?), None));
        };
        let seeds = seeds
            .iter()
            .map(|seed| resolve(seed.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        let events = system
            .exchange::<ClusterMember>(crate::cluster::MEMBERS_EXCHANGE)
            .map_err(|_| ClusterError::MembersExchange)?;
        let name_events = system
            .exchange::<NameOwner>(crate::cluster::NAMES_EXCHANGE)
            .map_err(|_| ClusterError::MembersExchange)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let listener = TcpListener::bind(requested)?;
            let addr = listener.local_addr()?;
            let started = Cluster::start(
                addr,
                &self.secret,
                self.cluster_settings,
                seeds.clone(),
                events.clone(),
                name_events.clone(),
            );
            match started {
                Ok(cluster) => return Ok((Some(listener), Some(cluster))),
                Err(NetError::Io(error))
                    if error.kind() == std::io::ErrorKind::AddrInUse
                        && requested.port() == 0
                        && attempt < ATTEMPTS => {}
                Err(error) => return Err(error),
            }
        }
    }
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

/// The first socket address `addr` resolves to.
pub(crate) fn resolve(addr: impl ToSocketAddrs + std::fmt::Debug) -> Result<SocketAddr, NetError> {
    let described = format!("{addr:?}");
    addr.to_socket_addrs()?
        .next()
        .ok_or(NetError::NoAddress(described))
}

impl Shared {
    /// Keeps a thread's handle to join at shutdown; joins those that have finished.
    pub(crate) fn own_thread(&self, handle: JoinHandle<()>) {
        let mut threads = self.threads.lock();
        let (done, running): (Vec<_>, Vec<_>) = std::mem::take(&mut *threads)
            .into_iter()
            .partition(JoinHandle::is_finished);
        *threads = running;
        threads.push(handle);
        drop(threads);
        for thread in done {
            let _ = thread.join();
        }
    }

    fn all_connections(&self) -> Vec<Arc<Connection>> {
        let connections = self.connections.lock();
        connections
            .inbound
            .values()
            .chain(connections.outbound.values())
            .cloned()
            .collect()
    }

    fn wait_for_no_connections(&self, deadline: Instant) {
        let mut connections = self.connections.lock();
        while !(connections.inbound.is_empty() && connections.outbound.is_empty()) {
            if self
                .connection_left
                .wait_until(&mut connections, deadline)
                .timed_out()
            {
                return;
            }
        }
    }

    /// Publishes the event `make` builds on `system.net`, if anyone listens (the event is
    /// not even built otherwise: refusals can come by the thousand).
    pub(crate) fn net_event(&self, make: impl FnOnce() -> NetEvent) {
        if let Some(events) = &self.net_events
            && events.subscriber_count() > 0
        {
            events.publish(make());
        }
    }

    /// The address of the member that owns `name` in the cluster, if this node is a member
    /// and knows one.
    pub(crate) fn whereis(&self, name: &str) -> Option<SocketAddr> {
        let view = self.cluster_view.as_ref()?;
        view.names.read().get(name).map(|(_, addr)| *addr)
    }

    /// Removes a closed connection from the tables.
    pub(crate) fn forget(&self, id: u64) {
        let mut connections = self.connections.lock();
        connections.inbound.remove(&id);
        connections.outbound.retain(|_, c| c.id() != id);
        drop(connections);
        self.connection_left.notify_all();
    }

    /// Takes a handshake slot for a new inbound connection from `source`, if the limits
    /// allow one; otherwise says which limit refuses it.
    fn admit(&self, source: Source) -> Result<(), Full> {
        let mut connections = self.connections.lock();
        let config = &self.config;
        let open = connections.inbound.len() + connections.handshaking;
        if open >= config.max_connections {
            return Err(Full::Connections);
        }
        if connections.handshaking >= config.max_handshaking {
            return Err(Full::Handshakes);
        }
        let from_source = connections.handshaking_from.entry(source).or_insert(0);
        if *from_source >= config.max_handshaking_per_source {
            return Err(Full::SourceHandshakes);
        }
        *from_source += 1;
        connections.handshaking += 1;
        Ok(())
    }

    /// Gives back the handshake slot of connection `id`, taken by [`admit`](Self::admit).
    fn release_handshake(connections: &mut Connections, source: Source, id: u64) {
        connections.handshake_sockets.remove(&id);
        connections.handshaking -= 1;
        if let Some(from_source) = connections.handshaking_from.get_mut(&source) {
            *from_source -= 1;
            if *from_source == 0 {
                connections.handshaking_from.remove(&source);
            }
        }
    }

    fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        for incoming in listener.incoming() {
            if self.shutting_down.load(Ordering::SeqCst) {
                break;
            }
            let stream = match incoming {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    // Out of file descriptors, typically: let some close before retrying.
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let Ok(peer) = stream.peer_addr() else {
                continue;
            };
            let source = Source::of(peer.ip());
            if let Err(full) = self.admit(source) {
                self.refused.fetch_add(1, Ordering::Relaxed);
                self.refusals.refused(peer, &"node", &full);
                self.net_event(|| NetEvent::Refused {
                    peer,
                    reason: full.to_string(),
                });
                let mut stream = stream;
                let _ = handshake::refuse_busy(&mut stream, &self.handshake);
                continue;
            }
            tracing::debug!(%peer, "connection accepted");
            self.net_event(|| NetEvent::Connected { peer });
            let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
            match stream.try_clone() {
                Ok(handle) => {
                    self.connections.lock().handshake_sockets.insert(id, handle);
                }
                Err(error) => {
                    tracing::warn!(%error, "no second handle on a new connection");
                    Self::release_handshake(&mut self.connections.lock(), source, id);
                    continue;
                }
            }
            let shared = Arc::clone(&self);
            let spawned = std::thread::Builder::new()
                .name("actor-net-in".into())
                .stack_size(THREAD_STACK)
                .spawn(move || shared.serve_inbound(stream, peer, source, id));
            match spawned {
                Ok(handle) => self.own_thread(handle),
                Err(error) => {
                    tracing::warn!(%error, "no thread for a new connection");
                    Self::release_handshake(&mut self.connections.lock(), source, id);
                }
            }
        }
    }

    /// Runs the handshake of an inbound connection, then reads from it until it ends.
    fn serve_inbound(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        source: Source,
        id: u64,
    ) {
        /// Gives the handshake slot back however the handshake ends.
        struct Slot<'a>(&'a Shared, Source, u64, bool);
        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                if self.3 {
                    Shared::release_handshake(&mut self.0.connections.lock(), self.1, self.2);
                }
            }
        }
        let mut slot = Slot(&self, source, id, true);
        let done =
            match handshake::server_handshake(&mut stream, &self.secret, &self.handshake, peer) {
                Ok(done) => done,
                Err(error) => {
                    self.refusals.refused(peer, &"node", &Escaped(&error));
                    self.net_event(|| NetEvent::Refused {
                        peer,
                        reason: error.to_string(),
                    });
                    return;
                }
            };
        let (connection, opener, reader) = match self.start(stream, peer, done) {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(%peer, %error, "could not start a connection");
                return;
            }
        };
        {
            let mut connections = self.connections.lock();
            Self::release_handshake(&mut connections, source, id);
            slot.3 = false;
            connections
                .inbound
                .insert(connection.id(), Arc::clone(&connection));
        }
        drop(slot);
        tracing::info!(%peer, name = %Escaped(connection.peer_name()), "peer authenticated");
        self.net_event(|| NetEvent::Authenticated {
            peer,
            name: connection.peer_name().to_owned(),
            inbound: true,
        });
        if self.shutting_down.load(Ordering::SeqCst) {
            connection.close(ExitReason::Stopped);
        }
        reader::read(&connection, opener, reader);
    }

    /// Starts the connection of a finished handshake: returns it, with what its reader
    /// needs (the opener and a handle on the socket).
    fn start(
        self: &Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        done: handshake::Handshaken,
    ) -> Result<(Arc<Connection>, Opener, TcpStream), NetError> {
        let reader = stream.try_clone()?;
        let handshake::Handshaken {
            peer_name,
            sealer,
            opener,
            ..
        } = done;
        let frames = crate::frame::session_frames().with_max_payload(self.config.max_frame);
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let connection = Connection::open(
            id,
            stream,
            peer,
            peer_name,
            sealer.with_frame_config(frames),
            self,
        )?;
        Ok((connection, opener, reader))
    }

    /// Whether the node is shutting down (or has shut down): it connects to no one any more.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// The open outbound connection to `addr`, if there is one.
    pub(crate) fn connection_to(&self, addr: SocketAddr) -> Option<Arc<Connection>> {
        self.connections
            .lock()
            .outbound
            .get(&addr)
            .filter(|c| !c.is_closed())
            .cloned()
    }

    /// The open connection to `addr`, connecting (and authenticating) if there is none.
    pub(crate) fn connect(self: &Arc<Self>, addr: SocketAddr) -> Result<Arc<Connection>, NetError> {
        if let Some(connection) = self.connection_to(addr) {
            return Ok(connection);
        }
        let _one_at_a_time = self.connecting.lock();
        if let Some(connection) = self.connection_to(addr) {
            return Ok(connection);
        }
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(NetError::ShutDown);
        }
        let mut stream = TcpStream::connect_timeout(&addr, self.config.connect_timeout)?;
        let done = handshake::client_handshake(&mut stream, &self.secret, &self.handshake)
            .map_err(|source| NetError::Handshake { peer: addr, source })?;
        let (connection, opener, reader) = self.start(stream, addr, done)?;
        self.connections
            .lock()
            .outbound
            .insert(addr, Arc::clone(&connection));
        // A remote ref may reconnect while the node shuts down: either `shutdown` finds this
        // connection in the table, or this sees its flag (set before it reads the table).
        if self.shutting_down.load(Ordering::SeqCst) {
            connection.close(ExitReason::Stopped);
            return Err(NetError::ShutDown);
        }
        let reading = Arc::clone(&connection);
        let handle = std::thread::Builder::new()
            .name(format!("actor-net-r{}", connection.id()))
            .stack_size(THREAD_STACK)
            .spawn(move || reader::read(&reading, opener, reader));
        match handle {
            Ok(handle) => self.own_thread(handle),
            Err(error) => {
                connection.close(ExitReason::Stopped);
                return Err(error.into());
            }
        }
        tracing::info!(peer = %addr, name = %Escaped(connection.peer_name()), "connected to peer");
        self.net_event(|| NetEvent::Authenticated {
            peer: addr,
            name: connection.peer_name().to_owned(),
            inbound: false,
        });
        Ok(connection)
    }
}

impl Node {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}
