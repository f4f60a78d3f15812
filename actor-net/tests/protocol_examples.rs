//! Checks the examples of `PROTOCOL.md` in hexadecimal against the implementation: the
//! encoding of message values, the calls of the built-in services and of a member's `cluster`
//! actor (against a serving node, and as a client node sends them), the whole frames of the
//! echo call, the largest answer, the answers to malformed ERROR frames, and the frame limit of
//! the WELCOME.
//!
//! The examples are read from the document itself, so a changed byte on either side fails a
//! test. (The example lookup and batch are checked by the tests of `src/message.rs`, the test
//! vectors by `protocol_vectors.rs` and `membership_vectors.rs`.)

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actor_core::codec::{Bincode, Codec, FrameConfig, FrameReader};
use actor_core::{Actor, Context, HandlerResult, Reply, System};
use actor_net::cluster::{CLUSTER, ClusterMsg};
use actor_net::handshake::{
    self, ClientHandshake, Encryption, HandshakeConfig, HandshakeError, Handshaken,
    ServerHandshake, Side, Step,
};
use actor_net::services::{EchoMsg, ServiceSet, TimeMsg, TimeOfDay};
use actor_net::session::{ENCRYPTED_OVERHEAD, OVERHEAD, Opener, Sealer};
use actor_net::{
    ClusterMember, KeyCheck, MemberState, Node, NodeBuilder, NodeId, RemoteMessage, Secret, frame,
};
use serde::{Deserialize, Serialize};

const PROTOCOL: &str = include_str!("../PROTOCOL.md");

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(10);

/// The key of the test vectors: 25 ASCII bytes, weak on purpose (PROTOCOL.md, "Test vectors"),
/// so taken with `KeyCheck::AllowWeak`, as no real node would take it.
const KEY: &[u8] = b"actor test key 0123456789";

fn secret() -> Secret {
    Secret::with_check(KEY.to_vec(), KeyCheck::AllowWeak).unwrap()
}

fn unhex(hex: &str) -> Vec<u8> {
    let hex: String = hex.split_whitespace().collect();
    assert!(hex.len().is_multiple_of(2), "odd number of hex digits");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lines of the first `text` block after `heading` in PROTOCOL.md.
fn block(heading: &str) -> Vec<&'static str> {
    let section = PROTOCOL
        .split(heading)
        .nth(1)
        .and_then(|s| s.split("```text").nth(1))
        .and_then(|s| s.split("```").next())
        .unwrap_or_else(|| panic!("PROTOCOL.md has a {heading:?} block"));
    section
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

/// The messages of a block, one per line, as bytes.
fn messages(heading: &str) -> Vec<Vec<u8>> {
    block(heading).into_iter().map(unhex).collect()
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    Bincode::new().encode(value, &mut out).unwrap();
    out
}

// ---------------------------------------------------------------------------------------------
// Message values.

/// The varint of PROTOCOL.md, written from its table.
fn doc_varint(v: u128) -> Vec<u8> {
    if v < 251 {
        vec![v as u8]
    } else if v < 1 << 16 {
        [&[0xfb][..], &(v as u16).to_le_bytes()].concat()
    } else if v < 1 << 32 {
        [&[0xfc][..], &(v as u32).to_le_bytes()].concat()
    } else if v < 1 << 64 {
        [&[0xfd][..], &(v as u64).to_le_bytes()].concat()
    } else {
        [&[0xfe][..], &v.to_le_bytes()].concat()
    }
}

/// Zigzag, as PROTOCOL.md writes signed integers before the varint.
fn doc_zigzag(n: i64) -> u128 {
    if n >= 0 {
        2 * n as u128
    } else {
        2 * (-(n as i128)) as u128 - 1
    }
}

#[test]
fn the_value_examples_are_bincodes_encodings() {
    let expected: Vec<(&str, Vec<u8>)> = vec![
        ("1u64", encode(&1_u64)),
        ("250u64", encode(&250_u64)),
        ("251u64", encode(&251_u64)),
        ("300u64", encode(&300_u64)),
        ("65536u64", encode(&65_536_u64)),
        ("4294967296u64", encode(&4_294_967_296_u64)),
        ("-1i64", encode(&-1_i64)),
        ("-300i64", encode(&-300_i64)),
        ("\"hi\"", encode("hi")),
        ("Some(5u32)", encode(&Some(5_u32))),
        ("true", encode(&true)),
    ];
    let lines = block("### Message values");
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for (line, (value, bytes)) in lines.iter().zip(&expected) {
        let (label, hex_bytes) = line.split_once(' ').unwrap();
        assert_eq!(label, *value);
        assert_eq!(unhex(hex_bytes), *bytes, "{value}");
    }
    // The same bytes for a byte vector as for a string.
    assert_eq!(encode(&b"hi".to_vec()), encode("hi"));
    assert_eq!(hex(&encode(&1_u64)), "01");
    assert_eq!(hex(&encode(&300_u64)), "fb2c01");
}

#[test]
fn bincode_follows_the_documented_rules() {
    let edges = [
        0,
        1,
        250,
        251,
        300,
        65_535,
        65_536,
        (1 << 32) - 1,
        1 << 32,
        u64::MAX.into(),
    ];
    for v in edges {
        let v: u128 = v;
        if let Ok(v64) = u64::try_from(v) {
            assert_eq!(encode(&v64), doc_varint(v), "u64 {v}");
        }
        if let Ok(v32) = u32::try_from(v) {
            assert_eq!(encode(&v32), doc_varint(v), "u32 {v}");
        }
        if let Ok(v16) = u16::try_from(v) {
            assert_eq!(encode(&v16), doc_varint(v), "u16 {v}");
        }
        assert_eq!(encode(&v), doc_varint(v), "u128 {v}");
    }
    assert_eq!(encode(&u128::MAX), doc_varint(u128::MAX));
    for n in [0, -1, 1, -2, 2, 125, -126, 126, -300, i64::MAX, i64::MIN] {
        assert_eq!(encode(&n), doc_varint(doc_zigzag(n)), "i64 {n}");
    }
    assert_eq!(encode(&255_u8), [0xff]);
    assert_eq!(encode(&-1_i8), [0xff]);
    assert_eq!(encode(&false), [0x00]);
    assert_eq!(encode(&None::<u32>), [0x00]);
    assert_eq!(encode(&vec![1_u16, 300]), unhex("02 01 fb2c01"));
    #[derive(Serialize)]
    struct Pair(u8, u64);
    assert_eq!(encode(&Pair(1, 300)), unhex("01 fb2c01"));
    #[derive(Serialize)]
    enum Shape {
        _Empty,
        Point(u8, u8),
    }
    assert_eq!(encode(&Shape::Point(3, 4)), unhex("01 03 04"));

    // What the reference decoder accepts beyond the shortest form, and what it refuses.
    let codec = Bincode::new();
    assert_eq!(codec.decode::<u64>(&unhex("fb0100")).unwrap(), 1);
    assert!(codec.decode::<u16>(&unhex("fc01000000")).is_err());
}

// ---------------------------------------------------------------------------------------------
// A session seen as messages, for crafting and checking them.

/// One end of an authenticated connection that sends and receives single messages, answers
/// PINGs and hides PINGs and PONGs.
struct Wire {
    reader: FrameReader<TcpStream>,
    sealer: Sealer,
    opener: Opener,
    /// Messages received but not yet taken.
    received: VecDeque<Vec<u8>>,
}

impl Wire {
    fn new(stream: TcpStream, done: Handshaken) -> Wire {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        Wire {
            reader: FrameReader::with_config(stream, frame::session_frames()),
            sealer: done.sealer,
            opener: done.opener,
            received: VecDeque::new(),
        }
    }

    /// A client session with the node at `addr`.
    fn connect(addr: SocketAddr) -> Wire {
        let mut stream = TcpStream::connect(addr).unwrap();
        let config = HandshakeConfig::builder().name("doc").build().unwrap();
        let done = handshake::client_handshake(&mut stream, &secret(), &config).unwrap();
        Wire::new(stream, done)
    }

    /// The server's end of the next connection `listener` accepts.
    fn accept(listener: &TcpListener) -> Wire {
        let (mut stream, peer) = listener.accept().unwrap();
        let config = HandshakeConfig::builder().name("doc").build().unwrap();
        let done = handshake::server_handshake(&mut stream, &secret(), &config, peer).unwrap();
        Wire::new(stream, done)
    }

    /// Sends one message in a frame of its own.
    fn send(&mut self, message: &[u8]) {
        let mut out = Vec::new();
        self.sealer.seal(message, &mut out).unwrap();
        frame::write_frames(self.reader.get_mut(), &out).unwrap();
    }

    /// The next message that is not a PING or a PONG.
    fn recv(&mut self) -> Vec<u8> {
        loop {
            if let Some(message) = self.received.pop_front() {
                match message[0] {
                    // PING: answered with a PONG of the same nonce.
                    7 => self.send(&[&[8][..], &message[1..]].concat()),
                    8 => {}
                    _ => return message,
                }
                continue;
            }
            let payload = frame::read_frame(&mut self.reader).expect("a frame within WAIT");
            let mut body = self.opener.open(payload).unwrap();
            while !body.is_empty() {
                let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
                let (message, rest) = body.split_at(5 + len);
                self.received.push_back(message.to_vec());
                body = rest;
            }
        }
    }
}

/// A node serving the built-in services on 127.0.0.1, as `actor-node serve` does.
struct Served {
    node: Node,
    services: ServiceSet,
    system: System,
}

impl Served {
    fn start(configure: impl FnOnce(NodeBuilder) -> NodeBuilder) -> Served {
        let node = configure(Node::builder(secret()).listen("127.0.0.1:0"))
            .build()
            .unwrap();
        let system = System::new();
        let services = ServiceSet::builder().build(&system).unwrap();
        services.export(&node).unwrap();
        Served {
            node,
            services,
            system,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.node.local_addr().unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.node.shutdown();
        self.services.shutdown();
        self.system.shutdown();
    }
}

/// Reads a varint as PROTOCOL.md describes it, from the front of `bytes`.
fn read_varint(bytes: &mut &[u8]) -> u128 {
    let (width, rest) = match bytes[0] {
        0xfb => (2, &bytes[1..]),
        0xfc => (4, &bytes[1..]),
        0xfd => (8, &bytes[1..]),
        0xfe => (16, &bytes[1..]),
        small => {
            *bytes = &bytes[1..];
            return small.into();
        }
    };
    let mut le = [0; 16];
    le[..width].copy_from_slice(&rest[..width]);
    *bytes = &rest[width..];
    u128::from_le_bytes(le)
}

/// Reads a string as PROTOCOL.md describes it, from the front of `bytes`.
fn read_string(bytes: &mut &[u8]) -> String {
    let len = usize::try_from(read_varint(bytes)).unwrap();
    let (text, rest) = bytes.split_at(len);
    *bytes = rest;
    String::from_utf8(text.to_vec()).unwrap()
}

/// Reads a `TimeOfDay` field by field, as a client in another language would.
fn read_time_of_day(mut bytes: &[u8]) -> TimeOfDay {
    let bytes = &mut bytes;
    let time = TimeOfDay {
        secs: u64::try_from(read_varint(bytes)).unwrap(),
        nanos: u32::try_from(read_varint(bytes)).unwrap(),
        local: read_string(bytes),
        daytime: read_string(bytes),
    };
    assert!(bytes.is_empty(), "nothing after the last field");
    time
}

// ---------------------------------------------------------------------------------------------
// The built-in services.

#[test]
fn a_node_answers_the_documented_echo_call() {
    let [lookup, lookup_ok, tell, reply] = &messages("### Example: calling echo")[..] else {
        panic!("four messages");
    };
    let served = Served::start(|b| b);
    let mut wire = Wire::connect(served.addr());
    wire.send(lookup);
    assert_eq!(hex(&wire.recv()), hex(lookup_ok));
    wire.send(tell);
    assert_eq!(hex(&wire.recv()), hex(reply));
}

#[test]
fn a_node_answers_the_documented_time_call() {
    let [lookup, lookup_ok, tell, reply] = &messages("### Example: calling time")[..] else {
        panic!("four messages");
    };
    let served = Served::start(|b| b);
    let mut wire = Wire::connect(served.addr());
    // The documented ids are those of a fresh node, where `echo` came first.
    let [echo_lookup, echo_ok, ..] = &messages("### Example: calling echo")[..] else {
        panic!("four messages");
    };
    wire.send(echo_lookup);
    assert_eq!(wire.recv(), *echo_ok);
    wire.send(lookup);
    assert_eq!(hex(&wire.recv()), hex(lookup_ok));
    wire.send(tell);
    let answered = wire.recv();
    // REPLY, its length, reply id 2, status 0, as in the example; then a time of day.
    assert_eq!(answered[0], reply[0]);
    assert_eq!(
        u32::from_be_bytes(answered[1..5].try_into().unwrap()) as usize,
        answered.len() - 5
    );
    assert_eq!(answered[5..14], reply[5..14]);
    let time = read_time_of_day(&answered[14..]);
    assert_eq!(
        Bincode::new().decode::<TimeOfDay>(&answered[14..]).unwrap(),
        time
    );
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(time.secs.abs_diff(now.as_secs()) <= 60, "{time:?}");
    assert!(time.nanos < 1_000_000_000);
    assert_eq!(time.daytime.len(), 24, "{time:?}");
}

#[test]
fn the_documented_time_answer_is_a_time_of_day() {
    let [.., reply] = &messages("### Example: calling time")[..] else {
        panic!("four messages");
    };
    let documented = TimeOfDay {
        secs: 1_795_785_303,
        nanos: 123_456_789,
        local: "2026-11-27 13:15:03 +00:00 UTC".into(),
        daytime: "Fri Nov 27 13:15:03 2026".into(),
    };
    assert_eq!(reply[..14], unhex("05 0000004b 0000000000000002 00"));
    assert_eq!(hex(&reply[14..]), hex(&encode(&documented)));
    assert_eq!(read_time_of_day(&reply[14..]), documented);
}

/// Runs `call` on a client node against a fake server on `listener` that plays `answer` with
/// the client's messages; returns what `call` returned.
fn against_fake_server<T: Send + 'static>(
    answer: impl FnOnce(&mut Wire) + Send + 'static,
    call: impl FnOnce(&Node, SocketAddr) -> T,
) -> T {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let mut wire = Wire::accept(&listener);
        answer(&mut wire);
        let _ = done.send(());
    });
    let node = Node::builder(secret()).name("client").build().unwrap();
    let result = call(&node, addr);
    finished
        .recv_timeout(WAIT)
        .expect("the fake server saw what it expected");
    node.shutdown();
    result
}

/// Checks that a client's LOOKUP is the documented one but for its request id, and answers
/// with the documented LOOKUP_OK for that id.
fn answer_lookup(wire: &mut Wire, lookup: &[u8], lookup_ok: &[u8]) {
    let sent = wire.recv();
    let request = &sent[5..13];
    let expected = [&lookup[..5], request, &lookup[13..]].concat();
    assert_eq!(hex(&sent), hex(&expected), "the LOOKUP");
    wire.send(&[&lookup_ok[..5], request, &lookup_ok[13..]].concat());
}

/// Checks that a client's TELL is the documented one but for its reply id (listed, and as the
/// last byte of the message bytes), and returns that id.
fn check_tell(sent: &[u8], tell: &[u8]) -> [u8; 8] {
    let id: [u8; 8] = sent[15..23].try_into().unwrap();
    let varint = u64::from_be_bytes(id);
    assert!(varint < 251, "a one-byte varint");
    let last = tell.len() - 1;
    let expected = [&tell[..15], &id, &tell[23..last], &[varint as u8]].concat();
    assert_eq!(hex(sent), hex(&expected), "the TELL");
    id
}

#[test]
fn a_client_node_sends_the_documented_echo_call() {
    let [lookup, lookup_ok, tell, reply] =
        messages("### Example: calling echo").try_into().unwrap();
    let answer = against_fake_server(
        move |wire| {
            answer_lookup(wire, &lookup, &lookup_ok);
            let id = check_tell(&wire.recv(), &tell);
            wire.send(&[&reply[..5], &id, &reply[13..]].concat());
        },
        |node, addr| {
            let echo = node.lookup::<EchoMsg>(addr, "echo").unwrap();
            echo.ask(|reply| EchoMsg::Echo(b"hi".to_vec(), reply), WAIT)
                .unwrap()
        },
    );
    assert_eq!(answer, b"hi");
}

#[test]
fn a_client_node_sends_the_documented_time_call_and_reads_the_answer() {
    let [lookup, lookup_ok, tell, reply] =
        messages("### Example: calling time").try_into().unwrap();
    let answer = against_fake_server(
        move |wire| {
            answer_lookup(wire, &lookup, &lookup_ok);
            let id = check_tell(&wire.recv(), &tell);
            wire.send(&[&reply[..5], &id, &reply[13..]].concat());
        },
        |node, addr| {
            let time = node.lookup::<TimeMsg>(addr, "time").unwrap();
            time.ask(TimeMsg::Now, WAIT).unwrap()
        },
    );
    assert_eq!(answer.secs, 1_795_785_303);
    assert_eq!(answer.nanos, 123_456_789);
    assert_eq!(answer.local, "2026-11-27 13:15:03 +00:00 UTC");
    assert_eq!(answer.daytime, "Fri Nov 27 13:15:03 2026");
}

// ---------------------------------------------------------------------------------------------
// The cluster actor.

/// The answer of "Example: calling cluster": the member A of the membership vectors, itself,
/// and B, which A sees as suspect.
fn documented_members() -> Vec<ClusterMember> {
    vec![
        ClusterMember {
            id: NodeId::from_u64(0x8a5f_3c2e_1d4b_6a79),
            addr: "192.0.2.1:7700".parse().unwrap(),
            state: MemberState::Up,
        },
        ClusterMember {
            id: NodeId::from_u64(0x1f0e_2d3c_4b5a_6978),
            addr: "[2001:db8::2]:7701".parse().unwrap(),
            state: MemberState::Suspect,
        },
    ]
}

#[test]
fn a_member_answers_the_documented_cluster_call() {
    let [lookup, lookup_ok, tell, reply] = &messages("### Example: calling cluster")[..] else {
        panic!("four messages");
    };
    // A member serving the services, as `actor-node serve` on a specific address.
    let served = Served::start(|b| b.join(Vec::<String>::new()));
    let mut wire = Wire::connect(served.addr());
    wire.send(lookup);
    assert_eq!(hex(&wire.recv()), hex(lookup_ok));
    wire.send(tell);
    let answered = wire.recv();
    // REPLY, its length, reply id 1, status 0, as in the example; then the members.
    assert_eq!(answered[0], reply[0]);
    assert_eq!(
        u32::from_be_bytes(answered[1..5].try_into().unwrap()) as usize,
        answered.len() - 5
    );
    assert_eq!(answered[5..14], reply[5..14]);
    // Alone in its cluster, the member lists itself, up, read as a client in another
    // language would: one element, its id, `00` and the 4 bytes of 127.0.0.1, its port, `00`.
    let mut answer = &answered[14..];
    assert_eq!(read_varint(&mut answer), 1);
    let id = served.node.node_id().unwrap();
    assert_eq!(read_varint(&mut answer), u128::from(id.as_u64()));
    assert_eq!(answer[..5], [0, 127, 0, 0, 1]);
    answer = &answer[5..];
    assert_eq!(read_varint(&mut answer), u128::from(served.addr().port()));
    assert_eq!(answer, [0]);
    assert_eq!(hex(&answered[14..]), hex(&encode(&served.node.members())));

    // On a member, `echo` comes second (the example of calling echo, but for the id).
    let [echo_lookup, ..] = &messages("### Example: calling echo")[..] else {
        panic!("four messages");
    };
    wire.send(echo_lookup);
    assert_eq!(
        hex(&wire.recv()),
        hex(&unhex("02 00000010 0000000000000001 0000000000000002"))
    );
}

#[test]
fn a_client_node_sends_the_documented_cluster_call_and_reads_the_answer() {
    let [lookup, lookup_ok, tell, reply] =
        messages("### Example: calling cluster").try_into().unwrap();
    let members = against_fake_server(
        move |wire| {
            answer_lookup(wire, &lookup, &lookup_ok);
            let id = check_tell(&wire.recv(), &tell);
            wire.send(&[&reply[..5], &id, &reply[13..]].concat());
        },
        |node, addr| {
            let cluster = node.lookup::<ClusterMsg>(addr, CLUSTER).unwrap();
            cluster.ask(ClusterMsg::Members, WAIT).unwrap()
        },
    );
    assert_eq!(members, documented_members());
}

#[test]
fn the_documented_cluster_answer_is_the_members_encoding() {
    let [.., reply] = &messages("### Example: calling cluster")[..] else {
        panic!("four messages");
    };
    assert_eq!(reply[..14], unhex("05 0000003a 0000000000000001 00"));
    assert_eq!(hex(&reply[14..]), hex(&encode(&documented_members())));
    assert_eq!(
        (ClusterMsg::NAME, ClusterMsg::VERSION),
        ("actor.cluster", 1)
    );
}

#[test]
fn the_echo_call_in_frames_is_sealed_as_documented() {
    let bodies = messages("### Example: calling echo");
    let frames = messages("The same exchange as whole frames");
    assert_eq!(frames.len(), bodies.len());
    let nonce = |first: u8| std::array::from_fn(|i| first + i as u8);
    let (c2s, s2c) = handshake::session_keys(&secret(), &nonce(0x00), &nonce(0x20));
    let (mut client, mut server) = (Sealer::new(&c2s), Sealer::new(&s2c));
    let (mut from_client, mut from_server) = (Opener::new(&c2s), Opener::new(&s2c));
    // The WELCOME took the server's sequence number 0.
    let mut welcome = Vec::new();
    server.seal(&[0], &mut welcome).unwrap();
    from_server.open(&welcome[4..]).unwrap();
    for (i, (body, documented)) in bodies.iter().zip(&frames).enumerate() {
        let (sealer, opener) = if i % 2 == 0 {
            (&mut client, &mut from_client)
        } else {
            (&mut server, &mut from_server)
        };
        let mut sealed = Vec::new();
        sealer.seal(body, &mut sealed).unwrap();
        assert_eq!(hex(&sealed), hex(documented), "frame {i}");
        assert_eq!(opener.open(&documented[4..]).unwrap(), body.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// The largest answer.

/// Asks for an answer of the given number of bytes.
#[derive(Serialize, Deserialize)]
struct Grow(u32, Reply<Vec<u8>>);

impl RemoteMessage for Grow {
    const NAME: &'static str = "test.sized";
}

struct Grower;

impl Actor for Grower {
    type Msg = Grow;
    fn handle(&mut self, Grow(n, reply): Grow, _: &mut Context<Grow>) -> HandlerResult {
        reply.send(vec![7; n as usize]);
        Ok(())
    }
}

#[test]
fn an_answer_over_the_frame_limit_minus_72_or_56_is_replaced_by_status_3() {
    // With the default limit, the largest answers are the documented numbers.
    assert_eq!(
        frame::DEFAULT_MAX_PAYLOAD as usize - OVERHEAD - 32,
        1_048_504
    );
    assert_eq!(
        frame::DEFAULT_MAX_PAYLOAD as usize - ENCRYPTED_OVERHEAD - 32,
        1_048_520
    );
    assert!(PROTOCOL.contains("that is 1 048 504 bytes"));
    assert!(PROTOCOL.contains("1 048 520 bytes in an encrypted session"));
    for (encryption, overhead) in [(Encryption::Off, 72), (Encryption::Required, 56)] {
        largest_answer(encryption, overhead);
    }
}

/// Checks that a node whose sessions are protected as `encryption` says answers up to its
/// frame limit minus `overhead` and refuses the next size with status 3.
fn largest_answer(encryption: Encryption, overhead: usize) {
    let max_frame: u32 = 1024;
    let largest = max_frame as usize - overhead;
    let served = Served::start(|b| b.max_frame(max_frame).encryption(encryption));
    let system = System::new();
    let grower = system.spawn(Grower).unwrap();
    served.node.export("sized", &grower).unwrap();
    let mut wire = Wire::connect(served.addr());
    let identity = b"test.sized@1";
    let mut lookup = vec![1, 0, 0, 0, 0];
    lookup.extend(1_u64.to_be_bytes());
    lookup.extend(5_u16.to_be_bytes());
    lookup.extend(b"sized");
    lookup.extend((identity.len() as u16).to_be_bytes());
    lookup.extend(identity);
    let len = (lookup.len() - 5) as u32;
    lookup[1..5].copy_from_slice(&len.to_be_bytes());
    wire.send(&lookup);
    let found = wire.recv();
    assert_eq!(found[0], 2, "LOOKUP_OK");
    let actor = &found[13..21];

    // An answer of `largest` bytes: a Vec<u8> of n elements takes n + 3 bytes (n ≥ 251).
    let tell = |n: usize, id: u8| {
        let mut message = vec![4, 0, 0, 0, 0];
        message.extend(actor);
        message.extend(1_u16.to_be_bytes());
        message.extend(u64::from(id).to_be_bytes());
        message.extend(encode(&(n as u32)));
        message.push(id);
        let len = (message.len() - 5) as u32;
        message[1..5].copy_from_slice(&len.to_be_bytes());
        message
    };
    wire.send(&tell(largest - 3, 1));
    let answered = wire.recv();
    assert_eq!(answered[13], 0, "status 0");
    assert_eq!(answered.len() - 14, largest);

    wire.send(&tell(largest - 2, 1));
    let [.., too_large] = &messages("**The largest answer.**")[..] else {
        panic!("an example");
    };
    assert_eq!(hex(&wire.recv()), hex(too_large), "{encryption:?}");
    system.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Handshake details.

#[test]
fn malformed_error_frames_are_answered_as_documented() {
    let examples = [
        ("414354520003ff06", "414354520003ff03"),
        ("414354520003ff020003", "414354520003ff03"),
    ];
    let key = secret();
    let config = HandshakeConfig::default();
    for (received, answer) in examples {
        assert!(
            PROTOCOL.contains(&format!("`{received}`"))
                && PROTOCOL.contains(&format!("`{answer}`")),
            "PROTOCOL.md shows {received} and {answer}"
        );
        let mut out = Vec::new();
        let err = ServerHandshake::new(&key, &config, [0; 32])
            .step(&unhex(received), &mut out)
            .unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Malformed { side: Side::Local }
        ));
        assert_eq!(hex(&out[4..]), answer, "the server's answer to {received}");

        let mut out = Vec::new();
        let client = ClientHandshake::new(&key, &config, [0; 32], &mut out);
        out.clear();
        let err = client.step(&unhex(received), &mut out).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Malformed { side: Side::Local }
        ));
        assert_eq!(hex(&out[4..]), answer, "the client's answer to {received}");
    }
}

#[test]
fn the_version_errors_of_the_changes_section_are_the_implementations() {
    let (ours, theirs) = ("414354520003ff020003", "414354520002ff020002");
    assert!(PROTOCOL.contains(&format!("`{ours}`")) && PROTOCOL.contains(&format!("`{theirs}`")));
    let key = secret();
    let config = HandshakeConfig::default();
    // A version-2 HELLO gets ours.
    let mut hello = unhex("41435452000201");
    hello.extend([0; 32]);
    hello.extend([0, 0]);
    let mut out = Vec::new();
    let err = ServerHandshake::new(&key, &config, [0; 32])
        .step(&hello, &mut out)
        .unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 3, theirs: 2 }
    ));
    assert_eq!(hex(&out[4..]), ours);
    // A version-2 peer's is reported, not answered.
    let mut out = Vec::new();
    let client = ClientHandshake::new(&key, &config, [0; 32], &mut out);
    out.clear();
    let err = client.step(&unhex(theirs), &mut out).unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 3, theirs: 2 }
    ));
    assert!(out.is_empty());
}

#[test]
fn the_welcome_is_read_under_the_handshake_limit_and_alone() {
    // A server that sends its WELCOME and, in the same write, a session frame larger than the
    // whole handshake limit: the client reads the WELCOME alone, then the frame as a session
    // frame.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body = vec![0x5a; 2 * frame::DEFAULT_HANDSHAKE_MAX_PAYLOAD as usize];
    let sent = body.clone();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let key = secret();
        let config = HandshakeConfig::builder().name("server").build().unwrap();
        let mut reader = FrameReader::with_config(stream, FrameConfig::new());
        let mut out = Vec::new();
        let hello = reader.read_frame().unwrap().unwrap().to_vec();
        let Ok(Step::Continue(server)) =
            ServerHandshake::new(&key, &config, [9; 32]).step(&hello, &mut out)
        else {
            panic!("the HELLO is accepted");
        };
        frame::write_frames(reader.get_mut(), &out).unwrap();
        out.clear();
        let proof = reader.read_frame().unwrap().unwrap().to_vec();
        let Ok(Step::Done(mut done)) = server.step(&proof, &mut out) else {
            panic!("the PROOF is accepted");
        };
        done.sealer.seal(&sent, &mut out).unwrap();
        frame::write_frames(reader.get_mut(), &out).unwrap();
        // Holds the connection open until the client has read.
        let _ = reader.read_frame();
    });
    let mut stream = TcpStream::connect(addr).unwrap();
    let config = HandshakeConfig::builder().name("client").build().unwrap();
    assert_eq!(config.max_frame_len(), 512);
    let done = handshake::client_handshake(&mut stream, &secret(), &config).unwrap();
    let mut wire = Wire::new(stream, done);
    let payload = frame::read_frame(&mut wire.reader).unwrap();
    assert_eq!(wire.opener.open(payload).unwrap(), body.as_slice());
}
