//! The handshake: state machines driven without sockets, then the drivers over TCP and pipes.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use actor_core::codec::{FrameConfig, FrameError, FrameReader};
use actor_net::Secret;
use actor_net::frame::TimedStream;
use actor_net::handshake::{
    self, ClientHandshake, Encryption, HandshakeConfig, HandshakeError, Handshaken,
    ServerHandshake, Side, Step, cipher_keys,
};
use actor_net::session::Sealer;
use proptest::prelude::*;

const KEY: &[u8] = b"handshake tests share this key: 0123456789";
const OTHER_KEY: &[u8] = b"another key, just as strong: 9876543210";
const NONCE_C: [u8; 32] = [0xc1; 32];
const NONCE_S: [u8; 32] = [0x5e; 32];
/// How long a test waits for another thread before it gives up.
const WAIT: Duration = Duration::from_secs(10);

const ERROR_AUTH: &[u8] = b"\0\0\0\x08ACTR\x00\x03\xff\x01";
const ERROR_VERSION: &[u8] = b"\0\0\0\x0aACTR\x00\x03\xff\x02\x00\x03";
const ERROR_MALFORMED: &[u8] = b"\0\0\0\x08ACTR\x00\x03\xff\x03";

fn secret(bytes: &[u8]) -> Secret {
    Secret::new(bytes.to_vec()).unwrap()
}

fn config(name: &str) -> HandshakeConfig {
    HandshakeConfig::builder().name(name).build().unwrap()
}

/// Returns the payloads of the frames in `wire`.
fn payloads(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = FrameReader::new(wire);
    let mut payloads = Vec::new();
    while let Some(payload) = reader.read_frame().unwrap() {
        payloads.push(payload.to_vec());
    }
    payloads
}

// ---------------------------------------------------------------------------------------------
// Both machines exchanging frames through buffers.

/// One side of a simulated connection.
enum Party<M> {
    Running(M),
    /// The side has finished; it closed the connection if it failed.
    Finished(Box<Result<Handshaken, HandshakeError>>),
}

type StepFn<M> = fn(M, &[u8], &mut Vec<u8>) -> Result<Step<M>, HandshakeError>;

impl<M> Party<M> {
    fn deliver(self, payload: &[u8], out: &mut Vec<u8>, step: StepFn<M>) -> Self {
        match self {
            Party::Running(machine) => match step(machine, payload, out) {
                Ok(Step::Continue(machine)) => Party::Running(machine),
                Ok(Step::Done(done)) => Party::Finished(Box::new(Ok(done))),
                Err(err) => Party::Finished(Box::new(Err(err))),
            },
            // A side that has finished reads nothing more.
            finished => finished,
        }
    }

    fn result(self) -> Result<Handshaken, HandshakeError> {
        match self {
            // Still waiting, but the other side has stopped sending: it closed the connection.
            Party::Running(_) => Err(HandshakeError::Closed),
            Party::Finished(result) => *result,
        }
    }
}

struct Outcome {
    client: Result<Handshaken, HandshakeError>,
    server: Result<Handshaken, HandshakeError>,
}

/// Runs both machines against each other; `c2s` and `s2c` may alter each payload on its way.
fn exchange(
    client_key: &Secret,
    server_key: &Secret,
    c2s: impl FnMut(&mut Vec<u8>),
    s2c: impl FnMut(&mut Vec<u8>),
) -> Outcome {
    let both = Encryption::default();
    exchange_with(client_key, server_key, (both, both), c2s, s2c)
}

/// [`exchange`], with the client's and the server's encryption settings.
fn exchange_with(
    client_key: &Secret,
    server_key: &Secret,
    (client_encryption, server_encryption): (Encryption, Encryption),
    mut c2s: impl FnMut(&mut Vec<u8>),
    mut s2c: impl FnMut(&mut Vec<u8>),
) -> Outcome {
    let with = |name: &str, encryption| {
        HandshakeConfig::builder()
            .name(name)
            .encryption(encryption)
            .build()
            .unwrap()
    };
    let client_config = with("client", client_encryption);
    let server_config = with("server", server_encryption);
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    let mut client = Party::Running(ClientHandshake::new(
        client_key,
        &client_config,
        NONCE_C,
        &mut to_server,
    ));
    let mut server = Party::Running(ServerHandshake::new(server_key, &server_config, NONCE_S));
    // The handshake has four messages; a few more rounds show that nothing else is sent.
    for _ in 0..6 {
        for mut payload in payloads(&std::mem::take(&mut to_server)) {
            c2s(&mut payload);
            server = server.deliver(&payload, &mut to_client, ServerHandshake::step);
        }
        for mut payload in payloads(&std::mem::take(&mut to_client)) {
            s2c(&mut payload);
            client = client.deliver(&payload, &mut to_server, ClientHandshake::step);
        }
    }
    assert!(to_server.is_empty() && to_client.is_empty());
    Outcome {
        client: client.result(),
        server: server.result(),
    }
}

fn untouched(_: &mut Vec<u8>) {}

#[test]
fn matching_keys_complete_with_matching_session_keys() {
    let key = secret(KEY);
    let Outcome { client, server } = exchange(&key, &key, untouched, untouched);
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    assert_eq!(client.peer_name, "server");
    assert_eq!(server.peer_name, "client");

    for round in 0..3_u8 {
        let mut wire = Vec::new();
        client.sealer.seal(&[round; 10], &mut wire).unwrap();
        assert_eq!(server.opener.open(&wire[4..]).unwrap(), [round; 10]);
        wire.clear();
        server.sealer.seal(&[round; 3], &mut wire).unwrap();
        assert_eq!(client.opener.open(&wire[4..]).unwrap(), [round; 3]);
    }
}

#[test]
fn the_sessions_are_encrypted_as_both_settings_agree_or_refused_on_both_sides() {
    use Encryption::{Off, Preferred, Required};
    let key = secret(KEY);
    // (client, server) and the outcome: Some(encrypted), or None for a refusal.
    let table = [
        ((Off, Off), Some(false)),
        ((Off, Preferred), Some(false)),
        ((Off, Required), None),
        ((Preferred, Off), Some(false)),
        ((Preferred, Preferred), Some(true)),
        ((Preferred, Required), Some(true)),
        ((Required, Off), None),
        ((Required, Preferred), Some(true)),
        ((Required, Required), Some(true)),
    ];
    for (settings, expected) in table {
        let Outcome { client, server } = exchange_with(&key, &key, settings, untouched, untouched);
        match expected {
            Some(encrypted) => {
                let (mut client, mut server) = (client.unwrap(), server.unwrap());
                assert_eq!((client.encrypted, server.encrypted), (encrypted, encrypted));
                assert_eq!(client.sealer.is_encrypted(), encrypted, "{settings:?}");
                let mut wire = Vec::new();
                client.sealer.seal(b"across", &mut wire).unwrap();
                assert_eq!(server.opener.open(&wire[4..]).unwrap(), b"across");
                wire.clear();
                server.sealer.seal(b"back", &mut wire).unwrap();
                assert_eq!(client.opener.open(&wire[4..]).unwrap(), b"back");
            }
            None => {
                let (ours, theirs) = settings;
                for (result, ours, theirs) in [(client, ours, theirs), (server, theirs, ours)] {
                    match result {
                        Err(HandshakeError::Encryption {
                            ours: reported_ours,
                            theirs: reported_theirs,
                        }) => assert_eq!((reported_ours, reported_theirs), (ours, theirs)),
                        other => panic!("{settings:?}: {:?}", other.map(|_| ())),
                    }
                }
            }
        }
    }
}

#[test]
fn an_offer_rewritten_on_the_way_fails_the_handshake() {
    use Encryption::{Preferred, Required};
    let key = secret(KEY);
    // The client's HELLO rewritten to accept MACs only (its last byte, `accepts`): the server
    // picks a session without encryption, and the proofs, which cover the offer, disagree.
    let mac_only_offer = |payload: &mut Vec<u8>| {
        if payload[6] == 1 {
            *payload.last_mut().unwrap() = 0x01;
        }
    };
    let outcome = exchange_with(
        &key,
        &key,
        (Preferred, Preferred),
        mac_only_offer,
        untouched,
    );
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    assert!(matches!(
        outcome.server,
        Err(HandshakeError::Authentication { side: Side::Remote })
    ));

    // The server's choice rewritten to a session without encryption (the CHALLENGE's `mode`,
    // before its 32-byte proof): a client that accepts both finds the proof wrong...
    let mac_only_choice = |payload: &mut Vec<u8>| {
        if payload.starts_with(b"ACTR") && payload[6] == 2 {
            let at = payload.len() - 33;
            payload[at] = 0x01;
        }
    };
    let outcome = exchange_with(
        &key,
        &key,
        (Preferred, Preferred),
        untouched,
        mac_only_choice,
    );
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    // ...and one that requires encryption refuses the choice itself.
    let outcome = exchange_with(
        &key,
        &key,
        (Required, Preferred),
        untouched,
        mac_only_choice,
    );
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Malformed { side: Side::Local })
    ));
    assert!(matches!(
        outcome.server,
        Err(HandshakeError::Malformed { side: Side::Remote })
    ));
}

#[test]
fn client_with_the_wrong_key_fails_on_both_sides() {
    let outcome = exchange(&secret(OTHER_KEY), &secret(KEY), untouched, untouched);
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    assert!(matches!(
        outcome.server,
        Err(HandshakeError::Authentication { side: Side::Remote })
    ));
}

#[test]
fn server_with_the_wrong_key_fails_on_both_sides() {
    let outcome = exchange(&secret(KEY), &secret(OTHER_KEY), untouched, untouched);
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    assert!(matches!(
        outcome.server,
        Err(HandshakeError::Authentication { side: Side::Remote })
    ));
}

#[test]
fn a_wrong_client_proof_fails_on_both_sides() {
    let key = secret(KEY);
    let flip_proof = |payload: &mut Vec<u8>| {
        if payload[6] == 3 {
            *payload.last_mut().unwrap() ^= 1;
        }
    };
    let outcome = exchange(&key, &key, flip_proof, untouched);
    assert!(matches!(
        outcome.server,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Remote })
    ));
}

#[test]
fn a_name_changed_on_the_way_fails_authentication() {
    let key = secret(KEY);
    let rename = |payload: &mut Vec<u8>| {
        if payload[6] == 1 {
            // The name's last byte, before the `accepts` byte.
            let at = payload.len() - 2;
            payload[at] = b'X';
        }
    };
    let outcome = exchange(&key, &key, rename, untouched);
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    assert!(matches!(
        outcome.server,
        Err(HandshakeError::Authentication { side: Side::Remote })
    ));
}

#[test]
fn an_altered_welcome_fails_authentication_on_the_client() {
    let key = secret(KEY);
    let alter_session_frame = |payload: &mut Vec<u8>| {
        if !payload.starts_with(b"ACTR") {
            payload[8] ^= 1;
        }
    };
    let outcome = exchange(&key, &key, untouched, alter_session_frame);
    assert!(matches!(
        outcome.client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    // The server finished when it sent the WELCOME; the client's refusal reaches its session.
    assert!(outcome.server.is_ok());
}

#[test]
fn server_refuses_a_hello_of_another_version() {
    let key = secret(KEY);
    let config = config("server");
    // A version-2 HELLO.
    let mut hello = b"ACTR\x00\x02\x01".to_vec();
    hello.extend([0; 32]);
    hello.extend(b"\x00\x06client");
    let mut out = Vec::new();
    let err = ServerHandshake::new(&key, &config, NONCE_S)
        .step(&hello, &mut out)
        .unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 3, theirs: 2 }
    ));
    assert_eq!(out, ERROR_VERSION);

    // Whatever a later version puts after its header, the answer is the same.
    out.clear();
    let err = ServerHandshake::new(&key, &config, NONCE_S)
        .step(b"ACTR\x00\x09\x42", &mut out)
        .unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 3, theirs: 9 }
    ));
    assert_eq!(out, ERROR_VERSION);
}

#[test]
fn client_reports_the_version_the_server_speaks() {
    let key = secret(KEY);
    let config = config("client");
    let mut out = Vec::new();
    let client = ClientHandshake::new(&key, &config, NONCE_C, &mut out);
    out.clear();
    let err = client
        .step(b"ACTR\x00\x02\xff\x02\x00\x02", &mut out)
        .unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::VersionMismatch { ours: 3, theirs: 2 }
    ));
    // An ERROR is never answered.
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Every state of both machines against bad input.

/// A state of one of the machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    ServerHello,
    ServerProof,
    ClientChallenge,
    ClientWelcome,
}

const ALL_STATES: [At; 4] = [
    At::ServerHello,
    At::ServerProof,
    At::ClientChallenge,
    At::ClientWelcome,
];

/// The valid frames of one handshake, and machines in each state of it.
struct Fixture {
    key: Secret,
    client_config: HandshakeConfig,
    server_config: HandshakeConfig,
    hello: Vec<u8>,
    challenge: Vec<u8>,
    proof: Vec<u8>,
    welcome: Vec<u8>,
}

impl Fixture {
    fn new() -> Fixture {
        let key = secret(KEY);
        let (client_config, server_config) = (config("client"), config("server"));
        let mut out = Vec::new();
        let client = ClientHandshake::new(&key, &client_config, NONCE_C, &mut out);
        let hello = payloads(&out).remove(0);
        out.clear();
        let server = ServerHandshake::new(&key, &server_config, NONCE_S);
        let Ok(Step::Continue(server)) = server.step(&hello, &mut out) else {
            panic!("valid HELLO refused");
        };
        let challenge = payloads(&out).remove(0);
        out.clear();
        let Ok(Step::Continue(_)) = client.step(&challenge, &mut out) else {
            panic!("valid CHALLENGE refused");
        };
        let proof = payloads(&out).remove(0);
        out.clear();
        let Ok(Step::Done(_)) = server.step(&proof, &mut out) else {
            panic!("valid PROOF refused");
        };
        let welcome = payloads(&out).remove(0);
        Fixture {
            key,
            client_config,
            server_config,
            hello,
            challenge,
            proof,
            welcome,
        }
    }

    /// The frame the machine expects in state `at`.
    fn expected(&self, at: At) -> &[u8] {
        match at {
            At::ServerHello => &self.hello,
            At::ServerProof => &self.proof,
            At::ClientChallenge => &self.challenge,
            At::ClientWelcome => &self.welcome,
        }
    }

    /// Feeds `payload` to a machine in state `at`; returns the outcome and what it sent.
    fn feed(&self, at: At, payload: &[u8]) -> (Result<(), HandshakeError>, Vec<u8>) {
        let mut out = Vec::new();
        let result = match at {
            At::ServerHello | At::ServerProof => {
                let mut server = ServerHandshake::new(&self.key, &self.server_config, NONCE_S);
                if at == At::ServerProof {
                    let Ok(Step::Continue(next)) = server.step(&self.hello, &mut out) else {
                        panic!("valid HELLO refused");
                    };
                    server = next;
                    out.clear();
                }
                server.step(payload, &mut out).map(drop)
            }
            At::ClientChallenge | At::ClientWelcome => {
                let mut client =
                    ClientHandshake::new(&self.key, &self.client_config, NONCE_C, &mut out);
                if at == At::ClientWelcome {
                    out.clear();
                    let Ok(Step::Continue(next)) = client.step(&self.challenge, &mut out) else {
                        panic!("valid CHALLENGE refused");
                    };
                    client = next;
                }
                out.clear();
                client.step(payload, &mut out).map(drop)
            }
        };
        (result, out)
    }

    /// Checks that `payload` is refused as malformed in state `at`, with an ERROR MALFORMED.
    #[track_caller]
    fn assert_malformed(&self, at: At, payload: &[u8]) {
        let (result, out) = self.feed(at, payload);
        assert!(
            matches!(result, Err(HandshakeError::Malformed { side: Side::Local })),
            "{at:?} given {payload:02x?}: {result:?}"
        );
        assert_eq!(out, ERROR_MALFORMED, "{at:?} given {payload:02x?}");
    }
}

#[test]
fn every_state_accepts_its_valid_frame() {
    let fixture = Fixture::new();
    for at in ALL_STATES {
        let (result, _) = fixture.feed(at, fixture.expected(at));
        assert!(result.is_ok(), "{at:?}: {result:?}");
    }
}

#[test]
fn truncated_handshake_frames_are_malformed() {
    let fixture = Fixture::new();
    for at in [At::ServerHello, At::ServerProof, At::ClientChallenge] {
        let frame = fixture.expected(at);
        for len in 0..frame.len() {
            fixture.assert_malformed(at, &frame[..len]);
        }
    }
}

#[test]
fn handshake_frames_with_extra_bytes_are_malformed() {
    let fixture = Fixture::new();
    for at in [At::ServerHello, At::ServerProof, At::ClientChallenge] {
        for extra in [&[0][..], b"trailing"] {
            fixture.assert_malformed(at, &[fixture.expected(at), extra].concat());
        }
    }
}

#[test]
fn frames_of_the_wrong_kind_are_malformed() {
    let fixture = Fixture::new();
    let frames = [&fixture.hello, &fixture.challenge, &fixture.proof];
    for at in ALL_STATES {
        for frame in frames {
            if frame.as_slice() != fixture.expected(at) {
                fixture.assert_malformed(at, frame);
            }
        }
        // The right layout under another kind byte.
        let mut relabelled = fixture.expected(at).to_vec();
        if relabelled.starts_with(b"ACTR") {
            relabelled[6] = 0x42;
            fixture.assert_malformed(at, &relabelled);
        }
    }
}

#[test]
fn garbage_is_malformed_in_every_state() {
    let fixture = Fixture::new();
    let garbage: [&[u8]; 6] = [
        b"",
        b"ACTR",
        b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        &[0xff; 300],
        b"actr\x00\x03\x01",
    ];
    for at in ALL_STATES {
        for payload in garbage {
            fixture.assert_malformed(at, payload);
        }
        let mut bad_magic = fixture.expected(at).to_vec();
        bad_magic[0] ^= 0x20;
        if at == At::ClientWelcome {
            // Not a handshake frame: a session frame whose tag no longer matches.
            let (result, out) = fixture.feed(at, &bad_magic);
            assert!(matches!(
                result,
                Err(HandshakeError::Authentication { side: Side::Local })
            ));
            assert_eq!(out, ERROR_AUTH);
        } else {
            fixture.assert_malformed(at, &bad_magic);
        }
    }
}

#[test]
fn malformed_error_frames_are_malformed_in_every_state() {
    let fixture = Fixture::new();
    let bad_errors: [&[u8]; 11] = [
        b"ACTR\x00\x03\xff",
        b"ACTR\x00\x03\xff\x00",
        b"ACTR\x00\x03\xff\x06",
        b"ACTR\x00\x03\xff\x04\x00",
        b"ACTR\x00\x03\xff\x05\x00",
        b"ACTR\x00\x03\xff\x01\x00",
        b"ACTR\x00\x03\xff\x03\x03",
        b"ACTR\x00\x03\xff\x02",
        b"ACTR\x00\x03\xff\x02\x00",
        b"ACTR\x00\x03\xff\x02\x00\x03\x00",
        // A VERSION error that carries our own version makes no sense.
        b"ACTR\x00\x03\xff\x02\x00\x03",
    ];
    for at in ALL_STATES {
        for payload in bad_errors {
            fixture.assert_malformed(at, payload);
        }
    }
}

#[test]
fn peer_errors_are_reported_and_not_answered_in_every_state() {
    let fixture = Fixture::new();
    for at in ALL_STATES {
        let (result, out) = fixture.feed(at, b"ACTR\x00\x03\xff\x01");
        assert!(matches!(
            result,
            Err(HandshakeError::Authentication { side: Side::Remote })
        ));
        assert!(out.is_empty());
        let (result, out) = fixture.feed(at, b"ACTR\x00\x03\xff\x03");
        assert!(matches!(
            result,
            Err(HandshakeError::Malformed { side: Side::Remote })
        ));
        assert!(out.is_empty());
        let (result, out) = fixture.feed(at, b"ACTR\x00\x03\xff\x04");
        assert!(matches!(result, Err(HandshakeError::Busy)));
        assert!(out.is_empty());
        let (result, out) = fixture.feed(at, b"ACTR\x00\x03\xff\x05");
        assert!(matches!(result, Err(HandshakeError::Encryption { .. })));
        assert!(out.is_empty());
        let (result, out) = fixture.feed(at, b"ACTR\x00\x04\xff\x02\x00\x04");
        assert!(matches!(
            result,
            Err(HandshakeError::VersionMismatch { ours: 3, theirs: 4 })
        ));
        assert!(out.is_empty());
    }
}

#[test]
fn bad_names_are_malformed() {
    let fixture = Fixture::new();
    let hello_with_name = |len: u16, name: &[u8]| {
        let mut hello = b"ACTR\x00\x03\x01".to_vec();
        hello.extend([0; 32]);
        hello.extend(len.to_be_bytes());
        hello.extend(name);
        hello.push(0x03);
        hello
    };
    fixture.assert_malformed(At::ServerHello, &hello_with_name(2, b"\xc3\x28"));
    fixture.assert_malformed(At::ServerHello, &hello_with_name(256, &[b'a'; 256]));
    fixture.assert_malformed(At::ServerHello, &hello_with_name(7, b"client"));
    fixture.assert_malformed(At::ServerHello, &hello_with_name(0xffff, b"client"));
    // The longest name is fine.
    let (result, _) = fixture.feed(At::ServerHello, &hello_with_name(255, &[b'a'; 255]));
    assert!(result.is_ok());

    // In a CHALLENGE the name sits before the proof: a wrong length shifts the proof.
    let mut challenge = fixture.challenge.clone();
    challenge[40] += 1;
    fixture.assert_malformed(At::ClientChallenge, &challenge);
    challenge[40] -= 2;
    fixture.assert_malformed(At::ClientChallenge, &challenge);
}

#[test]
fn a_welcome_that_is_not_a_welcome_is_refused() {
    let fixture = Fixture::new();
    // Both sides prefer encryption: the WELCOME is encrypted.
    let (_, s2c) = cipher_keys(&fixture.key, &NONCE_C, &NONCE_S);
    let sealed = |bodies: &[&[u8]]| {
        let mut sealer = Sealer::encrypted(&s2c);
        let mut wire = Vec::new();
        for body in bodies {
            wire.clear();
            sealer.seal(body, &mut wire).unwrap();
        }
        wire[4..].to_vec()
    };
    // Authentic frames, but not the WELCOME: wrong body, or wrong sequence number.
    fixture.assert_malformed(At::ClientWelcome, &sealed(&[b"\x01"]));
    fixture.assert_malformed(At::ClientWelcome, &sealed(&[b""]));
    fixture.assert_malformed(At::ClientWelcome, &sealed(&[b"\x00\x00"]));
    fixture.assert_malformed(At::ClientWelcome, &sealed(&[b"\x00", b"\x00"]));
    // Not the WELCOME's length: refused before its tag is checked.
    fixture.assert_malformed(At::ClientWelcome, &[0; 300]);
    for len in 0..fixture.welcome.len() {
        fixture.assert_malformed(At::ClientWelcome, &fixture.welcome[..len]);
    }
}

/// Payloads that look like handshake frames up to some point, then anything.
fn hostile_payload() -> impl Strategy<Value = Vec<u8>> {
    let prefixes: Vec<&'static [u8]> = vec![
        b"",
        b"ACTR",
        b"ACTR\x00\x03",
        b"ACTR\x00\x03\x01",
        b"ACTR\x00\x03\x02",
        b"ACTR\x00\x03\x03",
        b"ACTR\x00\x03\xff",
        b"ACTR\x00\x02\xff\x02",
        b"\x00\x00\x00\x00\x00\x00\x00\x00",
    ];
    (
        proptest::sample::select(prefixes),
        proptest::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(|(prefix, tail)| [prefix, &tail[..]].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_and_never_complete(payload in hostile_payload()) {
        let fixture = Fixture::new();
        for at in ALL_STATES {
            let (result, out) = fixture.feed(at, &payload);
            prop_assert!(result.is_err(), "{:?} accepted {:02x?}", at, payload);
            // At most one frame answers a refusal: an ERROR.
            let answers = payloads(&out);
            prop_assert!(answers.len() <= 1);
            if let Some(answer) = answers.first() {
                prop_assert!(answer.starts_with(b"ACTR\x00\x03\xff"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The drivers over TCP and in-memory pipes.

/// A connected pair of loopback sockets: (client end, server end, client address).
fn tcp_pair() -> (TcpStream, TcpStream, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, peer) = listener.accept().unwrap();
    (client, server, peer)
}

/// Runs `f` on a thread and returns a receiver for its result, so the wait can be bounded.
fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

fn limited(name: &str, limit: Duration) -> HandshakeConfig {
    HandshakeConfig::builder()
        .name(name)
        .timeout(limit)
        .build()
        .unwrap()
}

#[test]
fn tcp_handshake_succeeds_and_carries_a_session() {
    let (mut client_stream, mut server_stream, peer) = tcp_pair();
    let server = spawn(move || {
        let key = secret(KEY);
        let mut done =
            handshake::server_handshake(&mut server_stream, &key, &config("server"), peer)?;
        // The read timeout set for the handshake is cleared.
        assert_eq!(server_stream.read_timeout().unwrap(), None);
        let mut out = Vec::new();
        done.sealer.seal(b"from server", &mut out).unwrap();
        server_stream.write_all(&out).unwrap();
        Ok::<_, HandshakeError>(done.peer_name)
    });

    let key = secret(KEY);
    let mut done =
        handshake::client_handshake(&mut client_stream, &key, &config("client")).unwrap();
    assert_eq!(done.peer_name, "server");
    assert_eq!(server.recv_timeout(WAIT).unwrap().unwrap(), "client");

    client_stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = FrameReader::new(client_stream);
    let frame = reader.read_frame().unwrap().unwrap();
    assert_eq!(done.opener.open(frame).unwrap(), b"from server");
}

#[test]
fn wrong_key_over_tcp_fails_on_both_sides() {
    let (mut client_stream, mut server_stream, peer) = tcp_pair();
    let server = spawn(move || {
        let key = secret(OTHER_KEY);
        handshake::server_handshake(&mut server_stream, &key, &config("server"), peer).map(drop)
    });
    let key = secret(KEY);
    let client = handshake::client_handshake(&mut client_stream, &key, &config("client"));
    assert!(matches!(
        client,
        Err(HandshakeError::Authentication { side: Side::Local })
    ));
    assert!(matches!(
        server.recv_timeout(WAIT).unwrap(),
        Err(HandshakeError::Authentication { side: Side::Remote })
    ));
}

#[test]
fn version_mismatch_is_reported_on_both_sides() {
    // A client of version 2 against our server.
    let (mut fake_client, mut server_stream, peer) = tcp_pair();
    let server = spawn(move || {
        handshake::server_handshake(&mut server_stream, &secret(KEY), &config("server"), peer)
            .map(drop)
    });
    let mut hello = Vec::new();
    let mut payload = b"ACTR\x00\x02\x01".to_vec();
    payload.extend([0; 32]);
    payload.extend(b"\x00\x02v2");
    FrameConfig::new()
        .append_frame(&mut hello, &payload)
        .unwrap();
    fake_client.write_all(&hello).unwrap();
    fake_client.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = FrameReader::new(fake_client);
    assert_eq!(reader.read_frame().unwrap().unwrap(), &ERROR_VERSION[4..]);
    assert!(matches!(
        server.recv_timeout(WAIT).unwrap(),
        Err(HandshakeError::VersionMismatch { ours: 3, theirs: 2 })
    ));

    // Our client against a server of version 2.
    let (mut client_stream, fake_server, _) = tcp_pair();
    let server = spawn(move || {
        fake_server.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = FrameReader::new(fake_server);
        assert!(
            reader
                .read_frame()
                .unwrap()
                .unwrap()
                .starts_with(b"ACTR\x00\x03\x01")
        );
        let mut error = Vec::new();
        FrameConfig::new()
            .append_frame(&mut error, b"ACTR\x00\x02\xff\x02\x00\x02")
            .unwrap();
        reader.get_mut().write_all(&error).unwrap();
    });
    let client = handshake::client_handshake(&mut client_stream, &secret(KEY), &config("client"));
    assert!(matches!(
        client,
        Err(HandshakeError::VersionMismatch { ours: 3, theirs: 2 })
    ));
    server.recv_timeout(WAIT).unwrap();
}

#[test]
fn a_silent_client_times_out() {
    let (_silent, mut server_stream, peer) = tcp_pair();
    let limit = Duration::from_millis(200);
    let start = Instant::now();
    let result =
        handshake::server_handshake(&mut server_stream, &secret(KEY), &limited("s", limit), peer);
    let elapsed = start.elapsed();
    assert!(
        matches!(result, Err(HandshakeError::Timeout { limit: l }) if l == limit),
        "{result:?}"
    );
    assert!(elapsed >= limit, "gave up early, after {elapsed:?}");
    assert!(elapsed < limit + Duration::from_secs(2), "took {elapsed:?}");
}

/// A stream that sends one byte per write, pausing after each: a slow or hostile peer.
struct Trickle {
    stream: TcpStream,
    pause: Duration,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(first) = buf.first() else {
            return Ok(0);
        };
        self.stream.write_all(std::slice::from_ref(first))?;
        // Simulates a slow link; nothing is being waited for.
        thread::sleep(self.pause);
        Ok(1)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl TimedStream for Trickle {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }
}

#[test]
fn a_slow_client_completes_within_the_limit() {
    let (client_stream, mut server_stream, peer) = tcp_pair();
    let client = spawn(move || {
        let mut slow = Trickle {
            stream: client_stream,
            pause: Duration::from_millis(3),
        };
        handshake::client_handshake(&mut slow, &secret(KEY), &config("slow"))
            .map(|done| done.peer_name)
    });
    // HELLO and PROOF are 94 bytes: about 0.3 s at this pace, well within the limit.
    let config = limited("server", Duration::from_secs(5));
    let done =
        handshake::server_handshake(&mut server_stream, &secret(KEY), &config, peer).unwrap();
    assert_eq!(done.peer_name, "slow");
    assert_eq!(client.recv_timeout(WAIT).unwrap().unwrap(), "server");
}

#[test]
fn a_trickling_client_is_cut_off_at_the_limit() {
    let (client_stream, mut server_stream, peer) = tcp_pair();
    let client = spawn(move || {
        let mut slow = Trickle {
            stream: client_stream,
            pause: Duration::from_millis(50),
        };
        // Each byte arrives well within any single read's timeout, but the HELLO alone would
        // take 2.5 s.
        handshake::client_handshake(&mut slow, &secret(KEY), &config("slowloris")).map(drop)
    });
    let limit = Duration::from_millis(300);
    let start = Instant::now();
    let result =
        handshake::server_handshake(&mut server_stream, &secret(KEY), &limited("s", limit), peer);
    let elapsed = start.elapsed();
    assert!(
        matches!(result, Err(HandshakeError::Timeout { .. })),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    drop(server_stream);
    assert!(client.recv_timeout(WAIT).unwrap().is_err());
}

#[test]
fn an_oversized_frame_is_refused_before_it_is_read() {
    let (mut client_stream, mut server_stream, peer) = tcp_pair();
    // Announces 1 GiB, then sends nothing more.
    client_stream
        .write_all(&(1_u32 << 30).to_be_bytes())
        .unwrap();
    let result =
        handshake::server_handshake(&mut server_stream, &secret(KEY), &config("server"), peer);
    assert!(matches!(
        result,
        Err(HandshakeError::Frame(FrameError::TooLarge {
            len: 0x4000_0000,
            max: 512
        }))
    ));
    client_stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = [0; ERROR_MALFORMED.len()];
    client_stream.read_exact(&mut answer).unwrap();
    assert_eq!(answer, ERROR_MALFORMED);
}

#[test]
fn a_peer_that_hangs_up_is_reported() {
    let (client_stream, mut server_stream, peer) = tcp_pair();
    drop(client_stream);
    let result =
        handshake::server_handshake(&mut server_stream, &secret(KEY), &config("server"), peer);
    assert!(matches!(result, Err(HandshakeError::Closed)), "{result:?}");

    let (mut client_stream, mut server_stream, peer) = tcp_pair();
    client_stream.write_all(&[0, 0]).unwrap();
    drop(client_stream);
    let result =
        handshake::server_handshake(&mut server_stream, &secret(KEY), &config("server"), peer);
    assert!(
        matches!(
            result,
            Err(HandshakeError::Frame(FrameError::TruncatedHeader {
                read: 2
            }))
        ),
        "{result:?}"
    );
}

/// One end of an in-memory byte pipe.
struct Pipe {
    tx: mpsc::Sender<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    timeout: Option<Duration>,
}

fn pipe() -> (Pipe, Pipe) {
    let (a_tx, b_rx) = mpsc::channel();
    let (b_tx, a_rx) = mpsc::channel();
    let end = |tx, rx| Pipe {
        tx,
        rx,
        pending: Vec::new(),
        timeout: None,
    };
    (end(a_tx, a_rx), end(b_tx, b_rx))
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            let received = match self.timeout {
                Some(timeout) => self.rx.recv_timeout(timeout).map_err(|err| match err {
                    mpsc::RecvTimeoutError::Timeout => io::ErrorKind::WouldBlock,
                    mpsc::RecvTimeoutError::Disconnected => io::ErrorKind::UnexpectedEof,
                }),
                None => self.rx.recv().map_err(|_| io::ErrorKind::UnexpectedEof),
            };
            match received {
                Ok(bytes) => self.pending = bytes,
                Err(io::ErrorKind::UnexpectedEof) => return Ok(0),
                Err(kind) => return Err(kind.into()),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .send(buf.to_vec())
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TimedStream for Pipe {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.timeout = timeout;
        Ok(())
    }
}

#[test]
fn in_memory_pipes_carry_a_handshake() {
    let (mut client_end, mut server_end) = pipe();
    let client = spawn(move || {
        handshake::client_handshake(&mut client_end, &secret(KEY), &config("client"))
            .map(|done| done.peer_name)
    });
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let done = handshake::server_handshake(&mut server_end, &secret(KEY), &config("server"), peer)
        .unwrap();
    assert_eq!(done.peer_name, "client");
    assert_eq!(client.recv_timeout(WAIT).unwrap().unwrap(), "server");
}

#[test]
fn a_silent_pipe_times_out() {
    let (_silent, mut server_end) = pipe();
    let limit = Duration::from_millis(100);
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let result =
        handshake::server_handshake(&mut server_end, &secret(KEY), &limited("s", limit), peer);
    assert!(
        matches!(result, Err(HandshakeError::Timeout { .. })),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Logs.

#[test]
fn handshake_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Handshaken>();
    assert_send_sync::<HandshakeError>();
    assert_send_sync::<HandshakeConfig>();
    assert_send_sync::<Secret>();
    assert_send_sync::<ClientHandshake<'static>>();
    assert_send_sync::<ServerHandshake<'static>>();
}
