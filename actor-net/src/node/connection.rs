//! One authenticated connection to a peer node: a writer thread that packs queued messages
//! into as few sealed frames as it can, a reader thread that opens frames and dispatches
//! their messages, and the tables of requests waiting for the peer.
//!
//! Writing: whoever holds the write side (the sealer and the socket) writes the next frame.
//! A sender that finds nothing queued and the write side free writes its message itself, at
//! once, saving a hand-off to the writer thread; otherwise it queues the message, and the
//! writer thread packs the queue into frames. The writer takes messages off the queue only
//! while it holds the write side, and a sender writes directly only while the queue is empty
//! and it holds the write side, so messages leave in the order they were queued or written.
//!
//! Lifecycle: `open` (the handshake is done) → `close` (once, from whichever thread notices
//! first: a read or write error, a bad frame, a silent peer, a goodbye, or our shutdown).
//! Closing fails every waiting request at once, tells the watchers of remote actors why,
//! shuts the socket down (which ends both threads) and removes the connection from its node.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use actor_core::codec::{Bincode, Codec, FrameReader};
use actor_core::wire::{ReplyCompleter, ReplyRegistry, ReplyResponder, SharedRegistry};
use actor_core::{ExitReason, Failure, Pending, Reply, ReplyError, SendError, SendWait};
use crossbeam_channel::{Receiver, Select, SendTimeoutError, Sender, TryRecvError, TrySendError};
use parking_lot::Mutex;
use serde::Serialize;

use super::Shared;
use crate::error::NetError;
use crate::message::{self, LookupFailure, Message, Rejection, ReplyStatus};
use crate::session::{Opener, Sealer};

/// What the writer thread takes from its queue.
pub(crate) enum Outgoing {
    /// One encoded message (see `message::Writer`).
    Message(Vec<u8>),
    /// Stop after what is already queued.
    Close,
}

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy)]
enum Refused {
    Closed,
    Full,
    Timeout,
}

/// The answer to a lookup: the remote actor's id, or why there is none.
pub(crate) type LookupAnswer = Result<u64, (LookupFailure, String)>;

/// The most a writer packs into one frame before sealing it, unless the frame limit is lower.
const BATCH_BYTES: usize = 64 * 1024;

thread_local! {
    /// Reply ids registered by the encode running on this thread, for the tell's header.
    static REGISTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    /// A reused buffer for encoding message payloads.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Connection {
    /// This connection, for the responders that answer through it later.
    me: Weak<Connection>,
    /// The sending half: see the module documentation.
    write: Mutex<WriteSide>,
    id: u64,
    peer: SocketAddr,
    peer_name: String,
    outgoing: Sender<Outgoing>,
    /// A handle on the socket, to shut it down from any thread.
    socket: TcpStream,
    closed: AtomicBool,
    waiting: Mutex<Waiting>,
    next_request: AtomicU64,
    /// The largest message body a frame can carry.
    max_body: usize,
    node: Weak<Shared>,
}

/// What writing a frame needs; held by one writer at a time.
struct WriteSide {
    sealer: Sealer,
    socket: TcpStream,
    /// Reused for every frame.
    frame: Vec<u8>,
}

impl WriteSide {
    /// Seals `body` into one frame and writes it.
    fn write(&mut self, body: &[u8]) -> Result<(), NetError> {
        self.frame.clear();
        self.sealer.seal(body, &mut self.frame)?;
        self.socket.write_all(&self.frame)?;
        Ok(())
    }
}

#[derive(Default)]
struct Waiting {
    replies: HashMap<u64, ReplyCompleter>,
    lookups: HashMap<u64, Reply<LookupAnswer>>,
    watchers: Vec<Reply<ExitReason>>,
    ended: Option<ExitReason>,
}

impl Connection {
    /// Starts the writer thread of a connection whose handshake is done; the caller runs
    /// [`read_loop`](Connection::read_loop) (on its own thread) with the returned opener.
    pub(crate) fn open(
        id: u64,
        socket: TcpStream,
        peer: SocketAddr,
        peer_name: String,
        sealer: Sealer,
        node: &Arc<Shared>,
    ) -> Result<Arc<Connection>, NetError> {
        let config = &node.config;
        socket.set_nodelay(true)?;
        socket.set_read_timeout(Some(config.heartbeat_timeout))?;
        socket.set_write_timeout(Some(config.heartbeat_timeout))?;
        let (outgoing, queue) = crossbeam_channel::bounded(config.queue_capacity);
        let max_body = sealer.max_body_len();
        let handle_socket = socket.try_clone()?;
        let connection = Arc::new_cyclic(|me| Connection {
            me: me.clone(),
            write: Mutex::new(WriteSide {
                sealer,
                socket,
                frame: Vec::new(),
            }),
            id,
            peer,
            peer_name,
            outgoing,
            socket: handle_socket,
            closed: AtomicBool::new(false),
            waiting: Mutex::new(Waiting::default()),
            next_request: AtomicU64::new(1),
            max_body,
            node: Arc::downgrade(node),
        });
        let writer = Arc::clone(&connection);
        let heartbeat = config.heartbeat_interval;
        let handle = std::thread::Builder::new()
            .name(format!("actor-net-w{id}"))
            .stack_size(super::THREAD_STACK)
            .spawn(move || writer.write_loop(queue, heartbeat))?;
        node.own_thread(handle);
        Ok(connection)
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn peer_name(&self) -> &str {
        &self.peer_name
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Why remote actors reached through this connection are gone, once they are.
    pub(crate) fn ended(&self) -> Pending<ExitReason> {
        let mut waiting = self.waiting.lock();
        if let Some(reason) = &waiting.ended {
            return Pending::ready(Ok(reason.clone()));
        }
        waiting.watchers.retain(|w| !w.is_canceled());
        let (reply, pending) = Reply::pair();
        waiting.watchers.push(reply);
        pending
    }

    /// Queues one encoded message, waiting for room as `wait` allows.
    ///
    /// An `urgent` message (a request or an answer someone waits for) is written at once by
    /// this thread when nothing is queued and nobody is writing; never for `try_tell`, which
    /// must not wait on the socket. Plain tells always go through the queue, so that a
    /// stream of them is packed into few frames.
    fn queue(&self, msg: Vec<u8>, wait: SendWait, urgent: bool) -> Result<(), Refused> {
        if self.is_closed() {
            return Err(Refused::Closed);
        }
        if urgent
            && wait != SendWait::Never
            && self.outgoing.is_empty()
            && let Some(mut side) = self.write.try_lock()
            && self.outgoing.is_empty()
        {
            let written = side.write(&msg);
            drop(side);
            return written.map_err(|error| {
                tracing::debug!(peer = %self.peer, %error, "writing to the peer failed");
                self.close(self.lost());
                Refused::Closed
            });
        }
        let item = Outgoing::Message(msg);
        match wait {
            SendWait::Forever => self.outgoing.send(item).map_err(|_| Refused::Closed),
            SendWait::Never => self.outgoing.try_send(item).map_err(|e| match e {
                TrySendError::Full(_) => Refused::Full,
                TrySendError::Disconnected(_) => Refused::Closed,
            }),
            SendWait::Until(deadline) => {
                self.outgoing
                    .send_deadline(item, deadline)
                    .map_err(|e| match e {
                        SendTimeoutError::Timeout(_) => Refused::Timeout,
                        SendTimeoutError::Disconnected(_) => Refused::Closed,
                    })
            }
        }
    }

    /// Queues a control message (lookups, answers, pongs): waits for room, dropped if the
    /// connection is closing.
    fn queue_control(&self, write: impl FnOnce(&mut message::Writer<'_>)) {
        let mut msg = Vec::with_capacity(32);
        write(&mut message::Writer::new(&mut msg));
        let _ = self.queue(msg, SendWait::Forever, true);
    }

    /// Encodes `msg` for the remote actor `actor` and queues it.
    ///
    /// The replies inside are registered with this connection while encoding; if the tell
    /// cannot be queued they are failed at once, so no asker waits for an answer that
    /// cannot come.
    pub(crate) fn tell<M: Serialize>(
        self: &Arc<Self>,
        registry: &SharedRegistry,
        actor: u64,
        msg: M,
        wait: SendWait,
    ) -> Result<(), SendError<M>> {
        if self.is_closed() {
            return Err(SendError::Closed(msg));
        }
        REGISTERED.with(|r| r.borrow_mut().clear());
        let encoded = SCRATCH.with(|scratch| {
            let mut payload = scratch.take();
            payload.clear();
            let encoded = actor_core::wire::with_replies(registry, || {
                Bincode::new().encode(&msg, &mut payload)
            });
            let framed = encoded.ok().map(|()| {
                REGISTERED.with(|ids| {
                    let ids = ids.borrow();
                    let mut out = Vec::with_capacity(payload.len() + 15 + 8 * ids.len());
                    message::Writer::new(&mut out).tell(actor, &ids, &payload);
                    out
                })
            });
            scratch.replace(payload);
            framed
        });
        let ids: Vec<u64> = REGISTERED.with(|r| std::mem::take(&mut *r.borrow_mut()));
        let Some(framed) = encoded.filter(|m| m.len() <= self.max_body && ids.len() <= 0xFFFF)
        else {
            tracing::warn!(peer = %self.peer, "a message to a remote actor does not encode or is too large");
            self.fail_replies(
                &ids,
                ReplyError::Remote("the request could not be encoded".into()),
            );
            return Err(SendError::Closed(msg));
        };
        match self.queue(framed, wait, !ids.is_empty()) {
            Ok(()) => Ok(()),
            Err(refused) => {
                let failure = match refused {
                    Refused::Closed => ReplyError::Disconnected,
                    Refused::Full | Refused::Timeout => {
                        ReplyError::Remote("the connection's queue is full".into())
                    }
                };
                self.fail_replies(&ids, failure);
                Err(match refused {
                    Refused::Full => SendError::Full(msg),
                    Refused::Timeout => SendError::Timeout(msg),
                    Refused::Closed => SendError::Closed(msg),
                })
            }
        }
    }

    fn fail_replies(&self, ids: &[u64], error: ReplyError) {
        let completers: Vec<ReplyCompleter> = {
            let mut waiting = self.waiting.lock();
            ids.iter()
                .filter_map(|id| waiting.replies.remove(id))
                .collect()
        };
        for complete in completers {
            complete(Err(error.clone()));
        }
    }

    /// Asks the peer for the actor exported as `name` taking `type_name`.
    pub(crate) fn lookup(&self, name: &str, type_name: &str) -> Pending<LookupAnswer> {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (reply, pending) = Reply::pair();
        {
            let mut waiting = self.waiting.lock();
            if waiting.ended.is_some() {
                // Dropping the reply fails the lookup at once.
                return pending;
            }
            waiting.lookups.insert(request, reply);
        }
        self.queue_control(|w| w.lookup(request, name, type_name));
        pending
    }

    /// Tells the peer we are leaving, then closes after what is queued.
    pub(crate) fn say_goodbye(&self) {
        self.queue_control(|w| w.goodbye());
        let _ = self.outgoing.try_send(Outgoing::Close);
    }

    /// Ends the connection (once): fails what waits on it, shuts the socket, leaves the node.
    pub(crate) fn close(&self, reason: ExitReason) {
        let waiting = {
            let mut waiting = self.waiting.lock();
            if self.closed.swap(true, Ordering::Relaxed) {
                return;
            }
            // What waits is taken out; `ended` stays, so that a monitor made after this
            // point is answered at once.
            let taken = std::mem::take(&mut *waiting);
            waiting.ended = Some(reason.clone());
            taken
        };
        tracing::debug!(peer = %self.peer, name = %self.peer_name, %reason, "connection closed");
        let _ = self.socket.shutdown(Shutdown::Both);
        let _ = self.outgoing.try_send(Outgoing::Close);
        for complete in waiting.replies.into_values() {
            complete(Err(ReplyError::Disconnected));
        }
        // Dropping the lookups' replies fails them at once.
        drop(waiting.lookups);
        for watcher in waiting.watchers {
            watcher.send(reason.clone());
        }
        if let Some(node) = self.node.upgrade() {
            node.forget(self.id);
        }
    }

    fn lost(&self) -> ExitReason {
        ExitReason::Failed(Failure::Error(Arc::new(NetError::ConnectionLost {
            peer: self.peer,
        })))
    }

    /// Packs queued messages into sealed frames until the queue closes or a write fails;
    /// sends a ping when nothing was queued for `heartbeat`.
    fn write_loop(self: Arc<Self>, queue: Receiver<Outgoing>, heartbeat: Duration) {
        let batch_limit = BATCH_BYTES.min(self.max_body);
        let mut body = Vec::with_capacity(batch_limit);
        let mut carried: Option<Vec<u8>> = None;
        let mut pings = 0u64;
        let outcome = loop {
            if carried.is_none() {
                // Waits for something to be queued without taking it: messages leave the
                // queue only while the write side is held (see the module documentation).
                let mut ready = Select::new();
                ready.recv(&queue);
                if ready.ready_timeout(heartbeat).is_err() {
                    pings += 1;
                    body.clear();
                    message::Writer::new(&mut body).ping(pings);
                    if let Err(error) = self.write.lock().write(&body) {
                        break Err(error);
                    }
                    continue;
                }
            }
            let mut side = self.write.lock();
            body.clear();
            if let Some(msg) = carried.take() {
                body.extend_from_slice(&msg);
            }
            let mut closing = false;
            while body.len() < batch_limit {
                match queue.try_recv() {
                    Ok(Outgoing::Message(msg)) if body.len() + msg.len() <= self.max_body => {
                        body.extend_from_slice(&msg);
                    }
                    Ok(Outgoing::Message(msg)) => {
                        carried = Some(msg);
                        break;
                    }
                    Ok(Outgoing::Close) | Err(TryRecvError::Disconnected) => {
                        closing = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            if !body.is_empty()
                && let Err(error) = side.write(&body)
            {
                break Err(error);
            }
            drop(side);
            if closing {
                break Ok(());
            }
        };
        match outcome {
            Ok(()) => self.close(ExitReason::Stopped),
            Err(error) => {
                if !self.is_closed() {
                    tracing::debug!(peer = %self.peer, %error, "writing to the peer failed");
                }
                self.close(self.lost());
            }
        }
    }

    /// Opens frames and dispatches their messages until the connection ends.
    pub(crate) fn read_loop(self: &Arc<Self>, mut opener: Opener, socket: TcpStream) {
        let Some(node) = self.node.upgrade() else {
            return self.close(ExitReason::Stopped);
        };
        let max_frame = node.config.max_frame;
        drop(node);
        let config = crate::frame::session_frames().with_max_payload(max_frame);
        let mut frames = FrameReader::with_config(socket, config);
        let registry: SharedRegistry = Arc::clone(self) as SharedRegistry;
        let reason = loop {
            let payload = match frames.read_frame() {
                Ok(Some(payload)) => payload,
                Ok(None) => break self.lost(),
                Err(error) => {
                    if !self.is_closed() {
                        tracing::debug!(peer = %self.peer, %error, "reading from the peer failed");
                    }
                    break self.lost();
                }
            };
            let body = match opener.open(payload) {
                Ok(body) => body,
                Err(error) => {
                    tracing::warn!(peer = %self.peer, %error, "closing: bad session frame");
                    break self.lost();
                }
            };
            match self.dispatch(body, &registry) {
                Ok(true) => {}
                Ok(false) => break ExitReason::Stopped,
                Err(error) => {
                    tracing::warn!(peer = %self.peer, %error, "closing: bad message");
                    break self.lost();
                }
            }
        };
        self.close(reason);
    }

    /// Handles the messages of one frame; `Ok(false)` when the peer said goodbye.
    fn dispatch(
        self: &Arc<Self>,
        body: &[u8],
        registry: &SharedRegistry,
    ) -> Result<bool, message::Malformed> {
        for message in message::Reader::new(body) {
            match message? {
                Message::Tell {
                    actor,
                    replies,
                    payload,
                } => self.deliver(actor, replies, payload, registry),
                Message::Reply { id, status } => {
                    let complete = self.waiting.lock().replies.remove(&id);
                    if let Some(complete) = complete {
                        complete(match status {
                            ReplyStatus::Ok(bytes) => Ok(bytes),
                            ReplyStatus::Dropped => Err(ReplyError::Dropped),
                            ReplyStatus::Panicked(msg) => Err(ReplyError::Panicked(msg.into())),
                            ReplyStatus::Failed(why) => Err(ReplyError::Remote(why.into())),
                        });
                    }
                }
                Message::Lookup {
                    request,
                    name,
                    type_name,
                } => self.answer_lookup(request, name, type_name),
                Message::LookupOk { request, actor } => {
                    if let Some(reply) = self.waiting.lock().lookups.remove(&request) {
                        reply.send(Ok(actor));
                    }
                }
                Message::LookupErr {
                    request,
                    failure,
                    detail,
                } => {
                    if let Some(reply) = self.waiting.lock().lookups.remove(&request) {
                        reply.send(Err((failure, detail.to_string())));
                    }
                }
                Message::Rejected { actor, why } => {
                    tracing::warn!(peer = %self.peer, actor, %why, "the peer rejected a message");
                }
                Message::Ping(nonce) => self.queue_control(|w| w.pong(nonce)),
                Message::Pong(_) => {}
                Message::Goodbye => return Ok(false),
            }
        }
        Ok(true)
    }

    fn deliver(&self, actor: u64, replies: &[u8], payload: &[u8], registry: &SharedRegistry) {
        let export = self.node.upgrade().and_then(|node| node.exports.get(actor));
        let outcome = match export {
            Some(export) => export.deliver(payload, registry),
            None => Err(Rejection::UnknownActor),
        };
        let Err(why) = outcome else { return };
        tracing::debug!(peer = %self.peer, actor, %why, "told message not delivered");
        self.queue_control(|w| {
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

    fn answer_lookup(&self, request: u64, name: &str, type_name: &str) {
        let found = self.node.upgrade().and_then(|node| node.exports.find(name));
        self.queue_control(|w| match found {
            Some((id, actual)) if actual == type_name => w.lookup_ok(request, id),
            Some((_, actual)) => w.lookup_err(request, LookupFailure::WrongType, actual),
            None => w.lookup_err(request, LookupFailure::NotFound, ""),
        });
    }

    /// Sends an answer produced here back to the peer that asked.
    fn answer(&self, id: u64, answer: Result<Vec<u8>, ReplyError>) {
        let status_text;
        let status = match &answer {
            Ok(bytes) => ReplyStatus::Ok(bytes),
            Err(ReplyError::Dropped) => ReplyStatus::Dropped,
            Err(ReplyError::Panicked(msg)) => ReplyStatus::Panicked(msg),
            Err(other) => {
                status_text = other.to_string();
                ReplyStatus::Failed(&status_text)
            }
        };
        if answer
            .as_ref()
            .is_ok_and(|bytes| bytes.len() + 32 > self.max_body)
        {
            self.queue_control(|w| w.reply(id, &ReplyStatus::Failed("the answer is too large")));
            return;
        }
        self.queue_control(|w| w.reply(id, &status));
    }
}

impl ReplyRegistry for Connection {
    fn register(&self, complete: ReplyCompleter) -> u64 {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let refused = {
            let mut waiting = self.waiting.lock();
            if waiting.ended.is_some() {
                Some(complete)
            } else {
                waiting.replies.insert(id, complete);
                None
            }
        };
        match refused {
            Some(complete) => complete(Err(ReplyError::Disconnected)),
            None => REGISTERED.with(|r| r.borrow_mut().push(id)),
        }
        id
    }

    fn responder(&self, id: u64) -> ReplyResponder {
        let connection = self.me.clone();
        Box::new(move |answer| {
            if let Some(connection) = connection.upgrade() {
                connection.answer(id, answer);
            }
        })
    }
}
