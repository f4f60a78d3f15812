//! The UDP proxy on loopback with port 0: answers to the right client, drops (all, none, the
//! same ones for the same seed), delay (not before, then after; order kept), blackhole both
//! ways, the bounded flow table and delay queue, and stop.
//!
//! Every datagram is sent after the previous one was counted by the proxy, so that no test
//! depends on a socket buffer holding a burst; no assertion is about speed.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use actor_testkit::{Direction, FaultProxy, FaultProxyBuilder, Protocol, ProxyStats};

mod support;

use support::{DELAY, EARLY, SILENCE, WAIT, wait_for_stats};

/// A socket on 127.0.0.1 that waits at most `WAIT` for a datagram.
fn socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

/// An upstream socket (the test answers for it), and a proxy in front of it.
fn proxy(
    configure: impl FnOnce(FaultProxyBuilder) -> FaultProxyBuilder,
) -> (FaultProxy, UdpSocket) {
    let upstream = socket();
    let builder = FaultProxy::builder(Protocol::Udp, upstream.local_addr().unwrap());
    (configure(builder).build().unwrap(), upstream)
}

/// The next datagram on `socket` (within its read timeout), and where it came from.
fn receive(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    (buf[..n].to_vec(), from)
}

/// Whether nothing arrives on `socket` for `wait`.
fn silent_for(socket: &UdpSocket, wait: Duration) -> bool {
    socket.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 2048];
    let silent = socket.recv_from(&mut buf).is_err();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    silent
}

/// Datagrams that the proxy has handled going upstream, forwarded or dropped.
fn handled_upward(stats: &ProxyStats) -> u64 {
    stats.to_upstream.forwarded_datagrams + stats.to_upstream.dropped_datagrams
}

#[test]
fn answers_go_back_to_the_client_that_asked() {
    let (proxy, upstream) = proxy(|b| b);
    let (a, b) = (socket(), socket());
    a.send_to(b"from a", proxy.local_addr()).unwrap();
    let (got, flow_a) = receive(&upstream);
    assert_eq!(got, b"from a");
    b.send_to(b"from b", proxy.local_addr()).unwrap();
    let (got, flow_b) = receive(&upstream);
    assert_eq!(got, b"from b");
    assert_ne!(flow_a, flow_b, "one upstream socket per client");

    upstream.send_to(b"to b", flow_b).unwrap();
    upstream.send_to(b"to a", flow_a).unwrap();
    assert_eq!(receive(&b), (b"to b".to_vec(), proxy.local_addr()));
    assert_eq!(receive(&a), (b"to a".to_vec(), proxy.local_addr()));
    let stats = wait_for_stats(&proxy, "counted", |s| s.to_client.forwarded_datagrams == 2);
    assert_eq!(stats.opened, 2);
    assert_eq!(stats.to_upstream.forwarded_datagrams, 2);
    assert_eq!(stats.to_upstream.forwarded_bytes, 12);
}

#[test]
fn drop_one_drops_everything_and_zero_nothing() {
    let (proxy, upstream) = proxy(|b| b.drop_probability(1.0));
    let client = socket();
    for i in 0..50u64 {
        client
            .send_to(&i.to_be_bytes(), proxy.local_addr())
            .unwrap();
        wait_for_stats(&proxy, "handled", |s| handled_upward(s) == i + 1);
    }
    assert!(silent_for(&upstream, SILENCE));
    let stats = proxy.stats();
    assert_eq!(stats.to_upstream.dropped_datagrams, 50);
    assert_eq!(stats.to_upstream.dropped_bytes, 400);
    assert_eq!(stats.to_upstream.forwarded_datagrams, 0);

    proxy.faults().set_drop_probability(0.0).unwrap();
    for i in 0..20u64 {
        client
            .send_to(&i.to_be_bytes(), proxy.local_addr())
            .unwrap();
        assert_eq!(receive(&upstream).0, i.to_be_bytes());
    }
}

/// The numbers (0 to 199) that reach the upstream through a proxy dropping with
/// probability 0.5 and `seed`.
fn survivors(seed: u64) -> Vec<u64> {
    let (proxy, upstream) = proxy(|b| b.drop_probability(0.5).seed(seed));
    let client = socket();
    let mut survivors = Vec::new();
    for i in 0..200u64 {
        client
            .send_to(&i.to_be_bytes(), proxy.local_addr())
            .unwrap();
        let stats = wait_for_stats(&proxy, "handled", |s| handled_upward(s) == i + 1);
        if stats.to_upstream.forwarded_datagrams > survivors.len() as u64 {
            let (got, _) = receive(&upstream);
            survivors.push(u64::from_be_bytes(got.try_into().unwrap()));
        }
    }
    survivors
}

#[test]
fn the_same_seed_drops_the_same_datagrams() {
    let first = survivors(7);
    assert_eq!(first, survivors(7));
    assert!(
        (50..150).contains(&first.len()),
        "{} of 200 kept at 0.5",
        first.len()
    );
    assert_ne!(first, survivors(8));
}

#[test]
fn a_delayed_datagram_does_not_arrive_before_the_delay_and_does_after() {
    let (proxy, upstream) = proxy(|b| b.delay(DELAY));
    let client = socket();
    client.send_to(b"late", proxy.local_addr()).unwrap();
    assert!(silent_for(&upstream, EARLY), "arrived before the delay");
    let (got, flow) = receive(&upstream);
    assert_eq!(got, b"late");
    upstream.send_to(b"late too", flow).unwrap();
    assert!(
        silent_for(&client, EARLY),
        "the answer arrived before the delay"
    );
    assert_eq!(receive(&client).0, b"late too");
}

#[test]
fn a_flow_keeps_its_order_when_the_delay_changes() {
    let (proxy, upstream) =
        proxy(|b| b.delay_toward(Direction::ToUpstream, Duration::from_millis(300)));
    let client = socket();
    for i in 0..30u64 {
        if i == 10 {
            proxy.faults().set_delay(Duration::ZERO);
        }
        if i == 20 {
            proxy.faults().set_delay(Duration::from_millis(50));
        }
        client
            .send_to(&i.to_be_bytes(), proxy.local_addr())
            .unwrap();
    }
    let received: Vec<u64> = (0..30)
        .map(|_| u64::from_be_bytes(receive(&upstream).0.try_into().unwrap()))
        .collect();
    assert_eq!(received, (0..30).collect::<Vec<u64>>());
}

#[test]
fn blackhole_silences_both_ways_then_off_resumes() {
    let (proxy, upstream) = proxy(|b| b);
    let client = socket();
    client.send_to(b"hi", proxy.local_addr()).unwrap();
    let (_, flow) = receive(&upstream);

    proxy.faults().set_blackhole(true);
    client.send_to(b"lost", proxy.local_addr()).unwrap();
    upstream.send_to(b"lost too", flow).unwrap();
    wait_for_stats(&proxy, "dropped both ways", |s| {
        s.to_upstream.dropped_datagrams == 1 && s.to_client.dropped_datagrams == 1
    });
    assert!(silent_for(&upstream, SILENCE));
    assert!(silent_for(&client, SILENCE));

    proxy.faults().set_blackhole(false);
    client.send_to(b"back", proxy.local_addr()).unwrap();
    assert_eq!(receive(&upstream), (b"back".to_vec(), flow));
    upstream.send_to(b"again", flow).unwrap();
    assert_eq!(receive(&client).0, b"again");
}

#[test]
fn a_full_table_evicts_the_flow_that_sent_least_recently() {
    let (proxy, upstream) = proxy(|b| b.max_clients(2));
    let clients = [socket(), socket(), socket()];
    let mut flows = Vec::new();
    for client in &clients {
        client.send_to(b"hello", proxy.local_addr()).unwrap();
        flows.push(receive(&upstream).1);
    }
    wait_for_stats(&proxy, "evicted one", |s| (s.opened, s.evicted) == (3, 1));
    // The newest client is answered.
    upstream.send_to(b"to c", flows[2]).unwrap();
    assert_eq!(receive(&clients[2]).0, b"to c");
    // The evicted one (the first) comes back with a new flow, evicting the second.
    clients[0].send_to(b"again", proxy.local_addr()).unwrap();
    let (_, new_flow) = receive(&upstream);
    assert_ne!(new_flow, flows[0]);
    wait_for_stats(&proxy, "evicted two", |s| (s.opened, s.evicted) == (4, 2));
    upstream.send_to(b"to a", new_flow).unwrap();
    assert_eq!(receive(&clients[0]).0, b"to a");
}

#[test]
fn a_full_delay_queue_drops_and_counts_the_excess() {
    // Long enough that none is due while the ten are sent.
    let (proxy, upstream) = proxy(|b| b.delay(Duration::from_secs(2)).max_queued_bytes(1000));
    let client = socket();
    for i in 0..10u64 {
        client.send_to(&[i as u8; 400], proxy.local_addr()).unwrap();
        // Forwarded ones are counted only when due, after the loop: count the drops here.
        wait_for_stats(&proxy, "handled", |s| {
            s.to_upstream.dropped_datagrams == i.saturating_sub(1)
        });
    }
    // Two fit in 1000 bytes; the other eight were dropped.
    assert_eq!(receive(&upstream).0, [0u8; 400]);
    assert_eq!(receive(&upstream).0, [1u8; 400]);
    let stats = wait_for_stats(&proxy, "forwarded", |s| {
        s.to_upstream.forwarded_datagrams == 2
    });
    assert_eq!(stats.to_upstream.dropped_datagrams, 8);
    assert_eq!(stats.to_upstream.dropped_bytes, 3200);
    assert!(silent_for(&upstream, SILENCE));
}

#[test]
fn stop_joins_every_thread_with_datagrams_still_delayed() {
    let (proxy, upstream) = proxy(|b| b.delay(Duration::from_secs(60)));
    let clients = [socket(), socket()];
    for client in &clients {
        client.send_to(b"queued", proxy.local_addr()).unwrap();
    }
    wait_for_stats(&proxy, "two flows", |s| s.opened == 2);
    let (stopped_tx, stopped) = mpsc::channel();
    std::thread::spawn(move || {
        proxy.stop();
        let _ = stopped_tx.send(());
    });
    stopped.recv_timeout(WAIT).expect("stop returned");
    assert!(
        silent_for(&upstream, SILENCE),
        "a delayed datagram leaked after stop"
    );
}
