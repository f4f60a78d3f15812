//! Local actors exported by name: what a peer can look up and send to.
//!
//! Each export has a budget of its own, its bounded mailbox: at most `mailbox` messages from
//! the network (all connections together) are queued for the actor or being handled at
//! once. A message that finds it spent waits (in the connection's reader, so TCP pushes back
//! on the peer) until the actor has handled one, for at most the node's blocked timeout.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Instant;

use actor_core::codec::{Bincode, Codec};
use actor_core::wire::{SharedRegistry, with_replies};
use actor_core::{ActorRef, Budget, SendError, SendWait, Ticket};
use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;

// An export tells the connections that monitor it when its actor ends: part of the node
// around its connections (see `connection.rs`).
use super::connection::Connection;
use crate::error::NetError;
use crate::message::Rejection;
use crate::remote_message::{self, RemoteMessage};

/// What became of a told message.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Queued for the actor.
    Queued,
    /// Refused, for this reason (the peer is told).
    Refused(Rejection),
    /// The actor's mailbox stayed full until the deadline: the connection has been blocked
    /// too long.
    Blocked,
}

/// An exported actor, with its message type erased.
pub(crate) trait Export: Send + Sync {
    /// The export's bounded mailbox: a share of it goes with each message (see `deliver`).
    fn mailbox(&self) -> &Arc<Budget>;

    /// Decodes a told message (its replies bound to the connection through `registry`) and
    /// queues it for the actor with `ticket` (the connection's share of its inbound budget
    /// joined to a share of the export's mailbox), waiting until `deadline` if the actor's
    /// own mailbox is bounded and full.
    fn deliver(
        &self,
        payload: &[u8],
        registry: &SharedRegistry,
        ticket: Ticket,
        deadline: Instant,
    ) -> Delivery;

    /// The declared identity of the actor's messages (`NAME@VERSION`), as lookups compare it.
    fn identity(&self) -> &str;

    /// Tells `connection` (by a DOWN) when the actor ends; at once if it has.
    fn watch(&self, connection: &Arc<Connection>);
}

/// The connections that monitor one exported actor. One monitor of the actor serves them
/// all, so that a peer reconnecting again and again cannot pile monitors up on it: the list
/// holds each live connection once, and connections that closed are dropped from it.
#[derive(Default)]
struct Watchers {
    /// Whether the actor's own monitor has been set up.
    armed: bool,
    connections: Vec<Weak<Connection>>,
    /// How the actor ended, once it has.
    ended: Option<actor_core::ExitReason>,
}

struct Exported<M> {
    /// The id the actor has on the wire.
    id: u64,
    actor: ActorRef<M>,
    watchers: Arc<Mutex<Watchers>>,
    /// The export's bounded mailbox: messages from the network in flight to the actor.
    mailbox: Arc<Budget>,
    /// Built once at export, so that lookups compare without building anything.
    identity: String,
}

impl<M: DeserializeOwned + Send + 'static> Export for Exported<M> {
    fn deliver(
        &self,
        payload: &[u8],
        registry: &SharedRegistry,
        ticket: Ticket,
        deadline: Instant,
    ) -> Delivery {
        let Ok(msg) = with_replies(registry, || Bincode::new().decode::<M>(payload)) else {
            return Delivery::Refused(Rejection::Undecodable);
        };
        // Also waits while an actor's own bounded `Block` mailbox is full.
        match self
            .actor
            .tell_ticketed(msg, ticket, SendWait::Until(deadline))
        {
            Ok(()) => Delivery::Queued,
            Err(SendError::Closed(_)) => Delivery::Refused(Rejection::ActorGone),
            Err(SendError::Timeout(_)) => Delivery::Blocked,
            Err(_) => Delivery::Refused(Rejection::MailboxFull),
        }
    }

    fn identity(&self) -> &str {
        &self.identity
    }

    fn mailbox(&self) -> &Arc<Budget> {
        &self.mailbox
    }

    fn watch(&self, connection: &Arc<Connection>) {
        let mut watchers = self.watchers.lock();
        if let Some(reason) = &watchers.ended {
            let reason = reason.clone();
            drop(watchers);
            connection.send_down(self.id, &reason);
            return;
        }
        watchers.connections.retain(|c| c.strong_count() > 0);
        let me = Arc::downgrade(connection);
        if !watchers.connections.iter().any(|c| c.ptr_eq(&me)) {
            watchers.connections.push(me);
        }
        if std::mem::replace(&mut watchers.armed, true) {
            return;
        }
        drop(watchers);
        let (id, watchers) = (self.id, Arc::clone(&self.watchers));
        self.actor.monitor().on_complete(move |down| {
            // A monitor is always answered (see `ActorRef::monitor`); were it not, the actor
            // is gone without a reason, which is what `Killed` says.
            let reason = down.map_or(actor_core::ExitReason::Killed, |down| down.reason);
            let connections = {
                let mut watchers = watchers.lock();
                watchers.ended = Some(reason.clone());
                std::mem::take(&mut watchers.connections)
            };
            for connection in connections.iter().filter_map(Weak::upgrade) {
                connection.send_down(id, &reason);
            }
        });
    }
}

/// The exported actors of a node, by name and by the id that travels on the wire.
#[derive(Default)]
pub(crate) struct Exports {
    table: RwLock<Table>,
}

#[derive(Default)]
struct Table {
    by_name: HashMap<String, u64>,
    by_id: HashMap<u64, Arc<dyn Export>>,
    /// Ids are never reused, so a stale id cannot reach a newer actor.
    next_id: u64,
}

impl Exports {
    pub(crate) fn export<M>(
        &self,
        name: &str,
        actor: &ActorRef<M>,
        mailbox: usize,
    ) -> Result<(), NetError>
    where
        M: RemoteMessage + DeserializeOwned + Send + 'static,
    {
        let identity = remote_message::identity::<M>()?;
        let mut table = self.table.write();
        if table.by_name.contains_key(name) {
            return Err(NetError::AlreadyExported(name.to_string()));
        }
        table.next_id += 1;
        let id = table.next_id;
        table.by_name.insert(name.to_string(), id);
        table.by_id.insert(
            id,
            Arc::new(Exported {
                id,
                actor: actor.clone(),
                watchers: Arc::default(),
                mailbox: Budget::new(mailbox, usize::MAX),
                identity,
            }),
        );
        Ok(())
    }

    pub(crate) fn unexport(&self, name: &str) -> bool {
        let mut table = self.table.write();
        match table.by_name.remove(name) {
            Some(id) => table.by_id.remove(&id).is_some(),
            None => false,
        }
    }

    /// The id and export of the actor exported as `name`.
    pub(crate) fn find(&self, name: &str) -> Option<(u64, Arc<dyn Export>)> {
        let table = self.table.read();
        let id = *table.by_name.get(name)?;
        let export = table.by_id.get(&id)?;
        Some((id, export.clone()))
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<dyn Export>> {
        self.table.read().by_id.get(&id).cloned()
    }
}
