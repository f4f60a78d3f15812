//! The membership thread: runs the SWIM protocol (the `foca` crate) over the node's UDP
//! socket, keeps the member table, and publishes every change on `cluster.members`.
//!
//! One thread owns the protocol state, the socket and the timers. It sleeps in `recv_from`
//! until a datagram arrives or the next timer is due; the node wakes it for a command (leave,
//! stop) by sending an empty datagram to its socket from the socket itself.
//!
//! Every datagram is opened (`packet.rs`) before the protocol sees it: one that is not ours,
//! does not verify, or was seen before is dropped and counted. So a peer without the key
//! cannot join, lie about members or mark anyone down.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actor_core::Exchange;
use bytes::{Buf, BufMut};
use crossbeam_channel::{Receiver, TryRecvError};
use foca::{BroadcastHandler, Codec as _, Foca, Invalidates, Notification, Runtime, State, Timer};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::codec::{self, Codec};
use super::identity::{Identity, NodeId};
use super::member::{ClusterMember, MemberState};
use super::names::{self, Claim, NameOwner, Registry};
use super::packet::{self, PacketKey, ReplayGuard};
use super::settings::{ClusterSettings, MAX_PAYLOAD};
use super::view::View;

/// What the node asks of the membership thread.
#[derive(Debug)]
pub(crate) enum Command {
    /// Tells the cluster that this node leaves, then stops.
    Leave,
    /// Claims a name in the cluster-wide registry: the node exported it.
    Claim(String),
    /// Withdraws a claim: the node no longer exports the name.
    Release(String),
}

/// Counters of the membership thread, for tests and figures.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent_bytes: AtomicU64,
    pub(crate) received_bytes: AtomicU64,
    /// Datagrams dropped before the protocol saw them: not ours, a bad tag, replayed.
    pub(crate) refused: AtomicU64,
}

/// Everything the membership thread runs with.
pub(crate) struct Membership {
    pub(crate) settings: ClusterSettings,
    pub(crate) socket: UdpSocket,
    pub(crate) key: PacketKey,
    pub(crate) seeds: Vec<SocketAddr>,
    pub(crate) view: Arc<View>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) events: Exchange<ClusterMember>,
    pub(crate) name_events: Exchange<NameOwner>,
    pub(crate) commands: Receiver<Command>,
}

/// How often a member sends its claims to one member, in turn, which repairs what a lost
/// NAMES datagram left out.
const NAMES_SYNC: Duration = Duration::from_secs(2);

/// The registry's state in the membership thread.
#[derive(Default)]
struct Names {
    registry: Registry,
    /// This node's own claims, withdrawn ones included (their serial must keep growing).
    own: BTreeMap<String, Claim>,
    serial: u64,
    /// The owner of each name, as last published.
    owners: BTreeMap<String, (NodeId, SocketAddr)>,
    last_sync: Option<Instant>,
    /// Which member the next periodic sync goes to, turning through the members.
    next_sync: usize,
    /// Whether the registry changed since the owners were last computed.
    dirty: bool,
}

/// The largest datagram read; longer ones are cut and so fail their tag.
const RECV_BUFFER: usize = 2048;
/// How often a node that knows no member yet announces itself to its seeds again.
const SEED_RETRY: Duration = Duration::from_secs(1);
/// The longest sleep of the thread, so that a lost wake-up costs at most this.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// The custom broadcast that says a member left on purpose (PROTOCOL.md, "Cluster
/// membership"): kind 1, then the member's identity.
pub const LEFT: u8 = 1;

/// The LEFT broadcast about `identity`, which a member that leaves sends about itself.
#[must_use]
pub fn left_item(identity: &Identity) -> Vec<u8> {
    let mut item = Vec::with_capacity(64);
    item.put_u8(LEFT);
    codec::put_identity(&mut item, identity);
    item
}

/// The members known to have left, shared by the broadcast handler and the thread.
type LeftSet = Arc<parking_lot::Mutex<HashSet<NodeId>>>;

/// Keeps only the newest broadcast about a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeftKey(NodeId);

impl Invalidates for LeftKey {
    fn invalidates(&self, other: &Self) -> bool {
        self == other
    }
}

/// Why a custom broadcast is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BroadcastError {
    #[error("unknown broadcast kind {0}")]
    Kind(u8),
    #[error("malformed broadcast: {0}")]
    Codec(#[from] codec::CodecError),
    #[error("broadcast with bytes after its end")]
    Trailing,
}

/// Receives the custom broadcasts: a LEFT is kept, and passed on, the first time only.
pub(crate) struct Broadcasts {
    left: LeftSet,
}

impl BroadcastHandler<Identity> for Broadcasts {
    type Key = LeftKey;
    type Error = BroadcastError;

    fn receive_item(
        &mut self,
        mut data: &[u8],
        _sender: Option<&Identity>,
    ) -> Result<Option<LeftKey>, BroadcastError> {
        if data.remaining() < 1 {
            return Err(BroadcastError::Kind(0));
        }
        match data.get_u8() {
            LEFT => {
                let identity = codec::get_identity(&mut data)?;
                if data.has_remaining() {
                    return Err(BroadcastError::Trailing);
                }
                let mut left = self.left.lock();
                // Bounded like the member table: past it, a member that leaves is listed as
                // down rather than left.
                let new = left.len() < MAX_LEFT && left.insert(identity.id);
                drop(left);
                Ok(new.then_some(LeftKey(identity.id)))
            }
            other => Err(BroadcastError::Kind(other)),
        }
    }
}

type Swim = Foca<Identity, Codec, StdRng, Broadcasts>;

/// The protocol as a member runs it: foca with this crate's codec, the configuration of
/// `settings`, an RNG seeded with `seed`, and the LEFT broadcasts, whose members go to `left`.
pub(crate) fn swim(
    identity: Identity,
    settings: &ClusterSettings,
    seed: [u8; 32],
    left: LeftSet,
) -> Swim {
    Foca::with_custom_broadcast(
        identity,
        settings.foca_config(),
        StdRng::from_seed(seed),
        Codec,
        Broadcasts { left },
    )
}

/// What the thread keeps between calls into the protocol.
#[derive(Default)]
struct Outgoing {
    /// The sequence number of the last datagram sent.
    seq: u64,
    timers: Timers,
    /// The datagram being sealed, reused.
    datagram: Vec<u8>,
    /// Set when foca rejoined under a renewed identity: the others may have forgotten this
    /// node's claims.
    rejoined: bool,
}

/// The most members a node keeps in its table, itself aside. A payload that would add
/// another is dropped: the table, and the work every datagram costs, stay bounded even
/// against a key holder that announces members by the million.
pub(crate) const MAX_MEMBERS: usize = 1024;
/// The most members remembered as having left.
const MAX_LEFT: usize = 4 * MAX_MEMBERS;

/// Whether a membership payload names a member (its sender, or one of its updates) that is
/// not in `known` and is not this node. A payload that does not decode names no one: the
/// protocol refuses it anyway.
fn brings_strangers(
    mut payload: &[u8],
    known: &HashMap<NodeId, (Identity, MemberState)>,
    me: NodeId,
) -> bool {
    let stranger = |id: NodeId| id != me && !known.contains_key(&id);
    let Ok(header) = Codec.decode_header(&mut payload) else {
        return false;
    };
    if stranger(header.src.id) {
        return true;
    }
    if payload.len() < 2 || header.message == foca::Message::Broadcast {
        return false;
    }
    let count = payload.get_u16();
    for _ in 0..count {
        match Codec.decode_member(&mut payload) {
            Ok(member) if stranger(member.id().id) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// What handling a received datagram may change.
struct Received<'a> {
    swim: &'a mut Swim,
    guard: &'a mut ReplayGuard,
    out: &'a mut Outgoing,
    names: &'a mut Names,
    published: &'a HashMap<NodeId, (Identity, MemberState)>,
}

/// The world as foca sees it during one of its calls.
struct World<'a> {
    socket: &'a UdpSocket,
    key: &'a PacketKey,
    sender: NodeId,
    counters: &'a Counters,
    out: &'a mut Outgoing,
}

impl Runtime<Identity> for World<'_> {
    fn notify(&mut self, notification: Notification<'_, Identity>) {
        // The member table is compared with the protocol's after each call instead: foca
        // does not notify suspicions. A node declared down while alive (a pause, a
        // partition) rejoins by itself under a renewed identity (`Identity::renew`).
        if let Notification::Rejoin(identity) = notification {
            tracing::info!(
                rejoins = identity.rejoins,
                "rejoined the cluster after being declared down"
            );
            self.out.rejoined = true;
        }
    }

    fn send_to(&mut self, to: Identity, data: &[u8]) {
        let out = &mut *self.out;
        out.datagram.clear();
        out.seq += 1;
        self.key.seal(self.sender, out.seq, data, &mut out.datagram);
        match self.socket.send_to(&out.datagram, to.addr) {
            Ok(sent) => {
                self.counters
                    .sent_bytes
                    .fetch_add(sent as u64, Ordering::Relaxed);
            }
            Err(error) => tracing::trace!(to = %to.addr, %error, "membership datagram not sent"),
        }
    }

    fn submit_after(&mut self, event: Timer<Identity>, after: Duration) {
        self.out.timers.add(event, after);
    }
}

/// The protocol's timers, in the order they are due.
#[derive(Default)]
struct Timers {
    due: BTreeMap<(Instant, u64), Timer<Identity>>,
    next: u64,
}

impl Timers {
    fn add(&mut self, event: Timer<Identity>, after: Duration) {
        let at = Instant::now() + after;
        self.next += 1;
        self.due.insert((at, self.next), event);
    }

    /// The first timer due by `now`.
    fn pop_due(&mut self, now: Instant) -> Option<Timer<Identity>> {
        let first = *self.due.keys().next()?;
        if first.0 > now {
            return None;
        }
        self.due.remove(&first)
    }

    fn next_due(&self) -> Option<Instant> {
        self.due.keys().next().map(|(at, _)| *at)
    }
}

impl Membership {
    /// Runs the protocol until the node leaves or the command channel closes.
    pub(crate) fn run(self) {
        let left: LeftSet = Arc::default();
        let mut seed = [0_u8; 32];
        if let Err(error) = crate::random::fill(&mut seed) {
            tracing::error!(%error, "no random seed for the membership protocol; not joining");
            return;
        }
        let mut swim = swim(self.view.identity, &self.settings, seed, Arc::clone(&left));
        let mut out = Outgoing {
            datagram: Vec::with_capacity(packet::HEADER_LEN + MAX_PAYLOAD + packet::TAG_LEN),
            ..Outgoing::default()
        };
        let mut guard = ReplayGuard::default();
        let mut buf = vec![0_u8; RECV_BUFFER];
        let mut last_seed_announce: Option<Instant> = None;
        let mut published: HashMap<NodeId, (Identity, MemberState)> = HashMap::new();
        let mut names = Names::default();
        loop {
            let now = Instant::now();
            // Joining: until some member is known, announce to the seeds now and then.
            if !self.seeds.is_empty()
                && swim.num_members() == 0
                && last_seed_announce.is_none_or(|at| now.duration_since(at) >= SEED_RETRY)
            {
                last_seed_announce = Some(now);
                for seed in &self.seeds {
                    let placeholder = Identity {
                        id: NodeId::from_u64(0),
                        addr: *seed,
                        started_ms: 0,
                        rejoins: 0,
                    };
                    let mut world = self.world(&mut out);
                    if let Err(error) = swim.announce(placeholder, &mut world) {
                        tracing::debug!(%seed, %error, "announcing to a seed failed");
                    }
                }
            }
            while let Some(event) = out.timers.pop_due(Instant::now()) {
                let mut world = self.world(&mut out);
                if let Err(error) = swim.handle_timer(event, &mut world) {
                    tracing::debug!(%error, "membership timer failed");
                }
            }
            let mut claims_changed = false;
            let stop = loop {
                match self.commands.try_recv() {
                    Ok(Command::Leave) => {
                        self.leave(&mut swim, &mut out);
                        break true;
                    }
                    Ok(Command::Claim(name)) => claims_changed |= names.claim(name, true),
                    Ok(Command::Release(name)) => claims_changed |= names.claim(name, false),
                    // The node is gone without a word (it panicked, or was leaked): stop quietly.
                    Err(TryRecvError::Disconnected) => break true,
                    Err(TryRecvError::Empty) => break false,
                }
            };
            if stop {
                break;
            }
            if claims_changed || std::mem::take(&mut out.rejoined) {
                let own: Vec<(String, Claim)> = names
                    .own
                    .iter()
                    .map(|(name, claim)| (name.clone(), *claim))
                    .collect();
                names.dirty |= names.registry.apply(*swim.identity(), &own);
                for (identity, state) in published.values() {
                    if matches!(state, MemberState::Up | MemberState::Suspect) {
                        self.send_names(&swim, &names, identity.addr, &mut out);
                    }
                }
            }
            if names.last_sync.is_none_or(|at| at.elapsed() >= NAMES_SYNC) {
                names.last_sync = Some(Instant::now());
                let up: Vec<SocketAddr> = published
                    .values()
                    .filter(|(_, state)| *state == MemberState::Up)
                    .map(|(identity, _)| identity.addr)
                    .collect();
                if !up.is_empty() {
                    names.next_sync = (names.next_sync + 1) % up.len();
                    self.send_names(&swim, &names, up[names.next_sync], &mut out);
                }
            }
            let wait = out
                .timers
                .next_due()
                .map_or(MAX_SLEEP, |at| at.saturating_duration_since(Instant::now()))
                .min(MAX_SLEEP)
                .max(Duration::from_millis(1));
            let _ = self.socket.set_read_timeout(Some(wait));
            // An empty datagram is the node's wake-up for a command (or noise): nothing to open.
            if let Ok((len, from)) = self.socket.recv_from(&mut buf)
                && len > 0
            {
                let mut received = Received {
                    swim: &mut swim,
                    guard: &mut guard,
                    out: &mut out,
                    names: &mut names,
                    published: &published,
                };
                self.receive(&buf[..len], from, &mut received);
            }
            let came_up = self.publish_changes(&swim, &left, &mut published, &mut names);
            for addr in came_up {
                self.send_names(&swim, &names, addr, &mut out);
            }
            self.publish_owners(&mut names);
        }
        self.publish_changes(&swim, &left, &mut published, &mut names);
        self.publish_owners(&mut names);
    }

    /// Sends this node's claims to `to`, in as many NAMES datagrams as they take.
    fn send_names(&self, swim: &Swim, names: &Names, to: SocketAddr, out: &mut Outgoing) {
        for payload in names::encode(swim.identity(), &names.own, MAX_PAYLOAD) {
            out.datagram.clear();
            out.seq += 1;
            self.key.seal_as(
                packet::NAMES_MAGIC,
                self.view.identity.id,
                out.seq,
                &payload,
                &mut out.datagram,
            );
            match self.socket.send_to(&out.datagram, to) {
                Ok(sent) => {
                    self.counters
                        .sent_bytes
                        .fetch_add(sent as u64, Ordering::Relaxed);
                }
                Err(error) => tracing::trace!(%to, %error, "names datagram not sent"),
            }
        }
    }

    /// Publishes each change of a name's owner on `cluster.names`, and updates the view.
    fn publish_owners(&self, names: &mut Names) {
        if !std::mem::take(&mut names.dirty) {
            return;
        }
        let owners = names.registry.owners();
        if owners == names.owners {
            return;
        }
        for (name, owner) in &owners {
            if names.owners.get(name) != Some(owner) {
                self.name_events.publish(NameOwner {
                    name: name.clone(),
                    owner: Some(*owner),
                });
            }
        }
        for name in names.owners.keys() {
            if !owners.contains_key(name) {
                self.name_events.publish(NameOwner {
                    name: name.clone(),
                    owner: None,
                });
            }
        }
        self.view.names.write().clone_from(&owners);
        names.owners = owners;
    }

    /// A runtime for one call into the protocol.
    fn world<'a>(&'a self, out: &'a mut Outgoing) -> World<'a> {
        World {
            socket: &self.socket,
            key: &self.key,
            sender: self.view.identity.id,
            counters: &self.counters,
            out,
        }
    }

    /// Opens a datagram and hands its payload to the protocol.
    fn receive(&self, datagram: &[u8], from: SocketAddr, state: &mut Received<'_>) {
        self.counters
            .received_bytes
            .fetch_add(datagram.len() as u64, Ordering::Relaxed);
        let (magic, sender, payload) = match self.key.open_any(datagram) {
            Ok(opened) => match state
                .guard
                .accept(opened.sender, opened.seq, Instant::now())
            {
                Ok(()) => (opened.magic, opened.sender, opened.payload),
                Err(error) => return self.refuse(from, &error),
            },
            Err(error) => return self.refuse(from, &error),
        };
        if magic == packet::NAMES_MAGIC {
            match names::decode(payload) {
                // A member speaks for its own names only, and only while it is seen as up:
                // the claims of a member declared down are not taken back from a late datagram.
                Ok((owner, claims))
                    if owner.id == sender
                        && state.published.get(&sender).is_some_and(|(_, seen)| {
                            matches!(seen, MemberState::Up | MemberState::Suspect)
                        }) =>
                {
                    state.names.dirty |= state.names.registry.apply(owner, &claims);
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(%from, %error, "names datagram not used"),
            }
            return;
        }
        // A key holder speaks for itself only: the sender the wrapper names (whose numbers the
        // replay window tracks) must be the payload's source.
        let mut header = payload;
        if Codec
            .decode_header(&mut header)
            .is_ok_and(|header| header.src.id != sender)
        {
            return self.refuse(from, &"the datagram's sender is not its payload's source");
        }
        if state.published.len() >= MAX_MEMBERS
            && brings_strangers(payload, state.published, self.view.identity.id)
        {
            return self.refuse(from, &"the member table is full");
        }
        let swim = &mut *state.swim;
        let mut world = self.world(state.out);
        if let Err(error) = swim.handle_data(payload, &mut world) {
            tracing::debug!(%from, %error, "membership datagram not used");
        }
    }

    fn refuse(&self, from: SocketAddr, error: &dyn std::fmt::Display) {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%from, %error, "membership datagram refused");
    }

    /// Says goodbye: a LEFT broadcast, then the protocol's own leave.
    fn leave(&self, swim: &mut Swim, out: &mut Outgoing) {
        let item = left_item(swim.identity());
        if let Err(error) = swim.add_broadcast(&item) {
            tracing::debug!(%error, "could not queue the leave broadcast");
        }
        let mut world = self.world(out);
        let _ = swim.broadcast(&mut world);
        let _ = swim.leave_cluster(&mut world);
    }

    /// Compares the protocol's member list with what was published; publishes each change on
    /// `cluster.members` and updates the table.
    /// Returns the addresses of the members that came up, to send them this node's claims.
    fn publish_changes(
        &self,
        swim: &Swim,
        left: &LeftSet,
        published: &mut HashMap<NodeId, (Identity, MemberState)>,
        names: &mut Names,
    ) -> Vec<SocketAddr> {
        let left = left.lock();
        let mut now: HashMap<NodeId, (Identity, MemberState)> = HashMap::new();
        for member in swim.iter_membership_state() {
            let identity = *member.id();
            if identity.id == self.view.identity.id {
                continue;
            }
            let state = match member.state() {
                State::Alive => MemberState::Up,
                State::Suspect => MemberState::Suspect,
                State::Down if left.contains(&identity.id) => MemberState::Left,
                State::Down => MemberState::Down,
            };
            // Of several identities of one member (rejoins), the newest speaks for it.
            let newer = now.get(&identity.id).is_none_or(|(known, _)| {
                (identity.started_ms, identity.rejoins) > (known.started_ms, known.rejoins)
            });
            if newer {
                now.insert(identity.id, (identity, state));
            }
        }
        drop(left);
        if now == *published {
            return Vec::new();
        }
        let mut came_up = Vec::new();
        for (id, (identity, state)) in &now {
            let before = published.get(id).map(|(_, s)| *s);
            if before != Some(*state) {
                self.events.publish(ClusterMember {
                    id: *id,
                    addr: identity.addr,
                    state: *state,
                });
                if *state == MemberState::Up && before != Some(MemberState::Suspect) {
                    came_up.push(identity.addr);
                }
            }
            if matches!(state, MemberState::Down | MemberState::Left) {
                names.dirty |= names.registry.forget(*id);
            }
        }
        for id in published.keys() {
            if !now.contains_key(id) {
                names.dirty |= names.registry.forget(*id);
            }
        }
        self.view.others.write().clone_from(&now);
        *published = now;
        came_up
    }
}

impl Names {
    /// Records a claim (or its withdrawal) of this node; returns whether it changed anything.
    fn claim(&mut self, name: String, present: bool) -> bool {
        match self.own.get(&name) {
            Some(claim) if claim.present == present => return false,
            None if !present => return false,
            _ => {}
        }
        self.serial += 1;
        self.own.insert(
            name,
            Claim {
                serial: self.serial,
                present,
            },
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use foca::{Codec as _, Header, Member, Message};

    use super::*;

    fn identity(id: u64) -> Identity {
        Identity {
            id: NodeId::from_u64(id),
            addr: SocketAddr::from(([127, 0, 0, 1], 7000)),
            started_ms: 1,
            rejoins: 0,
        }
    }

    fn gossip(src: u64, updates: &[u64]) -> Vec<u8> {
        let mut payload = Vec::new();
        let header = Header {
            src: identity(src),
            src_incarnation: 0,
            dst: identity(1),
            message: Message::Gossip,
        };
        Codec.encode_header(&header, &mut payload).unwrap();
        payload.put_u16(u16::try_from(updates.len()).unwrap());
        for id in updates {
            Codec
                .encode_member(&Member::alive(identity(*id)), &mut payload)
                .unwrap();
        }
        payload
    }

    #[test]
    fn a_payload_naming_an_unknown_member_brings_a_stranger() {
        let known: HashMap<NodeId, (Identity, MemberState)> = [2, 3]
            .into_iter()
            .map(|id| (NodeId::from_u64(id), (identity(id), MemberState::Up)))
            .collect();
        let me = NodeId::from_u64(1);
        assert!(!brings_strangers(&gossip(2, &[3, 1]), &known, me));
        assert!(brings_strangers(&gossip(4, &[]), &known, me));
        assert!(brings_strangers(&gossip(2, &[3, 5]), &known, me));
        assert!(!brings_strangers(b"not a payload", &known, me));
    }
}
