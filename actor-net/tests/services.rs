//! The services over real sockets on 127.0.0.1: each classic protocol answered to a client
//! written here from the protocol's description, the limits, shutdown, and the actors
//! reached through nodes.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actor_core::System;
use actor_net::services::{self, EchoMsg, Protocol, ServiceError, ServiceSet, TimeMsg};
use actor_net::{NetError, Node, Secret};
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[cfg(unix)]
#[path = "support/source.rs"]
mod source;

const WAIT: Duration = Duration::from_secs(10);
const KEY: &[u8] = b"the services tests share this key: 0123456789";

fn secret() -> Secret {
    Secret::new(KEY.to_vec()).unwrap()
}

/// A set listening for `protocols` on 127.0.0.1, with limits set by `configure`.
fn start_with(
    protocols: &[Protocol],
    configure: impl FnOnce(services::ServiceSetBuilder) -> services::ServiceSetBuilder,
) -> (System, ServiceSet) {
    let system = System::new();
    let mut builder = ServiceSet::builder().secret(secret());
    for &protocol in protocols {
        builder = builder.listen(protocol, "127.0.0.1:0");
    }
    let set = configure(builder).build(&system).unwrap();
    (system, set)
}

fn start(protocols: &[Protocol]) -> (System, ServiceSet) {
    start_with(protocols, |builder| builder)
}

fn addr(set: &ServiceSet, protocol: Protocol) -> SocketAddr {
    set.local_addr(protocol).unwrap()
}

fn connect(set: &ServiceSet, protocol: Protocol) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr(set, protocol), WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Reads until the server closes; a reset counts as closing (the server may close with
/// input it did not read). Returns what arrived before.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return received,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return received,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

/// A UDP client socket that gives up after `WAIT`.
fn udp_client() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

/// Sends `datagram` to the server and returns its answer, checking where it came from.
fn udp_exchange(socket: &UdpSocket, server: SocketAddr, datagram: &[u8]) -> Vec<u8> {
    socket.send_to(datagram, server).unwrap();
    receive_from(socket, server)
}

fn receive_from(socket: &UdpSocket, server: SocketAddr) -> Vec<u8> {
    let mut buf = vec![0; 65536];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(from, server);
    buf.truncate(n);
    buf
}

/// Checks one RFC 867 line as `ctime(3)` writes it: `Fri Nov 27 14:15:03 2026\r\n`.
fn assert_daytime_line(answer: &[u8]) {
    let line = std::str::from_utf8(answer).unwrap();
    let text = line.strip_suffix("\r\n").expect("a line ended by CR LF");
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "{line:?}");
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!(days.contains(&fields[0]), "{line:?}");
    assert!(months.contains(&fields[1]), "{line:?}");
    let day: u32 = fields[2].parse().unwrap();
    assert!((1..=31).contains(&day), "{line:?}");
    // The day is padded to two characters with a space, so the line has a fixed width.
    assert_eq!(text.len(), 24, "{line:?}");
    assert_eq!(&text[8..10], format!("{day:>2}"), "{line:?}");
    let clock: Vec<u32> = fields[3].split(':').map(|f| f.parse().unwrap()).collect();
    assert!(fields[3].len() == 8 && clock.len() == 3, "{line:?}");
    assert!(clock[0] < 24 && clock[1] < 60 && clock[2] <= 60, "{line:?}");
    let year: i32 = fields[4].parse().unwrap();
    let utc_year = 1970 + (now_unix() / 31_556_952) as i32; // within a day of the truth
    assert!((utc_year - 1..=utc_year + 1).contains(&year), "{line:?}");
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Checks 4 RFC 868 bytes against the clock: seconds since 1900, big-endian, within a few
/// seconds of now (computed here from the documented offset, modulo 2^32).
fn assert_time_near_now(answer: &[u8]) {
    let seconds = u32::from_be_bytes(answer.try_into().expect("exactly 4 bytes"));
    let now = (now_unix() + 2_208_988_800) as u32;
    let off = now.wrapping_sub(seconds) as i32;
    assert!(off.abs() <= 5, "{seconds} is {off} s away from {now}");
}

#[test]
fn tcp_echo_sends_back_every_write_until_the_client_closes() {
    let (_system, set) = start(&[Protocol::EchoTcp]);
    let mut stream = connect(&set, Protocol::EchoTcp);
    stream.write_all(b"one").unwrap();
    let mut first = [0; 3];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"one");

    let big: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
    stream.write_all(b" two").unwrap();
    stream.write_all(&big).unwrap();
    stream.write_all(b" three").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let rest = read_until_closed(&mut stream);
    assert_eq!(rest, [&b" two"[..], &big, b" three"].concat());
}

#[test]
fn udp_echo_sends_back_each_datagram() {
    let (_system, set) = start(&[Protocol::EchoUdp]);
    let server = addr(&set, Protocol::EchoUdp);
    let client = udp_client();
    assert_eq!(udp_exchange(&client, server, b"first"), b"first");
    assert_eq!(udp_exchange(&client, server, b""), b"");
    let binary: Vec<u8> = (0..=255).collect();
    assert_eq!(udp_exchange(&client, server, &binary), binary);
}

#[test]
fn udp_echo_ignores_oversized_datagrams() {
    let (_system, set) = start(&[Protocol::EchoUdp]);
    let server = addr(&set, Protocol::EchoUdp);
    let client = udp_client();
    client.send_to(&vec![b'x'; 9000], server).unwrap();
    // The next answer is to the small datagram: the large one was not answered.
    assert_eq!(udp_exchange(&client, server, b"small"), b"small");
}

#[test]
fn tcp_daytime_sends_one_line_and_closes() {
    let (_system, set) = start(&[Protocol::DaytimeTcp]);
    let mut stream = connect(&set, Protocol::DaytimeTcp);
    assert_daytime_line(&read_until_closed(&mut stream));
}

#[test]
fn udp_daytime_answers_any_datagram_with_the_line() {
    let (_system, set) = start(&[Protocol::DaytimeUdp]);
    let server = addr(&set, Protocol::DaytimeUdp);
    let client = udp_client();
    assert_daytime_line(&udp_exchange(&client, server, b""));
    assert_daytime_line(&udp_exchange(&client, server, b"what time is it?"));
}

#[test]
fn tcp_time_sends_four_bytes_near_now_and_closes() {
    let (_system, set) = start(&[Protocol::TimeTcp]);
    let mut stream = connect(&set, Protocol::TimeTcp);
    assert_time_near_now(&read_until_closed(&mut stream));
}

#[test]
fn udp_time_answers_with_four_bytes_near_now() {
    let (_system, set) = start(&[Protocol::TimeUdp]);
    let server = addr(&set, Protocol::TimeUdp);
    assert_time_near_now(&udp_exchange(&udp_client(), server, b""));
}

/// HMAC-SHA256 of `challenge` under `key`, as the recipe's client computes it.
fn answer(key: &[u8], challenge: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(challenge);
    mac.finalize().into_bytes().to_vec()
}

fn read_challenge(stream: &mut TcpStream) -> [u8; 32] {
    let mut challenge = [0; 32];
    stream.read_exact(&mut challenge).unwrap();
    challenge
}

#[test]
fn auth_echo_with_the_right_digest_echoes_until_the_client_closes() {
    let (_system, set) = start(&[Protocol::AuthEcho]);
    let mut stream = connect(&set, Protocol::AuthEcho);
    let challenge = read_challenge(&mut stream);
    stream.write_all(&answer(KEY, &challenge)).unwrap();
    stream.write_all(b"hello").unwrap();
    let mut back = [0; 5];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello");
    stream.write_all(b", again").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_until_closed(&mut stream), b", again");
}

#[test]
fn auth_echo_challenges_differ_between_connections() {
    let (_system, set) = start(&[Protocol::AuthEcho]);
    let first = read_challenge(&mut connect(&set, Protocol::AuthEcho));
    let second = read_challenge(&mut connect(&set, Protocol::AuthEcho));
    assert_ne!(first, second);
}

#[test]
fn auth_echo_with_a_wrong_digest_closes_without_echo() {
    let (_system, set) = start(&[Protocol::AuthEcho]);
    for wrong_key in [&b"not the key the services share"[..], b""] {
        let mut stream = connect(&set, Protocol::AuthEcho);
        let challenge = read_challenge(&mut stream);
        let digest = answer(wrong_key, &challenge);
        stream.write_all(&digest).unwrap();
        // Writing may already fail: the server closes as soon as it has checked.
        let _ = stream.write_all(b"hello");
        assert_eq!(read_until_closed(&mut stream), b"");
    }
}

#[test]
fn answer_challenge_authenticates_with_the_shared_key_only() {
    let (_system, set) = start(&[Protocol::AuthEcho]);
    let mut stream = connect(&set, Protocol::AuthEcho);
    services::answer_challenge(&mut stream, &secret()).unwrap();
    stream.write_all(b"in").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_until_closed(&mut stream), b"in");

    let mut stranger = connect(&set, Protocol::AuthEcho);
    services::answer_challenge(&mut stranger, &Secret::generate().unwrap()).unwrap();
    let _ = stranger.write_all(b"in?");
    assert_eq!(read_until_closed(&mut stranger), b"");
}

#[test]
fn auth_echo_closes_a_client_that_sends_no_digest_in_time() {
    let (_system, set) = start_with(&[Protocol::AuthEcho], |b| {
        b.auth_timeout(Duration::from_millis(200))
    });
    let mut stream = connect(&set, Protocol::AuthEcho);
    read_challenge(&mut stream);
    stream.write_all(&[0; 31]).unwrap(); // one byte short
    assert_eq!(read_until_closed(&mut stream), b"");
}

#[test]
fn idle_connections_are_closed() {
    let (_system, set) = start_with(&[Protocol::EchoTcp], |b| {
        b.idle_timeout(Duration::from_millis(200))
    });
    let mut stream = connect(&set, Protocol::EchoTcp);
    assert_eq!(read_until_closed(&mut stream), b"");
}

/// Whether a new connection to the echo listener is served (rather than closed at once).
fn echo_is_served(set: &ServiceSet) -> bool {
    let mut stream = connect(set, Protocol::EchoTcp);
    if stream.write_all(b"?").is_err() {
        return false;
    }
    let mut buf = [0; 1];
    matches!(stream.read(&mut buf), Ok(1))
}

#[test]
fn the_connection_limit_refuses_the_excess() {
    let (_system, set) = start_with(&[Protocol::EchoTcp], |b| b.max_connections(1));
    let mut first = connect(&set, Protocol::EchoTcp);
    first.write_all(b"a").unwrap();
    let mut buf = [0; 1];
    first.read_exact(&mut buf).unwrap();

    // While the first is open, a second is closed at once, without an answer.
    let mut second = connect(&set, Protocol::EchoTcp);
    let _ = second.write_all(b"b");
    assert_eq!(read_until_closed(&mut second), b"");

    // The first is still served; once it is gone, its slot is free again.
    first.write_all(b"c").unwrap();
    first.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"c");
    drop(first);
    let deadline = Instant::now() + WAIT;
    while !echo_is_served(&set) {
        assert!(Instant::now() < deadline, "the slot was never freed");
    }
}

#[test]
fn shutdown_closes_connections_and_listeners() {
    let (system, set) = start(&[Protocol::EchoTcp, Protocol::AuthEcho, Protocol::TimeUdp]);
    let echo_addr = addr(&set, Protocol::EchoTcp);
    let mut open = connect(&set, Protocol::EchoTcp);
    open.write_all(b"x").unwrap();
    let mut buf = [0; 1];
    open.read_exact(&mut buf).unwrap();
    let mut waiting = connect(&set, Protocol::AuthEcho);
    read_challenge(&mut waiting);

    set.shutdown();
    assert_eq!(read_until_closed(&mut open), b"");
    assert_eq!(read_until_closed(&mut waiting), b"");
    let refused = TcpStream::connect_timeout(&echo_addr, WAIT).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(system.actor_count(), 0);
    set.shutdown(); // idempotent
}

#[test]
fn stopping_the_system_stops_the_services() {
    let (system, set) = start(&[Protocol::EchoTcp, Protocol::EchoUdp]);
    let mut open = connect(&set, Protocol::EchoTcp);
    open.write_all(b"x").unwrap();
    let mut buf = [0; 1];
    open.read_exact(&mut buf).unwrap();
    system.shutdown();
    assert_eq!(system.actor_count(), 0);
    assert_eq!(read_until_closed(&mut open), b"");
    let refused = TcpStream::connect_timeout(&addr(&set, Protocol::EchoTcp), WAIT).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn echo_and_time_through_a_node_lookup() {
    let (_system, set) = start(&[]);
    let server = Node::builder(secret())
        .name("services")
        .listen("127.0.0.1:0")
        .build()
        .unwrap();
    set.export(&server).unwrap();
    let client = Node::builder(secret()).name("caller").build().unwrap();
    let server_addr = server.local_addr().unwrap();

    let echo = client
        .lookup::<EchoMsg>(server_addr, services::ECHO)
        .unwrap();
    let bytes: Vec<u8> = (0..=255).collect();
    let echoed = echo.ask(|r| EchoMsg::Echo(bytes.clone(), r), WAIT).unwrap();
    assert_eq!(echoed, bytes);

    let time = client
        .lookup::<TimeMsg>(server_addr, services::TIME)
        .unwrap();
    let now = time.ask(TimeMsg::Now, WAIT).unwrap();
    assert!(now.secs.abs_diff(now_unix()) <= 5);
    assert!(now.nanos < 1_000_000_000);
    assert_eq!(now.daytime.len(), 24);
    assert!(!now.local.is_empty());
    client.shutdown();
    server.shutdown();
}

#[test]
fn a_second_export_fails_and_keeps_the_first() {
    let (_system, set) = start(&[]);
    let node = Node::builder(secret()).build().unwrap();
    set.export(&node).unwrap();
    assert!(matches!(set.export(&node), Err(NetError::AlreadyExported(name)) if name == "echo"));
    assert!(node.unexport(services::ECHO));
    assert!(node.unexport(services::TIME));
}

#[test]
fn an_address_in_use_is_a_bind_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let system = System::new();
    let result = ServiceSet::builder()
        .listen(Protocol::EchoUdp, "127.0.0.1:0")
        .listen(
            Protocol::DaytimeTcp,
            taken.local_addr().unwrap().to_string(),
        )
        .build(&system);
    match result {
        Err(ServiceError::Bind {
            protocol, source, ..
        }) => {
            assert_eq!(protocol, Protocol::DaytimeTcp);
            assert_eq!(source.kind(), ErrorKind::AddrInUse);
        }
        other => panic!("expected a bind error, got {other:?}"),
    }
    assert_eq!(system.actor_count(), 0);
}

#[test]
fn a_malformed_address_is_a_bind_error() {
    let system = System::new();
    let result = ServiceSet::builder()
        .listen(Protocol::TimeTcp, "not an address")
        .build(&system);
    assert!(
        matches!(result, Err(ServiceError::Bind { .. })),
        "{result:?}"
    );
}

/// Relays datagrams between two UDP echo services, as two hosts' echo services would talk to
/// each other, starting with one datagram; returns how many datagrams the relay carried and
/// whether the exchange died down (no datagram for `QUIET`) before `LIMIT`.
fn relay_between(a: SocketAddr, b: SocketAddr) -> (u64, bool) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    const QUIET: Duration = Duration::from_millis(500);
    const LIMIT: Duration = Duration::from_secs(3);
    let to_a = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let to_b = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let carried = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + LIMIT;
    let pump = |from: Arc<UdpSocket>, to: Arc<UdpSocket>, target: SocketAddr| {
        let carried = Arc::clone(&carried);
        std::thread::spawn(move || {
            from.set_read_timeout(Some(QUIET)).unwrap();
            let mut buf = [0; 2048];
            while Instant::now() < deadline {
                match from.recv(&mut buf) {
                    Ok(n) => {
                        carried.fetch_add(1, Ordering::Relaxed);
                        let _ = to.send_to(&buf[..n], target);
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        return true;
                    }
                    Err(_) => {}
                }
            }
            false
        })
    };
    let from_a = pump(Arc::clone(&to_a), Arc::clone(&to_b), b);
    let from_b = pump(Arc::clone(&to_b), Arc::clone(&to_a), a);
    to_a.send_to(b"ping", a).unwrap();
    let quiet_a = from_a.join().unwrap();
    let quiet_b = from_b.join().unwrap();
    (carried.load(Ordering::Relaxed), quiet_a && quiet_b)
}

#[test]
fn two_udp_echo_services_stop_echoing_each_other() {
    let (_system_a, set_a) = start(&[Protocol::EchoUdp]);
    let (_system_b, set_b) = start(&[Protocol::EchoUdp]);
    let (carried, quiet) = relay_between(
        addr(&set_a, Protocol::EchoUdp),
        addr(&set_b, Protocol::EchoUdp),
    );
    eprintln!("two echo services: {carried} datagrams, died down: {quiet}");
    assert!(quiet, "the exchange went on: {carried} datagrams in 3 s");
    assert!(
        carried < 1000,
        "{carried} datagrams before the exchange stopped"
    );
}

#[test]
fn a_udp_burst_from_one_source_gets_only_its_bucket_while_another_source_is_answered() {
    const BURST: u32 = 8;
    let (_system, set) = start_with(&[Protocol::EchoUdp], |builder| {
        builder.udp_rate_limit(BURST, 1)
    });
    let server = addr(&set, Protocol::EchoUdp);
    let flooder = udp_client();
    for i in 0..40u8 {
        flooder.send_to(&[i], server).unwrap();
    }
    // The listener takes datagrams in order: once the other source's answer is back, every
    // answer to the flooder has been sent.
    let other = UdpSocket::bind("127.0.0.2:0").unwrap();
    other.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(udp_exchange(&other, server, b"honest"), b"honest");
    flooder.set_nonblocking(true).unwrap();
    let mut answers = 0;
    let mut buf = [0; 16];
    while flooder.recv(&mut buf).is_ok() {
        answers += 1;
    }
    // One more token may have come in while the burst was sent.
    assert!(
        (BURST..=BURST + 1).contains(&answers),
        "{answers} answers to 40 datagrams from one source"
    );
}

#[test]
fn a_datagram_from_the_port_of_the_sets_time_service_is_not_echoed() {
    // The time listener's port, held on 127.0.0.2 by the set and on 127.0.0.1 by a socket
    // that can send from it, as another host sharing the port number could.
    let spoofer = udp_client();
    let port = spoofer.local_addr().unwrap().port();
    let system = System::new();
    let set = ServiceSet::builder()
        .listen(Protocol::EchoUdp, "127.0.0.1:0")
        .listen(Protocol::TimeUdp, format!("127.0.0.2:{port}"))
        .build(&system)
        .unwrap();
    let server = addr(&set, Protocol::EchoUdp);
    spoofer.send_to(b"loop?", server).unwrap();
    // Taken in order: once an ordinary client is answered, the first datagram was handled.
    assert_eq!(udp_exchange(&udp_client(), server, b"honest"), b"honest");
    spoofer.set_nonblocking(true).unwrap();
    let mut buf = [0; 16];
    assert!(
        spoofer.recv(&mut buf).is_err(),
        "the echo answered its own time port"
    );
}

/// Opens `count` echo connections from 127.0.0.1 that each send one byte, as a slowloris
/// client does; returns those the server kept (it echoed the byte) and how many it closed.
#[cfg(unix)]
fn slow_connections(server: SocketAddr, count: usize) -> (Vec<TcpStream>, usize) {
    let mut held = Vec::new();
    let mut closed = 0;
    for _ in 0..count {
        let mut stream = TcpStream::connect_timeout(&server, WAIT).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let _ = stream.write_all(b"x");
        let mut byte = [0; 1];
        match stream.read(&mut byte) {
            Ok(1) => held.push(stream),
            Ok(_) => closed += 1,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => closed += 1,
            Err(e) => panic!("neither echoed nor closed: {e}"),
        }
    }
    (held, closed)
}

/// Connects from 127.0.0.2, as another host would; whether it is echoed.
#[cfg(unix)]
fn honest_client_from_another_host(server: SocketAddr) -> bool {
    let socket = source::connect_from(std::net::Ipv4Addr::new(127, 0, 0, 2), server);
    let Some(mut stream) = socket else {
        return false;
    };
    stream.set_read_timeout(Some(WAIT)).unwrap();
    if stream.write_all(b"honest").is_err() {
        return false;
    }
    let mut back = [0; 6];
    stream.read_exact(&mut back).is_ok() && &back == b"honest"
}

#[cfg(unix)]
#[test]
fn slow_connections_from_one_source_cannot_lock_out_another() {
    const LIMIT: usize = 8;
    const PER_SOURCE: usize = 4;
    let (_system, set) = start_with(&[Protocol::EchoTcp], |builder| {
        builder
            .max_connections(LIMIT)
            .max_connections_per_source(PER_SOURCE)
    });
    let server = addr(&set, Protocol::EchoTcp);
    let (held, closed) = slow_connections(server, LIMIT);
    let started = Instant::now();
    let served = honest_client_from_another_host(server);
    eprintln!(
        "slow connections held: {}, closed: {closed}; other host served: {served} in {:?}",
        held.len(),
        started.elapsed()
    );
    assert_eq!(held.len(), PER_SOURCE);
    assert!(
        served,
        "{} slow connections from one source locked the echo",
        held.len()
    );
}

#[test]
fn a_busy_echo_connection_is_closed_at_its_deadline() {
    const DEADLINE: Duration = Duration::from_millis(300);
    let (_system, set) = start_with(&[Protocol::EchoTcp], |builder| {
        builder.connection_deadline(DEADLINE)
    });
    let mut stream = connect(&set, Protocol::EchoTcp);
    let opened = Instant::now();
    // A byte at a time, each waiting for its echo: the idle timer never runs out.
    let mut byte = [0; 1];
    let lasted = loop {
        assert!(
            opened.elapsed() < WAIT,
            "the connection outlived its deadline"
        );
        let closed = stream.write_all(b"x").is_err() || !matches!(stream.read(&mut byte), Ok(1));
        if closed {
            break opened.elapsed();
        }
    };
    eprintln!("busy echo connection closed after {lasted:?}");
    assert!(lasted >= DEADLINE);
}
