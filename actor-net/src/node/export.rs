//! Local actors exported by name: what a peer can look up and send to.

use std::collections::HashMap;
use std::sync::Arc;

use actor_core::codec::{Bincode, Codec};
use actor_core::wire::{SharedRegistry, with_replies};
use actor_core::{ActorRef, SendError};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;

use crate::error::NetError;
use crate::message::Rejection;
use crate::remote_message::{self, RemoteMessage};

/// An exported actor, with its message type erased.
pub(crate) trait Export: Send + Sync {
    /// Decodes a told message (its replies bound to the connection through `registry`) and
    /// queues it for the actor.
    fn deliver(&self, payload: &[u8], registry: &SharedRegistry) -> Result<(), Rejection>;

    /// The declared identity of the actor's messages (`NAME@VERSION`), as lookups compare it.
    fn identity(&self) -> &str;
}

struct Exported<M> {
    actor: ActorRef<M>,
    /// Built once at export, so that lookups compare without building anything.
    identity: String,
}

impl<M: DeserializeOwned + Send + 'static> Export for Exported<M> {
    fn deliver(&self, payload: &[u8], registry: &SharedRegistry) -> Result<(), Rejection> {
        let msg: M = with_replies(registry, || Bincode::new().decode(payload))
            .map_err(|_| Rejection::Undecodable)?;
        // Blocks while a bounded `Block` mailbox is full: the connection slows down with it.
        self.actor.tell(msg).map_err(|e| match e {
            SendError::Closed(_) => Rejection::ActorGone,
            _ => Rejection::MailboxFull,
        })
    }

    fn identity(&self) -> &str {
        &self.identity
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
    pub(crate) fn export<M>(&self, name: &str, actor: &ActorRef<M>) -> Result<(), NetError>
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
                actor: actor.clone(),
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
