//! The handshake state machines, fed a peer's frames, and a model of what each state accepts.
//!
//! Each role's target plays its state machine against a peer chosen by the input's first byte:
//!
//! | mode (byte % 4) | The peer                                                          |
//! |-----------------|-------------------------------------------------------------------|
//! | 0               | sends the input's frames from the start                           |
//! | 1               | is honest for its first frame, then sends the input's frames      |
//! | 2               | is honest, but each of its frames is changed as the input says    |
//! | 3               | is honest to the end, then sends the input's frames (as session frames) |
//!
//! The key, nonces and names are those of the test vectors, so in mode 0 the documented
//! transcript completes the handshake. Every answer of the machine is checked against
//! [`Verdict`], a model written from `PROTOCOL.md` ("Checking a handshake frame"): the machine
//! goes on exactly when the model accepts, and otherwise fails with the model's error and
//! sends the ERROR frame the model says (none for a peer's ERROR).

mod client;
mod server;

use actor_core::codec::FrameReader;
use actor_net::handshake::{HandshakeError, Side};

pub use client::handshake_client;
pub use server::handshake_server;

use crate::input::Input;
use crate::vectors::{self, KEY};

/// The first four bytes of every handshake payload.
const MAGIC: &[u8; 4] = b"ACTR";

/// The protocol version `PROTOCOL.md` describes, written here rather than taken from the
/// implementation so that a change on either side shows.
const VERSION: u16 = 3;

/// The kinds of handshake frames.
const HELLO: u8 = 1;
const CHALLENGE: u8 = 2;
const PROOF: u8 = 3;
const ERROR: u8 = 0xff;

/// The ERROR frames' codes.
const AUTH: u8 = 1;
const VERSION_CODE: u8 = 2;
const MALFORMED: u8 = 3;
const BUSY: u8 = 4;
const POLICY: u8 = 5;

/// The session mode of the model's handshakes: both machines have encryption off, so the
/// client accepts sessions without encryption only (`accepts` 01) and the server picks that
/// mode (`mode` 01). The encrypted sessions' frames are checked by `actor-net`'s own tests.
const MAC_ONLY: u8 = 0x01;

/// What the protocol says of a handshake frame received in some state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The frame is the one expected, and its proof (if any) verifies.
    Accept,
    /// Refused and answered with ERROR MALFORMED.
    Malformed,
    /// Refused and answered with ERROR VERSION: the peer speaks this version.
    Version(u16),
    /// Refused and answered with ERROR AUTH.
    Auth,
    /// Refused and answered with ERROR POLICY: the client requires encryption.
    Policy,
    /// The peer's own ERROR frame: reported, not answered.
    Peer(PeerError),
}

/// What a peer's ERROR frame reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerError {
    Auth,
    Version(u16),
    Malformed,
    Busy,
    Policy,
}

/// Judges the header of a handshake payload, in the order of `PROTOCOL.md`: magic, an ERROR
/// frame in any version, version, kind. `Ok` holds the body of a frame of kind `expected`
/// (`None` accepts no kind but ERROR).
fn judge_header(payload: &[u8], expected: Option<u8>) -> Result<&[u8], Verdict> {
    let Some((header, body)) = payload.split_first_chunk::<7>() else {
        return Err(Verdict::Malformed);
    };
    if header[..4] != MAGIC[..] {
        return Err(Verdict::Malformed);
    }
    let version = u16::from_be_bytes([header[4], header[5]]);
    let kind = header[6];
    if kind == ERROR {
        return Err(match *body {
            [AUTH] => Verdict::Peer(PeerError::Auth),
            [MALFORMED] => Verdict::Peer(PeerError::Malformed),
            [BUSY] => Verdict::Peer(PeerError::Busy),
            [POLICY] => Verdict::Peer(PeerError::Policy),
            [VERSION_CODE, v0, v1] if u16::from_be_bytes([v0, v1]) != VERSION => {
                Verdict::Peer(PeerError::Version(u16::from_be_bytes([v0, v1])))
            }
            _ => Verdict::Malformed,
        });
    }
    if version != VERSION {
        return Err(Verdict::Version(version));
    }
    if Some(kind) != expected {
        return Err(Verdict::Malformed);
    }
    Ok(body)
}

/// The 7 bytes every handshake payload of `kind` starts with: magic, version, kind.
fn header(kind: u8) -> [u8; 7] {
    let [v0, v1] = VERSION.to_be_bytes();
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], v0, v1, kind]
}

/// Splits `lp(name)` off the front of `bytes`, as `PROTOCOL.md` defines names.
fn split_name(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if len > 255 || len > rest.len() {
        return None;
    }
    let (name, rest) = rest.split_at(len);
    Some((std::str::from_utf8(name).ok()?, rest))
}

/// `lp(name)`: the name's length as a big-endian `u16`, then the name.
fn lp(name: &str) -> Vec<u8> {
    let len = u16::try_from(name.len()).expect("invariant: names are at most 255 bytes");
    [&len.to_be_bytes()[..], name.as_bytes()].concat()
}

/// What both proofs cover besides the key: the nonces, the names, the HELLO's `accepts` and
/// the CHALLENGE's `mode`.
struct Transcript<'a> {
    nonce_c: &'a [u8],
    nonce_s: &'a [u8],
    client_name: &'a str,
    server_name: &'a str,
    accepts: u8,
    mode: u8,
}

impl Transcript<'_> {
    /// The proof under `label`, computed as `PROTOCOL.md` defines it.
    fn proof(&self, label: &[u8]) -> [u8; 32] {
        vectors::hmac(
            KEY,
            &[
                label,
                self.nonce_c,
                self.nonce_s,
                &lp(self.client_name),
                &lp(self.server_name),
                &[self.accepts, self.mode],
            ],
        )
    }

    /// `proof_s`.
    fn server_proof(&self) -> [u8; 32] {
        self.proof(b"actor/3 server proof")
    }

    /// `proof_c`.
    fn client_proof(&self) -> [u8; 32] {
        self.proof(b"actor/3 client proof")
    }
}

/// Checks how a state machine answered a frame the model refused: the error matches the
/// verdict, and `sent` (what the machine appended) is the ERROR frame the verdict calls for.
fn check_refusal(verdict: Verdict, error: &HandshakeError, sent: &[u8]) {
    let answer: &[u8] = match (verdict, error) {
        (Verdict::Malformed, HandshakeError::Malformed { side: Side::Local }) => &[MALFORMED],
        (Verdict::Auth, HandshakeError::Authentication { side: Side::Local }) => &[AUTH],
        (
            Verdict::Version(version),
            &HandshakeError::VersionMismatch {
                ours: VERSION,
                theirs,
            },
        ) if theirs == version => &[VERSION_CODE, 0, 3],
        (Verdict::Policy, HandshakeError::Encryption { .. }) => &[POLICY],
        (Verdict::Peer(PeerError::Policy), HandshakeError::Encryption { .. }) => &[],
        (Verdict::Peer(PeerError::Auth), HandshakeError::Authentication { side })
        | (Verdict::Peer(PeerError::Malformed), HandshakeError::Malformed { side })
            if *side == Side::Remote =>
        {
            &[]
        }
        (Verdict::Peer(PeerError::Busy), HandshakeError::Busy) => &[],
        (
            Verdict::Peer(PeerError::Version(version)),
            &HandshakeError::VersionMismatch {
                ours: VERSION,
                theirs,
            },
        ) if theirs == version => &[],
        (verdict, error) => panic!("the model says {verdict:?}, the machine fails with {error:?}"),
    };
    let frames = vectors::payloads(sent);
    if answer.is_empty() {
        assert!(
            frames.is_empty(),
            "a peer's ERROR was answered: {frames:02x?}"
        );
    } else {
        let expected = [&header(ERROR)[..], answer].concat();
        assert_eq!(frames, [expected], "the wrong ERROR frame was sent");
    }
}

/// Changes a frame of the honest peer as the input says: keeps it, flips a byte, cuts it
/// short, or adds bytes to its end.
fn tamper(payload: &mut Vec<u8>, input: &mut Input<'_>) {
    let op = input.byte();
    let at = usize::from(input.u16());
    match op % 4 {
        0 => {}
        1 if !payload.is_empty() => {
            let len = payload.len();
            payload[at % len] ^= input.byte() | 1;
        }
        2 => payload.truncate(at % (payload.len() + 1)),
        _ => payload.extend_from_slice(input.chunk()),
    }
}

/// Reads the frames of `wire` as a handshake side does, up to the first frame error.
fn peer_frames(wire: &[u8], config: &actor_net::handshake::HandshakeConfig) -> Vec<Vec<u8>> {
    let mut reader = FrameReader::with_config(wire, vectors::handshake_frames(config));
    let mut frames = Vec::new();
    while let Ok(Some(payload)) = reader.read_frame() {
        frames.push(payload.to_vec());
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_reads_headers_in_the_documented_order() {
        assert_eq!(
            judge_header(b"ACTR\0\x03", Some(HELLO)),
            Err(Verdict::Malformed)
        );
        assert_eq!(
            judge_header(b"ACTS\0\x03\x01", Some(HELLO)),
            Err(Verdict::Malformed)
        );
        assert_eq!(
            judge_header(b"ACTR\0\x07\xff\x01", Some(HELLO)),
            Err(Verdict::Peer(PeerError::Auth))
        );
        assert_eq!(
            judge_header(b"ACTR\0\x03\xff\x02\0\x03", Some(HELLO)),
            Err(Verdict::Malformed)
        );
        assert_eq!(
            judge_header(b"ACTR\0\x01\xff\x02\0\x01", Some(HELLO)),
            Err(Verdict::Peer(PeerError::Version(1)))
        );
        assert_eq!(
            judge_header(b"ACTR\0\x02\x01", Some(HELLO)),
            Err(Verdict::Version(2))
        );
        assert_eq!(
            judge_header(b"ACTR\0\x03\xff\x05", Some(HELLO)),
            Err(Verdict::Peer(PeerError::Policy))
        );
        assert_eq!(
            judge_header(b"ACTR\0\x07\x01", Some(HELLO)),
            Err(Verdict::Version(7))
        );
        assert_eq!(
            judge_header(b"ACTR\0\x03\x02", Some(HELLO)),
            Err(Verdict::Malformed)
        );
        assert_eq!(
            judge_header(b"ACTR\0\x03\x01", None),
            Err(Verdict::Malformed)
        );
        assert_eq!(
            judge_header(b"ACTR\0\x03\x01body", Some(HELLO)),
            Ok(&b"body"[..])
        );
    }
}
