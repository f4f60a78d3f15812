//! Refusing keys that are obviously weak: [`KeyCheck`] and [`Weakness`].
//!
//! One handshake, observed or provoked, gives anyone a MAC under the key, against which
//! guesses can be tested offline, as fast as HMAC-SHA256 runs. Only a random key survives
//! that; these checks catch the keys that are plainly not random. They are heuristics: a key
//! that passes is not thereby strong, but the two kinds refused are never what a random
//! source gives.
//!
//! | Check | Catches | A random key fails it |
//! |-------|---------|-----------------------|
//! | at least 8 distinct byte values | `aaaaaaaaaaaaaaaa`, a word repeated, a file of zeros | 16 random bytes: about 1 in 10^12; 32 hex digits: about 1 in 3 × 10^7 |
//! | printable text: at least 32 characters | passwords and passphrases (`passwordpassword`) | never: it depends on the length alone |
//!
//! The first threshold is not 16, although 16 would also pass any 32 random bytes: a key of
//! 16 random bytes repeats a byte value about 4 times in 10, and a key of 64 hex digits (a
//! common way to write 32 random bytes) lacks one of the 16 digits about 1 time in 4, so a
//! threshold of 16 would refuse good keys at random.

use std::fmt;

use zeroize::Zeroize;

/// The fewest distinct byte values a key may hold, unless weak keys are allowed.
pub(super) const MIN_DISTINCT_BYTES: usize = 8;

/// The shortest key made only of printable text that is accepted, unless weak keys are
/// allowed.
pub(super) const MIN_PRINTABLE_LEN: usize = 32;

/// Whether a [`Secret`](super::Secret) refuses a key that is obviously weak.
///
/// By default ([`KeyCheck::Strong`]), it does: see [`Weakness`] for what is refused and why.
///
/// # Examples
///
/// ```
/// use actor_net::{KeyCheck, Secret, SecretError};
///
/// let password = b"passwordpassword".to_vec();
/// assert!(matches!(Secret::new(password.clone()), Err(SecretError::Weak(_))));
/// // Accepted only when asked for explicitly, for fixed test keys such as PROTOCOL.md's.
/// assert!(Secret::with_check(password, KeyCheck::AllowWeak).is_ok());
/// assert_eq!(KeyCheck::default(), KeyCheck::Strong);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyCheck {
    /// Refuse a key with a [`Weakness`]. The default.
    #[default]
    Strong,
    /// Accept any key of at least [`Secret::MIN_LEN`](super::Secret::MIN_LEN) bytes. For
    /// fixed test keys, and for a deployment that must keep a weak key for a while; a weak
    /// key can be found by anyone who sees one handshake.
    AllowWeak,
}

/// Why a key was refused as obviously weak (see [`KeyCheck`]).
///
/// Each is a sign that the key was chosen by a person or made by mistake, not drawn from a
/// random source: since one handshake lets anyone test guesses offline, such a key is found
/// quickly. [`Secret::generate`](super::Secret::generate), or `actor-node keygen FILE`,
/// makes a key without either.
///
/// # Examples
///
/// ```
/// use actor_net::{Secret, SecretError, Weakness};
///
/// let Err(SecretError::Weak(weakness)) = Secret::new(vec![b'a'; 16]) else {
///     panic!("a key of one repeated byte is weak");
/// };
/// assert_eq!(weakness, Weakness::FewDistinctBytes { distinct: 1 });
/// assert!(weakness.to_string().contains("only 1 distinct byte value"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Weakness {
    /// The key holds fewer than [`Secret::MIN_DISTINCT_BYTES`](super::Secret::MIN_DISTINCT_BYTES)
    /// distinct byte values, like `aaaaaaaaaaaaaaaa` or a word repeated.
    FewDistinctBytes {
        /// How many distinct byte values it holds.
        distinct: usize,
    },
    /// The key is made only of printable ASCII (letters, digits, punctuation, spaces, tabs and
    /// line breaks) and is shorter than
    /// [`Secret::MIN_PRINTABLE_LEN`](super::Secret::MIN_PRINTABLE_LEN) characters, like a
    /// password or a passphrase.
    ShortPrintable {
        /// The length of the key, in characters.
        len: usize,
    },
}

impl fmt::Display for Weakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Weakness::FewDistinctBytes { distinct } => write!(
                f,
                "it holds only {distinct} distinct byte value{}; a key needs at least \
                 {MIN_DISTINCT_BYTES}",
                if distinct == 1 { "" } else { "s" }
            ),
            Weakness::ShortPrintable { len } => write!(
                f,
                "it is text of {len} characters, like a password; a text key needs at least \
                 {MIN_PRINTABLE_LEN}"
            ),
        }
    }
}

/// The first weakness of `key`, if it has one.
pub(super) fn weakness(key: &[u8]) -> Option<Weakness> {
    let distinct = distinct_bytes(key);
    if distinct < MIN_DISTINCT_BYTES {
        return Some(Weakness::FewDistinctBytes { distinct });
    }
    if key.len() < MIN_PRINTABLE_LEN && key.iter().all(|&b| is_printable(b)) {
        return Some(Weakness::ShortPrintable { len: key.len() });
    }
    None
}

/// How many distinct byte values `key` holds.
fn distinct_bytes(key: &[u8]) -> usize {
    let mut seen = [0u8; 256];
    for &byte in key {
        seen[usize::from(byte)] = 1;
    }
    let distinct = seen.iter().filter(|&&s| s == 1).count();
    // Which values occur says something about the key: not left on the stack.
    seen.zeroize();
    distinct
}

/// Whether `byte` is a character a person types: printable ASCII or ASCII whitespace.
fn is_printable(byte: u8) -> bool {
    byte.is_ascii_graphic() || byte.is_ascii_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` distinct byte values, none printable, repeated to `len` bytes.
    fn binary(n: u8, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| 0x80 + (i % usize::from(n)) as u8)
            .collect()
    }

    #[test]
    fn the_keys_of_the_finding_are_weak() {
        assert_eq!(
            weakness(b"aaaaaaaaaaaaaaaa"),
            Some(Weakness::FewDistinctBytes { distinct: 1 })
        );
        assert_eq!(
            weakness(b"passwordpassword"),
            Some(Weakness::FewDistinctBytes { distinct: 7 })
        );
        assert_eq!(
            weakness(&[0; 32]),
            Some(Weakness::FewDistinctBytes { distinct: 1 })
        );
    }

    #[test]
    fn distinct_byte_values_boundary() {
        assert_eq!(
            weakness(&binary(7, 64)),
            Some(Weakness::FewDistinctBytes { distinct: 7 })
        );
        assert_eq!(weakness(&binary(8, 64)), None);
        assert_eq!(weakness(&binary(8, 16)), None);
        // Printable and long enough, but a word repeated.
        assert_eq!(
            weakness(b"passwordpasswordpasswordpassword"),
            Some(Weakness::FewDistinctBytes { distinct: 7 })
        );
    }

    #[test]
    fn printable_length_boundary() {
        let text = b"abcdefghijklmnopqrstuvwxyz 0123456789";
        assert_eq!(
            weakness(&text[..31]),
            Some(Weakness::ShortPrintable { len: 31 })
        );
        assert_eq!(weakness(&text[..32]), None);
        assert_eq!(
            weakness(b"0123456789abcdef"),
            Some(Weakness::ShortPrintable { len: 16 })
        );
        // Whitespace is text too.
        assert_eq!(
            weakness(b"correct horse\tbattery\r\nstaple"),
            Some(Weakness::ShortPrintable { len: 29 })
        );
    }

    #[test]
    fn one_byte_that_is_not_text_makes_a_short_key_binary() {
        let mut key = b"abcdefghijklmnopqrstuvwxyz 0123".to_vec();
        assert_eq!(key.len(), 31);
        assert!(weakness(&key).is_some());
        key[30] = 0x7f;
        assert_eq!(weakness(&key), None);
        key[30] = 0xc3;
        assert_eq!(weakness(&key), None);
    }

    #[test]
    fn random_looking_keys_of_the_usual_encodings_pass() {
        // 16 bytes with a repeated value: a random 16-byte key often has one.
        let mut bytes: Vec<u8> = (0xa0..0xb0).collect();
        bytes[15] = bytes[0];
        assert_eq!(weakness(&bytes), None);
        // 32 hex digits, with 5 of the 16 digits missing.
        assert_eq!(weakness(b"0123456789a0123456789a0123456789"), None);
        // 44 characters of base64.
        assert_eq!(
            weakness(b"q3Vx8Kf0Zc1mP9sLr2T7yWbN4eHjA5uGdOiE6oSaB0Q="),
            None
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        assert_eq!(
            Weakness::FewDistinctBytes { distinct: 7 }.to_string(),
            "it holds only 7 distinct byte values; a key needs at least 8"
        );
        assert_eq!(
            Weakness::ShortPrintable { len: 16 }.to_string(),
            "it is text of 16 characters, like a password; a text key needs at least 32"
        );
    }
}
