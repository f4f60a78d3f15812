//! The publishing side of remote subscriptions: [`Served`], the subscriptions a peer holds on
//! this node's exchanges (one table per connection), and the outlets that forward matching
//! messages to it as EVENTs.
//!
//! One wire subscription is one pattern subscription of the node's system per shared type
//! ([`Shares`](super::shares::Shares)), each attached with an outlet of the subscription. The
//! outlets of one connection and one kind (a declared identity, or text) form a [`Group`]:
//! when several of its patterns match an exchange, only the first subscribed of them carries
//! the message, and the peer fans it out to every local subscriber whose pattern matches. So
//! each message crosses the wire once per subscribing node.
//!
//! An outlet never blocks the publisher: it queues the EVENT on the connection if the
//! connection's outbound budget has room, and reports a drop otherwise (the exchange counts
//! it for the subscription and publishes it on `system.dropped`). A closed connection makes
//! its outlets gone; the connection's close also detaches every subscription it held and
//! reports each on `system.subscribers`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Debug, Write as _};
use std::marker::PhantomData;
use std::sync::{Arc, Weak};

use actor_core::codec::{Bincode, Codec};
use actor_core::{
    Delivery, Escaped, Pattern, SUBSCRIBERS, SendWait, Subscriber, SubscriptionId, SystemEvent,
};
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use serde::Serialize;

use super::shares::Share;
use crate::message::{self, SubscribeStatus};
use crate::node::{Connection, Refused, Shared};

/// The most subscriptions one connection may hold on this node.
pub const MAX_SUBSCRIPTIONS: usize = 256;

/// The most bytes of `Debug` text an EVENT of a text subscription carries; longer text is cut
/// (at a character boundary) and ends with `…`.
pub const MAX_TEXT: usize = 16 * 1024;

thread_local! {
    /// Where outlets encode a message before they frame it as an EVENT.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The outlets of one connection and one kind; see the module documentation.
#[derive(Default)]
struct Group {
    /// The subscriptions, in the order they were made, with their patterns; and, for each
    /// exchange already seen, the subscription that carries it. Replaced whole.
    state: ArcSwap<GroupState>,
}

#[derive(Default, Clone)]
struct GroupState {
    subs: Vec<(u64, Pattern)>,
    /// Filled as messages are published: the exchanges are the node's own, so it holds at
    /// most one entry per exchange of the shared types that a subscription matches. Emptied
    /// when a subscription comes or goes.
    carrier_of: HashMap<Arc<str>, u64>,
}

impl Group {
    fn add(&self, sub: u64, pattern: Pattern) {
        self.state.rcu(|state| {
            let mut subs = state.subs.clone();
            subs.push((sub, pattern.clone()));
            GroupState {
                subs,
                carrier_of: HashMap::new(),
            }
        });
    }

    fn remove(&self, sub: u64) {
        self.state.rcu(|state| {
            let mut subs = state.subs.clone();
            subs.retain(|(carrier, _)| *carrier != sub);
            GroupState {
                subs,
                carrier_of: HashMap::new(),
            }
        });
    }

    /// The subscription that carries `exchange`: the first made whose pattern matches it.
    /// Matched against every pattern once per exchange, then looked up, so that a peer with
    /// many subscriptions does not make every publish scan them.
    fn carrier(&self, exchange: &str) -> Option<u64> {
        let state = self.state.load();
        if let [(only, _)] = state.subs.as_slice() {
            return Some(*only);
        }
        if let Some(carrier) = state.carrier_of.get(exchange) {
            return Some(*carrier);
        }
        let carrier = state
            .subs
            .iter()
            .find(|(_, pattern)| pattern.matches(exchange))
            .map(|(sub, _)| *sub)?;
        let name: Arc<str> = Arc::from(exchange);
        // Cached only if no subscription came or went meanwhile.
        let mut cached = GroupState::clone(&state);
        cached.carrier_of.insert(name, carrier);
        let _ = self.state.compare_and_swap(&state, Arc::new(cached));
        Some(carrier)
    }
}

/// Where one wire subscription's messages go out.
pub(crate) struct Outlet {
    connection: Weak<Connection>,
    sub: u64,
    group: Arc<Group>,
    label: String,
}

impl Outlet {
    /// The connection, unless it has closed: then the subscription is gone.
    fn live(&self) -> Option<Arc<Connection>> {
        self.connection.upgrade().filter(|c| !c.is_closed())
    }

    /// Whether this subscription carries messages of `exchange` for its group.
    fn carries(&self, exchange: &str) -> bool {
        self.group.carrier(exchange) == Some(self.sub)
    }

    /// Queues `payload` as an EVENT of `exchange`, never waiting.
    fn send(&self, connection: &Connection, exchange: &str, payload: &[u8]) -> Delivery {
        let len = message::event_len(exchange, payload.len());
        if len > connection.max_body() {
            tracing::debug!(exchange = %Escaped(exchange), len, "a published message is too large for a frame");
            return Delivery::Dropped;
        }
        let event = |w: &mut message::Writer<'_>| w.event(self.sub, exchange, payload);
        match connection.send(event, SendWait::Never, false) {
            Ok(()) => Delivery::Delivered,
            Err(Refused::Full | Refused::Timeout | Refused::TooLarge(_)) => Delivery::Dropped,
            Err(Refused::Closed | Refused::Broken(_)) => Delivery::Gone,
        }
    }

    /// Encodes with `encode` into the thread's scratch buffer, then sends.
    fn forward(&self, exchange: &str, encode: impl FnOnce(&mut Vec<u8>) -> bool) -> Delivery {
        let Some(connection) = self.live() else {
            return Delivery::Gone;
        };
        if !self.carries(exchange) {
            return Delivery::Delivered;
        }
        SCRATCH.with(|scratch| {
            let mut payload = scratch.take();
            payload.clear();
            let delivery = if encode(&mut payload) {
                self.send(&connection, exchange, &payload)
            } else {
                Delivery::Dropped
            };
            scratch.replace(payload);
            delivery
        })
    }
}

/// Forwards messages of `M` encoded with the wire codec.
pub(crate) struct TypedOutlet<M> {
    outlet: Arc<Outlet>,
    message: PhantomData<fn(M)>,
}

impl<M> From<Arc<Outlet>> for TypedOutlet<M> {
    fn from(outlet: Arc<Outlet>) -> TypedOutlet<M> {
        TypedOutlet {
            outlet,
            message: PhantomData,
        }
    }
}

impl<M: Serialize + Send + 'static> Subscriber<M> for TypedOutlet<M> {
    fn deliver(&self, exchange: &str, msg: M) -> Delivery {
        self.outlet.forward(exchange, |out| {
            match Bincode::new().encode(&msg, out) {
                Ok(()) => true,
                Err(error) => {
                    tracing::debug!(exchange = %Escaped(exchange), %error, "a published message does not encode");
                    false
                }
            }
        })
    }

    fn label(&self) -> String {
        self.outlet.label.clone()
    }
}

/// Forwards messages of `M` as their `Debug` text, cut to [`MAX_TEXT`] bytes.
pub(crate) struct TextOutlet<M> {
    outlet: Arc<Outlet>,
    message: PhantomData<fn(M)>,
}

impl<M> From<Arc<Outlet>> for TextOutlet<M> {
    fn from(outlet: Arc<Outlet>) -> TextOutlet<M> {
        TextOutlet {
            outlet,
            message: PhantomData,
        }
    }
}

impl<M: Debug + Send + 'static> Subscriber<M> for TextOutlet<M> {
    fn deliver(&self, exchange: &str, msg: M) -> Delivery {
        self.outlet.forward(exchange, |out| {
            let mut text = Capped { out, cut: false };
            // An error only says that the text was cut.
            let _ = write!(text, "{msg:?}");
            if text.cut {
                out.extend_from_slice("…".as_bytes());
            }
            true
        })
    }

    fn label(&self) -> String {
        self.outlet.label.clone()
    }
}

/// Writes text into `out` up to [`MAX_TEXT`] bytes, then fails.
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    cut: bool,
}

impl fmt::Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = MAX_TEXT.saturating_sub(self.out.len());
        if s.len() <= room {
            self.out.extend_from_slice(s.as_bytes());
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.out.extend_from_slice(&s.as_bytes()[..end]);
        self.cut = true;
        Err(fmt::Error)
    }
}

/// The subscriptions one peer holds on this node's exchanges; see the module documentation.
#[derive(Default)]
pub(crate) struct Served {
    state: Mutex<ServedState>,
}

#[derive(Default)]
struct ServedState {
    subs: HashMap<u64, ServedSub>,
    /// By kind: a declared identity, or empty for text.
    groups: HashMap<String, Arc<Group>>,
    /// The connection has closed: nothing more is attached.
    ended: bool,
}

struct ServedSub {
    sub: u64,
    /// One pattern subscription of the system per shared type.
    ids: Vec<SubscriptionId>,
    pattern: String,
    group: Arc<Group>,
    label: String,
}

impl Served {
    /// Attaches the peer's subscription `sub` to the exchanges of `node` matching `pattern`,
    /// for messages declared as `message_type` (empty: every shown type, as text). `Err`
    /// holds the refusal and its detail.
    pub(crate) fn subscribe(
        &self,
        connection: &Arc<Connection>,
        node: &Shared,
        sub: u64,
        pattern: &str,
        message_type: &str,
    ) -> Result<(), (SubscribeStatus, String)> {
        let mut state = self.state.lock();
        if state.ended {
            return Ok(());
        }
        if state.subs.contains_key(&sub) {
            return Err((SubscribeStatus::Duplicate, String::new()));
        }
        if state.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err((
                SubscribeStatus::TooMany,
                format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
            ));
        }
        let Ok(parsed) = Pattern::parse(pattern) else {
            return Err((SubscribeStatus::BadPattern, String::new()));
        };
        let shares: Vec<&Arc<dyn Share>> = if message_type.is_empty() {
            node.shares.shown().collect()
        } else {
            match node.shares.typed(message_type) {
                Some(share) => vec![share],
                None => {
                    return Err((SubscribeStatus::UnknownType, message_type.to_owned()));
                }
            }
        };
        let group = Arc::clone(state.groups.entry(message_type.to_owned()).or_default());
        let label = format!(
            "remote subscription {sub} of {} at {}",
            Escaped(connection.peer_name()),
            connection.peer()
        );
        let outlet = Arc::new(Outlet {
            connection: Arc::downgrade(connection),
            sub,
            group: Arc::clone(&group),
            label: label.clone(),
        });
        group.add(sub, parsed);
        let mut ids = Vec::with_capacity(shares.len());
        for share in shares {
            match share.attach(&node.system, pattern, &outlet) {
                Ok(id) => ids.push(id),
                Err(_) => {
                    group.remove(sub);
                    for id in ids {
                        let _ = node.system.detach_pattern(id);
                    }
                    return Err((SubscribeStatus::BadPattern, String::new()));
                }
            }
        }
        tracing::debug!(peer = %connection.peer(), sub, pattern = %Escaped(pattern), "remote subscription attached");
        state.subs.insert(
            sub,
            ServedSub {
                sub,
                ids,
                pattern: pattern.to_owned(),
                group,
                label,
            },
        );
        Ok(())
    }

    /// Ends the peer's subscription `sub`, if it holds one.
    pub(crate) fn unsubscribe(&self, node: &Shared, sub: u64) {
        let removed = self.state.lock().subs.remove(&sub);
        if let Some(served) = removed {
            served.detach(node);
        }
    }

    /// The connection closed: detaches every subscription it held and reports each on
    /// `system.subscribers`.
    pub(crate) fn end(&self, node: &Shared) {
        let subs = {
            let mut state = self.state.lock();
            state.ended = true;
            state.groups.clear();
            std::mem::take(&mut state.subs)
        };
        if subs.is_empty() {
            return;
        }
        let reports = node.system.exchange::<SystemEvent>(SUBSCRIBERS).ok();
        for (_, served) in subs {
            let first = served.ids.first().copied();
            let pattern: Arc<str> = Arc::from(served.pattern.as_str());
            let label = served.label.clone();
            served.detach(node);
            tracing::info!(pattern = %Escaped(&pattern), label = %label, "remote subscriber lost: detached");
            if let (Some(reports), Some(subscription)) = (&reports, first) {
                reports.publish(SystemEvent::SubscriberGone {
                    exchange: pattern,
                    subscription,
                    label,
                });
            }
        }
    }
}

impl ServedSub {
    fn detach(self, node: &Shared) {
        self.group.remove(self.sub);
        for id in self.ids {
            let _ = node.system.detach_pattern(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        Pattern::parse(text).unwrap()
    }

    #[test]
    fn the_first_matching_subscription_carries_an_exchange() {
        let group = Group::default();
        group.add(7, pattern("orders.>"));
        assert_eq!(group.carrier("anything"), Some(7), "a lone subscription");
        group.add(3, pattern("orders.eu"));
        group.add(9, pattern("trades.*"));
        for _ in 0..2 {
            // Computed, then cached.
            assert_eq!(group.carrier("orders.eu"), Some(7));
            assert_eq!(group.carrier("trades.x"), Some(9));
            assert_eq!(group.carrier("other"), None);
        }
        group.remove(7);
        assert_eq!(group.carrier("orders.eu"), Some(3));
        assert_eq!(group.carrier("orders.us"), None);
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let mut out = Vec::new();
        let long = "é".repeat(MAX_TEXT);
        let mut text = Capped {
            out: &mut out,
            cut: false,
        };
        assert!(write!(text, "{long}").is_err());
        assert!(text.cut);
        assert_eq!(out.len(), MAX_TEXT);
        assert!(std::str::from_utf8(&out).is_ok());
    }
}
