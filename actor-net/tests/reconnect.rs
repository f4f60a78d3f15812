//! A ref from `Node::lookup` outlives its connection, on 127.0.0.1: a peer restarted on the
//! same address is reached again through the old ref, sends fail fast while it is down,
//! dials to a down peer are bounded by the backoff, and a peer that no longer exports the
//! name makes the ref closed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actor_core::{
    Actor, ActorRef, AskError, Context, ExitReason, Failure, HandlerResult, Reply, SendError,
    System,
};
use actor_net::{NetError, Node, NodeBuilder, RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

/// The bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(10);

/// A send that fails must fail at least this fast. A guard against a hang, not a claim about
/// speed: a fast failure takes microseconds.
const FAST: Duration = Duration::from_secs(2);

const KEY: &[u8] = b"reconnect tests share this key: 0123456789";

fn secret() -> Secret {
    Secret::new(KEY.to_vec()).unwrap()
}

#[derive(Serialize, Deserialize)]
enum SeqMsg {
    Value(u64),
    Seen(Reply<u64>),
}

impl RemoteMessage for SeqMsg {
    const NAME: &'static str = "test.seq";
}

/// Checks that values arrive in order; answers with how many it saw.
#[derive(Default)]
struct Sequence {
    next: u64,
}

impl Actor for Sequence {
    type Msg = SeqMsg;
    fn handle(&mut self, msg: SeqMsg, _: &mut Context<SeqMsg>) -> HandlerResult {
        match msg {
            SeqMsg::Value(v) if v == self.next => self.next += 1,
            SeqMsg::Value(v) => return Err(format!("expected {}, got {v}", self.next).into()),
            SeqMsg::Seen(reply) => reply.send(self.next),
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
enum CountMsg {
    Add(u64),
    Total(Reply<u64>),
}

impl RemoteMessage for CountMsg {
    const NAME: &'static str = "test.count";
}

/// Adds what it is told, in any order.
#[derive(Default)]
struct Counter(u64);

impl Actor for Counter {
    type Msg = CountMsg;
    fn handle(&mut self, msg: CountMsg, _: &mut Context<CountMsg>) -> HandlerResult {
        match msg {
            CountMsg::Add(n) => self.0 += n,
            CountMsg::Total(reply) => reply.send(self.0),
        }
        Ok(())
    }
}

/// Another declared identity, for an actor exported under the name the refs look up.
#[derive(Serialize, Deserialize)]
struct Other(u64);

impl RemoteMessage for Other {
    const NAME: &'static str = "test.other";
}

struct Sink;

impl Actor for Sink {
    type Msg = Other;
    fn handle(&mut self, _: Other, _: &mut Context<Other>) -> HandlerResult {
        Ok(())
    }
}

/// A server node and the system of its actors.
struct Server {
    system: System,
    node: Node,
    addr: SocketAddr,
}

impl Server {
    /// A server listening on `listen` that exports what `export` exports.
    fn start(listen: SocketAddr, export: impl FnOnce(&System, &Node)) -> Server {
        let system = System::new();
        let node = Node::builder(secret())
            .name("server")
            .listen(listen.to_string())
            .build()
            .unwrap();
        export(&system, &node);
        let addr = node.local_addr().unwrap();
        Server { system, node, addr }
    }

    /// A server exporting a [`Sequence`] as `seq`, on a port of its own.
    fn sequence() -> Server {
        Server::start(any_port(), export_sequence)
    }

    /// Shuts the server down, and waits until `watched` has seen its connection lost.
    fn stop(self, watched: &ActorRef<SeqMsg>) {
        let mut down = watched.monitor();
        self.node.shutdown();
        self.system.shutdown();
        let notice = down.wait_timeout(WAIT).expect("the lost node is noticed");
        assert!(matches!(
            notice.reason,
            ExitReason::Stopped | ExitReason::Failed(_)
        ));
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn export_sequence(system: &System, node: &Node) {
    node.export("seq", &system.spawn(Sequence::default()).unwrap())
        .unwrap();
}

fn client() -> Node {
    client_with(|b| b)
}

fn client_with(configure: impl FnOnce(NodeBuilder) -> NodeBuilder) -> Node {
    configure(Node::builder(secret()).name("client"))
        .build()
        .unwrap()
}

/// Runs `send`, asserts that it failed fast, and gives its error back.
fn fails_fast<T: std::fmt::Debug, E>(send: impl FnOnce() -> Result<T, E>) -> E {
    let start = Instant::now();
    let outcome = send();
    let took = start.elapsed();
    assert!(took < FAST, "a failing send took {took:?}");
    match outcome {
        Ok(value) => panic!("expected the send to fail, got {value:?}"),
        Err(error) => error,
    }
}

/// Tells `value` until it is delivered: sends that fall inside the backoff of an earlier
/// failed dial are refused as unreachable, fast. Returns how many were refused.
fn tell_until_delivered(seq: &ActorRef<SeqMsg>, value: u64) -> u32 {
    let deadline = Instant::now() + WAIT;
    let mut refused = 0;
    loop {
        let start = Instant::now();
        match seq.tell(SeqMsg::Value(value)) {
            Ok(()) => return refused,
            Err(SendError::Unreachable(_)) => {
                assert!(start.elapsed() < FAST, "a refused send took too long");
                refused += 1;
            }
            Err(other) => panic!("expected the peer to be reached again, got {other:?}"),
        }
        assert!(Instant::now() < deadline, "the peer was not reached again");
        std::thread::yield_now();
    }
}

/// The most dials that the documented schedule allows within `elapsed` of the first one:
/// every pause at its shortest (100 ms doubling up to 5 s, less 20%).
fn most_dials_within(elapsed: Duration) -> u32 {
    let mut dials = 1;
    let mut at = Duration::ZERO;
    let mut pause = Duration::from_millis(100);
    loop {
        at += pause * 8 / 10;
        if at > elapsed {
            return dials;
        }
        dials += 1;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// A plain TCP listener standing in for a dead peer: it accepts each connection, counts it,
/// and closes it at once, so every dial fails in its handshake.
struct Slammer {
    addr: SocketAddr,
    accepted: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Slammer {
    fn bind(addr: SocketAddr) -> Slammer {
        let listener = TcpListener::bind(addr).unwrap();
        let accepted = Arc::new(AtomicU32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (accepted, stop) = (Arc::clone(&accepted), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    // Counted before it is closed, so the dialer learns of its failure after
                    // the count.
                    accepted.fetch_add(1, Ordering::SeqCst);
                    drop(stream);
                }
            })
        };
        Slammer {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    fn accepted(&self) -> u32 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Slammer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, WAIT);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_ref_reaches_a_restarted_peer_without_a_new_lookup() {
    let first = Server::sequence();
    let addr = first.addr;
    let node = client();
    let seq = node.lookup::<SeqMsg>(addr, "seq").unwrap();
    seq.tell(SeqMsg::Value(0)).unwrap();
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 1);

    first.stop(&seq);
    assert!(!seq.is_alive());
    // Down: every kind of send fails fast, and says that the node is unreachable.
    for _ in 0..100 {
        let refused = fails_fast(|| seq.tell(SeqMsg::Value(0)));
        assert!(refused.is_unreachable(), "{refused:?}");
        assert!(matches!(refused.into_inner(), SeqMsg::Value(0)));
        let refused = fails_fast(|| seq.try_tell(SeqMsg::Value(0)));
        assert!(matches!(refused, SendError::Unreachable(_)));
        let refused = fails_fast(|| seq.tell_timeout(SeqMsg::Value(0), WAIT));
        assert!(matches!(refused, SendError::Unreachable(_)));
        assert_eq!(
            fails_fast(|| seq.ask(SeqMsg::Seen, WAIT)),
            AskError::Unreachable
        );
    }

    // A new process on the same address, which gives `seq` another id than the first did:
    // a decoy is exported first.
    let second = Server::start(addr, |system, node| {
        node.export("decoy", &system.spawn(Sink).unwrap()).unwrap();
        export_sequence(system, node);
    });
    // The old ref, no new lookup: once the backoff of the dials that failed above allows,
    // the next tell reconnects, looks `seq` up again and is delivered to the new actor.
    tell_until_delivered(&seq, 0);
    seq.tell(SeqMsg::Value(1)).unwrap();
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 2);
    assert!(seq.is_alive());
    assert_eq!(node.connection_count(), 1);
    // A monitor made now watches the new connection.
    let mut down = seq.monitor();
    assert!(down.try_get().is_none());
    second.stop(&seq);
    assert!(down.wait_timeout(WAIT).is_ok());
    node.shutdown();
}

#[test]
fn the_first_send_after_a_restart_reconnects_when_no_dial_failed() {
    let first = Server::sequence();
    let addr = first.addr;
    let node = client();
    let seq = node.lookup::<SeqMsg>(addr, "seq").unwrap();
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 0);
    first.stop(&seq);
    // `try_tell` never dials, so the backoff is untouched.
    assert!(matches!(
        fails_fast(|| seq.try_tell(SeqMsg::Value(0))),
        SendError::Unreachable(_)
    ));
    let _second = Server::start(addr, export_sequence);
    // Even with the peer back, `try_tell` does not reconnect: that would block it.
    assert!(matches!(
        fails_fast(|| seq.try_tell(SeqMsg::Value(0))),
        SendError::Unreachable(_)
    ));
    // No dial has failed: the very next ask reconnects.
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 0);
    seq.try_tell(SeqMsg::Value(0)).unwrap();
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 1);
    node.shutdown();
}

#[test]
fn sends_while_the_peer_is_down_dial_it_a_bounded_number_of_times() {
    let server = Server::sequence();
    let addr = server.addr;
    let node = client();
    // Many refs to one address share its backoff.
    let refs: Vec<ActorRef<SeqMsg>> = (0..100)
        .map(|_| node.lookup::<SeqMsg>(addr, "seq").unwrap())
        .collect();
    assert_eq!(node.connection_count(), 1);
    server.stop(&refs[0]);
    let dead_peer = Slammer::bind(addr);

    // Every ref sends while the peer is down: one dial for all, not one each.
    let start = Instant::now();
    for seq in &refs {
        for _ in 0..10 {
            let refused = fails_fast(|| seq.tell(SeqMsg::Value(0)));
            assert!(refused.is_unreachable(), "{refused:?}");
        }
    }
    let dials = dead_peer.accepted();
    let allowed = most_dials_within(start.elapsed());
    assert!(
        (1..=allowed).contains(&dials),
        "1000 sends from 100 refs in {:?} dialed {dials} times (at most {allowed})",
        start.elapsed()
    );

    // Sends go on: the pauses between dials grow, so the dials stay few.
    let mut sends = 0u32;
    let deadline = Instant::now() + WAIT;
    while dead_peer.accepted() < dials + 2 {
        assert!(
            Instant::now() < deadline,
            "the backoff never allowed a dial"
        );
        let refused = fails_fast(|| refs[sends as usize % refs.len()].tell(SeqMsg::Value(0)));
        assert!(refused.is_unreachable(), "{refused:?}");
        sends += 1;
        std::thread::yield_now();
    }
    let elapsed = start.elapsed();
    let dials = dead_peer.accepted();
    assert!(
        dials <= most_dials_within(elapsed),
        "{dials} dials in {elapsed:?}"
    );
    // Three dials at least: the two pauses between them were at least 80 and 160 ms.
    assert!(
        elapsed >= Duration::from_millis(240),
        "three dials within {elapsed:?}"
    );
    println!("{dials} dials for {} sends in {elapsed:?}", sends + 1000);
    node.shutdown();
}

#[test]
fn a_peer_that_no_longer_exports_the_name_makes_the_ref_closed() {
    let first = Server::sequence();
    let addr = first.addr;
    let node = client();
    let seq = node.lookup::<SeqMsg>(addr, "seq").unwrap();
    let mut down_early = seq.monitor();
    first.stop(&seq);
    assert!(down_early.wait_timeout(WAIT).is_ok());
    // The restarted peer exports something else.
    let _second = Server::start(addr, |system, node| {
        node.export("decoy", &system.spawn(Sink).unwrap()).unwrap();
    });
    // No dial failed before: the first send reconnects and finds the name gone.
    assert!(matches!(
        seq.tell(SeqMsg::Value(0)),
        Err(SendError::Closed(SeqMsg::Value(0)))
    ));
    assert!(!seq.is_alive());
    assert_eq!(fails_fast(|| seq.ask(SeqMsg::Seen, WAIT)), AskError::Closed);
    let refused = fails_fast(|| seq.tell(SeqMsg::Value(0)));
    assert!(refused.is_closed());
    // A monitor made now gets a Down at once, saying why.
    let notice = seq.monitor().wait_timeout(WAIT).unwrap();
    assert_eq!(notice.id, seq.id());
    match notice.reason {
        ExitReason::Failed(Failure::Error(error)) => match error.downcast_ref::<NetError>() {
            Some(NetError::NotFound { name, .. }) => assert_eq!(name, "seq"),
            other => panic!("expected NotFound, got {other:?}"),
        },
        other => panic!("expected a failure, got {other:?}"),
    }
    node.shutdown();
}

#[test]
fn a_peer_that_exports_the_name_for_another_identity_makes_the_ref_closed() {
    let first = Server::sequence();
    let addr = first.addr;
    let node = client();
    let seq = node.lookup::<SeqMsg>(addr, "seq").unwrap();
    first.stop(&seq);
    let _second = Server::start(addr, |system, node| {
        node.export("seq", &system.spawn(Sink).unwrap()).unwrap();
    });
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT), Err(AskError::Closed));
    let notice = seq.monitor().wait_timeout(WAIT).unwrap();
    match notice.reason {
        ExitReason::Failed(Failure::Error(error)) => match error.downcast_ref::<NetError>() {
            Some(NetError::WrongType {
                requested, actual, ..
            }) => assert_eq!(
                (requested.as_str(), actual.as_str()),
                ("test.seq@1", "test.other@1")
            ),
            other => panic!("expected WrongType, got {other:?}"),
        },
        other => panic!("expected a failure, got {other:?}"),
    }
    node.shutdown();
}

#[test]
fn refs_of_a_node_that_shut_down_are_closed() {
    let server = Server::sequence();
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    node.shutdown();
    // The peer is still there, but this node no longer connects to anyone.
    assert!(fails_fast(|| seq.tell(SeqMsg::Value(0))).is_closed());
    assert!(fails_fast(|| seq.try_tell(SeqMsg::Value(0))).is_closed());
    assert_eq!(fails_fast(|| seq.ask(SeqMsg::Seen, WAIT)), AskError::Closed);
    server.node.shutdown();
    server.system.shutdown();
}

#[test]
fn senders_sharing_a_ref_fail_fast_while_one_of_them_reconnects() {
    const THREADS: u64 = 4;
    const EACH: u64 = 200;
    let export_counter = |system: &System, node: &Node| {
        node.export("count", &system.spawn(Counter::default()).unwrap())
            .unwrap();
        export_sequence(system, node);
    };
    let first = Server::start(any_port(), export_counter);
    let addr = first.addr;
    let node = client();
    let count = node.lookup::<CountMsg>(addr, "count").unwrap();
    let seq = node.lookup::<SeqMsg>(addr, "seq").unwrap();
    first.stop(&seq);

    // Each sender tells until EACH of its messages are delivered; it reports its first
    // refusal, so that the peer comes back only once every sender has met it down.
    let (refused_tx, refused) = crossbeam_channel::unbounded();
    let senders: Vec<JoinHandle<u64>> = (0..THREADS)
        .map(|_| {
            let count = count.clone();
            let refused_tx = refused_tx.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + WAIT;
                let (mut delivered, mut refusals) = (0, 0);
                while delivered < EACH {
                    assert!(Instant::now() < deadline, "the peer was not reached again");
                    match fails_fast_or_delivers(|| count.tell(CountMsg::Add(1))) {
                        Ok(()) => delivered += 1,
                        Err(SendError::Unreachable(_)) => {
                            if refusals == 0 {
                                refused_tx.send(()).unwrap();
                            }
                            refusals += 1;
                            std::thread::yield_now();
                        }
                        Err(other) => panic!("expected unreachable, got {other:?}"),
                    }
                }
                refusals
            })
        })
        .collect();
    for _ in 0..THREADS {
        refused.recv_timeout(WAIT).unwrap();
    }
    let _second = Server::start(addr, export_counter);
    let refusals: u64 = senders.into_iter().map(|s| s.join().unwrap()).sum();
    // Every tell that returned Ok was delivered once, and no other.
    assert_eq!(count.ask(CountMsg::Total, WAIT).unwrap(), THREADS * EACH);
    assert!(refusals >= THREADS);
    node.shutdown();
}

/// Runs `send`; a failure must come back fast (a success may take a reconnect).
fn fails_fast_or_delivers<E>(send: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
    let start = Instant::now();
    let outcome = send();
    if outcome.is_err() {
        assert!(
            start.elapsed() < FAST,
            "a failing send took {:?}",
            start.elapsed()
        );
    }
    outcome
}
