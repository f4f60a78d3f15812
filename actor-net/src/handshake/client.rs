//! The client's side of the handshake as a pure state machine.

use std::fmt;

use hmac::Mac;

use super::config::HandshakeConfig;
use super::constants::{MAGIC, MODE_CIPHER, NONCE_LEN, WELCOME};
use super::error::HandshakeError;
use super::mac;
use super::step::{Handshaken, Step};
use super::wire::{self, Challenge, Kind, Reject};
use crate::Secret;
use crate::session::{ENCRYPTED_OVERHEAD, OVERHEAD, Opener, Sealer, SessionError};

/// The client's side of the handshake, one incoming frame at a time, without I/O.
///
/// [`new`](Self::new) appends the HELLO frame to send; each [`step`](Self::step) takes the
/// payload of the next frame from the server and appends what to answer. The states are:
///
/// | State            | Waits for             | On success sends | Next state     |
/// |------------------|-----------------------|------------------|----------------|
/// | `AwaitChallenge` | CHALLENGE             | PROOF            | `AwaitWelcome` |
/// | `AwaitWelcome`   | WELCOME session frame | nothing          | done           |
///
/// Use [`client_handshake`](super::client_handshake) to run it over a socket.
///
/// # Examples
///
/// Both machines talking to each other through buffers:
///
/// ```
/// use actor_core::codec::FrameReader;
/// use actor_net::Secret;
/// use actor_net::handshake::{ClientHandshake, HandshakeConfig, ServerHandshake, Step};
///
/// let key = Secret::generate()?;
/// let client_config = HandshakeConfig::builder().name("client").build()?;
/// let server_config = HandshakeConfig::builder().name("server").build()?;
///
/// // Returns the payload of the single frame in `wire`.
/// fn payload(wire: &[u8]) -> Vec<u8> {
///     FrameReader::new(wire).read_frame().unwrap().unwrap().to_vec()
/// }
///
/// let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
/// let client = ClientHandshake::new(&key, &client_config, [1; 32], &mut to_server);
/// let server = ServerHandshake::new(&key, &server_config, [2; 32]);
///
/// let Step::Continue(server) = server.step(&payload(&to_server), &mut to_client)? else {
///     panic!("the server waits for the PROOF");
/// };
/// to_server.clear();
/// let Step::Continue(client) = client.step(&payload(&to_client), &mut to_server)? else {
///     panic!("the client waits for the WELCOME");
/// };
/// to_client.clear();
/// let Step::Done(server_side) = server.step(&payload(&to_server), &mut to_client)? else {
///     panic!("the server is done after the PROOF");
/// };
/// let Step::Done(client_side) = client.step(&payload(&to_client), &mut Vec::new())? else {
///     panic!("the client is done after the WELCOME");
/// };
/// assert_eq!((client_side.peer_name.as_str(), server_side.peer_name.as_str()), ("server", "client"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ClientHandshake<'a> {
    key: &'a Secret,
    config: &'a HandshakeConfig,
    state: State,
}

#[allow(
    clippy::large_enum_variant,
    reason = "a handshake has two states; boxing would add allocations to save a small copy"
)]
enum State {
    /// HELLO was sent with this nonce.
    AwaitChallenge { nonce_c: [u8; NONCE_LEN] },
    /// PROOF was sent; the session is keyed but the server has not said it accepted.
    AwaitWelcome {
        server_name: String,
        sealer: Sealer,
        opener: Opener,
        encrypted: bool,
    },
}

impl<'a> ClientHandshake<'a> {
    /// Starts a handshake as the client named by `config`, appending the HELLO frame (length
    /// prefix included) to `out`.
    ///
    /// `nonce_c` must be fresh random bytes: [`client_handshake`](super::client_handshake) draws
    /// them from the operating system. Fixed nonces are for tests and test vectors only.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    /// use actor_net::handshake::{ClientHandshake, HandshakeConfig};
    ///
    /// let key = Secret::generate()?;
    /// let config = HandshakeConfig::builder().name("client").build()?;
    /// let mut out = Vec::new();
    /// let _client = ClientHandshake::new(&key, &config, [0; 32], &mut out);
    /// // Length prefix, then "ACTR", version 3, kind HELLO.
    /// assert_eq!(out[4..11], *b"ACTR\x00\x03\x01");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        key: &'a Secret,
        config: &'a HandshakeConfig,
        nonce_c: [u8; NONCE_LEN],
        out: &mut Vec<u8>,
    ) -> Self {
        wire::append_hello(config, out, &nonce_c);
        ClientHandshake {
            key,
            config,
            state: State::AwaitChallenge { nonce_c },
        }
    }

    /// Takes the payload of the next frame from the server, appends the frames to send in answer
    /// (length prefixes included) to `out`, and returns the next state or the finished session.
    ///
    /// Whatever the result, send what was appended to `out`: on an error it is the ERROR frame
    /// that tells the server why (nothing when the server itself sent an ERROR). Then close the
    /// connection.
    ///
    /// # Errors
    ///
    /// - [`HandshakeError::Authentication`]: the server's proof is wrong or its WELCOME frame
    ///   fails its tag (`side: Local`), or the server refused our proof (`side: Remote`).
    /// - [`HandshakeError::VersionMismatch`]: the server speaks another protocol version.
    /// - [`HandshakeError::Malformed`]: the frame is not one the protocol allows here
    ///   (`side: Local`), or the server found ours malformed (`side: Remote`).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    /// use actor_net::handshake::{ClientHandshake, HandshakeConfig, HandshakeError, Side};
    ///
    /// let key = Secret::generate()?;
    /// let config = HandshakeConfig::default();
    /// let mut out = Vec::new();
    /// let client = ClientHandshake::new(&key, &config, [0; 32], &mut out);
    /// out.clear();
    /// let err = client.step(b"garbage", &mut out).unwrap_err();
    /// assert!(matches!(err, HandshakeError::Malformed { side: Side::Local }));
    /// // The ERROR frame (code 3, MALFORMED) to send before closing.
    /// assert_eq!(out, b"\0\0\0\x08ACTR\x00\x03\xff\x03");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step(self, incoming: &[u8], out: &mut Vec<u8>) -> Result<Step<Self>, HandshakeError> {
        let ClientHandshake { key, config, state } = self;
        match state {
            State::AwaitChallenge { nonce_c } => {
                let state = on_challenge(key, config, &nonce_c, incoming, out)
                    .map_err(|reject| reject.answer(config, out))?;
                Ok(Step::Continue(ClientHandshake { key, config, state }))
            }
            State::AwaitWelcome {
                server_name,
                sealer,
                mut opener,
                encrypted,
            } => {
                on_welcome(&mut opener, encrypted, incoming)
                    .map_err(|reject| reject.answer(config, out))?;
                Ok(Step::Done(Handshaken {
                    peer_name: server_name,
                    sealer,
                    opener,
                    encrypted,
                }))
            }
        }
    }
}

/// Checks a CHALLENGE and answers it with a PROOF.
fn on_challenge(
    key: &Secret,
    config: &HandshakeConfig,
    nonce_c: &[u8; NONCE_LEN],
    incoming: &[u8],
    out: &mut Vec<u8>,
) -> Result<State, Reject> {
    let body = wire::parse(incoming, Kind::Challenge)?;
    let challenge = Challenge::parse(body).ok_or(Reject::Malformed)?;
    let accepts = config.encryption().accepts();
    // A server that picks a mode this side did not offer breaks the protocol.
    if challenge.mode & accepts == 0 {
        return Err(Reject::Malformed);
    }
    let (nonce_s, server_name) = (&challenge.nonce_s, challenge.server_name);
    let transcript = mac::Transcript {
        nonce_c,
        nonce_s,
        client_name: config.name(),
        server_name,
        accepts,
        mode: challenge.mode,
    };
    mac::server_proof_mac(key, &transcript)
        .verify_slice(challenge.proof_s)
        .map_err(|_| Reject::Auth)?;

    let proof_c = mac::client_proof(key, &transcript);
    wire::append_proof(config, out, &proof_c);
    let (sealer, opener) = mac::session(key, nonce_c, nonce_s, challenge.mode, true);
    Ok(State::AwaitWelcome {
        server_name: server_name.to_owned(),
        sealer,
        opener,
        encrypted: challenge.mode == MODE_CIPHER,
    })
}

/// Checks that `incoming` is the WELCOME session frame.
fn on_welcome(opener: &mut Opener, encrypted: bool, incoming: &[u8]) -> Result<(), Reject> {
    // A session frame with sequence number 0 starts with eight zero bytes, never with the magic,
    // so a handshake frame here can be told apart: the server's ERROR, or a protocol violation.
    if incoming.starts_with(&MAGIC) {
        return Err(wire::parse(incoming, Kind::Error)
            .err()
            .unwrap_or(Reject::Malformed));
    }
    // Only one frame can be the WELCOME; any other length is malformed before the tag is checked.
    let overhead = if encrypted {
        ENCRYPTED_OVERHEAD
    } else {
        OVERHEAD
    };
    if incoming.len() != overhead + 1 {
        return Err(Reject::Malformed);
    }
    match opener.open(incoming) {
        Ok([WELCOME]) => Ok(()),
        Err(SessionError::BadTag) => Err(Reject::Auth),
        Ok(_) | Err(_) => Err(Reject::Malformed),
    }
}

impl fmt::Debug for ClientHandshake<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nonces and keys stay out of logs; the state's name is what helps.
        let state = match &self.state {
            State::AwaitChallenge { .. } => "AwaitChallenge",
            State::AwaitWelcome { .. } => "AwaitWelcome",
        };
        f.debug_struct("ClientHandshake")
            .field("name", &self.config.name())
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
