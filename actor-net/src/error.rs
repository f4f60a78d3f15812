//! [`NetError`]: what can go wrong between nodes.

use std::io;
use std::net::SocketAddr;

use actor_core::codec::FrameError;

use crate::handshake::{HandshakeConfigError, HandshakeError};
use crate::remote_message::MessageNameError;
use crate::session::SessionError;

/// An operation of a [`Node`](crate::Node) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A socket operation failed (binding, connecting, reading, writing).
    #[error("network I/O failed: {0}")]
    Io(#[from] io::Error),
    /// The handshake with the peer failed (wrong key, other protocol version, timeout...).
    #[error("handshake with {peer} failed: {source}")]
    Handshake {
        /// The peer.
        peer: SocketAddr,
        /// What went wrong.
        #[source]
        source: HandshakeError,
    },
    /// An authenticated frame could not be sealed or opened.
    #[error("session failure: {0}")]
    Session(#[from] SessionError),
    /// A frame could not be read or written.
    #[error("frame failure: {0}")]
    Frame(#[from] FrameError),
    /// No actor is exported under this name on the peer.
    #[error("no actor is exported as {name:?} on {peer}")]
    NotFound {
        /// The peer asked.
        peer: SocketAddr,
        /// The name looked up.
        name: String,
    },
    /// The actor exported under this name takes messages of another declared identity
    /// (another [`RemoteMessage`](crate::RemoteMessage) name or version).
    #[error(
        "the actor {name:?} on {peer} takes messages declared as {actual:?}, not {requested:?}"
    )]
    WrongType {
        /// The peer asked.
        peer: SocketAddr,
        /// The name looked up.
        name: String,
        /// The declared identity asked for, as `NAME@VERSION` (`calc@2`).
        requested: String,
        /// The declared identity the remote actor takes, as the peer reported it (`calc@1`).
        actual: String,
    },
    /// A message type's declared [`RemoteMessage::NAME`](crate::RemoteMessage::NAME) breaks
    /// the naming rule, so it cannot be exported or looked up.
    #[error("invalid remote message name: {0}")]
    MessageName(#[from] MessageNameError),
    /// The name is already exported on this node.
    #[error("an actor is already exported as {0:?}")]
    AlreadyExported(String),
    /// The peer did not answer in time.
    #[error("{peer} did not answer in time")]
    Timeout {
        /// The peer.
        peer: SocketAddr,
    },
    /// The connection to the peer was lost.
    #[error("the connection to {peer} was lost")]
    ConnectionLost {
        /// The peer.
        peer: SocketAddr,
    },
    /// The address resolved to nothing.
    #[error("the address {0:?} resolves to no socket address")]
    NoAddress(String),
    /// The node's settings are invalid (for instance a name longer than 255 bytes).
    #[error("invalid node configuration: {0}")]
    Config(#[from] HandshakeConfigError),
    /// A remote actor failed (its handler returned an error): what the peer said of it.
    #[error("the remote actor failed: {0}")]
    RemoteFailure(String),
    /// The peer exports no actor with the id a monitor asked about (it was unexported).
    #[error("the peer no longer exports the actor")]
    Unexported,
    /// The node has been shut down.
    #[error("the node has been shut down")]
    ShutDown,
    /// The node could not start one of its own actors (the `cluster` actor of a member).
    #[error("the node could not start its actor: {0}")]
    Spawn(#[from] actor_core::SpawnError),
    /// No member of the node's cluster exports the name (as the node sees it), or the node is
    /// not a cluster member.
    #[error("no member of the cluster exports {0:?}")]
    NotInCluster(String),
    /// A node refused a subscription to its exchanges.
    #[error("{peer} refused the subscription to {pattern:?}: {reason}")]
    Subscribe {
        /// The node.
        peer: SocketAddr,
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        reason: crate::pubsub::SubscribeError,
    },

    /// An exchange name or pattern does not parse.
    #[error("invalid exchange name or pattern: {0}")]
    Exchange(#[from] actor_core::ExchangeError),

    /// The node cannot be a cluster member as configured.
    #[error("cannot join a cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_error_shows_its_cause_once() {
        let error = NetError::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert_eq!(error.to_string(), "network I/O failed: connection refused");
        assert_eq!(
            actor_core::ErrorChain(&error).to_string(),
            "network I/O failed: connection refused"
        );
    }
}
