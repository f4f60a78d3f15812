//! The authenticated echo, exactly as the classic recipe does it, with no framing:
//!
//! ```text
//! client                                           server
//!                          <-  32 random bytes (the challenge)
//!   HMAC-SHA256(key, challenge), 32 bytes  ->
//!                              the digest is checked in constant time:
//!                              wrong: the server closes the connection
//!                              right: from now on every byte is echoed
//!   bytes  ->                  <-  the same bytes
//!   (closes its side)          <-  (closes its side)
//! ```
//!
//! The recipe authenticates the client once and leaves the rest of the stream unprotected;
//! it is here for clients written against it. Nodes use the mutual handshake of
//! [`handshake`](crate::handshake) and authenticate every frame.
//!
//! The protocol is the pure state machine [`Phase`], tested without sockets;
//! [`TcpService`](super::service::TcpService) runs it over a connection. The client's half is
//! [`answer_challenge`].

use std::io::{self, Read, Write};

use hmac::Mac;

use crate::secret::{HmacSha256, Secret, keyed_mac};

/// The length of the challenge, and of the digest that answers it.
pub const CHALLENGE_LEN: usize = 32;

/// HMAC-SHA256 under the key, fed with `challenge`: finalized, it is the digest that
/// answers the challenge.
pub(crate) fn challenge_mac(key: &Secret, challenge: &[u8; CHALLENGE_LEN]) -> HmacSha256 {
    keyed_mac(key.expose()).chain_update(challenge)
}

/// The client's half of the authenticated echo: reads the server's challenge from `stream`
/// and sends back its HMAC-SHA256 under `key`. From then on the server echoes what the
/// client sends, if the key was right; if it was wrong, the server closes the connection
/// without a word, so the client's next read ends the stream (returns 0, or fails with a
/// reset).
///
/// # Errors
///
/// When reading the challenge or writing the answer fails; a server that closes before
/// sending the whole challenge is an error of kind [`UnexpectedEof`](io::ErrorKind::UnexpectedEof).
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpStream;
/// use actor_core::System;
/// use actor_net::Secret;
/// use actor_net::services::{self, Protocol, ServiceSet};
///
/// let key = Secret::generate()?;
/// let system = System::new();
/// let services = ServiceSet::builder()
///     .listen(Protocol::AuthEcho, "127.0.0.1:0")
///     .secret(key.clone())
///     .build(&system)?;
/// let addr = services.local_addr(Protocol::AuthEcho).ok_or("no auth-echo listener")?;
///
/// let mut stream = TcpStream::connect(addr)?;
/// services::answer_challenge(&mut stream, &key)?;
/// stream.write_all(b"hello")?;
/// let mut echoed = [0; 5];
/// stream.read_exact(&mut echoed)?;
/// assert_eq!(&echoed, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn answer_challenge<S: Read + Write>(stream: &mut S, key: &Secret) -> io::Result<()> {
    let mut challenge = [0; CHALLENGE_LEN];
    stream.read_exact(&mut challenge)?;
    let digest = challenge_mac(key, &challenge).finalize().into_bytes();
    stream.write_all(&digest)?;
    stream.flush()
}

/// Where a connection is in the protocol.
#[derive(Debug)]
pub enum Phase {
    /// The challenge was sent; `received` bytes of the digest have arrived in `answer`.
    Challenged {
        /// The challenge sent.
        challenge: [u8; CHALLENGE_LEN],
        /// The digest's bytes so far.
        answer: [u8; CHALLENGE_LEN],
        /// How many of `answer`'s bytes have arrived.
        received: usize,
    },
    /// The client proved it holds the key: bytes are echoed.
    Echoing,
    /// The digest was wrong: the connection is to be closed.
    Refused,
}

/// What the connection must do after a step.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Read more.
    Read,
    /// Echo these bytes, then read more.
    Echo(&'a [u8]),
    /// Close the connection without answering.
    Close,
}

impl Phase {
    /// The phase after sending `challenge`.
    #[must_use]
    pub fn challenged(challenge: [u8; CHALLENGE_LEN]) -> Phase {
        Phase::Challenged {
            challenge,
            answer: [0; CHALLENGE_LEN],
            received: 0,
        }
    }

    /// How many bytes of the digest are still missing (0 once it is checked).
    #[must_use]
    pub fn missing(&self) -> usize {
        match self {
            Phase::Challenged { received, .. } => CHALLENGE_LEN - received,
            Phase::Echoing | Phase::Refused => 0,
        }
    }

    /// Takes `input`, the next bytes from the client, and says what to do.
    pub fn step<'a>(&mut self, key: &Secret, input: &'a [u8]) -> Step<'a> {
        match self {
            Phase::Challenged {
                challenge,
                answer,
                received,
            } => {
                let take = input.len().min(CHALLENGE_LEN - *received);
                answer[*received..*received + take].copy_from_slice(&input[..take]);
                *received += take;
                if *received < CHALLENGE_LEN {
                    return Step::Read;
                }
                // `verify_slice` compares in constant time.
                let right = challenge_mac(key, challenge)
                    .verify_slice(&answer[..])
                    .is_ok();
                if !right {
                    *self = Phase::Refused;
                    return Step::Close;
                }
                *self = Phase::Echoing;
                match &input[take..] {
                    [] => Step::Read,
                    rest => Step::Echo(rest),
                }
            }
            Phase::Echoing => Step::Echo(input),
            Phase::Refused => Step::Close,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::new(b"a shared key for the echo recipe".to_vec()).unwrap()
    }

    fn challenge() -> [u8; CHALLENGE_LEN] {
        std::array::from_fn(|i| i as u8)
    }

    /// Pinned against an independent HMAC-SHA256 implementation (Python's `hmac` module):
    /// `hmac.new(b"a shared key for the echo recipe", bytes(range(32)), "sha256")`.
    const DIGEST: &str = "6952e739f5ece810b05cf8bfa10a9f7cc256bc573d95e46d31b56c101c903867";

    fn digest(key: &Secret, challenge: &[u8; CHALLENGE_LEN]) -> Vec<u8> {
        challenge_mac(key, challenge)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digest_matches_the_test_vector() {
        assert_eq!(hex(&digest(&key(), &challenge())), DIGEST);
    }

    #[test]
    fn the_right_digest_in_one_piece_starts_the_echo() {
        let mut phase = Phase::challenged(challenge());
        assert_eq!(phase.missing(), 32);
        assert_eq!(
            phase.step(&key(), &digest(&key(), &challenge())),
            Step::Read
        );
        assert!(matches!(phase, Phase::Echoing));
        assert_eq!(phase.missing(), 0);
        assert_eq!(phase.step(&key(), b"hello"), Step::Echo(b"hello"));
    }

    #[test]
    fn the_right_digest_byte_by_byte_starts_the_echo() {
        let right = digest(&key(), &challenge());
        let mut phase = Phase::challenged(challenge());
        for (i, byte) in right.iter().enumerate() {
            assert_eq!(phase.missing(), 32 - i);
            let step = phase.step(&key(), std::slice::from_ref(byte));
            assert_eq!(step, Step::Read);
        }
        assert!(matches!(phase, Phase::Echoing));
    }

    #[test]
    fn bytes_after_the_digest_are_echoed() {
        let mut input = digest(&key(), &challenge());
        input.extend_from_slice(b"data");
        let mut phase = Phase::challenged(challenge());
        assert_eq!(phase.step(&key(), &input), Step::Echo(b"data"));
    }

    #[test]
    fn a_wrong_digest_closes_and_stays_closed() {
        let mut wrong = digest(&key(), &challenge());
        wrong[31] ^= 1;
        let mut phase = Phase::challenged(challenge());
        assert_eq!(phase.step(&key(), &wrong[..16]), Step::Read);
        assert_eq!(phase.step(&key(), &wrong[16..]), Step::Close);
        assert!(matches!(phase, Phase::Refused));
        assert_eq!(phase.step(&key(), b"more"), Step::Close);
    }

    #[test]
    fn a_digest_under_another_key_is_wrong() {
        let other = Secret::generate().unwrap();
        let mut phase = Phase::challenged(challenge());
        let wrong = digest(&other, &challenge());
        assert_eq!(phase.step(&key(), &wrong), Step::Close);
    }

    /// A stream that reads from `input` and collects what is written.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_client_half_answers_the_test_vector_and_the_server_accepts_it() {
        let mut script = Script {
            input: io::Cursor::new(challenge().to_vec()),
            output: Vec::new(),
        };
        answer_challenge(&mut script, &key()).unwrap();
        assert_eq!(hex(&script.output), DIGEST);
        let mut phase = Phase::challenged(challenge());
        assert_eq!(phase.step(&key(), &script.output), Step::Read);
        assert!(matches!(phase, Phase::Echoing));
    }

    #[test]
    fn the_client_half_reports_a_short_challenge() {
        let mut script = Script {
            input: io::Cursor::new(vec![0; CHALLENGE_LEN - 1]),
            output: Vec::new(),
        };
        let error = answer_challenge(&mut script, &key()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(script.output.is_empty());
    }

    #[test]
    fn a_digest_of_another_challenge_is_wrong() {
        let mut phase = Phase::challenged(challenge());
        let wrong = digest(&key(), &[7; CHALLENGE_LEN]);
        assert_eq!(phase.step(&key(), &wrong), Step::Close);
    }
}
