//! [`Node::subscribe_cluster`]: one subscriber for the exchanges matching a pattern on every
//! member of the node's cluster, this one included.
//!
//! A thread per cluster subscription follows `cluster.members`: it subscribes on each member
//! that is up, ends the subscription of a member that goes down or leaves, and, once a
//! second, subscribes again where a subscription is lost (its connection closed) while its
//! member is still up, or where subscribing failed. The local exchanges are subscribed to
//! directly. Dropping the guard stops the thread, which ends every member's subscription.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use actor_core::{Detach, Escaped, Pattern, Subscriber, SubscriptionGuard, SubscriptionId};
use crossbeam_channel::{Receiver, Sender, select};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use super::{decode, subscribe_at};
use crate::cluster::{ClusterError, ClusterMember, MEMBERS_EXCHANGE, MemberState, NodeId};
use crate::error::NetError;
use crate::node::{Node, Shared};
use crate::remote_message::{self, RemoteMessage};

/// How often the thread looks for lost subscriptions of members that are up.
const RETRY: Duration = Duration::from_secs(1);

/// What the guard detaches: it stops the thread.
struct Stop(Mutex<Option<Sender<()>>>);

impl Detach for Stop {
    fn detach(&self, _: SubscriptionId) -> bool {
        self.0.lock().take().is_some()
    }
}

impl Node {
    /// Attaches `subscriber` to the exchanges matching `pattern` on every member of this
    /// node's cluster that is up, this node included, for messages of `M` (which the other
    /// members share, [`NodeBuilder::share`](crate::NodeBuilder::share)): members that come up
    /// later are subscribed to as they appear, and a member whose connection is lost while it
    /// stays up is subscribed to again. Each member's messages reach `subscriber` in the
    /// order that member published them. Dropping the returned guard ends every one of these
    /// subscriptions.
    ///
    /// # Errors
    ///
    /// [`NetError::Cluster`] with [`ClusterError::NotMember`] when the node did not
    /// [`join`](crate::NodeBuilder::join) a cluster; [`NetError::Exchange`] when `pattern`
    /// does not parse; [`NetError::MessageName`] when `M::NAME` breaks the naming rule.
    /// Members that refuse (they do not share `M`) are skipped, and logged.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_net::{Node, RemoteMessage, Secret};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Debug, Clone, Serialize, Deserialize)]
    /// struct Alert(String);
    /// impl RemoteMessage for Alert {
    ///     const NAME: &'static str = "example.alert";
    /// }
    ///
    /// let secret = Secret::generate()?;
    /// let member = |seeds: Vec<String>| {
    ///     Node::builder(secret.clone())
    ///         .listen("127.0.0.1:0")
    ///         .share::<Alert>()
    ///         .join(seeds)
    ///         .build()
    /// };
    /// let first = member(vec![])?;
    /// let second = member(vec![first.local_addr().unwrap().to_string()])?;
    ///
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let _guard = first.subscribe_cluster::<Alert>("alerts.>", tx)?;
    /// // Once `first` has subscribed on `second`, what `second` publishes reaches it.
    /// let alerts = second.system().exchange::<Alert>("alerts.disk")?;
    /// while alerts.subscriber_count() == 0 {
    ///     std::thread::sleep(Duration::from_millis(10));
    /// }
    /// alerts.publish(Alert("full".into()));
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?.0, "full");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_cluster<M>(
        &self,
        pattern: &str,
        subscriber: impl Subscriber<M>,
    ) -> Result<SubscriptionGuard, NetError>
    where
        M: RemoteMessage + DeserializeOwned + Clone + Send + 'static,
    {
        let Some(me) = self.node_id() else {
            return Err(ClusterError::NotMember.into());
        };
        Pattern::parse(pattern)?;
        let kind = remote_message::identity::<M>()?;
        let subscriber: Arc<dyn Subscriber<M>> = Arc::new(subscriber);
        let local = self
            .system()
            .subscribe_pattern::<M>(pattern, Arc::clone(&subscriber))?;
        let (changes, changed) = crossbeam_channel::unbounded();
        let watching = self
            .system()
            .exchange::<ClusterMember>(MEMBERS_EXCHANGE)
            .map_err(|_| ClusterError::MembersExchange)?
            .subscribe(changes);
        let (stop_tx, stop) = crossbeam_channel::bounded(1);
        let stopper = Arc::new(Stop(Mutex::new(Some(stop_tx))));
        let mut follower = Follower {
            node: Arc::downgrade(self.shared()),
            me,
            pattern: pattern.to_owned(),
            kind,
            subscriber,
            up: HashMap::new(),
            guards: HashMap::new(),
            refused: HashSet::new(),
            message: PhantomData,
        };
        for member in self.members() {
            follower.seen(&member);
        }
        let stopping: Arc<dyn Detach> = Arc::clone(&stopper) as Arc<dyn Detach>;
        let guard = SubscriptionGuard::new(Arc::downgrade(&stopping), SubscriptionId::next());
        let handle = std::thread::Builder::new()
            .name("actor-net-cluster-sub".into())
            .spawn(move || {
                // The thread keeps what the guard detaches alive until it ends.
                let _stopper = stopping;
                let _watching = watching;
                follower.run(&changed, &stop);
            })?;
        self.shared().own_thread(handle);
        Ok(local.and(guard))
    }
}

/// The state of one cluster subscription's thread.
struct Follower<M> {
    node: Weak<Shared>,
    me: NodeId,
    pattern: String,
    kind: String,
    subscriber: Arc<dyn Subscriber<M>>,
    /// The members other than this node that are up.
    up: HashMap<NodeId, SocketAddr>,
    /// The subscription on each member that has one.
    guards: HashMap<NodeId, SubscriptionGuard>,
    /// The members that refused the subscription (they do not share the type), not asked
    /// again until they are seen up anew.
    refused: HashSet<NodeId>,
    message: PhantomData<fn(M)>,
}

impl<M: RemoteMessage + DeserializeOwned + Clone + Send + 'static> Follower<M> {
    fn run(&mut self, changed: &Receiver<ClusterMember>, stop: &Receiver<()>) {
        loop {
            select! {
                recv(changed) -> member => match member {
                    Ok(member) => self.seen(&member),
                    Err(_) => return,
                },
                recv(stop) -> _ => return,
                default(RETRY) => {}
            }
            if self
                .node
                .upgrade()
                .is_none_or(|node| node.is_shutting_down())
            {
                return;
            }
            self.retry();
        }
    }

    /// Follows one member's change of state.
    fn seen(&mut self, member: &ClusterMember) {
        if member.id == self.me {
            return;
        }
        self.refused.remove(&member.id);
        if member.state == MemberState::Up {
            self.up.insert(member.id, member.addr);
            if !self.guards.contains_key(&member.id) {
                self.subscribe(member.id, member.addr);
            }
        } else if matches!(member.state, MemberState::Down | MemberState::Left) {
            self.up.remove(&member.id);
            self.guards.remove(&member.id);
        }
    }

    /// Subscribes again on every member that is up and has no live subscription.
    fn retry(&mut self) {
        self.guards.retain(|_, guard| guard.is_attached());
        let missing: Vec<(NodeId, SocketAddr)> = self
            .up
            .iter()
            .filter(|(id, _)| !self.guards.contains_key(id) && !self.refused.contains(id))
            .map(|(id, addr)| (*id, *addr))
            .collect();
        for (id, addr) in missing {
            self.subscribe(id, addr);
        }
    }

    fn subscribe(&mut self, id: NodeId, addr: SocketAddr) {
        let Some(node) = self.node.upgrade() else {
            return;
        };
        let shared = Box::new(Arc::clone(&self.subscriber));
        match subscribe_at(&node, addr, &self.pattern, &self.kind, decode::<M>, shared) {
            Ok(guard) => {
                self.guards.insert(id, guard);
            }
            Err(error @ NetError::Subscribe { .. }) => {
                tracing::info!(member = %id, %addr, pattern = %Escaped(&self.pattern), %error, "a member refused a cluster subscription");
                self.refused.insert(id);
            }
            Err(error) => {
                tracing::debug!(member = %id, %addr, pattern = %Escaped(&self.pattern), %error, "a cluster subscription failed; retrying");
            }
        }
    }
}
