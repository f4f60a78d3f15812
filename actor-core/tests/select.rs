//! Inboxes and `Select`: a thread receives from several queues at once.

use std::collections::HashMap;
use std::time::Duration;

use actor_core::{ExitReason, Inbox, Select, SendError};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn one_consumer_takes_everything_from_three_producers() {
    const PER_PRODUCER: u32 = 10_000;
    let inboxes: Vec<Inbox<Option<u32>>> = (0..3).map(|_| Inbox::new()).collect();
    let producers: Vec<_> = inboxes
        .iter()
        .map(|inbox| {
            let target = inbox.actor_ref().clone();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    target.tell(Some(i)).unwrap();
                }
                target.tell(None).unwrap();
            })
        })
        .collect();

    let mut select = Select::new();
    let indexes: Vec<usize> = inboxes.iter().map(|inbox| select.inbox(inbox)).collect();
    let mut next: HashMap<usize, u32> = HashMap::new();
    let mut open = inboxes.len();
    while open > 0 {
        let index = select.ready_timeout(WAIT).expect("a producer is ready");
        let source = indexes.iter().position(|&i| i == index).unwrap();
        match inboxes[source].try_recv() {
            Ok(Some(value)) => {
                let expected = next.entry(source).or_default();
                assert_eq!(value, *expected, "in order per producer");
                *expected += 1;
            }
            Ok(None) => {
                select.remove(index);
                open -= 1;
            }
            Err(_) => {}
        }
    }
    for producer in producers {
        producer.join().unwrap();
    }
    assert!(next.values().all(|&n| n == PER_PRODUCER));
}

#[test]
fn a_dropped_inbox_refuses_messages_and_tells_its_monitors() {
    let inbox: Inbox<u8> = Inbox::new();
    let target = inbox.actor_ref().clone();
    let down = target.monitor();
    target.tell(1).unwrap();
    drop(inbox);
    assert!(!target.is_alive());
    assert!(matches!(target.tell(2), Err(SendError::Closed(2))));
    let mut down = down;
    assert!(matches!(
        down.wait_timeout(WAIT).unwrap().reason,
        ExitReason::Stopped
    ));
}

#[test]
fn select_mixes_inboxes_and_channels() {
    let inbox: Inbox<&str> = Inbox::new();
    let (tx, rx) = crossbeam_channel::unbounded::<u8>();
    let mut select = Select::new();
    let inbox_index = select.inbox(&inbox);
    let channel_index = select.channel(&rx);
    assert_eq!(select.try_ready(), None);
    tx.send(9).unwrap();
    assert_eq!(select.ready_timeout(WAIT), Some(channel_index));
    assert_eq!(rx.try_recv(), Ok(9));
    inbox.actor_ref().tell("x").unwrap();
    assert_eq!(select.ready_timeout(WAIT), Some(inbox_index));
    assert_eq!(inbox.try_recv(), Ok("x"));
}

/// Sockets in a `Select`: readiness is level-triggered, reported by index like any source.
#[cfg(unix)]
mod sockets {
    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::sync::{Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    use actor_core::{Inbox, Select, SelectError};

    use super::WAIT;

    /// How long a wait runs to show that nothing is ready. Not a timing assertion: a wrong
    /// report would come at once, and a longer wait would only make the test slower.
    const IDLE: Duration = Duration::from_millis(50);

    /// Held by every test whose `Select` starts a helper thread, so that the test counting
    /// those threads sees only its own.
    static HELPERS: Mutex<()> = Mutex::new(());

    fn helpers() -> MutexGuard<'static, ()> {
        HELPERS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A UDP socket on loopback, non-blocking, and a client that sends to it.
    fn udp_pair() -> (UdpSocket, UdpSocket) {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_nonblocking(true).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(server.local_addr().unwrap()).unwrap();
        (server, client)
    }

    /// Reads every datagram waiting on `socket`.
    fn drain(socket: &UdpSocket) -> usize {
        let mut buffer = [0; 64];
        let mut count = 0;
        loop {
            match socket.recv(&mut buffer) {
                Ok(_) => count += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return count,
                Err(e) => panic!("recv: {e}"),
            }
        }
    }

    fn helper_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim_end() == "select-sockets")
            .count()
    }

    /// Waits, with a deadline, until `helper_threads()` is `expected`.
    fn wait_for_helper_threads(expected: usize) {
        let deadline = Instant::now() + WAIT;
        while helper_threads() != expected {
            assert!(
                Instant::now() < deadline,
                "{} helper threads",
                helper_threads()
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_udp_socket_with_a_datagram_is_reported_by_its_index() {
        let (server, client) = udp_pair();
        let (other, _) = udp_pair();
        let mut select = Select::new();
        let _other_index = select.readable(&other).unwrap();
        let index = select.readable(&server).unwrap();
        assert_eq!(select.try_ready(), None);
        client.send(b"ping").unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        assert_eq!(select.ready(), index, "not read yet: reported again");
        assert_eq!(drain(&server), 1);
        assert_eq!(select.ready_timeout(IDLE), None);
    }

    fn level_triggered(select: &mut Select<'_>, server: &UdpSocket, client: &UdpSocket) {
        let index = select.readable(server).unwrap();
        client.send(b"one").unwrap();
        client.send(b"two").unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        // One datagram read, one left: still readable.
        let mut buffer = [0; 8];
        assert_eq!(server.recv(&mut buffer).unwrap(), 3);
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        // Not read at all: reported again, every time.
        for _ in 0..3 {
            assert_eq!(select.ready_timeout(WAIT), Some(index));
        }
        assert_eq!(drain(server), 1);
        assert_eq!(select.ready_timeout(IDLE), None, "drained: not reported");
        // New data after the drain is reported.
        client.send(b"three").unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        assert_eq!(drain(server), 1);
        assert_eq!(select.ready_timeout(IDLE), None);
    }

    #[test]
    fn a_socket_is_reported_until_drained_with_sockets_only() {
        let (server, client) = udp_pair();
        let mut select = Select::new();
        level_triggered(&mut select, &server, &client);
    }

    #[test]
    fn a_socket_is_reported_until_drained_beside_an_inbox() {
        let _helpers = helpers();
        let (server, client) = udp_pair();
        let inbox: Inbox<u8> = Inbox::new();
        let mut select = Select::new();
        select.inbox(&inbox);
        level_triggered(&mut select, &server, &client);
    }

    #[test]
    fn data_arriving_while_a_report_is_handled_is_reported_once_more_at_most() {
        let _helpers = helpers();
        let (server, client) = udp_pair();
        let inbox: Inbox<u8> = Inbox::new();
        let mut select = Select::new();
        select.inbox(&inbox);
        let index = select.readable(&server).unwrap();
        client.send(b"one").unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        // More edges before the next wait; all drained before it.
        client.send(b"two").unwrap();
        client.send(b"three").unwrap();
        let deadline = Instant::now() + WAIT;
        let mut read = drain(&server);
        while read < 3 {
            assert!(Instant::now() < deadline, "datagrams lost");
            read += drain(&server);
        }
        // Events queued before the drain are stale: nothing is reported.
        assert_eq!(select.ready_timeout(IDLE), None);
    }

    /// Both sockets get a datagram before one wait finds them both; the one not reported is
    /// removed, and a new idle socket takes its index.
    fn a_stale_event_is_dropped(select: &mut Select<'_>) {
        let (a, a_client) = udp_pair();
        let (b, b_client) = udp_pair();
        let a_index = select.readable(&a).unwrap();
        let b_index = select.readable(&b).unwrap();
        a_client.send(b"a").unwrap();
        b_client.send(b"b").unwrap();
        let reported = select.ready_timeout(WAIT).unwrap();
        let (drained, other, other_socket) = if reported == a_index {
            (&a, b_index, &b)
        } else {
            (&b, a_index, &a)
        };
        assert_eq!(drain(drained), 1);
        select.remove(other);
        let (idle, _idle_client) = udp_pair();
        assert_eq!(select.readable(&idle).unwrap(), other);
        assert_eq!(
            select.ready_timeout(IDLE),
            None,
            "the removed socket's event"
        );
        assert_eq!(drain(other_socket), 1);
    }

    #[test]
    fn a_removed_sockets_event_is_not_reported_for_its_index_with_sockets_only() {
        a_stale_event_is_dropped(&mut Select::new());
    }

    #[test]
    fn a_removed_sockets_event_is_not_reported_for_its_index_beside_an_inbox() {
        let _helpers = helpers();
        let inbox: Inbox<u8> = Inbox::new();
        let mut select = Select::new();
        select.inbox(&inbox);
        a_stale_event_is_dropped(&mut select);
    }

    #[test]
    fn a_socket_with_room_to_write_is_writable() {
        let (server, _client) = udp_pair();
        let mut select = Select::new();
        let index = select.writable(&server).unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        assert_eq!(select.ready_timeout(WAIT), Some(index), "still writable");
        select.remove(index);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let index = select.writable(&stream).unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
    }

    #[test]
    fn a_listener_with_a_pending_connection_is_readable() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let mut select = Select::new();
        let index = select.readable(&listener).unwrap();
        assert_eq!(select.ready_timeout(IDLE), None);
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        let (mut connection, _) = listener.accept().unwrap();
        assert_eq!(
            select.ready_timeout(IDLE),
            None,
            "accepted: no more pending"
        );

        // The connection, added now, is readable once the client writes.
        connection.set_nonblocking(true).unwrap();
        let connection_index = select.readable(&connection).unwrap();
        assert_eq!(select.ready_timeout(IDLE), None);
        client.write_all(b"hi").unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(connection_index));
        let mut buffer = [0; 8];
        assert_eq!(connection.read(&mut buffer).unwrap(), 2);
        // Closed by the client: readable, and the read says so.
        drop(client);
        assert_eq!(select.ready_timeout(WAIT), Some(connection_index));
        assert_eq!(connection.read(&mut buffer).unwrap(), 0);
        select.remove(connection_index);
    }

    #[test]
    fn sockets_inboxes_and_channels_are_each_reported() {
        let _helpers = helpers();
        let (first, first_client) = udp_pair();
        let (second, second_client) = udp_pair();
        let inbox: Inbox<&str> = Inbox::new();
        let (tx, rx) = crossbeam_channel::unbounded::<u8>();
        let mut select = Select::new();
        let first_index = select.readable(&first).unwrap();
        let inbox_index = select.inbox(&inbox);
        let second_index = select.readable(&second).unwrap();
        let channel_index = select.channel(&rx);
        assert_eq!(select.ready_timeout(IDLE), None);

        first_client.send(b"a").unwrap();
        inbox.actor_ref().tell("b").unwrap();
        second_client.send(b"c").unwrap();
        tx.send(4).unwrap();
        let mut seen = Vec::new();
        while seen.len() < 4 {
            let index = select.ready_timeout(WAIT).expect("a source is ready");
            if index == first_index {
                assert_eq!(drain(&first), 1);
            } else if index == second_index {
                assert_eq!(drain(&second), 1);
            } else if index == inbox_index {
                assert_eq!(inbox.try_recv(), Ok("b"));
            } else if index == channel_index {
                assert_eq!(rx.try_recv(), Ok(4));
            } else {
                panic!("unknown index {index}");
            }
            assert!(
                !seen.contains(&index),
                "{index} reported after it was emptied"
            );
            seen.push(index);
        }
        assert_eq!(select.ready_timeout(IDLE), None);

        // Removed, a socket is not reported; its index goes to the next source.
        select.remove(first_index);
        first_client.send(b"d").unwrap();
        assert_eq!(select.ready_timeout(IDLE), None);
        let (third, third_client) = udp_pair();
        assert_eq!(select.readable(&third).unwrap(), first_index);
        assert_eq!(select.ready_timeout(IDLE), None, "the old socket's data");
        third_client.send(b"e").unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(first_index));
    }

    #[test]
    fn ready_timeout_with_idle_sockets_returns_none() {
        let (server, _client) = udp_pair();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut select = Select::new();
        select.readable(&server).unwrap();
        select.readable(&listener).unwrap();
        assert_eq!(select.ready_timeout(IDLE), None);
        assert_eq!(select.try_ready(), None);

        let _helpers = helpers();
        let inbox: Inbox<u8> = Inbox::new();
        select.inbox(&inbox);
        assert_eq!(select.ready_timeout(IDLE), None);
        assert_eq!(select.try_ready(), None);
    }

    #[test]
    fn dropping_the_select_joins_its_helper_thread() {
        let _helpers = helpers();
        let before = helper_threads();
        let (server, client) = udp_pair();
        let inbox: Inbox<u8> = Inbox::new();
        {
            // Sockets only: no thread.
            let mut select = Select::new();
            let index = select.readable(&server).unwrap();
            client.send(b"x").unwrap();
            assert_eq!(select.ready_timeout(WAIT), Some(index));
            assert_eq!(helper_threads(), before);
        }
        let mut select = Select::new();
        let index = select.readable(&server).unwrap();
        select.inbox(&inbox);
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        wait_for_helper_threads(before + 1);
        drop(select);
        wait_for_helper_threads(before);
    }

    #[test]
    fn a_socket_that_cannot_be_watched_is_an_error() {
        let (server, _client) = udp_pair();
        let mut select = Select::new();
        let index = select.readable(&server).unwrap();
        assert!(matches!(
            select.readable(&server),
            Err(SelectError::Watch(_))
        ));
        // A clone of the socket waits for the other direction.
        let writer = server.try_clone().unwrap();
        let write_index = select.writable(&writer).unwrap();
        assert_ne!(write_index, index);
        assert_eq!(select.ready_timeout(WAIT), Some(write_index));

        let file =
            std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_owned() + "/Cargo.toml").unwrap();
        let error = select.readable(&file).unwrap_err();
        assert!(matches!(error, SelectError::Watch(_)));
        assert!(std::error::Error::source(&error).is_some());
        fn send_sync<T: Send + Sync + 'static>(_: &T) {}
        send_sync(&error);
    }
}
