//! The frame decoder: [`FrameReader`] over a stream that arrives in pieces.

use std::io::{self, Read};

use actor_core::codec::{FrameConfig, FrameError, FrameReader};

use crate::input::Input;

/// The payload limits a run picks from: small, so that the limit is often hit.
const MAX_PAYLOADS: [u32; 8] = [0, 1, 2, 5, 16, 64, 255, 4096];

/// Reads the rest of the input as a stream of frames, and checks the frames and how the
/// stream ends against a plain model of the format.
///
/// Layout: one byte picks the payload limit (0 to 4096 bytes); one byte picks how the stream
/// arrives (the low four bits: bytes per read, 0 for as many as asked; the next two: whether
/// reads fail with `WouldBlock` or `Interrupted` in between); the rest is the stream.
///
/// Checks: the frames read are exactly the model's, whatever the pieces and failed reads; the
/// stream ends as the model says (clean end, oversized frame, truncated header or payload);
/// and the reader keeps reporting that end when called again.
///
/// # Examples
///
/// ```
/// // Limit 4096, whole reads; one frame of two bytes.
/// actor_fuzz_targets::frame_decoder(b"\x07\x00\x00\x00\x00\x02hi");
/// ```
pub fn frame_decoder(data: &[u8]) {
    let mut input = Input::new(data);
    let max_payload = MAX_PAYLOADS[usize::from(input.byte() % 8)];
    let pattern = input.byte();
    let stream = input.rest();

    let config = FrameConfig::new().with_max_payload(max_payload);
    let (expected_frames, expected_end) = model(stream, max_payload);

    let mut reader = FrameReader::with_config(
        Pieces {
            data: stream,
            step: usize::from(pattern & 0x0f),
            failures: (pattern >> 4) & 0b11,
            calls: 0,
        },
        config,
    );
    let mut frames = Vec::new();
    // Every read that does not fail takes at least one byte or ends the stream, and at most
    // every other read fails, so this bounds a reader that makes progress.
    let mut budget = 2 * stream.len() + 8;
    let end = loop {
        assert!(budget > 0, "the frame reader makes no progress");
        budget -= 1;
        match reader.read_frame() {
            Ok(Some(payload)) => {
                assert!(
                    payload.len() <= max_payload as usize,
                    "a frame over the limit"
                );
                frames.push(payload.to_vec());
            }
            Ok(None) => break End::Clean,
            Err(FrameError::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => break End::from_error(&error),
        }
    };
    assert_eq!(frames, expected_frames, "frames differ from the model");
    assert_eq!(end, expected_end, "the stream ends unlike the model");
    assert_eq!(reader.is_mid_frame(), end != End::Clean);

    // The end is sticky: a later call reports it again (after any failed read in between).
    let again = loop {
        match reader.read_frame() {
            Ok(Some(payload)) => panic!("a frame of {} bytes after the end", payload.len()),
            Ok(None) => break End::Clean,
            Err(FrameError::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => break End::from_error(&error),
        }
    };
    assert_eq!(again, end, "a second call reports another end");
}

/// How a stream of frames ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// At a frame boundary.
    Clean,
    /// A header announced more than the limit.
    TooLarge { len: u64 },
    /// Inside a header, after `read` of its bytes.
    TruncatedHeader { read: usize },
    /// Inside a payload of `len` bytes, after `read` of them.
    TruncatedPayload { read: usize, len: u32 },
}

impl End {
    fn from_error(error: &FrameError) -> End {
        match *error {
            FrameError::TooLarge { len, .. } => End::TooLarge { len },
            FrameError::TruncatedHeader { read } => End::TruncatedHeader { read },
            FrameError::TruncatedPayload { read, len } => End::TruncatedPayload { read, len },
            ref other => panic!("unexpected frame error: {other:?}"),
        }
    }
}

/// The frames of `stream` and how it ends, read the simplest way: all bytes at hand.
fn model(mut stream: &[u8], max_payload: u32) -> (Vec<Vec<u8>>, End) {
    let mut frames = Vec::new();
    loop {
        let Some((header, rest)) = stream.split_first_chunk::<4>() else {
            let end = match stream.len() {
                0 => End::Clean,
                read => End::TruncatedHeader { read },
            };
            return (frames, end);
        };
        let len = u32::from_be_bytes(*header);
        if len > max_payload {
            return (frames, End::TooLarge { len: len.into() });
        }
        let len_usize = len as usize;
        if rest.len() < len_usize {
            let read = rest.len();
            return (frames, End::TruncatedPayload { read, len });
        }
        let (payload, rest) = rest.split_at(len_usize);
        frames.push(payload.to_vec());
        stream = rest;
    }
}

/// A stream that hands out at most `step` bytes per read (any number if 0), with failed reads
/// in between: `failures` 1 makes every other read fail with `WouldBlock` (as a socket with a
/// read timeout does), 2 with `Interrupted` (which the reader retries itself), 3 alternates
/// the two.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
    failures: u8,
    calls: u32,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls = self.calls.wrapping_add(1);
        if self.calls % 2 == 1 {
            let kind = match (self.failures, self.calls % 4) {
                (1, _) | (3, 1) => Some(io::ErrorKind::WouldBlock),
                (2, _) | (3, _) => Some(io::ErrorKind::Interrupted),
                _ => None,
            };
            if let Some(kind) = kind {
                return Err(kind.into());
            }
        }
        let step = if self.step == 0 {
            usize::MAX
        } else {
            self.step
        };
        let n = step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_reads_the_format() {
        let stream = b"\0\0\0\x02hi\0\0\0\0\0\0";
        assert_eq!(
            model(stream, 16),
            (
                vec![b"hi".to_vec(), vec![]],
                End::TruncatedHeader { read: 2 }
            )
        );
        assert_eq!(
            model(b"\0\0\0\x03ab", 16),
            (vec![], End::TruncatedPayload { read: 2, len: 3 })
        );
        assert_eq!(
            model(b"\0\0\0\x11", 16),
            (vec![], End::TooLarge { len: 17 })
        );
    }

    #[test]
    fn every_arrival_pattern_reads_the_same_frames() {
        for pattern in 0..=0x3f {
            let mut data = vec![7, pattern];
            data.extend_from_slice(b"\0\0\0\x05hello\0\0\0\0\0\0\x01");
            frame_decoder(&data);
        }
    }
}
