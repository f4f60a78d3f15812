//! [`Link`]: what a remote ref sends through — the connection to the actor's node and the
//! actor's id on that node — and how it is restored when that connection is lost.
//!
//! States of a link:
//!
//! | bound connection | `gone`       | a send                                                  |
//! |------------------|--------------|---------------------------------------------------------|
//! | open             | unset        | goes out on it: the hot path, no lock                   |
//! | closed           | unset        | restores the link ([`Link::restore`]), then goes out    |
//! | any              | set          | fails: the actor is gone (`SendError::Closed`)          |
//!
//! Restoring takes the address's redial state (`node/redial.rs`: one dial at a time per
//! address, with backoff), then looks the name up again with the same declared identity,
//! since a restarted peer gives its actors new ids, and binds the link to the new
//! connection and id. One sender restores a link at a time; meanwhile the others fail fast
//! as unreachable. A lookup that finds the name gone, or taken by another identity, sets
//! `gone` for good: the actor the ref pointed at is no more.
//!
//! A link made by name in a cluster ([`Node::lookup_name`](crate::Node::lookup_name))
//! follows the name: before it redials, it asks the cluster where the name is now, and
//! moves to that member if it is another one. For such a link a lookup that finds the name
//! gone is not final (another member may export it later): the send fails as unreachable.
//!
//! Monitors watch the bound connection, so a lost connection ends them (the node is lost);
//! a monitor made while the link is down, or after the actor is gone, is told at once.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use actor_core::wire::SharedRegistry;
use actor_core::{Escaped, ExitReason, Failure, Pending, ReplyError, SendWait};
use arc_swap::{ArcSwap, Guard};
use parking_lot::Mutex;

use crate::error::NetError;
use crate::message::LookupFailure;
use crate::node::{Connection, DialError, Redial, Shared};

/// A remote ref's link to its actor; see the module documentation.
pub(super) struct Link {
    /// The connection and the actor's id on it, replaced when the link is restored.
    ///
    /// Every send loads it, so it is an `ArcSwap`: the load takes no lock, and its guard may
    /// be held across a send that blocks (a store does not wait for it). A `RwLock`'s read
    /// guard could not be (a restore would wait behind a send stuck on a full queue, and
    /// every new sender behind the restore), so the `RwLock` would cost a read and an `Arc`
    /// clone: measured at about 28 ns a send against 16 ns for the load, on one thread.
    bound: ArcSwap<Bound>,
    name: String,
    /// The declared identity of the ref's messages (`NAME@VERSION`).
    identity: String,
    node: Weak<Shared>,
    /// Whether the link follows its name from member to member in a cluster.
    by_name: bool,
    /// Where the actor is, held by the one sender that restores the link.
    restoring: Mutex<Target>,
    /// Why the actor is gone, once a lookup after a reconnect did not find it.
    gone: OnceLock<ExitReason>,
}

/// The address of the actor's node, and its redial state.
struct Target {
    peer: SocketAddr,
    redial: Arc<Redial>,
}

/// One connection to the actor's node, and the actor's id there.
pub(super) struct Bound {
    pub(super) connection: Arc<Connection>,
    /// The same connection, as the registry that replies inside messages are bound to.
    pub(super) registry: SharedRegistry,
    pub(super) actor: u64,
}

/// Why a link has no connection to send through.
#[derive(Debug)]
pub(super) enum Unbound {
    /// The peer cannot be reached now; a later send tries again.
    Unreachable,
    /// The actor is gone (or this node is shut down): no send will ever reach it.
    Gone,
}

impl Link {
    /// Connects to `peer` if this node has no connection to it, and looks up the actor
    /// exported there as `name` for messages declared as `identity`.
    pub(super) fn establish(
        node: &Arc<Shared>,
        peer: SocketAddr,
        name: &str,
        identity: String,
        by_name: bool,
    ) -> Result<Link, NetError> {
        let connection = node.connect(peer)?;
        let deadline = Instant::now().checked_add(node.config.request_timeout);
        let actor = look_up(&connection, peer, name, &identity, deadline)?;
        Ok(Link {
            bound: ArcSwap::from_pointee(Bound::new(connection, actor)),
            name: name.to_string(),
            identity,
            node: Arc::downgrade(node),
            by_name,
            restoring: Mutex::new(Target {
                peer,
                redial: node.redials.get(peer),
            }),
            gone: OnceLock::new(),
        })
    }

    /// The name the actor is exported as.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// The binding to send through now (its connection may have closed since).
    pub(super) fn current(&self) -> Guard<Arc<Bound>> {
        self.bound.load()
    }

    /// Whether the actor is believed reachable: not gone, and its connection open.
    pub(super) fn is_up(&self) -> bool {
        self.gone.get().is_none() && !self.current().connection.is_closed()
    }

    /// Completes once the actor can no longer be reached through the bound connection (its
    /// node is lost), or at once if it is gone.
    pub(super) fn ended(&self) -> Pending<ExitReason> {
        match self.gone.get() {
            Some(reason) => Pending::ready(Ok(reason.clone())),
            None => {
                let bound = self.current();
                bound.connection.watch_actor(bound.actor)
            }
        }
    }

    /// A binding whose connection is open, for a send that found the bound connection
    /// closed: reconnects and looks the actor up again (see the module documentation).
    ///
    /// A send that must not wait (`SendWait::Never`), or whose deadline has passed, never
    /// dials: it is refused as unreachable. Otherwise this blocks while it dials (at most the
    /// node's `connect_timeout` and `handshake_timeout`, whatever the send's deadline) and
    /// while it waits for the lookup's answer (at most the node's `request_timeout`, and
    /// never past the send's deadline).
    pub(super) fn restore(&self, wait: SendWait) -> Result<Arc<Bound>, Unbound> {
        if self.gone.get().is_some() {
            return Err(Unbound::Gone);
        }
        // Another sender is restoring the link: fail fast rather than queue up behind it.
        let Some(mut target) = self.restoring.try_lock() else {
            return Err(Unbound::Unreachable);
        };
        // Restored by another sender since this one looked? (`gone` is set under the lock.)
        if self.gone.get().is_some() {
            return Err(Unbound::Gone);
        }
        let bound = self.bound.load_full();
        if !bound.connection.is_closed() {
            return Ok(bound);
        }
        let Some(node) = self.node.upgrade().filter(|node| !node.is_shutting_down()) else {
            return Err(Unbound::Gone);
        };
        let deadline = match wait {
            SendWait::Forever => None,
            SendWait::Until(deadline) if deadline > Instant::now() => Some(deadline),
            // A send that must not wait, or may no longer: dialing would block it.
            SendWait::Never | SendWait::Until(_) => return Err(Unbound::Unreachable),
        };
        if self.by_name {
            // The name may have moved to another member since the link was made.
            match node.whereis(&self.name) {
                Some(owner) if owner != target.peer => {
                    tracing::debug!(from = %target.peer, to = %owner, name = %Escaped(&self.name), "following a name to another member");
                    *target = Target {
                        peer: owner,
                        redial: node.redials.get(owner),
                    };
                }
                Some(_) => {}
                None => return Err(Unbound::Unreachable),
            }
        }
        let connection = match target.redial.connection(&node) {
            Ok(connection) => connection,
            Err(DialError::Failed(NetError::ShutDown)) => return Err(Unbound::Gone),
            Err(DialError::Waiting | DialError::Failed(_)) => return Err(Unbound::Unreachable),
        };
        let limit = Instant::now().checked_add(node.config.request_timeout);
        let deadline = match (deadline, limit) {
            (Some(deadline), Some(limit)) => Some(deadline.min(limit)),
            (deadline, limit) => deadline.or(limit),
        };
        match look_up(
            &connection,
            target.peer,
            &self.name,
            &self.identity,
            deadline,
        ) {
            Ok(actor) => {
                let bound = Arc::new(Bound::new(connection, actor));
                self.bound.store(Arc::clone(&bound));
                tracing::debug!(peer = %target.peer, name = %Escaped(&self.name), "remote actor reached again");
                Ok(bound)
            }
            // Another member may export the name later: not final for a link by name.
            Err(NetError::NotFound { .. }) if self.by_name => Err(Unbound::Unreachable),
            Err(error @ (NetError::NotFound { .. } | NetError::WrongType { .. })) => {
                tracing::info!(peer = %target.peer, %error, "remote actor gone after a reconnect");
                let reason = ExitReason::Failed(Failure::Error(Arc::new(error)));
                let _ = self.gone.set(reason);
                Err(Unbound::Gone)
            }
            Err(_) => Err(Unbound::Unreachable),
        }
    }
}

impl Bound {
    fn new(connection: Arc<Connection>, actor: u64) -> Bound {
        let registry: SharedRegistry = connection.clone();
        Bound {
            connection,
            registry,
            actor,
        }
    }
}

/// Asks `peer` over `connection` for the actor exported as `name` taking messages declared as
/// `identity`; waits for the answer until `deadline` (if any).
fn look_up(
    connection: &Connection,
    peer: SocketAddr,
    name: &str,
    identity: &str,
    deadline: Option<Instant>,
) -> Result<u64, NetError> {
    let mut answer = connection.lookup(name, identity);
    let answer = match deadline {
        Some(deadline) => answer.wait_deadline(deadline),
        None => answer.wait(),
    };
    match answer {
        Ok(Ok(actor)) => Ok(actor),
        Ok(Err((LookupFailure::NotFound, _))) => Err(NetError::NotFound {
            peer,
            name: name.to_string(),
        }),
        Ok(Err((LookupFailure::WrongType, actual))) => Err(NetError::WrongType {
            peer,
            name: name.to_string(),
            requested: identity.to_string(),
            actual,
        }),
        Err(ReplyError::Timeout) => Err(NetError::Timeout { peer }),
        Err(_) => Err(NetError::ConnectionLost { peer }),
    }
}
