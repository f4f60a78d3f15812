//! The messages inside session frames: lookups, tells, replies, rejections, heartbeats,
//! monitors, and subscriptions to exchanges with the events they carry.
//!
//! A session frame's body is a batch of one or more messages, each `kind u8 | length u32
//! BE | payload`, so that a writer can pack whatever is queued into one authenticated frame
//! and a reader can walk a batch without trusting any length it has not checked. The
//! layout of each kind is in `PROTOCOL.md`; this module is its only implementation.

use std::fmt;

/// Protocol message kinds.
mod kind {
    pub(super) const LOOKUP: u8 = 1;
    pub(super) const LOOKUP_OK: u8 = 2;
    pub(super) const LOOKUP_ERR: u8 = 3;
    pub(super) const TELL: u8 = 4;
    pub(super) const REPLY: u8 = 5;
    pub(super) const REJECTED: u8 = 6;
    pub(super) const PING: u8 = 7;
    pub(super) const PONG: u8 = 8;
    pub(super) const GOODBYE: u8 = 9;
    pub(super) const MONITOR: u8 = 10;
    pub(super) const DOWN: u8 = 11;
    pub(super) const SUBSCRIBE: u8 = 12;
    pub(super) const SUBSCRIBED: u8 = 13;
    pub(super) const UNSUBSCRIBE: u8 = 14;
    pub(super) const EVENT: u8 = 15;
    pub(super) const UNSUBSCRIBED: u8 = 16;
}

/// The longest actor or type name a message may carry.
pub const MAX_NAME: usize = 1024;

/// The most reply ids one TELL may carry. A node rejects a TELL with more (reason
/// [`Rejection::TooManyReplies`]) without answering its replies, so that what it answers to one
/// message always fits in a frame.
pub const MAX_REPLIES: usize = 256;

/// Why a lookup found no usable actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupFailure {
    /// No actor is exported under the name.
    NotFound = 1,
    /// The actor exported under the name takes another message type.
    WrongType = 2,
}

/// What became of a request, as a reply reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyStatus<'a> {
    /// The answer, encoded.
    Ok(&'a [u8]),
    /// The actor dropped the request unanswered.
    Dropped,
    /// The answering code panicked; the panic message.
    Panicked(&'a str),
    /// The answer could not be produced or delivered; why.
    Failed(&'a str),
}

/// Why a told message was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No exported actor has this id.
    UnknownActor = 1,
    /// The payload does not decode as the actor's message type.
    Undecodable = 2,
    /// The actor has stopped.
    ActorGone = 3,
    /// The actor's bounded mailbox refused it.
    MailboxFull = 4,
    /// It carries more reply ids than [`MAX_REPLIES`]; its replies are not answered.
    TooManyReplies = 5,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::UnknownActor => "no exported actor has this id",
            Rejection::Undecodable => "the message does not decode as the actor's type",
            Rejection::ActorGone => "the actor has stopped",
            Rejection::MailboxFull => "the actor's mailbox is full",
            Rejection::TooManyReplies => "the message carries too many replies",
        })
    }
}

/// How an exported actor ended, as a DOWN reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownReason {
    /// It stopped gracefully.
    Stopped = 1,
    /// It was killed.
    Killed = 2,
    /// It failed: its handler returned an error (the detail says which).
    Failed = 3,
    /// It failed: its handler panicked (the detail is the panic message).
    Panicked = 4,
    /// No exported actor has this id (never had, or no longer exported).
    Unknown = 5,
}

/// What became of a SUBSCRIBE, as a SUBSCRIBED reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeStatus {
    /// Attached: matching messages follow as EVENTs.
    Ok = 0,
    /// The node shares no message type with this declared identity.
    UnknownType = 1,
    /// The pattern does not parse.
    BadPattern = 2,
    /// The connection holds as many subscriptions as the node allows.
    TooMany = 3,
    /// The connection already holds a subscription with this id.
    Duplicate = 4,
}

impl fmt::Display for SubscribeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubscribeStatus::Ok => "subscribed",
            SubscribeStatus::UnknownType => "the node shares no message type of that identity",
            SubscribeStatus::BadPattern => "the pattern is not a valid exchange pattern",
            SubscribeStatus::TooMany => "the connection holds too many subscriptions",
            SubscribeStatus::Duplicate => "the subscription id is already in use",
        })
    }
}

/// One parsed message, borrowing from the frame body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// LOOKUP: asks for the actor exported under a name.
    Lookup {
        /// Chosen by the asker, to match the answer.
        request: u64,
        /// The name the actor is exported under.
        name: &'a str,
        /// The declared identity of the messages the asker will send, `NAME@VERSION`.
        message_type: &'a str,
    },
    /// LOOKUP_OK: the actor was found.
    LookupOk {
        /// The lookup's request.
        request: u64,
        /// The actor's id on this connection.
        actor: u64,
    },
    /// LOOKUP_ERR: no usable actor.
    LookupErr {
        /// The lookup's request.
        request: u64,
        /// Why.
        failure: LookupFailure,
        /// For a wrong type, the declared identity the actor takes (`NAME@VERSION`).
        detail: &'a str,
    },
    /// TELL: a message for an actor.
    Tell {
        /// The actor's id.
        actor: u64,
        /// The reply ids inside the message, so that they can be failed if it does not
        /// decode. Big-endian u64s.
        replies: &'a [u8],
        /// The message, encoded.
        payload: &'a [u8],
    },
    /// REPLY: what became of a request.
    Reply {
        /// The reply id, as the TELL that carried the request listed it.
        id: u64,
        /// The answer, or why there is none.
        status: ReplyStatus<'a>,
    },
    /// REJECTED: a told message was not delivered.
    Rejected {
        /// The actor it was told to.
        actor: u64,
        /// Why.
        why: Rejection,
    },
    /// PING, with its nonce.
    Ping(u64),
    /// PONG, with the nonce of the PING it answers.
    Pong(u64),
    /// GOODBYE: the peer shuts down.
    Goodbye,
    /// MONITOR: asks to be told (by a DOWN) when an exported actor ends.
    Monitor {
        /// The actor's id.
        actor: u64,
    },
    /// DOWN: an exported actor that the peer monitors has ended.
    Down {
        /// The actor's id.
        actor: u64,
        /// How it ended.
        reason: DownReason,
        /// For a failure, what it was; otherwise empty.
        detail: &'a str,
    },
    /// SUBSCRIBE: asks for the messages published on the exchanges matching a pattern.
    Subscribe {
        /// Chosen by the subscriber, unique on its connection: the EVENTs carry it.
        sub: u64,
        /// The exchange pattern (`orders.>`, `system.*`, or a plain exchange name).
        pattern: &'a str,
        /// The declared identity of the message type (`NAME@VERSION`), or empty for the
        /// `Debug` text of every type the node shows.
        message_type: &'a str,
    },
    /// SUBSCRIBED: what became of a SUBSCRIBE.
    Subscribed {
        /// The subscription.
        sub: u64,
        /// Attached, or why not.
        status: SubscribeStatus,
        /// For a refusal, a human-readable detail; otherwise empty.
        detail: &'a str,
    },
    /// UNSUBSCRIBE: ends a subscription.
    Unsubscribe {
        /// The subscription.
        sub: u64,
    },
    /// UNSUBSCRIBED: a subscription has ended; no EVENT of it follows.
    Unsubscribed {
        /// The subscription.
        sub: u64,
    },
    /// EVENT: a message published on an exchange matching a subscription.
    Event {
        /// The subscription that carries it.
        sub: u64,
        /// The exchange it was published on.
        exchange: &'a str,
        /// The message, encoded (or its `Debug` text, for a text subscription).
        payload: &'a [u8],
    },
}

/// A batch body that does not parse: the peer is broken or hostile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed message in a session frame: {0}")]
pub struct Malformed(&'static str);

/// Appends messages to a batch body.
#[derive(Debug)]
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Writer<'a> {
        Writer { out }
    }

    /// Appends one message of `kind` whose payload `fill` writes.
    fn message(&mut self, kind: u8, fill: impl FnOnce(&mut Vec<u8>)) {
        self.out.push(kind);
        let len_at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        fill(self.out);
        let len = self.out.len() - len_at - 4;
        // Bodies are bounded far below 4 GiB by the frame limit the caller enforces.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// A LOOKUP of the actor exported as `name`, taking messages declared as `message_type`
    /// (`NAME@VERSION`).
    pub fn lookup(&mut self, request: u64, name: &str, message_type: &str) {
        self.message(kind::LOOKUP, |out| {
            out.extend_from_slice(&request.to_be_bytes());
            put_str(out, name);
            put_str(out, message_type);
        });
    }

    /// A LOOKUP_OK: the actor looked up by `request` has the id `actor`.
    pub fn lookup_ok(&mut self, request: u64, actor: u64) {
        self.message(kind::LOOKUP_OK, |out| {
            out.extend_from_slice(&request.to_be_bytes());
            out.extend_from_slice(&actor.to_be_bytes());
        });
    }

    /// A LOOKUP_ERR: the lookup `request` failed.
    pub fn lookup_err(&mut self, request: u64, failure: LookupFailure, detail: &str) {
        self.message(kind::LOOKUP_ERR, |out| {
            out.extend_from_slice(&request.to_be_bytes());
            out.push(failure as u8);
            put_str(out, detail);
        });
    }

    /// A tell whose reply ids and encoded payload are given.
    pub fn tell(&mut self, actor: u64, replies: &[u64], payload: &[u8]) {
        self.message(kind::TELL, |out| {
            out.extend_from_slice(&actor.to_be_bytes());
            // At most u16::MAX replies travel in one message (checked by the sender).
            let count = u16::try_from(replies.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&count.to_be_bytes());
            for id in replies.iter().take(usize::from(count)) {
                out.extend_from_slice(&id.to_be_bytes());
            }
            out.extend_from_slice(payload);
        });
    }

    /// A REPLY for the reply id `id`.
    pub fn reply(&mut self, id: u64, status: &ReplyStatus<'_>) {
        self.message(kind::REPLY, |out| {
            out.extend_from_slice(&id.to_be_bytes());
            match status {
                ReplyStatus::Ok(bytes) => {
                    out.push(0);
                    out.extend_from_slice(bytes);
                }
                ReplyStatus::Dropped => out.push(1),
                ReplyStatus::Panicked(msg) => {
                    out.push(2);
                    out.extend_from_slice(msg.as_bytes());
                }
                ReplyStatus::Failed(why) => {
                    out.push(3);
                    out.extend_from_slice(why.as_bytes());
                }
            }
        });
    }

    /// A REJECTED: a message told to `actor` was not delivered.
    pub fn rejected(&mut self, actor: u64, why: Rejection) {
        self.message(kind::REJECTED, |out| {
            out.extend_from_slice(&actor.to_be_bytes());
            out.push(why as u8);
        });
    }

    /// A PING with `nonce`.
    pub fn ping(&mut self, nonce: u64) {
        self.message(kind::PING, |out| {
            out.extend_from_slice(&nonce.to_be_bytes())
        });
    }

    /// A PONG answering the PING with `nonce`.
    pub fn pong(&mut self, nonce: u64) {
        self.message(kind::PONG, |out| {
            out.extend_from_slice(&nonce.to_be_bytes())
        });
    }

    /// A GOODBYE.
    pub fn goodbye(&mut self) {
        self.message(kind::GOODBYE, |_| {});
    }

    /// A MONITOR of `actor`.
    pub fn monitor(&mut self, actor: u64) {
        self.message(kind::MONITOR, |out| {
            out.extend_from_slice(&actor.to_be_bytes())
        });
    }

    /// A DOWN: `actor` ended for `reason` (`detail` is cut to [`MAX_NAME`] bytes).
    pub fn down(&mut self, actor: u64, reason: DownReason, detail: &str) {
        self.message(kind::DOWN, |out| {
            out.extend_from_slice(&actor.to_be_bytes());
            out.push(reason as u8);
            put_str(out, detail);
        });
    }

    /// A SUBSCRIBE to the exchanges matching `pattern`, for messages declared as
    /// `message_type` (empty for `Debug` text).
    pub fn subscribe(&mut self, sub: u64, pattern: &str, message_type: &str) {
        self.message(kind::SUBSCRIBE, |out| {
            out.extend_from_slice(&sub.to_be_bytes());
            put_str(out, pattern);
            put_str(out, message_type);
        });
    }

    /// A SUBSCRIBED answering the SUBSCRIBE `sub` (`detail` is cut to [`MAX_NAME`] bytes).
    pub fn subscribed(&mut self, sub: u64, status: SubscribeStatus, detail: &str) {
        self.message(kind::SUBSCRIBED, |out| {
            out.extend_from_slice(&sub.to_be_bytes());
            out.push(status as u8);
            put_str(out, detail);
        });
    }

    /// An UNSUBSCRIBE of `sub`.
    pub fn unsubscribe(&mut self, sub: u64) {
        self.message(kind::UNSUBSCRIBE, |out| {
            out.extend_from_slice(&sub.to_be_bytes())
        });
    }

    /// An UNSUBSCRIBED: the subscription `sub` has ended.
    pub fn unsubscribed(&mut self, sub: u64) {
        self.message(kind::UNSUBSCRIBED, |out| {
            out.extend_from_slice(&sub.to_be_bytes())
        });
    }

    /// An EVENT of the subscription `sub`: a message published on `exchange`.
    pub fn event(&mut self, sub: u64, exchange: &str, payload: &[u8]) {
        self.message(kind::EVENT, |out| {
            out.extend_from_slice(&sub.to_be_bytes());
            put_str(out, exchange);
            out.extend_from_slice(payload);
        });
    }
}

/// The encoded length of an EVENT carrying `payload` for `exchange`.
pub(crate) fn event_len(exchange: &str, payload: usize) -> usize {
    5 + 8 + 2 + exchange.len().min(MAX_NAME) + payload
}

/// Names travel as `u16 BE length | UTF-8`; longer ones are cut at a character boundary.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(MAX_NAME);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // `end` is at most MAX_NAME, which fits in a u16.
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..end]);
}

/// Walks the messages of a batch body.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader of the batch `body`: a session frame's opened body.
    #[must_use]
    pub fn new(body: &'a [u8]) -> Reader<'a> {
        Reader { rest: body }
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Message<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = split_message(self.rest).and_then(|(kind, payload, rest)| {
            self.rest = rest;
            parse(kind, payload)
        });
        if parsed.is_err() {
            // Nothing after a malformed message can be trusted.
            self.rest = &[];
        }
        Some(parsed)
    }
}

fn split_message(bytes: &[u8]) -> Result<(u8, &[u8], &[u8]), Malformed> {
    let mut cursor = Cursor(bytes);
    let kind = cursor.u8()?;
    let len = cursor.u32()? as usize;
    let payload = cursor.take(len)?;
    Ok((kind, payload, cursor.0))
}

fn parse(kind: u8, payload: &[u8]) -> Result<Message<'_>, Malformed> {
    let mut c = Cursor(payload);
    let message = match kind {
        kind::LOOKUP => Message::Lookup {
            request: c.u64()?,
            name: c.str()?,
            message_type: c.str()?,
        },
        kind::LOOKUP_OK => Message::LookupOk {
            request: c.u64()?,
            actor: c.u64()?,
        },
        kind::LOOKUP_ERR => Message::LookupErr {
            request: c.u64()?,
            failure: match c.u8()? {
                1 => LookupFailure::NotFound,
                2 => LookupFailure::WrongType,
                _ => return Err(Malformed("unknown lookup failure")),
            },
            detail: c.str()?,
        },
        kind::TELL => {
            let actor = c.u64()?;
            let count = usize::from(c.u16()?);
            let replies = c.take(count * 8)?;
            return Ok(Message::Tell {
                actor,
                replies,
                payload: c.0,
            });
        }
        kind::REPLY => {
            let id = c.u64()?;
            let status = match c.u8()? {
                0 => ReplyStatus::Ok(c.0),
                1 if !c.0.is_empty() => return Err(Malformed("trailing bytes in a message")),
                1 => ReplyStatus::Dropped,
                2 => ReplyStatus::Panicked(utf8(c.0)?),
                3 => ReplyStatus::Failed(utf8(c.0)?),
                _ => return Err(Malformed("unknown reply status")),
            };
            return Ok(Message::Reply { id, status });
        }
        kind::REJECTED => Message::Rejected {
            actor: c.u64()?,
            why: match c.u8()? {
                1 => Rejection::UnknownActor,
                2 => Rejection::Undecodable,
                3 => Rejection::ActorGone,
                4 => Rejection::MailboxFull,
                5 => Rejection::TooManyReplies,
                _ => return Err(Malformed("unknown rejection")),
            },
        },
        kind::PING => Message::Ping(c.u64()?),
        kind::PONG => Message::Pong(c.u64()?),
        kind::GOODBYE => Message::Goodbye,
        kind::MONITOR => Message::Monitor { actor: c.u64()? },
        kind::DOWN => Message::Down {
            actor: c.u64()?,
            reason: match c.u8()? {
                1 => DownReason::Stopped,
                2 => DownReason::Killed,
                3 => DownReason::Failed,
                4 => DownReason::Panicked,
                5 => DownReason::Unknown,
                _ => return Err(Malformed("unknown down reason")),
            },
            detail: c.str()?,
        },
        kind::SUBSCRIBE => Message::Subscribe {
            sub: c.u64()?,
            pattern: c.str()?,
            message_type: c.str()?,
        },
        kind::SUBSCRIBED => Message::Subscribed {
            sub: c.u64()?,
            status: match c.u8()? {
                0 => SubscribeStatus::Ok,
                1 => SubscribeStatus::UnknownType,
                2 => SubscribeStatus::BadPattern,
                3 => SubscribeStatus::TooMany,
                4 => SubscribeStatus::Duplicate,
                _ => return Err(Malformed("unknown subscribe status")),
            },
            detail: c.str()?,
        },
        kind::UNSUBSCRIBE => Message::Unsubscribe { sub: c.u64()? },
        kind::UNSUBSCRIBED => Message::Unsubscribed { sub: c.u64()? },
        kind::EVENT => {
            let sub = c.u64()?;
            let exchange = c.str()?;
            return Ok(Message::Event {
                sub,
                exchange,
                payload: c.0,
            });
        }
        _ => return Err(Malformed("unknown message kind")),
    };
    if !c.0.is_empty() {
        return Err(Malformed("trailing bytes in a message"));
    }
    Ok(message)
}

/// The reply ids of a tell, as numbers.
pub fn reply_ids(replies: &[u8]) -> impl Iterator<Item = u64> + '_ {
    replies.chunks_exact(8).map(|chunk| {
        let mut id = [0; 8];
        id.copy_from_slice(chunk);
        u64::from_be_bytes(id)
    })
}

fn utf8(bytes: &[u8]) -> Result<&str, Malformed> {
    std::str::from_utf8(bytes).map_err(|_| Malformed("text is not UTF-8"))
}

/// Reads big-endian fields, refusing to run past the end.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn str(&mut self) -> Result<&'a str, Malformed> {
        let len = usize::from(self.u16()?);
        if len > MAX_NAME {
            return Err(Malformed("name too long"));
        }
        utf8(self.take(len)?)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn all_kinds() -> Vec<u8> {
        let mut body = Vec::new();
        let mut w = Writer::new(&mut body);
        w.lookup(1, "counter", "myapp.counter@1");
        w.lookup_ok(1, 42);
        w.lookup_err(2, LookupFailure::WrongType, "myapp.counter@2");
        w.tell(42, &[7, 8], b"payload");
        w.reply(7, &ReplyStatus::Ok(b"answer"));
        w.reply(8, &ReplyStatus::Dropped);
        w.reply(9, &ReplyStatus::Panicked("boom"));
        w.reply(10, &ReplyStatus::Failed("undecodable"));
        w.rejected(42, Rejection::Undecodable);
        w.ping(3);
        w.pong(3);
        w.goodbye();
        w.monitor(42);
        w.down(42, DownReason::Panicked, "boom");
        w.subscribe(3, "orders.>", "myapp.order@1");
        w.subscribed(3, SubscribeStatus::UnknownType, "myapp.order@1");
        w.unsubscribe(3);
        w.unsubscribed(3);
        w.event(3, "orders.eu", b"order");
        body
    }

    #[test]
    fn every_kind_round_trips_in_one_batch() {
        let body = all_kinds();
        let messages: Vec<Message<'_>> = Reader::new(&body).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            messages,
            [
                Message::Lookup {
                    request: 1,
                    name: "counter",
                    message_type: "myapp.counter@1"
                },
                Message::LookupOk {
                    request: 1,
                    actor: 42
                },
                Message::LookupErr {
                    request: 2,
                    failure: LookupFailure::WrongType,
                    detail: "myapp.counter@2"
                },
                Message::Tell {
                    actor: 42,
                    replies: &[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8],
                    payload: b"payload"
                },
                Message::Reply {
                    id: 7,
                    status: ReplyStatus::Ok(b"answer")
                },
                Message::Reply {
                    id: 8,
                    status: ReplyStatus::Dropped
                },
                Message::Reply {
                    id: 9,
                    status: ReplyStatus::Panicked("boom")
                },
                Message::Reply {
                    id: 10,
                    status: ReplyStatus::Failed("undecodable")
                },
                Message::Rejected {
                    actor: 42,
                    why: Rejection::Undecodable
                },
                Message::Ping(3),
                Message::Pong(3),
                Message::Goodbye,
                Message::Monitor { actor: 42 },
                Message::Down {
                    actor: 42,
                    reason: DownReason::Panicked,
                    detail: "boom"
                },
                Message::Subscribe {
                    sub: 3,
                    pattern: "orders.>",
                    message_type: "myapp.order@1"
                },
                Message::Subscribed {
                    sub: 3,
                    status: SubscribeStatus::UnknownType,
                    detail: "myapp.order@1"
                },
                Message::Unsubscribe { sub: 3 },
                Message::Unsubscribed { sub: 3 },
                Message::Event {
                    sub: 3,
                    exchange: "orders.eu",
                    payload: b"order"
                },
            ]
        );
        if let Message::Tell { replies, .. } = &messages[3] {
            assert_eq!(reply_ids(replies).collect::<Vec<_>>(), [7, 8]);
        }
    }

    #[test]
    fn truncation_anywhere_is_malformed() {
        let body = all_kinds();
        let full: Vec<Message<'_>> = Reader::new(&body).collect::<Result<_, _>>().unwrap();
        let mut boundaries = vec![0];
        let mut rest = &body[..];
        while !rest.is_empty() {
            let (_, _, after) = split_message(rest).unwrap();
            boundaries.push(body.len() - after.len());
            rest = after;
        }
        for cut in 0..=body.len() {
            let items: Vec<_> = Reader::new(&body[..cut]).collect();
            let parsed: Vec<_> = items.iter().map_while(|r| r.clone().ok()).collect();
            assert_eq!(parsed[..], full[..parsed.len()], "cut at {cut}");
            if boundaries.contains(&cut) {
                assert!(items.iter().all(Result::is_ok), "cut at boundary {cut}");
            } else {
                assert!(items.last().is_some_and(Result::is_err), "cut at {cut}");
            }
        }
        assert!(
            Reader::new(&[kind::PING, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                .next()
                .is_some_and(|r| r.is_err()),
            "trailing bytes"
        );
        assert!(
            Reader::new(&[200, 0, 0, 0, 0])
                .next()
                .is_some_and(|r| r.is_err()),
            "unknown kind"
        );
    }

    #[test]
    fn a_dropped_reply_with_trailing_bytes_is_malformed() {
        let mut body = Vec::new();
        Writer::new(&mut body).reply(7, &ReplyStatus::Dropped);
        body[4] += 1;
        body.push(0xff);
        assert_eq!(
            Reader::new(&body).collect::<Vec<_>>(),
            [Err(Malformed("trailing bytes in a message"))]
        );
    }

    /// The bytes of the first `text` block after `heading` in PROTOCOL.md.
    fn protocol_example(heading: &str) -> Vec<u8> {
        let doc = include_str!("../PROTOCOL.md");
        let section = doc
            .split(heading)
            .nth(1)
            .and_then(|s| s.split("```text").nth(1))
            .and_then(|s| s.split("```").next())
            .unwrap_or_else(|| panic!("PROTOCOL.md has a {heading:?} block"));
        let hex: String = section.split_whitespace().collect();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The example lookup of PROTOCOL.md: a LOOKUP declaring `calc@1`, and both answers.
    #[test]
    fn the_example_lookup_in_protocol_md_matches() {
        let bytes = protocol_example("### Example lookup");
        let mut expected = Vec::new();
        let mut w = Writer::new(&mut expected);
        w.lookup(1, "calc", "calc@1");
        w.lookup_ok(1, 7);
        w.lookup_err(1, LookupFailure::WrongType, "calc@2");
        assert_eq!(bytes, expected);
        let parsed: Vec<_> = Reader::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            parsed,
            [
                Message::Lookup {
                    request: 1,
                    name: "calc",
                    message_type: "calc@1"
                },
                Message::LookupOk {
                    request: 1,
                    actor: 7
                },
                Message::LookupErr {
                    request: 1,
                    failure: LookupFailure::WrongType,
                    detail: "calc@2"
                },
            ]
        );
    }

    /// The example monitor of PROTOCOL.md, so the document and the code cannot drift.
    #[test]
    fn the_example_monitor_in_protocol_md_matches() {
        let bytes = protocol_example("### Example monitor");
        let mut expected = Vec::new();
        let mut w = Writer::new(&mut expected);
        w.monitor(7);
        w.down(7, DownReason::Panicked, "boom");
        w.down(42, DownReason::Unknown, "");
        assert_eq!(bytes, expected);
        let parsed: Vec<_> = Reader::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            parsed,
            [
                Message::Monitor { actor: 7 },
                Message::Down {
                    actor: 7,
                    reason: DownReason::Panicked,
                    detail: "boom"
                },
                Message::Down {
                    actor: 42,
                    reason: DownReason::Unknown,
                    detail: ""
                },
            ]
        );
    }

    /// The example batch of PROTOCOL.md, so the document and the code cannot drift.
    #[test]
    fn the_example_batch_in_protocol_md_matches() {
        let bytes = protocol_example("### Example batch");
        let mut expected = Vec::new();
        let mut w = Writer::new(&mut expected);
        w.ping(1);
        w.tell(5, &[], &[0x2a]);
        assert_eq!(bytes, expected);
        let parsed: Vec<_> = Reader::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            parsed,
            [
                Message::Ping(1),
                Message::Tell {
                    actor: 5,
                    replies: &[],
                    payload: &[0x2a]
                }
            ]
        );
    }

    /// The example subscriptions of PROTOCOL.md, so the document and the code cannot drift.
    #[test]
    fn the_example_subscriptions_in_protocol_md_match() {
        type Example = (&'static str, fn(&mut Writer<'_>));
        let cases: [Example; 3] = [
            ("### Example subscription", |w| {
                w.subscribe(1, "orders.>", "shop.order@1");
                w.subscribed(1, SubscribeStatus::Ok, "");
                w.event(1, "orders.eu", &[0x07]);
                w.unsubscribe(1);
                w.unsubscribed(1);
            }),
            ("### Example refused subscription", |w| {
                w.subscribe(2, "orders.>", "shop.order@2");
                w.subscribed(2, SubscribeStatus::UnknownType, "shop.order@2");
            }),
            ("### Example text subscription", |w| {
                w.subscribe(3, "system.>", "");
                w.subscribed(3, SubscribeStatus::Ok, "");
                w.event(3, "system.net", b"Connected { peer: 127.0.0.1:7700 }");
            }),
        ];
        for (heading, write) in cases {
            let bytes = protocol_example(heading);
            let mut expected = Vec::new();
            write(&mut Writer::new(&mut expected));
            assert_eq!(bytes, expected, "{heading}");
            assert!(Reader::new(&bytes).all(|m| m.is_ok()), "{heading} parses");
        }
        let bytes = protocol_example("### Example subscription");
        let parsed: Vec<_> = Reader::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            parsed[2],
            Message::Event {
                sub: 1,
                exchange: "orders.eu",
                payload: &[0x07]
            }
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            for message in Reader::new(&body) {
                let _ = message;
            }
        }

        #[test]
        fn a_huge_length_is_refused_without_reading_past_the_end(len in any::<u32>()) {
            let mut body = vec![kind::TELL];
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(&[0; 16]);
            let parsed = Reader::new(&body).next();
            if len as usize > 16 {
                prop_assert!(parsed.unwrap().is_err());
            }
        }
    }
}
