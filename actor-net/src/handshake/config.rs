//! How a node takes part in handshakes: its [`HandshakeConfig`], the builder that checks it, and
//! the error the builder returns.

use std::time::Duration;

use actor_core::codec::FrameConfig;

use super::constants::{LARGEST_PAYLOAD, MAX_NAME_LEN, MODE_CIPHER, MODE_MAC};
use crate::frame::DEFAULT_HANDSHAKE_MAX_PAYLOAD;

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
    encryption: Encryption,
}

/// Whether a node encrypts its sessions: agreed in each handshake from both sides' settings,
/// and covered by both proofs, so that nobody on the way can talk the two sides down to a
/// session without encryption.
///
/// | this side \ peer | `Off` | `Preferred` | `Required` |
/// |---|---|---|---|
/// | `Off` | MAC only | MAC only | refused |
/// | `Preferred` | MAC only | encrypted | encrypted |
/// | `Required` | refused | encrypted | encrypted |
///
/// An encrypted session hides what the messages say (ChaCha20-Poly1305, under keys that only
/// the two sides can derive); every session, encrypted or not, is authenticated. Neither hides
/// who talks to whom, when, or how much (the sizes and times of frames), and neither protects
/// against a stolen shared key. A refused handshake fails on both sides with
/// [`HandshakeError::Encryption`](super::HandshakeError::Encryption).
///
/// # Examples
///
/// ```
/// use actor_net::handshake::{Encryption, HandshakeConfig};
///
/// assert_eq!(Encryption::default(), Encryption::Preferred);
/// let config = HandshakeConfig::builder().encryption(Encryption::Required).build()?;
/// assert_eq!(config.encryption(), Encryption::Required);
/// assert_eq!("off".parse::<Encryption>()?, Encryption::Off);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encryption {
    /// Sessions are authenticated, never encrypted; a peer that requires encryption is
    /// refused.
    Off,
    /// Sessions are encrypted when the peer allows it, authenticated only otherwise.
    #[default]
    Preferred,
    /// Sessions are encrypted; a peer that has encryption off is refused.
    Required,
}

impl Encryption {
    /// The session modes this setting accepts, as the HELLO's `accepts` byte.
    pub(super) fn accepts(self) -> u8 {
        match self {
            Encryption::Off => MODE_MAC,
            Encryption::Preferred => MODE_MAC | MODE_CIPHER,
            Encryption::Required => MODE_CIPHER,
        }
    }

    /// The setting that accepts exactly the modes of `accepts`.
    pub(super) fn from_accepts(accepts: u8) -> Option<Encryption> {
        match accepts {
            MODE_MAC => Some(Encryption::Off),
            MODE_CIPHER => Some(Encryption::Required),
            both if both == MODE_MAC | MODE_CIPHER => Some(Encryption::Preferred),
            _ => None,
        }
    }

    /// The mode a server with this setting picks for a client that accepts `accepts`: the
    /// encrypted one if both sides accept it, the MAC otherwise; `None` if they share none.
    pub(super) fn choose(self, accepts: u8) -> Option<u8> {
        let common = self.accepts() & accepts;
        if common & MODE_CIPHER != 0 {
            Some(MODE_CIPHER)
        } else if common & MODE_MAC != 0 {
            Some(MODE_MAC)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encryption::Off => "off",
            Encryption::Preferred => "preferred",
            Encryption::Required => "required",
        })
    }
}

/// A text that is not `off`, `preferred` or `required`.
///
/// # Examples
///
/// ```
/// use actor_net::handshake::Encryption;
/// assert!("always".parse::<Encryption>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("encryption must be one of off, preferred, required; not {0:?}")]
pub struct ParseEncryptionError(String);

impl std::str::FromStr for Encryption {
    type Err = ParseEncryptionError;

    fn from_str(text: &str) -> Result<Encryption, ParseEncryptionError> {
        match text {
            "off" => Ok(Encryption::Off),
            "preferred" => Ok(Encryption::Preferred),
            "required" => Ok(Encryption::Required),
            other => Err(ParseEncryptionError(other.to_owned())),
        }
    }
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
    /// Whether this side encrypts its sessions; see [`Encryption`].
    ///
    /// # Examples
    ///
    /// See [`Encryption`].
    #[must_use]
    pub fn encryption(&self) -> Encryption {
        self.encryption
    }

    pub(super) fn frames(&self) -> FrameConfig {
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
            encryption: Encryption::default(),
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
    /// [`client_handshake`](super::client_handshake) or
    /// [`server_handshake`](super::server_handshake). It bounds how long an unauthenticated peer
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
    /// longer frame is refused before anything is allocated for it. It must be at least 329, the
    /// largest valid handshake frame.
    ///
    /// By default, 512 ([`DEFAULT_HANDSHAKE_MAX_PAYLOAD`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::handshake::{HandshakeConfig, HandshakeConfigError};
    ///
    /// assert!(HandshakeConfig::builder().max_frame_len(329).build().is_ok());
    /// assert!(matches!(
    ///     HandshakeConfig::builder().max_frame_len(100).build(),
    ///     Err(HandshakeConfigError::MaxFrameTooSmall { max: 100, min: 329 })
    /// ));
    /// ```
    pub fn max_frame_len(mut self, max: u32) -> Self {
        self.config.max_frame_len = max;
        self
    }

    /// Whether this side encrypts its sessions; by default, [`Encryption::Preferred`].
    ///
    /// # Examples
    ///
    /// See [`Encryption`].
    pub fn encryption(mut self, encryption: Encryption) -> Self {
        self.config.encryption = encryption;
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
        if config.max_frame_len < LARGEST_PAYLOAD {
            return Err(HandshakeConfigError::MaxFrameTooSmall {
                max: config.max_frame_len,
                min: LARGEST_PAYLOAD,
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
