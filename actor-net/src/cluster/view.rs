//! [`View`]: the member table as the node and its `cluster` actor read it, kept by the
//! membership thread.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use parking_lot::RwLock;

use super::identity::{Identity, NodeId};
use super::member::{ClusterMember, MemberState};

/// This node's identity and what it knows of the others.
#[derive(Debug)]
pub(crate) struct View {
    pub(crate) identity: Identity,
    /// The latest identity and state of each member other than this node.
    pub(crate) others: RwLock<HashMap<NodeId, (Identity, MemberState)>>,
    /// The owner of each name exported in the cluster (`names.rs`).
    pub(crate) names: RwLock<BTreeMap<String, (NodeId, SocketAddr)>>,
}

impl View {
    pub(crate) fn new(identity: Identity) -> View {
        View {
            identity,
            others: RwLock::new(HashMap::new()),
            names: RwLock::new(BTreeMap::new()),
        }
    }

    /// Every member, this node first (up), then the others by address.
    pub(crate) fn members(&self) -> Vec<ClusterMember> {
        let mut others: Vec<ClusterMember> = self
            .others
            .read()
            .iter()
            .map(|(id, (identity, state))| ClusterMember {
                id: *id,
                addr: identity.addr,
                state: *state,
            })
            .collect();
        others.sort_by_key(|member| (member.addr, member.id));
        let mut members = Vec::with_capacity(others.len() + 1);
        members.push(ClusterMember {
            id: self.identity.id,
            addr: self.identity.addr,
            state: MemberState::Up,
        });
        members.extend(others);
        members
    }
}
