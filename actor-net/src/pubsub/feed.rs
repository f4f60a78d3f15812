//! The subscribing side of remote subscriptions: [`Feeds`], what this node receives from one
//! peer's exchanges (one table per connection), and each [`Feed`], which decodes an EVENT once
//! and fans it out to the local subscribers whose pattern matches its exchange.
//!
//! A feed exists per connection and kind (a declared identity, or text). It holds one wire
//! subscription per distinct pattern, shared by every local subscriber of that pattern, so
//! that four local subscribers cost the peer one EVENT. The peer sends each message once per
//! kind even when several patterns match (see `outlet.rs`), so a feed hands every EVENT, of
//! whichever of its subscriptions, to every local subscriber whose pattern matches.
//!
//! An EVENT is fanned out on the connection's reader thread: a local subscriber that blocks
//! (an actor whose bounded mailbox blocks) holds the reader, TCP pushes back on the peer, and
//! the peer's outlets drop what finds its queue to this node full.
//!
//! When the connection closes, every feed of it is dropped, with its subscribers: a channel
//! subscriber's receiver sees the channel disconnected.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use actor_core::{
    Delivery, Detach, Escaped, Pattern, SUBSCRIBERS, SendWait, Subscriber, SubscriptionGuard,
    SubscriptionId, SystemEvent,
};
use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use super::SubscribeError;
use crate::error::NetError;
use crate::message::SubscribeStatus;
use crate::node::Connection;

/// What a SUBSCRIBED said.
type Answer = Result<(), (SubscribeStatus, String)>;

/// Where the reader hands an EVENT.
pub(crate) trait Sink: Send + Sync {
    fn deliver(&self, exchange: &str, payload: &[u8]);
}

/// The feeds of one connection; see the module documentation.
#[derive(Default)]
pub(crate) struct Feeds {
    /// Every subscription this node made on the connection and the peer has not ended, to
    /// its feed. Read (without a lock) for each EVENT.
    by_sub: ArcSwap<HashMap<u64, Arc<dyn Sink>>>,
    /// Each feed, by kind and Rust type: an `Arc<Feed<M>>`.
    feeds: Mutex<HashMap<(String, TypeId), Arc<dyn Any + Send + Sync>>>,
    /// Subscriptions waiting for their SUBSCRIBED.
    answers: Mutex<HashMap<u64, Sender<Answer>>>,
    next_sub: AtomicU64,
    ended: AtomicBool,
}

impl Feeds {
    /// The feed of `kind` for messages of `M`, made if it does not exist; `None` once the
    /// connection has closed.
    pub(crate) fn feed<M: Clone + Send + 'static>(
        &self,
        connection: &Arc<Connection>,
        kind: &str,
        decode: fn(&[u8]) -> Option<M>,
    ) -> Option<Arc<Feed<M>>> {
        let mut feeds = self.feeds.lock();
        if self.ended.load(Ordering::SeqCst) {
            return None;
        }
        let key = (kind.to_owned(), TypeId::of::<M>());
        let feed = feeds.entry(key).or_insert_with(|| {
            Arc::new(Feed {
                connection: Arc::downgrade(connection),
                kind: kind.to_owned(),
                decode,
                locals: ArcSwap::default(),
                wire: Mutex::default(),
                subscribing: Mutex::new(()),
            })
        });
        Arc::clone(feed).downcast::<Feed<M>>().ok()
    }

    /// Registers the new subscription `sub` of `sink`, whose SUBSCRIBED the returned channel
    /// will carry.
    fn register(&self, sub: u64, sink: Arc<dyn Sink>) -> Receiver<Answer> {
        let (answer, answered) = crossbeam_channel::bounded(1);
        self.answers.lock().insert(sub, answer);
        self.by_sub.rcu(|by_sub| {
            let mut by_sub = HashMap::clone(by_sub);
            by_sub.insert(sub, Arc::clone(&sink));
            by_sub
        });
        answered
    }

    /// Forgets the subscription `sub`: no EVENT of it is handed on any more.
    fn forget(&self, sub: u64) {
        self.answers.lock().remove(&sub);
        if self.by_sub.load().contains_key(&sub) {
            self.by_sub.rcu(|by_sub| {
                let mut by_sub = HashMap::clone(by_sub);
                by_sub.remove(&sub);
                by_sub
            });
        }
    }

    /// The peer's SUBSCRIBED for `sub`.
    pub(crate) fn answered(&self, sub: u64, status: SubscribeStatus, detail: &str) {
        let waiting = self.answers.lock().remove(&sub);
        if let Some(waiting) = waiting {
            let answer = match status {
                SubscribeStatus::Ok => Ok(()),
                refused => Err((refused, detail.to_owned())),
            };
            let _ = waiting.try_send(answer);
        }
    }

    /// The peer's UNSUBSCRIBED for `sub`: no EVENT of it follows.
    pub(crate) fn unsubscribed(&self, sub: u64) {
        self.forget(sub);
    }

    /// The peer's EVENT of `sub`; one of a subscription this node does not hold (any more) is
    /// ignored.
    pub(crate) fn event(&self, sub: u64, exchange: &str, payload: &[u8]) {
        if let Some(sink) = self.by_sub.load().get(&sub) {
            sink.deliver(exchange, payload);
        }
    }

    /// The connection closed: drops every feed, with its subscribers.
    pub(crate) fn end(&self) {
        let feeds = {
            let mut feeds = self.feeds.lock();
            self.ended.store(true, Ordering::SeqCst);
            std::mem::take(&mut *feeds)
        };
        self.answers.lock().clear();
        self.by_sub.store(Arc::default());
        drop(feeds);
    }
}

/// One local subscriber of a feed.
struct Local<M> {
    id: SubscriptionId,
    pattern: Pattern,
    /// As given, the key of its wire subscription.
    text: String,
    subscriber: Box<dyn Subscriber<M>>,
}

/// Wire subscriptions by pattern: the subscription's id and how many local subscribers use it.
type Wire = HashMap<String, (u64, usize)>;

/// What one connection brings of one kind; see the module documentation.
pub(crate) struct Feed<M> {
    connection: Weak<Connection>,
    /// The declared identity of `M`, or empty for text.
    kind: String,
    decode: fn(&[u8]) -> Option<M>,
    /// Replaced whole, under the `wire` lock, when a subscriber comes or goes.
    locals: ArcSwap<Vec<Arc<Local<M>>>>,
    wire: Mutex<Wire>,
    /// Held across a SUBSCRIBE and its answer, so that two local subscribers of one new
    /// pattern make one wire subscription. The reader never takes it.
    subscribing: Mutex<()>,
}

impl<M: Clone + Send + 'static> Feed<M> {
    /// Adds `subscriber` for `pattern`, subscribing on the wire if no local subscriber of the
    /// feed has that pattern yet (waiting for the answer until `deadline`).
    pub(crate) fn add(
        self: &Arc<Self>,
        connection: &Arc<Connection>,
        pattern: &str,
        subscriber: Box<dyn Subscriber<M>>,
        deadline: Instant,
    ) -> Result<SubscriptionGuard, NetError> {
        let parsed = Pattern::parse(pattern)?;
        let _one_at_a_time = self.subscribing.lock();
        let id = SubscriptionId::next();
        let local = Arc::new(Local {
            id,
            pattern: parsed,
            text: pattern.to_owned(),
            subscriber,
        });
        // The subscriber is in place before the peer attaches the subscription, so that
        // whatever the peer sends once it has attached reaches it.
        let on_the_wire = {
            let mut wire = self.wire.lock();
            let mut locals = Vec::clone(&self.locals.load());
            locals.push(local);
            self.locals.store(Arc::new(locals));
            match wire.get_mut(pattern) {
                Some((_, users)) => {
                    *users += 1;
                    true
                }
                None => false,
            }
        };
        if !on_the_wire {
            let sub = match self.subscribe(connection, pattern, deadline) {
                Ok(sub) => sub,
                Err(error) => {
                    self.remove(id);
                    return Err(error);
                }
            };
            let mut wire = self.wire.lock();
            if self.locals.load().iter().any(|local| local.id == id) {
                wire.insert(pattern.to_owned(), (sub, 1));
            } else {
                // Gone meanwhile (its subscriber said so): nobody needs the subscription.
                connection.send_forced(|w| w.unsubscribe(sub));
            }
        }
        let detach: Arc<dyn Detach> = Arc::clone(self) as Arc<dyn Detach>;
        Ok(SubscriptionGuard::new(Arc::downgrade(&detach), id))
    }

    /// Sends a SUBSCRIBE for `pattern` and waits for its answer; returns the subscription.
    fn subscribe(
        self: &Arc<Self>,
        connection: &Arc<Connection>,
        pattern: &str,
        deadline: Instant,
    ) -> Result<u64, NetError> {
        let feeds = connection.feeds();
        let sub = feeds.next_sub.fetch_add(1, Ordering::Relaxed);
        let sink: Arc<dyn Sink> = Arc::clone(self) as Arc<dyn Sink>;
        let answered = feeds.register(sub, sink);
        let peer = connection.peer();
        let lost = || NetError::ConnectionLost { peer };
        if connection
            .send(
                |w| w.subscribe(sub, pattern, &self.kind),
                SendWait::Until(deadline),
                true,
            )
            .is_err()
        {
            feeds.forget(sub);
            return Err(lost());
        }
        match answered.recv_deadline(deadline) {
            Ok(Ok(())) => Ok(sub),
            Ok(Err((status, detail))) => {
                feeds.forget(sub);
                let reason = match status {
                    SubscribeStatus::UnknownType => SubscribeError::UnknownType(detail),
                    SubscribeStatus::BadPattern => SubscribeError::BadPattern,
                    SubscribeStatus::TooMany => SubscribeError::TooMany,
                    SubscribeStatus::Duplicate | SubscribeStatus::Ok => SubscribeError::Duplicate,
                };
                Err(NetError::Subscribe {
                    peer,
                    pattern: pattern.to_owned(),
                    reason,
                })
            }
            Err(RecvTimeoutError::Timeout) => {
                // It may be attached yet: end it, and keep taking its EVENTs until the peer
                // says it has ended.
                feeds.answers.lock().remove(&sub);
                connection.send_forced(|w| w.unsubscribe(sub));
                Err(NetError::Timeout { peer })
            }
            Err(RecvTimeoutError::Disconnected) => Err(lost()),
        }
    }

    /// Removes the local subscriber `id`; ends its wire subscription if it was the last of
    /// its pattern. Returns it, or `None` if it was not there.
    fn remove(&self, id: SubscriptionId) -> Option<Arc<Local<M>>> {
        let mut wire = self.wire.lock();
        let mut locals = Vec::clone(&self.locals.load());
        let at = locals.iter().position(|local| local.id == id)?;
        let local = locals.remove(at);
        self.locals.store(Arc::new(locals));
        if let Some((sub, users)) = wire.get_mut(&local.text) {
            *users -= 1;
            if *users == 0 {
                let sub = *sub;
                wire.remove(&local.text);
                if let Some(connection) = self.connection.upgrade() {
                    connection.send_forced(|w| w.unsubscribe(sub));
                }
            }
        }
        Some(local)
    }

    /// Reports on this node's `system.subscribers` that a local subscriber is gone.
    fn report_gone(&self, exchange: &str, local: &Local<M>) {
        let Some(node) = self.connection.upgrade().and_then(|c| c.node()) else {
            return;
        };
        if let Ok(reports) = node.system.exchange::<SystemEvent>(SUBSCRIBERS) {
            reports.publish(SystemEvent::SubscriberGone {
                exchange: Arc::from(exchange),
                subscription: local.id,
                label: local.subscriber.label(),
            });
        }
    }
}

impl<M: Clone + Send + 'static> Sink for Feed<M> {
    fn deliver(&self, exchange: &str, payload: &[u8]) {
        let locals = self.locals.load();
        let Some(last) = locals
            .iter()
            .rposition(|local| local.pattern.matches(exchange))
        else {
            return;
        };
        let Some(msg) = (self.decode)(payload) else {
            tracing::debug!(exchange = %Escaped(exchange), "an EVENT does not decode: ignored");
            return;
        };
        let mut gone = Vec::new();
        for local in &locals[..last] {
            if local.pattern.matches(exchange)
                && local.subscriber.deliver(exchange, msg.clone()) == Delivery::Gone
            {
                gone.push(local.id);
            }
        }
        if locals[last].subscriber.deliver(exchange, msg) == Delivery::Gone {
            gone.push(locals[last].id);
        }
        drop(locals);
        for id in gone {
            if let Some(local) = self.remove(id) {
                self.report_gone(exchange, &local);
            }
        }
    }
}

impl<M: Clone + Send + 'static> Detach for Feed<M> {
    fn detach(&self, id: SubscriptionId) -> bool {
        self.remove(id).is_some()
    }
}
