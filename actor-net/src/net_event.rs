//! [`NetEvent`]: what a node publishes on its system's exchange `system.net`, so that a
//! subscriber (a tap on `system.>`) sees who talks to the node.

use std::fmt;
use std::net::SocketAddr;

use actor_core::Escaped;
use serde::{Deserialize, Serialize};

/// The exchange on which a node publishes its [`NetEvent`]s.
pub const NET_EXCHANGE: &str = "system.net";

/// A connection event of a node, published on [`NET_EXCHANGE`] of its system
/// ([`Node::system`](crate::Node::system)).
///
/// Names and reasons come from peers or describe what peers did: [`Display`](fmt::Display)
/// shows their control characters escaped.
///
/// # Examples
///
/// ```
/// use actor_net::NetEvent;
///
/// let event = NetEvent::Authenticated {
///     peer: "127.0.0.1:7700".parse()?,
///     name: "edge\n1".into(),
///     inbound: true,
/// };
/// assert_eq!(event.to_string(), "authenticated 127.0.0.1:7700 edge\\n1 (inbound)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NetEvent {
    /// A peer opened a connection to this node; its handshake comes next.
    Connected {
        /// The peer's address.
        peer: SocketAddr,
    },
    /// A connection's handshake succeeded: the peer holds the key.
    Authenticated {
        /// The peer's address.
        peer: SocketAddr,
        /// The name the peer gives itself.
        name: String,
        /// Whether the peer connected to this node (`true`) or this node to it.
        inbound: bool,
    },
    /// A connection to this node was refused: a limit was reached, or its handshake failed.
    Refused {
        /// The peer's address.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// An authenticated connection ended.
    Disconnected {
        /// The peer's address.
        peer: SocketAddr,
        /// The name the peer gave itself.
        name: String,
        /// Why the connection ended.
        reason: String,
    },
}

/// Shared by every node: a peer subscribes to `system.net` typed.
impl crate::RemoteMessage for NetEvent {
    const NAME: &'static str = "actor.net-event";
}

impl fmt::Display for NetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetEvent::Connected { peer } => write!(f, "connected {peer}"),
            NetEvent::Authenticated {
                peer,
                name,
                inbound,
            } => {
                let direction = if *inbound { "inbound" } else { "outbound" };
                write!(f, "authenticated {peer} {} ({direction})", Escaped(name))
            }
            NetEvent::Refused { peer, reason } => write!(f, "refused {peer}: {}", Escaped(reason)),
            NetEvent::Disconnected { peer, name, reason } => {
                write!(
                    f,
                    "disconnected {peer} {}: {}",
                    Escaped(name),
                    Escaped(reason)
                )
            }
        }
    }
}
