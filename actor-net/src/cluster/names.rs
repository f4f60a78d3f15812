//! The cluster-wide registry: which member exports which name.
//!
//! Each member is the authority for its own names. It sends the list of its claims (a name,
//! a serial number that grows with each change, and whether the name is exported or was
//! withdrawn) in NAMES datagrams, sealed like membership datagrams: to every member when one
//! of its names changes, to a member it sees come up, to every member after it rejoined, and
//! to one member at random every 2 s, which repairs what a lost datagram left out. A member
//! keeps the claims of the members it sees as up (or suspect) and forgets those of a member
//! declared down or gone.
//!
//! When several members export one name, the one whose process started first wins (then the
//! smaller id): every member applies the same rule to the same claims, so one owner wins
//! everywhere, also once a partition heals. Each change of a name's owner, as a member sees
//! it, is published on [`NAMES_EXCHANGE`](super::NAMES_EXCHANGE); the owner that lost a name
//! learns it from the event that names another owner.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use bytes::{Buf, BufMut};
use serde::{Deserialize, Serialize};

use super::codec::{self, CodecError};
use super::identity::{Identity, NodeId};

/// The most bytes of a name registered cluster-wide; longer names stay local to their node.
pub const MAX_CLUSTER_NAME: usize = 255;
/// The most names one member may claim; claims beyond it are ignored.
pub(crate) const MAX_CLAIMS_PER_MEMBER: usize = 4096;
/// The most claims kept in all, so that members claiming names by the thousand cannot make
/// the registry hold more than some megabytes; new claims beyond it are ignored.
pub(crate) const MAX_CLAIMS: usize = 65_536;

/// A change of the owner of a name, as a member sees it: published on `cluster.names`.
///
/// # Examples
///
/// ```
/// use actor_net::cluster::NameOwner;
/// use actor_net::NodeId;
///
/// let change = NameOwner { name: "counter".into(), owner: Some((NodeId::from_u64(1), "127.0.0.1:7000".parse()?)) };
/// assert_eq!(change.to_string(), "counter -> 0000000000000001 127.0.0.1:7000");
/// let gone = NameOwner { name: "counter".into(), owner: None };
/// assert_eq!(gone.to_string(), "counter -> none");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NameOwner {
    /// The name.
    pub name: String,
    /// The member that now owns it (its id and address), or `None` when no member exports
    /// it any more.
    pub owner: Option<(NodeId, SocketAddr)>,
}

/// Shared by every member: a peer subscribes to `cluster.names` typed.
impl crate::RemoteMessage for NameOwner {
    const NAME: &'static str = "actor.cluster-name";
}

impl std::fmt::Display for NameOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.owner {
            Some((id, addr)) => write!(f, "{} -> {id} {addr}", self.name),
            None => write!(f, "{} -> none", self.name),
        }
    }
}

/// One member's claim on a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Grows with each change of the owner's claims.
    pub serial: u64,
    /// Exported (`true`) or withdrawn.
    pub present: bool,
}

/// The claims of one member, with its identity (for the winner rule and its address).
#[derive(Debug, Clone, Default)]
pub(crate) struct Claims {
    pub(crate) owner: Option<Identity>,
    pub(crate) names: BTreeMap<String, Claim>,
}

/// Every claim a member knows of: its own and those of the members it sees as up.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) by_member: HashMap<NodeId, Claims>,
}

impl Registry {
    /// Applies `claims` of `owner`; each is taken if its serial is newer than the one known.
    /// Returns whether anything changed.
    pub(crate) fn apply(&mut self, owner: Identity, claims: &[(String, Claim)]) -> bool {
        let mut total: usize = self.by_member.values().map(|c| c.names.len()).sum();
        let known = self.by_member.entry(owner.id).or_default();
        known.owner = Some(owner);
        let mut changed = false;
        for (name, claim) in claims {
            let full = known.names.len() >= MAX_CLAIMS_PER_MEMBER || total >= MAX_CLAIMS;
            match known.names.get_mut(name) {
                Some(old) if old.serial >= claim.serial => {}
                Some(old) => {
                    *old = *claim;
                    changed = true;
                }
                None if !full => {
                    known.names.insert(name.clone(), *claim);
                    total += 1;
                    changed = true;
                }
                None => {}
            }
        }
        changed
    }

    /// Forgets the claims of `member`.
    pub(crate) fn forget(&mut self, member: NodeId) -> bool {
        self.by_member.remove(&member).is_some()
    }

    /// The owner of every name exported somewhere: for each, the claimant whose process
    /// started first, then the smaller id.
    pub(crate) fn owners(&self) -> BTreeMap<String, (NodeId, SocketAddr)> {
        let mut owners: BTreeMap<String, (u64, NodeId, SocketAddr)> = BTreeMap::new();
        for (id, claims) in &self.by_member {
            let Some(owner) = claims.owner else { continue };
            for (name, claim) in &claims.names {
                if !claim.present {
                    continue;
                }
                let candidate = (owner.started_ms, *id, owner.addr);
                let better = owners
                    .get(name)
                    .is_none_or(|best| (candidate.0, candidate.1) < (best.0, best.1));
                if better {
                    owners.insert(name.clone(), candidate);
                }
            }
        }
        owners
            .into_iter()
            .map(|(name, (_, id, addr))| (name, (id, addr)))
            .collect()
    }
}

/// Encodes the claims of `owner` into NAMES payloads of at most `max` bytes each.
#[must_use]
pub fn encode(owner: &Identity, claims: &BTreeMap<String, Claim>, max: usize) -> Vec<Vec<u8>> {
    let mut payloads = Vec::new();
    let mut current = Vec::new();
    let mut count = 0_u16;
    let start = |payload: &mut Vec<u8>| {
        payload.clear();
        codec::put_identity(payload, owner);
        payload.put_u16(0);
    };
    start(&mut current);
    let count_at = current.len() - 2;
    for (name, claim) in claims {
        let entry = 8 + 1 + 2 + name.len();
        if current.len() + entry > max && count > 0 {
            current[count_at..count_at + 2].copy_from_slice(&count.to_be_bytes());
            payloads.push(std::mem::take(&mut current));
            start(&mut current);
            count = 0;
        }
        current.put_u64(claim.serial);
        current.put_u8(u8::from(claim.present));
        // At most MAX_CLUSTER_NAME bytes: only such names are claimed.
        current.put_u16(u16::try_from(name.len()).unwrap_or(u16::MAX));
        current.put_slice(name.as_bytes());
        count += 1;
    }
    current[count_at..count_at + 2].copy_from_slice(&count.to_be_bytes());
    payloads.push(current);
    payloads
}

/// Why a NAMES payload is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NamesError {
    /// The owner's identity does not decode, or the payload is cut short.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A name longer than [`MAX_CLUSTER_NAME`] bytes, or not UTF-8.
    #[error("a claimed name is longer than 255 bytes or not UTF-8")]
    BadName,
    /// A presence byte other than 0 and 1.
    #[error("a claim's presence byte is neither 0 nor 1")]
    BadPresence,
    /// Bytes after the last claim.
    #[error("bytes after the last claim")]
    Trailing,
}

/// Decodes a NAMES payload: the owner and its claims.
///
/// # Errors
///
/// A [`NamesError`] for a payload cut short, a name longer than [`MAX_CLUSTER_NAME`] bytes
/// or not UTF-8, a presence byte other than 0 and 1, or bytes after the last claim.
pub fn decode(mut payload: &[u8]) -> Result<(Identity, Vec<(String, Claim)>), NamesError> {
    let owner = codec::get_identity(&mut payload)?;
    if payload.remaining() < 2 {
        return Err(CodecError::Short.into());
    }
    let count = payload.get_u16();
    let mut claims = Vec::with_capacity(usize::from(count).min(256));
    for _ in 0..count {
        if payload.remaining() < 11 {
            return Err(CodecError::Short.into());
        }
        let serial = payload.get_u64();
        let present = match payload.get_u8() {
            0 => false,
            1 => true,
            _ => return Err(NamesError::BadPresence),
        };
        let len = usize::from(payload.get_u16());
        if len > MAX_CLUSTER_NAME || payload.remaining() < len {
            return Err(NamesError::BadName);
        }
        let name = std::str::from_utf8(&payload[..len]).map_err(|_| NamesError::BadName)?;
        claims.push((name.to_owned(), Claim { serial, present }));
        payload.advance(len);
    }
    if payload.has_remaining() {
        return Err(NamesError::Trailing);
    }
    Ok((owner, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(id: u64, started_ms: u64) -> Identity {
        Identity {
            id: NodeId::from_u64(id),
            addr: SocketAddr::from(([127, 0, 0, 1], 7000 + u16::try_from(id).unwrap())),
            started_ms,
            rejoins: 0,
        }
    }

    fn claim(serial: u64, present: bool) -> Claim {
        Claim { serial, present }
    }

    #[test]
    fn payloads_round_trip_split_under_the_limit() {
        let owner = identity(1, 10);
        let claims: BTreeMap<String, Claim> = (0..100)
            .map(|n| (format!("name-{n:03}"), claim(n, n % 3 != 0)))
            .collect();
        let payloads = encode(&owner, &claims, 300);
        assert!(payloads.len() > 1);
        let mut back = BTreeMap::new();
        for payload in &payloads {
            assert!(payload.len() <= 300);
            let (decoded_owner, decoded) = decode(payload).unwrap();
            assert_eq!(decoded_owner, owner);
            back.extend(decoded);
        }
        assert_eq!(back, claims);
        for cut in 0..payloads[0].len() {
            assert!(decode(&payloads[0][..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn the_oldest_claimant_wins_and_withdrawn_or_forgotten_claims_do_not_count() {
        let mut registry = Registry::default();
        let (old, young) = (identity(2, 10), identity(1, 20));
        registry.apply(young, &[("counter".into(), claim(1, true))]);
        registry.apply(old, &[("counter".into(), claim(1, true))]);
        assert_eq!(registry.owners()["counter"].0, old.id);
        // An older serial changes nothing; a newer one withdraws.
        assert!(!registry.apply(old, &[("counter".into(), claim(1, false))]));
        assert!(registry.apply(old, &[("counter".into(), claim(2, false))]));
        assert_eq!(registry.owners()["counter"].0, young.id);
        registry.forget(young.id);
        assert!(!registry.owners().contains_key("counter"));
    }
}
