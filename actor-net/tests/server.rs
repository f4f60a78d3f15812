//! The public servers over real sockets on 127.0.0.1: user handlers, the limits and the
//! policy for the excess, timeouts, the socket-option hook, and the clean stop. Every wait is
//! on an event the handlers signal, with a timeout.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actor_core::System;
use actor_net::server::{Excess, ServerError, TcpServer, Threads, UdpServer};
use crossbeam_channel::{Receiver, Sender, unbounded};

const WAIT: Duration = Duration::from_secs(10);

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Reads until the server closes; a reset counts as closing. Returns what arrived before.
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

/// Sends a line and returns the line that comes back.
fn exchange_line(stream: &mut TcpStream, line: &str) -> String {
    writeln!(stream, "{line}").unwrap();
    let mut answer = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut answer)
        .unwrap();
    answer
}

/// Echoes lines, one at a time, until the client closes.
fn line_echo(stream: TcpStream, _peer: SocketAddr) -> Result<(), actor_core::BoxError> {
    let reader = BufReader::new(stream.try_clone()?);
    for line in reader.lines() {
        writeln!(&stream, "{}", line?)?;
    }
    Ok(())
}

/// A handler that says it started (with its client's port), then holds its connection until
/// it is told to go on, or its socket fails; then echoes one line.
struct Gate {
    entered: Receiver<u16>,
    release: Sender<()>,
}

fn gated() -> (
    Gate,
    impl Fn(TcpStream, SocketAddr) -> Result<(), actor_core::BoxError> + Send + Sync + 'static,
) {
    let (entered_tx, entered) = unbounded();
    let (release, release_rx) = unbounded::<()>();
    let handler = move |stream: TcpStream, peer: SocketAddr| {
        entered_tx.send(peer.port())?;
        release_rx.recv_timeout(WAIT)?;
        line_echo(stream, peer)
    };
    (Gate { entered, release }, handler)
}

impl Gate {
    fn entered(&self) -> u16 {
        self.entered.recv_timeout(WAIT).expect("no handler started")
    }
}

fn port_of(stream: &TcpStream) -> u16 {
    stream.local_addr().unwrap().port()
}

#[test]
fn a_user_handler_echoes_lines_on_a_thread_per_connection() {
    let system = System::new();
    let server = TcpServer::builder()
        .spawn(&system, "127.0.0.1:0", line_echo)
        .unwrap();
    let mut a = connect(server.local_addr());
    let mut b = connect(server.local_addr());
    assert_eq!(exchange_line(&mut a, "one"), "one\n");
    assert_eq!(exchange_line(&mut b, "two"), "two\n");
    assert_eq!(exchange_line(&mut a, "three"), "three\n");
}

#[test]
fn a_pool_serves_more_clients_than_threads_one_after_another() {
    let system = System::new();
    let server = TcpServer::builder()
        .max_connections(2)
        .threads(Threads::Pool)
        .excess(Excess::Queue(8))
        .spawn(&system, "127.0.0.1:0", line_echo)
        .unwrap();
    for round in 0..5 {
        let mut stream = connect(server.local_addr());
        let line = format!("round {round}");
        assert_eq!(exchange_line(&mut stream, &line), format!("{line}\n"));
    }
}

#[test]
fn the_excess_is_refused_by_default() {
    let system = System::new();
    let (gate, handler) = gated();
    let server = TcpServer::builder()
        .max_connections(1)
        .spawn(&system, "127.0.0.1:0", handler)
        .unwrap();
    let mut first = connect(server.local_addr());
    assert_eq!(gate.entered(), port_of(&first));

    // While the first is handled, a second is closed at once, without a byte.
    let mut second = connect(server.local_addr());
    assert_eq!(read_until_closed(&mut second), b"");

    // The first is served; once it ends, its slot is free for the next client.
    gate.release.send(()).unwrap();
    assert_eq!(exchange_line(&mut first, "first"), "first\n");
    drop(first);
    gate.release.send(()).unwrap(); // for the next client served
    let deadline = Instant::now() + WAIT;
    loop {
        // Refused (the read ends at once) until the listener has seen the first end.
        let mut stream = connect(server.local_addr());
        let _ = writeln!(stream, "next");
        let mut answer = String::new();
        let _ = BufReader::new(&stream).read_line(&mut answer);
        if answer == "next\n" {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
    }
}

#[test]
fn the_excess_waits_in_a_bounded_queue_and_beyond_it_is_refused() {
    let system = System::new();
    let (gate, handler) = gated();
    let server = TcpServer::builder()
        .max_connections(1)
        .excess(Excess::Queue(1))
        .spawn(&system, "127.0.0.1:0", handler)
        .unwrap();
    let mut first = connect(server.local_addr());
    assert_eq!(gate.entered(), port_of(&first));
    // Accepted in order: the second waits in the queue, the third finds it full.
    let mut second = connect(server.local_addr());
    let mut third = connect(server.local_addr());
    assert_eq!(read_until_closed(&mut third), b"");

    // When the first ends, the second gets its slot.
    gate.release.send(()).unwrap();
    assert_eq!(exchange_line(&mut first, "first"), "first\n");
    first.shutdown(Shutdown::Write).unwrap();
    assert_eq!(gate.entered(), port_of(&second));
    gate.release.send(()).unwrap();
    assert_eq!(exchange_line(&mut second, "second"), "second\n");
}

#[test]
fn the_per_source_limit_refuses_even_with_room_in_the_queue() {
    let system = System::new();
    let (gate, handler) = gated();
    let server = TcpServer::builder()
        .max_connections(1)
        .excess(Excess::Queue(4))
        .max_connections_per_source(2)
        .spawn(&system, "127.0.0.1:0", handler)
        .unwrap();
    let first = connect(server.local_addr());
    assert_eq!(gate.entered(), port_of(&first));
    let _queued = connect(server.local_addr());
    // A third from 127.0.0.1: one handled and one queued from that source already.
    let mut third = connect(server.local_addr());
    assert_eq!(read_until_closed(&mut third), b"");
    drop(gate); // lets the first handler return, so that the server stops at once
}

#[test]
fn an_idle_client_is_closed_at_the_idle_timeout() {
    let system = System::new();
    let (ended, handler_ended) = unbounded();
    let server = TcpServer::builder()
        .idle_timeout(Duration::from_millis(100))
        .spawn(&system, "127.0.0.1:0", move |stream, peer| {
            let result = line_echo(stream, peer);
            let timed_out = match &result {
                Err(error) => error
                    .downcast_ref::<std::io::Error>()
                    .map(|e| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
                Ok(()) => None,
            };
            ended.send(timed_out)?;
            result
        })
        .unwrap();
    let mut idle = connect(server.local_addr());
    assert_eq!(exchange_line(&mut idle, "awake"), "awake\n");
    // Then silent: the handler's read times out, and the server closes the connection.
    assert_eq!(read_until_closed(&mut idle), b"");
    assert_eq!(handler_ended.recv_timeout(WAIT).unwrap(), Some(true));
}

#[test]
fn a_connection_is_shut_down_at_its_deadline_even_if_its_handler_waits_for_ever() {
    let system = System::new();
    let (entered, handler_entered) = unbounded();
    let server = TcpServer::builder()
        .idle_timeout(None)
        .deadline(Duration::from_millis(100))
        .spawn(&system, "127.0.0.1:0", move |mut stream, _| {
            entered.send(())?;
            // No timeout: only the server's shutdown of the socket ends this read.
            let mut buf = [0; 1];
            let n = stream.read(&mut buf)?;
            assert_eq!(n, 0);
            Ok(())
        })
        .unwrap();
    let mut stream = connect(server.local_addr());
    handler_entered.recv_timeout(WAIT).unwrap();
    assert_eq!(read_until_closed(&mut stream), b"");
}

#[test]
fn the_socket_option_hook_runs_before_the_handler() {
    let system = System::new();
    let (hooked, hook_ran) = unbounded();
    let server = TcpServer::builder()
        .socket_options(move |stream| {
            stream.set_nodelay(true)?;
            let _ = hooked.send(stream.peer_addr()?.port());
            Ok(())
        })
        .spawn(&system, "127.0.0.1:0", |stream, _| {
            // Tells the client whether the hook's option is set.
            (&stream).write_all(if stream.nodelay()? { b"y" } else { b"n" })?;
            Ok(())
        })
        .unwrap();
    let mut stream = connect(server.local_addr());
    assert_eq!(hook_ran.recv_timeout(WAIT).unwrap(), port_of(&stream));
    assert_eq!(read_until_closed(&mut stream), b"y");
}

#[test]
fn a_failing_socket_option_hook_closes_the_connection_before_the_handler() {
    let system = System::new();
    let called = Arc::new(AtomicUsize::new(0));
    let handler_calls = Arc::clone(&called);
    let server = TcpServer::builder()
        .socket_options(|_| Err(std::io::Error::other("refused by the hook")))
        .spawn(&system, "127.0.0.1:0", move |_, _| {
            handler_calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    let mut stream = connect(server.local_addr());
    assert_eq!(read_until_closed(&mut stream), b"");
    server.shutdown();
    assert_eq!(called.load(Ordering::SeqCst), 0);
}

#[test]
fn a_panicking_handler_ends_its_connection_only() {
    let system = System::new();
    let server = TcpServer::builder()
        .max_connections(1)
        .threads(Threads::Pool)
        .spawn(&system, "127.0.0.1:0", |stream, peer| {
            let mut first = [0; 1];
            (&stream).read_exact(&mut first)?;
            assert_ne!(&first, b"!", "told to panic");
            (&stream).write_all(&first)?;
            line_echo(stream, peer)
        })
        .unwrap();
    let mut doomed = connect(server.local_addr());
    doomed.write_all(b"!").unwrap();
    assert_eq!(read_until_closed(&mut doomed), b"");
    // The pool's only thread lives on and serves the next client.
    let mut next = connect(server.local_addr());
    next.write_all(b"+").unwrap();
    assert_eq!(exchange_line(&mut next, "still here"), "+still here\n");
}

/// What the handlers of [`counted`] report: how many are running, and each start.
struct Counted {
    running: Arc<AtomicUsize>,
    entered: Receiver<()>,
}

/// A line echo that counts the handlers running, and tells when one starts.
fn counted() -> (
    Counted,
    impl Fn(TcpStream, SocketAddr) -> Result<(), actor_core::BoxError> + Send + Sync + 'static,
) {
    struct Running(Arc<AtomicUsize>);
    impl Drop for Running {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let running = Arc::new(AtomicUsize::new(0));
    let (entered_tx, entered) = unbounded();
    let count = Arc::clone(&running);
    let handler = move |stream: TcpStream, peer: SocketAddr| {
        count.fetch_add(1, Ordering::SeqCst);
        let _running = Running(Arc::clone(&count));
        entered_tx.send(())?;
        line_echo(stream, peer)
    };
    (Counted { running, entered }, handler)
}

fn assert_stops_cleanly(threads: Threads) {
    let system = System::new();
    let (
        Counted {
            running,
            entered: handler_entered,
        },
        handler,
    ) = counted();
    let server = TcpServer::builder()
        .max_connections(3)
        .excess(Excess::Queue(2))
        .threads(threads)
        .idle_timeout(None)
        .spawn(&system, "127.0.0.1:0", handler)
        .unwrap();
    let addr = server.local_addr();
    let mut handled: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    for _ in 0..3 {
        handler_entered.recv_timeout(WAIT).unwrap();
    }
    let mut queued = connect(addr);
    assert_eq!(running.load(Ordering::SeqCst), 3);

    server.shutdown();
    // Every handler has returned, and every connection is closed.
    assert_eq!(running.load(Ordering::SeqCst), 0);
    for stream in &mut handled {
        assert_eq!(read_until_closed(stream), b"");
    }
    assert_eq!(read_until_closed(&mut queued), b"");
    assert!(
        handler_entered.try_recv().is_err(),
        "the queued one was not handled"
    );
    let refused = TcpStream::connect_timeout(&addr, WAIT).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(system.actor_count(), 0);
    server.shutdown(); // idempotent
}

#[test]
fn shutdown_closes_every_connection_and_joins_every_handler() {
    assert_stops_cleanly(Threads::PerConnection);
}

#[test]
fn shutdown_of_a_pool_closes_every_connection_and_joins_every_handler() {
    assert_stops_cleanly(Threads::Pool);
}

#[test]
fn stopping_the_system_stops_the_server() {
    let system = System::new();
    let (
        Counted {
            running,
            entered: handler_entered,
        },
        handler,
    ) = counted();
    let server = TcpServer::builder()
        .spawn(&system, "127.0.0.1:0", handler)
        .unwrap();
    let mut open = connect(server.local_addr());
    handler_entered.recv_timeout(WAIT).unwrap();
    system.shutdown();
    assert_eq!(running.load(Ordering::SeqCst), 0);
    assert_eq!(read_until_closed(&mut open), b"");
    let refused = TcpStream::connect_timeout(&server.local_addr(), WAIT).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn an_address_in_use_is_a_bind_error() {
    let system = System::new();
    let first = TcpServer::builder()
        .spawn(&system, "127.0.0.1:0", line_echo)
        .unwrap();
    let second = TcpServer::builder().spawn(&system, first.local_addr(), line_echo);
    match second {
        Err(ServerError::Bind(source)) => assert_eq!(source.kind(), ErrorKind::AddrInUse),
        other => panic!("expected a bind error, got {other:?}"),
    }
}

fn udp_client() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

fn udp_exchange(socket: &UdpSocket, server: SocketAddr, datagram: &[u8]) -> Vec<u8> {
    socket.send_to(datagram, server).unwrap();
    let mut buf = vec![0; 65536];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(from, server);
    buf.truncate(n);
    buf
}

#[test]
fn udp_answers_each_datagram_with_what_the_handler_returns() {
    let system = System::new();
    let mut count = 0;
    let server = UdpServer::builder()
        .spawn(&system, "127.0.0.1:0", move |request, peer| {
            count += 1; // the handler may keep state
            if request.is_empty() {
                return None;
            }
            Some(format!("{count} from {}: {}", peer.port(), request.len()).into_bytes())
        })
        .unwrap();
    let client = udp_client();
    let port = client.local_addr().unwrap().port();
    let addr = server.local_addr();
    assert_eq!(
        udp_exchange(&client, addr, b"abc"),
        format!("1 from {port}: 3").as_bytes()
    );
    // Not answered; the next answer shows it was handled all the same.
    client.send_to(b"", addr).unwrap();
    assert_eq!(
        udp_exchange(&client, addr, b"de"),
        format!("3 from {port}: 2").as_bytes()
    );
}

#[test]
fn udp_ignores_oversized_datagrams_and_counts_them() {
    let system = System::new();
    let server = UdpServer::builder()
        .max_datagram(100)
        .spawn(&system, "127.0.0.1:0", |request, _| Some(request))
        .unwrap();
    let client = udp_client();
    client.send_to(&[b'x'; 101], server.local_addr()).unwrap();
    // Taken in order: the first answer is to the datagram of the largest size allowed.
    let largest = [b'y'; 100];
    assert_eq!(
        udp_exchange(&client, server.local_addr(), &largest),
        largest
    );
    assert_eq!(server.ignored(), 1);
    assert_eq!(server.dropped(), 0);
}

#[test]
fn udp_ignores_the_ports_it_is_told_to() {
    let system = System::new();
    let ignored = udp_client();
    let server = UdpServer::builder()
        .ignore_port(ignored.local_addr().unwrap().port())
        .spawn(&system, "127.0.0.1:0", |request, _| Some(request))
        .unwrap();
    ignored.send_to(b"loop?", server.local_addr()).unwrap();
    assert_eq!(
        udp_exchange(&udp_client(), server.local_addr(), b"ok"),
        b"ok"
    );
    assert_eq!(server.ignored(), 1);
    ignored.set_nonblocking(true).unwrap();
    assert!(
        ignored.recv(&mut [0; 8]).is_err(),
        "the ignored port was answered"
    );
}

#[test]
fn udp_drops_what_finds_the_queue_full_and_counts_it() {
    let system = System::new();
    let (entered, handler_entered) = unbounded();
    let (release, released) = unbounded::<()>();
    let server = UdpServer::builder()
        .queue(2)
        .spawn(&system, "127.0.0.1:0", move |request, _| {
            if request == b"hold" {
                let _ = entered.send(());
                let _ = released.recv_timeout(WAIT);
            }
            Some(request)
        })
        .unwrap();
    let client = udp_client();
    client.send_to(b"hold", server.local_addr()).unwrap();
    handler_entered.recv_timeout(WAIT).unwrap();
    // The handler is busy: two wait, three are dropped.
    for n in 0..5u8 {
        client.send_to(&[n], server.local_addr()).unwrap();
    }
    let deadline = Instant::now() + WAIT;
    while server.dropped() < 3 {
        assert!(Instant::now() < deadline, "{} dropped", server.dropped());
        std::thread::yield_now();
    }
    release.send(()).unwrap();
    let mut buf = [0; 8];
    let answers: Vec<Vec<u8>> = (0..3)
        .map(|_| {
            let n = client.recv(&mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect();
    assert_eq!(answers, [b"hold".to_vec(), vec![0], vec![1]]);
    assert_eq!(server.dropped(), 3);
}

#[test]
fn udp_a_panicking_handler_leaves_the_next_datagram_answered() {
    let system = System::new();
    let server = UdpServer::builder()
        .spawn(&system, "127.0.0.1:0", |request, _| {
            assert_ne!(request, b"!", "told to panic");
            Some(request)
        })
        .unwrap();
    let client = udp_client();
    client.send_to(b"!", server.local_addr()).unwrap();
    assert_eq!(udp_exchange(&client, server.local_addr(), b"next"), b"next");
}

#[test]
fn udp_shutdown_closes_the_socket_and_joins() {
    let system = System::new();
    let server = UdpServer::builder()
        .spawn(&system, "127.0.0.1:0", |request, _| Some(request))
        .unwrap();
    let addr = server.local_addr();
    assert_eq!(udp_exchange(&udp_client(), addr, b"up"), b"up");
    server.shutdown();
    assert_eq!(system.actor_count(), 0);
    // Every handle on the socket is gone: its address can be bound again.
    UdpSocket::bind(addr).unwrap();
}
