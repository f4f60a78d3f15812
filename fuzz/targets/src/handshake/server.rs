//! The server's state machine against a fuzzed client.

use actor_net::Secret;
use actor_net::handshake::{
    ClientHandshake, HandshakeConfig, Handshaken, NONCE_LEN, ServerHandshake, Step,
};

use super::{
    CHALLENGE, HELLO, MAC_ONLY, PROOF, Transcript, Verdict, check_refusal, header, judge_header,
    lp, peer_frames, split_name, tamper,
};
use crate::input::Input;
use crate::session;
use crate::vectors::{self, CLIENT_NAME, NONCE_C, NONCE_S, SERVER_NAME};

/// Runs [`ServerHandshake`] against a client that the input plays or tampers with, checking
/// every answer against the protocol's model.
///
/// Layout: one byte picks the client (see the table of the module `handshake`); in modes 0, 1
/// and 3 the rest is a stream of frames (4-byte big-endian length, payload) from the client;
/// in mode 2, each of the honest client's frames is changed as the next bytes say.
///
/// Checks: the server goes on exactly when the frame is valid, answering a HELLO with the
/// CHALLENGE the protocol computes and a PROOF with the WELCOME; it refuses everything else
/// with the right error and ERROR frame; once done, its session keys are those of the protocol,
/// and session frames open exactly when their tag and sequence number are right.
///
/// # Examples
///
/// ```
/// // A client that sends one empty frame: refused as malformed.
/// actor_fuzz_targets::handshake_server(b"\x00\x00\x00\x00\x00");
/// ```
pub fn handshake_server(data: &[u8]) {
    let key = vectors::key();
    let server_config = vectors::config(SERVER_NAME);
    let client_config = vectors::config(CLIENT_NAME);
    let mut server = Server::new(&key, &server_config);
    let mut input = Input::new(data);
    match input.byte() % 4 {
        0 => {
            for frame in peer_frames(input.rest(), &server_config) {
                if server.receive(&frame).is_none() {
                    break;
                }
            }
        }
        1 => {
            let (hello, _client) = hello(&key, &client_config);
            if server.receive(&hello).is_some() {
                for frame in peer_frames(input.rest(), &server_config) {
                    if server.receive(&frame).is_none() {
                        break;
                    }
                }
            }
        }
        2 => {
            let (mut hello, client) = hello(&key, &client_config);
            tamper(&mut hello, &mut input);
            let Some(challenge) = server.receive(&hello) else {
                return;
            };
            let mut proof = Vec::new();
            let Ok(Step::Continue(_)) = client.step(&challenge[0], &mut proof) else {
                // The client saw through a changed HELLO: the server's proof covers its name.
                return;
            };
            let mut proof = vectors::payloads(&proof).remove(0);
            tamper(&mut proof, &mut input);
            server.receive(&proof);
        }
        _ => {
            let (hello, client) = hello(&key, &client_config);
            let challenge = server
                .receive(&hello)
                .expect("the honest HELLO is accepted");
            let mut proof = Vec::new();
            let Ok(Step::Continue(_)) = client.step(&challenge[0], &mut proof) else {
                panic!("the honest client accepts the server's CHALLENGE");
            };
            let proof = vectors::payloads(&proof).remove(0);
            server
                .receive(&proof)
                .expect("the honest PROOF is accepted");
            for frame in peer_frames(input.rest(), &server_config) {
                if server.receive(&frame).is_none() {
                    break;
                }
            }
        }
    }
}

/// The honest client's HELLO payload, and the client waiting for the CHALLENGE.
fn hello<'a>(key: &'a Secret, config: &'a HandshakeConfig) -> (Vec<u8>, ClientHandshake<'a>) {
    let mut out = Vec::new();
    let client = ClientHandshake::new(key, config, NONCE_C, &mut out);
    (vectors::payloads(&out).remove(0), client)
}

/// The server's machine and what the model expects of it.
struct Server<'a> {
    key: &'a Secret,
    config: &'a HandshakeConfig,
    state: State<'a>,
}

enum State<'a> {
    AwaitHello,
    AwaitProof {
        machine: ServerHandshake<'a>,
        nonce_c: [u8; NONCE_LEN],
        client_name: String,
        /// The HELLO's `accepts`, which the proofs cover.
        accepts: u8,
    },
    Done {
        session: Box<Handshaken>,
        c2s: [u8; 32],
    },
    Closed,
}

impl<'a> Server<'a> {
    fn new(key: &'a Secret, config: &'a HandshakeConfig) -> Server<'a> {
        Server {
            key,
            config,
            state: State::AwaitHello,
        }
    }

    /// Hands the server a frame from the client; returns the payloads it answered with, or
    /// `None` once the connection is closed.
    fn receive(&mut self, payload: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.state = match std::mem::replace(&mut self.state, State::Closed) {
            State::AwaitHello => {
                let machine = ServerHandshake::new(self.key, self.config, NONCE_S);
                let verdict = judge_hello(payload);
                match (verdict, machine.step(payload, &mut out)) {
                    (Ok((nonce_c, client_name, accepts)), Ok(Step::Continue(machine))) => {
                        let sent = vectors::payloads(&out);
                        let expected = challenge(&nonce_c, client_name, accepts);
                        assert_eq!(sent, [expected], "wrong CHALLENGE");
                        State::AwaitProof {
                            machine,
                            nonce_c,
                            client_name: client_name.to_owned(),
                            accepts,
                        }
                    }
                    (Err(verdict), Err(error)) => {
                        check_refusal(verdict, &error, &out);
                        State::Closed
                    }
                    (verdict, result) => {
                        panic!("HELLO: the model says {verdict:?}, the server {result:?}")
                    }
                }
            }
            State::AwaitProof {
                machine,
                nonce_c,
                client_name,
                accepts,
            } => {
                let expected = Transcript {
                    nonce_c: &nonce_c,
                    nonce_s: &NONCE_S,
                    client_name: &client_name,
                    server_name: SERVER_NAME,
                    accepts,
                    mode: MAC_ONLY,
                }
                .client_proof();
                let verdict = match judge_header(payload, Some(PROOF)) {
                    Ok(body) if body.len() != 32 => Verdict::Malformed,
                    Ok(body) if body != expected => Verdict::Auth,
                    Ok(_) => Verdict::Accept,
                    Err(verdict) => verdict,
                };
                match (verdict, machine.step(payload, &mut out)) {
                    (Verdict::Accept, Ok(Step::Done(session))) => {
                        let (c2s, s2c) = vectors::session_keys(&nonce_c, &NONCE_S);
                        assert_eq!(session.peer_name, client_name);
                        let welcome = session::sealed(&s2c, 0, &[0]);
                        assert_eq!(vectors::payloads(&out), [welcome], "wrong WELCOME");
                        let mut session = session;
                        session::check_sealer(&mut session.sealer, &s2c, 1);
                        State::Done {
                            session: Box::new(session),
                            c2s,
                        }
                    }
                    (Verdict::Accept, result) => panic!("a valid PROOF gave {result:?}"),
                    (verdict, Err(error)) => {
                        check_refusal(verdict, &error, &out);
                        State::Closed
                    }
                    (verdict, Ok(_)) => panic!("the server went on after a PROOF: {verdict:?}"),
                }
            }
            State::Done { mut session, c2s } => {
                if session::receive(&mut session.opener, &c2s, payload) {
                    State::Done { session, c2s }
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

/// The model of a HELLO: its nonce, the client's name and its `accepts` if it is one. The
/// server has encryption off: a client that accepts only encrypted sessions is refused.
fn judge_hello(payload: &[u8]) -> Result<([u8; NONCE_LEN], &str, u8), Verdict> {
    let body = judge_header(payload, Some(HELLO))?;
    let (nonce_c, rest) = body
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(Verdict::Malformed)?;
    match split_name(rest) {
        Some((name, [accepts @ (0x01 | 0x03)])) => Ok((*nonce_c, name, *accepts)),
        Some((_, [0x02])) => Err(Verdict::Policy),
        _ => Err(Verdict::Malformed),
    }
}

/// The CHALLENGE payload the server must send: a session without encryption.
fn challenge(nonce_c: &[u8; NONCE_LEN], client_name: &str, accepts: u8) -> Vec<u8> {
    let proof_s = Transcript {
        nonce_c,
        nonce_s: &NONCE_S,
        client_name,
        server_name: SERVER_NAME,
        accepts,
        mode: MAC_ONLY,
    }
    .server_proof();
    [
        &header(CHALLENGE)[..],
        &NONCE_S,
        &lp(SERVER_NAME),
        &[MAC_ONLY],
        &proof_s,
    ]
    .concat()
}
