//! [`read`]: the receiving half of a connection — opens each frame, then dispatches its
//! messages: tells to the exported actors, answers to the requests waiting for them, lookups
//! to the export table, heartbeats back to the peer, subscriptions to this node's exchanges
//! and the events of the peer's exchanges (`pubsub/`).
//!
//! One thread per connection runs it until the connection ends; whatever ends it (the peer
//! closing, a read error, a bad frame or message, a goodbye) closes the connection with the
//! matching reason.
//!
//! Flow control: the reader reads the next frame only when it has dispatched the last one,
//! so whenever it waits, TCP pushes back on the peer. It waits
//! - for the node's inbound budget (bytes that all connections together have received and
//!   not yet handled), once it has read a frame's header and before it reads the payload:
//!   the frame's share covers the payload being read and dispatched; each told message of
//!   the frame is handed on with its part of that share, carved out of it
//!   ([`Ticket::split`]), and the rest goes back once the frame is dispatched;
//! - for the connection's inbound budget (messages and bytes received and not yet handled
//!   by local actors), before it hands a told message on;
//! - for room in the exported actor's bounded mailbox (`export.rs`);
//! - for room in its own outbound queue, before it hands on a request (a TELL that carries
//!   replies), so that a peer that does not read its answers gets no new work done;
//! - for room in the outbound queue for what it owes the peer (pongs, lookup answers).
//!
//! A wait longer than the node's blocked timeout closes the connection, and is counted.
//!
//! Why the node's budget cannot deadlock the readers: a reader waits for it only between
//! frames, when it holds none of it (its last frame's rest went back, and its messages' parts
//! are held by the messages, which their actors give back as they handle them). Within a
//! frame it never asks the node's budget for more: the messages' parts come out of the
//! frame's share. So whatever the readers wait for, the node's room they hold is either
//! released when their frame is dispatched or held by queued messages, which drain without
//! any reader. (An actor that waits, while handling a message, for an answer that must come
//! in through a reader waiting for room waits until the blocked timeout closes that reader's
//! connection, as with the other budgets.)

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actor_core::codec::{FrameError, FrameReader};
use actor_core::wire::SharedRegistry;
use actor_core::{Budget, Escaped, ExitReason, Failure, ReplyError, SendWait, Ticket};

use super::connection::Connection;
use super::export::{Delivery, Export};
use crate::error::NetError;
use crate::message::{
    self, DownReason, LookupFailure, Message, Rejection, ReplyStatus, SubscribeStatus,
};
use crate::session::Opener;

/// Reads and dispatches what the peer sends until the connection ends, then closes it.
pub(crate) fn read(connection: &Arc<Connection>, mut opener: Opener, socket: TcpStream) {
    let Some((max_frame, blocked_timeout, node_inbound)) = connection.node().map(|node| {
        let inbound = Arc::clone(&node.inbound);
        (node.config.max_frame, node.config.blocked_timeout, inbound)
    }) else {
        return connection.close(ExitReason::Stopped);
    };
    let config = crate::frame::session_frames().with_max_payload(max_frame);
    let mut frames = FrameReader::with_config(socket, config);
    // Replies inside told messages are bound to this connection: their answers go back
    // through it.
    let registry: SharedRegistry = Arc::clone(connection) as SharedRegistry;
    let peer = connection.peer();
    let reason = loop {
        // The header first: the frame's share of the node's budget is taken before any
        // memory is taken for its payload.
        let len = match frames.read_header() {
            Ok(Some(len)) => len,
            Ok(None) => break connection.lost(),
            Err(error) => break read_failed(connection, &error),
        };
        let mut deadline = Deadline::new(blocked_timeout);
        let flow = match take_room(connection, &node_inbound, len, &mut deadline) {
            None => Flow::Blocked,
            Some(mut frame_share) => {
                let payload = match frames.read_frame() {
                    Ok(Some(payload)) => payload,
                    Ok(None) => break connection.lost(),
                    Err(error) => break read_failed(connection, &error),
                };
                let body = match opener.open(payload) {
                    Ok(body) => body,
                    Err(error) => {
                        tracing::warn!(%peer, error = %Escaped(&error), "closing: bad session frame");
                        break connection.lost();
                    }
                };
                // The frame's share goes back at the end of this block, but for the parts
                // that its told messages took with them.
                match dispatch(connection, body, &registry, &mut frame_share, &mut deadline) {
                    Ok(flow) => flow,
                    Err(error) => {
                        tracing::warn!(%peer, error = %Escaped(&error), "closing: bad message");
                        break connection.lost();
                    }
                }
            }
        };
        match flow {
            Flow::Go => {}
            Flow::Goodbye => break ExitReason::Stopped,
            // A wait cut short because the connection closed is not a blocked peer.
            Flow::Blocked if connection.is_closed() => break connection.lost(),
            Flow::Blocked => {
                if let Some(node) = connection.node() {
                    node.blocked.fetch_add(1, Ordering::Relaxed);
                }
                tracing::warn!(%peer, ?blocked_timeout, "closing: blocked longer than the blocked timeout");
                break connection.lost();
            }
        }
    };
    connection.close(reason);
}

/// Logs a failed read (unless the connection was closed from this side) and returns the
/// reason the connection ends with.
fn read_failed(connection: &Connection, error: &FrameError) -> ExitReason {
    if !connection.is_closed() {
        tracing::debug!(peer = %connection.peer(), error = %Escaped(error), "reading from the peer failed");
    }
    connection.lost()
}

/// What the reader does after a frame.
enum Flow {
    /// Reads the next one.
    Go,
    /// The peer said goodbye.
    Goodbye,
    /// A wait for room lasted longer than the blocked timeout.
    Blocked,
}

/// How long one wait for room lasts before the reader looks whether its connection has closed
/// meanwhile (a node shutting down must not wait for the blocked timeout).
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// Takes a share of `budget` for `bytes`, waiting until the deadline in slices; `None` if no
/// room came in time or the connection closed.
fn take_room(
    connection: &Connection,
    budget: &Arc<Budget>,
    bytes: usize,
    deadline: &mut Deadline,
) -> Option<Ticket> {
    if let Some(ticket) = budget.try_take(bytes) {
        return Some(ticket);
    }
    let end = deadline.get();
    loop {
        let slice = Instant::now()
            .checked_add(WAIT_SLICE)
            .map_or(end, |s| s.min(end));
        if let Ok(ticket) = budget.take(bytes, SendWait::Until(slice)) {
            return Some(ticket);
        }
        if connection.is_closed() || Instant::now() >= end {
            return None;
        }
    }
}

/// Waits until the outbound queue has room, until the deadline, in slices; `false` if no
/// room came in time or the connection closed.
fn outbound_room(connection: &Connection, deadline: &mut Deadline) -> bool {
    if connection.has_outbound_room() {
        return true;
    }
    let end = deadline.get();
    loop {
        let slice = Instant::now()
            .checked_add(WAIT_SLICE)
            .map_or(end, |s| s.min(end));
        if connection.wait_for_outbound_room(slice) {
            return true;
        }
        if connection.is_closed() || Instant::now() >= end {
            return false;
        }
    }
}

/// Sends what the reader owes the peer (a pong, a lookup's answer, a rejection) once the
/// outbound queue has room; `false` if it got none in time.
fn owe(
    connection: &Connection,
    deadline: &mut Deadline,
    write: impl FnOnce(&mut message::Writer<'_>),
) -> bool {
    if !outbound_room(connection, deadline) {
        return false;
    }
    connection.send_forced(write);
    true
}

/// When a wait for room must end: computed at the first wait of a frame, so that a frame
/// that never waits does not read the clock.
struct Deadline {
    limit: Duration,
    at: Option<Instant>,
}

impl Deadline {
    fn new(limit: Duration) -> Deadline {
        Deadline { limit, at: None }
    }

    fn get(&mut self) -> Instant {
        let limit = self.limit;
        *self.at.get_or_insert_with(|| {
            let now = Instant::now();
            now.checked_add(limit).unwrap_or(now)
        })
    }
}

/// Handles the messages of one frame; `frame_share` is the frame's share of the node's
/// inbound budget, out of which each told message takes its part.
fn dispatch(
    connection: &Arc<Connection>,
    body: &[u8],
    registry: &SharedRegistry,
    frame_share: &mut Ticket,
    deadline: &mut Deadline,
) -> Result<Flow, message::Malformed> {
    let mut exports = FrameExports::default();
    for message in message::Reader::new(body) {
        let delivered = match message? {
            Message::Tell {
                actor,
                replies,
                payload,
            } => deliver(
                connection,
                exports.get(connection, actor),
                Told {
                    actor,
                    replies,
                    payload,
                },
                registry,
                frame_share,
                deadline,
            ),
            Message::Reply { id, status } => {
                connection.pending().complete_reply(
                    id,
                    match status {
                        ReplyStatus::Ok(bytes) => Ok(bytes),
                        ReplyStatus::Dropped => Err(ReplyError::Dropped),
                        ReplyStatus::Panicked(msg) => Err(ReplyError::Panicked(msg.into())),
                        ReplyStatus::Failed(why) => Err(ReplyError::Remote(why.into())),
                    },
                );
                true
            }
            Message::Lookup {
                request,
                name,
                message_type,
            } => answer_lookup(connection, request, name, message_type, deadline),
            Message::LookupOk { request, actor } => {
                connection.pending().complete_lookup(request, Ok(actor));
                true
            }
            Message::LookupErr {
                request,
                failure,
                detail,
            } => {
                connection
                    .pending()
                    .complete_lookup(request, Err((failure, detail.to_string())));
                true
            }
            Message::Rejected { actor, why } => {
                tracing::warn!(peer = %connection.peer(), actor, %why, "the peer rejected a message");
                true
            }
            Message::Ping(nonce) => owe(connection, deadline, |w| w.pong(nonce)),
            Message::Pong(_) => true,
            Message::Goodbye => return Ok(Flow::Goodbye),
            Message::Monitor { actor } => {
                match connection.node().and_then(|node| node.exports.get(actor)) {
                    Some(export) => {
                        export.watch(connection);
                        true
                    }
                    None => owe(connection, deadline, |w| {
                        w.down(actor, DownReason::Unknown, "");
                    }),
                }
            }
            Message::Down {
                actor,
                reason,
                detail,
            } => {
                connection
                    .pending()
                    .actor_down(actor, &exit_reason(reason, detail));
                true
            }
            Message::Subscribe {
                sub,
                pattern,
                message_type,
            } => {
                let answer = match connection.node() {
                    Some(node) => {
                        connection
                            .served()
                            .subscribe(connection, &node, sub, pattern, message_type)
                    }
                    None => Ok(()),
                };
                owe(connection, deadline, |w| match &answer {
                    Ok(()) => w.subscribed(sub, SubscribeStatus::Ok, ""),
                    Err((status, detail)) => w.subscribed(sub, *status, detail),
                })
            }
            Message::Subscribed {
                sub,
                status,
                detail,
            } => {
                connection.feeds().answered(sub, status, detail);
                true
            }
            Message::Unsubscribe { sub } => {
                if let Some(node) = connection.node() {
                    connection.served().unsubscribe(&node, sub);
                }
                owe(connection, deadline, |w| w.unsubscribed(sub))
            }
            Message::Unsubscribed { sub } => {
                connection.feeds().unsubscribed(sub);
                true
            }
            Message::Event {
                sub,
                exchange,
                payload,
            } => {
                connection.feeds().event(sub, exchange, payload);
                true
            }
        };
        if !delivered {
            return Ok(Flow::Blocked);
        }
    }
    Ok(Flow::Go)
}

/// The exported actors a frame's messages went to, so that a frame of many messages to one
/// actor looks it up once. Kept for one frame only: an actor unexported meanwhile is missed
/// by the next frame's messages, as by any message that follows its unexport.
#[derive(Default)]
struct FrameExports {
    last: Option<(u64, Option<Arc<dyn Export>>)>,
}

impl FrameExports {
    /// The actor exported as `actor`, if any.
    fn get(&mut self, connection: &Connection, actor: u64) -> Option<&dyn Export> {
        let stale = self.last.as_ref().is_none_or(|(id, _)| *id != actor);
        if stale {
            let export = connection.node().and_then(|node| node.exports.get(actor));
            self.last = Some((actor, export));
        }
        self.last.as_ref().and_then(|(_, export)| export.as_deref())
    }
}

/// A told message, as it came in.
struct Told<'a> {
    actor: u64,
    replies: &'a [u8],
    payload: &'a [u8],
}

/// Hands a told message to the exported actor `export` (`None`: none has its id), waiting
/// for room as the module documentation says, with its part of `frame_share`; tells the peer
/// when it cannot. Returns `false` when a wait for room outlasted the deadline.
fn deliver(
    connection: &Connection,
    export: Option<&dyn Export>,
    Told {
        actor,
        replies,
        payload,
    }: Told<'_>,
    registry: &SharedRegistry,
    frame_share: &mut Ticket,
    deadline: &mut Deadline,
) -> bool {
    if replies.len() > message::MAX_REPLIES * 8 {
        // Answering each reply could take more than a frame: refused whole, replies unanswered.
        let why = Rejection::TooManyReplies;
        tracing::debug!(peer = %connection.peer(), actor, %why, "told message not delivered");
        return owe(connection, deadline, |w| w.rejected(actor, why));
    }
    if !replies.is_empty() && !outbound_room(connection, deadline) {
        return false;
    }
    let Some(ticket) = take_room(connection, connection.inbound(), payload.len(), deadline) else {
        return false;
    };
    let why = match export {
        Some(export) => {
            let Some(room) = take_room(connection, export.mailbox(), 0, deadline) else {
                return false;
            };
            // Three shares, each given back once the actor has handled the message.
            let ticket = ticket.join(room).join(frame_share.split(payload.len()));
            match export.deliver(payload, registry, ticket, deadline.get()) {
                Delivery::Queued => return true,
                Delivery::Blocked => return false,
                Delivery::Refused(why) => why,
            }
        }
        None => Rejection::UnknownActor,
    };
    tracing::debug!(peer = %connection.peer(), actor, %why, "told message not delivered");
    owe(connection, deadline, |w| {
        w.rejected(actor, why);
        // A message that never decoded left its replies unanswered: answer them here.
        // (A decoded one answers through its own replies as they drop.)
        if matches!(why, Rejection::UnknownActor | Rejection::Undecodable) {
            let text = why.to_string();
            for id in message::reply_ids(replies) {
                w.reply(id, &ReplyStatus::Failed(&text));
            }
        }
    })
}

/// Answers the peer's lookup of `name` for messages declared as `message_type`. Returns
/// `false` when the answer found no room in time.
fn answer_lookup(
    connection: &Connection,
    request: u64,
    name: &str,
    message_type: &str,
    deadline: &mut Deadline,
) -> bool {
    let found = connection.node().and_then(|node| node.exports.find(name));
    owe(connection, deadline, |w| match found {
        Some((id, export)) if export.identity() == message_type => w.lookup_ok(request, id),
        Some((_, export)) => w.lookup_err(request, LookupFailure::WrongType, export.identity()),
        None => w.lookup_err(request, LookupFailure::NotFound, ""),
    })
}

/// How a remote actor ended, from its DOWN.
fn exit_reason(reason: DownReason, detail: &str) -> ExitReason {
    match reason {
        DownReason::Stopped => ExitReason::Stopped,
        DownReason::Killed => ExitReason::Killed,
        DownReason::Panicked => ExitReason::Failed(Failure::Panic(detail.to_string())),
        DownReason::Failed => ExitReason::Failed(Failure::Error(Arc::new(
            NetError::RemoteFailure(detail.to_string()),
        ))),
        DownReason::Unknown => ExitReason::Failed(Failure::Error(Arc::new(NetError::Unexported))),
    }
}
