//! A connection flood beyond a node's limit: the excess is refused quickly, and the node's
//! threads and memory stay bounded. The only test in this binary, so that the thread count
//! and memory are the node's alone.

use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use actor_core::System;
use actor_net::{Node, Secret};

#[path = "support/peer.rs"]
mod peer;

use peer::{Ping, Pong, WAIT, closed_by_peer};

const KEY: &[u8] = b"flood tests share this key: 0123456789";

struct Server {
    _system: System,
    node: Node,
    addr: SocketAddr,
}

fn server() -> Server {
    let system = System::new();
    let node = Node::builder(Secret::new(KEY.to_vec()).unwrap())
        .listen("127.0.0.1:0")
        .max_connections(32)
        .max_handshaking(32)
        .build()
        .unwrap();
    node.export("pong", &system.spawn(Pong).unwrap()).unwrap();
    let addr = node.local_addr().unwrap();
    Server {
        _system: system,
        node,
        addr,
    }
}

fn status(field: &str) -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|n| n.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_connection_flood_is_refused_quickly_with_bounded_threads() {
    let server = server();
    let threads_before = status("Threads:");
    let rss_before = status("VmRSS:");
    let start = Instant::now();
    let mut flood: Vec<TcpStream> = (0..400)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // Connections beyond the limit are closed by the node at once.
    let mut refused = 0;
    for stream in flood.iter_mut().skip(32).take(50) {
        if closed_by_peer(stream) {
            refused += 1;
        }
    }
    let threads_during = status("Threads:");
    let rss_during = status("VmRSS:");
    println!(
        "flood of 400: {refused} of 50 sampled excess connections closed in {:?}; \
         threads {threads_before} -> {threads_during}; rss {rss_before} -> {rss_during} kB; \
         refused so far {}",
        start.elapsed(),
        server.node.refused_count()
    );
    assert_eq!(refused, 50);
    assert!(
        threads_during <= threads_before + 32 + 4,
        "threads: {threads_during}"
    );
    assert!(
        rss_during < rss_before + 64 * 1024,
        "memory: {rss_during} kB"
    );
    drop(flood);
    // The node serves honest clients once the flood has gone.
    let deadline = Instant::now() + WAIT;
    loop {
        let client = Node::builder(Secret::new(KEY.to_vec()).unwrap())
            .build()
            .unwrap();
        if let Ok(pong) = client.lookup::<Ping>(server.addr, "pong") {
            assert_eq!(pong.ask(Ping, WAIT).unwrap(), 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not recover from the flood"
        );
        std::thread::yield_now();
    }
}
