//! Exchanges across nodes: a node subscribes, with any local subscriber, to the exchanges of
//! another node whose names match a pattern; a diagnostic tap sees them as `Debug` text.
//!
//! - **What a node shares.** A node lets its peers subscribe to the exchanges of the message
//!   types it shares ([`NodeBuilder::share`], typed and as text; [`NodeBuilder::show`], as
//!   text only), and of its own events: every `system.*` exchange as text, and `system.net`
//!   ([`NetEvent`](crate::NetEvent)), `cluster.members` and `cluster.names` typed as well.
//!   Exchanges of other types are not visible from the network.
//! - **Subscribing.** [`Node::subscribe`] attaches a local subscriber (an actor ref, a channel,
//!   a closure, a tap) to the exchanges of a remote node matching a pattern, for a message type
//!   both sides declare with [`RemoteMessage`]. [`Node::subscribe_text`] does the same for the
//!   `Debug` text of every type the remote node shows, as a tap does. The returned
//!   [`SubscriptionGuard`] ends the subscription, across the wire, when dropped.
//! - **Once per node.** Local subscribers of one pattern share one wire subscription; the
//!   publishing node sends each matching message once per subscribing node and kind (typed or
//!   text), even when several of its patterns match, and the subscribing node fans it out
//!   (`pubsub/outlet.rs`, `pubsub/feed.rs`). Each subscriber sees one publisher's messages in
//!   the order that publisher published them.
//! - **Flow.** The publishing node never blocks on a remote subscriber: a message that finds
//!   the connection's outbound queue full is dropped, counted for that subscription in
//!   [`Exchange::subscriptions`](actor_core::Exchange::subscriptions) and reported on
//!   `system.dropped`. On the subscribing node, messages are fanned out on the connection's
//!   reader thread, so a local subscriber that blocks holds up that connection.
//! - **Loss.** When the connection closes, the publishing node detaches the subscriptions it
//!   served on it and reports each on `system.subscribers`; the subscribing node drops its
//!   local subscribers of that connection (a channel subscriber sees its channel
//!   disconnected) and publishes the loss on `system.net`. A subscription made with
//!   [`Node::subscribe`] does not outlive its connection: its guard's
//!   [`is_attached`](SubscriptionGuard::is_attached) turns `false`, and the program subscribes
//!   again when it wants to. One made with [`Node::subscribe_cluster`] is made again by the
//!   node while the member stays up.
//!
//! The wire messages (SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT) and their limits
//! are in `PROTOCOL.md`.

mod cluster;
mod feed;
mod outlet;
mod shares;

use std::fmt::Debug;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use actor_core::{Subscriber, SubscriptionGuard};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use feed::Feeds;
pub(crate) use outlet::Served;
pub use outlet::{MAX_SUBSCRIPTIONS, MAX_TEXT};
pub(crate) use shares::Shares;

use crate::error::NetError;
use crate::node::{Node, NodeBuilder, Shared, resolve};
use crate::remote_message::{self, RemoteMessage};

/// Why a node refused a subscription; inside [`NetError::Subscribe`].
///
/// # Examples
///
/// ```
/// use actor_net::SubscribeError;
///
/// let error = SubscribeError::UnknownType("myapp.order@1".into());
/// assert!(error.to_string().contains("myapp.order@1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The node shares no message type declared with this identity (`NAME@VERSION`).
    #[error("the node shares no message type declared as {0:?}")]
    UnknownType(String),
    /// The node found the pattern invalid.
    #[error("the node refused the pattern as invalid")]
    BadPattern,
    /// The connection holds as many subscriptions as the node allows
    /// ([`MAX_SUBSCRIPTIONS`]).
    #[error("the connection holds as many subscriptions as the node allows")]
    TooMany,
    /// The node already had a subscription with the id this node chose: a broken peer.
    #[error("the node refused the subscription id as already in use")]
    Duplicate,
}

impl NodeBuilder {
    /// Lets peers subscribe to this node's exchanges of `M` ([`Node::subscribe`] with the same
    /// declared identity), and shows them to taps as `Debug` text ([`Node::subscribe_text`]).
    /// Any authenticated peer may subscribe.
    ///
    /// # Errors
    ///
    /// [`build`](NodeBuilder::build) fails with [`NetError::MessageName`] when `M::NAME`
    /// breaks the naming rule of [`RemoteMessage`].
    ///
    /// # Examples
    ///
    /// See [`Node::subscribe`].
    #[must_use]
    pub fn share<M>(mut self) -> Self
    where
        M: RemoteMessage + Serialize + Debug + Clone + Send + 'static,
    {
        if let Err(error) = self.shares.share::<M>() {
            self.share_error.get_or_insert(error);
        }
        self
    }

    /// Shows this node's exchanges of `M` to taps, as `Debug` text
    /// ([`Node::subscribe_text`], `actor-node tap`), without sharing the type itself.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_net::{Node, Secret};
    /// #[derive(Debug, Clone)]
    /// struct Reading(f64);
    ///
    /// let node = Node::builder(Secret::generate()?).show::<Reading>().build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn show<M: Debug + Clone + Send + 'static>(mut self) -> Self {
        self.shares.show::<M>();
        self
    }
}

impl Node {
    /// Attaches `subscriber` to the exchanges of the node at `addr` whose names match
    /// `pattern` (`orders.>`, `prices.*`, or one exchange's name), for messages of `M`, which
    /// that node shares ([`NodeBuilder::share`]) under the same declared identity. Blocks until
    /// the node has attached the subscription (at most the request timeout); messages
    /// published from then on reach `subscriber`, with the name of their exchange.
    ///
    /// Dropping the returned guard ends the subscription: the remote node stops sending once
    /// no local subscriber of this node needs the pattern. See the [module
    /// documentation](self) for what crosses the wire and what happens when it is lost.
    ///
    /// # Errors
    ///
    /// [`NetError::Exchange`] when `pattern` does not parse; [`NetError::Subscribe`] when the
    /// node refuses (it does not share the type, for instance); the connection's errors
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_net::{Node, RemoteMessage, Secret};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Debug, Clone, Serialize, Deserialize)]
    /// struct Order(u32);
    /// impl RemoteMessage for Order {
    ///     const NAME: &'static str = "example.order";
    /// }
    ///
    /// let secret = Secret::generate()?;
    /// let shop = Node::builder(secret.clone()).listen("127.0.0.1:0").share::<Order>().build()?;
    /// let audit = Node::builder(secret).build()?;
    ///
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let guard = audit.subscribe::<Order>(shop.local_addr().unwrap(), "orders.>", tx)?;
    /// shop.system().exchange::<Order>("orders.eu")?.publish(Order(7));
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?.0, 7);
    /// drop(guard); // the shop stops sending
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe<M>(
        &self,
        addr: impl ToSocketAddrs + Debug,
        pattern: &str,
        subscriber: impl Subscriber<M>,
    ) -> Result<SubscriptionGuard, NetError>
    where
        M: RemoteMessage + DeserializeOwned + Clone + Send + 'static,
    {
        let identity = remote_message::identity::<M>()?;
        self.subscribe_kind(addr, pattern, &identity, decode::<M>, Box::new(subscriber))
    }

    /// Attaches `subscriber` to the `Debug` text of every message published on the exchanges
    /// of the node at `addr` whose names match `pattern`, whatever their types, as long as that
    /// node shows them (its own `system.*` events always; see [`NodeBuilder::show`]). This is
    /// what `actor-node tap` prints. Text longer than [`MAX_TEXT`] bytes arrives cut, ending
    /// with `…`.
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Node::subscribe).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_net::{Node, Secret};
    ///
    /// let secret = Secret::generate()?;
    /// let server = Node::builder(secret.clone()).listen("127.0.0.1:0").build()?;
    /// let addr = server.local_addr().unwrap();
    /// let tap = Node::builder(secret.clone()).build()?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let _guard = tap.subscribe_text(addr, "system.>", tx)?;
    ///
    /// // Another peer comes and goes: the tap sees it on the server's `system.net`.
    /// # #[derive(serde::Serialize)]
    /// # struct Nothing;
    /// # impl actor_net::RemoteMessage for Nothing { const NAME: &'static str = "nothing"; }
    /// let visitor = Node::builder(secret).name("visitor").build()?;
    /// let _ = visitor.lookup::<Nothing>(addr, "nothing");
    /// let text = rx.recv_timeout(Duration::from_secs(5))?;
    /// assert!(text.starts_with("Connected"), "{text}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_text(
        &self,
        addr: impl ToSocketAddrs + Debug,
        pattern: &str,
        subscriber: impl Subscriber<String>,
    ) -> Result<SubscriptionGuard, NetError> {
        self.subscribe_kind(addr, pattern, "", decode_text, Box::new(subscriber))
    }

    fn subscribe_kind<M: Clone + Send + 'static>(
        &self,
        addr: impl ToSocketAddrs + Debug,
        pattern: &str,
        kind: &str,
        decode: fn(&[u8]) -> Option<M>,
        subscriber: Box<dyn Subscriber<M>>,
    ) -> Result<SubscriptionGuard, NetError> {
        actor_core::Pattern::parse(pattern)?;
        subscribe_at(
            self.shared(),
            resolve(addr)?,
            pattern,
            kind,
            decode,
            subscriber,
        )
    }
}

/// Subscribes to the exchanges of the node at `addr` matching `pattern`, for messages of
/// `kind` (an identity, or empty for text) that `decode` turns into `M`.
fn subscribe_at<M: Clone + Send + 'static>(
    shared: &Arc<Shared>,
    addr: SocketAddr,
    pattern: &str,
    kind: &str,
    decode: fn(&[u8]) -> Option<M>,
    subscriber: Box<dyn Subscriber<M>>,
) -> Result<SubscriptionGuard, NetError> {
    let connection = shared.connect(addr)?;
    let deadline = Instant::now()
        .checked_add(shared.config.request_timeout)
        .unwrap_or_else(Instant::now);
    let lost = NetError::ConnectionLost { peer: addr };
    let feed = connection
        .feeds()
        .feed(&connection, kind, decode)
        .ok_or(lost)?;
    feed.add(&connection, pattern, subscriber, deadline)
}

fn decode<M: DeserializeOwned>(payload: &[u8]) -> Option<M> {
    use actor_core::codec::{Bincode, Codec};
    Bincode::new().decode(payload).ok()
}

fn decode_text(payload: &[u8]) -> Option<String> {
    std::str::from_utf8(payload).ok().map(str::to_owned)
}
