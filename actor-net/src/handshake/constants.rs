//! The protocol's fixed numbers: its version, the sizes of its fields and the bytes every frame
//! starts with. They sit below everything else in the handshake because every part reads them:
//! the configuration checks names and frame limits against them, the wire format and the MACs
//! are laid out by them.

use crate::session::TAG_LEN;

/// The protocol version this crate speaks.
///
/// # Examples
///
/// ```
/// assert_eq!(actor_net::handshake::VERSION, 3);
/// ```
pub const VERSION: u16 = 3;

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
pub(super) const WELCOME: u8 = 0x00;

/// The first four bytes of every handshake payload.
pub(super) const MAGIC: [u8; 4] = *b"ACTR";

/// Length of the header: magic, version, kind.
pub(super) const HEADER_LEN: usize = 7;

/// Length of a proof (an HMAC-SHA256 output).
pub(super) const PROOF_LEN: usize = TAG_LEN;

/// The largest handshake payload: a CHALLENGE carrying a name of `MAX_NAME_LEN` bytes.
pub(super) const LARGEST_PAYLOAD: u32 =
    (HEADER_LEN + NONCE_LEN + 2 + MAX_NAME_LEN + 1 + PROOF_LEN) as u32;

/// A session protected by a MAC only: a bit of the HELLO's `accepts`, and a CHALLENGE's `mode`.
pub(super) const MODE_MAC: u8 = 0x01;

/// An encrypted session: a bit of the HELLO's `accepts`, and a CHALLENGE's `mode`.
pub(super) const MODE_CIPHER: u8 = 0x02;

// The default configuration must accept every valid frame, as `HandshakeConfigBuilder::build`
// requires of any other.
const _: () = assert!(LARGEST_PAYLOAD <= crate::frame::DEFAULT_HANDSHAKE_MAX_PAYLOAD);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_payload_is_a_challenge_with_the_longest_name() {
        assert_eq!(LARGEST_PAYLOAD, 329);
    }
}
