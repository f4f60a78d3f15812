//! The handshake's MAC computations, as pure functions pinned by the test vectors of
//! `PROTOCOL.md`.

use hmac::Mac;
use zeroize::Zeroizing;

use super::constants::{NONCE_LEN, PROOF_LEN};
use super::wire::name_len;
use crate::secret::{HmacSha256, Secret, keyed_mac};

/// Label of the server's proof.
const SERVER_PROOF: &[u8] = b"actor/2 server proof";
/// Label of the client's proof.
const CLIENT_PROOF: &[u8] = b"actor/2 client proof";
/// Label of the key of frames sent by the client.
const KEY_CLIENT_TO_SERVER: &[u8] = b"actor/2 key client to server";
/// Label of the key of frames sent by the server.
const KEY_SERVER_TO_CLIENT: &[u8] = b"actor/2 key server to client";

/// Returns the MAC state over `label | nonce_c | nonce_s | lp(client_name) | lp(server_name)`,
/// ready to be finalized (to send a proof) or verified in constant time (to check one).
fn proof_mac(
    label: &[u8],
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    client_name: &str,
    server_name: &str,
) -> HmacSha256 {
    let mut mac = keyed_mac(key.expose());
    for part in [
        label,
        nonce_c,
        nonce_s,
        &name_len(client_name),
        client_name.as_bytes(),
        &name_len(server_name),
        server_name.as_bytes(),
    ] {
        mac.update(part);
    }
    mac
}

/// The MAC state of the server's proof; see [`server_proof`].
pub(super) fn server_proof_mac(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    client_name: &str,
    server_name: &str,
) -> HmacSha256 {
    proof_mac(
        SERVER_PROOF,
        key,
        nonce_c,
        nonce_s,
        client_name,
        server_name,
    )
}

/// The MAC state of the client's proof; see [`client_proof`].
pub(super) fn client_proof_mac(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    client_name: &str,
    server_name: &str,
) -> HmacSha256 {
    proof_mac(
        CLIENT_PROOF,
        key,
        nonce_c,
        nonce_s,
        client_name,
        server_name,
    )
}

/// Computes the server's proof that it holds `key`:
/// `HMAC(key, "actor/2 server proof" | nonce_c | nonce_s | lp(client_name) | lp(server_name))`.
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
/// use actor_net::handshake::{client_proof, server_proof};
///
/// let key = Secret::generate()?;
/// let (nonce_c, nonce_s) = ([1; 32], [2; 32]);
/// let proof = server_proof(&key, &nonce_c, &nonce_s, "client", "server");
/// // The direction label keeps a proof from being reflected back as the other side's.
/// assert_ne!(proof, client_proof(&key, &nonce_c, &nonce_s, "client", "server"));
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn server_proof(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    client_name: &str,
    server_name: &str,
) -> [u8; PROOF_LEN] {
    server_proof_mac(key, nonce_c, nonce_s, client_name, server_name)
        .finalize()
        .into_bytes()
        .into()
}

/// Computes the client's proof that it holds `key`:
/// `HMAC(key, "actor/2 client proof" | nonce_c | nonce_s | lp(client_name) | lp(server_name))`.
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
/// use actor_net::handshake::client_proof;
///
/// let key = Secret::generate()?;
/// let other = Secret::generate()?;
/// let (nonce_c, nonce_s) = ([1; 32], [2; 32]);
/// assert_ne!(
///     client_proof(&key, &nonce_c, &nonce_s, "client", "server"),
///     client_proof(&other, &nonce_c, &nonce_s, "client", "server"),
/// );
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn client_proof(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
    client_name: &str,
    server_name: &str,
) -> [u8; PROOF_LEN] {
    client_proof_mac(key, nonce_c, nonce_s, client_name, server_name)
        .finalize()
        .into_bytes()
        .into()
}

/// Derives the session keys `(k_c2s, k_s2c)`: the key of the frames the client sends and the key
/// of the frames the server sends.
///
/// `k_c2s = HMAC(key, "actor/2 key client to server" | nonce_c | nonce_s)` and
/// `k_s2c = HMAC(key, "actor/2 key server to client" | nonce_c | nonce_s)`. Both are zeroed when
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
/// // Fresh nonces give fresh keys.
/// assert_ne!(*c2s, *session_keys(&key, &[1; 32], &[3; 32]).0);
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[must_use]
pub fn session_keys(
    key: &Secret,
    nonce_c: &[u8; NONCE_LEN],
    nonce_s: &[u8; NONCE_LEN],
) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let keyed = keyed_mac(key.expose());
    let derive = |label: &[u8]| {
        let mut mac = keyed.clone();
        mac.update(label);
        mac.update(nonce_c);
        mac.update(nonce_s);
        Zeroizing::new(mac.finalize().into_bytes().into())
    };
    (derive(KEY_CLIENT_TO_SERVER), derive(KEY_SERVER_TO_CLIENT))
}
