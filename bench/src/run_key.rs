//! [`RunKey`]: the throwaway key of one remote measurement (W4, W5, W7, W9), drawn at random
//! by the measuring process and handed to the serving process through its environment.
//!
//! The key authenticates the framework's connections (as an `actor_net::Secret`; W9's
//! flooder holds it too) and the frames of the raw HMAC baseline. It lives for one run and is never printed.

use actor_net::Secret;

use crate::error::{BenchError, BenchResult};

/// The environment variable that carries the key to the serving process, as hex digits.
pub(crate) const VAR: &str = "ACTOR_BENCH_KEY";

/// Key length in bytes: a full HMAC-SHA256 block of entropy is more than enough.
const LEN: usize = 32;

/// 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RunKey([u8; LEN]);

impl RunKey {
    /// A fresh key from the operating system's random source.
    pub(crate) fn random() -> BenchResult<RunKey> {
        let mut bytes = [0; LEN];
        // Without getrandom's `std` feature its error is no `std::error::Error`.
        getrandom::fill(&mut bytes)
            .map_err(|error| std::io::Error::other(format!("no random key: {error}")))?;
        Ok(RunKey(bytes))
    }

    /// The key the measuring process put in [`VAR`].
    pub(crate) fn from_env() -> BenchResult<RunKey> {
        let hex = std::env::var(VAR).map_err(|_| BenchError::peer(format!("has no {VAR}")))?;
        RunKey::from_hex(&hex).ok_or_else(|| BenchError::peer(format!("has a malformed {VAR}")))
    }

    /// The value of [`VAR`] for the serving process: 64 lowercase hex digits.
    pub(crate) fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(2 * LEN);
        for byte in self.0 {
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
        }
        hex
    }

    fn from_hex(hex: &str) -> Option<RunKey> {
        let digits = hex.as_bytes();
        if digits.len() != 2 * LEN {
            return None;
        }
        let mut bytes = [0; LEN];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            // Two hex digits fit a byte.
            *byte = (high * 16 + low) as u8;
        }
        Some(RunKey(bytes))
    }

    /// The key's bytes, for the raw baseline's session sealer and opener.
    pub(crate) fn bytes(&self) -> &[u8; LEN] {
        &self.0
    }

    /// The key as the framework's node secret.
    pub(crate) fn secret(&self) -> BenchResult<Secret> {
        Ok(Secret::new(self.0.to_vec())?)
    }
}

impl std::fmt::Debug for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key is never printed, not even in a debug dump.
        f.write_str("RunKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let key = RunKey::random().unwrap();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(RunKey::from_hex(&hex), Some(key));
    }

    #[test]
    fn malformed_hex_is_refused() {
        assert_eq!(RunKey::from_hex(""), None);
        assert_eq!(RunKey::from_hex(&"0".repeat(63)), None);
        assert_eq!(RunKey::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn the_key_stays_out_of_debug_output() {
        assert_eq!(format!("{:?}", RunKey([0xab; LEN])), "RunKey(..)");
    }
}
