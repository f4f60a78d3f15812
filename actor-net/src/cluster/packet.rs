//! The membership datagram: a membership payload wrapped with the sender's id, a sequence
//! number and an HMAC-SHA256 tag under a key derived from the shared key
//! (PROTOCOL.md, "Membership datagrams"), and [`ReplayGuard`], which refuses a datagram seen
//! before.
//!
//! ```text
//! +--------+---------+-----------+---------+---------+----------+
//! | "ACTM" | version | sender id | seq     | payload | tag      |
//! | 4      | 1 (= 1) | u64       | u64     | ...     | 32 bytes |
//! +--------+---------+-----------+---------+---------+----------+
//! tag = HMAC-SHA256(k_m, every byte before the tag)
//! k_m = HMAC-SHA256(K, "actor/2 membership key")
//! ```

use std::collections::HashMap;
use std::time::Instant;

use hmac::Mac;
use zeroize::Zeroize;

use super::identity::NodeId;
use crate::secret::{HmacSha256, Secret, keyed_mac};

/// The first bytes of every membership datagram.
pub const MAGIC: [u8; 4] = *b"ACTM";
/// The first bytes of a NAMES datagram, the registry's (`names.rs`); the rest of its layout
/// is a membership datagram's.
pub const NAMES_MAGIC: [u8; 4] = *b"ACTN";
/// The version of the datagram layout.
pub const VERSION: u8 = 1;
/// Bytes before the payload: magic, version, sender id, sequence number.
pub const HEADER_LEN: usize = 4 + 1 + 8 + 8;
/// Bytes of the tag after the payload.
pub const TAG_LEN: usize = 32;
/// The label of the membership key's derivation.
const KEY_LABEL: &[u8] = b"actor/2 membership key";
/// How far behind the newest sequence number of a sender a datagram may be and still be
/// accepted (once): datagrams may arrive out of order.
pub const REPLAY_WINDOW: u64 = 64;
/// The most senders whose sequence numbers are remembered.
pub const MAX_SENDERS: usize = 4096;

/// Why a datagram is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Shorter than a header and a tag, or without the magic.
    #[error("not a membership datagram")]
    NotOurs,
    /// A layout version other than 1.
    #[error("membership datagram version {0} is not 1")]
    Version(u8),
    /// The tag is not the HMAC of the datagram under the membership key.
    #[error("the membership datagram's tag does not verify")]
    Tag,
    /// The sender's sequence number was accepted before, or is too far behind.
    #[error("the membership datagram was received before, or is too old")]
    Replayed,
}

/// A datagram whose tag verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'a> {
    /// [`MAGIC`] or [`NAMES_MAGIC`].
    pub magic: [u8; 4],
    /// The sender's node id.
    pub sender: NodeId,
    /// The sender's sequence number.
    pub seq: u64,
    /// What the datagram carries.
    pub payload: &'a [u8],
}

/// Seals and opens membership datagrams under the key derived from the shared key.
#[derive(Clone)]
pub struct PacketKey {
    mac: HmacSha256,
}

impl std::fmt::Debug for PacketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PacketKey(..)")
    }
}

impl PacketKey {
    /// Derives the membership key from the shared key.
    #[must_use]
    pub fn derive(secret: &Secret) -> PacketKey {
        let mut mac = keyed_mac(secret.expose());
        mac.update(KEY_LABEL);
        let mut key: [u8; 32] = mac.finalize().into_bytes().into();
        let derived = PacketKey {
            mac: keyed_mac(&key),
        };
        key.zeroize();
        derived
    }

    /// Appends the datagram carrying `payload` to `out`.
    pub fn seal(&self, sender: NodeId, seq: u64, payload: &[u8], out: &mut Vec<u8>) {
        self.seal_as(MAGIC, sender, seq, payload, out);
    }

    /// Appends the datagram carrying `payload` to `out`, with `magic` first.
    pub fn seal_as(
        &self,
        magic: [u8; 4],
        sender: NodeId,
        seq: u64,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) {
        let start = out.len();
        out.extend_from_slice(&magic);
        out.push(VERSION);
        out.extend_from_slice(&sender.as_u64().to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(payload);
        let mut mac = self.mac.clone();
        mac.update(&out[start..]);
        out.extend_from_slice(&mac.finalize().into_bytes());
    }

    /// Checks a membership datagram's layout and tag; returns its sender, sequence number and
    /// payload.
    ///
    /// # Errors
    ///
    /// [`PacketError::NotOurs`] (a NAMES datagram included), [`PacketError::Version`] or
    /// [`PacketError::Tag`], checked in that order.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub fn open<'a>(&self, datagram: &'a [u8]) -> Result<(NodeId, u64, &'a [u8]), PacketError> {
        match self.open_any(datagram)? {
            Opened {
                magic: MAGIC,
                sender,
                seq,
                payload,
            } => Ok((sender, seq, payload)),
            _ => Err(PacketError::NotOurs),
        }
    }

    /// Checks a membership or NAMES datagram's layout and tag; returns its magic, sender,
    /// sequence number and payload.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_any<'a>(&self, datagram: &'a [u8]) -> Result<Opened<'a>, PacketError> {
        let magic = match datagram.first_chunk::<4>() {
            Some(magic) if *magic == MAGIC || *magic == NAMES_MAGIC => *magic,
            _ => return Err(PacketError::NotOurs),
        };
        if datagram.len() < HEADER_LEN + TAG_LEN {
            return Err(PacketError::NotOurs);
        }
        if datagram[4] != VERSION {
            return Err(PacketError::Version(datagram[4]));
        }
        let (signed, tag) = datagram.split_at(datagram.len() - TAG_LEN);
        let mut mac = self.mac.clone();
        mac.update(signed);
        mac.verify_slice(tag).map_err(|_| PacketError::Tag)?;
        let mut sender = [0; 8];
        sender.copy_from_slice(&signed[5..13]);
        let mut seq = [0; 8];
        seq.copy_from_slice(&signed[13..21]);
        Ok(Opened {
            magic,
            sender: NodeId::from_u64(u64::from_be_bytes(sender)),
            seq: u64::from_be_bytes(seq),
            payload: &signed[HEADER_LEN..],
        })
    }
}

/// The sequence numbers each sender has used lately: a datagram is accepted once, and only
/// within [`REPLAY_WINDOW`] of its sender's newest.
///
/// Only datagrams whose tag verifies reach it, so only holders of the key add senders; even
/// so, it remembers at most [`MAX_SENDERS`], forgetting the one heard from least recently.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    senders: HashMap<NodeId, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    /// The newest sequence number accepted.
    newest: u64,
    /// Bit `i` set: `newest - i` was accepted.
    seen: u64,
    heard: Instant,
}

impl ReplayGuard {
    /// Accepts `seq` from `sender` if it was not seen before and is recent enough.
    ///
    /// # Errors
    ///
    /// [`PacketError::Replayed`] if it was, or is [`REPLAY_WINDOW`] or more behind the
    /// newest number accepted from `sender`.
    pub fn accept(&mut self, sender: NodeId, seq: u64, now: Instant) -> Result<(), PacketError> {
        if let Some(window) = self.senders.get_mut(&sender) {
            if seq > window.newest {
                let shift = seq - window.newest;
                window.seen = if shift >= REPLAY_WINDOW {
                    1
                } else {
                    (window.seen << shift) | 1
                };
                window.newest = seq;
            } else {
                let behind = window.newest - seq;
                if behind >= REPLAY_WINDOW || window.seen & (1 << behind) != 0 {
                    return Err(PacketError::Replayed);
                }
                window.seen |= 1 << behind;
            }
            window.heard = now;
            return Ok(());
        }
        if self.senders.len() >= MAX_SENDERS
            && let Some(oldest) = self
                .senders
                .iter()
                .min_by_key(|(_, window)| window.heard)
                .map(|(id, _)| *id)
        {
            self.senders.remove(&oldest);
        }
        self.senders.insert(
            sender,
            Window {
                newest: seq,
                seen: 1,
                heard: now,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(bytes: &[u8]) -> PacketKey {
        PacketKey::derive(&Secret::new(bytes.to_vec()).unwrap())
    }

    const KEY: &[u8] = b"membership packet tests: 0123456789 abcdef";

    #[test]
    fn a_sealed_datagram_opens_and_any_flipped_bit_is_refused() {
        let key = key(KEY);
        let mut datagram = Vec::new();
        key.seal(NodeId::from_u64(7), 42, b"payload", &mut datagram);
        assert_eq!(datagram.len(), HEADER_LEN + 7 + TAG_LEN);
        assert_eq!(
            key.open_any(&datagram),
            Ok(Opened {
                magic: MAGIC,
                sender: NodeId::from_u64(7),
                seq: 42,
                payload: &b"payload"[..]
            })
        );
        for byte in 0..datagram.len() {
            let mut flipped = datagram.clone();
            flipped[byte] ^= 1;
            assert!(key.open_any(&flipped).is_err(), "byte {byte}");
        }
        let other = self::key(b"another membership key: 0123456789 abcdef");
        assert_eq!(other.open_any(&datagram), Err(PacketError::Tag));
        assert_eq!(key.open_any(&datagram[..20]), Err(PacketError::NotOurs));
    }

    #[test]
    fn each_sequence_number_is_accepted_once_within_the_window() {
        let mut guard = ReplayGuard::default();
        let now = Instant::now();
        let a = NodeId::from_u64(1);
        assert_eq!(guard.accept(a, 100, now), Ok(()));
        assert_eq!(guard.accept(a, 100, now), Err(PacketError::Replayed));
        assert_eq!(guard.accept(a, 98, now), Ok(()));
        assert_eq!(guard.accept(a, 98, now), Err(PacketError::Replayed));
        assert_eq!(guard.accept(a, 101, now), Ok(()));
        assert_eq!(guard.accept(a, 100 + REPLAY_WINDOW, now), Ok(()));
        assert_eq!(guard.accept(a, 100, now), Err(PacketError::Replayed));
        assert_eq!(guard.accept(a, 99 + REPLAY_WINDOW, now), Ok(()));
        // Another sender has its own numbers.
        assert_eq!(guard.accept(NodeId::from_u64(2), 100, now), Ok(()));
    }

    #[test]
    fn the_sender_heard_from_least_recently_is_forgotten_first() {
        let mut guard = ReplayGuard::default();
        let start = Instant::now();
        for n in 0..MAX_SENDERS as u64 {
            let at = start + std::time::Duration::from_millis(n);
            guard.accept(NodeId::from_u64(n), 1, at).unwrap();
        }
        let later = start + std::time::Duration::from_secs(3600);
        guard.accept(NodeId::from_u64(u64::MAX), 1, later).unwrap();
        assert_eq!(guard.senders.len(), MAX_SENDERS);
        assert!(!guard.senders.contains_key(&NodeId::from_u64(0)));
        assert_eq!(
            guard.accept(NodeId::from_u64(1), 1, later),
            Err(PacketError::Replayed)
        );
    }
}
