//! Refusals of unauthenticated peers cost the `info` log at most one line per source a
//! minute, however many there are (anyone can open a connection; a line per refusal would let
//! anyone fill the disk). Details stay at `debug`.
//!
//! One test in a binary of its own (`harness = false`): it installs the process's global log
//! subscriber, which the node's threads log through.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use actor_net::handshake::{self, HandshakeConfig, HandshakeError};
use actor_net::{Node, Secret};
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything logged at `info` and above.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn secret(key: &[u8]) -> Secret {
    Secret::new(key.to_vec()).unwrap()
}

/// A handshake with the wrong key, from 127.0.0.1 or (Unix) from `from`.
fn wrong_key(addr: SocketAddr, stream: TcpStream) {
    let mut stream = stream;
    let config = HandshakeConfig::default();
    let wrong = secret(b"not the node's key: 0123456789 abcdefghij");
    let err = handshake::client_handshake(&mut stream, &wrong, &config).unwrap_err();
    assert!(
        matches!(err, HandshakeError::Authentication { .. }),
        "{addr}: {err:?}"
    );
}

fn main() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let node = Node::builder(secret(b"refusal log tests: 0123456789 abcdefghij"))
        .listen("127.0.0.1:0")
        .build()
        .unwrap();
    let addr = node.local_addr().unwrap();
    let before = captured.0.lock().unwrap().len();

    // 100 wrong keys and 100 connections closed at once, from 127.0.0.1.
    for _ in 0..100 {
        wrong_key(addr, TcpStream::connect(addr).unwrap());
        drop(TcpStream::connect(addr).unwrap());
    }
    // 20 wrong keys from another source, which has its own line.
    #[cfg(unix)]
    for _ in 0..20 {
        let other = std::net::Ipv4Addr::new(127, 0, 0, 2);
        wrong_key(addr, source::connect_from(other, addr).unwrap());
    }
    // Joins every connection's thread: everything they log is in.
    node.shutdown();

    let logged = String::from_utf8(captured.0.lock().unwrap()[before..].to_vec()).unwrap();
    let refusals: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("refused"))
        .collect();
    let sources = if cfg!(unix) { 2 } else { 1 };
    assert_eq!(refusals.len(), sources, "{logged}");
    assert!(refusals[0].contains("source=127.0.0.1 "), "{}", refusals[0]);
    let attempts = if cfg!(unix) { 220 } else { 200 };
    let bytes = refusals.iter().map(|line| line.len() + 1).sum::<usize>();
    println!(
        "{attempts} refused connections from {sources} sources: {} info lines, {bytes} bytes",
        refusals.len()
    );
    println!("{}", refusals.join("\n"));
    assert!(
        !logged.contains("connection accepted"),
        "an unauthenticated connection is not news at info: {logged}"
    );
}

#[cfg(unix)]
#[path = "support/source.rs"]
mod source;
