//! [`Shares`]: the message types whose exchanges a node lets its peers subscribe to — typed
//! (encoded with the wire codec, for subscribers that know the type by its declared identity)
//! or as `Debug` text (for taps).
//!
//! The table is fixed when the node is built, so that every subscription sees the same types
//! for as long as it lives.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;

use actor_core::{ExchangeError, Subscriber, SubscriptionId, System, SystemEvent};
use serde::Serialize;

use super::outlet::{Outlet, TextOutlet, TypedOutlet};
use crate::cluster::{ClusterMember, NameOwner};
use crate::net_event::NetEvent;
use crate::remote_message::{self, MessageNameError, RemoteMessage};

/// Attaches an outlet to the exchanges of one message type that match a pattern.
pub(crate) trait Share: Send + Sync {
    fn attach(
        &self,
        system: &System,
        pattern: &str,
        outlet: &Arc<Outlet>,
    ) -> Result<SubscriptionId, ExchangeError>;
}

/// Attaches outlets of kind `O` (typed or text) to the exchanges of `M`.
struct Outlets<M, O>(PhantomData<fn() -> (M, O)>);

impl<M, O> Outlets<M, O> {
    fn new() -> Outlets<M, O> {
        Outlets(PhantomData)
    }
}

impl<M, O> Share for Outlets<M, O>
where
    M: Clone + Send + 'static,
    O: Subscriber<M> + From<Arc<Outlet>>,
{
    fn attach(
        &self,
        system: &System,
        pattern: &str,
        outlet: &Arc<Outlet>,
    ) -> Result<SubscriptionId, ExchangeError> {
        system.attach_pattern::<M>(pattern, O::from(Arc::clone(outlet)))
    }
}

/// The types a node shares; see the module documentation.
#[derive(Clone)]
pub(crate) struct Shares {
    /// Typed, by declared identity (`NAME@VERSION`).
    typed: HashMap<String, Arc<dyn Share>>,
    /// As text, each type once.
    shown: Vec<(TypeId, Arc<dyn Share>)>,
}

impl Default for Shares {
    /// The node's own events: `system.*` as text; `system.net`, `cluster.members` and
    /// `cluster.names` typed as well.
    fn default() -> Shares {
        let mut shares = Shares {
            typed: HashMap::new(),
            shown: Vec::new(),
        };
        shares.show::<SystemEvent>();
        shares.builtin::<NetEvent>();
        shares.builtin::<ClusterMember>();
        shares.builtin::<NameOwner>();
        shares
    }
}

impl Shares {
    /// Shares `M` typed and as text.
    pub(crate) fn share<M>(&mut self) -> Result<(), MessageNameError>
    where
        M: RemoteMessage + Serialize + Debug + Clone + Send + 'static,
    {
        let identity = remote_message::identity::<M>()?;
        let typed = Outlets::<M, TypedOutlet<M>>::new();
        self.typed.insert(identity, Arc::new(typed));
        self.show::<M>();
        Ok(())
    }

    /// A built-in type, whose declared name follows the rule by construction.
    fn builtin<M>(&mut self)
    where
        M: RemoteMessage + Serialize + Debug + Clone + Send + 'static,
    {
        if let Err(error) = self.share::<M>() {
            tracing::error!(%error, "a built-in message type is not shared");
        }
    }

    /// Shows `M` as text.
    pub(crate) fn show<M: Debug + Clone + Send + 'static>(&mut self) {
        let type_id = TypeId::of::<M>();
        if !self.shown.iter().any(|(shown, _)| *shown == type_id) {
            let shown = Outlets::<M, TextOutlet<M>>::new();
            self.shown.push((type_id, Arc::new(shown)));
        }
    }

    /// The typed share of `identity`.
    pub(crate) fn typed(&self, identity: &str) -> Option<&Arc<dyn Share>> {
        self.typed.get(identity)
    }

    /// Every type shown as text.
    pub(crate) fn shown(&self) -> impl Iterator<Item = &Arc<dyn Share>> {
        self.shown.iter().map(|(_, share)| share)
    }
}

impl std::fmt::Debug for Shares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shares")
            .field("typed", &self.typed.keys().collect::<Vec<_>>())
            .field("shown", &self.shown.len())
            .finish()
    }
}
