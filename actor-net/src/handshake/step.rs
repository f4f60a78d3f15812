//! What the handshake state machines hand back: the next state, or the finished handshake.

use crate::session::{Opener, Sealer};

/// What a handshake state machine's step led to.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::{HandshakeConfig, ServerHandshake, Step};
///
/// let key = Secret::generate()?;
/// let config = HandshakeConfig::default();
/// let mut hello = b"ACTR\x00\x03\x01".to_vec();
/// hello.extend([0; 32]);
/// hello.extend([0, 0, 0x03]);
/// let step = ServerHandshake::new(&key, &config, [1; 32]).step(&hello, &mut Vec::new())?;
/// assert!(matches!(step, Step::Continue(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "a handshake takes two steps; boxing would add an allocation to save a small copy"
)]
pub enum Step<M> {
    /// The handshake goes on: feed the next frame to this machine.
    Continue(M),
    /// The handshake is complete: both sides hold the key, and the session begins.
    Done(Handshaken),
}

/// A completed handshake: who the peer is, and the two halves of the session.
///
/// The peer's name was covered by both proofs, but it is only what the peer calls itself: every
/// holder of the key can claim any name.
///
/// # Examples
///
/// See [`client_handshake`](super::client_handshake) and the [module documentation](super) for a
/// handshake over TCP.
///
/// ```
/// use actor_net::handshake::Handshaken;
///
/// fn parts(done: Handshaken) {
///     let Handshaken { peer_name, sealer, opener, .. } = done;
///     println!("{peer_name}: {sealer:?} {opener:?}");
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Handshaken {
    /// The name the peer gave (at most [`MAX_NAME_LEN`](super::MAX_NAME_LEN) bytes).
    pub peer_name: String,
    /// Seals the frames this side sends. The server's sealer has already sealed the WELCOME
    /// frame, so it continues at sequence number 1; the client's starts at 0.
    pub sealer: Sealer,
    /// Opens the frames the peer sends. The client's opener has already opened the WELCOME
    /// frame, so it expects sequence number 1; the server's expects 0.
    pub opener: Opener,
    /// Whether the session is encrypted (see [`Encryption`](super::Encryption)); otherwise its
    /// frames are authenticated only.
    pub encrypted: bool,
}
