//! Exchanges across nodes: a subscriber on node B, the publisher on node A.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actor_core::tap::Recorder;
use actor_core::{SUBSCRIBERS, SystemEvent, from_fn};
use actor_net::{NET_EXCHANGE, NetError, NetEvent, Node, RemoteMessage, Secret, SubscribeError};
use actor_testkit::{FaultProxy, Protocol};
use crossbeam_channel::Receiver;
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(10);

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    seq: u64,
    note: String,
}

impl RemoteMessage for Order {
    const NAME: &'static str = "test.order";
}

fn order(seq: u64) -> Order {
    Order {
        seq,
        note: String::new(),
    }
}

fn secret() -> Secret {
    Secret::new(b"remote exchanges share this key: 0123456789".to_vec()).unwrap()
}

/// A publishing node that shares `Order`.
fn publisher(name: &str) -> Node {
    Node::builder(secret())
        .name(name)
        .listen("127.0.0.1:0")
        .share::<Order>()
        .build()
        .unwrap()
}

fn client(name: &str) -> Node {
    Node::builder(secret()).name(name).build().unwrap()
}

fn addr(node: &Node) -> SocketAddr {
    node.local_addr().unwrap()
}

/// Waits until `done` holds, or fails the test after [`WAIT`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn recv<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(WAIT).expect("a message in time")
}

#[test]
fn every_message_arrives_once_and_in_order() -> TestResult {
    let a = publisher("a");
    let b = client("b");
    let (tx, rx) = crossbeam_channel::unbounded();
    let seen = from_fn(move |exchange: &str, msg: Order| {
        let _ = tx.send((exchange.to_owned(), msg.seq));
    });
    let _guard = b.subscribe::<Order>(addr(&a), "orders.>", seen)?;
    let eu = a.system().exchange::<Order>("orders.eu")?;
    let us = a.system().exchange::<Order>("orders.us")?;
    let other = a.system().exchange::<Order>("trades.eu")?;
    for seq in 0..2000 {
        assert_eq!(eu.publish(order(seq)), 1);
        assert_eq!(us.publish(order(seq)), 1);
        assert_eq!(other.publish(order(seq)), 0, "nobody subscribes to trades");
    }
    // The marker comes last on one exchange: whatever came before it has arrived.
    eu.publish(order(u64::MAX));
    let (mut next_eu, mut next_us) = (0, 0);
    loop {
        let (exchange, seq) = recv(&rx);
        match (exchange.as_str(), seq) {
            ("orders.eu", u64::MAX) => break,
            ("orders.eu", seq) => {
                assert_eq!(seq, next_eu);
                next_eu += 1;
            }
            ("orders.us", seq) => {
                assert_eq!(seq, next_us);
                next_us += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // orders.us went out before the marker on the same connection, but through another
    // exchange: it has arrived too.
    assert_eq!((next_eu, next_us), (2000, 2000));
    assert!(rx.try_recv().is_err(), "nothing more");
    Ok(())
}

#[test]
fn dropping_the_guard_ends_the_subscription_on_both_nodes() -> TestResult {
    let a = publisher("a");
    let b = client("b");
    let (tx, rx) = crossbeam_channel::unbounded();
    let guard = b.subscribe::<Order>(addr(&a), "orders.eu", tx)?;
    let eu = a.system().exchange::<Order>("orders.eu")?;
    assert_eq!(eu.subscriber_count(), 1);
    eu.publish(order(1));
    assert_eq!(recv(&rx).seq, 1);

    drop(guard);
    // B lets go of its subscriber at once: the channel is disconnected.
    assert!(matches!(
        rx.recv_timeout(WAIT),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected)
    ));
    // A detaches once the UNSUBSCRIBE arrives.
    wait_until("A to detach", || eu.subscriber_count() == 0);
    assert_eq!(eu.publish(order(2)), 0);
    Ok(())
}

#[test]
fn a_lost_subscriber_node_is_detached_and_reported() -> TestResult {
    let a = publisher("a");
    let reports = Recorder::new(16);
    let _watch = a
        .system()
        .exchange::<SystemEvent>(SUBSCRIBERS)?
        .subscribe(reports.clone());
    // B reaches A through a proxy; stopping the proxy cuts the connection as a killed
    // process would: no goodbye.
    let proxy = FaultProxy::builder(Protocol::Tcp, addr(&a)).build()?;
    let b = client("b");
    let (tx, _rx) = crossbeam_channel::unbounded();
    let _guard = b.subscribe::<Order>(proxy.local_addr(), "orders.>", tx)?;
    let eu = a.system().exchange::<Order>("orders.eu")?;
    assert_eq!(eu.subscriber_count(), 1);

    proxy.stop();
    wait_until("A to report the lost subscriber", || {
        !reports.messages().is_empty()
    });
    let report = &reports.messages()[0];
    let SystemEvent::SubscriberGone {
        exchange, label, ..
    } = report
    else {
        panic!("unexpected report {report:?}");
    };
    assert_eq!(&**exchange, "orders.>");
    assert!(label.contains("remote subscription"), "{label}");
    assert!(label.contains('b'), "{label}");
    assert_eq!(eu.subscriber_count(), 0);
    assert_eq!(eu.publish(order(1)), 0);
    Ok(())
}

#[test]
fn one_message_for_four_subscribers_crosses_the_wire_once() -> TestResult {
    let a = publisher("a");
    let proxy = FaultProxy::builder(Protocol::Tcp, addr(&a)).build()?;
    let b = client("b");
    let eu = a.system().exchange::<Order>("orders.eu")?;
    let note = "x".repeat(1000);
    let count = 200;
    let publish_all = || {
        for seq in 0..count {
            eu.publish(Order {
                seq,
                note: note.clone(),
            });
        }
    };

    let (tx, first) = crossbeam_channel::unbounded();
    let mut guard = b.subscribe::<Order>(proxy.local_addr(), "orders.>", tx)?;
    let before = proxy.stats().to_client.forwarded_bytes;
    publish_all();
    for _ in 0..count {
        recv(&first);
    }
    let one = proxy.stats().to_client.forwarded_bytes - before;

    // Three more subscribers of the same pattern, and one of an overlapping one.
    let mut receivers = vec![first];
    for pattern in ["orders.>", "orders.>", "orders.>", "orders.eu"] {
        let (tx, rx) = crossbeam_channel::unbounded();
        guard = guard.and(b.subscribe::<Order>(proxy.local_addr(), pattern, tx)?);
        receivers.push(rx);
    }
    let before = proxy.stats().to_client.forwarded_bytes;
    publish_all();
    for rx in &receivers {
        for seq in 0..count {
            assert_eq!(recv(rx).seq, seq);
        }
    }
    let five = proxy.stats().to_client.forwarded_bytes - before;
    // 200 KB of notes either way; heartbeats and frame boundaries differ by a little.
    assert!(one > 200_000, "{one}");
    assert!(
        five < one + one / 10,
        "one subscriber: {one} B; five: {five} B"
    );
    drop(guard);
    Ok(())
}

#[test]
fn a_slow_subscriber_node_costs_drops_not_a_blocked_publisher() -> TestResult {
    // A small outbound queue per connection, so that it fills soon.
    let a = Node::builder(secret())
        .name("a")
        .listen("127.0.0.1:0")
        .outbound_messages(64)
        // A write to B that stays blocked past the heartbeat timeout cuts the connection:
        // not in this test, whatever the machine's load.
        .heartbeat(Duration::from_secs(1), Duration::from_secs(120))
        .share::<Order>()
        .build()?;
    let eu = a.system().exchange::<Order>("orders.eu")?;
    let local = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&local);
    let _local = eu.subscribe(from_fn(move |_: &str, _: Order| {
        counted.fetch_add(1, Ordering::Relaxed);
    }));

    // B's subscriber blocks its connection's reader until released.
    let b = client("b");
    let release = Arc::new(AtomicBool::new(false));
    let held = Arc::clone(&release);
    // Released however the test ends, so that B can shut down.
    struct Release(Arc<AtomicBool>);
    impl Drop for Release {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _released_at_the_end = Release(Arc::clone(&release));
    let (slow_tx, slow_rx) = crossbeam_channel::unbounded();
    let _slow = b.subscribe::<Order>(
        addr(&a),
        "orders.eu",
        from_fn(move |_: &str, msg: Order| {
            while !held.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = slow_tx.send(msg.seq);
        }),
    )?;
    // C's subscriber keeps up.
    let c = client("c");
    let (fast_tx, fast_rx) = crossbeam_channel::unbounded();
    let _fast = c.subscribe::<Order>(addr(&a), "orders.eu", fast_tx)?;

    // Published as fast as C takes them, in rounds of half C's queue, so that C never
    // drops: 40 MB, more than the sockets to B buffer.
    let count = 20_000;
    let note = "y".repeat(2000);
    for round in 0..count / 32 {
        for seq in round * 32..(round + 1) * 32 {
            eu.publish(Order {
                seq,
                note: note.clone(),
            });
        }
        for seq in round * 32..(round + 1) * 32 {
            assert_eq!(recv(&fast_rx).seq, seq);
        }
    }
    // The publisher got through while B held its reader; A and C got everything.
    assert_eq!(local.load(Ordering::Relaxed), count);
    let subscriptions = eu.subscriptions();
    let to_b = subscriptions
        .iter()
        .find(|s| s.label.contains(" b "))
        .expect("B's subscription");
    let to_c = subscriptions
        .iter()
        .find(|s| s.label.contains(" c "))
        .expect("C's subscription");
    assert!(to_b.dropped > 0, "{subscriptions:?}");
    assert_eq!(to_c.dropped, 0, "{subscriptions:?}");

    // Released, B gets what was not dropped, in order.
    release.store(true, Ordering::Relaxed);
    let received = count - to_b.dropped;
    let mut last = None;
    for _ in 0..received {
        let seq = recv(&slow_rx);
        assert!(last.is_none_or(|last| seq > last));
        last = Some(seq);
    }
    Ok(())
}

#[test]
fn a_tap_sees_system_events_as_text() -> TestResult {
    let a = publisher("a");
    let tap = client("tap");
    let (tx, rx) = crossbeam_channel::unbounded();
    let _guard = tap.subscribe_text(
        addr(&a),
        "system.>",
        from_fn(move |exchange: &str, text: String| {
            let _ = tx.send((exchange.to_owned(), text));
        }),
    )?;
    let visitor = client("visitor");
    let (otx, _orx) = crossbeam_channel::unbounded();
    let _visit = visitor.subscribe::<Order>(addr(&a), "orders.eu", otx)?;
    let (exchange, text) = recv(&rx);
    assert_eq!(exchange, NET_EXCHANGE);
    assert!(text.starts_with("Connected { peer: 127.0.0.1:"), "{text}");
    let (exchange, text) = recv(&rx);
    assert_eq!(exchange, NET_EXCHANGE);
    assert!(text.starts_with("Authenticated {"), "{text}");
    assert!(text.contains("name: \"visitor\""), "{text}");
    Ok(())
}

#[test]
fn typed_node_events_cross_too() -> TestResult {
    let a = publisher("a");
    let b = client("b");
    let (tx, rx) = crossbeam_channel::unbounded();
    let _guard = b.subscribe::<NetEvent>(addr(&a), NET_EXCHANGE, tx)?;
    drop(client("visitor").subscribe::<Order>(addr(&a), "x", from_fn(|_: &str, _: Order| {}))?);
    assert!(matches!(recv(&rx), NetEvent::Connected { .. }));
    assert!(matches!(
        recv(&rx),
        NetEvent::Authenticated { name, inbound: true, .. } if name == "visitor"
    ));
    Ok(())
}

#[test]
fn refusals_are_typed() -> TestResult {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Unshared;
    impl RemoteMessage for Unshared {
        const NAME: &'static str = "test.unshared";
    }
    let a = publisher("a");
    let b = client("b");
    let refused = b.subscribe::<Unshared>(addr(&a), "orders.>", from_fn(|_: &str, _: Unshared| {}));
    assert!(
        matches!(
            &refused,
            Err(NetError::Subscribe { reason: SubscribeError::UnknownType(identity), pattern, .. })
                if identity == "test.unshared@1" && pattern == "orders.>"
        ),
        "{refused:?}"
    );
    let bad = b.subscribe::<Order>(addr(&a), "orders..eu", from_fn(|_: &str, _: Order| {}));
    assert!(matches!(bad, Err(NetError::Exchange(_))), "{bad:?}");
    // The connection still serves after a refusal.
    let (tx, rx) = crossbeam_channel::unbounded();
    let _ok = b.subscribe::<Order>(addr(&a), "orders.eu", tx)?;
    a.system().exchange::<Order>("orders.eu")?.publish(order(3));
    assert_eq!(recv(&rx).seq, 3);
    Ok(())
}

#[test]
fn a_connection_holds_a_bounded_number_of_subscriptions() -> TestResult {
    let a = publisher("a");
    let b = client("b");
    let mut guards = Vec::new();
    for n in 0..actor_net::MAX_SUBSCRIPTIONS {
        let pattern = format!("orders.n{n}");
        guards.push(b.subscribe::<Order>(addr(&a), &pattern, from_fn(|_: &str, _: Order| {}))?);
    }
    let refused = b.subscribe::<Order>(addr(&a), "orders.more", from_fn(|_: &str, _: Order| {}));
    assert!(
        matches!(
            refused,
            Err(NetError::Subscribe {
                reason: SubscribeError::TooMany,
                ..
            })
        ),
        "{refused:?}"
    );
    // A pattern already held costs nothing more.
    guards.push(b.subscribe::<Order>(addr(&a), "orders.n0", from_fn(|_: &str, _: Order| {}))?);
    Ok(())
}

/// A member of a cluster that shares `Order`, with a suspicion timeout long enough that the
/// other tests of this binary, running at once, cannot get it declared down.
fn member(seeds: &[String]) -> Node {
    let settings = actor_net::ClusterSettings {
        suspect_timeout: Duration::from_secs(3),
        ..actor_net::ClusterSettings::default()
    };
    Node::builder(secret())
        .listen("127.0.0.1:0")
        .share::<Order>()
        .join(seeds.iter().cloned())
        .cluster_settings(settings)
        .build()
        .unwrap()
}

#[test]
fn a_cluster_subscription_reaches_every_member_and_those_that_join_later() -> TestResult {
    let first = member(&[]);
    let seed = [addr(&first).to_string()];
    let second = member(&seed);
    let (tx, rx) = crossbeam_channel::unbounded();
    let guard = first.subscribe_cluster::<Order>("orders.>", tx)?;

    let third = member(&seed);
    let members = [&first, &second, &third];
    let exchanges: Vec<_> = members
        .iter()
        .map(|node| node.system().exchange::<Order>("orders.eu"))
        .collect::<Result<_, _>>()?;
    // Subscribed everywhere, `third` included once `first` has seen it up.
    wait_until("every member to hold the subscription", || {
        exchanges
            .iter()
            .all(|exchange| exchange.subscriber_count() == 1)
    });
    for (n, exchange) in (0..).zip(&exchanges) {
        exchange.publish(order(n));
    }
    let mut got: Vec<u64> = (0..3).map(|_| recv(&rx).seq).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2]);

    drop(guard);
    wait_until("every member to let go", || {
        exchanges
            .iter()
            .all(|exchange| exchange.subscriber_count() == 0)
    });
    Ok(())
}

#[test]
fn a_cluster_subscription_needs_a_cluster() {
    let node = client("alone");
    let refused = node.subscribe_cluster::<Order>("orders.>", from_fn(|_: &str, _: Order| {}));
    assert!(
        matches!(
            refused,
            Err(NetError::Cluster(actor_net::ClusterError::NotMember))
        ),
        "{refused:?}"
    );
}
