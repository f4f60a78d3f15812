//! The session decoder: session frames after a valid handshake are opened, their batch body is
//! parsed into messages, and each told message is decoded as an exported actor would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actor_core::Reply;
use actor_core::codec::{Bincode, Codec, FrameReader};
use actor_core::wire::{
    ReplyCompleter, ReplyRegistry, ReplyResponder, SharedRegistry, with_replies,
};
use actor_net::frame;
use actor_net::fuzzing::message::{self, Message};
use actor_net::session::{Opener, Sealer, SessionError};
use serde::Deserialize;

use crate::input::Input;
use crate::vectors;

/// Length of a session frame's sequence number.
const SEQ_LEN: usize = 8;

/// Length of a session frame's tag.
const TAG_LEN: usize = 32;

/// Opens session frames after the handshake of the test vectors and decodes what they carry,
/// as a node's connection does.
///
/// Layout: one byte picks the direction (bit 0: client to server, or server to client after
/// the WELCOME) and where the frames come from (bit 1). Raw: the rest is a stream of frames
/// (4-byte big-endian length, payload) read as from the socket; they open only if the input
/// carries a right tag, as the seed corpus's documented vectors do. Sealed: the rest is a list
/// of `op, length (2 bytes, big-endian), body`; each body is sealed by the peer's sealer, then
/// the frame is delivered as it is, changed (a byte flipped, cut short), dropped, or preceded
/// by a replay of the previous one, as `op` says; so the batch parser sees every body the
/// fuzzer makes up.
///
/// Checks: the sealer's frames are the protocol's; a frame opens exactly when its tag and
/// sequence number are right, and a frame the peer sealed and delivered in order opens to its
/// body; the batch parser accepts exactly the messages of `PROTOCOL.md` ("Messages inside
/// session frames") and nothing after a malformed one, and what it accepts writes back to the
/// same bytes; a told message decodes (or not) without panicking, and every reply decoded from
/// it is answered when dropped.
///
/// # Examples
///
/// ```
/// // Sealed, client to server: one frame whose body is a PING with nonce 1.
/// actor_fuzz_targets::session_decoder(b"\x02\x00\x00\x0d\x07\x00\x00\x00\x08\0\0\0\0\0\0\0\x01");
/// ```
pub fn session_decoder(data: &[u8]) {
    let (mut client, mut server) = vectors::handshaken_pair();
    let (c2s, s2c) = vectors::session_keys(&vectors::NONCE_C, &vectors::NONCE_S);
    let mut input = Input::new(data);
    let mode = input.byte();
    let (sealer, opener, key, first_seq) = if mode & 1 == 0 {
        (&mut client.sealer, &mut server.opener, c2s, 0)
    } else {
        (&mut server.sealer, &mut client.opener, s2c, 1)
    };
    assert_eq!(sealer.next_seq(), Some(first_seq));
    assert_eq!(opener.next_seq(), Some(first_seq));
    if mode & 2 == 0 {
        let mut reader = FrameReader::with_config(input.rest(), frame::session_frames());
        while let Ok(Some(payload)) = reader.read_frame() {
            if !receive(opener, &key, payload) {
                break;
            }
        }
    } else {
        sealed_frames(sealer, opener, &key, input);
    }
}

/// A frame as it reaches the receiver.
struct Delivery {
    payload: Vec<u8>,
    /// The sequence number the peer sealed it with, if it arrives untouched: it opens exactly
    /// when that is the number the receiver expects next.
    seq: Option<u64>,
}

/// Seals the input's bodies, delivers the frames as the input says, and receives them.
fn sealed_frames(sealer: &mut Sealer, opener: &mut Opener, key: &[u8; 32], mut input: Input<'_>) {
    let mut deliveries = Vec::new();
    let mut previous: Option<Delivery> = None;
    while !input.is_empty() {
        let op = input.byte();
        let body = input.long_chunk();
        let seq = sealer
            .next_seq()
            .expect("invariant: far from the last sequence number");
        let mut wire = Vec::new();
        sealer
            .seal(body, &mut wire)
            .expect("bodies are far below the frame limit");
        let payload = wire.split_off(4);
        assert_eq!(
            payload,
            sealed(key, seq, body),
            "the sealer's frame is not the protocol's"
        );
        let mut changed = payload.clone();
        match op % 8 {
            4 => {
                let at = usize::from(input.byte()) % changed.len();
                changed[at] ^= input.byte() | 1;
                deliveries.push(Delivery {
                    payload: changed,
                    seq: None,
                });
            }
            5 => {
                changed.truncate(usize::from(input.byte()) % changed.len());
                deliveries.push(Delivery {
                    payload: changed,
                    seq: None,
                });
            }
            // Lost on the way.
            6 => {}
            7 => {
                // The previous frame again, then this one.
                deliveries.extend(previous.take());
                deliveries.push(Delivery {
                    payload: changed,
                    seq: Some(seq),
                });
            }
            _ => deliveries.push(Delivery {
                payload: changed,
                seq: Some(seq),
            }),
        }
        previous = Some(Delivery {
            payload,
            seq: Some(seq),
        });
    }

    let mut wire = Vec::new();
    for delivery in &deliveries {
        frame::session_frames()
            .append_frame(&mut wire, &delivery.payload)
            .expect("frames are far below the limit");
    }
    let mut reader = FrameReader::with_config(wire.as_slice(), frame::session_frames());
    for delivery in deliveries {
        let payload = reader
            .read_frame()
            .expect("whole frames were written")
            .expect("a frame for each delivery");
        let before = opener.next_seq();
        let open = receive(opener, key, payload);
        if delivery.seq.is_some() && delivery.seq == before {
            assert_eq!(
                opener.next_seq(),
                before.map(|seq| seq + 1),
                "a sealed frame refused"
            );
        } else {
            assert_eq!(opener.next_seq(), before, "a changed or late frame opened");
            return;
        }
        if !open {
            return;
        }
    }
}

/// The payload of the session frame `seq | body | HMAC(key, seq | body)`, from `PROTOCOL.md`.
pub(crate) fn sealed(key: &[u8; 32], seq: u64, body: &[u8]) -> Vec<u8> {
    let seq = seq.to_be_bytes();
    let tag = vectors::hmac(key, &[&seq, body]);
    [&seq[..], body, &tag].concat()
}

/// Checks that `sealer` seals under `key` from sequence number `seq` on.
pub(crate) fn check_sealer(sealer: &mut Sealer, key: &[u8; 32], seq: u64) {
    let mut wire = Vec::new();
    sealer
        .seal(b"sealed", &mut wire)
        .expect("a short body is sealed");
    assert_eq!(
        vectors::payloads(&wire),
        [sealed(key, seq, b"sealed")],
        "the sealer's key or sequence is not the protocol's"
    );
}

/// What the model says of a session frame's payload.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Truncated { len: usize },
    BadTag,
    BadSequence { expected: u64, got: u64 },
    SequenceExhausted,
}

/// The model of opening: the body, or why the frame is refused, checking the tag first.
fn judge_frame<'a>(
    key: &[u8; 32],
    next: Option<u64>,
    payload: &'a [u8],
) -> Result<&'a [u8], Refusal> {
    if payload.len() < SEQ_LEN + TAG_LEN {
        return Err(Refusal::Truncated { len: payload.len() });
    }
    let (sealed, tag) = payload.split_at(payload.len() - TAG_LEN);
    if vectors::hmac(key, &[sealed]) != tag {
        return Err(Refusal::BadTag);
    }
    let (seq, body) = sealed.split_at(SEQ_LEN);
    let got = u64::from_be_bytes(seq.try_into().expect("invariant: eight bytes"));
    match next {
        None => Err(Refusal::SequenceExhausted),
        Some(expected) if got != expected => Err(Refusal::BadSequence { expected, got }),
        Some(_) => Ok(body),
    }
}

/// Receives one session frame's payload as a node's connection does: opens it, then handles
/// the messages of its batch. Checks both against the models; returns whether the connection
/// stays open.
pub(crate) fn receive(opener: &mut Opener, key: &[u8; 32], payload: &[u8]) -> bool {
    let model = judge_frame(key, opener.next_seq(), payload);
    let body = match (model, opener.open(payload)) {
        (Ok(expected), Ok(body)) => {
            assert_eq!(body, expected, "opened to another body");
            body
        }
        (Err(refusal), Err(error)) => {
            let same = match (&refusal, &error) {
                (Refusal::Truncated { len }, SessionError::Truncated { len: got, .. }) => {
                    len == got
                }
                (Refusal::BadTag, SessionError::BadTag) => true,
                (Refusal::SequenceExhausted, SessionError::SequenceExhausted) => true,
                (
                    Refusal::BadSequence { expected, got },
                    &SessionError::BadSequence {
                        expected: e,
                        got: g,
                    },
                ) => (*expected, *got) == (e, g),
                _ => false,
            };
            assert!(
                same,
                "the model refuses with {refusal:?}, the opener with {error:?}"
            );
            return false;
        }
        (model, result) => panic!("the model says {model:?}, the opener {result:?}"),
    };
    handle_batch(body)
}

/// Walks a batch as a connection does: every message up to a malformed one or a GOODBYE.
/// Returns whether the connection stays open.
fn handle_batch(body: &[u8]) -> bool {
    let expected = model_batch(body);
    let mut parsed = Vec::new();
    let mut reader = message::Reader::new(body);
    let malformed = loop {
        match reader.next() {
            None => break false,
            Some(Ok(message)) => parsed.push(message),
            Some(Err(_)) => {
                assert!(reader.next().is_none(), "messages after a malformed one");
                break true;
            }
        }
    };
    assert_eq!(
        (parsed.len(), malformed),
        expected,
        "the parser and the model disagree on {body:02x?}: parsed {parsed:?}"
    );
    if !malformed {
        let mut written = Vec::new();
        let mut writer = message::Writer::new(&mut written);
        for message in &parsed {
            write(&mut writer, message);
        }
        assert_eq!(
            written, body,
            "the parsed messages write back to other bytes"
        );
    }
    for message in &parsed {
        match message {
            Message::Tell {
                actor,
                replies,
                payload,
            } => {
                assert_eq!(message::reply_ids(replies).count() * 8, replies.len());
                deliver(*actor, payload);
            }
            Message::Goodbye => return false,
            _ => {}
        }
    }
    !malformed
}

/// Writes `message` back, as the peer that sent it would have.
fn write(writer: &mut message::Writer<'_>, message: &Message<'_>) {
    match *message {
        Message::Lookup {
            request,
            name,
            message_type,
        } => writer.lookup(request, name, message_type),
        Message::LookupOk { request, actor } => writer.lookup_ok(request, actor),
        Message::LookupErr {
            request,
            failure,
            detail,
        } => writer.lookup_err(request, failure, detail),
        Message::Tell {
            actor,
            replies,
            payload,
        } => {
            let ids: Vec<u64> = message::reply_ids(replies).collect();
            writer.tell(actor, &ids, payload);
        }
        Message::Reply { id, ref status } => writer.reply(id, status),
        Message::Rejected { actor, why } => writer.rejected(actor, why),
        Message::Ping(nonce) => writer.ping(nonce),
        Message::Pong(nonce) => writer.pong(nonce),
        Message::Goodbye => writer.goodbye(),
        Message::Monitor { actor } => writer.monitor(actor),
        Message::Down {
            actor,
            reason,
            detail,
        } => writer.down(actor, reason, detail),
        Message::Subscribe {
            sub,
            pattern,
            message_type,
        } => writer.subscribe(sub, pattern, message_type),
        Message::Subscribed {
            sub,
            status,
            detail,
        } => writer.subscribed(sub, status, detail),
        Message::Unsubscribe { sub } => writer.unsubscribe(sub),
        Message::Unsubscribed { sub } => writer.unsubscribed(sub),
        Message::Event {
            sub,
            exchange,
            payload,
        } => writer.event(sub, exchange, payload),
    }
}

/// The model of a batch, from `PROTOCOL.md`: how many messages are valid before the first
/// malformed one, and whether there is one.
fn model_batch(mut body: &[u8]) -> (usize, bool) {
    let mut valid = 0;
    while !body.is_empty() {
        let mut c = Fields(body);
        let message = c.u8().zip(c.u32()).and_then(|(kind, len)| {
            let payload = c.take(len as usize)?;
            valid_message(kind, payload).then_some(c.0)
        });
        match message {
            Some(rest) => {
                valid += 1;
                body = rest;
            }
            None => return (valid, true),
        }
    }
    (valid, false)
}

/// Whether `payload` is a valid message of `kind`, as the table of `PROTOCOL.md` lays it out.
fn valid_message(kind: u8, payload: &[u8]) -> bool {
    let mut c = Fields(payload);
    let fields = match kind {
        1 => c.u64().and(c.str()).and(c.str()).is_some(),
        2 => c.u64().and(c.u64()).is_some(),
        3 => c.u64().is_some() && matches!(c.u8(), Some(1 | 2)) && c.str().is_some(),
        4 => {
            let count = c.u64().and(c.u16());
            return count.and_then(|n| c.take(usize::from(n) * 8)).is_some();
        }
        5 => {
            return c.u64().is_some()
                && match c.u8() {
                    Some(0) => true,
                    Some(1) => c.0.is_empty(),
                    Some(2 | 3) => std::str::from_utf8(c.0).is_ok(),
                    _ => false,
                };
        }
        6 => c.u64().is_some() && matches!(c.u8(), Some(1..=5)),
        7 | 8 | 10 => c.u64().is_some(),
        9 => true,
        11 => c.u64().is_some() && matches!(c.u8(), Some(1..=5)) && c.str().is_some(),
        12 => c.u64().and(c.str()).and(c.str()).is_some(),
        13 => c.u64().is_some() && matches!(c.u8(), Some(0..=4)) && c.str().is_some(),
        14 | 16 => c.u64().is_some(),
        15 => return c.u64().and(c.str()).is_some(),
        _ => false,
    };
    fields && c.0.is_empty()
}

/// Big-endian fields read off the front of a byte string; `None` when it runs short.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    /// `str`: a `u16` length of at most 1024, then that many bytes of UTF-8.
    fn str(&mut self) -> Option<&'a str> {
        let len = usize::from(self.u16()?);
        if len > 1024 {
            return None;
        }
        std::str::from_utf8(self.take(len)?).ok()
    }
}

/// A message type with replies inside, as an actor that answers requests takes.
#[derive(Deserialize)]
enum Request {
    Get(String, Reply<Option<Vec<u8>>>),
    Put(String, Vec<u8>),
    Sum(Vec<i64>, Reply<i64>),
    Batch(Vec<(u32, Reply<u32>)>),
    Stop,
}

/// Decodes a told message as the exported actor `actor` would: odd actors take [`Request`],
/// even ones `(u64, String)`. Checks that every reply decoded is answered once when dropped.
fn deliver(actor: u64, payload: &[u8]) {
    let counts = Arc::new(Counts::default());
    let registry: SharedRegistry = counts.clone();
    if actor % 2 == 1 {
        if let Ok(request) = with_replies(&registry, || Bincode::new().decode(payload)) {
            answer(request);
        }
    } else {
        let decoded = with_replies(&registry, || {
            Bincode::new().decode::<(u64, String)>(payload)
        });
        drop(decoded);
    }
    let (made, answered) = (
        counts.responders.load(Ordering::Relaxed),
        counts.answers.load(Ordering::Relaxed),
    );
    assert_eq!(
        made, answered,
        "a decoded reply was dropped without an answer"
    );
}

/// Handles a request as an actor would: each reply is answered, or dropped unanswered.
fn answer(request: Request) {
    match request {
        Request::Get(name, reply) if name.is_empty() => drop(reply),
        Request::Get(name, reply) => reply.send(Some(name.into_bytes())),
        Request::Put(name, value) => drop((name, value)),
        Request::Sum(terms, reply) => reply.send(terms.iter().fold(0, |a, b| a.wrapping_add(*b))),
        Request::Batch(items) => {
            for (n, reply) in items {
                reply.send(n);
            }
        }
        Request::Stop => {}
    }
}

/// A reply registry that counts the replies decoded and the answers they send.
#[derive(Debug, Default)]
struct Counts {
    responders: AtomicUsize,
    answers: Arc<AtomicUsize>,
}

impl ReplyRegistry for Counts {
    fn register(&self, _complete: ReplyCompleter) -> u64 {
        unreachable!("the receiver only decodes")
    }

    fn responder(&self, _id: u64) -> ReplyResponder {
        self.responders.fetch_add(1, Ordering::Relaxed);
        let answers = Arc::clone(&self.answers);
        Box::new(move |_answer| {
            answers.fetch_add(1, Ordering::Relaxed);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_read_the_example_batch_of_protocol_md() {
        let batch = b"\x07\0\0\0\x08\0\0\0\0\0\0\0\x01\x04\0\0\0\x0b\0\0\0\0\0\0\0\x05\0\0\x2a";
        assert_eq!(model_batch(batch), (2, false));
        assert_eq!(model_batch(&batch[..batch.len() - 1]), (1, true));
        assert!(handle_batch(batch));
    }

    #[test]
    fn the_frame_model_checks_the_tag_before_the_sequence() {
        let key = [7; 32];
        let frame = sealed(&key, 3, b"body");
        assert_eq!(judge_frame(&key, Some(3), &frame), Ok(&b"body"[..]));
        assert_eq!(
            judge_frame(&key, Some(4), &frame),
            Err(Refusal::BadSequence {
                expected: 4,
                got: 3
            })
        );
        assert_eq!(judge_frame(&[8; 32], Some(4), &frame), Err(Refusal::BadTag));
        assert_eq!(
            judge_frame(&key, Some(3), &frame[..39]),
            Err(Refusal::Truncated { len: 39 })
        );
    }
}
