//! [`NodeId`], a node's stable name in a cluster, and [`Identity`], what the membership
//! protocol calls a member: the id, the address, when the process started and how many times
//! it has rejoined.

use std::fmt;
use std::net::SocketAddr;

/// A node's id in a cluster: 64 random bits drawn when the node starts, shown as 16 hex
/// digits. A restarted process gets a new id, even on the same address.
///
/// # Examples
///
/// ```
/// use actor_net::NodeId;
///
/// let id = NodeId::from_u64(0x2a);
/// assert_eq!(id.to_string(), "000000000000002a");
/// assert_eq!("000000000000002a".parse::<NodeId>(), Ok(id));
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct NodeId(u64);

impl NodeId {
    /// The id whose bits are `bits`.
    ///
    /// # Examples
    ///
    /// See [`NodeId`].
    #[must_use]
    pub const fn from_u64(bits: u64) -> NodeId {
        NodeId(bits)
    }

    /// The id's bits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_net::NodeId::from_u64(7).as_u64(), 7);
    /// ```
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a text is not a [`NodeId`].
///
/// # Examples
///
/// ```
/// use actor_net::{NodeId, ParseNodeIdError};
///
/// assert_eq!("xyz".parse::<NodeId>(), Err(ParseNodeIdError));
/// assert_eq!(ParseNodeIdError.to_string(), "a node id is 16 hex digits");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a node id is 16 hex digits")]
pub struct ParseNodeIdError;

impl std::str::FromStr for NodeId {
    type Err = ParseNodeIdError;

    fn from_str(text: &str) -> Result<NodeId, ParseNodeIdError> {
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseNodeIdError);
        }
        u64::from_str_radix(text, 16)
            .map(NodeId)
            .map_err(|_| ParseNodeIdError)
    }
}

/// A member as the membership protocol sees it (PROTOCOL.md, "Cluster membership").
///
/// Two identities with the same address are the same process if every field is equal; when
/// they differ, the one that started later wins the address (a restart), then the one that
/// rejoined more often (the same process, back after it was declared down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The member's node id.
    pub id: NodeId,
    /// Where the member listens, for TCP connections and membership datagrams alike.
    pub addr: SocketAddr,
    /// When the member's process started its membership, in milliseconds since 1970.
    pub started_ms: u64,
    /// How many times the member has rejoined after it was declared down.
    pub rejoins: u16,
}

impl foca::Identity for Identity {
    type Addr = SocketAddr;

    fn renew(&self) -> Option<Self> {
        Some(Identity {
            rejoins: self.rejoins.wrapping_add(1),
            ..*self
        })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        (self.started_ms, self.rejoins, self.id)
            > (adversary.started_ms, adversary.rejoins, adversary.id)
    }
}

#[cfg(test)]
mod tests {
    use foca::Identity as _;

    use super::*;

    fn identity(id: u64, started_ms: u64, rejoins: u16) -> Identity {
        Identity {
            id: NodeId(id),
            addr: "127.0.0.1:7000".parse().unwrap(),
            started_ms,
            rejoins,
        }
    }

    #[test]
    fn a_restart_wins_the_address_then_a_rejoin() {
        assert!(identity(1, 20, 0).win_addr_conflict(&identity(2, 10, 5)));
        assert!(identity(1, 10, 1).win_addr_conflict(&identity(1, 10, 0)));
        assert!(!identity(1, 10, 0).win_addr_conflict(&identity(1, 10, 1)));
        let renewed = identity(1, 10, 0).renew().unwrap();
        assert_eq!((renewed.id, renewed.rejoins), (NodeId(1), 1));
    }

    #[test]
    fn ids_parse_only_from_16_hex_digits() {
        assert_eq!("00000000000000ff".parse(), Ok(NodeId(255)));
        assert_eq!("ff".parse::<NodeId>(), Err(ParseNodeIdError));
        assert_eq!("+0000000000000ff".parse::<NodeId>(), Err(ParseNodeIdError));
        assert_eq!("000000000000000g".parse::<NodeId>(), Err(ParseNodeIdError));
    }
}
