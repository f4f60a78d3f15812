//! The client's state machine against a fuzzed server.

use actor_net::Secret;
use actor_net::handshake::{
    ClientHandshake, HandshakeConfig, Handshaken, NONCE_LEN, ServerHandshake, Step,
};

use super::{
    CHALLENGE, HELLO, MAC_ONLY, MAGIC, PROOF, Transcript, Verdict, check_refusal, header,
    judge_header, lp, peer_frames, split_name, tamper,
};
use crate::input::Input;
use crate::session;
use crate::vectors::{self, CLIENT_NAME, NONCE_C, NONCE_S, SERVER_NAME};

/// Runs [`ClientHandshake`] against a server that the input plays or tampers with, checking
/// every answer against the protocol's model.
///
/// Layout: one byte picks the server (see the table of the module `handshake`); in modes 0, 1
/// and 3 the rest is a stream of frames (4-byte big-endian length, payload) from the server;
/// in mode 2, each of the honest server's frames is changed as the next bytes say.
///
/// Checks: the client sends the HELLO of the protocol; it goes on exactly when a CHALLENGE
/// carries the right server proof, answering with the PROOF the protocol computes, and
/// finishes exactly on the one valid WELCOME; it refuses everything else with the right error
/// and ERROR frame; once done, its session keys are those of the protocol, and session frames
/// open exactly when their tag and sequence number are right.
///
/// # Examples
///
/// ```
/// // A server that answers the HELLO with "ACTR", version 2, ERROR AUTH.
/// actor_fuzz_targets::handshake_client(b"\x00\x00\x00\x00\x08ACTR\x00\x02\xff\x01");
/// ```
pub fn handshake_client(data: &[u8]) {
    let key = vectors::key();
    let client_config = vectors::config(CLIENT_NAME);
    let server_config = vectors::config(SERVER_NAME);
    let (mut client, hello) = Client::start(&key, &client_config);
    let mut input = Input::new(data);
    match input.byte() % 4 {
        0 => {
            for frame in peer_frames(input.rest(), &client_config) {
                if client.receive(&frame).is_none() {
                    break;
                }
            }
        }
        1 => {
            let (challenge, _server) = challenge(&key, &server_config, &hello);
            if client.receive(&challenge).is_some() {
                for frame in peer_frames(input.rest(), &client_config) {
                    if client.receive(&frame).is_none() {
                        break;
                    }
                }
            }
        }
        2 => {
            let (mut challenge, server) = challenge(&key, &server_config, &hello);
            tamper(&mut challenge, &mut input);
            let Some(proof) = client.receive(&challenge) else {
                return;
            };
            let mut welcome = Vec::new();
            let Ok(Step::Done(_)) = server.step(&proof[0], &mut welcome) else {
                panic!("the honest server accepts the client's PROOF");
            };
            let mut welcome = vectors::payloads(&welcome).remove(0);
            tamper(&mut welcome, &mut input);
            client.receive(&welcome);
        }
        _ => {
            let (challenge, server) = challenge(&key, &server_config, &hello);
            let proof = client
                .receive(&challenge)
                .expect("the honest CHALLENGE is accepted");
            let mut welcome = Vec::new();
            let Ok(Step::Done(_)) = server.step(&proof[0], &mut welcome) else {
                panic!("the honest server accepts the client's PROOF");
            };
            let welcome = vectors::payloads(&welcome).remove(0);
            client
                .receive(&welcome)
                .expect("the honest WELCOME is accepted");
            for frame in peer_frames(input.rest(), &client_config) {
                if client.receive(&frame).is_none() {
                    break;
                }
            }
        }
    }
}

/// The honest server's CHALLENGE payload in answer to `hello`, and the server waiting for the
/// PROOF.
fn challenge<'a>(
    key: &'a Secret,
    config: &'a HandshakeConfig,
    hello: &[u8],
) -> (Vec<u8>, ServerHandshake<'a>) {
    let mut out = Vec::new();
    let server = ServerHandshake::new(key, config, NONCE_S);
    let Ok(Step::Continue(server)) = server.step(hello, &mut out) else {
        panic!("the honest server accepts the client's HELLO");
    };
    (vectors::payloads(&out).remove(0), server)
}

/// The client's machine and what the model expects of it.
struct Client<'a> {
    state: State<'a>,
}

enum State<'a> {
    AwaitChallenge(ClientHandshake<'a>),
    AwaitWelcome {
        machine: ClientHandshake<'a>,
        server_name: String,
        c2s: [u8; 32],
        s2c: [u8; 32],
    },
    Done {
        session: Box<Handshaken>,
        s2c: [u8; 32],
    },
    Closed,
}

impl<'a> Client<'a> {
    /// Starts the client; returns it and the HELLO payload it sent, checked against the model.
    fn start(key: &'a Secret, config: &'a HandshakeConfig) -> (Client<'a>, Vec<u8>) {
        let mut out = Vec::new();
        let machine = ClientHandshake::new(key, config, NONCE_C, &mut out);
        let hello = [&header(HELLO)[..], &NONCE_C, &lp(CLIENT_NAME), &[MAC_ONLY]].concat();
        assert_eq!(
            vectors::payloads(&out),
            std::slice::from_ref(&hello),
            "wrong HELLO"
        );
        let state = State::AwaitChallenge(machine);
        (Client { state }, hello)
    }

    /// Hands the client a frame from the server; returns the payloads it answered with, or
    /// `None` once the connection is closed.
    fn receive(&mut self, payload: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.state = match std::mem::replace(&mut self.state, State::Closed) {
            State::AwaitChallenge(machine) => {
                let verdict = judge_challenge(payload);
                match (verdict, machine.step(payload, &mut out)) {
                    (Ok((nonce_s, server_name)), Ok(Step::Continue(machine))) => {
                        let proof_c = Transcript {
                            nonce_c: &NONCE_C,
                            nonce_s: &nonce_s,
                            client_name: CLIENT_NAME,
                            server_name,
                            accepts: MAC_ONLY,
                            mode: MAC_ONLY,
                        }
                        .client_proof();
                        let proof = [&header(PROOF)[..], &proof_c].concat();
                        assert_eq!(vectors::payloads(&out), [proof], "wrong PROOF");
                        let (c2s, s2c) = vectors::session_keys(&NONCE_C, &nonce_s);
                        State::AwaitWelcome {
                            machine,
                            server_name: server_name.to_owned(),
                            c2s,
                            s2c,
                        }
                    }
                    (Err(verdict), Err(error)) => {
                        check_refusal(verdict, &error, &out);
                        State::Closed
                    }
                    (verdict, result) => {
                        panic!("CHALLENGE: the model says {verdict:?}, the client {result:?}")
                    }
                }
            }
            State::AwaitWelcome {
                machine,
                server_name,
                c2s,
                s2c,
            } => {
                let verdict = judge_welcome(payload, &s2c);
                match (verdict, machine.step(payload, &mut out)) {
                    (Verdict::Accept, Ok(Step::Done(mut session))) => {
                        assert_eq!(session.peer_name, server_name);
                        assert!(out.is_empty(), "the client answered the WELCOME");
                        assert_eq!(session.opener.next_seq(), Some(1));
                        session::check_sealer(&mut session.sealer, &c2s, 0);
                        State::Done {
                            session: Box::new(session),
                            s2c,
                        }
                    }
                    (Verdict::Accept, result) => panic!("a valid WELCOME gave {result:?}"),
                    (verdict, Err(error)) => {
                        check_refusal(verdict, &error, &out);
                        State::Closed
                    }
                    (verdict, Ok(_)) => panic!("the client went on after a WELCOME: {verdict:?}"),
                }
            }
            State::Done { mut session, s2c } => {
                if session::receive(&mut session.opener, &s2c, payload) {
                    State::Done { session, s2c }
                } else {
                    State::Closed
                }
            }
            State::Closed => State::Closed,
        };
        match self.state {
            State::Closed => None,
            _ => Some(vectors::payloads(&out)),
        }
    }
}

/// The model of a CHALLENGE: the server's nonce and name if it is one with the right proof.
fn judge_challenge(payload: &[u8]) -> Result<([u8; NONCE_LEN], &str), Verdict> {
    let body = judge_header(payload, Some(CHALLENGE))?;
    let (nonce_s, rest) = body
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(Verdict::Malformed)?;
    let (server_name, rest) = split_name(rest).ok_or(Verdict::Malformed)?;
    // The mode must be the one mode the client offered, and a proof follows it.
    let Some((&MAC_ONLY, proof_s)) = rest.split_first() else {
        return Err(Verdict::Malformed);
    };
    if proof_s.len() != 32 {
        return Err(Verdict::Malformed);
    }
    let transcript = Transcript {
        nonce_c: &NONCE_C,
        nonce_s,
        client_name: CLIENT_NAME,
        server_name,
        accepts: MAC_ONLY,
        mode: MAC_ONLY,
    };
    if proof_s != transcript.server_proof() {
        return Err(Verdict::Auth);
    }
    Ok((*nonce_s, server_name))
}

/// The model of the WELCOME: a session frame under `s2c` with sequence number 0 and body `00`;
/// a frame that starts with the magic is a handshake frame, and only an ERROR may come here.
fn judge_welcome(payload: &[u8], s2c: &[u8; 32]) -> Verdict {
    if payload.starts_with(MAGIC) {
        return match judge_header(payload, None) {
            Err(verdict) => verdict,
            Ok(_) => unreachable!("no kind is accepted"),
        };
    }
    if payload.len() != 8 + 1 + 32 {
        return Verdict::Malformed;
    }
    let (sealed, tag) = payload.split_at(9);
    if vectors::hmac(s2c, &[sealed]) != tag {
        return Verdict::Auth;
    }
    if sealed == [0; 9] {
        Verdict::Accept
    } else {
        Verdict::Malformed
    }
}
