//! Exchanges: named pub/sub channels that fan each message out to every attached
//! subscriber.
//!
//! Publishing takes a copy-on-write snapshot of the subscriber list (a read lock held just
//! long enough to clone an `Arc`), so it allocates nothing and holds no lock while it
//! delivers; attaching and detaching copy the list. A publish to an exchange with no
//! subscriber touches one atomic and returns. A subscriber found gone while publishing is
//! detached after the fan-out and reported on `system.subscribers`.
//!
//! This file holds the handle and the fan-out. The state behind the handles (`shared.rs`, over
//! the copy-on-write list of `snapshot.rs`), the system's table of exchanges (`registry.rs`)
//! and the ids and guards they all use sit below it, so that none of them imports this file.

mod pattern;
mod registry;
mod shared;
mod snapshot;
mod subscriber;
mod subscription_guard;
mod subscription_id;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::event::{Events, SystemEvent};

pub use pattern::Pattern;
pub(crate) use registry::Registry;
use shared::{Shared, Subscription};
pub use subscriber::{Delivery, FnSubscriber, Subscriber, from_fn};
pub use subscription_guard::{Detach, SubscriptionGuard};
pub use subscription_id::SubscriptionId;

/// A named, typed channel that delivers each published message to every subscriber
/// attached at that moment.
///
/// Get one from [`System::exchange`](crate::System::exchange); the same name always gives
/// the same exchange. Subscribers are actor refs, crossbeam senders, closures
/// ([`from_fn`]), diagnostic taps ([`tap`](crate::tap)) or any [`Subscriber`].
///
/// - Each subscriber gets a clone of the message (the last one gets the original).
/// - Publishing from many threads at once is safe; each subscriber sees one publisher's
///   messages in that publisher's order.
/// - A subscriber with a bounded mailbox gets the policy of that mailbox: it blocks the
///   publisher, or drops the message (counted per subscription, see
///   [`subscriptions`](Exchange::subscriptions), and reported on `system.dropped`).
/// - A subscriber that is gone is detached and reported on `system.subscribers`; the
///   others still get the message.
///
/// # Examples
///
/// ```
/// use actor_core::{System, tap::Recorder};
///
/// let system = System::new();
/// let orders = system.exchange::<String>("orders")?;
/// let audit = Recorder::new(10);
/// let (tx, rx) = crossbeam_channel::unbounded();
///
/// let guard = orders.subscribe(audit.clone()).and(orders.subscribe(tx));
/// assert_eq!(orders.publish("book".to_string()), 2);
/// drop(guard); // detaches both
/// assert_eq!(orders.publish("lost".to_string()), 0);
///
/// assert_eq!(audit.messages(), ["book"]);
/// assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["book"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Exchange<M> {
    shared: Arc<Shared<M>>,
}

/// What [`Exchange::subscriptions`] reports about one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    /// The subscription.
    pub id: SubscriptionId,
    /// The subscriber's description.
    pub label: String,
    /// Messages this subscriber could not take (a full mailbox that fails or drops).
    pub dropped: u64,
}

impl<M: Clone + Send + 'static> Exchange<M> {
    pub(crate) fn from_shared(shared: Arc<Shared<M>>) -> Exchange<M> {
        Exchange { shared }
    }

    /// The exchange's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let system = actor_core::System::new();
    /// assert_eq!(system.exchange::<u8>("orders.eu")?.name(), "orders.eu");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Attaches `subscriber` until [`detach`](Exchange::detach) is called with the returned
    /// id.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{System, tap::Counter};
    ///
    /// let system = System::new();
    /// let ticks = system.exchange::<u32>("ticks")?;
    /// let counter = Counter::new();
    /// let id = ticks.attach(counter.clone());
    /// ticks.publish(1);
    /// assert!(ticks.detach(id));
    /// ticks.publish(2);
    /// assert_eq!(counter.count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attach(&self, subscriber: impl Subscriber<M>) -> SubscriptionId {
        let id = SubscriptionId::next();
        self.shared.attach_with_id(id, Arc::new(subscriber));
        id
    }

    /// Detaches a subscription; returns `false` if it was not attached (any more).
    ///
    /// # Examples
    ///
    /// See [`attach`](Exchange::attach).
    #[must_use]
    pub fn detach(&self, id: SubscriptionId) -> bool {
        self.shared.detach(id)
    }

    /// Attaches `subscriber` for as long as the returned guard lives: dropping the guard
    /// (also while unwinding from a panic) detaches it. Combine guards with
    /// [`SubscriptionGuard::and`].
    ///
    /// # Examples
    ///
    /// See [`Exchange`].
    pub fn subscribe(&self, subscriber: impl Subscriber<M>) -> SubscriptionGuard {
        let id = self.attach(subscriber);
        let shared: Arc<dyn Detach> = self.shared.clone();
        SubscriptionGuard::new(Arc::downgrade(&shared), id)
    }

    /// Delivers `msg` to every subscriber attached now and returns how many took it.
    ///
    /// # Examples
    ///
    /// See [`Exchange`].
    pub fn publish(&self, msg: M) -> usize {
        if self.shared.subscriptions.is_empty() {
            return 0;
        }
        let subscriptions = self.shared.subscriptions.load();
        let Some((last, rest)) = subscriptions.split_last() else {
            return 0;
        };
        let mut outcome = Fanout::default();
        for subscription in rest {
            self.hand(subscription, msg.clone(), &mut outcome);
        }
        self.hand(last, msg, &mut outcome);
        drop(subscriptions);
        for (id, label) in outcome.gone {
            if self.shared.detach(id) {
                tracing::debug!(exchange = %self.shared.name, subscription = %id, "subscriber gone");
                self.report(|events| {
                    let event = SystemEvent::SubscriberGone {
                        exchange: Arc::clone(&self.shared.name),
                        subscription: id,
                        label,
                    };
                    (&events.subscribers, event)
                });
            }
        }
        outcome.delivered
    }

    /// Publishes the event that `event` builds on the system exchange it picks, unless the system
    /// is gone. A system exchange has no system behind it, so it never reports about itself.
    // A method of the handle rather than of `Shared`: it publishes through another `Exchange`.
    fn report(&self, event: impl FnOnce(&Events) -> (&Exchange<SystemEvent>, SystemEvent)) {
        if let Some(events) = self.shared.events.upgrade() {
            let (exchange, event) = event(&events);
            exchange.publish(event);
        }
    }

    #[inline]
    fn hand(&self, subscription: &Subscription<M>, msg: M, outcome: &mut Fanout) {
        match subscription.subscriber.deliver(&self.shared.name, msg) {
            Delivery::Delivered => outcome.delivered += 1,
            Delivery::Dropped => {
                subscription.dropped.fetch_add(1, Ordering::Relaxed);
                self.report(|events| {
                    let event = SystemEvent::Dropped {
                        actor: None,
                        subscription: Some((Arc::clone(&self.shared.name), subscription.id)),
                        message_type: std::any::type_name::<M>(),
                    };
                    (&events.dropped, event)
                });
            }
            Delivery::Gone => outcome
                .gone
                .push((subscription.id, subscription.subscriber.label())),
        }
    }

    /// The number of subscribers attached now.
    ///
    /// # Examples
    ///
    /// ```
    /// let system = actor_core::System::new();
    /// let news = system.exchange::<String>("news")?;
    /// let (tx, _rx) = crossbeam_channel::unbounded();
    /// let _guard = news.subscribe(tx);
    /// assert_eq!(news.subscriber_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn subscriber_count(&self) -> usize {
        self.shared.subscriptions.load().len()
    }

    /// What each attached subscription is and how many messages it dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Actor, Context, HandlerResult, Mailbox, Overflow, System};
    ///
    /// struct Slow;
    /// impl Actor for Slow {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: u32, _: &mut Context<u32>) -> HandlerResult { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// // Built but never run: its mailbox of 1 fills at once.
    /// let (slow, _runner) = system
    ///     .actor(|| Slow)
    ///     .mailbox(Mailbox::bounded(1, Overflow::DropNewest))
    ///     .build_runner()?;
    /// let feed = system.exchange::<u32>("feed")?;
    /// let id = feed.attach(slow);
    /// for n in 0..3 {
    ///     feed.publish(n);
    /// }
    /// let info = &feed.subscriptions()[0];
    /// assert_eq!((info.id, info.dropped), (id, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn subscriptions(&self) -> Vec<SubscriptionInfo> {
        self.shared
            .subscriptions
            .load()
            .iter()
            .map(|s| SubscriptionInfo {
                id: s.id,
                label: s.subscriber.label(),
                dropped: s.dropped.load(Ordering::Relaxed),
            })
            .collect()
    }
}

#[derive(Default)]
struct Fanout {
    delivered: usize,
    gone: Vec<(SubscriptionId, String)>,
}

impl<M> Clone for Exchange<M> {
    fn clone(&self) -> Self {
        Exchange {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> fmt::Debug for Exchange<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("name", &self.shared.name)
            .field("subscribers", &self.shared.subscriptions.load().len())
            .finish()
    }
}
