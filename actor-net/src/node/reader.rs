//! [`read`]: the receiving half of a connection — opens each frame, then dispatches its
//! messages: tells to the exported actors, answers to the requests waiting for them, lookups
//! to the export table, heartbeats back to the peer.
//!
//! One thread per connection runs it until the connection ends; whatever ends it (the peer
//! closing, a read error, a bad frame or message, a goodbye) closes the connection with the
//! matching reason.

use std::net::TcpStream;
use std::sync::Arc;

use actor_core::codec::FrameReader;
use actor_core::wire::SharedRegistry;
use actor_core::{ExitReason, ReplyError};

use super::connection::Connection;
use crate::message::{self, LookupFailure, Message, Rejection, ReplyStatus};
use crate::session::Opener;

/// Reads and dispatches what the peer sends until the connection ends, then closes it.
pub(crate) fn read(connection: &Arc<Connection>, mut opener: Opener, socket: TcpStream) {
    let Some(max_frame) = connection.node().map(|node| node.config.max_frame) else {
        return connection.close(ExitReason::Stopped);
    };
    let config = crate::frame::session_frames().with_max_payload(max_frame);
    let mut frames = FrameReader::with_config(socket, config);
    // Replies inside told messages are bound to this connection: their answers go back
    // through it.
    let registry: SharedRegistry = Arc::clone(connection) as SharedRegistry;
    let peer = connection.peer();
    let reason = loop {
        let payload = match frames.read_frame() {
            Ok(Some(payload)) => payload,
            Ok(None) => break connection.lost(),
            Err(error) => {
                if !connection.is_closed() {
                    tracing::debug!(%peer, %error, "reading from the peer failed");
                }
                break connection.lost();
            }
        };
        let body = match opener.open(payload) {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%peer, %error, "closing: bad session frame");
                break connection.lost();
            }
        };
        match dispatch(connection, body, &registry) {
            Ok(true) => {}
            Ok(false) => break ExitReason::Stopped,
            Err(error) => {
                tracing::warn!(%peer, %error, "closing: bad message");
                break connection.lost();
            }
        }
    };
    connection.close(reason);
}

/// Handles the messages of one frame; `Ok(false)` when the peer said goodbye.
fn dispatch(
    connection: &Connection,
    body: &[u8],
    registry: &SharedRegistry,
) -> Result<bool, message::Malformed> {
    for message in message::Reader::new(body) {
        match message? {
            Message::Tell {
                actor,
                replies,
                payload,
            } => deliver(connection, actor, replies, payload, registry),
            Message::Reply { id, status } => connection.pending().complete_reply(
                id,
                match status {
                    ReplyStatus::Ok(bytes) => Ok(bytes),
                    ReplyStatus::Dropped => Err(ReplyError::Dropped),
                    ReplyStatus::Panicked(msg) => Err(ReplyError::Panicked(msg.into())),
                    ReplyStatus::Failed(why) => Err(ReplyError::Remote(why.into())),
                },
            ),
            Message::Lookup {
                request,
                name,
                message_type,
            } => answer_lookup(connection, request, name, message_type),
            Message::LookupOk { request, actor } => {
                connection.pending().complete_lookup(request, Ok(actor));
            }
            Message::LookupErr {
                request,
                failure,
                detail,
            } => connection
                .pending()
                .complete_lookup(request, Err((failure, detail.to_string()))),
            Message::Rejected { actor, why } => {
                tracing::warn!(peer = %connection.peer(), actor, %why, "the peer rejected a message");
            }
            Message::Ping(nonce) => connection.send_control(|w| w.pong(nonce)),
            Message::Pong(_) => {}
            Message::Goodbye => return Ok(false),
        }
    }
    Ok(true)
}

/// Hands a told message to the exported actor `actor`; tells the peer when it cannot.
fn deliver(
    connection: &Connection,
    actor: u64,
    replies: &[u8],
    payload: &[u8],
    registry: &SharedRegistry,
) {
    let export = connection.node().and_then(|node| node.exports.get(actor));
    let outcome = match export {
        Some(export) => export.deliver(payload, registry),
        None => Err(Rejection::UnknownActor),
    };
    let Err(why) = outcome else { return };
    tracing::debug!(peer = %connection.peer(), actor, %why, "told message not delivered");
    connection.send_control(|w| {
        w.rejected(actor, why);
        // A message that never decoded left its replies unanswered: answer them here.
        // (A decoded one answers through its own replies as they drop.)
        if matches!(why, Rejection::UnknownActor | Rejection::Undecodable) {
            let text = why.to_string();
            for id in message::reply_ids(replies) {
                w.reply(id, &ReplyStatus::Failed(&text));
            }
        }
    });
}

/// Answers the peer's lookup of `name` for messages declared as `message_type`
/// (`NAME@VERSION`).
fn answer_lookup(connection: &Connection, request: u64, name: &str, message_type: &str) {
    let found = connection.node().and_then(|node| node.exports.find(name));
    connection.send_control(|w| match found {
        Some((id, export)) if export.identity() == message_type => w.lookup_ok(request, id),
        Some((_, export)) => w.lookup_err(request, LookupFailure::WrongType, export.identity()),
        None => w.lookup_err(request, LookupFailure::NotFound, ""),
    });
}
