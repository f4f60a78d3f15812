//! A node publishes who talks to it on `system.net`: connections, handshakes that succeed or
//! fail, refusals by a limit, and ends of authenticated connections.

use std::time::Duration;

use actor_core::System;
use actor_net::{NET_EXCHANGE, NetError, NetEvent, Node, Secret};
use crossbeam_channel::Receiver;

const WAIT: Duration = Duration::from_secs(10);

/// The next event, skipping none.
fn next(events: &Receiver<NetEvent>) -> NetEvent {
    events.recv_timeout(WAIT).expect("an event on system.net")
}

#[test]
fn connections_handshakes_refusals_and_ends_are_published() {
    let secret = Secret::generate().unwrap();
    let system = System::new();
    let (tx, events) = crossbeam_channel::unbounded::<NetEvent>();
    let _subscription = system
        .exchange::<NetEvent>(NET_EXCHANGE)
        .unwrap()
        .subscribe(tx);
    let server = Node::builder(secret.clone())
        .name("server")
        .listen("127.0.0.1:0")
        .system(&system)
        .max_handshaking_per_source(1)
        .handshake_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let addr = server.local_addr().unwrap();

    // An honest client: connected, then authenticated, under the name it gives.
    let client = Node::builder(secret.clone())
        .name("client")
        .build()
        .unwrap();
    assert!(matches!(
        client.lookup::<actor_net::cluster::ClusterMsg>(addr, "nothing"),
        Err(NetError::NotFound { .. })
    ));
    let NetEvent::Connected { peer } = next(&events) else {
        panic!("not a connection first")
    };
    match next(&events) {
        NetEvent::Authenticated {
            peer: authenticated,
            name,
            inbound: true,
        } => {
            assert_eq!((authenticated, name.as_str()), (peer, "client"));
        }
        other => panic!("not an inbound authentication: {other:?}"),
    }

    // A client with another key: connected, then refused.
    let stranger = Node::builder(Secret::generate().unwrap()).build().unwrap();
    assert!(
        stranger
            .lookup::<actor_net::cluster::ClusterMsg>(addr, "x")
            .is_err()
    );
    assert!(matches!(next(&events), NetEvent::Connected { .. }));
    match next(&events) {
        NetEvent::Refused { reason, .. } => assert!(reason.contains("authentication"), "{reason}"),
        other => panic!("not a refusal: {other:?}"),
    }

    // A limit: one silent connection holds the source's one handshake slot; the next is
    // refused as busy.
    let _silent = std::net::TcpStream::connect(addr).unwrap();
    assert!(matches!(next(&events), NetEvent::Connected { .. }));
    assert!(
        stranger
            .lookup::<actor_net::cluster::ClusterMsg>(addr, "x")
            .is_err()
    );
    match next(&events) {
        NetEvent::Refused { reason, .. } => assert!(reason.contains("busy"), "{reason}"),
        other => panic!("not a refusal by a limit: {other:?}"),
    }

    // The honest client leaves: its connection's end, with its name.
    client.shutdown();
    match next(&events) {
        NetEvent::Disconnected {
            peer: gone, name, ..
        } => {
            assert_eq!((gone, name.as_str()), (peer, "client"));
        }
        other => panic!("not the end of the client's connection: {other:?}"),
    }
    stranger.shutdown();
    server.shutdown();
}
