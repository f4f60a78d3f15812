//! The handshake: a version check, then mutual HMAC challenge-response over a shared key.
//!
//! Before two nodes exchange anything else, each proves to the other that it holds the same
//! [`Secret`](crate::Secret), without sending it:
//!
//! ```text
//! client                                               server
//!   HELLO      version, nonce_c, client name    ->
//!             <-  CHALLENGE  version, nonce_s, server name, proof_s
//!   PROOF      proof_c                          ->
//!             <-  WELCOME    first session frame (seq 0)
//! ```
//!
//! Each nonce is 32 fresh bytes from the operating system; each proof is an HMAC-SHA256 under the
//! shared key over a direction label, both nonces and both names, and is checked in constant
//! time. Both sides then derive one session key per direction from the key and the nonces, and
//! the server's WELCOME, sealed under its key, tells the client it was accepted. A side that
//! refuses a frame sends an ERROR frame saying why (authentication, version, malformed) and
//! closes. `PROTOCOL.md` describes every byte, with test vectors.
//!
//! The protocol lives in two pure state machines, [`ClientHandshake`] and [`ServerHandshake`],
//! which take frame payloads and append frames to send; [`client_handshake`] and
//! [`server_handshake`] run them over a [`TimedStream`](crate::frame::TimedStream) within a timeout. The MACs are the
//! pure functions [`server_proof`], [`client_proof`] and [`session_keys`].
//!
//! # Examples
//!
//! A handshake over TCP, then one authenticated message each way:
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use actor_core::codec::FrameReader;
//! use actor_net::{Secret, frame};
//! use actor_net::handshake::{self, HandshakeConfig};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = std::thread::spawn(move || -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let key = Secret::new(b"actor test key 0123456789".to_vec())?;
//!     let config = HandshakeConfig::builder().name("server").build()?;
//!     let (mut stream, peer) = listener.accept()?;
//!     let mut session = handshake::server_handshake(&mut stream, &key, &config, peer)?;
//!
//!     let mut reader = FrameReader::with_config(stream.try_clone()?, frame::session_frames());
//!     let request = session.opener.open(frame::read_frame(&mut reader)?)?.to_vec();
//!     let mut out = Vec::new();
//!     session.sealer.seal(&[&request[..], b" back"].concat(), &mut out)?;
//!     frame::write_frames(&mut stream, &out)?;
//!     Ok(())
//! });
//!
//! let key = Secret::new(b"actor test key 0123456789".to_vec())?;
//! let config = HandshakeConfig::builder().name("client").build()?;
//! let mut stream = TcpStream::connect(addr)?;
//! let mut session = handshake::client_handshake(&mut stream, &key, &config)?;
//! assert_eq!(session.peer_name, "server");
//!
//! let mut out = Vec::new();
//! session.sealer.seal(b"hello", &mut out)?;
//! frame::write_frames(&mut stream, &out)?;
//! let mut reader = FrameReader::with_config(stream, frame::session_frames());
//! assert_eq!(session.opener.open(frame::read_frame(&mut reader)?)?, b"hello back");
//! server.join().unwrap().unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod driver;
mod mac;
mod server;
mod wire;

use std::io;
use std::time::Duration;

use actor_core::codec::{FrameConfig, FrameError};

pub use client::ClientHandshake;
pub use driver::{client_handshake, server_handshake};
pub use mac::{client_proof, server_proof, session_keys};
pub use server::ServerHandshake;

use crate::frame::DEFAULT_HANDSHAKE_MAX_PAYLOAD;
use crate::session::{Opener, Sealer};

/// The protocol version this crate speaks.
///
/// # Examples
///
/// ```
/// assert_eq!(actor_net::handshake::VERSION, 1);
/// ```
pub const VERSION: u16 = 1;

/// Length of a handshake nonce, in bytes.
///
/// # Examples
///
/// ```
/// let nonce = [0_u8; actor_net::handshake::NONCE_LEN];
/// assert_eq!(nonce.len(), 32);
/// ```
pub const NONCE_LEN: usize = 32;

/// The longest node name, in bytes of UTF-8.
///
/// # Examples
///
/// ```
/// use actor_net::handshake::{HandshakeConfig, MAX_NAME_LEN};
///
/// assert!(HandshakeConfig::builder().name("n".repeat(MAX_NAME_LEN)).build().is_ok());
/// assert!(HandshakeConfig::builder().name("n".repeat(MAX_NAME_LEN + 1)).build().is_err());
/// ```
pub const MAX_NAME_LEN: usize = 255;

/// The body of the WELCOME session frame.
const WELCOME: u8 = 0x00;

/// How this node takes part in handshakes: its name and the limits it enforces.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_net::handshake::HandshakeConfig;
///
/// let config = HandshakeConfig::builder()
///     .name("orders-1")
///     .timeout(Duration::from_secs(2))
///     .build()?;
/// assert_eq!(config.name(), "orders-1");
/// assert_eq!(config.timeout(), Duration::from_secs(2));
/// assert_eq!(config.max_frame_len(), 512);
/// # Ok::<(), actor_net::handshake::HandshakeConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    name: String,
    timeout: Duration,
    max_frame_len: u32,
}

impl HandshakeConfig {
    /// The default timeout of a whole handshake: 5 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::HandshakeConfig;
    ///
    /// assert_eq!(HandshakeConfig::default().timeout(), HandshakeConfig::DEFAULT_TIMEOUT);
    /// ```
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Starts a configuration with the defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::HandshakeConfig;
    ///
    /// assert_eq!(HandshakeConfig::builder().build()?, HandshakeConfig::default());
    /// # Ok::<(), actor_net::handshake::HandshakeConfigError>(())
    /// ```
    pub fn builder() -> HandshakeConfigBuilder {
        HandshakeConfigBuilder {
            config: HandshakeConfig::default(),
        }
    }

    /// Returns the name this node gives its peers.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::HandshakeConfig;
    ///
    /// assert_eq!(HandshakeConfig::default().name(), "");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the time within which a whole handshake must finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_net::handshake::HandshakeConfig;
    ///
    /// assert_eq!(HandshakeConfig::default().timeout(), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Returns the largest handshake frame payload accepted, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{frame, handshake::HandshakeConfig};
    ///
    /// assert_eq!(
    ///     HandshakeConfig::default().max_frame_len(),
    ///     frame::DEFAULT_HANDSHAKE_MAX_PAYLOAD,
    /// );
    /// ```
    #[must_use]
    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// The frame limits of handshake frames.
    fn frames(&self) -> FrameConfig {
        FrameConfig::new().with_max_payload(self.max_frame_len)
    }
}

impl Default for HandshakeConfig {
    /// The defaults: the empty name, a timeout of 5 seconds, handshake frames of at most 512
    /// bytes.
    fn default() -> Self {
        HandshakeConfig {
            name: String::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_frame_len: DEFAULT_HANDSHAKE_MAX_PAYLOAD,
        }
    }
}

/// Builds a [`HandshakeConfig`].
///
/// # Examples
///
/// ```
/// use actor_net::handshake::HandshakeConfig;
///
/// let config = HandshakeConfig::builder().name("alpha").build()?;
/// assert_eq!(config.name(), "alpha");
/// # Ok::<(), actor_net::handshake::HandshakeConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HandshakeConfigBuilder {
    config: HandshakeConfig,
}

impl HandshakeConfigBuilder {
    /// Sets the name this node gives its peers: at most [`MAX_NAME_LEN`] bytes of UTF-8. Both
    /// names are covered by both proofs, so neither can be changed on the way.
    ///
    /// By default, the empty name.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::HandshakeConfig;
    ///
    /// let config = HandshakeConfig::builder().name("node-7").build()?;
    /// assert_eq!(config.name(), "node-7");
    /// # Ok::<(), actor_net::handshake::HandshakeConfigError>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Sets the time within which a whole handshake must finish, counted from the start of
    /// [`client_handshake`] or [`server_handshake`]. It bounds how long an unauthenticated peer
    /// can hold a connection.
    ///
    /// By default, 5 seconds ([`HandshakeConfig::DEFAULT_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_net::handshake::HandshakeConfig;
    ///
    /// let config = HandshakeConfig::builder().timeout(Duration::from_millis(500)).build()?;
    /// assert_eq!(config.timeout(), Duration::from_millis(500));
    /// # Ok::<(), actor_net::handshake::HandshakeConfigError>(())
    /// ```
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.config.timeout = limit;
        self
    }

    /// Sets the largest handshake frame payload accepted, in bytes; a peer that announces a
    /// longer frame is refused before anything is allocated for it. It must be at least 328, the
    /// largest valid handshake frame.
    ///
    /// By default, 512 ([`DEFAULT_HANDSHAKE_MAX_PAYLOAD`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::{HandshakeConfig, HandshakeConfigError};
    ///
    /// assert!(HandshakeConfig::builder().max_frame_len(328).build().is_ok());
    /// assert!(matches!(
    ///     HandshakeConfig::builder().max_frame_len(100).build(),
    ///     Err(HandshakeConfigError::MaxFrameTooSmall { max: 100, min: 328 })
    /// ));
    /// ```
    pub fn max_frame_len(mut self, max: u32) -> Self {
        self.config.max_frame_len = max;
        self
    }

    /// Checks the settings and returns the configuration.
    ///
    /// # Errors
    ///
    /// [`HandshakeConfigError::NameTooLong`] if the name is longer than [`MAX_NAME_LEN`] bytes;
    /// [`HandshakeConfigError::MaxFrameTooSmall`] if the frame limit would refuse valid frames.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::{HandshakeConfig, HandshakeConfigError};
    ///
    /// let err = HandshakeConfig::builder().name("x".repeat(300)).build().unwrap_err();
    /// assert!(matches!(err, HandshakeConfigError::NameTooLong { len: 300 }));
    /// ```
    pub fn build(self) -> Result<HandshakeConfig, HandshakeConfigError> {
        let config = self.config;
        if config.name.len() > MAX_NAME_LEN {
            return Err(HandshakeConfigError::NameTooLong {
                len: config.name.len(),
            });
        }
        if config.max_frame_len < wire::LARGEST_PAYLOAD {
            return Err(HandshakeConfigError::MaxFrameTooSmall {
                max: config.max_frame_len,
                min: wire::LARGEST_PAYLOAD,
            });
        }
        Ok(config)
    }
}

/// Why a [`HandshakeConfig`] could not be built.
///
/// # Examples
///
/// ```
/// use actor_net::handshake::HandshakeConfig;
///
/// let err = HandshakeConfig::builder().name("é".repeat(200)).build().unwrap_err();
/// assert_eq!(err.to_string(), "node name of 400 bytes is longer than the 255 bytes allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeConfigError {
    /// The node name is longer than [`MAX_NAME_LEN`] bytes.
    #[error("node name of {len} bytes is longer than the {max} bytes allowed", max = MAX_NAME_LEN)]
    NameTooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The handshake frame limit is below the largest valid handshake frame.
    #[error("handshake frame limit of {max} bytes is below the {min} bytes a valid frame may need")]
    MaxFrameTooSmall {
        /// The limit that was set.
        max: u32,
        /// The smallest limit accepted.
        min: u32,
    },
}

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
/// let err = HandshakeError::VersionMismatch { ours: 1, theirs: 2 };
/// assert_eq!(err.to_string(), "protocol version mismatch: this side speaks 1, the peer speaks 2");
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
        /// The version this side speaks ([`VERSION`]).
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
        /// The timeout ([`HandshakeConfig::timeout`]).
        limit: Duration,
    },
    /// The peer closed the connection between frames.
    #[error("the peer closed the connection during the handshake")]
    Closed,
    /// A frame was larger than the handshake allows, or the connection ended inside one.
    #[error("invalid handshake frame")]
    Frame(#[source] FrameError),
    /// Reading from or writing to the connection failed.
    #[error("handshake i/o failed")]
    Io(#[source] io::Error),
    /// The operating system's random source failed to give a nonce.
    #[error("the operating system's random source failed")]
    Random(#[source] io::Error),
}

/// What a handshake state machine's step led to.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::{HandshakeConfig, ServerHandshake, Step};
///
/// let key = Secret::new(b"actor test key 0123456789".to_vec())?;
/// let config = HandshakeConfig::default();
/// let mut hello = b"ACTR\x00\x01\x01".to_vec();
/// hello.extend([0; 32]);
/// hello.extend([0, 0]);
/// let step = ServerHandshake::new(&key, &config, [1; 32]).step(&hello, &mut Vec::new())?;
/// assert!(matches!(step, Step::Continue(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "a handshake takes two steps; boxing would add an allocation to save a small copy"
)]
pub enum Step<M> {
    /// The handshake goes on: feed the next frame to this machine.
    Continue(M),
    /// The handshake is complete: both sides hold the key, and the session begins.
    Done(Handshaken),
}

/// A completed handshake: who the peer is, and the two halves of the session.
///
/// The peer's name was covered by both proofs, but it is only what the peer calls itself: every
/// holder of the key can claim any name.
///
/// # Examples
///
/// See [`client_handshake`] and the [module documentation](self) for a handshake over TCP.
///
/// ```
/// use actor_net::handshake::Handshaken;
///
/// fn parts(done: Handshaken) {
///     let Handshaken { peer_name, sealer, opener, .. } = done;
///     println!("{peer_name}: {sealer:?} {opener:?}");
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Handshaken {
    /// The name the peer gave (at most [`MAX_NAME_LEN`] bytes).
    pub peer_name: String,
    /// Seals the frames this side sends. The server's sealer has already sealed the WELCOME
    /// frame, so it continues at sequence number 1; the client's starts at 0.
    pub sealer: Sealer,
    /// Opens the frames the peer sends. The client's opener has already opened the WELCOME
    /// frame, so it expects sequence number 1; the server's expects 0.
    pub opener: Opener,
}
