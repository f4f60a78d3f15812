//! Fault injection against a node, on 127.0.0.1: slow and flooding clients, and every kind
//! of broken frame. Each closes only the offending connection; honest clients are served.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::System;
use actor_net::{Node, NodeBuilder, Secret};

#[path = "support/peer.rs"]
mod peer;
#[cfg(unix)]
#[path = "support/source.rs"]
mod source;

use peer::{Ping, Pong, WAIT, closed_by_peer, ping_message, raw_session};

const KEY: &[u8] = b"fault tests share this key: 0123456789";

struct Server {
    _system: System,
    _node: Node,
    addr: SocketAddr,
}

fn server(configure: impl FnOnce(NodeBuilder) -> NodeBuilder) -> Server {
    let system = System::new();
    let builder = Node::builder(Secret::new(KEY.to_vec()).unwrap()).listen("127.0.0.1:0");
    let node = configure(builder).build().unwrap();
    node.export("pong", &system.spawn(Pong).unwrap()).unwrap();
    let addr = node.local_addr().unwrap();
    Server {
        _system: system,
        _node: node,
        addr,
    }
}

/// An honest client: connects, authenticates, looks up and asks; returns how long it took.
fn honest_round_trip(addr: SocketAddr) -> Duration {
    let start = Instant::now();
    let client = Node::builder(Secret::new(KEY.to_vec()).unwrap())
        .build()
        .unwrap();
    let pong = client.lookup::<Ping>(addr, "pong").unwrap();
    assert_eq!(pong.ask(Ping, WAIT).unwrap(), 1);
    client.shutdown();
    start.elapsed()
}

/// 200 connections trickling their handshake at one byte per second, 8 from each of 25
/// sources (127.0.0.10 to 127.0.0.34, 8 being the per-source limit), beside an honest client
/// from 127.0.0.1.
#[cfg(unix)]
#[test]
fn slow_handshakes_do_not_keep_an_honest_client_out() {
    let server = server(|b| b);
    let slow: Vec<TcpStream> = (10..35)
        .flat_map(|host| std::iter::repeat_n(std::net::Ipv4Addr::new(127, 0, 0, host), 8))
        .map(|from| source::connect_from(from, server.addr).expect("a loopback source"))
        .collect();
    let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
    let trickle = std::thread::spawn(move || {
        let mut slow = slow;
        loop {
            for stream in &mut slow {
                let _ = stream.write_all(&[0]);
            }
            // Paces the trickle; returns at once when the test is done (the sender drops).
            if !matches!(
                stopped.recv_timeout(Duration::from_secs(1)),
                Err(crossbeam_channel::RecvTimeoutError::Timeout)
            ) {
                return;
            }
        }
    });
    let took = honest_round_trip(server.addr);
    drop(stop);
    trickle.join().unwrap();
    assert!(
        took < Duration::from_secs(5),
        "the honest client took {took:?}"
    );
    println!("honest client served in {took:?} beside 200 slow handshakes");
}

#[test]
fn reordered_frames_close_the_connection() {
    let server = server(|b| b);
    let (mut stream, mut sealer) = raw_session(server.addr, KEY);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    sealer.seal(&ping_message(1), &mut first).unwrap();
    sealer.seal(&ping_message(2), &mut second).unwrap();
    stream.write_all(&second).unwrap();
    stream.write_all(&first).unwrap();
    assert!(closed_by_peer(&mut stream));
    honest_round_trip(server.addr);
}

#[test]
fn negative_looking_and_truncated_lengths_close_the_connection() {
    let server = server(|b| b);
    for header in [0x8000_0000u32, 0xFFFF_FFFF, 0x7FFF_FFFF] {
        let (mut stream, _) = raw_session(server.addr, KEY);
        stream.write_all(&header.to_be_bytes()).unwrap();
        assert!(closed_by_peer(&mut stream), "header {header:#x}");
    }
    // A frame that announces 100 bytes and brings 10 before the peer stops writing.
    let (mut stream, _) = raw_session(server.addr, KEY);
    stream.write_all(&100u32.to_be_bytes()).unwrap();
    stream.write_all(&[0; 10]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed_by_peer(&mut stream));
    honest_round_trip(server.addr);
}

#[test]
fn random_garbage_closes_only_its_connection() {
    let server = server(|b| b);
    // A fixed pseudo-random stream (xorshift), before and after a handshake.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut garbage = vec![0u8; 4096];
    for byte in &mut garbage {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = x as u8;
    }
    let mut early = TcpStream::connect(server.addr).unwrap();
    let _ = early.write_all(&garbage);
    assert!(closed_by_peer(&mut early));
    let (mut late, _) = raw_session(server.addr, KEY);
    let _ = late.write_all(&garbage);
    assert!(closed_by_peer(&mut late));
    honest_round_trip(server.addr);
}
