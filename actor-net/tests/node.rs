//! Nodes in one process: remote refs, lookups, and every kind of bad peer, on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::{Actor, AskError, Context, ExitReason, HandlerResult, Reply, SendError, System};
use actor_net::handshake::HandshakeError;
use actor_net::{MessageNameError, NetError, Node, RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

#[path = "support/peer.rs"]
mod peer;

use peer::{WAIT, closed_by_peer, ping_message, raw_session};

const KEY: &[u8] = b"node tests share this key: 0123456789";

fn secret() -> Secret {
    Secret::new(KEY.to_vec()).unwrap()
}

/// Checks that values arrive in order; answers with how many it saw.
#[derive(Default)]
struct Sequence {
    next: u64,
    held: Vec<Reply<u64>>,
}

#[derive(Serialize, Deserialize)]
enum SeqMsg {
    Value(u64),
    Seen(Reply<u64>),
    /// Keeps the reply unanswered (until the actor ends).
    Hold(Reply<u64>),
    /// Answers with the value; a zero does not decode on the receiving side.
    Check(NonZero, Reply<u64>),
}

impl RemoteMessage for SeqMsg {
    const NAME: &'static str = "test.seq";
}

/// The same layout as [`SeqMsg`] under a newer declared version.
#[derive(Serialize, Deserialize)]
struct SeqMsgV2(u64);

impl RemoteMessage for SeqMsgV2 {
    const NAME: &'static str = "test.seq";
    const VERSION: u32 = 2;
}

/// Another declared name.
#[derive(Serialize, Deserialize)]
struct Other(String);

impl RemoteMessage for Other {
    const NAME: &'static str = "test.other";
}

/// A name that breaks the naming rule.
#[derive(Serialize, Deserialize)]
struct BadlyNamed;

impl RemoteMessage for BadlyNamed {
    const NAME: &'static str = "Test::Seq";
}

/// Takes [`BadlyNamed`] messages and does nothing.
struct Sink;

impl Actor for Sink {
    type Msg = BadlyNamed;
    fn handle(&mut self, _: BadlyNamed, _: &mut Context<BadlyNamed>) -> HandlerResult {
        Ok(())
    }
}

/// A value whose decoding fails for 0, to send messages that do not decode.
#[derive(Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
#[derive(Clone, Copy)]
struct NonZero(u64);

impl TryFrom<u64> for NonZero {
    type Error = &'static str;
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        if v == 0 { Err("zero") } else { Ok(NonZero(v)) }
    }
}

impl From<NonZero> for u64 {
    fn from(v: NonZero) -> u64 {
        v.0
    }
}

impl Actor for Sequence {
    type Msg = SeqMsg;
    fn handle(&mut self, msg: SeqMsg, _: &mut Context<SeqMsg>) -> HandlerResult {
        match msg {
            SeqMsg::Value(v) if v == self.next => self.next += 1,
            SeqMsg::Value(v) => return Err(format!("expected {}, got {v}", self.next).into()),
            SeqMsg::Seen(reply) => reply.send(self.next),
            SeqMsg::Hold(reply) => self.held.push(reply),
            SeqMsg::Check(v, reply) => reply.send(v.0),
        }
        Ok(())
    }
}

struct Server {
    system: System,
    node: Node,
    addr: SocketAddr,
}

fn server(configure: impl FnOnce(actor_net::NodeBuilder) -> actor_net::NodeBuilder) -> Server {
    let system = System::new();
    let node = configure(Node::builder(secret()).name("server").listen("127.0.0.1:0"))
        .build()
        .unwrap();
    node.export("seq", &system.spawn(Sequence::default()).unwrap())
        .unwrap();
    let addr = node.local_addr().unwrap();
    Server { system, node, addr }
}

fn client() -> Node {
    Node::builder(secret()).name("client").build().unwrap()
}

/// The server still serves an honest client.
fn still_serves(server: &Server) {
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    seq.ask(SeqMsg::Seen, WAIT).unwrap();
    node.shutdown();
}

#[test]
fn tell_and_ask_across_nodes_in_order() {
    let server = server(|b| b);
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    assert!(seq.is_remote());
    assert_eq!(seq.name(), Some("seq"));
    for v in 0..20_000 {
        seq.tell(SeqMsg::Value(v)).unwrap();
    }
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 20_000);
    // A second lookup shares the connection.
    let again = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    assert_eq!(again.ask(SeqMsg::Seen, WAIT).unwrap(), 20_000);
    assert_eq!(node.connection_count(), 1);
    node.shutdown();
    server.node.shutdown();
    server.system.shutdown();
}

#[test]
fn a_lookup_of_another_version_names_both_identities() {
    let server = server(|b| b);
    let node = client();
    let error = node
        .lookup::<SeqMsgV2>(server.addr, "seq")
        .expect_err("version 2 is not version 1");
    match &error {
        NetError::WrongType {
            requested, actual, ..
        } => assert_eq!(
            (requested.as_str(), actual.as_str()),
            ("test.seq@2", "test.seq@1")
        ),
        other => panic!("expected WrongType, got {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("test.seq@2") && text.contains("test.seq@1"),
        "{text}"
    );
    node.shutdown();
}

#[test]
fn a_name_that_breaks_the_rule_is_refused_at_export_and_lookup() {
    let system = System::new();
    let server = server(|b| b);
    let actor = system.spawn(Sink).unwrap();
    match server.node.export("bad", &actor) {
        Err(NetError::MessageName(MessageNameError::BadCharacter { name, at })) => {
            assert_eq!((name, at), ("Test::Seq", 0));
        }
        other => panic!("expected MessageName, got {other:?}"),
    }
    let node = client();
    assert!(matches!(
        node.lookup::<BadlyNamed>(server.addr, "seq"),
        Err(NetError::MessageName(MessageNameError::BadCharacter { .. }))
    ));
    // Refused before connecting.
    assert_eq!(node.connection_count(), 0);
    node.shutdown();
    system.shutdown();
}

#[test]
fn lookups_fail_with_typed_errors_and_the_connection_stays_up() {
    let server = server(|b| b);
    let node = client();
    match node.lookup::<SeqMsg>(server.addr, "nobody") {
        Err(NetError::NotFound { name, .. }) => assert_eq!(name, "nobody"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    match node.lookup::<Other>(server.addr, "seq") {
        Err(NetError::WrongType {
            name,
            requested,
            actual,
            ..
        }) => {
            assert_eq!(name, "seq");
            assert_eq!(requested, "test.other@1");
            assert_eq!(actual, "test.seq@1");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    assert_eq!(seq.ask(SeqMsg::Seen, WAIT).unwrap(), 0);
    assert_eq!(node.connection_count(), 1);
    node.shutdown();
}

#[test]
fn a_message_that_does_not_decode_is_an_error_to_the_asker_and_the_connection_stays_up() {
    let server = server(|b| b);
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    assert_eq!(seq.ask(|r| SeqMsg::Check(NonZero(5), r), WAIT).unwrap(), 5);
    // Encodes fine here, but does not decode there: the asker hears at once.
    let start = Instant::now();
    match seq.ask(|r| SeqMsg::Check(NonZero(0), r), WAIT) {
        Err(AskError::Remote(why)) => assert!(why.contains("decode"), "{why}"),
        other => panic!("expected a remote error, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        seq.ask(SeqMsg::Seen, WAIT).unwrap(),
        0,
        "the connection stays up"
    );
    node.shutdown();
}

#[test]
fn a_wrong_key_on_either_side_fails_the_handshake_and_others_are_still_served() {
    let server = server(|b| b);
    let intruder = Node::builder(
        Secret::new(b"not the shared key, but as strong: 9876543210".to_vec()).unwrap(),
    )
    .build()
    .unwrap();
    match intruder.lookup::<SeqMsg>(server.addr, "seq") {
        Err(NetError::Handshake {
            source: HandshakeError::Authentication { .. },
            ..
        }) => {}
        other => panic!("expected an authentication failure, got {other:?}"),
    }
    // The other way round: a server with another key.
    let other = Node::builder(
        Secret::new(b"another server key, just as strong: 9876543210".to_vec()).unwrap(),
    )
    .listen("127.0.0.1:0")
    .build()
    .unwrap();
    match client().lookup::<SeqMsg>(other.local_addr().unwrap(), "seq") {
        Err(NetError::Handshake {
            source: HandshakeError::Authentication { .. },
            ..
        }) => {}
        other => panic!("expected an authentication failure, got {other:?}"),
    }
    still_serves(&server);
}

#[test]
fn a_tampered_frame_closes_only_its_connection() {
    let server = server(|b| b);
    let (mut stream, mut sealer) = raw_session(server.addr, KEY);
    let mut frame = Vec::new();
    sealer.seal(&ping_message(1), &mut frame).unwrap();
    let last = frame.len() - 1;
    frame[last] ^= 0x01;
    stream.write_all(&frame).unwrap();
    assert!(closed_by_peer(&mut stream));
    still_serves(&server);
}

#[test]
fn a_replayed_frame_closes_its_connection() {
    let server = server(|b| b);
    let (mut stream, mut sealer) = raw_session(server.addr, KEY);
    let mut frame = Vec::new();
    sealer.seal(&ping_message(1), &mut frame).unwrap();
    stream.write_all(&frame).unwrap();
    stream.write_all(&frame).unwrap();
    assert!(closed_by_peer(&mut stream));
    still_serves(&server);
}

#[test]
fn an_oversized_length_prefix_closes_the_connection_before_and_after_the_handshake() {
    let server = server(|b| b);
    let mut early = TcpStream::connect(server.addr).unwrap();
    early.write_all(&u32::MAX.to_be_bytes()).unwrap();
    assert!(closed_by_peer(&mut early));
    let (mut late, _) = raw_session(server.addr, KEY);
    late.write_all(&u32::MAX.to_be_bytes()).unwrap();
    assert!(closed_by_peer(&mut late));
    still_serves(&server);
}

#[test]
fn a_client_that_never_finishes_the_handshake_is_dropped_after_the_handshake_timeout() {
    let limit = Duration::from_millis(300);
    let server = server(|b| b.handshake_timeout(limit));
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let start = Instant::now();
    // Meanwhile an honest client is served.
    still_serves(&server);
    assert!(closed_by_peer(&mut silent));
    assert!(start.elapsed() >= limit);
}

#[test]
fn connections_beyond_the_limit_are_refused_at_once() {
    let server = server(|b| {
        b.max_connections(2)
            .handshake_timeout(Duration::from_secs(30))
    });
    // Two connections that hold their handshake slots.
    let _a = TcpStream::connect(server.addr).unwrap();
    let _b = TcpStream::connect(server.addr).unwrap();
    let mut excess = TcpStream::connect(server.addr).unwrap();
    assert!(
        closed_by_peer(&mut excess),
        "the third connection is closed"
    );
    assert_eq!(server.node.refused_count(), 1);
}

#[test]
fn a_version_mismatch_gets_a_clear_error() {
    let server = server(|b| b);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    // HELLO with version 2: "ACTR", version, kind 1, a nonce, the name "v2".
    let mut hello = b"ACTR".to_vec();
    hello.extend_from_slice(&2u16.to_be_bytes());
    hello.push(1);
    hello.extend_from_slice(&[7; 32]);
    hello.extend_from_slice(&2u16.to_be_bytes());
    hello.extend_from_slice(b"v2");
    let mut frame = (hello.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&hello);
    stream.write_all(&frame).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    // length 10, "ACTR", version 3, kind ERROR, code VERSION, the server's version 3.
    assert_eq!(answer, b"\0\0\0\x0aACTR\x00\x03\xff\x02\x00\x03");
    still_serves(&server);
}

#[test]
fn a_silent_peer_is_detected_by_the_heartbeat() {
    let server = server(|b| b.heartbeat(Duration::from_millis(100), Duration::from_millis(400)));
    let (mut stream, _sealer) = raw_session(server.addr, KEY);
    // We never answer, nor send anything: the server gives up on us.
    let start = Instant::now();
    assert!(closed_by_peer(&mut stream));
    assert!(start.elapsed() >= Duration::from_millis(400));
    still_serves(&server);
}

#[test]
fn losing_the_node_fails_pending_asks_and_tells_monitors() {
    let server = server(|b| b);
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    let held = seq.request(SeqMsg::Hold).unwrap();
    // The Hold request has reached the actor once a later ask is answered.
    seq.ask(SeqMsg::Seen, WAIT).unwrap();
    let down = seq.monitor();
    let start = Instant::now();
    server.node.shutdown();
    let mut held = held;
    assert!(held.wait_timeout(WAIT).is_err());
    let mut down = down;
    let notice = down.wait_timeout(WAIT).unwrap();
    assert_eq!(notice.id, seq.id());
    assert!(matches!(
        notice.reason,
        ExitReason::Stopped | ExitReason::Failed(_)
    ));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(!seq.is_alive());
    // Nothing listens on the address any more: the node is unreachable, not the actor gone.
    assert!(matches!(
        seq.tell(SeqMsg::Value(0)),
        Err(SendError::Unreachable(_))
    ));
    assert!(matches!(
        seq.ask(SeqMsg::Seen, WAIT),
        Err(AskError::Unreachable)
    ));
    server.system.shutdown();
}

#[test]
fn a_monitor_made_after_the_node_was_lost_is_told_at_once() {
    let server = server(|b| b);
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    let first = seq.monitor();
    server.node.shutdown();
    first.wait().unwrap();
    // The connection has closed: a new monitor must not wait for a notice that has gone.
    let mut late = seq.monitor();
    assert!(late.wait_timeout(WAIT).is_ok());
    server.system.shutdown();
}

#[test]
fn exports_are_unique_and_can_be_withdrawn() {
    let server = server(|b| b);
    let again = server.system.spawn(Sequence::default()).unwrap();
    assert!(matches!(
        server.node.export("seq", &again),
        Err(NetError::AlreadyExported(_))
    ));
    let node = client();
    let seq = node.lookup::<SeqMsg>(server.addr, "seq").unwrap();
    assert!(server.node.unexport("seq"));
    assert!(matches!(
        node.lookup::<SeqMsg>(server.addr, "seq"),
        Err(NetError::NotFound { .. })
    ));
    // The old ref's requests are refused: the asker hears at once.
    assert!(matches!(
        seq.ask(SeqMsg::Seen, WAIT),
        Err(AskError::Remote(_))
    ));
    node.shutdown();
}

#[test]
fn an_invalid_setting_is_a_typed_configuration_error() {
    let error = Node::builder(secret())
        .name("n".repeat(256))
        .build()
        .expect_err("a name of 256 bytes is refused");
    assert!(matches!(error, NetError::Config(_)), "{error:?}");
    // The message names the cause: a user printing it alone sees why.
    let message = error.to_string();
    assert!(
        message.starts_with("invalid node configuration: "),
        "{message}"
    );
    assert!(message.contains("256"), "{message}");
}
