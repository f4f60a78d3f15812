//! The system's table of exchanges and of pattern subscriptions.
//!
//! A pattern subscription is attached, under its one id, to every matching exchange of its
//! message type: those that exist when it is made, and those created later.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::pattern::{Pattern, validate_name};
use super::shared::Shared;
use super::subscriber::Subscriber;
use super::subscription_guard::Detach;
use super::subscription_id::SubscriptionId;
use crate::error::ExchangeError;
use crate::event::Events;

#[derive(Default)]
pub(crate) struct Registry {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    exchanges: HashMap<Arc<str>, Entry>,
    patterns: Vec<PatternSubscription>,
}

struct Entry {
    /// An `Arc<Shared<M>>`.
    shared: Arc<dyn Any + Send + Sync>,
    detach: Arc<dyn Detach>,
    type_name: &'static str,
}

struct PatternSubscription {
    id: SubscriptionId,
    pattern: Pattern,
    type_id: TypeId,
    /// An `Arc<dyn Subscriber<M>>`.
    subscriber: Box<dyn Any + Send + Sync>,
}

impl Registry {
    /// The state of the exchange named `name`, created (with the matching pattern
    /// subscriptions attached) if it does not exist; the system wraps it in an `Exchange`
    /// handle.
    pub(crate) fn exchange<M: Clone + Send + 'static>(
        &self,
        name: &str,
        events: Weak<Events>,
    ) -> Result<Arc<Shared<M>>, ExchangeError> {
        validate_name(name)?;
        let mut state = self.state.lock();
        if let Some(entry) = state.exchanges.get(name) {
            return Arc::clone(&entry.shared)
                .downcast::<Shared<M>>()
                .map_err(|_| ExchangeError::WrongType {
                    name: name.to_string(),
                    requested: std::any::type_name::<M>(),
                    actual: entry.type_name,
                });
        }
        let name: Arc<str> = Arc::from(name);
        let shared = Arc::new(Shared::<M>::new(Arc::clone(&name), events));
        for pattern in &state.patterns {
            if pattern.type_id == TypeId::of::<M>()
                && pattern.pattern.matches(&name)
                && let Some(subscriber) =
                    pattern.subscriber.downcast_ref::<Arc<dyn Subscriber<M>>>()
            {
                shared.attach_with_id(pattern.id, Arc::clone(subscriber));
            }
        }
        state.exchanges.insert(
            name,
            Entry {
                shared: shared.clone(),
                detach: shared.clone(),
                type_name: std::any::type_name::<M>(),
            },
        );
        Ok(shared)
    }

    /// Attaches `subscriber` to every exchange of type `M` whose name matches `pattern`,
    /// now and later.
    pub(crate) fn attach_pattern<M: Clone + Send + 'static>(
        &self,
        pattern: &str,
        subscriber: Arc<dyn Subscriber<M>>,
    ) -> Result<SubscriptionId, ExchangeError> {
        let pattern = Pattern::parse(pattern)?;
        let id = SubscriptionId::next();
        let mut state = self.state.lock();
        for (name, entry) in &state.exchanges {
            if pattern.matches(name)
                && let Ok(shared) = Arc::clone(&entry.shared).downcast::<Shared<M>>()
            {
                shared.attach_with_id(id, Arc::clone(&subscriber));
            }
        }
        state.patterns.push(PatternSubscription {
            id,
            pattern,
            type_id: TypeId::of::<M>(),
            subscriber: Box::new(subscriber),
        });
        Ok(id)
    }
}

impl Detach for Registry {
    /// Detaches a pattern subscription from every exchange and forgets it.
    fn detach(&self, id: SubscriptionId) -> bool {
        let mut state = self.state.lock();
        let before = state.patterns.len();
        state.patterns.retain(|p| p.id != id);
        if state.patterns.len() == before {
            return false;
        }
        for entry in state.exchanges.values() {
            entry.detach.detach(id);
        }
        true
    }
}
