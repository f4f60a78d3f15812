//! Session frames: what an Opener accepts and what it refuses, for frames authenticated with a
//! MAC and for encrypted ones alike.

use actor_core::codec::{FrameConfig, FrameError, FrameReader};
use actor_net::Secret;
use actor_net::handshake::{cipher_keys, session_keys};
use actor_net::session::{ENCRYPTED_OVERHEAD, OVERHEAD, Opener, Sealer, SessionError};
use proptest::prelude::*;

/// How a session's frames are protected.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Mac,
    Cipher,
}

const MODES: [Mode; 2] = [Mode::Mac, Mode::Cipher];

impl Mode {
    fn sealer(self, key: &[u8; 32]) -> Sealer {
        match self {
            Mode::Mac => Sealer::new(key),
            Mode::Cipher => Sealer::encrypted(key),
        }
    }

    fn opener(self, key: &[u8; 32]) -> Opener {
        match self {
            Mode::Mac => Opener::new(key),
            Mode::Cipher => Opener::encrypted(key),
        }
    }

    fn overhead(self) -> usize {
        match self {
            Mode::Mac => OVERHEAD,
            Mode::Cipher => ENCRYPTED_OVERHEAD,
        }
    }

    /// The two directions' keys of one session, for this mode.
    fn keys(self, nonce_s: u8) -> ([u8; 32], [u8; 32]) {
        let key = Secret::new(b"session tests share this key: 0123456789".to_vec()).unwrap();
        let (c2s, s2c) = match self {
            Mode::Mac => session_keys(&key, &[1; 32], &[nonce_s; 32]),
            Mode::Cipher => cipher_keys(&key, &[1; 32], &[nonce_s; 32]),
        };
        (*c2s, *s2c)
    }
}

/// Seals each body as one frame and returns the frames, length prefixes included.
fn seal_all(sealer: &mut Sealer, bodies: &[&[u8]]) -> Vec<Vec<u8>> {
    bodies
        .iter()
        .map(|body| {
            let mut frame = Vec::new();
            sealer.seal(body, &mut frame).unwrap();
            frame
        })
        .collect()
}

fn payload(frame: &[u8]) -> &[u8] {
    &frame[4..]
}

/// Whether `opener` refuses `payload`.
fn refuses(opener: &mut Opener, payload: &[u8]) -> bool {
    opener.open(payload).is_err()
}

#[test]
fn many_frames_round_trip_through_a_frame_reader() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let mut sealer = mode.sealer(&c2s);
        let bodies: Vec<Vec<u8>> = (0..2000_u32)
            .map(|i| (0..i % 300).map(|j| (i ^ j) as u8).collect())
            .collect();
        let mut wire = Vec::new();
        for body in &bodies {
            sealer.seal(body, &mut wire).unwrap();
        }
        assert_eq!(sealer.next_seq(), Some(2000));

        let mut reader =
            FrameReader::with_config(wire.as_slice(), actor_net::frame::session_frames());
        let mut opener = mode.opener(&c2s);
        let mut opened = Vec::new();
        while let Some(frame) = reader.read_frame().unwrap() {
            opened.push(opener.open(frame).unwrap().to_vec());
        }
        assert_eq!(opened, bodies, "{mode:?}");
        assert_eq!(opener.next_seq(), Some(2000));
    }
}

#[test]
fn an_encrypted_body_is_not_in_clear_and_a_mac_only_one_is() {
    let body = b"the marker 7f3a9c is secret";
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frame = &seal_all(&mut mode.sealer(&c2s), &[body])[0];
        let visible = frame.windows(body.len()).any(|w| w == body);
        assert_eq!(visible, matches!(mode, Mode::Mac), "{mode:?}");
        assert_eq!(frame.len(), 4 + mode.overhead() + body.len());
    }
}

#[test]
fn an_altered_byte_anywhere_is_refused() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frame = &seal_all(&mut mode.sealer(&c2s), &[b"transfer 100 to alice"])[0];
        for index in 4..frame.len() {
            for bit in [0x01, 0x80] {
                let mut altered = frame.clone();
                altered[index] ^= bit;
                let mut opener = mode.opener(&c2s);
                let result = opener.open(payload(&altered));
                assert!(
                    matches!(result, Err(SessionError::BadTag)),
                    "{mode:?} byte {index} bit {bit:#x}: {result:?}"
                );
            }
        }
    }
}

#[test]
fn an_altered_length_prefix_never_yields_a_body() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frames = seal_all(&mut mode.sealer(&c2s), &[b"first", b"second"]);
        let wire = frames.concat();
        for index in 0..4 {
            for bit in [0x01, 0x02, 0x80] {
                let mut altered = wire.clone();
                altered[index] ^= bit;
                let mut reader = FrameReader::new(altered.as_slice());
                let mut opener = mode.opener(&c2s);
                match reader.read_frame() {
                    Ok(Some(frame)) => assert!(refuses(&mut opener, frame), "byte {index}"),
                    Ok(None) => panic!("a frame was announced"),
                    Err(FrameError::TruncatedPayload { .. } | FrameError::TooLarge { .. }) => {}
                    Err(err) => panic!("unexpected {err}"),
                }
            }
        }
    }
}

#[test]
fn a_replayed_frame_is_refused() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frames = seal_all(&mut mode.sealer(&c2s), &[b"pay", b"ack"]);
        let mut opener = mode.opener(&c2s);
        opener.open(payload(&frames[0])).unwrap();
        opener.open(payload(&frames[1])).unwrap();
        for frame in &frames {
            assert!(matches!(
                opener.open(payload(frame)),
                Err(SessionError::BadSequence { expected: 2, .. })
            ));
        }
    }
}

#[test]
fn a_reordered_pair_is_refused() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frames = seal_all(&mut mode.sealer(&c2s), &[b"one", b"two"]);
        let mut opener = mode.opener(&c2s);
        assert!(matches!(
            opener.open(payload(&frames[1])),
            Err(SessionError::BadSequence {
                expected: 0,
                got: 1
            })
        ));
        // A refused frame does not move the sequence on.
        assert_eq!(opener.next_seq(), Some(0));
    }
}

#[test]
fn a_dropped_frame_is_detected_at_the_next_one() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frames = seal_all(&mut mode.sealer(&c2s), &[b"one", b"two", b"three"]);
        let mut opener = mode.opener(&c2s);
        opener.open(payload(&frames[0])).unwrap();
        assert!(matches!(
            opener.open(payload(&frames[2])),
            Err(SessionError::BadSequence {
                expected: 1,
                got: 2
            })
        ));
    }
}

#[test]
fn a_frame_sealed_for_the_other_direction_is_refused() {
    for mode in MODES {
        let (c2s, s2c) = mode.keys(2);
        // The server's own frame reflected back to it, with the sequence number it expects.
        let reflected = &seal_all(&mut mode.sealer(&s2c), &[b"hello"])[0];
        let mut opener = mode.opener(&c2s);
        assert!(matches!(
            opener.open(payload(reflected)),
            Err(SessionError::BadTag)
        ));
    }
}

#[test]
fn a_frame_sealed_under_another_key_or_protection_is_refused() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let (other_session, _) = mode.keys(3);
        let wrong_key = [0x55; 32];
        for key in [other_session, wrong_key] {
            let injected = &seal_all(&mut mode.sealer(&key), &[b"hello"])[0];
            let mut opener = mode.opener(&c2s);
            assert!(matches!(
                opener.open(payload(injected)),
                Err(SessionError::BadTag)
            ));
        }
    }
    // A MAC-only frame is not an encrypted one, even under the same key bytes.
    let (key, _) = Mode::Cipher.keys(2);
    let mac_only = &seal_all(&mut Sealer::new(&key), &[b"hello"])[0];
    assert!(refuses(&mut Opener::encrypted(&key), payload(mac_only)));
    let encrypted = &seal_all(&mut Sealer::encrypted(&key), &[b"hello"])[0];
    assert!(refuses(&mut Opener::new(&key), payload(encrypted)));
}

#[test]
fn a_truncated_frame_is_refused() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frame = &seal_all(&mut mode.sealer(&c2s), &[b"body"])[0];
        let payload = payload(frame);
        let min = mode.overhead();
        for len in 0..min {
            let mut opener = mode.opener(&c2s);
            assert!(
                matches!(
                    opener.open(&payload[..len]),
                    Err(SessionError::Truncated { len: l, min: m }) if l == len && m == min
                ),
                "length {len}"
            );
        }
        for len in min..payload.len() {
            let mut opener = mode.opener(&c2s);
            assert!(matches!(
                opener.open(&payload[..len]),
                Err(SessionError::BadTag)
            ));
        }
        // On the wire, a frame cut short is a frame error, not a hang.
        let mut reader = FrameReader::new(&frame[..frame.len() - 1]);
        assert!(matches!(
            reader.read_frame(),
            Err(FrameError::TruncatedPayload { .. })
        ));
    }
}

#[test]
fn empty_bodies_are_sealed_and_opened() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let frame = &seal_all(&mut mode.sealer(&c2s), &[b""])[0];
        assert_eq!(frame.len(), 4 + mode.overhead());
        assert_eq!(mode.opener(&c2s).open(payload(frame)).unwrap(), b"");
    }
}

#[test]
fn sealing_into_a_buffer_with_room_does_not_reallocate() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let mut sealer = mode.sealer(&c2s);
        let mut out = Vec::with_capacity(4096);
        let (ptr, capacity) = (out.as_ptr(), out.capacity());
        for _ in 0..20 {
            sealer.seal(&[7; 100], &mut out).unwrap();
        }
        assert_eq!((out.as_ptr(), out.capacity()), (ptr, capacity));
        assert_eq!(out.len(), 20 * (4 + mode.overhead() + 100));
    }
}

#[test]
fn sealer_respects_the_frame_limit() {
    for mode in MODES {
        let (c2s, _) = mode.keys(2);
        let limit = FrameConfig::new().with_max_payload(64);
        let mut sealer = mode.sealer(&c2s).with_frame_config(limit);
        let room = 64 - mode.overhead();
        assert_eq!(sealer.max_body_len(), room);
        let mut out = Vec::new();
        sealer.seal(&vec![0; room], &mut out).unwrap();
        assert!(matches!(
            sealer.seal(&vec![0; room + 1], &mut out),
            Err(SessionError::TooLarge(_))
        ));
        assert_eq!(out.len(), 4 + 64);
    }
}

#[test]
fn session_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sealer>();
    assert_send_sync::<Opener>();
    assert_send_sync::<SessionError>();
}

proptest! {
    #[test]
    fn open_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for mode in MODES {
            let (c2s, _) = mode.keys(2);
            let mut opener = mode.opener(&c2s);
            prop_assert!(refuses(&mut opener, &bytes));
            prop_assert_eq!(opener.next_seq(), Some(0));
        }
    }

    #[test]
    fn a_changed_frame_is_never_opened(
        body in proptest::collection::vec(any::<u8>(), 0..64),
        index in any::<prop::sample::Index>(),
        flip in 1_u8..=255,
    ) {
        for mode in MODES {
            let (c2s, _) = mode.keys(2);
            let frame = &seal_all(&mut mode.sealer(&c2s), &[&body])[0];
            let mut altered = payload(frame).to_vec();
            let at = index.index(altered.len());
            altered[at] ^= flip;
            prop_assert!(refuses(&mut mode.opener(&c2s), &altered));
        }
    }
}
