//! Remote refs: an [`ActorRef`] whose actor lives on another node.
//!
//! [`Node::lookup`] asks the peer for the actor exported under a name and gives back an
//! ordinary `ActorRef<M>`: `tell`, `try_tell`, `ask` and `monitor` work as they do for a
//! local actor. Messages are encoded on the sender's thread and queued on the connection,
//! which the node shares among all refs to actors of that peer, so messages from one sender
//! to one remote actor arrive in order.

use std::marker::PhantomData;
use std::net::ToSocketAddrs;
use std::sync::Arc;

use actor_core::wire::SharedRegistry;
use actor_core::{ActorRef, ExitReason, Pending, RemoteTarget, ReplyError, SendError, SendWait};
use serde::Serialize;

use crate::error::NetError;
use crate::message::LookupFailure;
use crate::node::{Connection, Node, resolve};

/// The transport behind a remote `ActorRef<M>`.
struct RemoteActor<M> {
    connection: Arc<Connection>,
    /// The same connection, as the registry that replies inside messages are bound to.
    registry: SharedRegistry,
    actor: u64,
    name: String,
    message: PhantomData<fn(M)>,
}

impl<M: Serialize + Send + 'static> RemoteTarget<M> for RemoteActor<M> {
    fn send(&self, msg: M, wait: SendWait) -> Result<(), SendError<M>> {
        self.connection.tell(&self.registry, self.actor, msg, wait)
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
    /// # Errors
    ///
    /// [`NetError::NotFound`] and [`NetError::WrongType`] when the peer has no such actor
    /// for `M`; [`NetError::Handshake`] when authentication fails (wrong key, other
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
        M: Serialize + Send + 'static,
    {
        let peer = resolve(addr)?;
        let shared = self.shared();
        let connection = shared.connect(peer)?;
        let requested = std::any::type_name::<M>();
        let mut answer = connection.lookup(name, requested);
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
