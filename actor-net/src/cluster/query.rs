//! [`ClusterMsg`], what a member's `cluster` actor answers: how a program or `actor-node
//! members` asks a node, over the network, who is in its cluster.

use std::net::SocketAddr;
use std::sync::Arc;

use actor_core::{Actor, Context, HandlerResult, Reply};
use serde::{Deserialize, Serialize};

use super::identity::NodeId;
use super::member::ClusterMember;
use super::view::View;
use crate::RemoteMessage;

/// The name under which every cluster member exports its [`ClusterMsg`] actor.
pub const CLUSTER: &str = "cluster";

/// What a member's `cluster` actor takes.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use actor_net::cluster::{CLUSTER, ClusterMsg};
/// use actor_net::{Node, Secret};
///
/// let secret = Secret::generate()?;
/// let member = Node::builder(secret.clone()).listen("127.0.0.1:0").join(Vec::<String>::new()).build()?;
/// let client = Node::builder(secret).build()?;
/// let cluster = client.lookup::<ClusterMsg>(member.local_addr().unwrap(), CLUSTER)?;
/// let members = cluster.ask(ClusterMsg::Members, Duration::from_secs(5))?;
/// assert_eq!(members[0].id, member.node_id().unwrap());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ClusterMsg {
    /// Asks for the members as the node sees them: itself first, then the others by address
    /// ([`Node::members`](crate::Node::members)).
    Members(Reply<Vec<ClusterMember>>),
    /// Asks which member owns a name in the cluster, as the node sees it
    /// ([`Node::whereis`](crate::Node::whereis)): its id and address, or `None`.
    Whereis(String, Reply<Option<(NodeId, SocketAddr)>>),
}

/// Declared as `actor.cluster` (version 1); see `PROTOCOL.md`, "Cluster membership".
///
/// # Examples
///
/// ```
/// use actor_net::RemoteMessage;
/// use actor_net::cluster::ClusterMsg;
///
/// assert_eq!((ClusterMsg::NAME, ClusterMsg::VERSION), ("actor.cluster", 1));
/// ```
impl RemoteMessage for ClusterMsg {
    const NAME: &'static str = "actor.cluster";
}

/// Answers [`ClusterMsg`] from the member table.
#[derive(Debug)]
pub(crate) struct ClusterActor {
    pub(crate) view: Arc<View>,
}

impl Actor for ClusterActor {
    type Msg = ClusterMsg;

    fn handle(&mut self, msg: ClusterMsg, _ctx: &mut Context<ClusterMsg>) -> HandlerResult {
        match msg {
            ClusterMsg::Members(reply) => reply.send(self.view.members()),
            ClusterMsg::Whereis(name, reply) => {
                reply.send(self.view.names.read().get(&name).copied())
            }
        }
        Ok(())
    }
}
