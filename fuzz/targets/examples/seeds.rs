//! Writes the seed inputs of every fuzz target: valid frames, the handshake transcript and
//! session frames of the test vectors in `actor-net/PROTOCOL.md`, valid batches of messages,
//! and valid tagged messages, each also in a few broken forms.
//!
//! `cargo run -p actor-fuzz-targets --example seeds -- fuzz/corpus` writes
//! `fuzz/corpus/<target>/seed-<name>`; the fuzzer starts from them, and `cargo fuzz cmin`
//! keeps those that still add coverage.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;

use actor_core::Tagged;
use actor_core::codec::{Bincode, Codec, FrameConfig};
use actor_net::fuzzing::message::{LookupFailure, Rejection, ReplyStatus, Writer};
use actor_net::handshake::{client_proof, server_proof, session_keys};
use actor_net::session::Sealer;
use actor_net::{KeyCheck, Secret};
use serde::Serialize;

/// The inputs of the test vectors. The key is short text, weak on purpose (PROTOCOL.md, "Test
/// vectors"), so it is taken with `KeyCheck::AllowWeak`.
const KEY: &[u8] = b"actor test key 0123456789";
const CLIENT: &str = "client";
const SERVER: &str = "server";

fn nonce(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first + i as u8)
}

/// One frame carrying `payload`.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    FrameConfig::new()
        .with_max_payload(u32::MAX)
        .append_frame(&mut out, payload)
        .expect("no limit");
    out
}

/// `lp(name)`.
fn lp(name: &str) -> Vec<u8> {
    [&(name.len() as u16).to_be_bytes()[..], name.as_bytes()].concat()
}

/// The payloads of the handshake of the test vectors, and its session keys.
struct Transcript {
    hello: Vec<u8>,
    challenge: Vec<u8>,
    proof: Vec<u8>,
    c2s: [u8; 32],
    s2c: [u8; 32],
}

impl Transcript {
    fn new() -> Result<Transcript, Box<dyn Error>> {
        let key = Secret::with_check(KEY.to_vec(), KeyCheck::AllowWeak)?;
        let (nonce_c, nonce_s) = (nonce(0x00), nonce(0x20));
        // A session with MACs only (the HELLO accepts 01, the CHALLENGE picks 01): its frames
        // are what the session target reads.
        let transcript = actor_net::handshake::Transcript {
            nonce_c: &nonce_c,
            nonce_s: &nonce_s,
            client_name: CLIENT,
            server_name: SERVER,
            accepts: 0x01,
            mode: 0x01,
        };
        let proof_s = server_proof(&key, &transcript);
        let proof_c = client_proof(&key, &transcript);
        let (c2s, s2c) = session_keys(&key, &nonce_c, &nonce_s);
        Ok(Transcript {
            hello: [&b"ACTR\x00\x03\x01"[..], &nonce_c, &lp(CLIENT), &[0x01]].concat(),
            challenge: [
                &b"ACTR\x00\x03\x02"[..],
                &nonce_s,
                &lp(SERVER),
                &[0x01],
                &proof_s,
            ]
            .concat(),
            proof: [&b"ACTR\x00\x03\x03"[..], &proof_c].concat(),
            c2s: *c2s,
            s2c: *s2c,
        })
    }

    /// Whole session frames carrying `bodies`, sealed under `key` from sequence number `first`.
    fn sealed(key: &[u8; 32], first: u64, bodies: &[&[u8]]) -> Vec<u8> {
        let mut sealer = Sealer::new(key);
        let mut wire = Vec::new();
        for _ in 0..first {
            sealer.seal(b"", &mut Vec::new()).expect("small");
        }
        for body in bodies {
            sealer.seal(body, &mut wire).expect("small");
        }
        wire
    }
}

/// A told message of the type the session target decodes for odd actors, with reply ids in
/// place of replies (which is how a reply travels).
#[derive(Serialize)]
enum Request {
    Get(String, u64),
    Put(String, Vec<u8>),
    Sum(Vec<i64>, u64),
    Batch(Vec<(u32, u64)>),
    Stop,
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    Bincode::new().encode(value, &mut out).expect("small");
    out
}

/// Batches of messages: every kind, the example of `PROTOCOL.md`, and told requests.
fn batches() -> Vec<Vec<u8>> {
    let mut every_kind = Vec::new();
    let mut w = Writer::new(&mut every_kind);
    w.lookup(1, "counter", "myapp.counter@1");
    w.lookup_ok(1, 42);
    w.lookup_err(2, LookupFailure::WrongType, "myapp.counter@2");
    w.tell(42, &[7, 8], b"payload");
    w.reply(7, &ReplyStatus::Ok(b"answer"));
    w.reply(8, &ReplyStatus::Dropped);
    w.reply(9, &ReplyStatus::Panicked("boom"));
    w.reply(10, &ReplyStatus::Failed("undecodable"));
    w.rejected(42, Rejection::Undecodable);
    w.ping(3);
    w.pong(3);
    w.goodbye();

    let mut example = Vec::new();
    let mut w = Writer::new(&mut example);
    w.ping(1);
    w.tell(5, &[], &[0x2a]);

    let mut tells = Vec::new();
    let mut w = Writer::new(&mut tells);
    w.tell(1, &[3], &encode(&Request::Get("key".into(), 3)));
    w.tell(3, &[], &encode(&Request::Put("key".into(), vec![1, 2])));
    w.tell(5, &[4], &encode(&Request::Sum(vec![1, -2, 3], 4)));
    w.tell(7, &[5, 6], &encode(&Request::Batch(vec![(1, 5), (2, 6)])));
    w.tell(9, &[], &encode(&Request::Stop));
    w.tell(2, &[], &encode(&(7_u64, "seven")));

    let mut names = Vec::new();
    let mut w = Writer::new(&mut names);
    w.lookup(u64::MAX, &"é".repeat(512), "");
    w.lookup_err(0, LookupFailure::NotFound, "");
    w.rejected(0, Rejection::MailboxFull);
    // Every kind ends with GOODBYE, after which a connection reads nothing: it comes last.
    vec![example, tells, names, every_kind]
}

/// The sealed-mode input of the session target: `op, length (u16), body` for each body.
fn sealed_input(mode: u8, ops: &[(u8, &[u8])]) -> Vec<u8> {
    let mut input = vec![mode];
    for (op, body) in ops {
        input.push(*op);
        input.extend_from_slice(&(body.len() as u16).to_be_bytes());
        input.extend_from_slice(body);
    }
    input
}

/// A tagged message as the router target reads it: flags, tag, payload.
fn tagged(ask: bool, tag: &str, payload: &[u8]) -> Vec<u8> {
    const ROUTES: [&str; 8] = [
        "int", "pair", "text", "bytes", "record", "shape", "unit", "reply",
    ];
    let ask = u8::from(ask);
    let mut out = match ROUTES.iter().position(|route| *route == tag) {
        Some(index) => vec![ask | (index as u8) << 1],
        None => [&[0x80 | ask, tag.len() as u8][..], tag.as_bytes()].concat(),
    };
    out.push(payload.len() as u8);
    out.extend_from_slice(payload);
    out
}

/// The router target's struct and enum, for valid payloads.
#[derive(Serialize)]
struct Record {
    id: u64,
    name: String,
    scores: Vec<i16>,
    parent: Option<u32>,
    flags: [bool; 3],
    initial: char,
    ratio: f64,
    big: u128,
}

#[derive(Serialize)]
enum Shape {
    Empty,
    Point(i8, i8),
    Circle {
        radius: u32,
    },
    Polygon(Vec<(i16, i16)>),
    Labelled {
        label: String,
        data: Option<Vec<u8>>,
    },
}

/// The seeds of each target, by name.
type Seeds = BTreeMap<&'static str, Vec<(String, Vec<u8>)>>;

fn seeds() -> Result<Seeds, Box<dyn Error>> {
    let t = Transcript::new()?;
    let mut seeds = Seeds::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        seeds
            .entry(target)
            .or_default()
            .push((name.to_owned(), bytes));
    };

    // The frame decoder: limit, arrival pattern, stream.
    let frames = [frame(b"hello"), frame(b""), frame(&[7; 16])].concat();
    add(
        "frame_decoder",
        "three-frames",
        [&[7, 0][..], &frames].concat(),
    );
    add(
        "frame_decoder",
        "by-bytes-would-block",
        [&[7, 0x11][..], &frames].concat(),
    );
    add(
        "frame_decoder",
        "interrupted",
        [&[7, 0x23][..], &frames].concat(),
    );
    add(
        "frame_decoder",
        "too-large",
        [&[4, 0x05][..], &frames].concat(),
    );
    add(
        "frame_decoder",
        "cut-header",
        [&[7, 0x32][..], &frames[..frames.len() - 18]].concat(),
    );
    add(
        "frame_decoder",
        "cut-payload",
        [&[7, 0x01][..], &frames[..frames.len() - 3]].concat(),
    );
    add(
        "frame_decoder",
        "handshake",
        [&[6, 0][..], &frame(&t.hello), &frame(&t.proof)].concat(),
    );

    // The handshake, server side: the client's frames.
    let c2s_batches: Vec<&[u8]> = vec![b"hello"];
    let session = Transcript::sealed(&t.c2s, 0, &c2s_batches);
    let batch_frames: Vec<Vec<u8>> = batches();
    let batch_refs: Vec<&[u8]> = batch_frames.iter().map(Vec::as_slice).collect();
    let c2s_session = Transcript::sealed(&t.c2s, 0, &batch_refs);
    let s2c_session = Transcript::sealed(&t.s2c, 1, &batch_refs);
    let client_wire = [frame(&t.hello), frame(&t.proof), session.clone()].concat();
    add(
        "handshake_server",
        "transcript",
        [&[0][..], &client_wire].concat(),
    );
    add(
        "handshake_server",
        "after-hello",
        [&[1][..], &frame(&t.proof), &c2s_session].concat(),
    );
    add("handshake_server", "honest", vec![2, 0, 0, 0, 0, 0, 0]);
    add("handshake_server", "flipped-name", vec![2, 1, 0, 42, 0x20]);
    add("handshake_server", "cut-proof", vec![2, 0, 0, 0, 2, 0, 38]);
    add(
        "handshake_server",
        "session",
        [&[3][..], &c2s_session].concat(),
    );
    let mut hello_v1 = t.hello.clone();
    hello_v1[5] = 1;
    add(
        "handshake_server",
        "version-1",
        [&[0][..], &frame(&hello_v1)].concat(),
    );
    add(
        "handshake_server",
        "error-auth",
        [&[0][..], &frame(b"ACTR\x00\x02\xff\x01")].concat(),
    );
    add(
        "handshake_server",
        "error-version",
        [&[0][..], &frame(b"ACTR\x00\x07\xff\x02\x00\x07")].concat(),
    );
    add(
        "handshake_server",
        "empty",
        [&[0][..], &frame(b"")].concat(),
    );

    // The handshake, client side: the server's frames.
    let welcome = Transcript::sealed(&t.s2c, 0, &[b"\x00"]);
    let hello_s2c = Transcript::sealed(&t.s2c, 1, &[b"hello"]);
    let server_wire = [frame(&t.challenge), welcome.clone(), hello_s2c.clone()].concat();
    add(
        "handshake_client",
        "transcript",
        [&[0][..], &server_wire].concat(),
    );
    add(
        "handshake_client",
        "after-challenge",
        [&[1][..], &welcome, &s2c_session].concat(),
    );
    add("handshake_client", "honest", vec![2, 0, 0, 0, 0, 0, 0]);
    add("handshake_client", "flipped-name", vec![2, 1, 0, 41, 0x20]);
    add(
        "handshake_client",
        "longer-welcome",
        vec![2, 0, 0, 0, 3, 0, 0, 1, 0],
    );
    add(
        "handshake_client",
        "session",
        [&[3][..], &s2c_session].concat(),
    );
    let mut challenge_v1 = t.challenge.clone();
    challenge_v1[5] = 1;
    add(
        "handshake_client",
        "version-1",
        [&[0][..], &frame(&challenge_v1)].concat(),
    );
    add(
        "handshake_client",
        "error-version-1",
        [&[0][..], &frame(b"ACTR\x00\x01\xff\x02\x00\x01")].concat(),
    );
    add(
        "handshake_client",
        "error-malformed",
        [&[0][..], &frame(b"ACTR\x00\x02\xff\x03")].concat(),
    );
    add(
        "handshake_client",
        "error-in-welcome",
        [&[1][..], &frame(b"ACTR\x00\x02\xff\x01")].concat(),
    );
    add(
        "handshake_client",
        "hello-in-welcome",
        [&[1][..], &frame(&t.hello)].concat(),
    );

    // The session decoder: raw frames and sealed bodies, both directions.
    add(
        "session_decoder",
        "raw-c2s",
        [&[0][..], &c2s_session].concat(),
    );
    add(
        "session_decoder",
        "raw-c2s-hello",
        [&[0][..], &session].concat(),
    );
    add(
        "session_decoder",
        "raw-s2c",
        [&[1][..], &hello_s2c].concat(),
    );
    for (i, batch) in batch_frames.iter().enumerate() {
        add(
            "session_decoder",
            &format!("sealed-c2s-{i}"),
            sealed_input(2, &[(0, batch)]),
        );
        add(
            "session_decoder",
            &format!("sealed-s2c-{i}"),
            sealed_input(3, &[(0, batch)]),
        );
    }
    // A PING alone; then sent again, lost before the next, replayed, changed, cut short.
    let ping = &batch_frames[0][..13];
    let twice = sealed_input(2, &[(0, ping), (0, ping)]);
    add("session_decoder", "twice", twice.clone());
    add(
        "session_decoder",
        "lost",
        sealed_input(2, &[(6, ping), (0, ping)]),
    );
    add(
        "session_decoder",
        "replayed",
        sealed_input(2, &[(0, ping), (7, ping)]),
    );
    add(
        "session_decoder",
        "flipped",
        [&twice[..], &[4, 0, 0, 12, 1]].concat(),
    );
    add(
        "session_decoder",
        "cut",
        [&twice[..], &[5, 0, 0, 41]].concat(),
    );

    // The tag router: valid and broken payloads for every route, and unknown tags.
    let record = Record {
        id: 7,
        name: "seven".into(),
        scores: vec![-1, 300],
        parent: Some(3),
        flags: [true, false, true],
        initial: 'é',
        ratio: 0.5,
        big: u128::MAX,
    };
    let shapes = [
        Shape::Empty,
        Shape::Point(-1, 1),
        Shape::Circle { radius: 9 },
        Shape::Polygon(vec![(0, 0), (1, -1)]),
        Shape::Labelled {
            label: "l".into(),
            data: Some(vec![1]),
        },
    ];
    let mut messages = vec![
        tagged(true, "int", &Tagged::encode("", &12_i32)?.payload),
        tagged(false, "int", &encode(&-5_i32)),
        tagged(true, "pair", &encode(&(6_i32, 7_i32))),
        tagged(true, "text", &encode("hello")),
        tagged(true, "bytes", &encode(&vec![1_u8, 2, 3])),
        tagged(true, "record", &encode(&record)),
        tagged(true, "unit", &[]),
        tagged(true, "reply", &[1]),
        tagged(false, "reply", &[1]),
        tagged(true, "text", &[5, b'a']),
        tagged(true, "nope", &[]),
    ];
    for shape in &shapes {
        messages.push(tagged(true, "shape", &encode(shape)));
    }
    add("tag_router", "every-route", messages.concat());
    for (i, message) in messages.iter().enumerate() {
        add("tag_router", &format!("message-{i}"), message.clone());
    }

    // The authenticated echo: mode, read size, what the client sends.
    add("auth_echo", "right-then-data", b"\x01\x00hello".to_vec());
    add("auth_echo", "right-by-7", b"\x01\x07hello, echo".to_vec());
    add("auth_echo", "right-one-read", b"\x03\x00data".to_vec());
    add("auth_echo", "flipped", b"\x05\x00\x09data".to_vec());
    add("auth_echo", "garbage", [&[0, 5][..], &[0xaa; 40]].concat());
    add("auth_echo", "short", b"\x00\x00abc".to_vec());
    Ok(seeds)
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(std::env::args().nth(1).ok_or("usage: seeds CORPUS_DIR")?);
    for (target, seeds) in seeds()? {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in seeds {
            std::fs::write(dir.join(format!("seed-{name}")), bytes)?;
        }
    }
    Ok(())
}
