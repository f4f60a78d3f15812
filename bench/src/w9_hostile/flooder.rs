//! [`Flooder`]: W9's hostile peer. It holds the key, so it passes the handshake and seals its
//! frames as any node does; then it asks the incrementer as fast as the node lets it and never
//! reads a byte of what comes back.
//!
//! The framework has no API for misbehaving, so the flooder speaks the protocol by hand, as
//! `actor-net/PROTOCOL.md` lays it out: the handshake through
//! `actor_net::handshake::client_handshake` (at its default settings, as a node's), the
//! session frames through its [`Sealer`] and [`Opener`], and the messages inside them written
//! here: one LOOKUP of the incrementer, then frames of 64 KiB of TELLs, each carrying one
//! reply id (an ask).

use std::io::{ErrorKind, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec, FrameReader};
use actor_net::handshake::{self, HandshakeConfig};
use actor_net::session::{Opener, Sealer};
use actor_net::{RemoteMessage, frame};

use crate::error::{BenchError, BenchResult};
use crate::incrementer::{self, Increment};
use crate::run_key::RunKey;
use crate::wait::WAIT_LIMIT;

/// Message kinds (PROTOCOL.md, "Messages inside session frames").
mod kind {
    pub(super) const LOOKUP: u8 = 1;
    pub(super) const LOOKUP_OK: u8 = 2;
    pub(super) const LOOKUP_ERR: u8 = 3;
    pub(super) const TELL: u8 = 4;
}

/// Bytes of TELLs packed into one frame: as much as the reference writer packs.
const BATCH: usize = 64 * 1024;

/// How long a write blocked by a node that no longer reads waits before the flooder looks
/// at the clock again.
const WRITE_POLL: Duration = Duration::from_millis(50);

/// The LOOKUP's request id.
const LOOKUP: u64 = 1;

/// A session to the serving node, the incrementer looked up in it.
#[derive(Debug)]
pub(super) struct Flooder {
    stream: TcpStream,
    sealer: Sealer,
    /// The incrementer's id on this connection.
    actor: u64,
}

impl Flooder {
    /// Connects to the node at `addr`, passes the handshake with `key`, and looks up the
    /// incrementer.
    pub(super) fn connect(addr: SocketAddr, key: &RunKey) -> BenchResult<Flooder> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(WAIT_LIMIT))?;
        stream.set_write_timeout(Some(WAIT_LIMIT))?;
        let config = HandshakeConfig::builder()
            .name("actor-bench-flooder")
            .build()?;
        let done = handshake::client_handshake(&mut stream, &key.secret()?, &config)?;
        let (mut sealer, mut opener) = (done.sealer, done.opener);
        let identity = format!("{}@{}", Increment::NAME, Increment::VERSION);
        let mut body = Vec::new();
        message(kind::LOOKUP, &mut body, |payload| {
            payload.extend_from_slice(&LOOKUP.to_be_bytes());
            put_str(payload, incrementer::EXPORT)?;
            put_str(payload, &identity)
        })?;
        let mut sealed = Vec::new();
        sealer.seal(&body, &mut sealed)?;
        stream.write_all(&sealed)?;
        let actor = read_lookup_ok(&stream, &mut opener)?;
        Ok(Flooder {
            stream,
            sealer,
            actor,
        })
    }

    /// Asks until `until`, never reading; returns how many asks went out in whole frames.
    /// A node that closes the connection ends the flood early; the connection is closed on
    /// return.
    pub(super) fn flood(mut self, until: Instant) -> BenchResult<u64> {
        self.stream.set_write_timeout(Some(WRITE_POLL))?;
        let flooded = self.asks_until(until);
        let _ = self.stream.shutdown(Shutdown::Both);
        flooded
    }

    fn asks_until(&mut self, until: Instant) -> BenchResult<u64> {
        let codec = Bincode::new();
        let mut body = Vec::with_capacity(BATCH + 64);
        let mut sealed = Vec::with_capacity(BATCH + 128);
        let (mut next_id, mut asked) = (1_u64, 0_u64);
        while Instant::now() < until {
            body.clear();
            let first_id = next_id;
            while body.len() < BATCH {
                ask(self.actor, next_id, &codec, &mut body)?;
                next_id += 1;
            }
            sealed.clear();
            self.sealer.seal(&body, &mut sealed)?;
            if !write_until(&mut self.stream, &sealed, until) {
                break;
            }
            asked += next_id - first_id;
        }
        Ok(asked)
    }
}

/// Appends an ask of `Increment(id)` to `actor`, with reply id `id`: a TELL listing the reply
/// id, then the message bytes, which carry it again (as a varint).
fn ask(actor: u64, id: u64, codec: &Bincode, body: &mut Vec<u8>) -> BenchResult<()> {
    message(kind::TELL, body, |payload| {
        payload.extend_from_slice(&actor.to_be_bytes());
        payload.extend_from_slice(&1_u16.to_be_bytes());
        payload.extend_from_slice(&id.to_be_bytes());
        // `Increment(u64, Reply<u64>)` encodes as the pair `(i, reply id)`.
        Ok(codec.encode(&(id, id), payload)?)
    })
}

/// Appends a message `kind u8 | length u32 BE | payload` whose payload `write` appends.
fn message(
    kind: u8,
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> BenchResult<()>,
) -> BenchResult<()> {
    out.push(kind);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out)?;
    let len = u32::try_from(out.len() - at - 4)?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Appends a protocol string: a u16 BE length, then the bytes.
fn put_str(out: &mut Vec<u8>, text: &str) -> BenchResult<()> {
    out.extend_from_slice(&u16::try_from(text.len())?.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// Reads frames until one holds the answer to the LOOKUP; returns the actor's id. Anything
/// else the node sends first (a PING) is passed over.
fn read_lookup_ok(stream: &TcpStream, opener: &mut Opener) -> BenchResult<u64> {
    let mut frames = FrameReader::with_config(stream, frame::session_frames());
    loop {
        let payload = frames
            .read_frame()?
            .ok_or_else(|| BenchError::peer("closed the flooder's connection before LOOKUP_OK"))?;
        let mut body = opener.open(payload)?;
        while let Some((&kind, rest)) = body.split_first() {
            let (len, rest) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| BenchError::peer("sent a truncated message"))?;
            let len = usize::try_from(u32::from_be_bytes(*len))?;
            if rest.len() < len {
                return Err(BenchError::peer("sent a truncated message"));
            }
            let (payload, rest) = rest.split_at(len);
            match (kind, payload.split_first_chunk::<8>()) {
                (kind::LOOKUP_OK, Some((request, actor)))
                    if u64::from_be_bytes(*request) == LOOKUP =>
                {
                    let actor = actor
                        .first_chunk::<8>()
                        .ok_or_else(|| BenchError::peer("sent a short LOOKUP_OK"))?;
                    return Ok(u64::from_be_bytes(*actor));
                }
                (kind::LOOKUP_ERR, _) => {
                    return Err(BenchError::peer("refused the flooder's LOOKUP"));
                }
                _ => {}
            }
            body = rest;
        }
    }
}

/// Writes all of `bytes` unless `until` passes first or the node closes the connection;
/// whether all was written.
fn write_until(stream: &mut TcpStream, mut bytes: &[u8], until: Instant) -> bool {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return false,
            Ok(written) => bytes = &bytes[written..],
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if Instant::now() >= until {
                    return false;
                }
            }
            // The node closed the connection: it may cut off a peer that never reads.
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_kind_length_payload() {
        let mut out = Vec::new();
        message(kind::LOOKUP, &mut out, |payload| put_str(payload, "ab")).unwrap();
        assert_eq!(out, [1, 0, 0, 0, 4, 0, 2, b'a', b'b']);
    }

    #[test]
    fn an_ask_carries_its_reply_id_twice() {
        // PROTOCOL.md: the reply id big-endian in the TELL's list, and as a varint in the
        // message bytes, after the request's own `i`.
        let mut out = Vec::new();
        ask(7, 300, &Bincode::new(), &mut out).unwrap();
        let mut expected = vec![4, 0, 0, 0, 24];
        expected.extend_from_slice(&7_u64.to_be_bytes());
        expected.extend_from_slice(&[0, 1]);
        expected.extend_from_slice(&300_u64.to_be_bytes());
        expected.extend_from_slice(&[0xfb, 0x2c, 0x01, 0xfb, 0x2c, 0x01]);
        assert_eq!(out, expected);
    }
}
