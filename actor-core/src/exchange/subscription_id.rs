//! [`SubscriptionId`]: the identity of one attachment of a subscriber.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identity of one attachment of a subscriber (to an exchange, or to a pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionId(u64);

impl SubscriptionId {
    /// A new id, never given out before in this process.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::SubscriptionId;
    /// assert_ne!(SubscriptionId::next(), SubscriptionId::next());
    /// ```
    #[must_use]
    pub fn next() -> SubscriptionId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SubscriptionId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}
