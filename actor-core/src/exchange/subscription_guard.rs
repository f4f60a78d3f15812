//! [`SubscriptionGuard`], which detaches its subscriptions when dropped, and [`Detach`], what it
//! calls to do so: an exchange for a plain subscription, the registry for a pattern's.

use std::fmt;
use std::sync::Weak;

use super::subscription_id::SubscriptionId;

/// Detaches a subscription by id; what a [`SubscriptionGuard`] calls on drop.
///
/// Exchanges and the system's pattern table implement it. Implement it to hand out guards for
/// subscriptions kept somewhere else (a remote node's exchanges, for instance), so that they
/// combine with [`SubscriptionGuard::and`] like any other.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use actor_core::{Detach, SubscriptionGuard, SubscriptionId};
///
/// #[derive(Default)]
/// struct Table(Mutex<Vec<SubscriptionId>>);
/// impl Detach for Table {
///     fn detach(&self, id: SubscriptionId) -> bool {
///         let mut ids = self.0.lock().unwrap();
///         let before = ids.len();
///         ids.retain(|kept| *kept != id);
///         ids.len() < before
///     }
/// }
///
/// let table = Arc::new(Table::default());
/// let id = SubscriptionId::next();
/// table.0.lock().unwrap().push(id);
/// let as_detach: Arc<dyn Detach> = table.clone();
/// drop(SubscriptionGuard::new(Arc::downgrade(&as_detach), id));
/// assert!(table.0.lock().unwrap().is_empty());
/// ```
pub trait Detach: Send + Sync {
    /// Detaches the subscription `id`; returns `false` if it was not attached (any more).
    fn detach(&self, id: SubscriptionId) -> bool;
}

/// Keeps subscriptions attached while it lives; dropping it (also while unwinding from a
/// panic) detaches them all.
///
/// # Examples
///
/// See [`Exchange`](crate::Exchange).
#[must_use = "dropping the guard detaches its subscriptions at once"]
pub struct SubscriptionGuard {
    attachments: Vec<(Weak<dyn Detach>, SubscriptionId)>,
}

impl SubscriptionGuard {
    /// A guard that calls `detach` for `id` when dropped, if `detach` is still alive then.
    ///
    /// # Examples
    ///
    /// See [`Detach`].
    pub fn new(detach: Weak<dyn Detach>, id: SubscriptionId) -> SubscriptionGuard {
        SubscriptionGuard {
            attachments: vec![(detach, id)],
        }
    }

    /// Whether everything this guard's subscriptions are attached to still exists: `false`
    /// once one of them is gone (a remote subscription whose connection closed, for
    /// instance), after which that subscription delivers nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// let system = actor_core::System::new();
    /// let (tx, _rx) = crossbeam_channel::unbounded::<u8>();
    /// let guard = system.exchange::<u8>("ticks")?.subscribe(tx);
    /// assert!(guard.is_attached());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_attached(&self) -> bool {
        self.attachments
            .iter()
            .all(|(detach, _)| detach.strong_count() > 0)
    }

    /// Joins another guard's subscriptions to this one, to be detached together.
    ///
    /// # Examples
    ///
    /// See [`Exchange`](crate::Exchange).
    pub fn and(mut self, mut other: SubscriptionGuard) -> SubscriptionGuard {
        self.attachments.append(&mut other.attachments);
        self
    }

    /// The subscriptions this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let system = actor_core::System::new();
    /// let news = system.exchange::<String>("news")?;
    /// let (tx, _rx) = crossbeam_channel::unbounded();
    /// let guard = news.subscribe(tx);
    /// assert_eq!(guard.ids().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn ids(&self) -> Vec<SubscriptionId> {
        self.attachments.iter().map(|(_, id)| *id).collect()
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        for (detach, id) in self.attachments.drain(..) {
            if let Some(detach) = detach.upgrade() {
                detach.detach(id);
            }
        }
    }
}

impl fmt::Debug for SubscriptionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionGuard")
            .field("ids", &self.ids())
            .finish()
    }
}
