//! What a failed handshake logs: its details at `debug`, nothing above. Anyone can make a
//! handshake fail, so what reaches the log above `debug` is the caller's choice (a node
//! rate-limits it).
//!
//! One test in a binary of its own: it records events through a thread-local subscriber,
//! and `tracing` caches per call site whether anyone listens; other tests failing handshakes
//! on other threads at the same moment could make that cache miss the recorder.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use actor_net::Secret;
use actor_net::handshake::{self, HandshakeConfig, HandshakeError};

const KEY: &[u8] = b"handshake tests share this key: 0123456789";
const OTHER_KEY: &[u8] = b"another key, just as strong: 9876543210";
const WAIT: Duration = Duration::from_secs(10);

fn secret(bytes: &[u8]) -> Secret {
    Secret::new(bytes.to_vec()).unwrap()
}

fn config(name: &str) -> HandshakeConfig {
    HandshakeConfig::builder().name(name).build().unwrap()
}

fn tcp_pair() -> (TcpStream, TcpStream, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, peer) = listener.accept().unwrap();
    (client, server, peer)
}

fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

mod logs {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    /// Each event's level and `name=value` fields.
    type Events = Arc<Mutex<Vec<(Level, Vec<String>)>>>;

    /// Records every event.
    #[derive(Clone, Default)]
    pub(super) struct Recorder(pub(super) Events);

    struct Fields(Vec<String>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push(format!("{}={value:?}", field.name()));
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let level = *event.metadata().level();
            self.0.lock().unwrap().push((level, fields.0));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
}

#[test]
fn failed_authentication_is_logged_at_debug_with_the_peer_address_and_error_only() {
    let (mut client_stream, mut server_stream, peer) = tcp_pair();
    let client = spawn(move || {
        handshake::client_handshake(&mut client_stream, &secret(OTHER_KEY), &config("client"))
            .map(drop)
    });
    let recorder = logs::Recorder::default();
    let result = tracing::subscriber::with_default(recorder.clone(), || {
        handshake::server_handshake(&mut server_stream, &secret(KEY), &config("server"), peer)
    });
    assert!(matches!(result, Err(HandshakeError::Authentication { .. })));
    assert!(client.recv_timeout(WAIT).unwrap().is_err());

    // Anyone can make a handshake fail: what reaches the log above `debug` is the caller's
    // choice (a node rate-limits it).
    let events = recorder.0.lock().unwrap();
    assert!(
        events
            .iter()
            .all(|(level, _)| *level >= tracing::Level::DEBUG),
        "nothing above debug: {events:?}"
    );
    let failures: Vec<_> = events
        .iter()
        .filter(|(_, fields)| {
            fields
                .first()
                .is_some_and(|f| f == "message=handshake failed")
        })
        .collect();
    assert_eq!(failures.len(), 1, "{events:?}");
    let (level, fields) = failures[0];
    assert_eq!(*level, tracing::Level::DEBUG);
    assert_eq!(
        fields,
        &[
            "message=handshake failed".to_string(),
            format!("peer={peer}"),
            "error=authentication failed (refused by the peer)".to_string(),
        ]
    );
    let everything = format!("{events:?}");
    assert!(!everything.contains("actor test key"));
}
