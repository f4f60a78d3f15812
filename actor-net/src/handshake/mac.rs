//! The handshake's MAC computations, as pure functions pinned by the test vectors of
//! `PROTOCOL.md`.

use hmac::Mac;
use zeroize::Zeroizing;

use super::constants::{MODE_CIPHER, NONCE_LEN, PROOF_LEN};
use super::wire::name_len;
use crate::secret::{HmacSha256, Secret, keyed_mac};
use crate::session::{Opener, Sealer};

/// Label of the server's proof.
const SERVER_PROOF: &[u8] = b"actor/3 server proof";
/// Label of the client's proof.
const CLIENT_PROOF: &[u8] = b"actor/3 client proof";
/// Label of the MAC key of the client-to-server direction.
const KEY_CLIENT_TO_SERVER: &[u8] = b"actor/3 key client to server";
/// Label of the MAC key of the server-to-client direction.
const KEY_SERVER_TO_CLIENT: &[u8] = b"actor/3 key server to client";
/// Label of the cipher key of the client-to-server direction.
const CIPHER_CLIENT_TO_SERVER: &[u8] = b"actor/3 cipher key client to server";
/// Label of the cipher key of the server-to-client direction.
const CIPHER_SERVER_TO_CLIENT: &[u8] = b"actor/3 cipher key server to client";

/// What both proofs of a handshake cover besides the key: the nonces, the names, the session
/// modes the client accepts (its HELLO's `accepts`) and the one the server chose (its
/// CHALLENGE's `mode`). Covering the last two is what keeps anyone on the way from changing
/// them: a rewritten offer makes the proofs disagree.
///
/// # Examples
///
/// See [`server_proof`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transcript<'a> {
    /// The client's nonce.
    pub nonce_c: &'a [u8; NONCE_LEN],
    /// The server's nonce.
    pub nonce_s: &'a [u8; NONCE_LEN],
    /// The client's name.
    pub client_name: &'a str,
    /// The server's name.
    pub server_name: &'a str,
    /// The HELLO's `accepts` byte: `01` MAC only, `02` encrypted, `03` either.
    pub accepts: u8,
    /// The CHALLENGE's `mode` byte: `01` MAC only, `02` encrypted.
    pub mode: u8,
}

/// `HMAC(key, label | nonce_c | nonce_s | lp(client_name) | lp(server_name) | accepts | mode)`,
/// not finalized.
fn proof_mac(label: &[u8], key: &Secret, t: &Transcript<'_>) -> HmacSha256 {
    let mut mac = keyed_mac(key.expose());
    for part in [
        label,
        t.nonce_c,
        t.nonce_s,
        &name_len(t.client_name),
        t.client_name.as_bytes(),
        &name_len(t.server_name),
        t.server_name.as_bytes(),
        &[t.accepts, t.mode],
    ] {
        mac.update(part);
    }
    mac
}

/// The MAC state of the server's proof; see [`server_proof`].
pub(super) fn server_proof_mac(key: &Secret, t: &Transcript<'_>) -> HmacSha256 {
    proof_mac(SERVER_PROOF, key, t)
}

/// The MAC state of the client's proof; see [`client_proof`].
pub(super) fn client_proof_mac(key: &Secret, t: &Transcript<'_>) -> HmacSha256 {
    proof_mac(CLIENT_PROOF, key, t)
}

/// Computes the server's proof that it holds `key`:
/// `HMAC(key, "actor/3 server proof" | nonce_c | nonce_s | lp(client_name) | lp(server_name) |
/// accepts | mode)`.
///
/// # Panics
///
/// If a name is longer than [`MAX_NAME_LEN`](super::MAX_NAME_LEN) bytes, which the protocol
/// cannot carry.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::{Transcript, client_proof, server_proof};
///
/// let key = Secret::generate()?;
/// let (nonce_c, nonce_s) = ([1; 32], [2; 32]);
/// let transcript = Transcript {
///     nonce_c: &nonce_c,
///     nonce_s: &nonce_s,
///     client_name: "client",
///     server_name: "server",
///     accepts: 0x03,
///     mode: 0x02,
/// };
/// let proof = server_proof(&key, &transcript);
/// // The direction label keeps a proof from being reflected back as the other side's.
/// assert_ne!(proof, client_proof(&key, &transcript));
/// // An offer rewritten on the way gives another proof.
/// let downgraded = Transcript { accepts: 0x01, mode: 0x01, ..transcript };
/// assert_ne!(proof, server_proof(&key, &downgraded));
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn server_proof(key: &Secret, transcript: &Transcript<'_>) -> [u8; PROOF_LEN] {
    server_proof_mac(key, transcript)
        .finalize()
        .into_bytes()
        .into()
}

/// Computes the client's proof that it holds `key`:
/// `HMAC(key, "actor/3 client proof" | nonce_c | nonce_s | lp(client_name) | lp(server_name) |
/// accepts | mode)`.
///
/// # Panics
///
/// If a name is longer than [`MAX_NAME_LEN`](super::MAX_NAME_LEN) bytes, which the protocol
/// cannot carry.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::{Transcript, client_proof};
///
/// let (key, other) = (Secret::generate()?, Secret::generate()?);
/// let (nonce_c, nonce_s) = ([1; 32], [2; 32]);
/// let transcript = Transcript {
///     nonce_c: &nonce_c,
///     nonce_s: &nonce_s,
///     client_name: "client",
///     server_name: "server",
///     accepts: 0x01,
///     mode: 0x01,
/// };
/// assert_ne!(client_proof(&key, &transcript), client_proof(&other, &transcript));
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn client_proof(key: &Secret, transcript: &Transcript<'_>) -> [u8; PROOF_LEN] {
    client_proof_mac(key, transcript)
        .finalize()
        .into_bytes()
        .into()
}

/// `HMAC(key, label | nonce_c | nonce_s)` for each of two labels.
fn derive_pair(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    labels: [&[u8]; 2],
) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let keyed = keyed_mac(key.expose());
    let derive = |label: &[u8]| {
        let mut mac = keyed.clone();
        mac.update(label);
        mac.update(nonce_c);
        mac.update(nonce_s);
        Zeroizing::new(mac.finalize().into_bytes().into())
    };
    (derive(labels[0]), derive(labels[1]))
}

/// Derives the MAC keys of a session's two directions:
/// `k_c2s = HMAC(key, "actor/3 key client to server" | nonce_c | nonce_s)` and
/// `k_s2c = HMAC(key, "actor/3 key server to client" | nonce_c | nonce_s)`. Both are zeroed when
/// dropped.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::session_keys;
///
/// let key = Secret::generate()?;
/// let (c2s, s2c) = session_keys(&key, &[1; 32], &[2; 32]);
/// assert_ne!(*c2s, *s2c);
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn session_keys(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    derive_pair(
        key,
        nonce_c,
        nonce_s,
        [KEY_CLIENT_TO_SERVER, KEY_SERVER_TO_CLIENT],
    )
}

/// Derives the ChaCha20-Poly1305 keys of an encrypted session's two directions:
/// `e_c2s = HMAC(key, "actor/3 cipher key client to server" | nonce_c | nonce_s)` and
/// `e_s2c = HMAC(key, "actor/3 cipher key server to client" | nonce_c | nonce_s)`, under labels
/// of their own, so that they are never the MAC keys. Both are zeroed when dropped.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
/// use actor_net::handshake::{cipher_keys, session_keys};
///
/// let key = Secret::generate()?;
/// let (e_c2s, e_s2c) = cipher_keys(&key, &[1; 32], &[2; 32]);
/// let (k_c2s, _) = session_keys(&key, &[1; 32], &[2; 32]);
/// assert_ne!(*e_c2s, *e_s2c);
/// assert_ne!(*e_c2s, *k_c2s);
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn cipher_keys(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    derive_pair(
        key,
        nonce_c,
        nonce_s,
        [CIPHER_CLIENT_TO_SERVER, CIPHER_SERVER_TO_CLIENT],
    )
}

/// The two halves of a session whose handshake chose `mode`, for the client (`client` true)
/// or the server: MAC-protected frames under the session keys, or encrypted ones under the
/// cipher keys.
pub(super) fn session(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    mode: u8,
    client: bool,
) -> (Sealer, Opener) {
    if mode == MODE_CIPHER {
        let (c2s, s2c) = cipher_keys(key, nonce_c, nonce_s);
        let (send, receive) = if client { (c2s, s2c) } else { (s2c, c2s) };
        (Sealer::encrypted(&send), Opener::encrypted(&receive))
    } else {
        let (c2s, s2c) = session_keys(key, nonce_c, nonce_s);
        let (send, receive) = if client { (c2s, s2c) } else { (s2c, c2s) };
        (Sealer::new(&send), Opener::new(&receive))
    }
}
