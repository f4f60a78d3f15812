//! What a node knows of each member: [`ClusterMember`] and its [`MemberState`], and the
//! exchange on which changes are published.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::identity::NodeId;

/// The exchange on which a node publishes each change of a member's state, as a
/// [`ClusterMember`] carrying the new state.
pub const MEMBERS_EXCHANGE: &str = "cluster.members";

/// A member's state, as this node sees it.
///
/// # Examples
///
/// ```
/// use actor_net::MemberState;
///
/// assert_eq!(MemberState::Suspect.to_string(), "suspect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberState {
    /// Answering probes.
    Up,
    /// Missed its probes; declared down unless it answers within the suspicion timeout.
    Suspect,
    /// Declared down: it failed, or cannot be reached.
    Down,
    /// Left the cluster on purpose (its node shut down).
    Left,
}

impl std::fmt::Display for MemberState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MemberState::Up => "up",
            MemberState::Suspect => "suspect",
            MemberState::Down => "down",
            MemberState::Left => "left",
        })
    }
}

/// A member of the cluster: its id, its address and its state.
///
/// # Examples
///
/// ```
/// use actor_net::{ClusterMember, MemberState, NodeId};
///
/// let member = ClusterMember {
///     id: NodeId::from_u64(1),
///     addr: "127.0.0.1:7000".parse()?,
///     state: MemberState::Up,
/// };
/// assert_eq!(member.to_string(), "0000000000000001 127.0.0.1:7000 up");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterMember {
    /// The member's node id.
    pub id: NodeId,
    /// Where the member listens.
    pub addr: SocketAddr,
    /// Its state as this node sees it.
    pub state: MemberState,
}

/// Shared by every member: a peer subscribes to `cluster.members` typed.
impl crate::RemoteMessage for ClusterMember {
    const NAME: &'static str = "actor.cluster-member";
}

impl std::fmt::Display for ClusterMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.id, self.addr, self.state)
    }
}
