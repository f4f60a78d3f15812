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

use std::cell::RefCell;
use std::marker::PhantomData;
use std::net::ToSocketAddrs;
use std::sync::Arc;

use actor_core::codec::{Bincode, Codec};
use actor_core::wire::{self, SharedRegistry};
use actor_core::{ActorRef, ExitReason, Pending, RemoteTarget, ReplyError, SendError, SendWait};
use serde::Serialize;

use crate::error::NetError;
use crate::message::{self, LookupFailure};
use crate::node::{Connection, Node, Refused, resolve};
use crate::remote_message::{self, RemoteMessage};

thread_local! {
    /// A reused buffer for encoding message payloads.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The transport behind a remote `ActorRef<M>`.
struct RemoteActor<M> {
    connection: Arc<Connection>,
    /// The same connection, as the registry that replies inside messages are bound to.
    registry: SharedRegistry,
    actor: u64,
    name: String,
    message: PhantomData<fn(M)>,
}

impl<M: Serialize> RemoteActor<M> {
    /// The TELL message carrying `msg`, and the ids of the replies inside it (recorded in the
    /// connection's pending requests); `None` for the message if it does not encode.
    fn encode(&self, msg: &M) -> (Option<Vec<u8>>, Vec<u64>) {
        SCRATCH.with(|scratch| {
            let mut payload = scratch.take();
            payload.clear();
            let (encoded, replies) = wire::encode_with_replies(&self.registry, || {
                Bincode::new().encode(msg, &mut payload)
            });
            let tell = encoded.ok().map(|()| {
                let mut out = Vec::with_capacity(payload.len() + 15 + 8 * replies.len());
                message::Writer::new(&mut out).tell(self.actor, &replies, &payload);
                out
            });
            scratch.replace(payload);
            (tell, replies)
        })
    }
}

impl<M: Serialize + Send + 'static> RemoteTarget<M> for RemoteActor<M> {
    /// Encodes `msg` and queues it on the connection. If it cannot be queued, the replies
    /// inside it are failed at once, so no asker waits for an answer that cannot come.
    fn send(&self, msg: M, wait: SendWait) -> Result<(), SendError<M>> {
        let connection = &self.connection;
        if connection.is_closed() {
            return Err(SendError::Closed(msg));
        }
        let (tell, replies) = self.encode(&msg);
        let Some(tell) =
            tell.filter(|m| m.len() <= connection.max_body() && replies.len() <= 0xFFFF)
        else {
            tracing::warn!(peer = %connection.peer(), "a message to a remote actor does not encode or is too large");
            connection.pending().fail_replies(
                &replies,
                &ReplyError::Remote("the request could not be encoded".into()),
            );
            return Err(SendError::Closed(msg));
        };
        let Err(refused) = connection.send(tell, wait, !replies.is_empty()) else {
            return Ok(());
        };
        let failure = match refused {
            Refused::Full | Refused::Timeout => {
                ReplyError::Remote("the connection's queue is full".into())
            }
            Refused::Closed | Refused::Broken(_) => ReplyError::Disconnected,
        };
        connection.pending().fail_replies(&replies, &failure);
        Err(match refused {
            Refused::Full => SendError::Full(msg),
            Refused::Timeout => SendError::Timeout(msg),
            Refused::Closed | Refused::Broken(_) => SendError::Closed(msg),
        })
    }

    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn is_alive(&self) -> bool {
        !self.connection.is_closed()
    }

    fn ended(&self) -> Pending<ExitReason> {
        self.connection.ended()
    }
}

impl Node {
    /// The actor exported as `name` by the node at `addr`, as a ref taking messages of type
    /// `M`. Connects (and authenticates) first if this node has no connection to that
    /// address; one connection per peer address is shared by every ref to its actors.
    ///
    /// A lost connection fails every `ask` waiting on it at once (with
    /// [`AskError::Disconnected`](actor_core::AskError::Disconnected)), gives monitors of
    /// its actors a `Down`, and makes later tells fail; a new `lookup` connects again.
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
    /// See [`Node`].
    pub fn lookup<M>(
        &self,
        addr: impl ToSocketAddrs + std::fmt::Debug,
        name: &str,
    ) -> Result<ActorRef<M>, NetError>
    where
        M: RemoteMessage + Serialize + Send + 'static,
    {
        // Checked before connecting: a bad name is the caller's bug, not the network's.
        let requested = remote_message::identity::<M>()?;
        let peer = resolve(addr)?;
        let shared = self.shared();
        let connection = shared.connect(peer)?;
        let mut answer = connection.lookup(name, &requested);
        let actor = match answer.wait_timeout(shared.config.request_timeout) {
            Ok(Ok(actor)) => actor,
            Ok(Err((LookupFailure::NotFound, _))) => {
                return Err(NetError::NotFound {
                    peer,
                    name: name.to_string(),
                });
            }
            Ok(Err((LookupFailure::WrongType, actual))) => {
                return Err(NetError::WrongType {
                    peer,
                    name: name.to_string(),
                    requested,
                    actual,
                });
            }
            Err(ReplyError::Timeout) => return Err(NetError::Timeout { peer }),
            Err(_) => return Err(NetError::ConnectionLost { peer }),
        };
        let registry: SharedRegistry = connection.clone();
        Ok(ActorRef::remote(RemoteActor {
            connection,
            registry,
            actor,
            name: name.to_string(),
            message: PhantomData,
        }))
    }
}
