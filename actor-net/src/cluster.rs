//! Clusters: nodes that find each other through a seed, know who is up, and learn within a
//! bounded time when a member fails or leaves.
//!
//! A listening node joins a cluster with [`NodeBuilder::join`](crate::NodeBuilder::join).
//! Membership and failure detection use SWIM (the `foca` crate) over UDP, on the same address
//! and port as the node's TCP listener. Every datagram carries an HMAC-SHA256 tag under a key
//! derived from the shared key and a sequence number that is accepted once, so a host without
//! the key can neither join, nor forge or replay a datagram that says a member is down.
//!
//! Each member is a [`NodeId`] (random, drawn when the node starts) at an address. Every
//! change of a member's state ([`MemberState`]: up, suspect, down, left) is published on the
//! exchange [`MEMBERS_EXCHANGE`] (`cluster.members`) of the node's actor system, and
//! [`Node::members`](crate::Node::members) lists them. A node that shuts down tells the
//! cluster that it leaves, so the others list it as `left` rather than `down`.
//!
//! Failure detection, with the default [`ClusterSettings`]: each member probes one other
//! every 150 ms and waits 60 ms for the answer, then asks 3 others to probe it; a member
//! that answers none is suspected, and declared down 400 ms later unless it refutes the
//! suspicion. A member declared down while it is alive (a long pause, a partition) rejoins by
//! itself under a renewed identity (same id), and is listed as up again.
//!
//! The layout of the datagrams is in `PROTOCOL.md` ("Cluster membership").

// The encoding, the datagrams and the protocol's construction are visible to the crate root,
// and their items `pub`, so that the `fuzzing` feature can re-export them for the tests of
// `PROTOCOL.md`'s membership vectors; without the feature, the cluster is their only user.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod codec;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod identity;
mod member;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod membership;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod names;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod packet;
mod query;
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub(crate) mod settings;
mod view;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use actor_core::Exchange;
use crossbeam_channel::Sender;
use parking_lot::Mutex;

pub use identity::{NodeId, ParseNodeIdError};
pub use member::{ClusterMember, MEMBERS_EXCHANGE, MemberState};
pub use names::{MAX_CLUSTER_NAME, NameOwner};

/// The exchange on which a member publishes each change of the owner of a name exported in
/// the cluster, as a [`NameOwner`].
pub const NAMES_EXCHANGE: &str = "cluster.names";
pub use query::{CLUSTER, ClusterMsg};
pub use settings::{ClusterError, ClusterSettings};

use crate::error::NetError;
use crate::secret::Secret;
use identity::Identity;
use membership::{Command, Counters, Membership};
use packet::PacketKey;
pub(crate) use query::ClusterActor;
pub(crate) use view::View;

/// A node's part in its cluster: the membership thread and what it shares with the node.
pub(crate) struct Cluster {
    view: Arc<View>,
    counters: Arc<Counters>,
    commands: Sender<Command>,
    /// The socket's address, to wake the thread with an empty datagram.
    wake: SocketAddr,
    socket: UdpSocket,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Cluster {
    /// Binds the membership socket on `addr` (the node's listen address) and starts the
    /// membership thread, which announces this node to `seeds` until it knows a member.
    pub(crate) fn start(
        addr: SocketAddr,
        secret: &Secret,
        settings: ClusterSettings,
        seeds: Vec<SocketAddr>,
        events: Exchange<ClusterMember>,
        name_events: Exchange<NameOwner>,
    ) -> Result<Cluster, NetError> {
        settings.check()?;
        if addr.ip().is_unspecified() {
            return Err(ClusterError::UnspecifiedAddress(addr).into());
        }
        let socket = UdpSocket::bind(addr)?;
        let mut id = [0_u8; 8];
        crate::random::fill(&mut id)?;
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        let identity = Identity {
            id: NodeId::from_u64(u64::from_be_bytes(id)),
            addr,
            started_ms,
            rejoins: 0,
        };
        let view = Arc::new(View::new(identity));
        let counters = Arc::new(Counters::default());
        let (commands, received) = crossbeam_channel::unbounded();
        let membership = Membership {
            settings,
            socket: socket.try_clone()?,
            key: PacketKey::derive(secret),
            seeds: seeds.into_iter().filter(|seed| *seed != addr).collect(),
            view: Arc::clone(&view),
            counters: Arc::clone(&counters),
            events,
            name_events,
            commands: received,
        };
        let thread = std::thread::Builder::new()
            .name("actor-net-cluster".into())
            .stack_size(256 * 1024)
            .spawn(move || membership.run())?;
        Ok(Cluster {
            view,
            counters,
            commands,
            wake: addr,
            socket,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// This node's id.
    pub(crate) fn id(&self) -> NodeId {
        self.view.identity.id
    }

    /// The member table, shared with the `cluster` actor.
    pub(crate) fn view(&self) -> &Arc<View> {
        &self.view
    }

    /// Every member this node knows of, itself first (up), then the others by address.
    pub(crate) fn members(&self) -> Vec<ClusterMember> {
        self.view.members()
    }

    /// Claims `name` in the cluster-wide registry (the node exported it), unless it is the
    /// node's own `cluster` actor or too long to be registered.
    pub(crate) fn claim(&self, name: &str) {
        if name != CLUSTER && name.len() <= MAX_CLUSTER_NAME {
            self.command(Command::Claim(name.to_owned()));
        }
    }

    /// Withdraws the claim on `name` (the node no longer exports it).
    pub(crate) fn release(&self, name: &str) {
        if name != CLUSTER && name.len() <= MAX_CLUSTER_NAME {
            self.command(Command::Release(name.to_owned()));
        }
    }

    /// The member that owns `name` in the cluster, as this node sees it.
    pub(crate) fn whereis(&self, name: &str) -> Option<(NodeId, SocketAddr)> {
        self.view.names.read().get(name).copied()
    }

    /// Hands `command` to the membership thread and wakes it.
    fn command(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            let _ = self.socket.send_to(&[], self.wake);
        }
    }

    /// Bytes of membership datagrams sent and received so far, and datagrams refused.
    pub(crate) fn traffic(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.counters.sent_bytes.load(Relaxed),
            self.counters.received_bytes.load(Relaxed),
            self.counters.refused.load(Relaxed),
        )
    }

    /// Tells the cluster that this node leaves, and stops the membership thread.
    pub(crate) fn leave(&self) {
        let Some(thread) = self.thread.lock().take() else {
            return;
        };
        let _ = self.commands.send(Command::Leave);
        // Wakes the thread at once, rather than at its next timer.
        let _ = self.socket.send_to(&[], self.wake);
        let _ = thread.join();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.leave();
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("id", &self.view.identity.id)
            .field("addr", &self.view.identity.addr)
            .finish_non_exhaustive()
    }
}
