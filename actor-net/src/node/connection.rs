//! [`Connection`]: one authenticated connection to a peer node, made of three parts that
//! each have a file of their own:
//!
//! - the [`Writer`] (`writer.rs`): the queue of encoded messages and the thread that packs
//!   them into sealed frames;
//! - the reader (`reader.rs`): the thread that opens frames and dispatches their messages;
//! - the [`PendingRequests`] (`pending_requests.rs`): what this side waits for from the peer.
//!
//! The connection ties them together: it starts the writer's thread, is the registry that
//! replies inside messages are bound to ([`ReplyRegistry`]), and closes once for all three.
//!
//! Lifecycle: `open` (the handshake is done) → `close` (once, from whichever thread notices
//! first: a read or write error, a bad frame, a silent peer, a goodbye, or our shutdown).
//! Closing fails every pending request at once, tells the watchers of remote actors why,
//! shuts the socket down (which ends both threads) and removes the connection from its node.

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use std::time::Instant;

use actor_core::wire::{ReplyCompleter, ReplyRegistry, ReplyResponder};
use actor_core::{Budget, ErrorChain, Escaped, ExitReason, Failure, Pending, ReplyError, SendWait};

// A connection belongs to its node (the one import back up): it finds the exported actors
// through it, and leaves its table when it closes.
use super::Shared;
use super::pending_requests::{LookupAnswer, PendingRequests};
use super::writer::{Refused, Writer};
use crate::error::NetError;
use crate::message::{self, DownReason, ReplyStatus};
use crate::net_event::NetEvent;
use crate::pubsub::{Feeds, Served};
use crate::session::Sealer;

/// One authenticated connection to a peer; see the module documentation.
pub(crate) struct Connection {
    /// This connection, for the responders that answer through it later.
    me: Weak<Connection>,
    id: u64,
    peer: SocketAddr,
    peer_name: String,
    writer: Writer,
    pending: PendingRequests,
    /// What this peer has in flight towards local actors (see `reader.rs`).
    inbound: Arc<Budget>,
    /// A handle on the socket, to shut it down from any thread.
    socket: TcpStream,
    closed: AtomicBool,
    node: Weak<Shared>,
    /// The subscriptions the peer holds on this node's exchanges.
    served: Served,
    /// What this node receives from the peer's exchanges.
    feeds: Feeds,
}

impl Connection {
    /// Starts the writer thread of a connection whose handshake is done; the caller runs
    /// [`reader::read`](super::reader::read) (on its own thread) with the handshake's opener.
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
        let handle_socket = socket.try_clone()?;
        let (writer, queued) = Writer::new(
            sealer,
            socket,
            config.outbound_messages,
            config.outbound_bytes,
        );
        let connection = Arc::new_cyclic(|me| Connection {
            me: me.clone(),
            id,
            peer,
            peer_name,
            writer,
            pending: PendingRequests::new(),
            inbound: Budget::new(config.inbound_messages, config.inbound_bytes),
            socket: handle_socket,
            closed: AtomicBool::new(false),
            node: Arc::downgrade(node),
            served: Served::default(),
            feeds: Feeds::default(),
        });
        let writing = Arc::clone(&connection);
        let heartbeat = config.heartbeat_interval;
        let handle = std::thread::Builder::new()
            .name(format!("actor-net-w{id}"))
            .stack_size(super::THREAD_STACK)
            .spawn(move || {
                let reason = match writing.writer.run(queued, heartbeat) {
                    Ok(()) => ExitReason::Stopped,
                    Err(error) => {
                        if !writing.is_closed() {
                            tracing::debug!(peer = %writing.peer, %error, "writing to the peer failed");
                        }
                        writing.lost()
                    }
                };
                writing.close(reason);
            })?;
        node.own_thread(handle);
        Ok(connection)
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(crate) fn peer_name(&self) -> &str {
        &self.peer_name
    }

    /// The node this connection belongs to, unless it is gone.
    pub(crate) fn node(&self) -> Option<Arc<Shared>> {
        self.node.upgrade()
    }

    pub(crate) fn pending(&self) -> &PendingRequests {
        &self.pending
    }

    /// The subscriptions the peer holds on this node's exchanges.
    pub(crate) fn served(&self) -> &Served {
        &self.served
    }

    /// What this node receives from the peer's exchanges.
    pub(crate) fn feeds(&self) -> &Feeds {
        &self.feeds
    }

    /// What this peer has in flight towards local actors.
    pub(crate) fn inbound(&self) -> &Arc<Budget> {
        &self.inbound
    }

    /// Whether the outbound queue has room now.
    pub(crate) fn has_outbound_room(&self) -> bool {
        self.writer.has_room()
    }

    /// Waits until the outbound queue has room (or the deadline passes); returns whether it
    /// has. The reader dispatches no new request while it has none.
    pub(crate) fn wait_for_outbound_room(&self, deadline: Instant) -> bool {
        self.writer.wait_for_room(deadline)
    }

    /// The largest message body a frame can carry.
    pub(crate) fn max_body(&self) -> usize {
        self.writer.max_body()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Sends the message that `write` encodes (see [`Writer::send`]). A write that fails
    /// closes the connection, and the message is refused as `Closed`.
    pub(crate) fn send(
        &self,
        write: impl FnOnce(&mut message::Writer<'_>),
        wait: SendWait,
        urgent: bool,
    ) -> Result<(), Refused> {
        if self.is_closed() {
            return Err(Refused::Closed);
        }
        self.writer
            .send(write, wait, urgent)
            .map_err(|refused| self.broken(refused))
    }

    /// Sends a message that must not wait (an answer, produced on an actor's thread; a
    /// goodbye): queued whatever the outbound budget, dropped if the connection is closing.
    pub(crate) fn send_forced(&self, write: impl FnOnce(&mut message::Writer<'_>)) {
        if self.is_closed() {
            return;
        }
        if let Err(refused) = self.writer.send_forced(write) {
            self.broken(refused);
        }
    }

    /// Closes the connection if `refused` says that it is broken; returns what the sender
    /// is told.
    fn broken(&self, refused: Refused) -> Refused {
        match refused {
            Refused::Broken(error) => {
                tracing::debug!(peer = %self.peer, %error, "writing to the peer failed");
                self.close(self.lost());
                Refused::Closed
            }
            other => other,
        }
    }

    /// Asks the peer for the actor exported as `name` taking messages declared as
    /// `message_type` (`NAME@VERSION`).
    pub(crate) fn lookup(&self, name: &str, message_type: &str) -> Pending<LookupAnswer> {
        let (request, answer) = self.pending.add_lookup();
        if let Some(request) = request {
            // A refused lookup stays unanswered until the connection closes or the caller's
            // timeout passes; only a closing connection refuses a send that may wait.
            let lookup = |w: &mut message::Writer<'_>| w.lookup(request, name, message_type);
            if let Err(refused) = self.send(lookup, SendWait::Forever, true) {
                tracing::debug!(peer = %self.peer, ?refused, "a lookup was not sent");
            }
        }
        answer
    }

    /// Completes when the peer's actor `actor` ends (the peer's DOWN), or when this
    /// connection does (the node is lost). The first watcher of an actor sends the MONITOR.
    pub(crate) fn watch_actor(&self, actor: u64) -> Pending<ExitReason> {
        let (ended, first) = self.pending.watch_actor(actor);
        if first && let Err(refused) = self.send(|w| w.monitor(actor), SendWait::Forever, false) {
            tracing::debug!(peer = %self.peer, ?refused, "a monitor was not sent");
        }
        ended
    }

    /// Tells the peer that the exported actor `actor` it monitors ended for `reason`.
    pub(crate) fn send_down(&self, actor: u64, reason: &ExitReason) {
        let detail;
        let (code, text) = match reason {
            ExitReason::Stopped => (DownReason::Stopped, ""),
            ExitReason::Killed => (DownReason::Killed, ""),
            ExitReason::Failed(Failure::Panic(message)) => (DownReason::Panicked, message.as_str()),
            ExitReason::Failed(Failure::Error(error)) => {
                detail = ErrorChain(error.as_ref()).to_string();
                (DownReason::Failed, detail.as_str())
            }
            // `ExitReason` may grow: what is not known here is reported as a failure.
            #[allow(unreachable_patterns)]
            other => {
                detail = other.to_string();
                (DownReason::Failed, detail.as_str())
            }
        };
        self.send_forced(|w| w.down(actor, code, text));
    }

    /// Tells the peer we are leaving, then closes after what is queued.
    pub(crate) fn say_goodbye(&self) {
        self.send_forced(|w| w.goodbye());
        self.writer.close();
    }

    /// Ends the connection (once): fails what waits on it, shuts the socket, leaves the node.
    pub(crate) fn close(&self, reason: ExitReason) {
        // Relaxed: the flag only hurries senders along; `PendingRequests::end` is what makes
        // every request fail exactly once, under its own lock.
        if self.closed.swap(true, Ordering::Relaxed) {
            return;
        }
        tracing::debug!(peer = %self.peer, name = %Escaped(&self.peer_name), reason = %Escaped(&reason), "connection closed");
        let _ = self.socket.shutdown(Shutdown::Both);
        self.writer.close();
        self.pending.end(&reason);
        self.feeds.end();
        if let Some(node) = self.node.upgrade() {
            self.served.end(&node);
            node.forget(self.id);
            node.net_event(|| NetEvent::Disconnected {
                peer: self.peer,
                name: self.peer_name.clone(),
                reason: reason.to_string(),
            });
        }
    }

    /// The reason given when the connection breaks.
    pub(crate) fn lost(&self) -> ExitReason {
        ExitReason::Failed(Failure::Error(Arc::new(NetError::ConnectionLost {
            peer: self.peer,
        })))
    }

    /// Sends an answer produced here back to the peer that asked.
    fn answer(&self, id: u64, answer: Result<Vec<u8>, ReplyError>) {
        let status_text;
        let status = match &answer {
            Ok(bytes) if bytes.len() + 32 > self.max_body() => {
                ReplyStatus::Failed("the answer is too large")
            }
            Ok(bytes) => ReplyStatus::Ok(bytes),
            Err(ReplyError::Dropped) => ReplyStatus::Dropped,
            Err(ReplyError::Panicked(msg)) => ReplyStatus::Panicked(msg),
            Err(other) => {
                status_text = other.to_string();
                ReplyStatus::Failed(&status_text)
            }
        };
        self.send_forced(|w| w.reply(id, &status));
    }
}

/// Replies inside messages sent through this connection wait in its pending table; replies
/// inside messages it received answer through it.
impl ReplyRegistry for Connection {
    fn register(&self, complete: ReplyCompleter) -> u64 {
        self.pending.add_reply(complete)
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
