//! Checks that the implementation reproduces every test vector of `PROTOCOL.md` but those of
//! the cluster membership (named `membership_...`), which `membership_vectors.rs` checks.
//!
//! The vectors are read from the document itself (lines `vector NAME = HEX`), so the document
//! and the code cannot drift apart: a changed byte on either side fails this test.

#[path = "support/vectors.rs"]
mod support;

use std::collections::BTreeMap;

use actor_core::codec::FrameReader;
use actor_net::handshake::{
    self, ClientHandshake, Encryption, HandshakeConfig, HandshakeError, ServerHandshake, Side,
    Step, Transcript, cipher_keys, client_proof, server_proof, session_keys,
};
use actor_net::session::{Opener, Sealer};
use actor_net::{KeyCheck, Secret};
use support::{hex, vectors};

/// Every vector the document must hold, but the membership ones, and nothing else.
const NAMES: &[&str] = &[
    "key",
    "nonce_c",
    "nonce_s",
    "client_name",
    "server_name",
    "hello",
    "server_proof",
    "challenge",
    "client_proof",
    "proof",
    "hello_mac",
    "server_proof_mac",
    "challenge_mac",
    "client_proof_mac",
    "proof_mac",
    "k_c2s",
    "k_s2c",
    "e_c2s",
    "e_s2c",
    "welcome_frame",
    "c2s_seq0_hello_frame",
    "s2c_seq1_hello_frame",
    "welcome_frame_mac",
    "c2s_seq0_hello_frame_mac",
    "s2c_seq0_hello_frame_mac",
    "s2c_seq1_hello_frame_mac",
    "error_auth",
    "error_version",
    "error_malformed",
    "error_busy",
    "error_policy",
];

struct Vectors(BTreeMap<String, Vec<u8>>);

impl Vectors {
    fn get(&self, name: &str) -> &[u8] {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("PROTOCOL.md lacks vector {name}"))
    }

    fn array(&self, name: &str) -> [u8; 32] {
        self.get(name).try_into().expect("a 32-byte vector")
    }

    fn text(&self, name: &str) -> String {
        String::from_utf8(self.get(name).to_vec()).expect("a UTF-8 vector")
    }

    /// Checks that `wire` holds exactly one frame, whose payload is the vector `name`.
    fn assert_payload(&self, wire: &[u8], name: &str) {
        let mut reader = FrameReader::new(wire);
        let payload = reader.read_frame().unwrap().expect("one frame");
        assert_eq!(hex(payload), hex(self.get(name)), "vector {name}");
        assert_eq!(
            reader.read_frame().unwrap(),
            None,
            "vector {name}: one frame only"
        );
    }

    fn assert_frame(&self, wire: &[u8], name: &str) {
        assert_eq!(hex(wire), hex(self.get(name)), "vector {name}");
    }
}

fn payload_of(frame: &[u8]) -> &[u8] {
    &frame[4..]
}

#[test]
fn document_holds_exactly_the_expected_vectors() {
    let found: Vec<String> = vectors()
        .into_keys()
        .filter(|name| !name.starts_with("membership_"))
        .collect();
    let mut expected: Vec<String> = NAMES.iter().map(|name| name.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn inputs_are_the_documented_ones() {
    let v = Vectors(vectors());
    assert_eq!(v.get("key"), b"actor test key 0123456789");
    assert_eq!(v.get("nonce_c"), (0x00..0x20).collect::<Vec<u8>>());
    assert_eq!(v.get("nonce_s"), (0x20..0x40).collect::<Vec<u8>>());
    assert_eq!(v.text("client_name"), "client");
    assert_eq!(v.text("server_name"), "server");
}

/// The vectors' key: 25 ASCII bytes, weak on purpose (PROTOCOL.md, "Test vectors"), so taken
/// with `KeyCheck::AllowWeak` as no real node would take it.
fn vector_key(v: &Vectors) -> Secret {
    Secret::with_check(v.get("key").to_vec(), KeyCheck::AllowWeak).unwrap()
}

#[test]
fn pure_functions_reproduce_the_vectors() {
    let v = Vectors(vectors());
    let key = vector_key(&v);
    let (nonce_c, nonce_s) = (v.array("nonce_c"), v.array("nonce_s"));
    let (client, server) = (v.text("client_name"), v.text("server_name"));

    // Both sides prefer encryption (accepts 03, mode 02), then both have it off (01, 01).
    for (accepts, mode, suffix) in [(0x03, 0x02, ""), (0x01, 0x01, "_mac")] {
        let transcript = Transcript {
            nonce_c: &nonce_c,
            nonce_s: &nonce_s,
            client_name: &client,
            server_name: &server,
            accepts,
            mode,
        };
        let proof_s = server_proof(&key, &transcript);
        assert_eq!(hex(&proof_s), hex(v.get(&format!("server_proof{suffix}"))));
        let proof_c = client_proof(&key, &transcript);
        assert_eq!(hex(&proof_c), hex(v.get(&format!("client_proof{suffix}"))));
    }
    let (c2s, s2c) = session_keys(&key, &nonce_c, &nonce_s);
    assert_eq!(hex(&*c2s), hex(v.get("k_c2s")));
    assert_eq!(hex(&*s2c), hex(v.get("k_s2c")));
    let (c2s, s2c) = cipher_keys(&key, &nonce_c, &nonce_s);
    assert_eq!(hex(&*c2s), hex(v.get("e_c2s")));
    assert_eq!(hex(&*s2c), hex(v.get("e_s2c")));
}

#[test]
fn sealers_reproduce_the_session_vectors() {
    let v = Vectors(vectors());
    let (c2s, s2c) = (v.array("k_c2s"), v.array("k_s2c"));

    let mut out = Vec::new();
    Sealer::new(&c2s).seal(b"hello", &mut out).unwrap();
    v.assert_frame(&out, "c2s_seq0_hello_frame_mac");

    let mut sealer = Sealer::new(&s2c);
    out.clear();
    sealer.seal(b"\x00", &mut out).unwrap();
    v.assert_frame(&out, "welcome_frame_mac");
    out.clear();
    sealer.seal(b"hello", &mut out).unwrap();
    v.assert_frame(&out, "s2c_seq1_hello_frame_mac");

    out.clear();
    Sealer::new(&s2c).seal(b"hello", &mut out).unwrap();
    v.assert_frame(&out, "s2c_seq0_hello_frame_mac");

    let (e_c2s, e_s2c) = (v.array("e_c2s"), v.array("e_s2c"));
    out.clear();
    Sealer::encrypted(&e_c2s).seal(b"hello", &mut out).unwrap();
    v.assert_frame(&out, "c2s_seq0_hello_frame");
    let mut sealer = Sealer::encrypted(&e_s2c);
    out.clear();
    sealer.seal(b"\x00", &mut out).unwrap();
    v.assert_frame(&out, "welcome_frame");
    out.clear();
    sealer.seal(b"hello", &mut out).unwrap();
    v.assert_frame(&out, "s2c_seq1_hello_frame");

    // And the openers accept them.
    let mut opener = Opener::new(&s2c);
    let welcome = opener.open(payload_of(v.get("welcome_frame_mac"))).unwrap();
    assert_eq!(welcome, b"\x00");
    let hello = opener.open(payload_of(v.get("s2c_seq1_hello_frame_mac")));
    assert_eq!(hello.unwrap(), b"hello");
    let mut opener = Opener::new(&c2s);
    let hello = opener.open(payload_of(v.get("c2s_seq0_hello_frame_mac")));
    assert_eq!(hello.unwrap(), b"hello");

    let mut opener = Opener::encrypted(&e_s2c);
    let welcome = opener.open(payload_of(v.get("welcome_frame"))).unwrap();
    assert_eq!(welcome, b"\x00");
    let hello = opener.open(payload_of(v.get("s2c_seq1_hello_frame")));
    assert_eq!(hello.unwrap(), b"hello");
    let mut opener = Opener::encrypted(&e_c2s);
    let hello = opener.open(payload_of(v.get("c2s_seq0_hello_frame")));
    assert_eq!(hello.unwrap(), b"hello");
}

/// A handshake configuration with the vectors' name for `side` and `encryption`.
fn config(v: &Vectors, side: &str, encryption: Encryption) -> HandshakeConfig {
    HandshakeConfig::builder()
        .name(v.text(side))
        .encryption(encryption)
        .build()
        .unwrap()
}

#[test]
fn state_machines_reproduce_the_handshake_vectors() {
    let v = Vectors(vectors());
    let key = vector_key(&v);
    for (encryption, suffix, encrypted) in [
        (Encryption::Preferred, "", true),
        (Encryption::Off, "_mac", false),
    ] {
        let name = |vector: &str| format!("{vector}{suffix}");
        let client_config = config(&v, "client_name", encryption);
        let server_config = config(&v, "server_name", encryption);

        let mut to_server = Vec::new();
        let client = ClientHandshake::new(&key, &client_config, v.array("nonce_c"), &mut to_server);
        v.assert_payload(&to_server, &name("hello"));

        let server = ServerHandshake::new(&key, &server_config, v.array("nonce_s"));
        let mut to_client = Vec::new();
        let Step::Continue(server) = server.step(v.get(&name("hello")), &mut to_client).unwrap()
        else {
            panic!("the server must wait for the PROOF");
        };
        v.assert_payload(&to_client, &name("challenge"));

        to_server.clear();
        let Step::Continue(client) = client
            .step(v.get(&name("challenge")), &mut to_server)
            .unwrap()
        else {
            panic!("the client must wait for the WELCOME");
        };
        v.assert_payload(&to_server, &name("proof"));

        to_client.clear();
        let Step::Done(mut server_done) =
            server.step(v.get(&name("proof")), &mut to_client).unwrap()
        else {
            panic!("the server must be done after the PROOF");
        };
        v.assert_frame(&to_client, &name("welcome_frame"));

        let mut nothing = Vec::new();
        let Step::Done(mut client_done) = client
            .step(payload_of(v.get(&name("welcome_frame"))), &mut nothing)
            .unwrap()
        else {
            panic!("the client must be done after the WELCOME");
        };
        assert!(nothing.is_empty());
        assert_eq!(client_done.peer_name, v.text("server_name"));
        assert_eq!(server_done.peer_name, v.text("client_name"));
        assert_eq!(
            (client_done.encrypted, server_done.encrypted),
            (encrypted, encrypted)
        );

        let mut out = Vec::new();
        client_done.sealer.seal(b"hello", &mut out).unwrap();
        v.assert_frame(&out, &name("c2s_seq0_hello_frame"));
        out.clear();
        server_done.sealer.seal(b"hello", &mut out).unwrap();
        v.assert_frame(&out, &name("s2c_seq1_hello_frame"));
    }
}

#[test]
fn a_refused_encryption_setting_gives_the_policy_vector_and_a_clear_error_on_both_sides() {
    let v = Vectors(vectors());
    let key = vector_key(&v);
    // A client that requires encryption, a server that has it off.
    let client_config = config(&v, "client_name", Encryption::Required);
    let server_config = config(&v, "server_name", Encryption::Off);
    let mut hello = Vec::new();
    let client = ClientHandshake::new(&key, &client_config, v.array("nonce_c"), &mut hello);
    let mut to_client = Vec::new();
    let server = ServerHandshake::new(&key, &server_config, v.array("nonce_s"));
    let err = server.step(payload_of(&hello), &mut to_client).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::Encryption {
            ours: Encryption::Off,
            theirs: Encryption::Required
        }
    ));
    v.assert_payload(&to_client, "error_policy");
    let mut to_server = Vec::new();
    let err = client
        .step(payload_of(&to_client), &mut to_server)
        .unwrap_err();
    assert!(to_server.is_empty(), "an ERROR is never answered");
    assert_eq!(
        err.to_string(),
        "encryption settings do not meet: this side's is required, the peer's off"
    );
}

#[test]
fn error_frames_reproduce_the_vectors() {
    let v = Vectors(vectors());
    let key = vector_key(&v);
    let config = HandshakeConfig::builder()
        .name(v.text("client_name"))
        .build()
        .unwrap();

    // The vector CHALLENGE with one bit of its proof flipped: AUTH.
    let mut to_server = Vec::new();
    let client = ClientHandshake::new(&key, &config, v.array("nonce_c"), &mut to_server);
    let mut challenge = v.get("challenge").to_vec();
    *challenge.last_mut().unwrap() ^= 1;
    to_server.clear();
    let err = client.step(&challenge, &mut to_server).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::Authentication { side: Side::Local }
    ));
    v.assert_payload(&to_server, "error_auth");

    // The vector HELLO as a version-2 client sends it: VERSION.
    let mut hello = v.get("hello").to_vec();
    hello[5] = 2;
    let mut to_client = Vec::new();
    let server = ServerHandshake::new(&key, &config, v.array("nonce_s"));
    let err = server.step(&hello, &mut to_client).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 3, theirs: 2 }
    ));
    v.assert_payload(&to_client, "error_version");

    // Not a handshake frame at all: MALFORMED.
    to_client.clear();
    let server = ServerHandshake::new(&key, &config, v.array("nonce_s"));
    let err = server
        .step(b"GET / HTTP/1.1\r\n", &mut to_client)
        .unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::Malformed { side: Side::Local }
    ));
    v.assert_payload(&to_client, "error_malformed");
}

#[test]
fn a_busy_server_sends_the_busy_vector_and_the_client_reports_it() {
    let v = Vectors(vectors());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut refused, _) = listener.accept().unwrap();
    let config = HandshakeConfig::default();
    handshake::refuse_busy(&mut refused, &config).unwrap();
    drop(refused);
    let mut wire = Vec::new();
    std::io::Read::read_to_end(&mut client, &mut wire).unwrap();
    v.assert_payload(&wire, "error_busy");

    // A client's state machine that gets it in place of the CHALLENGE reports a busy server
    // and answers nothing.
    let key = vector_key(&v);
    let mut to_server = Vec::new();
    let client = ClientHandshake::new(&key, &config, v.array("nonce_c"), &mut to_server);
    to_server.clear();
    let err = client
        .step(v.get("error_busy"), &mut to_server)
        .unwrap_err();
    assert!(matches!(err, HandshakeError::Busy));
    assert!(to_server.is_empty());
}
