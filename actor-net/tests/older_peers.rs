//! A version-3 node against peers of protocol versions 1 and 2: every meeting ends in a clear
//! ERROR VERSION, both ways, and nothing an older peer computed passes as version 3.
//!
//! The older frames are the bytes of those versions' test vectors (same key, nonces and names
//! as `PROTOCOL.md`'s), so these tests play real older peers, not imitations.

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

/// An older protocol version, as its test vectors show it.
struct Older {
    version: u16,
    /// The vector HELLO: "ACTR", the version, kind 1, nonce 00..1f, the name "client".
    hello: &'static str,
    /// The vector CHALLENGE: nonce 20..3f, the name "server", and that version's proof.
    challenge: &'static str,
    /// The vector client proof (the PROOF frame's last 32 bytes).
    client_proof: &'static str,
    /// What a side of that version answers to a frame of another version.
    error_version: &'static str,
}

const OLDER: [Older; 2] = [
    Older {
        version: 1,
        hello: "41435452000101000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0006636c69656e74",
        challenge: "41435452000102202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f000673657276657273c37ec72485f49ee0cc63b63044e9c75763fe6004e892bf06906f684eae7bca",
        client_proof: "772ac5c4085e11c5a6466048dcace8739c79f0be078e6c6a0bc8e4579ec0370d",
        error_version: "414354520001ff020001",
    },
    Older {
        version: 2,
        hello: "41435452000201000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0006636c69656e74",
        challenge: "41435452000202202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f0006736572766572d1370909e10cf87bfe4614b90f970b33f99ef7680070879075489607fcbd2ed6",
        client_proof: "9abdfa6e529c342c350fcea8a681ba3771a62756a490432082dc05ee842fd5fb",
        error_version: "414354520002ff020002",
    },
];

/// What a version-3 side answers to a frame of another version: ERROR VERSION carrying 3.
const V3_ERROR_VERSION: &str = "414354520003ff020003";
/// ERROR AUTH from a version-3 side.
const V3_ERROR_AUTH: &str = "414354520003ff01";

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

/// A simulated older server on loopback: it reads the HELLO, answers ERROR VERSION as its
/// version prescribes, and reports the HELLO it got and whether the client then closed without
/// sending anything more.
fn older_server(older: &Older) -> (std::net::SocketAddr, mpsc::Receiver<(Vec<u8>, bool)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, reported) = mpsc::channel();
    let error = unhex(older.error_version);
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = FrameReader::new(stream);
        let hello = reader.read_frame().unwrap().unwrap().to_vec();
        write_frame(reader.get_mut(), &error);
        // A side never answers an ERROR frame: the next thing is the end of the stream.
        let closed_quietly = matches!(reader.read_frame(), Ok(None));
        let _ = report.send((hello, closed_quietly));
    });
    (addr, reported)
}

#[test]
fn an_older_hello_gets_error_version_and_the_server_reports_a_mismatch() {
    for older in &OLDER {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut stream, peer) = listener.accept().unwrap();
        let (done, result) = mpsc::channel();
        thread::spawn(move || {
            let result =
                handshake::server_handshake(&mut stream, &secret(), &config("server"), peer);
            // The caller closes the connection after a failed handshake.
            drop(stream);
            let _ = done.send(result.map(drop));
        });

        write_frame(&mut client, &unhex(older.hello));
        client.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = FrameReader::new(client);
        let answer = reader.read_frame().unwrap().expect("an answer").to_vec();
        assert_eq!(hex(&answer), V3_ERROR_VERSION);
        let theirs = older.version;
        assert!(matches!(
            result.recv_timeout(WAIT).unwrap(),
            Err(HandshakeError::VersionMismatch { ours: 3, theirs: t }) if t == theirs
        ));
        assert_eq!(reader.read_frame().unwrap(), None, "then the server closes");
    }
}

#[test]
fn a_version_3_client_reports_an_older_servers_error() {
    for older in &OLDER {
        let (addr, reported) = older_server(older);
        let mut stream = TcpStream::connect(addr).unwrap();
        let result = handshake::client_handshake(&mut stream, &secret(), &config("client"));
        let theirs = older.version;
        assert!(matches!(
            result,
            Err(HandshakeError::VersionMismatch { ours: 3, theirs: t }) if t == theirs
        ));
        drop(stream);
        let (hello, closed_quietly) = reported.recv_timeout(WAIT).unwrap();
        assert_eq!(hex(&hello[..7]), "41435452000301", "a version-3 HELLO");
        assert!(closed_quietly, "the client answered the ERROR frame");
    }
}

#[test]
fn a_node_reports_an_older_servers_error_on_lookup() {
    for older in &OLDER {
        let (addr, reported) = older_server(older);
        let node = Node::builder(secret()).name("client").build().unwrap();
        let err = node.lookup::<EchoMsg>(addr, "echo").unwrap_err();
        let theirs = older.version;
        assert!(
            matches!(
                err,
                NetError::Handshake {
                    source: HandshakeError::VersionMismatch { ours: 3, theirs: t },
                    ..
                } if t == theirs
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("handshake with {addr} failed: ")),
            "the peer is named: {message}"
        );
        assert!(message.contains("version"), "the cause is shown: {message}");
        let (_, closed_quietly) = reported.recv_timeout(WAIT).unwrap();
        assert!(closed_quietly, "the node answered the ERROR frame");
    }
}

#[test]
fn an_older_challenge_is_answered_with_error_version() {
    for older in &OLDER {
        // An older server that answers any HELLO with its CHALLENGE.
        let key = secret();
        let config = config("client");
        let mut out = Vec::new();
        let client = ClientHandshake::new(&key, &config, nonce(0x00), &mut out);
        out.clear();
        let err = client.step(&unhex(older.challenge), &mut out).unwrap_err();
        let theirs = older.version;
        assert!(matches!(
            err,
            HandshakeError::VersionMismatch { ours: 3, theirs: t } if t == theirs
        ));
        assert_eq!(payloads(&out), [unhex(V3_ERROR_VERSION)]);
    }
}

#[test]
fn an_older_server_proof_does_not_pass_as_version_3() {
    for older in &OLDER {
        // The older CHALLENGE with its version field changed to 3 and a `mode` byte (MACs
        // only) put before its proof on the way: the proof is computed under other labels.
        let challenge = unhex(older.challenge);
        let (fields, proof) = challenge.split_at(challenge.len() - 32);
        let mut forged = [fields, &[0x01], proof].concat();
        forged[5] = 3;
        let key = secret();
        let config = HandshakeConfig::builder()
            .name("client")
            .encryption(actor_net::handshake::Encryption::Off)
            .build()
            .unwrap();
        let mut out = Vec::new();
        let client = ClientHandshake::new(&key, &config, nonce(0x00), &mut out);
        out.clear();
        let err = client.step(&forged, &mut out).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Authentication { side: Side::Local }
        ));
        assert_eq!(payloads(&out), [unhex(V3_ERROR_AUTH)]);
    }
}

#[test]
fn an_older_client_proof_does_not_pass_as_version_3() {
    for older in &OLDER {
        // The older HELLO and PROOF with their version fields changed to 3, and an `accepts`
        // byte added to the HELLO, on the way.
        let mut hello = unhex(older.hello);
        hello[5] = 3;
        hello.push(0x01);
        let proof = [&unhex("41435452000303")[..], &unhex(older.client_proof)].concat();
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
        assert_eq!(payloads(&out), [unhex(V3_ERROR_AUTH)]);
    }
}
