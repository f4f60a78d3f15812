//! The server's side of the handshake as a pure state machine.

use std::fmt;

use hmac::Mac;

use super::config::Encryption;
use super::config::HandshakeConfig;
use super::constants::{MODE_CIPHER, NONCE_LEN, WELCOME};
use super::error::HandshakeError;
use super::mac;
use super::step::{Handshaken, Step};
use super::wire::{self, Hello, Kind, Reject};
use crate::Secret;

/// The server's side of the handshake, one incoming frame at a time, without I/O.
///
/// [`new`](Self::new) sends nothing: the client speaks first. Each [`step`](Self::step) takes
/// the payload of the next frame from the client and appends what to answer. The states are:
///
/// | State        | Waits for | On success sends                | Next state   |
/// |--------------|-----------|---------------------------------|--------------|
/// | `AwaitHello` | HELLO     | CHALLENGE                       | `AwaitProof` |
/// | `AwaitProof` | PROOF     | WELCOME (first session frame)   | done         |
///
/// Use [`server_handshake`](super::server_handshake) to run it over a socket. See
/// [`ClientHandshake`](super::ClientHandshake) for both machines talking to each other.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::{HandshakeConfig, HandshakeError, ServerHandshake};
///
/// let key = Secret::generate()?;
/// let config = HandshakeConfig::default();
/// let server = ServerHandshake::new(&key, &config, [0; 32]);
///
/// // A HELLO of protocol version 2.
/// let mut hello = b"ACTR\x00\x02\x01".to_vec();
/// hello.extend([9; 32]);
/// hello.extend(b"\x00\x01c");
/// let mut out = Vec::new();
/// let err = server.step(&hello, &mut out).unwrap_err();
/// assert!(matches!(err, HandshakeError::VersionMismatch { ours: 3, theirs: 2 }));
/// // The ERROR frame (code 2, VERSION, carrying version 3) to send before closing.
/// assert_eq!(out, b"\0\0\0\x0aACTR\x00\x03\xff\x02\x00\x03");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ServerHandshake<'a> {
    key: &'a Secret,
    config: &'a HandshakeConfig,
    state: State,
}

enum State {
    /// Nothing has been exchanged yet.
    AwaitHello { nonce_s: [u8; NONCE_LEN] },
    /// CHALLENGE was sent; the client has not proved anything yet.
    AwaitProof {
        nonce_c: [u8; NONCE_LEN],
        nonce_s: [u8; NONCE_LEN],
        client_name: String,
        accepts: u8,
        mode: u8,
    },
}

impl<'a> ServerHandshake<'a> {
    /// Starts a handshake as the server named by `config`.
    ///
    /// `nonce_s` must be fresh random bytes: [`server_handshake`](super::server_handshake)
    /// draws them from the operating system. A server that reuses a nonce would accept a
    /// recorded handshake again, so fixed nonces are for tests and test vectors only.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    /// use actor_net::handshake::{HandshakeConfig, ServerHandshake};
    ///
    /// let key = Secret::generate()?;
    /// let config = HandshakeConfig::builder().name("server").build()?;
    /// let server = ServerHandshake::new(&key, &config, [0; 32]);
    /// assert!(format!("{server:?}").contains("AwaitHello"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(key: &'a Secret, config: &'a HandshakeConfig, nonce_s: [u8; NONCE_LEN]) -> Self {
        ServerHandshake {
            key,
            config,
            state: State::AwaitHello { nonce_s },
        }
    }

    /// Takes the payload of the next frame from the client, appends the frames to send in answer
    /// (length prefixes included) to `out`, and returns the next state or the finished session.
    ///
    /// Whatever the result, send what was appended to `out`: on an error it is the ERROR frame
    /// that tells the client why (nothing when the client itself sent an ERROR). Then close the
    /// connection.
    ///
    /// # Errors
    ///
    /// - [`HandshakeError::Authentication`]: the client's proof is wrong (`side: Local`), or the
    ///   client refused ours (`side: Remote`).
    /// - [`HandshakeError::VersionMismatch`]: the client speaks another protocol version.
    /// - [`HandshakeError::Malformed`]: the frame is not one the protocol allows here
    ///   (`side: Local`), or the client found ours malformed (`side: Remote`).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    /// use actor_net::handshake::{HandshakeConfig, ServerHandshake, Step};
    ///
    /// let key = Secret::generate()?;
    /// let config = HandshakeConfig::builder().name("server").build()?;
    /// let server = ServerHandshake::new(&key, &config, [0; 32]);
    ///
    /// // A HELLO: "ACTR", version 3, kind 1, a nonce, the name, `accepts` 03 (either mode).
    /// let mut hello = b"ACTR\x00\x03\x01".to_vec();
    /// hello.extend([9; 32]);
    /// hello.extend(b"\x00\x06client\x03");
    /// let mut out = Vec::new();
    /// let Step::Continue(_server) = server.step(&hello, &mut out)? else {
    ///     panic!("the server waits for the PROOF");
    /// };
    /// // Length prefix, then a CHALLENGE: "ACTR", version 3, kind 2.
    /// assert_eq!(out[4..11], *b"ACTR\x00\x03\x02");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step(self, incoming: &[u8], out: &mut Vec<u8>) -> Result<Step<Self>, HandshakeError> {
        let ServerHandshake { key, config, state } = self;
        match state {
            State::AwaitHello { nonce_s } => {
                let state = on_hello(key, config, nonce_s, incoming, out)
                    .map_err(|reject| reject.answer(config, out))?;
                Ok(Step::Continue(ServerHandshake { key, config, state }))
            }
            State::AwaitProof {
                nonce_c,
                nonce_s,
                client_name,
                accepts,
                mode,
            } => {
                let transcript = mac::Transcript {
                    nonce_c: &nonce_c,
                    nonce_s: &nonce_s,
                    client_name: &client_name,
                    server_name: config.name(),
                    accepts,
                    mode,
                };
                on_proof(key, &transcript, incoming)
                    .map_err(|reject| reject.answer(config, out))?;
                let (mut sealer, opener) = mac::session(key, &nonce_c, &nonce_s, mode, false);
                sealer
                    .seal(&[WELCOME], out)
                    .expect("invariant: a fresh sealer seals a 1-byte body");
                Ok(Step::Done(Handshaken {
                    peer_name: client_name,
                    sealer,
                    opener,
                    encrypted: mode == MODE_CIPHER,
                }))
            }
        }
    }
}

/// Checks a HELLO and answers it with a CHALLENGE.
fn on_hello(
    key: &Secret,
    config: &HandshakeConfig,
    nonce_s: [u8; NONCE_LEN],
    incoming: &[u8],
    out: &mut Vec<u8>,
) -> Result<State, Reject> {
    let body = wire::parse(incoming, Kind::Hello)?;
    let Hello {
        nonce_c,
        client_name,
        accepts,
    } = Hello::parse(body).ok_or(Reject::Malformed)?;
    let Some(mode) = config.encryption().choose(accepts) else {
        // `Hello::parse` checked that `accepts` names one or both modes.
        let theirs = Encryption::from_accepts(accepts).unwrap_or(Encryption::Preferred);
        return Err(Reject::Policy { theirs });
    };
    let transcript = mac::Transcript {
        nonce_c: &nonce_c,
        nonce_s: &nonce_s,
        client_name,
        server_name: config.name(),
        accepts,
        mode,
    };
    let proof_s = mac::server_proof(key, &transcript);
    wire::append_challenge(config, out, &nonce_s, mode, &proof_s);
    Ok(State::AwaitProof {
        nonce_c,
        nonce_s,
        client_name: client_name.to_owned(),
        accepts,
        mode,
    })
}

/// Checks a PROOF.
fn on_proof(key: &Secret, transcript: &mac::Transcript<'_>, incoming: &[u8]) -> Result<(), Reject> {
    let body = wire::parse(incoming, Kind::Proof)?;
    let proof_c = wire::parse_proof(body).ok_or(Reject::Malformed)?;
    mac::client_proof_mac(key, transcript)
        .verify_slice(proof_c)
        .map_err(|_| Reject::Auth)
}

impl fmt::Debug for ServerHandshake<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nonces stay out of logs; the state's name is what helps.
        let state = match &self.state {
            State::AwaitHello { .. } => "AwaitHello",
            State::AwaitProof { .. } => "AwaitProof",
        };
        f.debug_struct("ServerHandshake")
            .field("name", &self.config.name())
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
