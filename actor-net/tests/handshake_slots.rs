//! One source cannot hold a node's handshake slots (PROTOCOL.md, "Connection limits"): it gets
//! its share, its excess connections are told ERROR BUSY, and an honest peer from another
//! source authenticates as usual. 127.0.0.2 stands for the other host; Unix only, where a
//! client socket can be bound to it.
#![cfg(unix)]

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::System;
use actor_net::handshake::{self, HandshakeConfig, HandshakeError};
use actor_net::{NetError, Node, Secret};

#[path = "support/peer.rs"]
mod peer;
#[path = "support/source.rs"]
mod source;

use peer::{Ping, Pong, WAIT};

const KEY: &[u8] = b"handshake slot tests: 0123456789 abcdefghij";

fn secret() -> Secret {
    Secret::new(KEY.to_vec()).unwrap()
}

const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Opens a connection from the attacker's address that sends nothing.
fn silent_from_attacker(addr: SocketAddr) -> TcpStream {
    source::connect_from(ATTACKER, addr).expect("a connection from 127.0.0.2")
}

#[test]
fn one_source_holds_only_its_share_and_is_told_busy_beyond_it() {
    let system = System::new();
    // Long enough that no slot frees itself while the test runs.
    let node = Node::builder(secret())
        .listen("127.0.0.1:0")
        .max_handshaking(16)
        .max_handshaking_per_source(4)
        .handshake_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    node.export("pong", &system.spawn(Pong).unwrap()).unwrap();
    let addr = node.local_addr().unwrap();

    // Before the per-source limit, these 40 held all 16 slots and an honest peer was shut out.
    let held: Vec<TcpStream> = (0..40).map(|_| silent_from_attacker(addr)).collect();

    // One more from the same source is told that the node is busy. The node accepts in
    // order, so once this answer is in, it has judged all 40 before it.
    let mut late = silent_from_attacker(addr);
    let config = HandshakeConfig::default();
    let refused = handshake::client_handshake(&mut late, &secret(), &config).unwrap_err();
    assert!(matches!(refused, HandshakeError::Busy), "{refused:?}");
    assert!(refused.to_string().contains("busy"), "{refused}");
    assert_eq!(node.refused_count(), 37, "4 held, 36 + 1 refused");

    // An honest peer from another source authenticates and is served at once.
    let start = Instant::now();
    let client = Node::builder(secret()).build().unwrap();
    let pong = client.lookup::<Ping>(addr, "pong").unwrap();
    assert_eq!(pong.ask(Ping, WAIT).unwrap(), 1);
    let took = start.elapsed();
    println!("honest peer served in {took:?} while one source held its 4 slots");
    client.shutdown();
    drop(held);
    node.shutdown();
    system.shutdown();
}

#[test]
fn a_node_told_busy_reports_it_in_its_error() {
    let node = Node::builder(secret())
        .listen("127.0.0.1:0")
        .max_handshaking_per_source(1)
        .handshake_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let addr = node.local_addr().unwrap();
    let _held = TcpStream::connect(addr).unwrap();
    let client = Node::builder(secret()).build().unwrap();
    let err = client.lookup::<Ping>(addr, "pong").unwrap_err();
    assert!(
        matches!(
            &err,
            NetError::Handshake {
                source: HandshakeError::Busy,
                ..
            }
        ),
        "{err:?}"
    );
    client.shutdown();
    node.shutdown();
}
