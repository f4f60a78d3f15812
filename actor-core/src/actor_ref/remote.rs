//! The remote flavor of [`ActorRef`](crate::ActorRef): an actor in another process, reached
//! through a transport that implements [`RemoteTarget`].

use std::sync::Arc;

use crate::actor_id::ActorId;
use crate::error::SendError;
use crate::reply::Pending;
use crate::send_wait::SendWait;
use crate::supervision::ExitReason;

/// What a transport (such as `actor-net`) implements so that an
/// [`ActorRef`](crate::ActorRef) can point at an actor it reaches: the ref's operations are
/// forwarded here, so callers use a remote actor exactly like a local one.
///
/// A `Reply<T>` inside a message crosses the wire when the transport encodes and decodes
/// messages inside [`wire::with_replies`](crate::wire::with_replies).
///
/// # Examples
///
/// A transport that delivers through a channel (a stand-in for a connection):
///
/// ```
/// use actor_core::{ActorRef, ExitReason, Pending, Reply, SendError, SendWait};
/// use actor_core::RemoteTarget;
///
/// struct Loopback(crossbeam_channel::Sender<String>);
///
/// impl RemoteTarget<String> for Loopback {
///     fn send(&self, msg: String, _wait: SendWait) -> Result<(), SendError<String>> {
///         self.0.send(msg).map_err(|e| SendError::Closed(e.0))
///     }
///     fn name(&self) -> Option<&str> {
///         Some("loopback")
///     }
///     fn is_alive(&self) -> bool {
///         true
///     }
///     fn ended(&self) -> Pending<ExitReason> {
///         Reply::pair().1 // never ends
///     }
/// }
///
/// let (tx, rx) = crossbeam_channel::unbounded();
/// let remote: ActorRef<String> = ActorRef::remote(Loopback(tx));
/// remote.tell("over the wire".to_string())?;
/// assert_eq!(rx.recv()?, "over the wire");
/// assert_eq!(remote.name(), Some("loopback"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait RemoteTarget<M>: Send + Sync {
    /// Sends `msg` to the remote actor, waiting for room in the transport's queue as `wait`
    /// allows. A message that cannot be sent comes back in the error:
    /// [`SendError::Unreachable`] while the actor's node cannot be reached (a later send may
    /// succeed), [`SendError::Closed`] once the actor is known to be gone.
    fn send(&self, msg: M, wait: SendWait) -> Result<(), SendError<M>>;

    /// The remote actor's name.
    fn name(&self) -> Option<&str>;

    /// Whether the remote actor is believed alive (its connection is up).
    fn is_alive(&self) -> bool;

    /// Completes with why the remote actor can no longer be reached (for instance its node
    /// was lost) once that happens.
    fn ended(&self) -> Pending<ExitReason>;

    /// Asks the remote side to stop the actor gracefully. By default, does nothing: a
    /// transport decides whether peers may end actors they did not spawn.
    fn stop(&self) {}

    /// Asks the remote side to kill the actor. By default, does nothing (see `stop`).
    fn kill(&self) {}
}

/// An actor reached through a transport.
pub(crate) struct Remote<M> {
    pub(crate) id: ActorId,
    pub(crate) target: Arc<dyn RemoteTarget<M>>,
}

impl<M> Clone for Remote<M> {
    fn clone(&self) -> Self {
        Remote {
            id: self.id,
            target: Arc::clone(&self.target),
        }
    }
}
