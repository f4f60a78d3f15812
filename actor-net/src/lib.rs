//! Remote actors over HMAC-authenticated TCP.
//!
//! A [`Node`] puts a process on the network: it exports local actors by name, and
//! [`Node::lookup`] gives an ordinary [`ActorRef`](actor_core::ActorRef) to an actor that
//! another node exports, so `tell` and `ask` work across processes and machines exactly as
//! they do locally. A message type that crosses the wire declares a stable name and version
//! with [`RemoteMessage`]; lookups compare that declared identity, so two programs that define
//! the same type under the same name interoperate. A program that would rather address an
//! actor by tags exports a [`RouterActor`](actor_core::RouterActor), whose message,
//! [`Tagged`](actor_core::Tagged), declares `actor.tagged`. Only processes that share a [`Secret`] can talk at all: every connection
//! starts with a mutual challenge-response handshake, and every frame after it carries a
//! sequence number and a MAC, so an altered, replayed, reordered or injected frame closes
//! the connection. The secret must be random ([`Secret::generate`], or `actor-node keygen`):
//! one handshake lets anyone test guesses of it offline, so a password is refused.
//!
//! The layers, bottom-up, each usable alone: [`frame`] (length-prefixed frames with limits),
//! [`handshake`] (version check and mutual authentication, as pure state machines),
//! [`session`] (per-frame sequence numbers and MACs), then the node (connections, exports,
//! heartbeats), remote refs, and [`services`] (echo and time as actors, also answering the
//! classic protocols). `PROTOCOL.md` describes the wire format byte by byte.
//!
//! Beside them, [`server`] holds the building blocks the classic services run on, for
//! servers of your own: a [`TcpServer`] that runs your handler for each connection and a
//! [`UdpServer`] that answers each datagram, bounded (connections, queues, timeouts) and
//! stopped cleanly with the system.
//!
//! See [`Node`] for an example.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cluster;
pub mod frame;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod handshake;
pub mod server;
pub mod services;
pub mod session;

mod error;
// Its items are `pub` so that the `fuzzing` feature can re-export them; without the feature,
// the crate is their only user.
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
mod message;
mod net_event;
mod node;
mod pubsub;
mod random;
mod remote;
mod remote_message;
mod secret;
mod source;

pub use cluster::{
    ClusterError, ClusterMember, ClusterSettings, MemberState, NodeId, ParseNodeIdError,
};
pub use error::NetError;
pub use net_event::{NET_EXCHANGE, NetEvent};
pub use node::{Node, NodeBuilder};
pub use pubsub::{MAX_SUBSCRIPTIONS, MAX_TEXT, SubscribeError};
pub use remote_message::{MAX_MESSAGE_NAME, MessageNameError, RemoteMessage};
pub use secret::{KeyCheck, Secret, SecretError, Weakness};
pub use server::{
    Excess, ServerError, TcpServer, TcpServerBuilder, Threads, UdpServer, UdpServerBuilder,
};
