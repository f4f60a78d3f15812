//! Clusters of nodes in one process, on 127.0.0.1: joining through a seed, every member
//! listed as up everywhere, a leave seen as `left`, every change published on
//! `cluster.members`, and a node without the key kept out.
//!
//! Failures of whole processes (SIGKILL, SIGSTOP) are in `actor-node/tests/cluster.rs`.

use std::time::{Duration, Instant};

use actor_core::System;
use actor_net::{ClusterMember, ClusterSettings, MemberState, Node, NodeId, Secret};

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(20);

fn member(secret: &Secret, seeds: &[String]) -> Node {
    Node::builder(secret.clone())
        .listen("127.0.0.1:0")
        .join(seeds.iter().cloned())
        .cluster_settings(SETTINGS)
        .build()
        .unwrap()
}

/// The tests here are about what members agree on, not about how fast they detect a failure
/// (that is `actor-node/tests/cluster.rs` and W8): a suspicion timeout longer than the
/// default keeps a member slowed down by the other tests of this binary, all running at
/// once on a loaded machine, from being declared down meanwhile.
const SETTINGS: ClusterSettings = ClusterSettings {
    probe_interval: Duration::from_millis(150),
    probe_timeout: Duration::from_millis(60),
    indirect_probes: 3,
    suspect_timeout: Duration::from_secs(3),
    rejoin_interval: Duration::from_secs(2),
    forget_down_after: Duration::from_secs(60),
};

/// Waits until `condition` holds, polling; panics with `what` after `WAIT`.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WAIT, "{what}: not within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

fn states(node: &Node) -> Vec<(NodeId, MemberState)> {
    let mut states: Vec<_> = node.members().iter().map(|m| (m.id, m.state)).collect();
    states.sort_by_key(|(id, _)| *id);
    states
}

fn all_up(ids: &[NodeId]) -> Vec<(NodeId, MemberState)> {
    let mut states: Vec<_> = ids.iter().map(|id| (*id, MemberState::Up)).collect();
    states.sort_by_key(|(id, _)| *id);
    states
}

#[test]
fn five_nodes_join_through_the_first_and_a_leave_is_seen_everywhere() {
    let secret = Secret::generate().unwrap();
    let first = member(&secret, &[]);
    let seed = vec![first.local_addr().unwrap().to_string()];
    let mut nodes = vec![first];
    nodes.extend((0..4).map(|_| member(&secret, &seed)));
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.node_id().unwrap()).collect();

    let took = wait_until("every node lists all five as up", || {
        nodes.iter().all(|node| states(node) == all_up(&ids))
    });
    println!("5 nodes converged in {took:?}");
    // The list shows each member at its listen address.
    for node in &nodes {
        let listed = node.members();
        assert_eq!(listed[0].id, node.node_id().unwrap());
        for other in &nodes {
            let entry = listed
                .iter()
                .find(|m| m.id == other.node_id().unwrap())
                .unwrap();
            assert_eq!(entry.addr, other.local_addr().unwrap());
        }
    }

    let leaving = nodes.pop().unwrap();
    let gone = leaving.node_id().unwrap();
    leaving.shutdown();
    let took = wait_until(
        "every other node lists the node that shut down as left",
        || {
            nodes.iter().all(|node| {
                node.members()
                    .iter()
                    .any(|m| m.id == gone && m.state == MemberState::Left)
            })
        },
    );
    println!("a leave was seen by the 4 others in {took:?}");
}

#[test]
fn every_change_is_published_on_cluster_members() {
    let secret = Secret::generate().unwrap();
    let system = System::new();
    let (changes, received) = crossbeam_channel::unbounded::<ClusterMember>();
    let _subscription = system
        .exchange::<ClusterMember>("cluster.members")
        .unwrap()
        .subscribe(changes);
    let watcher = Node::builder(secret.clone())
        .listen("127.0.0.1:0")
        .join(Vec::<String>::new())
        .cluster_settings(SETTINGS)
        .system(&system)
        .build()
        .unwrap();
    let seed = vec![watcher.local_addr().unwrap().to_string()];
    let other = member(&secret, &seed);
    let other_id = other.node_id().unwrap();
    let up = received.recv_timeout(WAIT).unwrap();
    assert_eq!(
        (up.id, up.addr, up.state),
        (other_id, other.local_addr().unwrap(), MemberState::Up)
    );
    other.shutdown();
    // A loaded machine may have made the watcher suspect the other meanwhile, even declare it
    // down before its leave came in: those changes are published too. The last one is the
    // leave, which turns a member already down into one that left.
    let left = loop {
        let change = received.recv_timeout(WAIT).expect("the leave");
        assert_eq!(change.id, other_id, "{change}");
        if change.state == MemberState::Left {
            break change;
        }
    };
    assert_eq!(left.to_string(), format!("{other_id} {} left", left.addr));
}

#[test]
fn a_node_without_the_key_cannot_join() {
    let secret = Secret::generate().unwrap();
    let first = member(&secret, &[]);
    let seed = vec![first.local_addr().unwrap().to_string()];
    let stranger = member(&Secret::generate().unwrap(), &seed);
    let honest = member(&secret, &seed);
    let ids = [first.node_id().unwrap(), honest.node_id().unwrap()];
    wait_until("the honest node joins", || {
        states(&first) == all_up(&ids) && states(&honest) == all_up(&ids)
    });
    // The stranger's announcements reached the seed and were refused there, every one.
    wait_until("the stranger's datagrams are refused", || {
        first.membership_traffic().2 >= 2
    });
    // Neither side lists the other.
    let stranger_id = stranger.node_id().unwrap();
    assert!(
        first.members().iter().all(|m| m.id != stranger_id),
        "{:?}",
        first.members()
    );
    assert_eq!(stranger.members().len(), 1, "{:?}", stranger.members());
}

#[test]
fn joining_needs_a_reachable_listen_address() {
    let secret = Secret::generate().unwrap();
    let err = Node::builder(secret.clone())
        .join(Vec::<String>::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("cluster"), "{err}");
    let err = Node::builder(secret)
        .listen("0.0.0.0:0")
        .join(Vec::<String>::new())
        .build()
        .unwrap_err();
    assert!(matches!(err, actor_net::NetError::Cluster(_)), "{err:?}");
}

mod names {
    use std::time::Duration;

    use actor_core::{Actor, Context, HandlerResult, Reply, System};
    use actor_net::cluster::NameOwner;
    use actor_net::{NetError, Node, RemoteMessage, Secret};
    use serde::{Deserialize, Serialize};

    use super::{member, wait_until};

    #[derive(Serialize, Deserialize)]
    struct Which(Reply<String>);

    impl RemoteMessage for Which {
        const NAME: &'static str = "tests.cluster.which";
    }

    /// Answers with its own label, so that a test sees which export answered.
    struct Labelled(&'static str);

    impl Actor for Labelled {
        type Msg = Which;
        fn handle(&mut self, Which(reply): Which, _: &mut Context<Which>) -> HandlerResult {
            reply.send(self.0.to_owned());
            Ok(())
        }
    }

    /// An actor system for the exported actors, and three members: `b` and `c` joined
    /// through `a`.
    fn three_members() -> (System, Node, Node, Node) {
        let secret = Secret::generate().unwrap();
        let a = member(&secret, &[]);
        let seed = vec![a.local_addr().unwrap().to_string()];
        let b = member(&secret, &seed);
        let c = member(&secret, &seed);
        (System::new(), a, b, c)
    }

    fn ask(node: &Node, name: &str) -> Result<String, Box<dyn std::error::Error>> {
        let actor = node.lookup_name::<Which>(name)?;
        Ok(actor.ask(Which, Duration::from_secs(5))?)
    }

    #[test]
    fn a_name_exported_on_one_member_is_found_and_asked_from_another_by_name_alone() {
        let (system, a, b, c) = three_members();
        c.export("counter", &system.spawn(Labelled("c")).unwrap())
            .unwrap();
        wait_until("every member knows where counter is", || {
            [&a, &b, &c].iter().all(|node| {
                node.whereis("counter") == Some((c.node_id().unwrap(), c.local_addr().unwrap()))
            })
        });
        assert_eq!(ask(&a, "counter").unwrap(), "c");
        assert_eq!(ask(&b, "counter").unwrap(), "c");
        assert!(matches!(
            a.lookup_name::<Which>("nothing"),
            Err(NetError::NotInCluster(_))
        ));
        system.shutdown();
    }

    #[test]
    fn a_name_disappears_with_its_member_and_comes_back_with_another_export() {
        let (system, a, b, c) = three_members();
        b.export("svc", &system.spawn(Labelled("b")).unwrap())
            .unwrap();
        wait_until("a sees b's svc", || a.whereis("svc").is_some());
        assert_eq!(ask(&a, "svc").unwrap(), "b");

        b.shutdown();
        wait_until("svc gone with b", || a.whereis("svc").is_none());
        c.export("svc", &system.spawn(Labelled("c")).unwrap())
            .unwrap();
        wait_until("a sees c's svc", || {
            a.whereis("svc").map(|(id, _)| id) == c.node_id()
        });
        assert_eq!(ask(&a, "svc").unwrap(), "c");

        // Withdrawn by unexport: gone everywhere too.
        assert!(c.unexport("svc"));
        wait_until("svc withdrawn", || a.whereis("svc").is_none());
        system.shutdown();
    }

    #[test]
    fn a_ref_by_name_follows_the_name_when_its_member_is_lost() {
        let (system, a, b, c) = three_members();
        b.export("svc", &system.spawn(Labelled("b")).unwrap())
            .unwrap();
        wait_until("a sees b's svc", || a.whereis("svc").is_some());
        let svc = a.lookup_name::<Which>("svc").unwrap();
        assert_eq!(svc.ask(Which, Duration::from_secs(5)).unwrap(), "b");

        b.shutdown();
        c.export("svc", &system.spawn(Labelled("c")).unwrap())
            .unwrap();
        // The same ref, without a new lookup: sends fail as unreachable until the cluster
        // knows the name's new member, then reach it.
        let mut answer = None;
        wait_until("the ref reaches c's svc", || {
            answer = svc.ask(Which, Duration::from_secs(5)).ok();
            answer.is_some()
        });
        assert_eq!(answer.as_deref(), Some("c"));
        system.shutdown();
    }

    #[test]
    fn of_two_exports_of_one_name_the_older_member_wins_everywhere_and_the_other_is_told() {
        let system = System::new();
        let secret = Secret::generate().unwrap();
        let older = member(&secret, &[]);
        // Process start times are in milliseconds: the younger starts strictly later.
        std::thread::sleep(Duration::from_millis(5));
        let younger_system = System::new();
        let (told, news) = crossbeam_channel::unbounded::<NameOwner>();
        let _watch = younger_system
            .exchange::<NameOwner>("cluster.names")
            .unwrap()
            .subscribe(told);
        let younger = Node::builder(secret.clone())
            .listen("127.0.0.1:0")
            .join([older.local_addr().unwrap().to_string()])
            .cluster_settings(super::SETTINGS)
            .system(&younger_system)
            .build()
            .unwrap();
        let third = member(&secret, &[older.local_addr().unwrap().to_string()]);
        younger
            .export("dup", &system.spawn(Labelled("younger")).unwrap())
            .unwrap();
        older
            .export("dup", &system.spawn(Labelled("older")).unwrap())
            .unwrap();
        let winner = (older.node_id().unwrap(), older.local_addr().unwrap());
        wait_until("every member agrees on the older", || {
            [&older, &younger, &third]
                .iter()
                .all(|node| node.whereis("dup") == Some(winner))
        });
        assert_eq!(ask(&third, "dup").unwrap(), "older");
        // The younger owner was told that the name is another member's.
        let deadline = std::time::Instant::now() + super::WAIT;
        loop {
            let change = news
                .recv_deadline(deadline)
                .expect("an event naming the winner");
            if change.name == "dup" && change.owner == Some(winner) {
                break;
            }
        }
        system.shutdown();
        younger_system.shutdown();
    }
}

/// Datagrams that say a member is down: one forged (sealed under another key), one sealed
/// under the cluster's key but sent twice, and one under the cluster's key whose wrapper
/// names another sender than its payload. All but the first copy of the genuine one are
/// refused before the protocol sees them; the member stays up.
#[test]
fn forged_and_replayed_membership_datagrams_are_refused() {
    use actor_net::fuzzing::cluster::{Codec, Identity, PacketKey};
    use foca::{Codec as _, Header, Member, Message};

    let secret = Secret::generate().unwrap();
    let a = member(&secret, &[]);
    let b = member(&secret, &[a.local_addr().unwrap().to_string()]);
    let ids = [a.node_id().unwrap(), b.node_id().unwrap()];
    wait_until("both up", || states(&a) == all_up(&ids));

    let forger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = a.local_addr().unwrap();
    let identity = |id: NodeId, addr| Identity {
        id,
        addr,
        started_ms: 1,
        rejoins: 0,
    };
    let sender = identity(NodeId::from_u64(0x0f07_9e4d), forger.local_addr().unwrap());
    // A Gossip to `a` that says `b` is down.
    let mut payload = Vec::new();
    let header = Header {
        src: sender,
        src_incarnation: 0,
        dst: identity(ids[0], target),
        message: Message::Gossip,
    };
    Codec.encode_header(&header, &mut payload).unwrap();
    payload.extend_from_slice(&1_u16.to_be_bytes());
    let down = Member::down(identity(ids[1], b.local_addr().unwrap()));
    Codec.encode_member(&down, &mut payload).unwrap();

    let refused = || a.membership_traffic().2;
    let base = refused();
    let seal = |key: &PacketKey, seq| {
        let mut datagram = Vec::new();
        key.seal(sender.id, seq, &payload, &mut datagram);
        datagram
    };
    let forged = seal(&PacketKey::derive(&Secret::generate().unwrap()), 1);
    let genuine = seal(&PacketKey::derive(&secret), 1);
    // Under the cluster's key, but the wrapper names another sender than the payload's source.
    let mut borrowed = Vec::new();
    PacketKey::derive(&secret).seal(NodeId::from_u64(0x5eed), 1, &payload, &mut borrowed);
    let marker = seal(&PacketKey::derive(&Secret::generate().unwrap()), 2);
    // In order, from one socket on loopback: the forged one, the genuine one, its replay, the
    // borrowed one, and a forged marker. Once the marker is counted, exactly the forged one,
    // the replay, the borrowed one and the marker must have been refused.
    for datagram in [&forged, &genuine, &genuine, &borrowed, &marker] {
        forger.send_to(datagram, target).unwrap();
    }
    wait_until("the marker is refused", || refused() >= base + 4);
    assert_eq!(refused(), base + 4, "the genuine datagram was refused too");
    // The forged news changed nothing; `b` answers its probes, so whatever the genuine copy
    // (a key holder's) said is refuted: `b` is up again, if it ever left that state.
    wait_until("b up on a", || states(&a) == all_up(&ids));
}
