//! Checks that the implementation reproduces the cluster membership vectors of `PROTOCOL.md`
//! (the lines `vector membership_... = HEX`), and the rules of "Cluster membership" that the
//! vectors illustrate: the payload as foca writes and reads it, the join through a seed whose
//! identity is unknown, a datagram refused after one flipped bit or when replayed.
//!
//! The membership protocol's internals are reached through `actor_net::fuzzing` (the tests
//! turn the `fuzzing` feature on).

#[path = "support/vectors.rs"]
mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use actor_core::codec::{Bincode, Codec as _};
use actor_net::fuzzing::cluster::{
    Claim, Codec, HEADER_LEN, Identity, MAGIC, MAX_PAYLOAD, NAMES_MAGIC, PacketError, PacketKey,
    REPLAY_WINDOW, ReplayGuard, TAG_LEN, VERSION, decode_names, encode_names, get_identity,
    left_item, put_identity, swim,
};
use actor_net::{ClusterMember, ClusterSettings, KeyCheck, MemberState, NodeId, Secret};
use foca::{AccumulatingRuntime, Codec as _, Header, Member, Message, State, Timer};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use support::{hex, vectors};

/// Every membership vector the document must hold, and no other `membership_` one.
const NAMES: &[&str] = &[
    "membership_k_m",
    "membership_identity_v4",
    "membership_identity_v6",
    "membership_ping_header",
    "membership_update",
    "membership_left_item",
    "membership_ping_payload",
    "membership_datagram",
    "membership_announce",
    "membership_members_answer",
    "membership_names_payload",
    "membership_names_datagram",
];

/// A, the member that pings (PROTOCOL.md, "Membership vectors").
fn a() -> Identity {
    Identity {
        id: NodeId::from_u64(0x8a5f_3c2e_1d4b_6a79),
        addr: "192.0.2.1:7700".parse().unwrap(),
        started_ms: 1_795_785_303_123,
        rejoins: 0,
    }
}

/// B, the member that A pings, which has rejoined once.
fn b() -> Identity {
    Identity {
        id: NodeId::from_u64(0x1f0e_2d3c_4b5a_6978),
        addr: "[2001:db8::2]:7701".parse().unwrap(),
        started_ms: 1_795_785_304_567,
        rejoins: 1,
    }
}

/// C, the member that left.
fn c() -> Identity {
    Identity {
        id: NodeId::from_u64(0x5c3a_1e9d_7b2f_4068),
        addr: "192.0.2.3:7700".parse().unwrap(),
        started_ms: 1_795_785_301_000,
        rejoins: 0,
    }
}

/// The sequence number under which A seals the vector datagram.
const SEQ: u64 = 7;

/// The identity a joiner announces to when it knows only the seed's address.
fn placeholder(addr: SocketAddr) -> Identity {
    Identity {
        id: NodeId::from_u64(0),
        addr,
        started_ms: 0,
        rejoins: 0,
    }
}

struct Vectors(BTreeMap<String, Vec<u8>>);

impl Vectors {
    fn read() -> Vectors {
        Vectors(vectors())
    }

    fn get(&self, name: &str) -> &[u8] {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("PROTOCOL.md lacks vector {name}"))
    }

    fn assert(&self, name: &str, bytes: &[u8]) {
        assert_eq!(hex(bytes), hex(self.get(name)), "vector {name}");
    }
}

/// The key of the test vectors (PROTOCOL.md, "Test vectors"): weak on purpose, so taken with
/// `KeyCheck::AllowWeak`, as no real node would take it.
fn key(v: &Vectors) -> Secret {
    Secret::with_check(v.get("key").to_vec(), KeyCheck::AllowWeak).unwrap()
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn identity_bytes(identity: &Identity) -> Vec<u8> {
    let mut out = Vec::new();
    put_identity(&mut out, identity);
    out
}

fn header_bytes(header: &Header<Identity>) -> Vec<u8> {
    let mut out = Vec::new();
    Codec.encode_header(header, &mut out).unwrap();
    out
}

fn member_bytes(member: &Member<Identity>) -> Vec<u8> {
    let mut out = Vec::new();
    Codec.encode_member(member, &mut out).unwrap();
    out
}

/// `lp(item)`: a custom broadcast as it follows the updates.
fn with_length(item: &[u8]) -> Vec<u8> {
    [&u16::try_from(item.len()).unwrap().to_be_bytes()[..], item].concat()
}

/// What `runtime` was told to send, in order.
fn sent(runtime: &mut AccumulatingRuntime<Identity>) -> Vec<(Identity, Vec<u8>)> {
    std::iter::from_fn(|| runtime.to_send())
        .map(|(to, data)| (to, data.to_vec()))
        .collect()
}

/// The timers `runtime` was told to set, in order.
fn timers(runtime: &mut AccumulatingRuntime<Identity>) -> Vec<Timer<Identity>> {
    std::iter::from_fn(|| runtime.to_schedule())
        .map(|(_, timer)| timer)
        .collect()
}

/// A's Ping of B, built by the protocol itself: A knows B (alive, incarnation 0, the update it
/// still has to send) and passes on the LEFT of C; its probe timer fires.
fn ping_as_foca_writes_it() -> Vec<u8> {
    let settings = ClusterSettings::default();
    let mut member_a = swim(a(), settings, [0; 32]);
    let mut runtime = AccumulatingRuntime::new();
    member_a
        .apply_many(std::iter::once(Member::alive(b())), true, &mut runtime)
        .unwrap();
    assert!(member_a.add_broadcast(&left_item(&c())).unwrap());
    let probe = timers(&mut runtime)
        .into_iter()
        .find(|timer| matches!(timer, Timer::ProbeRandomMember(_)))
        .expect("a member that knows another probes");
    assert!(sent(&mut runtime).is_empty());
    member_a.handle_timer(probe, &mut runtime).unwrap();
    let [(to, payload)] = &sent(&mut runtime)[..] else {
        panic!("one Ping");
    };
    assert_eq!(*to, b());
    payload.clone()
}

#[test]
fn document_holds_exactly_the_expected_membership_vectors() {
    let found: Vec<String> = vectors()
        .into_keys()
        .filter(|name| name.starts_with("membership_"))
        .collect();
    let mut expected: Vec<String> = NAMES.iter().map(|name| name.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn the_membership_key_is_derived_as_documented() {
    let v = Vectors::read();
    v.assert(
        "membership_k_m",
        &hmac(v.get("key"), b"actor/2 membership key"),
    );
}

#[test]
fn identities_are_encoded_as_documented() {
    let v = Vectors::read();
    for (name, identity) in [
        ("membership_identity_v4", a()),
        ("membership_identity_v6", b()),
    ] {
        v.assert(name, &identity_bytes(&identity));
        let mut wire = v.get(name);
        assert_eq!(get_identity(&mut wire).unwrap(), identity);
        assert!(wire.is_empty());
    }
    assert_eq!(v.get("membership_identity_v4").len(), 25);
    assert_eq!(v.get("membership_identity_v6").len(), 37);
}

#[test]
fn headers_updates_and_left_items_are_encoded_as_documented() {
    let v = Vectors::read();
    let header = Header {
        src: a(),
        src_incarnation: 0,
        dst: b(),
        message: Message::Ping(1),
    };
    v.assert("membership_ping_header", &header_bytes(&header));
    assert_eq!(
        Codec
            .decode_header(v.get("membership_ping_header"))
            .unwrap(),
        header
    );
    v.assert(
        "membership_ping_header",
        &[
            v.get("membership_identity_v4"),
            &[0, 0],
            v.get("membership_identity_v6"),
            &[1, 1],
        ]
        .concat(),
    );

    let update = v.get("membership_update");
    v.assert("membership_update", &member_bytes(&Member::alive(b())));
    assert_eq!(Codec.decode_member(update).unwrap(), Member::alive(b()));
    // "B suspect at incarnation 258 would end with `0102 01` instead."
    let suspect = [&update[..update.len() - 3], &[0x01, 0x02, 0x01]].concat();
    assert_eq!(
        member_bytes(&Member::new(b(), 258, State::Suspect)),
        suspect
    );

    v.assert("membership_left_item", &left_item(&c()));
    v.assert(
        "membership_left_item",
        &[&[1], &identity_bytes(&c())[..]].concat(),
    );
}

#[test]
fn the_ping_payload_is_what_foca_writes() {
    let v = Vectors::read();
    let payload = ping_as_foca_writes_it();
    v.assert("membership_ping_payload", &payload);
    // Header, the count of updates, the update, then the LEFT with its length.
    v.assert(
        "membership_ping_payload",
        &[
            v.get("membership_ping_header"),
            &[0, 1],
            v.get("membership_update"),
            &with_length(v.get("membership_left_item")),
        ]
        .concat(),
    );
}

#[test]
fn the_pinged_member_reads_the_payload_and_answers_as_documented() {
    let v = Vectors::read();
    let settings = ClusterSettings::default();
    let mut member_b = swim(b(), settings, [1; 32]);
    let mut runtime = AccumulatingRuntime::new();
    member_b
        .handle_data(v.get("membership_ping_payload"), &mut runtime)
        .unwrap();
    // B now knows A, and answers with the same probe number, passing on what it learnt: A
    // is alive, and C left.
    assert_eq!(member_b.num_members(), 1);
    let [(to, ack)] = &sent(&mut runtime)[..] else {
        panic!("one Ack");
    };
    assert_eq!(*to, a());
    let expected = [
        header_bytes(&Header {
            src: b(),
            src_incarnation: 0,
            dst: a(),
            message: Message::Ack(1),
        }),
        vec![0, 1],
        member_bytes(&Member::alive(a())),
        with_length(v.get("membership_left_item")),
    ]
    .concat();
    assert_eq!(hex(ack), hex(&expected));
    // The LEFT is new to B once only.
    assert!(
        !member_b
            .add_broadcast(v.get("membership_left_item"))
            .unwrap()
    );

    // A takes the Ack: its probe succeeded, so no indirect probe follows.
    let mut member_a = swim(a(), settings, [0; 32]);
    let mut runtime = AccumulatingRuntime::new();
    member_a
        .apply_many(std::iter::once(Member::alive(b())), true, &mut runtime)
        .unwrap();
    let probe = timers(&mut runtime)
        .into_iter()
        .find(|timer| matches!(timer, Timer::ProbeRandomMember(_)))
        .unwrap();
    member_a.handle_timer(probe, &mut runtime).unwrap();
    sent(&mut runtime);
    let indirect = timers(&mut runtime)
        .into_iter()
        .find(|timer| matches!(timer, Timer::SendIndirectProbe { .. }))
        .unwrap();
    member_a.handle_data(ack, &mut runtime).unwrap();
    member_a.handle_timer(indirect, &mut runtime).unwrap();
    assert!(sent(&mut runtime).is_empty(), "no PingReq after an Ack");
}

#[test]
fn a_receiver_refuses_what_the_document_says_it_refuses() {
    let v = Vectors::read();
    let settings = ClusterSettings::default();
    let payload = v.get("membership_ping_payload");
    let fresh = |identity| {
        (
            swim(identity, settings, [2; 32]),
            AccumulatingRuntime::new(),
        )
    };

    // One byte after the header: malformed.
    let header = v.get("membership_ping_header");
    let (mut member, mut runtime) = fresh(b());
    assert!(
        member
            .handle_data(&[header, &[0]].concat(), &mut runtime)
            .is_err()
    );
    assert_eq!(member.num_members(), 0);
    // A truncated update: malformed, nothing learnt.
    let (mut member, mut runtime) = fresh(b());
    assert!(
        member
            .handle_data(&payload[..header.len() + 10], &mut runtime)
            .is_err()
    );
    assert_eq!(member.num_members(), 0);
    // An Announce with anything after its header.
    let (mut member, mut runtime) = fresh(b());
    let announce = v.get("membership_announce");
    assert!(
        member
            .handle_data(&[announce, &[0, 0]].concat(), &mut runtime)
            .is_err()
    );
    assert_eq!(member.num_members(), 0);
    // A payload from the receiver's own address.
    let (mut member, mut runtime) = fresh(a());
    assert!(member.handle_data(payload, &mut runtime).is_err());
    // A payload over 1400 bytes.
    let (mut member, mut runtime) = fresh(b());
    let long = [payload, &vec![0; MAX_PAYLOAD + 1 - payload.len()]].concat();
    assert!(member.handle_data(&long, &mut runtime).is_err());
    // A Ping to another identity at the receiver's address (B before its rejoin): ignored
    // without an error and without an answer.
    let (mut member, mut runtime) = fresh(Identity { rejoins: 0, ..b() });
    member.handle_data(payload, &mut runtime).unwrap();
    assert_eq!(member.num_members(), 0);
    assert!(sent(&mut runtime).is_empty());
}

#[test]
fn a_joiner_announces_to_the_seeds_address_and_is_fed() {
    let v = Vectors::read();
    let settings = ClusterSettings::default();
    let mut joiner = swim(a(), settings, [3; 32]);
    let mut runtime = AccumulatingRuntime::new();
    joiner
        .announce(placeholder(b().addr), &mut runtime)
        .unwrap();
    let [(to, announce)] = &sent(&mut runtime)[..] else {
        panic!("one Announce");
    };
    assert_eq!(*to, placeholder(b().addr));
    v.assert("membership_announce", announce);
    v.assert(
        "membership_announce",
        &[
            v.get("membership_identity_v4"),
            &[0, 0],
            &identity_bytes(&placeholder(b().addr)),
            &[7],
        ]
        .concat(),
    );

    // The seed accepts it for its address, and feeds the joiner the members it knows but
    // the joiner (none).
    let mut seed = swim(b(), settings, [4; 32]);
    let mut seed_runtime = AccumulatingRuntime::new();
    seed.handle_data(announce, &mut seed_runtime).unwrap();
    let [(to, feed)] = &sent(&mut seed_runtime)[..] else {
        panic!("one Feed");
    };
    assert_eq!(*to, a());
    let feed_header = header_bytes(&Header {
        src: b(),
        src_incarnation: 0,
        dst: a(),
        message: Message::Feed,
    });
    assert_eq!(hex(feed), hex(&[&feed_header[..], &[0, 0]].concat()));
    joiner.handle_data(feed, &mut runtime).unwrap();
    assert_eq!(joiner.num_members(), 1);

    // At another address, the same Announce is ignored.
    let mut other = swim(c(), settings, [5; 32]);
    other.handle_data(announce, &mut seed_runtime).unwrap();
    assert_eq!(other.num_members(), 0);
    assert!(sent(&mut seed_runtime).is_empty());
}

#[test]
fn the_datagram_is_sealed_as_documented() {
    let v = Vectors::read();
    let key = PacketKey::derive(&key(&v));
    let payload = v.get("membership_ping_payload");
    let mut datagram = Vec::new();
    key.seal(a().id, SEQ, payload, &mut datagram);
    v.assert("membership_datagram", &datagram);

    // The layout, and the tag recomputed from k_m alone.
    let datagram = v.get("membership_datagram");
    let (signed, tag) = datagram.split_at(datagram.len() - TAG_LEN);
    assert_eq!(signed[..4], MAGIC);
    assert_eq!(&MAGIC, b"ACTM");
    assert_eq!((signed[4], VERSION), (1, 1));
    assert_eq!(signed[5..13], a().id.as_u64().to_be_bytes());
    assert_eq!(signed[13..21], SEQ.to_be_bytes());
    assert_eq!(&signed[HEADER_LEN..], payload);
    assert_eq!(HEADER_LEN + TAG_LEN, 53);
    assert_eq!(hex(tag), hex(&hmac(v.get("membership_k_m"), signed)));
    assert_eq!(key.open(datagram), Ok((a().id, SEQ, payload)));
}

#[test]
fn a_datagram_with_one_flipped_bit_is_refused() {
    let v = Vectors::read();
    let key = PacketKey::derive(&key(&v));
    let datagram = v.get("membership_datagram");
    for byte in 0..datagram.len() {
        for bit in 0..8 {
            let mut flipped = datagram.to_vec();
            flipped[byte] ^= 1 << bit;
            let expected = match byte {
                0..4 => PacketError::NotOurs,
                4 => PacketError::Version(flipped[4]),
                _ => PacketError::Tag,
            };
            assert_eq!(key.open(&flipped), Err(expected), "byte {byte}, bit {bit}");
        }
    }
    // Cut short by one byte, or under another key: the tag fails too.
    assert_eq!(
        key.open(&datagram[..datagram.len() - 1]),
        Err(PacketError::Tag)
    );
    let other =
        Secret::with_check(b"another test key 0123456789".to_vec(), KeyCheck::AllowWeak).unwrap();
    assert_eq!(
        PacketKey::derive(&other).open(datagram),
        Err(PacketError::Tag)
    );
}

#[test]
fn a_replayed_datagram_is_refused() {
    let v = Vectors::read();
    let key = PacketKey::derive(&key(&v));
    let mut guard = ReplayGuard::default();
    let now = Instant::now();
    let (sender, seq, _) = key.open(v.get("membership_datagram")).unwrap();
    assert_eq!(guard.accept(sender, seq, now), Ok(()));
    assert_eq!(guard.accept(sender, seq, now), Err(PacketError::Replayed));
    // Later numbers are accepted; an earlier one once, within the window.
    assert_eq!(guard.accept(sender, seq + REPLAY_WINDOW, now), Ok(()));
    assert_eq!(guard.accept(sender, seq + 1, now), Ok(()));
    assert_eq!(
        guard.accept(sender, seq + 1, now),
        Err(PacketError::Replayed)
    );
    assert_eq!(guard.accept(sender, seq, now), Err(PacketError::Replayed));
}

#[test]
fn the_cluster_actors_answer_is_encoded_as_documented() {
    let v = Vectors::read();
    let members = vec![
        ClusterMember {
            id: a().id,
            addr: a().addr,
            state: MemberState::Up,
        },
        ClusterMember {
            id: b().id,
            addr: b().addr,
            state: MemberState::Suspect,
        },
    ];
    let mut encoded = Vec::new();
    Bincode::new().encode(&members, &mut encoded).unwrap();
    v.assert("membership_members_answer", &encoded);
    let decoded: Vec<ClusterMember> = Bincode::new()
        .decode(v.get("membership_members_answer"))
        .unwrap();
    assert_eq!(decoded, members);
}

#[test]
fn a_names_payload_and_its_datagram_are_encoded_as_documented() {
    let v = Vectors::read();
    let claims = BTreeMap::from([
        (
            "counter".to_owned(),
            Claim {
                serial: 3,
                present: true,
            },
        ),
        (
            "old".to_owned(),
            Claim {
                serial: 2,
                present: false,
            },
        ),
    ]);
    let payloads = encode_names(&a(), &claims, MAX_PAYLOAD);
    assert_eq!(payloads.len(), 1);
    let key = PacketKey::derive(&key(&v));
    let mut datagram = Vec::new();
    key.seal_as(NAMES_MAGIC, a().id, 8, &payloads[0], &mut datagram);
    v.assert("membership_names_payload", &payloads[0]);
    v.assert("membership_names_datagram", &datagram);
    let (owner, decoded) = decode_names(v.get("membership_names_payload")).unwrap();
    assert_eq!(owner, a());
    assert_eq!(decoded.into_iter().collect::<BTreeMap<_, _>>(), claims);
    let opened = key.open_any(v.get("membership_names_datagram")).unwrap();
    assert_eq!(
        (opened.magic, opened.sender, opened.seq),
        (NAMES_MAGIC, a().id, 8)
    );
    // Not a membership datagram: `open` (membership only) refuses it.
    assert_eq!(
        key.open(v.get("membership_names_datagram")),
        Err(PacketError::NotOurs)
    );
    for cut in 0..payloads[0].len() {
        assert!(decode_names(&payloads[0][..cut]).is_err(), "cut at {cut}");
    }
}
