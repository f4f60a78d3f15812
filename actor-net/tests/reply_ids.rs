//! TELLs that carry many reply ids, from a peer that holds the key, on 127.0.0.1: the node
//! answers within its own frame limit and keeps the connection.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actor_core::codec::FrameReader;
use actor_net::handshake::{self, HandshakeConfig};
use actor_net::session::{Opener, Sealer};
use actor_net::{Node, Secret};

const KEY: &[u8] = b"reply id tests share this key: 0123456789";
const WAIT: Duration = Duration::from_secs(10);
/// The cap of PROTOCOL.md ("Limits").
const MAX_REPLIES: u16 = 256;

struct Raw {
    stream: TcpStream,
    sealer: Sealer,
    opener: Opener,
    frames: FrameReader<TcpStream>,
}

impl Raw {
    fn connect(addr: SocketAddr) -> Raw {
        let mut stream = TcpStream::connect(addr).unwrap();
        let config = HandshakeConfig::builder().name("raw").build().unwrap();
        let key = Secret::new(KEY.to_vec()).unwrap();
        let done = handshake::client_handshake(&mut stream, &key, &config).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let frames = FrameReader::with_config(
            stream.try_clone().unwrap(),
            actor_net::frame::session_frames(),
        );
        Raw {
            stream,
            sealer: done
                .sealer
                .with_frame_config(actor_net::frame::session_frames()),
            opener: done.opener,
            frames,
        }
    }

    fn send(&mut self, body: &[u8]) {
        let mut frame = Vec::new();
        self.sealer.seal(body, &mut frame).unwrap();
        self.stream.write_all(&frame).unwrap();
    }

    /// The next message the node sends, as (kind, payload); skips PINGs.
    fn next(&mut self, pending: &mut Vec<(u8, Vec<u8>)>) -> (u8, Vec<u8>) {
        loop {
            if !pending.is_empty() {
                let message = pending.remove(0);
                if message.0 != 7 {
                    return message;
                }
                continue;
            }
            let payload = self
                .frames
                .read_frame()
                .expect("a frame")
                .expect("the node keeps the connection");
            let mut body = self.opener.open(payload).expect("an authentic frame");
            while !body.is_empty() {
                let kind = body[0];
                let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
                pending.push((kind, body[5..5 + len].to_vec()));
                body = &body[5 + len..];
            }
        }
    }
}

/// A TELL to `actor` listing reply ids 1..=count, with a message that decodes as nothing.
fn tell(actor: u64, count: u16) -> Vec<u8> {
    let mut payload = actor.to_be_bytes().to_vec();
    payload.extend_from_slice(&count.to_be_bytes());
    for id in 1..=u64::from(count) {
        payload.extend_from_slice(&id.to_be_bytes());
    }
    payload.push(0xff);
    let mut msg = vec![4];
    msg.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    msg.extend_from_slice(&payload);
    msg
}

fn ping(nonce: u64) -> Vec<u8> {
    let mut msg = vec![7, 0, 0, 0, 8];
    msg.extend_from_slice(&nonce.to_be_bytes());
    msg
}

fn node() -> Node {
    Node::builder(Secret::new(KEY.to_vec()).unwrap())
        .listen("127.0.0.1:0")
        .build()
        .unwrap()
}

#[test]
fn a_tell_with_more_reply_ids_than_the_cap_is_rejected_and_the_connection_kept() {
    let node = node();
    let mut raw = Raw::connect(node.local_addr().unwrap());
    let mut pending = Vec::new();
    raw.send(&tell(999, u16::MAX));
    let (kind, payload) = raw.next(&mut pending);
    assert_eq!(kind, 6, "REJECTED");
    assert_eq!(payload, [999_u64.to_be_bytes().as_slice(), &[5]].concat());
    raw.send(&ping(42));
    let (kind, payload) = raw.next(&mut pending);
    assert_eq!((kind, payload), (8, 42_u64.to_be_bytes().to_vec()), "PONG");
    node.shutdown();
}

#[test]
fn every_reply_id_of_an_undeliverable_tell_is_answered_within_the_frame_limit() {
    let node = node();
    let mut raw = Raw::connect(node.local_addr().unwrap());
    let mut pending = Vec::new();
    // Several at the cap, so that their answers add up to more than one frame.
    for _ in 0..20 {
        raw.send(&tell(999, MAX_REPLIES));
    }
    let mut replies = 0;
    let mut rejections = 0;
    while rejections < 20 || replies < 20 * usize::from(MAX_REPLIES) {
        match raw.next(&mut pending) {
            (6, _) => rejections += 1,
            (5, payload) => {
                assert_eq!(payload[8], 3, "status 3: no answer can come");
                replies += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    raw.send(&ping(7));
    let (kind, _) = raw.next(&mut pending);
    assert_eq!(kind, 8, "the connection is kept");
    node.shutdown();
}
