//! A version-2 node against peers of protocol version 1: every meeting ends in a clear ERROR
//! VERSION, both ways, and nothing a version-1 peer computed passes as version 2.
//!
//! The version-1 frames are the bytes of version 1's test vectors (same key, nonces and
//! names as `PROTOCOL.md`'s), so these tests play a real version-1 peer, not an imitation.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use actor_core::codec::{FrameConfig, FrameReader};
use actor_net::handshake::{
    self, ClientHandshake, HandshakeConfig, HandshakeError, ServerHandshake, Side, Step,
};
use actor_net::services::EchoMsg;
use actor_net::{KeyCheck, NetError, Node, Secret};

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(10);

/// The key of the test vectors: 25 ASCII bytes, weak on purpose (PROTOCOL.md, "Test vectors"),
/// so taken with `KeyCheck::AllowWeak`, as no real node would take it.
const KEY: &[u8] = b"actor test key 0123456789";

/// Version 1's vector HELLO: "ACTR", version 1, kind 1, nonce 00..1f, the name "client".
const V1_HELLO: &str = "41435452000101000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0006636c69656e74";
/// Version 1's vector CHALLENGE: nonce 20..3f, the name "server", and the version-1 proof.
const V1_CHALLENGE: &str = "41435452000102202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f000673657276657273c37ec72485f49ee0cc63b63044e9c75763fe6004e892bf06906f684eae7bca";
/// Version 1's vector client proof (the PROOF frame's last 32 bytes).
const V1_CLIENT_PROOF: &str = "772ac5c4085e11c5a6466048dcace8739c79f0be078e6c6a0bc8e4579ec0370d";
/// What a version-1 side answers to a frame of another version: ERROR VERSION carrying 1.
const V1_ERROR_VERSION: &str = "414354520001ff020001";
/// What a version-2 side answers to a frame of another version: ERROR VERSION carrying 2.
const V2_ERROR_VERSION: &str = "414354520002ff020002";

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn secret() -> Secret {
    Secret::with_check(KEY.to_vec(), KeyCheck::AllowWeak).unwrap()
}

fn config(name: &str) -> HandshakeConfig {
    HandshakeConfig::builder().name(name).build().unwrap()
}

fn nonce(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first + i as u8)
}

/// Writes one frame carrying `payload`.
fn write_frame(stream: &mut TcpStream, payload: &[u8]) {
    let mut frame = Vec::new();
    FrameConfig::new()
        .append_frame(&mut frame, payload)
        .unwrap();
    stream.write_all(&frame).unwrap();
}

/// The payloads of the frames in `wire`.
fn payloads(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = FrameReader::new(wire);
    let mut payloads = Vec::new();
    while let Some(payload) = reader.read_frame().unwrap() {
        payloads.push(payload.to_vec());
    }
    payloads
}

/// A simulated version-1 server on loopback: it reads the HELLO, answers ERROR VERSION
/// carrying 1 as version 1 prescribes, and reports the HELLO it got and whether the client
/// then closed without sending anything more.
fn version_1_server() -> (std::net::SocketAddr, mpsc::Receiver<(Vec<u8>, bool)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, reported) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = FrameReader::new(stream);
        let hello = reader.read_frame().unwrap().unwrap().to_vec();
        write_frame(reader.get_mut(), &unhex(V1_ERROR_VERSION));
        // A side never answers an ERROR frame: the next thing is the end of the stream.
        let closed_quietly = matches!(reader.read_frame(), Ok(None));
        let _ = report.send((hello, closed_quietly));
    });
    (addr, reported)
}

#[test]
fn a_version_1_hello_gets_error_version_and_the_server_reports_a_mismatch() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut stream, peer) = listener.accept().unwrap();
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        let result = handshake::server_handshake(&mut stream, &secret(), &config("server"), peer);
        // The caller closes the connection after a failed handshake.
        drop(stream);
        let _ = done.send(result.map(drop));
    });

    write_frame(&mut client, &unhex(V1_HELLO));
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = FrameReader::new(client);
    let answer = reader.read_frame().unwrap().expect("an answer").to_vec();
    assert_eq!(hex(&answer), V2_ERROR_VERSION);
    assert!(matches!(
        result.recv_timeout(WAIT).unwrap(),
        Err(HandshakeError::VersionMismatch { ours: 2, theirs: 1 })
    ));
    assert_eq!(reader.read_frame().unwrap(), None, "then the server closes");
}

#[test]
fn a_version_2_client_reports_a_version_1_servers_error() {
    let (addr, reported) = version_1_server();
    let mut stream = TcpStream::connect(addr).unwrap();
    let result = handshake::client_handshake(&mut stream, &secret(), &config("client"));
    assert!(matches!(
        result,
        Err(HandshakeError::VersionMismatch { ours: 2, theirs: 1 })
    ));
    drop(stream);
    let (hello, closed_quietly) = reported.recv_timeout(WAIT).unwrap();
    assert_eq!(hex(&hello[..7]), "41435452000201", "a version-2 HELLO");
    assert!(closed_quietly, "the client answered the ERROR frame");
}

#[test]
fn a_node_reports_a_version_1_servers_error_on_lookup() {
    let (addr, reported) = version_1_server();
    let node = Node::builder(secret()).name("client").build().unwrap();
    let err = node.lookup::<EchoMsg>(addr, "echo").unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Handshake {
                source: HandshakeError::VersionMismatch { ours: 2, theirs: 1 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("handshake with {addr} failed"),
        "the peer is named"
    );
    let (_, closed_quietly) = reported.recv_timeout(WAIT).unwrap();
    assert!(closed_quietly, "the node answered the ERROR frame");
}

#[test]
fn a_version_1_challenge_is_answered_with_error_version() {
    // A version-1 server that answers any HELLO with its CHALLENGE.
    let key = secret();
    let config = config("client");
    let mut out = Vec::new();
    let client = ClientHandshake::new(&key, &config, nonce(0x00), &mut out);
    out.clear();
    let err = client.step(&unhex(V1_CHALLENGE), &mut out).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 2, theirs: 1 }
    ));
    assert_eq!(payloads(&out), [unhex(V2_ERROR_VERSION)]);
}

#[test]
fn a_version_1_server_proof_does_not_pass_as_version_2() {
    // Version 1's CHALLENGE with its version field changed to 2 on the way.
    let mut challenge = unhex(V1_CHALLENGE);
    challenge[5] = 2;
    let key = secret();
    let config = config("client");
    let mut out = Vec::new();
    let client = ClientHandshake::new(&key, &config, nonce(0x00), &mut out);
    out.clear();
    let err = client.step(&challenge, &mut out).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::Authentication { side: Side::Local }
    ));
    assert_eq!(payloads(&out), [unhex("414354520002ff01")]);
}

#[test]
fn a_version_1_client_proof_does_not_pass_as_version_2() {
    // Version 1's HELLO and PROOF with their version fields changed to 2 on the way.
    let mut hello = unhex(V1_HELLO);
    hello[5] = 2;
    let proof = [&unhex("41435452000203")[..], &unhex(V1_CLIENT_PROOF)].concat();
    let key = secret();
    let config = config("server");
    let server = ServerHandshake::new(&key, &config, nonce(0x20));
    let mut out = Vec::new();
    let Step::Continue(server) = server.step(&hello, &mut out).unwrap() else {
        panic!("the server waits for the PROOF");
    };
    out.clear();
    let err = server.step(&proof, &mut out).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::Authentication { side: Side::Local }
    ));
    assert_eq!(payloads(&out), [unhex("414354520002ff01")]);
}
