//! The handshake frames' payloads: encoding, and parsing that trusts nothing.
//!
//! Every payload starts with the same 7-byte header:
//!
//! ```text
//! +--------------+-------------+---------+------------------------+
//! | magic "ACTR" | version u16 | kind u8 | body (depends on kind) |
//! +--------------+-------------+---------+------------------------+
//! ```
//!
//! Parsing checks, in this order: length of the header, magic, kind ERROR (whose layout is the
//! same in every version, so it is read whatever the version), version, expected kind, and the
//! body's exact length. See `PROTOCOL.md` for each body.

use super::config::Encryption;
use super::config::HandshakeConfig;
use super::constants::{
    HEADER_LEN, MAGIC, MAX_NAME_LEN, MODE_CIPHER, MODE_MAC, NONCE_LEN, PROOF_LEN, VERSION,
};
use super::error::{HandshakeError, Side};

/// What a handshake frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Hello = 1,
    Challenge = 2,
    Proof = 3,
    Error = 0xFF,
}

/// The code an ERROR frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Auth = 1,
    Version = 2,
    Malformed = 3,
    Busy = 4,
    Policy = 5,
}

/// Why an incoming frame ends the handshake, and so what to answer.
#[derive(Debug)]
pub(super) enum Reject {
    /// Not a frame we can accept here: answer MALFORMED.
    Malformed,
    /// The peer speaks another version: answer VERSION.
    Version(u16),
    /// The peer's proof is wrong (or the WELCOME frame failed its tag): answer AUTH.
    Auth,
    /// The client's encryption setting does not meet ours (the server's): answer POLICY.
    Policy {
        /// The client's setting, from its HELLO.
        theirs: Encryption,
    },
    /// The peer sent an ERROR frame: answer nothing.
    Peer(HandshakeError),
    /// The server refused our encryption setting with an ERROR POLICY: answer nothing.
    PeerPolicy,
}

impl Reject {
    /// Appends the ERROR frame that answers this rejection to `out` (none for a peer's ERROR)
    /// and returns the error for the local caller.
    pub(super) fn answer(self, config: &HandshakeConfig, out: &mut Vec<u8>) -> HandshakeError {
        let (code, err) = match self {
            Reject::Malformed => (
                Code::Malformed,
                HandshakeError::Malformed { side: Side::Local },
            ),
            Reject::Version(theirs) => (
                Code::Version,
                HandshakeError::VersionMismatch {
                    ours: VERSION,
                    theirs,
                },
            ),
            Reject::Auth => (
                Code::Auth,
                HandshakeError::Authentication { side: Side::Local },
            ),
            Reject::Policy { theirs } => (
                Code::Policy,
                HandshakeError::Encryption {
                    ours: config.encryption(),
                    theirs,
                },
            ),
            Reject::Peer(err) => return err,
            // Only a server refuses, and only because one side requires encryption and the
            // other has it off: the peer's setting is the one that clashes with ours.
            Reject::PeerPolicy => {
                let ours = config.encryption();
                let theirs = match ours {
                    Encryption::Off => Encryption::Required,
                    Encryption::Preferred | Encryption::Required => Encryption::Off,
                };
                return HandshakeError::Encryption { ours, theirs };
            }
        };
        append_error(config, out, code);
        err
    }
}

/// Appends an ERROR frame with `code` (and our version, for a VERSION error).
fn append_error(config: &HandshakeConfig, out: &mut Vec<u8>, code: Code) {
    let header = header(Kind::Error);
    if code == Code::Version {
        append(
            config,
            out,
            &[&header, &[code as u8], &VERSION.to_be_bytes()],
        );
    } else {
        append(config, out, &[&header, &[code as u8]]);
    }
}

/// Appends an ERROR frame with code MALFORMED, for a frame rejected before it was parsed.
pub(super) fn append_malformed(config: &HandshakeConfig, out: &mut Vec<u8>) {
    append_error(config, out, Code::Malformed);
}

/// Appends an ERROR frame with code BUSY: what a server sends, in place of any handshake
/// frame, to a connection it will not serve because too many others are in their handshake.
pub(super) fn append_busy(config: &HandshakeConfig, out: &mut Vec<u8>) {
    append_error(config, out, Code::Busy);
}

/// Returns the header of a frame of `kind` in our version.
fn header(kind: Kind) -> [u8; HEADER_LEN] {
    let [v0, v1] = VERSION.to_be_bytes();
    let [m0, m1, m2, m3] = MAGIC;
    [m0, m1, m2, m3, v0, v1, kind as u8]
}

/// Appends one handshake frame made of `parts` to `out`.
fn append(config: &HandshakeConfig, out: &mut Vec<u8>, parts: &[&[u8]]) {
    config.frames().append_frame_parts(out, parts).expect(
        "invariant: HandshakeConfig keeps its frame limit above the largest handshake frame",
    );
}

/// Returns the length prefix of `lp(name)`.
///
/// # Panics
///
/// If `name` is longer than `MAX_NAME_LEN`: callers pass only checked names.
pub(super) fn name_len(name: &str) -> [u8; 2] {
    assert!(
        name.len() <= MAX_NAME_LEN,
        "node names are at most {MAX_NAME_LEN} bytes"
    );
    // At most 255, so the conversion is exact.
    (name.len() as u16).to_be_bytes()
}

/// Appends a HELLO frame.
pub(super) fn append_hello(config: &HandshakeConfig, out: &mut Vec<u8>, nonce_c: &[u8; NONCE_LEN]) {
    let name = config.name();
    let parts: [&[u8]; 5] = [
        &header(Kind::Hello),
        nonce_c,
        &name_len(name),
        name.as_bytes(),
        &[config.encryption().accepts()],
    ];
    append(config, out, &parts);
}

/// Appends a CHALLENGE frame.
pub(super) fn append_challenge(
    config: &HandshakeConfig,
    out: &mut Vec<u8>,
    nonce_s: &[u8; NONCE_LEN],
    mode: u8,
    proof_s: &[u8; PROOF_LEN],
) {
    let name = config.name();
    let parts: [&[u8]; 6] = [
        &header(Kind::Challenge),
        nonce_s,
        &name_len(name),
        name.as_bytes(),
        &[mode],
        proof_s,
    ];
    append(config, out, &parts);
}

/// Appends a PROOF frame.
pub(super) fn append_proof(config: &HandshakeConfig, out: &mut Vec<u8>, proof_c: &[u8; PROOF_LEN]) {
    append(config, out, &[&header(Kind::Proof), proof_c]);
}

/// Checks the header of `payload` and returns the body of a frame of kind `expected`.
///
/// An ERROR frame becomes [`Reject::Peer`]; with `expected == Kind::Error` every frame is
/// rejected, which is what a side that accepts no handshake frame at all wants.
pub(super) fn parse(payload: &[u8], expected: Kind) -> Result<&[u8], Reject> {
    let Some((header, body)) = payload.split_first_chunk::<HEADER_LEN>() else {
        return Err(Reject::Malformed);
    };
    let [m0, m1, m2, m3, v0, v1, kind] = *header;
    if [m0, m1, m2, m3] != MAGIC {
        return Err(Reject::Malformed);
    }
    if kind == Kind::Error as u8 {
        return Err(parse_error(body));
    }
    let version = u16::from_be_bytes([v0, v1]);
    if version != VERSION {
        return Err(Reject::Version(version));
    }
    if kind != expected as u8 || expected == Kind::Error {
        return Err(Reject::Malformed);
    }
    Ok(body)
}

/// Turns the body of a peer's ERROR frame into the error it reports.
fn parse_error(body: &[u8]) -> Reject {
    let error = match *body {
        [code] if code == Code::Auth as u8 => HandshakeError::Authentication { side: Side::Remote },
        [code] if code == Code::Malformed as u8 => HandshakeError::Malformed { side: Side::Remote },
        [code] if code == Code::Busy as u8 => HandshakeError::Busy,
        [code] if code == Code::Policy as u8 => return Reject::PeerPolicy,
        [code, v0, v1] if code == Code::Version as u8 => {
            let theirs = u16::from_be_bytes([v0, v1]);
            // A peer that claims a mismatch while speaking our version is not making sense.
            if theirs == VERSION {
                return Reject::Malformed;
            }
            HandshakeError::VersionMismatch {
                ours: VERSION,
                theirs,
            }
        }
        _ => return Reject::Malformed,
    };
    Reject::Peer(error)
}

/// Splits `lp(name)` off the front of `bytes`; `None` if it is cut short, longer than
/// `MAX_NAME_LEN` or not UTF-8.
fn split_name(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if len > MAX_NAME_LEN || len > rest.len() {
        return None;
    }
    let (name, rest) = rest.split_at(len);
    Some((std::str::from_utf8(name).ok()?, rest))
}

/// The body of a HELLO frame.
#[derive(Debug)]
pub(super) struct Hello<'a> {
    pub(super) nonce_c: [u8; NONCE_LEN],
    pub(super) client_name: &'a str,
    /// The session modes the client accepts: one or both of `MODE_MAC` and `MODE_CIPHER`.
    pub(super) accepts: u8,
}

impl<'a> Hello<'a> {
    /// Parses a HELLO body; `None` unless it is exactly a nonce, a valid name and an
    /// `accepts` byte naming one or both modes, and no other bit.
    pub(super) fn parse(body: &'a [u8]) -> Option<Self> {
        let (nonce_c, rest) = body.split_first_chunk::<NONCE_LEN>()?;
        match split_name(rest)? {
            (client_name, [accepts]) if Encryption::from_accepts(*accepts).is_some() => {
                Some(Hello {
                    nonce_c: *nonce_c,
                    client_name,
                    accepts: *accepts,
                })
            }
            _ => None,
        }
    }
}

/// The body of a CHALLENGE frame.
#[derive(Debug)]
pub(super) struct Challenge<'a> {
    pub(super) nonce_s: [u8; NONCE_LEN],
    pub(super) server_name: &'a str,
    /// The session mode the server chose: `MODE_MAC` or `MODE_CIPHER`.
    pub(super) mode: u8,
    pub(super) proof_s: &'a [u8],
}

impl<'a> Challenge<'a> {
    /// Parses a CHALLENGE body; `None` unless it is exactly a nonce, a valid name, a mode
    /// (one of the two) and a proof.
    pub(super) fn parse(body: &'a [u8]) -> Option<Self> {
        let (nonce_s, rest) = body.split_first_chunk::<NONCE_LEN>()?;
        let (server_name, rest) = split_name(rest)?;
        let (&mode, proof_s) = rest.split_first()?;
        (proof_s.len() == PROOF_LEN && (mode == MODE_MAC || mode == MODE_CIPHER)).then_some(
            Challenge {
                nonce_s: *nonce_s,
                server_name,
                mode,
                proof_s,
            },
        )
    }
}

/// Parses a PROOF body; `None` unless it is exactly a proof.
pub(super) fn parse_proof(body: &[u8]) -> Option<&[u8]> {
    (body.len() == PROOF_LEN).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_utf8() {
        assert_eq!(split_name(b"\0\x02hi!"), Some(("hi", &b"!"[..])));
        assert_eq!(split_name(b"\0\x03hi"), None);
        assert_eq!(split_name(b"\0\x02\xff\xfe"), None);
        assert_eq!(split_name(b"\0"), None);
        let mut long = vec![1, 0];
        long.extend([b'a'; 256]);
        assert_eq!(split_name(&long), None);
        long[..2].copy_from_slice(&[0, 255]);
        assert!(split_name(&long).is_some());
    }

    #[test]
    fn error_frames_are_read_in_any_version() {
        let frame = |version: u16, body: &[u8]| {
            let mut payload = b"ACTR".to_vec();
            payload.extend(version.to_be_bytes());
            payload.push(0xFF);
            payload.extend(body);
            payload
        };
        assert!(matches!(
            parse(&frame(7, &[2, 0, 7]), Kind::Challenge),
            Err(Reject::Peer(HandshakeError::VersionMismatch {
                ours: VERSION,
                theirs: 7
            }))
        ));
        // What a version-2 peer answers to our HELLO.
        assert!(matches!(
            parse(&frame(2, &[2, 0, 2]), Kind::Challenge),
            Err(Reject::Peer(HandshakeError::VersionMismatch {
                ours: 3,
                theirs: 2
            }))
        ));
        assert!(matches!(
            parse(&frame(VERSION, &[2, 0, 3]), Kind::Challenge),
            Err(Reject::Malformed)
        ));
        assert!(matches!(
            parse(&frame(VERSION, &[1, 0]), Kind::Proof),
            Err(Reject::Malformed)
        ));
        assert!(matches!(
            parse(&frame(VERSION, &[4]), Kind::Challenge),
            Err(Reject::Peer(HandshakeError::Busy))
        ));
        assert!(matches!(
            parse(&frame(VERSION, &[4, 0]), Kind::Challenge),
            Err(Reject::Malformed)
        ));
        assert!(matches!(
            parse(&frame(VERSION, &[5]), Kind::Challenge),
            Err(Reject::PeerPolicy)
        ));
        assert!(matches!(
            parse(&frame(VERSION, &[6]), Kind::Proof),
            Err(Reject::Malformed)
        ));
    }
}
