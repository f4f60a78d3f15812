//! Why a handshake failed, and which side found the problem.

use std::io;
use std::time::Duration;

use actor_core::codec::FrameError;

/// Which side of the connection found a problem.
///
/// # Examples
///
/// ```
/// use actor_net::handshake::Side;
///
/// assert_eq!(Side::Local.to_string(), "refused by this side");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// This side found the problem in what the peer sent, and told the peer.
    Local,
    /// The peer found the problem in what this side sent, and said so in an ERROR frame.
    Remote,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Local => "refused by this side",
            Side::Remote => "refused by the peer",
        })
    }
}

/// Why a handshake failed. After any of these, close the connection.
///
/// # Examples
///
/// ```
/// use actor_net::handshake::{HandshakeError, Side};
///
/// let err = HandshakeError::VersionMismatch { ours: 2, theirs: 1 };
/// assert_eq!(err.to_string(), "protocol version mismatch: this side speaks 2, the peer speaks 1");
/// let err = HandshakeError::Authentication { side: Side::Remote };
/// assert_eq!(err.to_string(), "authentication failed (refused by the peer)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The two sides do not hold the same key: a proof (or the WELCOME frame's tag) did not
    /// verify. No detail is given, by design.
    #[error("authentication failed ({side})")]
    Authentication {
        /// `Local` if this side found the peer's proof wrong, `Remote` if the peer refused ours.
        side: Side,
    },
    /// The peer speaks another protocol version.
    #[error("protocol version mismatch: this side speaks {ours}, the peer speaks {theirs}")]
    VersionMismatch {
        /// The version this side speaks ([`VERSION`](super::VERSION)).
        ours: u16,
        /// The version the peer speaks.
        theirs: u16,
    },
    /// A frame was not one the protocol allows at that point.
    #[error("malformed handshake frame ({side})")]
    Malformed {
        /// `Local` if this side received the frame, `Remote` if the peer refused one of ours.
        side: Side,
    },
    /// The handshake did not finish within the timeout.
    #[error("handshake did not finish within {limit:?}")]
    Timeout {
        /// The timeout ([`HandshakeConfig::timeout`](super::HandshakeConfig::timeout)).
        limit: Duration,
    },
    /// The server is serving as many connections (or handshakes) as its limits allow, in all
    /// or from this side's address, and refused this one with an ERROR BUSY. Trying again
    /// later may succeed.
    #[error(
        "the server is busy: it refused the connection (too many connections or handshakes); try again later"
    )]
    Busy,
    /// The two sides' [`Encryption`](super::Encryption) settings do not meet: one requires
    /// encryption and the other has it off. The server found it and said so in an ERROR
    /// POLICY.
    #[error("encryption settings do not meet: this side's is {ours}, the peer's {theirs}")]
    Encryption {
        /// This side's setting.
        ours: super::Encryption,
        /// The peer's setting.
        theirs: super::Encryption,
    },
    /// The peer closed the connection between frames.
    #[error("the peer closed the connection during the handshake")]
    Closed,
    /// A frame was larger than the handshake allows, or the connection ended inside one.
    #[error("invalid handshake frame: {0}")]
    Frame(#[source] FrameError),
    /// Reading from or writing to the connection failed.
    #[error("handshake i/o failed: {0}")]
    Io(#[source] io::Error),
    /// The operating system's random source failed to give a nonce.
    #[error("the operating system's random source failed: {0}")]
    Random(#[source] io::Error),
}
