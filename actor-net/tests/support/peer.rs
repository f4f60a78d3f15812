//! What the node tests share: a peer's view of a connection (closed or not), a session with
//! the handshake done by hand for crafting frames, and a trivial exported actor.
//!
//! Included with `#[path]` by several test binaries, each of which uses a part of it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actor_core::{Actor, Context, HandlerResult, Reply};
use actor_net::handshake::{self, HandshakeConfig};
use actor_net::session::Sealer;
use actor_net::{RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

/// The bound on every wait in these tests.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Waits until the peer closes `stream` (a read returns 0 or fails); `false` if it is still
/// open after `WAIT`.
pub(crate) fn closed_by_peer(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A raw, authenticated connection to `addr` with `key`: the handshake done by hand, for
/// sending crafted frames.
pub(crate) fn raw_session(addr: SocketAddr, key: &[u8]) -> (TcpStream, Sealer) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let config = HandshakeConfig::builder().name("raw").build().unwrap();
    let key = Secret::new(key.to_vec()).unwrap();
    let done = handshake::client_handshake(&mut stream, &key, &config).unwrap();
    (stream, done.sealer)
}

/// A PING message as PROTOCOL.md lays it out: kind 7, length 8, a nonce.
pub(crate) fn ping_message(nonce: u64) -> Vec<u8> {
    let mut msg = vec![7, 0, 0, 0, 8];
    msg.extend_from_slice(&nonce.to_be_bytes());
    msg
}

/// A request answered with 1.
#[derive(Serialize, Deserialize)]
pub(crate) struct Ping(pub Reply<u64>);

impl RemoteMessage for Ping {
    const NAME: &'static str = "test.ping";
}

/// Answers every `Ping`.
pub(crate) struct Pong;

impl Actor for Pong {
    type Msg = Ping;
    fn handle(&mut self, Ping(reply): Ping, _: &mut Context<Ping>) -> HandlerResult {
        reply.send(1);
        Ok(())
    }
}
