//! Properties of the net layer's wire format: everything a node sends comes back unchanged
//! through the codec, and its decoders never misbehave on arbitrary or damaged input.
//!
//! Round trips: the handshake (any key, nonces and names), sealed session frames (any bodies),
//! batches of messages (any messages), and a told request with a reply inside, answered back.
//! Arbitrary input: each net-layer fuzz target, on random bytes and on its corpus with random
//! bytes changed, so CI runs a little of every fuzzer's work. (The frame reader and the serde
//! codec alone are covered by `actor-core/tests/codec.rs`.)

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actor_core::Reply;
use actor_core::codec::{Bincode, Codec, FrameConfig, FrameReader};
use actor_core::wire::{
    ReplyCompleter, ReplyRegistry, ReplyResponder, SharedRegistry, with_replies,
};
use actor_fuzz_targets::Target;
use actor_net::frame;
use actor_net::fuzzing::message::{self, LookupFailure, MAX_NAME, Message, Rejection, ReplyStatus};
use actor_net::handshake::{
    ClientHandshake, Encryption, HandshakeConfig, Handshaken, MAX_NAME_LEN, ServerHandshake, Step,
    cipher_keys, session_keys,
};
use actor_net::session::{Opener, Sealer};
use actor_net::{KeyCheck, Secret};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0xF022),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---- the handshake ----

/// The payloads of the frames in `wire`, read with the handshake's frame limit.
fn handshake_payloads(wire: &[u8], config: &HandshakeConfig) -> Vec<Vec<u8>> {
    let frames = FrameConfig::new().with_max_payload(config.max_frame_len());
    let mut reader = FrameReader::with_config(wire, frames);
    let mut payloads = Vec::new();
    while let Some(payload) = reader
        .read_frame()
        .expect("handshake frames within the limit")
    {
        payloads.push(payload.to_vec());
    }
    payloads
}

/// The one frame payload in `wire`.
fn single(wire: &[u8], config: &HandshakeConfig) -> Vec<u8> {
    let mut payloads = handshake_payloads(wire, config);
    assert_eq!(payloads.len(), 1, "one frame expected");
    payloads.remove(0)
}

/// Runs both state machines against each other: `(client's side, server's side)`.
fn handshake(
    key: &Secret,
    (client_config, nonce_c): (&HandshakeConfig, [u8; 32]),
    (server_config, nonce_s): (&HandshakeConfig, [u8; 32]),
) -> (Handshaken, Handshaken) {
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    let client = ClientHandshake::new(key, client_config, nonce_c, &mut to_server);
    let server = ServerHandshake::new(key, server_config, nonce_s);
    let hello = single(&to_server, server_config);
    let Step::Continue(server) = server.step(&hello, &mut to_client).expect("HELLO") else {
        panic!("the server waits for the PROOF");
    };
    to_server.clear();
    let challenge = single(&to_client, client_config);
    let Step::Continue(client) = client.step(&challenge, &mut to_server).expect("CHALLENGE") else {
        panic!("the client waits for the WELCOME");
    };
    to_client.clear();
    let proof = single(&to_server, server_config);
    let Step::Done(server_side) = server.step(&proof, &mut to_client).expect("PROOF") else {
        panic!("the server is done after the PROOF");
    };
    let welcome = single(&to_client, client_config);
    let mut nothing = Vec::new();
    let Step::Done(client_side) = client.step(&welcome, &mut nothing).expect("WELCOME") else {
        panic!("the client is done after the WELCOME");
    };
    assert!(
        nothing.is_empty(),
        "the client answers nothing to the WELCOME"
    );
    (client_side, server_side)
}

/// Seals `bodies` with `sealer`, reads the frames back as a connection does and opens them
/// with `opener`, returning the bodies opened.
fn send(sealer: &mut Sealer, opener: &mut Opener, bodies: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut wire = Vec::new();
    for body in bodies {
        sealer
            .seal(body, &mut wire)
            .expect("bodies within the frame limit");
    }
    let mut reader = FrameReader::with_config(wire.as_slice(), frame::session_frames());
    let mut opened = Vec::new();
    while let Some(payload) = reader.read_frame().expect("whole frames") {
        opened.push(opener.open(payload).expect("a sealed frame opens").to_vec());
    }
    opened
}

/// A node name: short or of the longest length allowed, in any characters.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[a-z]{255}",
        "\\PC{60,63}".prop_map(|name| {
            let mut end = name.len().min(MAX_NAME_LEN);
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name[..end].to_owned()
        }),
    ]
}

/// A few frame bodies of any bytes, some empty.
fn bodies() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..6)
}

proptest! {
    #![proptest_config(config(128))]

    /// Any key of at least 16 bytes, any nonces and names: the handshake completes, both sides
    /// derive the keys of `PROTOCOL.md`, and frames sealed by one side open on the other.
    /// Weak keys included (all zeros, short text): the protocol works with any key of 16 bytes
    /// or more; refusing weak ones is the reference's policy when it loads a key.
    #[test]
    fn a_handshake_completes_and_keys_the_session_both_ways(
        key in prop::collection::vec(any::<u8>(), Secret::MIN_LEN..100),
        nonce_c in any::<[u8; 32]>(),
        nonce_s in any::<[u8; 32]>(),
        client_name in name(),
        server_name in name(),
        to_server in bodies(),
        to_client in bodies(),
        encrypted in any::<bool>(),
    ) {
        let key = Secret::with_check(key, KeyCheck::AllowWeak).expect("long enough");
        let encryption = if encrypted { Encryption::Preferred } else { Encryption::Off };
        let config = |name: &str| {
            HandshakeConfig::builder().name(name).encryption(encryption).build()
        };
        let client_config = config(client_name.as_str())?;
        let server_config = config(server_name.as_str())?;
        let (mut client, mut server) =
            handshake(&key, (&client_config, nonce_c), (&server_config, nonce_s));
        prop_assert_eq!(&client.peer_name, &server_name);
        prop_assert_eq!(&server.peer_name, &client_name);

        prop_assert_eq!((client.encrypted, server.encrypted), (encrypted, encrypted));
        let (c2s, s2c) = if encrypted {
            cipher_keys(&key, &nonce_c, &nonce_s)
        } else {
            session_keys(&key, &nonce_c, &nonce_s)
        };
        let sealer = |key: &[u8; 32]| if encrypted { Sealer::encrypted(key) } else { Sealer::new(key) };
        let (mut expected, mut sealed) = (Vec::new(), Vec::new());
        sealer(&c2s).seal(b"probe", &mut expected)?;
        client.sealer.seal(b"probe", &mut sealed)?;
        prop_assert_eq!(&sealed, &expected, "the client seals under k_c2s from 0");
        prop_assert_eq!(server.opener.open(&sealed[4..])?, b"probe");
        // The server's sealer has sealed the WELCOME: it goes on under k_s2c from 1.
        let mut reference = sealer(&s2c);
        reference.seal(&[0], &mut Vec::new())?;
        let (mut expected, mut sealed) = (Vec::new(), Vec::new());
        reference.seal(b"probe", &mut expected)?;
        server.sealer.seal(b"probe", &mut sealed)?;
        prop_assert_eq!(&sealed, &expected, "the server seals under k_s2c from 1");
        prop_assert_eq!(client.opener.open(&sealed[4..])?, b"probe");

        prop_assert_eq!(send(&mut client.sealer, &mut server.opener, &to_server), to_server);
        prop_assert_eq!(send(&mut server.sealer, &mut client.opener, &to_client), to_client);
    }
}

// ---- batches of messages ----

/// A message as a node sends it, owning its fields.
#[derive(Debug, Clone)]
enum Sent {
    Lookup(u64, String, String),
    LookupOk(u64, u64),
    LookupErr(u64, LookupFailure, String),
    Tell(u64, Vec<u64>, Vec<u8>),
    Reply(u64, Status),
    Rejected(u64, Rejection),
    Ping(u64),
    Pong(u64),
    Goodbye,
}

/// What a REPLY reports, owning its fields.
#[derive(Debug, Clone)]
enum Status {
    Ok(Vec<u8>),
    Dropped,
    Panicked(String),
    Failed(String),
}

impl Sent {
    fn write(&self, writer: &mut message::Writer<'_>) {
        match self {
            Sent::Lookup(request, name, message_type) => {
                writer.lookup(*request, name, message_type)
            }
            Sent::LookupOk(request, actor) => writer.lookup_ok(*request, *actor),
            Sent::LookupErr(request, failure, detail) => {
                writer.lookup_err(*request, *failure, detail);
            }
            Sent::Tell(actor, replies, payload) => writer.tell(*actor, replies, payload),
            Sent::Reply(id, status) => writer.reply(*id, &status.borrowed()),
            Sent::Rejected(actor, why) => writer.rejected(*actor, *why),
            Sent::Ping(nonce) => writer.ping(*nonce),
            Sent::Pong(nonce) => writer.pong(*nonce),
            Sent::Goodbye => writer.goodbye(),
        }
    }

    /// The message a receiver parses: names longer than [`MAX_NAME`] bytes arrive cut.
    fn received(&self) -> Message<'_> {
        match self {
            Sent::Lookup(request, name, message_type) => Message::Lookup {
                request: *request,
                name: cut(name),
                message_type: cut(message_type),
            },
            Sent::LookupOk(request, actor) => Message::LookupOk {
                request: *request,
                actor: *actor,
            },
            Sent::LookupErr(request, failure, detail) => Message::LookupErr {
                request: *request,
                failure: *failure,
                detail: cut(detail),
            },
            Sent::Tell(actor, _, payload) => Message::Tell {
                actor: *actor,
                // Checked apart: the parser hands the ids over as their bytes.
                replies: &[],
                payload,
            },
            Sent::Reply(id, status) => Message::Reply {
                id: *id,
                status: status.borrowed(),
            },
            Sent::Rejected(actor, why) => Message::Rejected {
                actor: *actor,
                why: *why,
            },
            Sent::Ping(nonce) => Message::Ping(*nonce),
            Sent::Pong(nonce) => Message::Pong(*nonce),
            Sent::Goodbye => Message::Goodbye,
        }
    }
}

impl Status {
    fn borrowed(&self) -> ReplyStatus<'_> {
        match self {
            Status::Ok(bytes) => ReplyStatus::Ok(bytes),
            Status::Dropped => ReplyStatus::Dropped,
            Status::Panicked(text) => ReplyStatus::Panicked(text),
            Status::Failed(text) => ReplyStatus::Failed(text),
        }
    }
}

/// `text` cut to at most [`MAX_NAME`] bytes at a character boundary, as the writer does.
fn cut(text: &str) -> &str {
    let mut end = text.len().min(MAX_NAME);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A name or detail: usually short, sometimes beyond [`MAX_NAME`] bytes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => "\\PC{0,20}", 1 => "\\PC{250,300}", 1 => "[a-z]{1020,1030}"]
}

/// Any message a node sends.
fn sent() -> impl Strategy<Value = Sent> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..64);
    let status = prop_oneof![
        bytes().prop_map(Status::Ok),
        Just(Status::Dropped),
        text().prop_map(Status::Panicked),
        text().prop_map(Status::Failed),
    ];
    let failure = prop_oneof![
        Just(LookupFailure::NotFound),
        Just(LookupFailure::WrongType)
    ];
    let rejection = prop_oneof![
        Just(Rejection::UnknownActor),
        Just(Rejection::Undecodable),
        Just(Rejection::ActorGone),
        Just(Rejection::MailboxFull),
    ];
    prop_oneof![
        (any::<u64>(), text(), text()).prop_map(|(r, n, t)| Sent::Lookup(r, n, t)),
        (any::<u64>(), any::<u64>()).prop_map(|(r, a)| Sent::LookupOk(r, a)),
        (any::<u64>(), failure, text()).prop_map(|(r, f, d)| Sent::LookupErr(r, f, d)),
        (
            any::<u64>(),
            prop::collection::vec(any::<u64>(), 0..5),
            bytes()
        )
            .prop_map(|(a, r, p)| Sent::Tell(a, r, p)),
        (any::<u64>(), status).prop_map(|(id, s)| Sent::Reply(id, s)),
        (any::<u64>(), rejection).prop_map(|(a, w)| Sent::Rejected(a, w)),
        any::<u64>().prop_map(Sent::Ping),
        any::<u64>().prop_map(Sent::Pong),
        Just(Sent::Goodbye),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// Any messages, written into one batch, sealed, read off the wire and opened: the receiver
    /// parses the same messages, in order.
    #[test]
    fn batches_of_any_messages_round_trip(
        key in any::<[u8; 32]>(),
        sent in prop::collection::vec(sent(), 1..12),
    ) {
        let mut body = Vec::new();
        let mut writer = message::Writer::new(&mut body);
        for message in &sent {
            message.write(&mut writer);
        }
        let opened = send(&mut Sealer::new(&key), &mut Opener::new(&key), &[body]);
        let received: Vec<Message<'_>> =
            message::Reader::new(&opened[0]).collect::<Result<_, _>>()?;
        prop_assert_eq!(received.len(), sent.len());
        for (got, sent) in received.iter().zip(&sent) {
            match (got, sent) {
                (Message::Tell { actor, replies, payload }, Sent::Tell(a, ids, p)) => {
                    prop_assert_eq!((actor, payload), (a, &&p[..]));
                    prop_assert_eq!(&message::reply_ids(replies).collect::<Vec<_>>(), ids);
                }
                (got, sent) => prop_assert_eq!(got, &sent.received()),
            }
        }
    }
}

// ---- a told request and its answer ----

/// The asking side's replies, by the id that travels in their place.
#[derive(Default)]
struct Asker {
    waiting: Mutex<HashMap<u64, ReplyCompleter>>,
}

impl Asker {
    /// The ids of the replies waiting for an answer, in order.
    fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .waiting
            .lock()
            .expect("not poisoned")
            .keys()
            .copied()
            .collect();
        ids.sort_unstable();
        ids
    }
}

impl ReplyRegistry for Asker {
    fn register(&self, complete: ReplyCompleter) -> u64 {
        let mut waiting = self.waiting.lock().expect("not poisoned");
        let id = 100 + waiting.len() as u64;
        waiting.insert(id, complete);
        id
    }

    fn responder(&self, _id: u64) -> ReplyResponder {
        unreachable!("the asker only encodes")
    }
}

/// The answering side: every answer is written as a REPLY message into one batch.
#[derive(Default)]
struct Answerer {
    batch: Arc<Mutex<Vec<u8>>>,
}

impl ReplyRegistry for Answerer {
    fn register(&self, _complete: ReplyCompleter) -> u64 {
        unreachable!("the answerer only decodes")
    }

    fn responder(&self, id: u64) -> ReplyResponder {
        let batch = Arc::clone(&self.batch);
        Box::new(move |answer| {
            let mut batch = batch.lock().expect("not poisoned");
            let mut writer = message::Writer::new(&mut batch);
            match &answer {
                Ok(bytes) => writer.reply(id, &ReplyStatus::Ok(bytes)),
                Err(error) => writer.reply(id, &ReplyStatus::Failed(&error.to_string())),
            }
        })
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// A request carrying replies crosses as a TELL (with its reply ids), is decoded and
    /// answered on the other side, and the answers cross back as REPLY messages: each asker
    /// gets exactly its answer.
    #[test]
    fn a_told_request_is_answered_through_its_replies(
        key in any::<[u8; 32]>(),
        words in prop::collection::vec("\\PC{0,12}", 0..8),
        numbers in prop::collection::vec(any::<i64>(), 0..8),
    ) {
        type Request = (Vec<String>, Reply<Vec<String>>, Vec<i64>, Reply<i64>);
        let asker = Arc::new(Asker::default());
        let asker_registry: SharedRegistry = asker.clone();
        let (words_reply, mut words_pending) = Reply::<Vec<String>>::pair();
        let (sum_reply, mut sum_pending) = Reply::<i64>::pair();
        let mut payload = Vec::new();
        let request = (words.clone(), words_reply, numbers.clone(), sum_reply);
        with_replies(&asker_registry, || Bincode::new().encode(&request, &mut payload))?;
        drop(request);
        let ids = asker.ids();
        prop_assert_eq!(ids.len(), 2);

        // Asker to answerer: one TELL listing the reply ids.
        let (mut to_answerer, mut from_asker) = (Sealer::new(&key), Opener::new(&key));
        let mut body = Vec::new();
        message::Writer::new(&mut body).tell(9, &ids, &payload);
        let opened = send(&mut to_answerer, &mut from_asker, &[body]);
        let Some(Ok(Message::Tell { actor: 9, replies, payload })) =
            message::Reader::new(&opened[0]).next()
        else {
            panic!("a TELL to actor 9");
        };
        prop_assert_eq!(message::reply_ids(replies).collect::<Vec<_>>(), ids.clone());
        let answerer = Arc::new(Answerer::default());
        let answerer_registry: SharedRegistry = answerer.clone();
        let (got_words, words_reply, got_numbers, sum_reply): Request =
            with_replies(&answerer_registry, || Bincode::new().decode(payload))?;
        prop_assert_eq!((&got_words, &got_numbers), (&words, &numbers));
        words_reply.send(got_words.into_iter().rev().collect());
        sum_reply.send(got_numbers.iter().fold(0_i64, |a, b| a.wrapping_add(*b)));

        // Answerer to asker: the REPLY messages, completing the asker's replies.
        let batch = std::mem::take(&mut *answerer.batch.lock().expect("not poisoned"));
        let (mut to_asker, mut from_answerer) = (Sealer::new(&key), Opener::new(&key));
        let opened = send(&mut to_asker, &mut from_answerer, &[batch]);
        let mut answered = 0;
        for message in message::Reader::new(&opened[0]) {
            let Message::Reply { id, status: ReplyStatus::Ok(bytes) } = message? else {
                panic!("only answers come back");
            };
            let complete = asker.waiting.lock().expect("not poisoned").remove(&id);
            complete.expect("a reply the asker waits for")(Ok(bytes));
            answered += 1;
        }
        prop_assert_eq!(answered, 2);
        let timeout = Duration::from_secs(5);
        let reversed: Vec<String> = words.iter().rev().cloned().collect();
        prop_assert_eq!(words_pending.wait_timeout(timeout)?, reversed);
        let sum = numbers.iter().fold(0_i64, |a, b| a.wrapping_add(*b));
        prop_assert_eq!(sum_pending.wait_timeout(timeout)?, sum);
    }
}

// ---- arbitrary and damaged input ----

/// The net layer's targets: what a peer's bytes reach.
const NET_TARGETS: [(&str, Target); 4] = [
    ("handshake_client", actor_fuzz_targets::handshake_client),
    ("handshake_server", actor_fuzz_targets::handshake_server),
    ("session_decoder", actor_fuzz_targets::session_decoder),
    ("auth_echo", actor_fuzz_targets::auth_echo),
];

/// The saved corpus of `target`.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("fuzz/corpus/<target> exists")
        .map(|entry| entry.expect("readable").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| fs::read(file).expect("readable"))
        .collect()
}

proptest! {
    #![proptest_config(config(256))]

    /// Random bytes: every net-layer decoder answers as its model says, and never panics.
    #[test]
    fn net_decoders_take_arbitrary_bytes(
        target in 0..NET_TARGETS.len(),
        data in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        (NET_TARGETS[target].1)(&data);
    }

    /// Corpus inputs with random bytes changed, cut or added: they get past the handshake and
    /// the tags far more often than random bytes do.
    #[test]
    fn net_decoders_take_damaged_corpus_inputs(
        target in 0..NET_TARGETS.len(),
        pick in any::<prop::sample::Index>(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), 1..=255_u8), 0..4),
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let (name, run) = NET_TARGETS[target];
        let inputs = corpus(name);
        let mut data = pick.get(&inputs).clone();
        for (at, flip) in changes {
            if !data.is_empty() {
                let at = at.index(data.len());
                data[at] ^= flip;
            }
        }
        data.truncate(cut.index(data.len() + 1).max(1));
        data.extend_from_slice(&tail);
        run(&data);
    }
}
