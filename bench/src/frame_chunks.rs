//! [`FrameChunks`]: the reading side of the raw framed baselines (W4's and W7's TCP, the
//! pipelined process echo's socket pair), as a skilled engineer reads length-prefixed
//! frames.
//!
//! The stream is read in large chunks into one buffer of the reader's own, and each frame
//! `[u32 BE length][payload]` is handed out as a slice of that buffer, where it arrived: no
//! buffered reader copying into a frame reader's buffer. A frame that a read cut in two is
//! completed by moving its first part to the front of the buffer (a few bytes: the buffer
//! is many frames long) and reading on after it.

use std::io::{self, ErrorKind, Read};

/// Bytes asked for in one read, and the longest frame (header included) that can be read.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Length of a frame's header, the payload's length as a `u32`, big-endian.
const HEADER: usize = 4;

/// Frames read from `R` in chunks and handed out in place.
#[derive(Debug)]
pub(crate) struct FrameChunks<R> {
    inner: R,
    buf: Box<[u8]>,
    /// Where the first byte not handed out yet is.
    start: usize,
    /// Where the bytes read so far end.
    end: usize,
}

impl<R: Read> FrameChunks<R> {
    /// Reads frames from `inner`.
    pub(crate) fn new(inner: R) -> FrameChunks<R> {
        FrameChunks {
            inner,
            buf: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// The payload of the next frame, or `None` when the stream ends between frames.
    ///
    /// # Errors
    ///
    /// A read's error; [`ErrorKind::UnexpectedEof`] when the stream ends inside a frame;
    /// [`ErrorKind::InvalidData`] for a frame longer than [`CHUNK`], header included.
    #[inline]
    pub(crate) fn next_frame(&mut self) -> io::Result<Option<&[u8]>> {
        let len = loop {
            let held = &self.buf[self.start..self.end];
            if let Some(header) = held.first_chunk::<HEADER>() {
                let len = usize::try_from(u32::from_be_bytes(*header))
                    .map_err(|_| io::Error::new(ErrorKind::InvalidData, "frame too long"))?;
                if held.len() - HEADER >= len {
                    break len;
                }
                if len > CHUNK - HEADER {
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        format!("a frame of {len} bytes, longer than the read buffer"),
                    ));
                }
            }
            if !self.fill()? {
                return if self.start == self.end {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the stream ended inside a frame",
                    ))
                };
            }
        };
        let payload = self.start + HEADER;
        self.start = payload + len;
        Ok(Some(&self.buf[payload..payload + len]))
    }

    /// Reads once after the bytes held, first moving them to the front if they are not there
    /// already; `false` at the end of the stream.
    #[cold]
    fn fill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let read = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(read) => break read,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        };
        self.end += read;
        Ok(read > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read, so that frames arrive cut.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn frame(payload: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
    }

    fn read_all(wire: &[u8], step: usize) -> io::Result<Vec<Vec<u8>>> {
        let mut frames = FrameChunks::new(Trickle { bytes: wire, step });
        let mut payloads = Vec::new();
        while let Some(payload) = frames.next_frame()? {
            payloads.push(payload.to_vec());
        }
        Ok(payloads)
    }

    #[test]
    fn frames_cut_anywhere_by_the_reads_come_out_whole() {
        let sent: Vec<Vec<u8>> = (0..3000_u32)
            .map(|i| i.to_le_bytes().repeat((i % 7) as usize))
            .collect();
        let mut wire = Vec::new();
        sent.iter().for_each(|payload| frame(payload, &mut wire));
        for step in [1, 3, 4, 5, 1000, CHUNK, usize::MAX] {
            assert_eq!(
                read_all(&wire, step).unwrap(),
                sent,
                "reads of {step} bytes"
            );
        }
    }

    #[test]
    fn a_frame_as_long_as_the_buffer_is_read() {
        let payload = vec![9; CHUNK - HEADER];
        let mut wire = Vec::new();
        frame(b"before", &mut wire);
        frame(&payload, &mut wire);
        let read = read_all(&wire, 10_000).unwrap();
        assert_eq!(read, [b"before".to_vec(), payload]);
    }

    #[test]
    fn a_frame_longer_than_the_buffer_is_refused() {
        let mut wire = Vec::new();
        frame(&vec![0; CHUNK - HEADER + 1], &mut wire);
        let error = read_all(&wire, usize::MAX).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
    }

    #[test]
    fn a_stream_that_ends_inside_a_frame_is_an_error() {
        let mut wire = Vec::new();
        frame(b"whole", &mut wire);
        frame(b"cut short", &mut wire);
        for cut in [wire.len() - 1, 9 + 2] {
            let error = read_all(&wire[..cut], 4).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        assert!(read_all(&[], 4).unwrap().is_empty());
    }
}
