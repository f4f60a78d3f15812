//! Encrypted sessions between nodes: what crosses the wire, and settings that do not meet.
//!
//! A relay on loopback stands between a client node and a server node and records every byte
//! that passes, as a capture of the loopback traffic would.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use actor_core::System;
use actor_net::handshake::{Encryption, HandshakeError};
use actor_net::services::{Echo, EchoMsg};
use actor_net::{NetError, Node, Secret};

const WAIT: Duration = Duration::from_secs(10);
/// What the client sends and gets back: it must never be readable on the wire of an encrypted
/// session.
const MARKER: &[u8] = b"MARKER-7f3a9c-the-payload-is-secret";

fn secret() -> Secret {
    Secret::new(b"encryption tests share this key: 0123456789".to_vec()).unwrap()
}

/// A node serving the echo actor, with `encryption`.
fn server(encryption: Encryption, system: &System) -> Node {
    let node = Node::builder(secret())
        .name("server")
        .listen("127.0.0.1:0")
        .encryption(encryption)
        .build()
        .unwrap();
    node.export("echo", &system.spawn(Echo).unwrap()).unwrap();
    node
}

fn client(encryption: Encryption) -> Node {
    Node::builder(secret())
        .name("client")
        .encryption(encryption)
        .build()
        .unwrap()
}

/// Forwards one connection to `upstream` and records both directions; the record is complete
/// once the thread has ended.
struct Relay {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let thread = std::thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(upstream) else {
                return;
            };
            let pump = |mut from: TcpStream, mut to: TcpStream, record: Arc<Mutex<Vec<u8>>>| {
                std::thread::spawn(move || {
                    let mut buf = [0; 16 * 1024];
                    while let Ok(n @ 1..) = from.read(&mut buf) {
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                })
            };
            let up = pump(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                Arc::clone(&record),
            );
            let down = pump(server, client, record);
            let _ = up.join();
            let _ = down.join();
        });
        Relay {
            addr,
            seen,
            thread: Some(thread),
        }
    }

    /// Everything that passed, both ways, once both sides have closed.
    fn capture(mut self) -> Vec<u8> {
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Calls the echo actor through a relay with the marker, and returns what crossed the wire.
fn call_through_a_relay(client_setting: Encryption, server_setting: Encryption) -> Vec<u8> {
    let system = System::new();
    let server = server(server_setting, &system);
    let relay = Relay::start(server.local_addr().unwrap());
    let client = client(client_setting);
    let echo = client.lookup::<EchoMsg>(relay.addr, "echo").unwrap();
    let answer = echo
        .ask(|reply| EchoMsg::Echo(MARKER.to_vec(), reply), WAIT)
        .unwrap();
    assert_eq!(answer, MARKER);
    client.shutdown();
    server.shutdown();
    system.shutdown();
    relay.capture()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn the_marker_crosses_the_wire_in_clear_only_with_encryption_off() {
    let clear = call_through_a_relay(Encryption::Off, Encryption::Preferred);
    assert!(
        contains(&clear, MARKER),
        "without encryption, the marker is on the wire ({} bytes captured)",
        clear.len()
    );
    // The marker goes out in the request and comes back in the answer.
    assert_eq!(
        clear.windows(MARKER.len()).filter(|w| *w == MARKER).count(),
        2
    );

    for (client, server) in [
        (Encryption::Preferred, Encryption::Preferred),
        (Encryption::Required, Encryption::Preferred),
        (Encryption::Preferred, Encryption::Required),
    ] {
        let sealed = call_through_a_relay(client, server);
        assert!(sealed.len() > 2 * MARKER.len(), "traffic was captured");
        assert!(
            !contains(&sealed, MARKER),
            "{client:?}/{server:?}: the marker is on the wire"
        );
        // Not even a part of it.
        assert!(!contains(&sealed, &MARKER[..12]), "{client:?}/{server:?}");
    }
}

#[test]
fn required_against_off_is_refused_with_a_clear_error_both_ways() {
    for (client_setting, server_setting) in [
        (Encryption::Required, Encryption::Off),
        (Encryption::Off, Encryption::Required),
    ] {
        let system = System::new();
        let server = server(server_setting, &system);
        let client = client(client_setting);
        let err = client
            .lookup::<EchoMsg>(server.local_addr().unwrap(), "echo")
            .unwrap_err();
        match err {
            NetError::Handshake {
                source: HandshakeError::Encryption { ours, theirs },
                ..
            } => assert_eq!((ours, theirs), (client_setting, server_setting)),
            other => panic!("{client_setting:?} against {server_setting:?}: {other:?}"),
        }
        assert_eq!(server.connection_count(), 0);
        system.shutdown();
    }
    let message = HandshakeError::Encryption {
        ours: Encryption::Off,
        theirs: Encryption::Required,
    }
    .to_string();
    assert_eq!(
        message,
        "encryption settings do not meet: this side's is off, the peer's required"
    );
}

#[test]
fn every_kind_of_message_works_in_an_encrypted_session() {
    // Lookups, tells with replies, large answers, monitors: the echo of a large payload.
    let system = System::new();
    let server = server(Encryption::Required, &system);
    let client = client(Encryption::Required);
    let echo = client
        .lookup::<EchoMsg>(server.local_addr().unwrap(), "echo")
        .unwrap();
    for size in [0, 1, 1000, 100_000, 1_000_000] {
        let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let answer = echo
            .ask(|reply| EchoMsg::Echo(payload.clone(), reply), WAIT)
            .unwrap();
        assert_eq!(answer, payload, "{size} bytes");
    }
    let mut monitor = echo.monitor();
    server.shutdown();
    assert!(monitor.wait_timeout(WAIT).is_ok(), "the monitor fires");
    system.shutdown();
}

/// A PING message (kind 7) with `nonce`, as a session frame's body.
fn ping(nonce: u64) -> Vec<u8> {
    let mut body = vec![7, 0, 0, 0, 8];
    body.extend(nonce.to_be_bytes());
    body
}

#[test]
fn a_flipped_bit_anywhere_in_an_encrypted_frame_closes_the_connection() {
    use actor_core::codec::FrameReader;
    use actor_net::handshake::{self, HandshakeConfig};

    let system = System::new();
    let server = server(Encryption::Required, &system);
    let config = HandshakeConfig::builder()
        .name("raw")
        .encryption(Encryption::Required)
        .build()
        .unwrap();
    let connect = || {
        let mut stream = TcpStream::connect(server.local_addr().unwrap()).unwrap();
        let done = handshake::client_handshake(&mut stream, &secret(), &config).unwrap();
        assert!(done.encrypted);
        stream.set_read_timeout(Some(WAIT)).unwrap();
        (stream, done)
    };

    // Untouched, the frame is answered: a PONG comes back.
    let (mut stream, mut done) = connect();
    let mut frame = Vec::new();
    done.sealer.seal(&ping(42), &mut frame).unwrap();
    stream.write_all(&frame).unwrap();
    let mut reader = FrameReader::new(stream.try_clone().unwrap());
    let answer = reader.read_frame().unwrap().expect("a PONG");
    let body = done.opener.open(answer).unwrap();
    assert_eq!(body[0], 8, "PONG");
    assert_eq!(body[5..], 42_u64.to_be_bytes());

    // Flipped in its sequence number, its body or its tag: the node closes at once.
    let len = frame.len();
    for at in [4, 11, 12, 15, len - 16, len - 1] {
        let (mut stream, mut done) = connect();
        let mut frame = Vec::new();
        done.sealer.seal(&ping(7), &mut frame).unwrap();
        frame[at] ^= 0x01;
        stream.write_all(&frame).unwrap();
        let mut rest = Vec::new();
        // The end of the stream, or a reset: either way, closed without an answer.
        let read = stream.read_to_end(&mut rest);
        let closed = match &read {
            Ok(_) => true,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(
            closed && rest.is_empty(),
            "byte {at}: the node answered {rest:02x?} ({read:?})"
        );
    }
    system.shutdown();
}
