//! The inputs of the test vectors in `actor-net/PROTOCOL.md`, and what the targets build on them.
//!
//! Fixed key, nonces and names make a valid transcript a fixed byte string, so the seed corpus
//! holds the documented vectors and the fuzzer can start from them.

use actor_core::codec::{FrameConfig, FrameReader};
use actor_net::handshake::{
    ClientHandshake, HandshakeConfig, Handshaken, NONCE_LEN, ServerHandshake, Step,
};
use actor_net::{KeyCheck, Secret};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shared key `K`: short text, weak on purpose (PROTOCOL.md, "Test vectors").
pub(crate) const KEY: &[u8] = b"actor test key 0123456789";

/// The client's nonce: the bytes 0x00 to 0x1f.
pub(crate) const NONCE_C: [u8; NONCE_LEN] = counting(0x00);

/// The server's nonce: the bytes 0x20 to 0x3f.
pub(crate) const NONCE_S: [u8; NONCE_LEN] = counting(0x20);

/// The client's name.
pub(crate) const CLIENT_NAME: &str = "client";

/// The server's name.
pub(crate) const SERVER_NAME: &str = "server";

const fn counting(first: u8) -> [u8; NONCE_LEN] {
    let mut bytes = [0; NONCE_LEN];
    let mut i = 0;
    while i < NONCE_LEN {
        bytes[i] = first + i as u8;
        i += 1;
    }
    bytes
}

pub(crate) fn key() -> Secret {
    // A real node refuses this key; the vectors take it by the explicit opt-in.
    Secret::with_check(KEY.to_vec(), KeyCheck::AllowWeak)
        .expect("invariant: the test key is long enough")
}

/// The configuration of a node named `name`, with the default frame limit and encryption off:
/// the sessions the targets drive are authenticated with MACs, which their models compute.
pub(crate) fn config(name: &str) -> HandshakeConfig {
    HandshakeConfig::builder()
        .name(name)
        .encryption(actor_net::handshake::Encryption::Off)
        .build()
        .expect("invariant: the test names are short")
}

/// The frame limits handshake frames are read with.
pub(crate) fn handshake_frames(config: &HandshakeConfig) -> FrameConfig {
    FrameConfig::new().with_max_payload(config.max_frame_len())
}

/// The payloads of the whole frames in `wire`, which the code under test wrote.
pub(crate) fn payloads(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = FrameReader::new(wire);
    let mut payloads = Vec::new();
    loop {
        match reader.read_frame() {
            Ok(Some(payload)) => payloads.push(payload.to_vec()),
            Ok(None) => return payloads,
            Err(error) => panic!("the frames written are not whole: {error}"),
        }
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`, computed without actor-net.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("invariant: HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The session keys `(k_c2s, k_s2c)` of a handshake with these nonces, computed as
/// `PROTOCOL.md` defines them.
pub(crate) fn session_keys(nonce_c: &[u8], nonce_s: &[u8]) -> ([u8; 32], [u8; 32]) {
    (
        hmac(KEY, &[b"actor/3 key client to server", nonce_c, nonce_s]),
        hmac(KEY, &[b"actor/3 key server to client", nonce_c, nonce_s]),
    )
}

/// Both ends of a session, after the handshake of the test vectors run through both state
/// machines: `(client, server)`.
pub(crate) fn handshaken_pair() -> (Handshaken, Handshaken) {
    let key = key();
    let (client_config, server_config) = (config(CLIENT_NAME), config(SERVER_NAME));
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    let client = ClientHandshake::new(&key, &client_config, NONCE_C, &mut to_server);
    let server = ServerHandshake::new(&key, &server_config, NONCE_S);
    let [hello] = &payloads(&to_server)[..] else {
        panic!("HELLO is one frame");
    };
    let Ok(Step::Continue(server)) = server.step(hello, &mut to_client) else {
        panic!("the server accepts the HELLO of the vectors");
    };
    to_server.clear();
    let [challenge] = &payloads(&to_client)[..] else {
        panic!("CHALLENGE is one frame");
    };
    let Ok(Step::Continue(client)) = client.step(challenge, &mut to_server) else {
        panic!("the client accepts the CHALLENGE of the vectors");
    };
    to_client.clear();
    let [proof] = &payloads(&to_server)[..] else {
        panic!("PROOF is one frame");
    };
    let Ok(Step::Done(server)) = server.step(proof, &mut to_client) else {
        panic!("the server accepts the PROOF of the vectors");
    };
    let [welcome] = &payloads(&to_client)[..] else {
        panic!("WELCOME is one frame");
    };
    let Ok(Step::Done(client)) = client.step(welcome, &mut Vec::new()) else {
        panic!("the client accepts the WELCOME of the vectors");
    };
    (client, server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_the_documented_ones() {
        assert_eq!(NONCE_C[0], 0x00);
        assert_eq!(NONCE_C[31], 0x1f);
        assert_eq!(NONCE_S[0], 0x20);
        assert_eq!(NONCE_S[31], 0x3f);
    }

    #[test]
    fn the_vectors_complete_a_handshake() {
        let (client, server) = handshaken_pair();
        assert_eq!(
            (client.peer_name.as_str(), server.peer_name.as_str()),
            (SERVER_NAME, CLIENT_NAME)
        );
    }
}
