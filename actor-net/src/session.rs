//! Authenticated session frames: a sequence number and a MAC on every frame after the handshake,
//! and, in an encrypted session, the body encrypted.
//!
//! Each direction of a connection has its own key (derived by the
//! [handshake](crate::handshake)) and its own sequence, starting at 0. A frame's payload is
//!
//! ```text
//! +-------------+------------+------------------------------------+
//! | seq: u64 BE | body       | tag: HMAC-SHA256(key, seq | body)  |
//! +-------------+------------+------------------------------------+
//!     8 bytes     any length              32 bytes
//! ```
//!
//! or, in an encrypted session ([`Sealer::encrypted`], [`Opener::encrypted`]), with
//! ChaCha20-Poly1305 under the direction's cipher key, the nonce being four zero bytes and the
//! sequence number, the sequence number also authenticated as associated data:
//!
//! ```text
//! +-------------+---------------------+-------------------+
//! | seq: u64 BE | body, encrypted     | Poly1305 tag      |
//! +-------------+---------------------+-------------------+
//!     8 bytes     as long as the body       16 bytes
//! ```
//!
//! A [`Sealer`] writes the frames of one direction and an [`Opener`] checks them on the other
//! side: a frame that was altered, replayed, reordered, injected or cut short is refused with a
//! [`SessionError`], and the connection should then be closed. The body is opaque here.
//!
//! # Examples
//!
//! ```
//! use actor_core::codec::FrameReader;
//! use actor_net::session::{Opener, Sealer};
//!
//! let key = [7; 32];
//! let (mut sealer, mut opener) = (Sealer::new(&key), Opener::new(&key));
//!
//! let mut wire = Vec::new();
//! sealer.seal(b"first", &mut wire)?;
//! sealer.seal(b"second", &mut wire)?;
//!
//! let mut reader = FrameReader::new(wire.as_slice());
//! let mut bodies = Vec::new();
//! while let Some(payload) = reader.read_frame()? {
//!     bodies.push(opener.open(payload)?.to_vec());
//! }
//! assert_eq!(bodies, [&b"first"[..], b"second"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use actor_core::codec::{FrameConfig, FrameError};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hmac::Mac;

use crate::frame;
use crate::secret::{HmacSha256, keyed_mac};

/// Length of a session frame's sequence number.
const SEQ_LEN: usize = 8;

/// Length of a session frame's tag.
pub const TAG_LEN: usize = 32;

/// Length of an encrypted session frame's tag (Poly1305).
pub const CIPHER_TAG_LEN: usize = 16;

/// The bytes a session frame adds to its body: the sequence number and the tag.
///
/// # Examples
///
/// ```
/// use actor_net::session::{Sealer, OVERHEAD};
///
/// let mut out = Vec::new();
/// Sealer::new(&[1; 32]).seal(b"abc", &mut out)?;
/// assert_eq!(out.len(), 4 + OVERHEAD + 3);
/// # Ok::<(), actor_net::session::SessionError>(())
/// ```
pub const OVERHEAD: usize = SEQ_LEN + TAG_LEN;

/// The bytes an encrypted session frame adds to its body: the sequence number and the
/// Poly1305 tag.
///
/// # Examples
///
/// ```
/// use actor_net::session::{Sealer, ENCRYPTED_OVERHEAD};
///
/// let mut out = Vec::new();
/// Sealer::encrypted(&[1; 32]).seal(b"abc", &mut out)?;
/// assert_eq!(out.len(), 4 + ENCRYPTED_OVERHEAD + 3);
/// # Ok::<(), actor_net::session::SessionError>(())
/// ```
pub const ENCRYPTED_OVERHEAD: usize = SEQ_LEN + CIPHER_TAG_LEN;

/// The largest buffer an opener keeps between frames to decrypt into; one that grew past it
/// for a large frame is released.
const RETAINED: usize = FrameConfig::DEFAULT_RETAINED_CAPACITY as usize;

/// How the frames of a direction are protected.
#[derive(Clone)]
enum Protection {
    /// A MAC: HMAC-SHA256, its state keyed once.
    Mac(HmacSha256),
    /// Encrypted and authenticated: ChaCha20-Poly1305, boxed to keep its expanded key off the
    /// stack of whoever moves a sealer.
    Cipher(Box<ChaCha20Poly1305>),
}

impl Protection {
    fn cipher(key: &[u8; 32]) -> Protection {
        Protection::Cipher(Box::new(ChaCha20Poly1305::new(key.into())))
    }

    fn overhead(&self) -> usize {
        match self {
            Protection::Mac(_) => OVERHEAD,
            Protection::Cipher(_) => ENCRYPTED_OVERHEAD,
        }
    }
}

/// The nonce of the frame with sequence number `seq`: four zero bytes, then `seq`.
fn nonce(seq: &[u8; SEQ_LEN]) -> Nonce {
    let mut nonce = [0; 12];
    nonce[4..].copy_from_slice(seq);
    nonce.into()
}

/// Seals the frames of one direction of a session.
///
/// The key is absorbed into an HMAC state once, when the sealer is made; each frame clones that
/// state, so sealing neither re-keys nor allocates.
///
/// # Examples
///
/// ```
/// use actor_net::session::Sealer;
///
/// let mut sealer = Sealer::new(&[1; 32]);
/// let mut out = Vec::with_capacity(1024);
/// sealer.seal(b"hello", &mut out)?;
/// // Length prefix, sequence number 0, the body, then the 32-byte tag.
/// assert_eq!(&out[..17], b"\0\0\0\x2d\0\0\0\0\0\0\0\0hello");
/// assert_eq!(out.len(), 4 + 8 + 5 + 32);
/// # Ok::<(), actor_net::session::SessionError>(())
/// ```
// Not `Clone`: two sealers of one direction would send two frames with the same sequence number.
pub struct Sealer {
    protection: Protection,
    /// The sequence number of the next frame; `None` once `u64::MAX` has been used.
    next: Option<u64>,
    frames: FrameConfig,
}

impl Sealer {
    /// Makes a sealer whose frames are tagged under `key`, starting at sequence number 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::Sealer;
    ///
    /// let sealer = Sealer::new(&[0; 32]);
    /// assert_eq!(sealer.next_seq(), Some(0));
    /// ```
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Sealer {
        Sealer {
            protection: Protection::Mac(keyed_mac(key)),
            next: Some(0),
            frames: frame::session_frames(),
        }
    }

    /// Makes a sealer whose frames are encrypted and authenticated with ChaCha20-Poly1305
    /// under `key`, starting at sequence number 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::{Opener, Sealer};
    ///
    /// let mut out = Vec::new();
    /// Sealer::encrypted(&[4; 32]).seal(b"secret", &mut out)?;
    /// assert!(!out.windows(6).any(|w| w == b"secret"), "the body is not in clear");
    /// assert_eq!(Opener::encrypted(&[4; 32]).open(&out[4..])?, b"secret");
    /// # Ok::<(), actor_net::session::SessionError>(())
    /// ```
    #[must_use]
    pub fn encrypted(key: &[u8; 32]) -> Sealer {
        Sealer {
            protection: Protection::cipher(key),
            next: Some(0),
            frames: frame::session_frames(),
        }
    }

    /// Whether the frames are encrypted ([`Sealer::encrypted`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::Sealer;
    /// assert!(Sealer::encrypted(&[0; 32]).is_encrypted());
    /// assert!(!Sealer::new(&[0; 32]).is_encrypted());
    /// ```
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        matches!(self.protection, Protection::Cipher(_))
    }

    /// Sets the frame limits: [`seal`](Self::seal) refuses a frame whose payload (body plus
    /// [`OVERHEAD`], or [`ENCRYPTED_OVERHEAD`]) is longer than `frames.max_payload()`. Use the
    /// limit the peer reads with.
    ///
    /// By default, payloads up to [`frame::DEFAULT_MAX_PAYLOAD`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameConfig;
    /// use actor_net::session::{Sealer, OVERHEAD};
    ///
    /// let sealer = Sealer::new(&[0; 32]).with_frame_config(FrameConfig::new().with_max_payload(100));
    /// assert_eq!(sealer.max_body_len(), 100 - OVERHEAD);
    /// ```
    #[must_use]
    pub fn with_frame_config(mut self, frames: FrameConfig) -> Sealer {
        self.frames = frames;
        self
    }

    /// Returns the longest body that [`seal`](Self::seal) accepts.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{frame, session::{Sealer, OVERHEAD}};
    ///
    /// let sealer = Sealer::new(&[0; 32]);
    /// assert_eq!(sealer.max_body_len(), frame::DEFAULT_MAX_PAYLOAD as usize - OVERHEAD);
    /// ```
    #[must_use]
    pub fn max_body_len(&self) -> usize {
        usize::try_from(self.frames.max_payload())
            .unwrap_or(usize::MAX)
            .saturating_sub(self.protection.overhead())
    }

    /// Returns the sequence number the next frame will carry, or `None` if the sequence is used
    /// up.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::Sealer;
    ///
    /// let mut sealer = Sealer::new(&[0; 32]);
    /// sealer.seal(b"", &mut Vec::new())?;
    /// assert_eq!(sealer.next_seq(), Some(1));
    /// # Ok::<(), actor_net::session::SessionError>(())
    /// ```
    #[must_use]
    pub fn next_seq(&self) -> Option<u64> {
        self.next
    }

    /// Appends one complete frame (length prefix included) carrying `body` to `out`.
    ///
    /// Nothing is allocated when `out` has room for the frame. Nothing is appended, and the
    /// sequence number is not used, when an error is returned.
    ///
    /// # Errors
    ///
    /// - [`SessionError::TooLarge`] if the frame would exceed the frame limit (see
    ///   [`with_frame_config`](Self::with_frame_config)).
    /// - [`SessionError::SequenceExhausted`] once a frame has carried sequence number
    ///   `u64::MAX`; the session must then be replaced by a new handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::{Opener, Sealer};
    ///
    /// let mut sealer = Sealer::new(&[3; 32]);
    /// let mut out = Vec::new();
    /// sealer.seal(b"body", &mut out)?;
    /// // `out[4..]` is the payload a frame reader hands over.
    /// assert_eq!(Opener::new(&[3; 32]).open(&out[4..])?, b"body");
    /// # Ok::<(), actor_net::session::SessionError>(())
    /// ```
    pub fn seal(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<(), SessionError> {
        let seq = self.next.ok_or(SessionError::SequenceExhausted)?;
        let seq_bytes = seq.to_be_bytes();
        match &self.protection {
            Protection::Mac(mac) => {
                let tag = tag(mac, &seq_bytes, body);
                self.frames
                    .append_frame_parts(out, &[&seq_bytes, body, &tag])
                    .map_err(SessionError::TooLarge)?;
            }
            Protection::Cipher(cipher) => {
                let start = out.len();
                self.frames
                    .append_frame_parts(out, &[&seq_bytes, body, &[0; CIPHER_TAG_LEN]])
                    .map_err(SessionError::TooLarge)?;
                // Encrypted where it was appended: the length prefix and `seq` stay in clear.
                let body_at = start + 4 + SEQ_LEN;
                let (frame, tag_out) = out[body_at..].split_at_mut(body.len());
                match cipher.encrypt_in_place_detached(&nonce(&seq_bytes), &seq_bytes, frame) {
                    Ok(tag) => tag_out.copy_from_slice(&tag),
                    Err(_) => {
                        out.truncate(start);
                        return Err(SessionError::Cipher);
                    }
                }
            }
        }
        self.next = seq.checked_add(1);
        Ok(())
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The HMAC state is derived from the key; it is left out.
        f.debug_struct("Sealer")
            .field("next_seq", &self.next)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

/// Checks and opens the frames of one direction of a session.
///
/// # Examples
///
/// ```
/// use actor_net::session::{Opener, Sealer, SessionError};
///
/// let mut sealer = Sealer::new(&[5; 32]);
/// let mut opener = Opener::new(&[5; 32]);
/// let mut frame = Vec::new();
/// sealer.seal(b"once", &mut frame)?;
/// assert_eq!(opener.open(&frame[4..])?, b"once");
/// // The same frame again is a replay.
/// assert!(matches!(
///     opener.open(&frame[4..]),
///     Err(SessionError::BadSequence { expected: 1, got: 0 })
/// ));
/// # Ok::<(), SessionError>(())
/// ```
// Not `Clone`: a copy would accept again the frames the original has already opened.
pub struct Opener {
    protection: Protection,
    /// The sequence number the next frame must carry; `None` once `u64::MAX` has been opened.
    next: Option<u64>,
    /// Where an encrypted frame's body is decrypted.
    clear: Vec<u8>,
}

impl Opener {
    /// Makes an opener for frames tagged under `key`, expecting sequence number 0 first.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::Opener;
    ///
    /// assert_eq!(Opener::new(&[0; 32]).next_seq(), Some(0));
    /// ```
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Opener {
        Opener {
            protection: Protection::Mac(keyed_mac(key)),
            next: Some(0),
            clear: Vec::new(),
        }
    }

    /// Makes an opener for frames encrypted with ChaCha20-Poly1305 under `key`
    /// ([`Sealer::encrypted`]), expecting sequence number 0 first.
    ///
    /// # Examples
    ///
    /// See [`Sealer::encrypted`].
    #[must_use]
    pub fn encrypted(key: &[u8; 32]) -> Opener {
        Opener {
            protection: Protection::cipher(key),
            next: Some(0),
            clear: Vec::new(),
        }
    }

    /// Returns the sequence number the next frame must carry, or `None` if the sequence is used
    /// up.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::{Opener, Sealer};
    ///
    /// let (mut sealer, mut opener) = (Sealer::new(&[0; 32]), Opener::new(&[0; 32]));
    /// let mut frame = Vec::new();
    /// sealer.seal(b"", &mut frame)?;
    /// opener.open(&frame[4..])?;
    /// assert_eq!(opener.next_seq(), Some(1));
    /// # Ok::<(), actor_net::session::SessionError>(())
    /// ```
    #[must_use]
    pub fn next_seq(&self) -> Option<u64> {
        self.next
    }

    /// Checks a frame's payload (without its length prefix) and returns its body: a part of
    /// `payload`, or, for an encrypted frame, the opener's own buffer holding the decrypted
    /// body (kept for the next frame, unless a large frame made it grow).
    ///
    /// The tag is checked first, in constant time, and the sequence number after it, so a
    /// [`SessionError::BadSequence`] always concerns a frame the peer really sealed (a replay or
    /// a reordering), while anything forged or altered is a [`SessionError::BadTag`]. A refused
    /// frame does not advance the sequence; the caller should close the connection.
    ///
    /// # Errors
    ///
    /// - [`SessionError::Truncated`] if the payload is shorter than [`OVERHEAD`] (or
    ///   [`ENCRYPTED_OVERHEAD`]).
    /// - [`SessionError::BadTag`] if the tag does not match (altered frame, other key).
    /// - [`SessionError::BadSequence`] if the sequence number is not the next one expected.
    /// - [`SessionError::SequenceExhausted`] after a frame with sequence number `u64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::session::{Opener, Sealer, SessionError};
    ///
    /// let mut frame = Vec::new();
    /// Sealer::new(&[1; 32]).seal(b"hi", &mut frame)?;
    /// let mut opener = Opener::new(&[1; 32]);
    ///
    /// let mut altered = frame.clone();
    /// altered[12] ^= 1;
    /// assert!(matches!(opener.open(&altered[4..]), Err(SessionError::BadTag)));
    /// assert!(matches!(opener.open(&frame[4..20]), Err(SessionError::Truncated { len: 16, .. })));
    /// assert_eq!(opener.open(&frame[4..])?, b"hi");
    /// # Ok::<(), SessionError>(())
    /// ```
    pub fn open<'a>(&'a mut self, payload: &'a [u8]) -> Result<&'a [u8], SessionError> {
        let min = self.protection.overhead();
        if payload.len() < min {
            return Err(SessionError::Truncated {
                len: payload.len(),
                min,
            });
        }
        let (seq_bytes, rest) = payload.split_at(SEQ_LEN);
        let mut seq = [0; SEQ_LEN];
        seq.copy_from_slice(seq_bytes);
        let body = match &self.protection {
            Protection::Mac(keyed) => {
                let (body, received_tag) = rest.split_at(rest.len() - TAG_LEN);
                let mut mac = keyed.clone();
                mac.update(&seq);
                mac.update(body);
                mac.verify_slice(received_tag)
                    .map_err(|_| SessionError::BadTag)?;
                body
            }
            Protection::Cipher(cipher) => {
                let (sealed, received_tag) = rest.split_at(rest.len() - CIPHER_TAG_LEN);
                if self.clear.capacity() > RETAINED && sealed.len() <= RETAINED {
                    self.clear = Vec::new();
                }
                self.clear.clear();
                self.clear.extend_from_slice(sealed);
                cipher
                    .decrypt_in_place_detached(
                        &nonce(&seq),
                        &seq,
                        &mut self.clear,
                        Tag::from_slice(received_tag),
                    )
                    .map_err(|_| SessionError::BadTag)?;
                &self.clear
            }
        };
        let got = u64::from_be_bytes(seq);
        let expected = self.next.ok_or(SessionError::SequenceExhausted)?;
        if got != expected {
            return Err(SessionError::BadSequence { expected, got });
        }
        self.next = expected.checked_add(1);
        Ok(body)
    }
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The HMAC state is derived from the key; it is left out.
        f.debug_struct("Opener")
            .field("next_seq", &self.next)
            .finish_non_exhaustive()
    }
}

/// Computes `HMAC(key, seq | body)` from a state already keyed with `key`.
fn tag(keyed: &HmacSha256, seq: &[u8; SEQ_LEN], body: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = keyed.clone();
    mac.update(seq);
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Why a session frame was refused or could not be sealed.
///
/// Any error from [`Opener::open`] means the connection can no longer be trusted: close it.
///
/// # Examples
///
/// ```
/// use actor_net::session::{Opener, SessionError};
///
/// let err = Opener::new(&[0; 32]).open(&[0; 39]).unwrap_err();
/// assert!(matches!(err, SessionError::Truncated { len: 39, min: 40 }));
/// assert_eq!(err.to_string(), "session frame of 39 bytes is shorter than the 40 bytes of seq and tag");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The payload is too short to hold a sequence number and a tag.
    #[error("session frame of {len} bytes is shorter than the {min} bytes of seq and tag")]
    Truncated {
        /// The payload's length.
        len: usize,
        /// The shortest payload: [`OVERHEAD`], or [`ENCRYPTED_OVERHEAD`] in an encrypted
        /// session.
        min: usize,
    },
    /// The frame is authentic but out of order: replayed, reordered, or after a lost frame.
    #[error("session frame has sequence number {got}, expected {expected}")]
    BadSequence {
        /// The sequence number the frame should have carried.
        expected: u64,
        /// The sequence number it carried.
        got: u64,
    },
    /// The tag does not match: the frame was altered, or sealed under another key.
    #[error("session frame failed authentication")]
    BadTag,
    /// Every sequence number of this direction has been used; a new handshake is needed.
    #[error("session sequence numbers are used up")]
    SequenceExhausted,
    /// The frame to seal exceeds the frame limit.
    #[error("session frame too large: {0}")]
    TooLarge(#[source] FrameError),
    /// The cipher refused to encrypt the body (it cannot for a body of a valid frame's size).
    #[error("the session cipher refused to encrypt a frame")]
    Cipher,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_stops_after_the_last_sequence_number() {
        let mut sealer = Sealer::new(&[9; 32]);
        let mut opener = Opener::new(&[9; 32]);
        sealer.next = Some(u64::MAX - 1);
        opener.next = Some(u64::MAX - 1);
        let mut out = Vec::new();
        sealer.seal(b"a", &mut out).unwrap();
        sealer.seal(b"b", &mut out).unwrap();
        let before = out.len();
        assert!(matches!(
            sealer.seal(b"c", &mut out),
            Err(SessionError::SequenceExhausted)
        ));
        assert_eq!(out.len(), before);

        let frame_len = 4 + OVERHEAD + 1;
        assert_eq!(opener.open(&out[4..frame_len]).unwrap(), b"a");
        assert_eq!(opener.open(&out[frame_len + 4..]).unwrap(), b"b");
        assert_eq!(opener.next_seq(), None);
        // A frame after u64::MAX cannot be valid, whatever it carries.
        assert!(matches!(
            opener.open(&out[frame_len + 4..]),
            Err(SessionError::SequenceExhausted)
        ));
    }

    #[test]
    fn too_large_frame_uses_no_sequence_number() {
        let mut sealer =
            Sealer::new(&[1; 32]).with_frame_config(FrameConfig::new().with_max_payload(45));
        let mut out = Vec::new();
        assert!(matches!(
            sealer.seal(&[0; 6], &mut out),
            Err(SessionError::TooLarge(FrameError::TooLarge {
                len: 46,
                max: 45
            }))
        ));
        assert!(out.is_empty());
        assert_eq!(sealer.next_seq(), Some(0));
        sealer.seal(&[0; 5], &mut out).unwrap();
        assert_eq!(sealer.next_seq(), Some(1));
    }

    #[test]
    fn debug_omits_key_material() {
        let shown = format!(
            "{:?} {:?}",
            Sealer::new(&[0xab; 32]),
            Opener::new(&[0xab; 32])
        );
        assert!(!shown.to_lowercase().contains("ab, ab"), "{shown}");
        assert!(shown.contains("next_seq: Some(0)"), "{shown}");
    }
}
