//! [`SubscriptionGuard`], which detaches its subscriptions when dropped, and [`Detach`], what it
//! calls to do so: an exchange for a plain subscription, the registry for a pattern's.

use std::fmt;
use std::sync::Weak;

use super::subscription_id::SubscriptionId;

/// Detaches a subscription by id; what a [`SubscriptionGuard`] calls on drop.
pub(crate) trait Detach: Send + Sync {
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
    pub(crate) fn new(detach: Weak<dyn Detach>, id: SubscriptionId) -> SubscriptionGuard {
        SubscriptionGuard {
            attachments: vec![(detach, id)],
        }
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
