//! Remote refs: an [`ActorRef`] whose actor lives on another node.
//!
//! [`Node::lookup`] asks the peer for the actor exported under a name and gives back an
//! ordinary `ActorRef<M>`: `tell`, `try_tell`, `ask` and `monitor` work as they do for a
//! local actor.
//!
//! A remote ask, from the caller to the remote handler and back, one file per step:
//!
//! 1. here, [`RemoteActor::send`]: the message is encoded on the caller's thread; each
//!    `Reply` inside it is recorded in the connection's pending requests
//!    (`node/pending_requests.rs`) and travels as an id; the encoded TELL goes to the
//!    connection's writer;
//! 2. `node/writer.rs`: the writer seals it into a frame (alone, or packed with others);
//! 3. on the peer, `node/reader.rs`: the reader opens the frame and hands the TELL to the
//!    exported actor (`node/export.rs`), which decodes it with each id turned back into a
//!    `Reply` bound to that connection, and queues it in the actor's mailbox;
//! 4. the handler answers through the `Reply`; the answer is encoded and sent back as a REPLY
//!    by the connection it came through (`node/connection.rs`, `ReplyRegistry`);
//! 5. back here, `node/reader.rs` reads the REPLY and completes the pending request with
//!    it, which completes the caller's `Pending`.
//!
//! The connection is shared by all refs to actors of that peer, and its writer keeps the
//! order of what is queued, so messages from one sender to one remote actor arrive in order.
//!
//! A ref outlives its connection: its link (`remote/link.rs`) is restored by the first send
//! after a loss, with a new connection (`node/redial.rs`: one dial at a time per peer
//! address, with backoff) and a new lookup of the same name.

mod link;

use std::cell::RefCell;
use std::marker::PhantomData;
use std::net::{SocketAddr, ToSocketAddrs};

use actor_core::codec::{Bincode, Codec};
use actor_core::wire;
use actor_core::{ActorRef, ExitReason, Pending, RemoteTarget, ReplyError, SendError, SendWait};
use serde::Serialize;

use crate::error::NetError;
use crate::message::MAX_REPLIES;
use crate::node::{Node, Refused, resolve};
use crate::remote_message::{self, RemoteMessage};
use link::{Bound, Link, Unbound};

thread_local! {
    /// A reused buffer for encoding message payloads.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The transport behind a remote `ActorRef<M>`.
struct RemoteActor<M> {
    link: Link,
    message: PhantomData<fn(M)>,
}

impl<M: Serialize> RemoteActor<M> {
    /// Encodes `msg` and sends it as a TELL to the actor of `bound`, on its connection; each
    /// reply inside it is recorded in the connection's pending requests and travels as an id.
    /// If it cannot be sent, the replies are failed at once, so no asker waits for an answer
    /// that cannot come.
    fn send_on(bound: &Bound, msg: M, wait: SendWait) -> Result<(), SendError<M>> {
        let connection = &bound.connection;
        let (sent, replies) = SCRATCH.with(|scratch| {
            // The payload is encoded here, then copied behind the TELL's header straight into
            // the frame being filled (see `node/writer.rs`).
            let mut payload = scratch.take();
            payload.clear();
            let (encoded, replies) = wire::encode_with_replies(&bound.registry, || {
                Bincode::new().encode(&msg, &mut payload)
            });
            // `None`: the message does not encode (or carries too many replies).
            let sent = match encoded {
                Ok(()) if replies.len() <= MAX_REPLIES => connection
                    .send(
                        |w| w.tell(bound.actor, &replies, &payload),
                        wait,
                        !replies.is_empty(),
                    )
                    .map_err(Some),
                _ => Err(None),
            };
            scratch.replace(payload);
            (sent, replies)
        });
        let refused = match sent {
            Ok(()) => return Ok(()),
            Err(Some(refused)) => refused,
            Err(None) => {
                tracing::warn!(peer = %connection.peer(), "a message to a remote actor does not encode");
                let failure = ReplyError::Remote("the request could not be encoded".into());
                connection.pending().fail_replies(&replies, &failure);
                return Err(SendError::Closed(msg));
            }
        };
        let failure = match refused {
            Refused::TooLarge(len) => {
                tracing::warn!(peer = %connection.peer(), len, "a message to a remote actor is too large for a frame");
                ReplyError::Remote("the request is too large for a frame".into())
            }
            Refused::Full | Refused::Timeout => {
                ReplyError::Remote("the connection's queue is full".into())
            }
            Refused::Closed | Refused::Broken(_) => ReplyError::Disconnected,
        };
        connection.pending().fail_replies(&replies, &failure);
        Err(match refused {
            Refused::Full => SendError::Full(msg),
            Refused::Timeout => SendError::Timeout(msg),
            Refused::TooLarge(_) => SendError::Closed(msg),
            // The connection closed under this send: the node is lost, not the actor.
            Refused::Closed | Refused::Broken(_) => SendError::Unreachable(msg),
        })
    }
}

impl<M: Serialize + Send + 'static> RemoteTarget<M> for RemoteActor<M> {
    /// Sends `msg` through the link's connection; once that connection is lost, restores the
    /// link first (see `remote/link.rs`), or fails fast: `Unreachable` while the peer cannot
    /// be reached, `Closed` once the actor is gone.
    fn send(&self, msg: M, wait: SendWait) -> Result<(), SendError<M>> {
        let bound = self.link.current();
        if !bound.connection.is_closed() {
            return Self::send_on(&bound, msg, wait);
        }
        match self.link.restore(wait) {
            Ok(bound) => Self::send_on(&bound, msg, wait),
            Err(Unbound::Unreachable) => Err(SendError::Unreachable(msg)),
            Err(Unbound::Gone) => Err(SendError::Closed(msg)),
        }
    }

    fn name(&self) -> Option<&str> {
        Some(self.link.name())
    }

    fn is_alive(&self) -> bool {
        self.link.is_up()
    }

    fn ended(&self) -> Pending<ExitReason> {
        self.link.ended()
    }
}

impl Node {
    /// The actor exported as `name` by the node at `addr`, as a ref taking messages of type
    /// `M`. Connects (and authenticates) first if this node has no connection to that
    /// address; one connection per peer address is shared by every ref to its actors.
    ///
    /// A lost connection fails every `ask` waiting on it at once (with
    /// [`AskError::Disconnected`](actor_core::AskError::Disconnected)) and gives monitors of
    /// its actors a `Down` (the node is lost). The ref outlives the connection: the next
    /// `tell`, `tell_timeout` or `ask` through it connects again and looks `name` up again
    /// with the same declared identity (a restarted peer gives its actors new ids), then
    /// sends; no new lookup is needed. That send blocks while it connects (at most the
    /// [`connect_timeout`](crate::NodeBuilder::connect_timeout) and the
    /// [`handshake_timeout`](crate::NodeBuilder::handshake_timeout)) and while it waits for
    /// the lookup's answer (at most the
    /// [`request_timeout`](crate::NodeBuilder::request_timeout), and never past the send's
    /// own deadline). `try_tell` never connects.
    ///
    /// While the peer cannot be reached, sends fail fast with
    /// [`SendError::Unreachable`](actor_core::SendError::Unreachable) (and asks with
    /// [`AskError::Unreachable`](actor_core::AskError::Unreachable)): nothing is queued. All
    /// the refs to one peer address share one backoff: after a failed connect, the next is
    /// tried 100 ms later, then 200 ms, doubling up to 5 s, each pause moved by up to 20%
    /// either way at random; one sender connects at a time while the others fail fast. If
    /// the peer, once reached again, no longer exports `name` for `M`'s identity, the actor
    /// is gone: sends fail with [`SendError::Closed`](actor_core::SendError::Closed) from
    /// then on, and monitors get a `Down`.
    ///
    /// The peer compares the identity `M` declares with [`RemoteMessage`] (`NAME@VERSION`)
    /// with the one of the exported actor's messages, so the two programs may define the
    /// message type separately, as long as both declare the same name and version and the
    /// serialized layouts agree.
    ///
    /// # Errors
    ///
    /// [`NetError::NotFound`] when nothing is exported as `name`; [`NetError::WrongType`]
    /// when the exported actor takes another declared identity (both are named in the error);
    /// [`NetError::MessageName`] when `M::NAME` breaks the naming rule; [`NetError::Handshake`] when authentication fails (wrong key, other
    /// protocol version); [`NetError::Io`] when the peer cannot be reached;
    /// [`NetError::Timeout`] when it does not answer in time.
    ///
    /// # Examples
    ///
    /// A lookup and a first ask: see [`Node`]. A ref that outlives its peer's restart:
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Actor, Context, HandlerResult, Reply, SendError, System};
    /// use actor_net::{Node, RemoteMessage, Secret};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Ping(Reply<String>);
    /// impl RemoteMessage for Ping {
    ///     const NAME: &'static str = "example.ping";
    /// }
    ///
    /// struct Pong;
    /// impl Actor for Pong {
    ///     type Msg = Ping;
    ///     fn handle(&mut self, Ping(reply): Ping, _: &mut Context<Ping>) -> HandlerResult {
    ///         reply.send("pong".to_string());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let secret = Secret::generate()?;
    /// let system = System::new();
    /// let serve = |listen: String| -> Result<Node, Box<dyn std::error::Error>> {
    ///     let server = Node::builder(secret.clone()).listen(listen).build()?;
    ///     server.export("pong", &system.spawn(Pong)?)?;
    ///     Ok(server)
    /// };
    /// let server = serve("127.0.0.1:0".into())?;
    /// let addr = server.local_addr().unwrap();
    /// let client = Node::builder(secret.clone()).build()?;
    /// let pong = client.lookup::<Ping>(addr, "pong")?;
    /// assert_eq!(pong.ask(Ping, Duration::from_secs(5))?, "pong");
    ///
    /// // The peer goes away: the ref's monitor is told, and sends fail fast.
    /// let down = pong.monitor();
    /// server.shutdown();
    /// down.wait()?;
    /// let (tx, _answer) = Reply::pair();
    /// assert!(matches!(pong.try_tell(Ping(tx)), Err(SendError::Unreachable(_))));
    ///
    /// // It comes back on the same address: the same ref reaches it again.
    /// let _server = serve(addr.to_string())?;
    /// assert_eq!(pong.ask(Ping, Duration::from_secs(5))?, "pong");
    /// # client.shutdown();
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup<M>(
        &self,
        addr: impl ToSocketAddrs + std::fmt::Debug,
        name: &str,
    ) -> Result<ActorRef<M>, NetError>
    where
        M: RemoteMessage + Serialize + Send + 'static,
    {
        self.lookup_at(resolve(addr)?, name, false)
    }

    /// [`lookup`](Node::lookup) at `peer`; with `by_name`, the ref follows `name` to whichever
    /// cluster member exports it when it reconnects (`remote/link.rs`).
    pub(crate) fn lookup_at<M>(
        &self,
        peer: SocketAddr,
        name: &str,
        by_name: bool,
    ) -> Result<ActorRef<M>, NetError>
    where
        M: RemoteMessage + Serialize + Send + 'static,
    {
        // Checked before connecting: a bad name is the caller's bug, not the network's.
        let requested = remote_message::identity::<M>()?;
        let link = Link::establish(self.shared(), peer, name, requested, by_name)?;
        Ok(ActorRef::remote(RemoteActor {
            link,
            message: PhantomData,
        }))
    }
}
