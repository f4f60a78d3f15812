//! [`Shared`]: the state of one exchange, behind all its handles and the registry's entry.
//!
//! This file changes the subscription list; `exchange.rs` reads it to fan a message out and
//! report what happened, which is why the fields it reads are open to the exchange module.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::snapshot::Snapshot;
use super::subscriber::Subscriber;
use super::subscription_guard::Detach;
use super::subscription_id::SubscriptionId;
use crate::event::Events;

/// The state behind every handle of one exchange: its name, its subscriptions and where it
/// reports. The registry keeps one per name; every `Exchange` handle of that name points to it.
pub(crate) struct Shared<M> {
    pub(super) name: Arc<str>,
    pub(super) subscriptions: Snapshot<Vec<Subscription<M>>>,
    /// Serialises changes to the list (each change copies it).
    changes: Mutex<()>,
    /// Where to report gone subscribers and drops; empty for the system exchanges
    /// themselves, which must not report about themselves.
    pub(super) events: Weak<Events>,
}

/// One subscriber attached to an exchange, and how many messages it could not take.
pub(super) struct Subscription<M> {
    pub(super) id: SubscriptionId,
    pub(super) subscriber: Arc<dyn Subscriber<M>>,
    pub(super) dropped: Arc<AtomicU64>,
}

impl<M> Clone for Subscription<M> {
    fn clone(&self) -> Self {
        Subscription {
            id: self.id,
            subscriber: Arc::clone(&self.subscriber),
            dropped: Arc::clone(&self.dropped),
        }
    }
}

impl<M: Clone + Send + 'static> Shared<M> {
    pub(crate) fn new(name: Arc<str>, events: Weak<Events>) -> Shared<M> {
        Shared {
            name,
            subscriptions: Snapshot::new(Vec::new()),
            changes: Mutex::new(()),
            events,
        }
    }

    pub(crate) fn attach_with_id(&self, id: SubscriptionId, subscriber: Arc<dyn Subscriber<M>>) {
        let _changing = self.changes.lock();
        let mut list = Vec::clone(&self.subscriptions.load());
        list.push(Subscription {
            id,
            subscriber,
            dropped: Arc::new(AtomicU64::new(0)),
        });
        self.subscriptions.store(list);
    }
}

impl<M: Send + 'static> Detach for Shared<M> {
    fn detach(&self, id: SubscriptionId) -> bool {
        let _changing = self.changes.lock();
        let current = self.subscriptions.load();
        if !current.iter().any(|s| s.id == id) {
            return false;
        }
        let list: Vec<_> = current.iter().filter(|s| s.id != id).cloned().collect();
        self.subscriptions.store(list);
        true
    }
}
