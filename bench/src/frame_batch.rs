//! [`FrameBatch`]: the writing side of the raw framed baselines (W4's and W7's TCP, the
//! pipelined process echo's socket pair), as a skilled engineer writes length-prefixed
//! frames.
//!
//! Each frame `[u32 BE length][payload]` is encoded straight into one reused buffer: four
//! bytes are reserved, the payload is encoded after them in place, and the length is patched
//! in. The buffer leaves in one `write_all` once it holds [`BATCH`] bytes or more. So a
//! record's bytes are written once in user space (by its encoder) and copied once more by the
//! kernel: no body buffer, no frame buffer, no buffered writer in between.

use std::io::{self, Write};

use crate::error::BenchResult;

/// How many bytes a batch holds before it is written.
pub(crate) const BATCH: usize = 64 * 1024;

/// Room beyond [`BATCH`] for the frame that crosses it, so that the buffer never grows for a
/// small one.
const SLACK: usize = 4 * 1024;

/// Length of a frame's header, the payload's length as a `u32`, big-endian.
const HEADER: usize = 4;

/// Frames waiting to be written, end to end in one buffer that is reused batch after batch.
#[derive(Debug)]
pub(crate) struct FrameBatch {
    buf: Vec<u8>,
}

impl FrameBatch {
    /// An empty batch.
    pub(crate) fn new() -> FrameBatch {
        FrameBatch {
            buf: Vec::with_capacity(BATCH + SLACK),
        }
    }

    /// Appends one frame whose payload `encode` appends to the buffer it is given.
    ///
    /// # Errors
    ///
    /// What `encode` returns, or a payload longer than a `u32` can announce; nothing is
    /// appended then.
    #[inline]
    pub(crate) fn push_with(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> BenchResult<()>,
    ) -> BenchResult<()> {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; HEADER]);
        let encoded = encode(&mut self.buf)
            .and_then(|()| Ok(u32::try_from(self.buf.len() - start - HEADER)?));
        match encoded {
            Ok(len) => {
                self.buf[start..start + HEADER].copy_from_slice(&len.to_be_bytes());
                Ok(())
            }
            Err(error) => {
                self.buf.truncate(start);
                Err(error)
            }
        }
    }

    /// The buffer itself, for an encoder that appends whole frames, header included (a
    /// session [`Sealer`](actor_net::session::Sealer)).
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Whether the batch holds [`BATCH`] bytes or more: time to write it.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.buf.len() >= BATCH
    }

    /// The frames, end to end.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Empties the batch, keeping its buffer.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Writes the frames to `out` in one `write_all` and empties the batch.
    pub(crate) fn write_to(&mut self, mut out: impl Write) -> io::Result<()> {
        out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// [`write_to`](Self::write_to) if the batch [is full](Self::is_full).
    #[inline]
    pub(crate) fn write_if_full(&mut self, out: impl Write) -> io::Result<()> {
        if self.is_full() {
            self.write_to(out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BenchError;

    #[test]
    fn frames_are_length_prefixed_end_to_end() {
        let mut batch = FrameBatch::new();
        for payload in [&b"ab"[..], b"", b"xyz"] {
            batch
                .push_with(|buf| {
                    buf.extend_from_slice(payload);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(batch.as_bytes(), b"\0\0\0\x02ab\0\0\0\0\0\0\0\x03xyz");
    }

    #[test]
    fn a_failed_encoding_appends_nothing() {
        let mut batch = FrameBatch::new();
        let failed = batch.push_with(|buf| {
            buf.extend_from_slice(b"half");
            Err(BenchError::check("no"))
        });
        assert!(failed.is_err());
        assert!(batch.as_bytes().is_empty());
    }

    #[test]
    fn a_full_batch_is_written_in_one_piece_and_emptied() {
        let mut batch = FrameBatch::new();
        let mut out = Vec::new();
        batch.buffer().extend_from_slice(&[7; BATCH - 1]);
        batch.write_if_full(&mut out).unwrap();
        assert!(out.is_empty());
        batch.buffer().push(7);
        batch.write_if_full(&mut out).unwrap();
        assert_eq!(out.len(), BATCH);
        assert!(batch.as_bytes().is_empty() && !batch.is_full());
    }
}
