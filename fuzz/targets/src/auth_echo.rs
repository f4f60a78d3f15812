//! The authenticated echo's first read: the digest that answers the challenge.

use actor_net::fuzzing::auth_echo::{CHALLENGE_LEN, Phase, Step};

use crate::input::Input;
use crate::vectors;

/// The challenge the server sent: the bytes 0 to 31.
const CHALLENGE: [u8; CHALLENGE_LEN] = {
    let mut bytes = [0; CHALLENGE_LEN];
    let mut i = 0;
    while i < CHALLENGE_LEN {
        bytes[i] = i as u8;
        i += 1;
    }
    bytes
};

/// Feeds the authenticated echo's state machine what a client sends after the challenge, in
/// reads of a size the input picks, and checks every step against the recipe.
///
/// Layout: one byte of mode: bit 0 puts the right digest (`HMAC-SHA256(key, challenge)`) in
/// front of the rest, bit 2 then flips one of its bytes (the next byte says which), and bit 1
/// lets a read take more than the digest's missing bytes (the listener never reads more, but
/// the state machine allows it); one byte of read size (1 to 255, 0 for everything at once);
/// the rest is what the client sends.
///
/// Checks: the machine asks for more until 32 bytes have arrived, and counts them down; then
/// it starts echoing exactly when they are the right digest (echoing any bytes of the same read
/// after it), and closes otherwise, for good.
///
/// # Examples
///
/// ```
/// // The right digest, then "hello", in reads of 7 bytes.
/// actor_fuzz_targets::auth_echo(b"\x01\x07hello");
/// ```
pub fn auth_echo(data: &[u8]) {
    let key = vectors::key();
    let right = vectors::hmac(vectors::KEY, &[&CHALLENGE]);
    let mut input = Input::new(data);
    let mode = input.byte();
    let step = match input.byte() {
        0 => usize::MAX,
        n => usize::from(n),
    };
    let mut stream = Vec::new();
    if mode & 1 == 1 {
        let mut digest = right;
        if mode & 4 == 4 {
            let at = input.byte();
            digest[usize::from(at) % CHALLENGE_LEN] ^= at | 1;
        }
        stream.extend_from_slice(&digest);
    }
    stream.extend_from_slice(input.rest());
    let bounded = mode & 2 == 0;
    let authentic = stream.get(..CHALLENGE_LEN) == Some(&right[..]);

    let mut phase = Phase::challenged(CHALLENGE);
    let mut at = 0;
    while at < stream.len() {
        let missing = phase.missing();
        assert_eq!(
            missing,
            CHALLENGE_LEN.saturating_sub(at),
            "missing bytes miscounted"
        );
        let wanted = if bounded && missing > 0 {
            missing
        } else {
            usize::MAX
        };
        let read = &stream[at..stream.len().min(at.saturating_add(step.min(wanted)))];
        let before = at;
        at += read.len();
        let outcome = phase.step(&key, read);
        if before >= CHALLENGE_LEN {
            // Past the digest: echoing every read whole, or closed for good.
            let expected = if authentic {
                Step::Echo(read)
            } else {
                Step::Close
            };
            assert_eq!(outcome, expected, "after the digest");
        } else if at < CHALLENGE_LEN {
            assert_eq!(outcome, Step::Read, "the digest is not complete");
            assert!(matches!(phase, Phase::Challenged { .. }));
        } else if !authentic {
            assert_eq!(outcome, Step::Close, "a wrong digest was accepted");
            assert!(matches!(phase, Phase::Refused));
        } else {
            let rest = &read[CHALLENGE_LEN - before..];
            let expected = if rest.is_empty() {
                Step::Read
            } else {
                Step::Echo(rest)
            };
            assert_eq!(outcome, expected, "the right digest was refused");
            assert!(matches!(phase, Phase::Echoing));
        }
    }
    if stream.len() >= CHALLENGE_LEN {
        assert_eq!(phase.missing(), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned against Python's `hmac` module: `hmac.new(b"actor test key 0123456789",
    /// bytes(range(32)), "sha256")`.
    #[test]
    fn the_right_digest_is_hmac_sha256_of_the_challenge() {
        let digest = vectors::hmac(vectors::KEY, &[&CHALLENGE]);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "2613e7181b5ccaa8bb5c96aeb38bde3a5638140f675db324980e22c407baa8f9"
        );
    }
}
