//! The TCP proxy on loopback with port 0: forwarding and counting, delay (not before, then
//! after; order kept), blackhole (open but silent, then traffic again), closes, limits, and
//! stop.
//!
//! No assertion is about speed: a delay is checked by a receive that gives up well before it
//! and one that waits long after it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actor_testkit::{Direction, FaultProxy, FaultProxyBuilder, Protocol};

mod support;

use support::{DELAY, EARLY, SILENCE, WAIT, wait_for_stats};

/// An upstream listener, and a proxy in front of it built from `builder`.
fn proxy(
    configure: impl FnOnce(FaultProxyBuilder) -> FaultProxyBuilder,
) -> (FaultProxy, TcpListener) {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let builder = FaultProxy::builder(Protocol::Tcp, upstream.local_addr().unwrap());
    (configure(builder).build().unwrap(), upstream)
}

/// A client connected through `proxy`, and the upstream's side of that connection.
fn connect(proxy: &FaultProxy, upstream: &TcpListener) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(proxy.local_addr()).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let server = accept(upstream);
    (client, server)
}

/// The next connection to `listener`, within `WAIT`.
fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(WAIT)).unwrap();
                return stream;
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the proxy never connected upstream"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => panic!("accept: {error}"),
        }
    }
}

/// Reads exactly `n` bytes (within the stream's read timeout).
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).unwrap();
    buf
}

/// Whether `stream` stays silent for `wait`: no data, no end of stream, no reset.
fn silent_for(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64];
    let silent = matches!(
        stream.read(&mut buf),
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
    );
    stream.set_read_timeout(Some(WAIT)).unwrap();
    silent
}

/// Whether the peer closed `stream` (end of stream or a reset) within `WAIT`.
fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn forwards_both_ways_and_counts_the_bytes() {
    let (proxy, upstream) = proxy(|b| b);
    let (mut client, mut server) = connect(&proxy, &upstream);
    client.write_all(b"ping").unwrap();
    assert_eq!(read_n(&mut server, 4), b"ping");
    server.write_all(b"pong!").unwrap();
    assert_eq!(read_n(&mut client, 5), b"pong!");
    let stats = wait_for_stats(&proxy, "counted", |s| s.to_client.forwarded_bytes == 5);
    assert_eq!(stats.to_upstream.forwarded_bytes, 4);
    assert_eq!(stats.opened, 1);
    assert_eq!((stats.refused, stats.evicted), (0, 0));
    assert_eq!(
        stats.to_upstream.dropped_bytes + stats.to_client.dropped_bytes,
        0
    );
}

#[test]
fn a_delayed_chunk_does_not_arrive_before_the_delay_and_does_after() {
    let (proxy, upstream) = proxy(|b| b.delay_toward(Direction::ToUpstream, DELAY));
    let (mut client, mut server) = connect(&proxy, &upstream);
    client.write_all(b"late").unwrap();
    assert!(silent_for(&mut server, EARLY), "arrived before the delay");
    assert_eq!(read_n(&mut server, 4), b"late");
    // The other direction is not delayed: no assertion on how fast, only that it arrives.
    server.write_all(b"back").unwrap();
    assert_eq!(read_n(&mut client, 4), b"back");
}

#[test]
fn order_is_kept_when_the_delay_changes_mid_stream() {
    let (proxy, upstream) = proxy(|b| b.delay(Duration::from_millis(300)));
    let (mut client, mut server) = connect(&proxy, &upstream);
    let mut sent = Vec::new();
    for i in 0..90u32 {
        match i {
            30 => proxy.faults().set_delay(Duration::ZERO),
            60 => proxy.faults().set_delay(Duration::from_millis(50)),
            _ => {}
        }
        let line = format!("{i}\n");
        client.write_all(line.as_bytes()).unwrap();
        sent.extend_from_slice(line.as_bytes());
    }
    assert_eq!(read_n(&mut server, sent.len()), sent);
}

#[test]
fn blackhole_keeps_the_connection_open_but_silent_then_off_resumes() {
    let (proxy, upstream) = proxy(|b| b);
    let (mut client, mut server) = connect(&proxy, &upstream);
    client.write_all(b"hi").unwrap();
    assert_eq!(read_n(&mut server, 2), b"hi");

    proxy.faults().set_blackhole(true);
    client.write_all(b"lost").unwrap();
    server.write_all(b"lost too").unwrap();
    // Both reached the proxy and were discarded, not left in flight.
    wait_for_stats(&proxy, "dropped both ways", |s| {
        s.to_upstream.dropped_bytes == 4 && s.to_client.dropped_bytes == 8
    });
    assert!(
        silent_for(&mut server, SILENCE),
        "the upstream heard through the blackhole"
    );
    assert!(
        silent_for(&mut client, SILENCE),
        "the client heard through the blackhole"
    );

    proxy.faults().set_blackhole(false);
    client.write_all(b"back").unwrap();
    assert_eq!(read_n(&mut server, 4), b"back");
    server.write_all(b"again").unwrap();
    assert_eq!(read_n(&mut client, 5), b"again");
    assert_eq!(proxy.stats().opened, 1, "the same connection throughout");
}

/// The chunk may be discarded as it is read or when it falls due (the blackhole is looked at
/// both times); either way it never reaches the upstream.
#[test]
fn delayed_data_is_swallowed_once_the_blackhole_is_on() {
    let (proxy, upstream) = proxy(|b| b.delay_toward(Direction::ToUpstream, DELAY));
    let (mut client, mut server) = connect(&proxy, &upstream);
    client.write_all(b"queued").unwrap();
    proxy.faults().set_blackhole(true);
    wait_for_stats(&proxy, "dropped at its due time", |s| {
        s.to_upstream.dropped_bytes == 6
    });
    assert!(silent_for(&mut server, SILENCE));
}

#[test]
fn a_close_under_the_blackhole_is_not_passed_on() {
    let (proxy, upstream) = proxy(|b| b);
    let (client, mut server) = connect(&proxy, &upstream);
    proxy.faults().set_blackhole(true);
    client.shutdown(Shutdown::Write).unwrap();
    drop(client);
    assert!(
        silent_for(&mut server, SILENCE),
        "the close went through the blackhole"
    );
}

#[test]
fn a_close_follows_the_delayed_data() {
    let (proxy, upstream) = proxy(|b| b.delay(Duration::from_millis(200)));
    let (mut client, mut server) = connect(&proxy, &upstream);
    client.write_all(b"bye").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut all = Vec::new();
    server.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"bye");
    // Half-closed: the other direction still works.
    server.write_all(b"ok").unwrap();
    drop(server);
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, b"ok");
}

#[test]
fn a_full_delay_queue_slows_the_sender_and_loses_nothing() {
    const TOTAL: usize = 2 << 20;
    let (proxy, upstream) = proxy(|b| {
        b.delay(Duration::from_millis(20))
            .max_queued_bytes(64 * 1024)
    });
    let (mut client, mut server) = connect(&proxy, &upstream);
    let writer = std::thread::spawn(move || {
        let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        client.write_all(&data).unwrap();
        client
    });
    let received = read_n(&mut server, TOTAL);
    assert!(
        received
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8)
    );
    drop(writer.join().unwrap());
    // A counter is updated after its write: the server may have read the last bytes first.
    let stats = wait_for_stats(&proxy, "all forwarded", |s| {
        s.to_upstream.forwarded_bytes == TOTAL as u64
    });
    assert_eq!(stats.to_upstream.dropped_bytes, 0);
}

#[test]
fn an_unreachable_upstream_closes_the_client_and_counts_it_refused() {
    // A port that was free a moment ago: nothing listens there.
    let closed: SocketAddr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = FaultProxy::builder(Protocol::Tcp, closed).build().unwrap();
    let mut client = TcpStream::connect(proxy.local_addr()).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    assert!(closed_by_peer(&mut client));
    wait_for_stats(&proxy, "refused", |s| s.refused == 1);
    assert_eq!(proxy.stats().opened, 0);
}

#[test]
fn connections_beyond_the_limit_are_refused() {
    let (proxy, upstream) = proxy(|b| b.max_clients(1));
    let (mut first, mut server) = connect(&proxy, &upstream);
    let mut second = TcpStream::connect(proxy.local_addr()).unwrap();
    second.set_read_timeout(Some(WAIT)).unwrap();
    assert!(closed_by_peer(&mut second));
    assert_eq!(proxy.stats().refused, 1);
    first.write_all(b"still").unwrap();
    assert_eq!(read_n(&mut server, 5), b"still");
}

#[test]
fn stop_closes_every_connection_and_joins() {
    let (proxy, upstream) = proxy(|b| b.delay(Duration::from_secs(60)));
    let (mut client, mut server) = connect(&proxy, &upstream);
    client.write_all(b"never delivered").unwrap();
    let addr = proxy.local_addr();
    let (stopped_tx, stopped) = mpsc::channel();
    std::thread::spawn(move || {
        proxy.stop();
        let _ = stopped_tx.send(());
    });
    stopped.recv_timeout(WAIT).expect("stop returned");
    assert!(closed_by_peer(&mut client));
    assert!(closed_by_peer(&mut server));
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}
