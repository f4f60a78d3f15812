//! Length-prefixed frames: a `u32` big-endian payload length, then the payload.

use std::fmt;
use std::io::{self, Read, Write};

/// Length of the prefix that carries a frame's payload length.
const HEADER_LEN: usize = 4;

/// First step by which a [`FrameReader`] grows its buffer for a frame longer than any it has held.
///
/// The buffer grows with the bytes that actually arrive, not with the length a header announces, so
/// a peer that announces a large frame and then stalls makes the reader hold at most about twice
/// what that peer really sent (plus this step), not the full announced length.
const INITIAL_GROWTH: usize = 64 * 1024;

/// The limits that frame readers and writers enforce, and how much buffer they keep between
/// frames.
///
/// # Examples
///
/// ```
/// use actor_core::codec::FrameConfig;
///
/// let config = FrameConfig::new().with_max_payload(64 * 1024);
/// assert_eq!(config.max_payload(), 64 * 1024);
/// assert_eq!(FrameConfig::default().max_payload(), FrameConfig::DEFAULT_MAX_PAYLOAD);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameConfig {
    max_payload: u32,
    retained_capacity: u32,
}

impl FrameConfig {
    /// The default maximum payload length: 16 MiB.
    pub const DEFAULT_MAX_PAYLOAD: u32 = 16 * 1024 * 1024;

    /// The default buffer a reader or writer keeps between frames: 128 KiB.
    ///
    /// Twice the 64 KiB batches that actor-net's writer packs small messages into, so that a
    /// stream of such batches (whose frames end a little past 64 KiB) keeps one buffer and
    /// allocates nothing per frame; and small enough that a few hundred idle connections
    /// hold little.
    pub const DEFAULT_RETAINED_CAPACITY: u32 = 128 * 1024;

    /// Creates a configuration with the default limits.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameConfig;
    ///
    /// assert_eq!(FrameConfig::new(), FrameConfig::default());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        FrameConfig {
            max_payload: Self::DEFAULT_MAX_PAYLOAD,
            retained_capacity: Self::DEFAULT_RETAINED_CAPACITY,
        }
    }

    /// Sets the largest payload, in bytes, that a frame may carry.
    ///
    /// A reader rejects a longer frame as soon as it has read the header, before it reserves any
    /// memory for the payload; a writer refuses to emit one. Zero allows only empty frames.
    ///
    /// By default, 16 MiB ([`FrameConfig::DEFAULT_MAX_PAYLOAD`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameError};
    ///
    /// let config = FrameConfig::new().with_max_payload(3);
    /// let mut out = Vec::new();
    /// config.append_frame(&mut out, b"abc")?;
    /// assert!(matches!(
    ///     config.append_frame(&mut out, b"abcd"),
    ///     Err(FrameError::TooLarge { len: 4, max: 3 })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn with_max_payload(mut self, max_payload: u32) -> Self {
        self.max_payload = max_payload;
        self
    }

    /// Returns the largest payload, in bytes, that a frame may carry.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameConfig;
    ///
    /// assert_eq!(FrameConfig::new().max_payload(), 16 * 1024 * 1024);
    /// ```
    #[must_use]
    pub const fn max_payload(self) -> u32 {
        self.max_payload
    }

    /// Sets how large, in bytes, a reader's or writer's buffer may stay between frames.
    ///
    /// Frames up to this size reuse one buffer, so a stream of them allocates nothing per
    /// frame. A buffer that grew larger for a longer frame is released: by a
    /// [`FrameReader`] before it waits for the next frame's header, by a [`FrameWriter`] once
    /// the frame is written. So a connection that once carried a large frame and then goes
    /// idle does not keep that frame's memory.
    ///
    /// By default, 128 KiB ([`FrameConfig::DEFAULT_RETAINED_CAPACITY`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameReader};
    ///
    /// let config = FrameConfig::new().with_retained_capacity(16);
    /// let mut wire = Vec::new();
    /// config.append_frame(&mut wire, &[7; 100])?;
    /// let mut reader = FrameReader::with_config(wire.as_slice(), config);
    /// assert_eq!(reader.read_frame()?.map(<[u8]>::len), Some(100));
    /// assert!(reader.capacity() >= 100);
    /// // Waiting for the next frame, the reader gives its large buffer back.
    /// assert_eq!(reader.read_frame()?, None);
    /// assert_eq!(reader.capacity(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn with_retained_capacity(mut self, bytes: u32) -> Self {
        self.retained_capacity = bytes;
        self
    }

    /// Returns how large, in bytes, a buffer may stay between frames.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameConfig;
    ///
    /// assert_eq!(FrameConfig::new().retained_capacity(), 128 * 1024);
    /// ```
    #[must_use]
    pub const fn retained_capacity(self) -> u32 {
        self.retained_capacity
    }

    /// Whether a buffer of `capacity` bytes is larger than may stay between frames.
    fn over_retained(self, capacity: usize) -> bool {
        u32::try_from(capacity).map_or(true, |capacity| capacity > self.retained_capacity)
    }

    /// Appends one frame carrying `payload` to `out`.
    ///
    /// Appending lets a writer batch many frames in one buffer and send them with one write.
    /// Nothing is appended when an error is returned.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] if `payload` is longer than [`max_payload`](Self::max_payload).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameConfig;
    ///
    /// let mut batch = Vec::new();
    /// FrameConfig::new().append_frame(&mut batch, b"hi")?;
    /// assert_eq!(batch, [0, 0, 0, 2, b'h', b'i']);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_frame(self, out: &mut Vec<u8>, payload: &[u8]) -> Result<(), FrameError> {
        self.append_frame_parts(out, &[payload])
    }

    /// Appends one frame whose payload is the concatenation of `parts` to `out`.
    ///
    /// The header carries the sum of the parts' lengths, so a caller can add a trailer (such as a
    /// MAC) to a payload without first copying both into one buffer. Nothing is appended when an
    /// error is returned.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLarge`] if the parts together are longer than
    /// [`max_payload`](Self::max_payload).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameConfig;
    ///
    /// let mut batch = Vec::new();
    /// FrameConfig::new().append_frame_parts(&mut batch, &[b"body", b"mac"])?;
    /// assert_eq!(batch, b"\0\0\0\x07bodymac");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_frame_parts(self, out: &mut Vec<u8>, parts: &[&[u8]]) -> Result<(), FrameError> {
        let len = parts
            .iter()
            .try_fold(0_usize, |sum, part| sum.checked_add(part.len()));
        let header = self.outgoing_header(len)?;
        // `outgoing_header` bounded the payload by a u32, so this only fails where usize is
        // narrower than 64 bits; fail as too large rather than overflow.
        let total = len
            .and_then(|len| len.checked_add(HEADER_LEN))
            .ok_or_else(|| self.too_large(u64::MAX))?;
        out.reserve(total);
        out.extend_from_slice(&header);
        for part in parts {
            out.extend_from_slice(part);
        }
        Ok(())
    }

    /// Checks an outgoing payload length (`None` when summing the parts overflowed) and returns
    /// the header that announces it.
    fn outgoing_header(self, len: Option<usize>) -> Result<[u8; HEADER_LEN], FrameError> {
        let wide = len.map_or(u64::MAX, |len| u64::try_from(len).unwrap_or(u64::MAX));
        match u32::try_from(wide) {
            Ok(len) if len <= self.max_payload => Ok(len.to_be_bytes()),
            _ => Err(self.too_large(wide)),
        }
    }

    /// Checks a length announced by a header and returns it as a buffer length.
    fn incoming_len(self, header: [u8; HEADER_LEN]) -> Result<usize, FrameError> {
        let len = u32::from_be_bytes(header);
        if len > self.max_payload {
            return Err(self.too_large(len.into()));
        }
        usize::try_from(len).map_err(|_| self.too_large(len.into()))
    }

    fn too_large(self, len: u64) -> FrameError {
        FrameError::TooLarge {
            len,
            max: self.max_payload,
        }
    }
}

impl Default for FrameConfig {
    /// The default limits, as [`FrameConfig::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// Why a frame could not be read or written.
///
/// When reading, any error but [`FrameError::Io`] leaves the stream out of step with its frames:
/// the [`FrameReader`] keeps returning that error, and the stream should be closed. A writer's
/// [`FrameError::TooLarge`] writes nothing, so the stream stays usable; after a writer's
/// [`FrameError::Io`] part of a frame may have been sent.
///
/// # Examples
///
/// ```
/// use actor_core::codec::{FrameError, FrameReader};
///
/// // A header that promises five bytes, followed by only two.
/// let wire: &[u8] = &[0, 0, 0, 5, 1, 2];
/// let mut reader = FrameReader::new(wire);
/// assert!(matches!(
///     reader.read_frame(),
///     Err(FrameError::TruncatedPayload { read: 2, len: 5 })
/// ));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A payload is longer than the configured maximum: announced by a header that was read, or
    /// offered to a writer.
    #[error("frame payload of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The payload length that was announced or offered.
        len: u64,
        /// The configured maximum payload length.
        max: u32,
    },
    /// The stream ended inside a frame's 4-byte header.
    #[error("stream ended inside a frame header after {read} of 4 bytes")]
    TruncatedHeader {
        /// How many header bytes had arrived (1 to 3).
        read: usize,
    },
    /// The stream ended inside a frame's payload.
    #[error("stream ended inside a frame payload after {read} of {len} bytes")]
    TruncatedPayload {
        /// How many payload bytes had arrived.
        read: usize,
        /// The payload length the header announced.
        len: u32,
    },
    /// The underlying reader or writer failed; a socket timeout arrives here with its
    /// [`io::ErrorKind`] (`WouldBlock` or `TimedOut`) on the wrapped error, which is also the
    /// error's [`source`](std::error::Error::source).
    #[error("frame i/o failed: {0}")]
    Io(#[from] io::Error),
}

/// Where a [`FrameReader`] stands within the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    /// `read` bytes of the header are in `FrameReader::header`.
    Header { read: usize },
    /// The header announced `len` bytes; `read` of them are at the start of `FrameReader::buf`.
    Payload { len: usize, read: usize },
}

/// Reads length-prefixed frames from a [`Read`], reusing one buffer for every payload.
///
/// Each frame is returned as a slice borrowed from that buffer, so once the buffer has grown to
/// the largest frame seen, reading a frame allocates nothing, as long as frames stay within the
/// [retained capacity](FrameConfig::with_retained_capacity). After a longer frame, the reader
/// releases its buffer before it waits for the next header: a stream that goes idle after a
/// large frame does not keep that frame's memory. A clean end of stream at a frame
/// boundary is `Ok(None)`; an end inside a frame is [`FrameError::TruncatedHeader`] or
/// [`FrameError::TruncatedPayload`].
///
/// [`read_header`](Self::read_header) reads only the next header and tells the payload's
/// length, so that a caller can make room for the payload (in a budget shared with other
/// streams, say) before the reader allocates anything for it.
///
/// An io error (such as a socket read timeout) loses nothing: the bytes already read stay in the
/// reader and the next [`read_frame`](Self::read_frame) resumes the same frame, so a stream never
/// falls out of step with its frames because a read timed out. [`is_mid_frame`](Self::is_mid_frame)
/// tells an idle stream from one that stalled inside a frame.
///
/// The reader issues a `read` call for the header and another for the payload; wrap an unbuffered
/// source such as a `TcpStream` in a [`BufReader`](std::io::BufReader) so that small frames cost
/// one system call, not two.
///
/// # Examples
///
/// ```
/// use actor_core::codec::{FrameConfig, FrameReader};
///
/// let config = FrameConfig::new();
/// let mut wire = Vec::new();
/// config.append_frame(&mut wire, b"hello")?;
/// config.append_frame(&mut wire, b"")?;
///
/// let mut reader = FrameReader::with_config(wire.as_slice(), config);
/// assert_eq!(reader.read_frame()?, Some(&b"hello"[..]));
/// assert_eq!(reader.read_frame()?, Some(&b""[..]));
/// assert_eq!(reader.read_frame()?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FrameReader<R> {
    inner: R,
    config: FrameConfig,
    state: ReadState,
    header: [u8; HEADER_LEN],
    /// Holds the current payload. Invariant: in `ReadState::Payload { len, read }`,
    /// `read <= buf.len() <= len`.
    buf: Vec<u8>,
}

impl<R: Read> FrameReader<R> {
    /// Creates a reader with the default [`FrameConfig`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameReader;
    ///
    /// let mut reader = FrameReader::new(&[0, 0, 0, 1, 42][..]);
    /// assert_eq!(reader.read_frame()?, Some(&[42][..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(inner: R) -> Self {
        Self::with_config(inner, FrameConfig::new())
    }

    /// Creates a reader that enforces `config`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameError, FrameReader};
    ///
    /// let config = FrameConfig::new().with_max_payload(1);
    /// let mut reader = FrameReader::with_config(&[0, 0, 0, 2, 1, 2][..], config);
    /// assert!(matches!(reader.read_frame(), Err(FrameError::TooLarge { len: 2, max: 1 })));
    /// ```
    pub fn with_config(inner: R, config: FrameConfig) -> Self {
        FrameReader {
            inner,
            config,
            state: ReadState::Header { read: 0 },
            header: [0; HEADER_LEN],
            buf: Vec::new(),
        }
    }

    /// Reads the next frame and returns its payload, or `None` at a clean end of stream.
    ///
    /// The payload borrows the reader's buffer and is valid until the next call.
    ///
    /// # Errors
    ///
    /// - [`FrameError::TooLarge`] if the header announces more than the configured maximum; no
    ///   memory is reserved for it.
    /// - [`FrameError::TruncatedHeader`] or [`FrameError::TruncatedPayload`] if the stream ends
    ///   inside a frame.
    /// - [`FrameError::Io`] if the underlying reader fails; calling again resumes the frame.
    ///   `Interrupted` is retried here and never returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameReader};
    ///
    /// let mut wire = Vec::new();
    /// for word in ["one", "two", "three"] {
    ///     FrameConfig::new().append_frame(&mut wire, word.as_bytes())?;
    /// }
    /// let mut reader = FrameReader::new(wire.as_slice());
    /// let mut words = Vec::new();
    /// while let Some(payload) = reader.read_frame()? {
    ///     words.push(String::from_utf8(payload.to_vec())?);
    /// }
    /// assert_eq!(words, ["one", "two", "three"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let Some((len, mut read)) = self.announced()? else {
            return Ok(None);
        };
        while read < len {
            if read == self.buf.len() {
                self.grow(len);
            }
            match read_some(&mut self.inner, &mut self.buf[read..])? {
                0 => {
                    return Err(FrameError::TruncatedPayload {
                        read,
                        len: u32::try_from(len).unwrap_or(u32::MAX),
                    });
                }
                n => {
                    read += n;
                    self.state = ReadState::Payload { len, read };
                }
            }
        }
        self.state = ReadState::Header { read: 0 };
        // `read == len` and `read <= buf.len() <= len`: the buffer is the payload.
        Ok(Some(&self.buf))
    }

    /// Reads the next frame's header, if it has not been read yet, and returns the payload
    /// length it announces, or `None` at a clean end of stream. The payload is left unread:
    /// the next [`read_frame`](Self::read_frame) reads it and returns the frame.
    ///
    /// Calling it again before `read_frame` returns the same length and reads nothing. A
    /// buffer larger than the retained capacity, left from a long frame, is released
    /// before the reader waits for the header.
    ///
    /// # Errors
    ///
    /// As [`read_frame`](Self::read_frame): [`FrameError::TooLarge`] if the header announces
    /// more than the configured maximum, [`FrameError::TruncatedHeader`] if the stream ends
    /// inside it, [`FrameError::Io`] if the underlying reader fails (calling again resumes).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameReader};
    ///
    /// let mut wire = Vec::new();
    /// FrameConfig::new().append_frame(&mut wire, b"hello")?;
    /// let mut reader = FrameReader::new(wire.as_slice());
    /// assert_eq!(reader.read_header()?, Some(5));
    /// assert_eq!(reader.capacity(), 0, "nothing is allocated for the payload yet");
    /// assert_eq!(reader.read_frame()?, Some(&b"hello"[..]));
    /// assert_eq!(reader.read_header()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_header(&mut self) -> Result<Option<usize>, FrameError> {
        Ok(self.announced()?.map(|(len, _)| len))
    }

    /// Reads the current frame's header if it has not been read yet; returns the payload's
    /// length and how much of it has been read, or `None` at a clean end of stream.
    fn announced(&mut self) -> Result<Option<(usize, usize)>, FrameError> {
        loop {
            match self.state {
                ReadState::Header { read } if read < HEADER_LEN => {
                    if read == 0 && self.config.over_retained(self.buf.capacity()) {
                        // Before waiting on the stream: an idle stream keeps no large buffer.
                        self.buf = Vec::new();
                    }
                    match read_some(&mut self.inner, &mut self.header[read..])? {
                        0 if read == 0 => return Ok(None),
                        0 => return Err(FrameError::TruncatedHeader { read }),
                        n => self.state = ReadState::Header { read: read + n },
                    }
                }
                ReadState::Header { .. } => {
                    // The state stays at a full header when this fails, so every later call
                    // reports the same oversized frame instead of reading its payload as a header.
                    let len = self.config.incoming_len(self.header)?;
                    self.buf.clear();
                    self.state = ReadState::Payload { len, read: 0 };
                }
                ReadState::Payload { len, read } => return Ok(Some((len, read))),
            }
        }
    }

    /// Makes room for more of a `len`-byte payload once the buffer is full of received bytes.
    fn grow(&mut self, len: usize) {
        let filled = self.buf.len();
        // Capacity from earlier frames is free to use; beyond it, grow by doubling what has
        // arrived (see `INITIAL_GROWTH`). Always larger than `filled`, because `filled < len`.
        let target = filled
            .saturating_add(filled.max(INITIAL_GROWTH))
            .max(self.buf.capacity())
            .min(len);
        // Exact, so that the capacity follows the policy above rather than `Vec`'s own doubling.
        self.buf.reserve_exact(target - filled);
        self.buf.resize(target, 0);
    }
}

impl<R> FrameReader<R> {
    /// Returns the limits this reader enforces.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameReader};
    ///
    /// let reader = FrameReader::new(std::io::empty());
    /// assert_eq!(reader.config(), FrameConfig::new());
    /// ```
    pub fn config(&self) -> FrameConfig {
        self.config
    }

    /// Returns whether part of a frame has been read: after an io error, `false` means the stream
    /// was idle at a frame boundary and `true` that it stalled inside a frame.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameReader;
    ///
    /// let mut reader = FrameReader::new(&[0, 0][..]);
    /// assert!(!reader.is_mid_frame());
    /// assert!(reader.read_frame().is_err());
    /// assert!(reader.is_mid_frame());
    /// ```
    pub fn is_mid_frame(&self) -> bool {
        self.state != ReadState::Header { read: 0 }
    }

    /// Returns the capacity, in bytes, of the buffer that holds payloads.
    ///
    /// It grows with the largest frame read and is kept for the next ones, unless it grew
    /// beyond the [retained capacity](FrameConfig::with_retained_capacity): then it is released
    /// before the next header is awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameReader;
    ///
    /// let reader = FrameReader::new(std::io::empty());
    /// assert_eq!(reader.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Returns a reference to the underlying reader.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameReader;
    ///
    /// let reader = FrameReader::new(&b"rest"[..]);
    /// assert_eq!(*reader.get_ref(), b"rest");
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Returns a mutable reference to the underlying reader, for example to set a socket's read
    /// timeout. Reading from it directly takes bytes away from the frames.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    /// use actor_core::codec::FrameReader;
    ///
    /// let mut reader = FrameReader::new(Cursor::new(vec![0, 0, 0, 0]));
    /// reader.get_mut().set_position(4);
    /// assert_eq!(reader.read_frame()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Returns the underlying reader, dropping any part of a frame already read from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameReader;
    ///
    /// let reader = FrameReader::new(&b"rest"[..]);
    /// assert_eq!(reader.into_inner(), b"rest");
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: fmt::Debug> fmt::Debug for FrameReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The buffer's bytes would drown the output; its size says what matters.
        f.debug_struct("FrameReader")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .field("state", &self.state)
            .field("capacity", &self.buf.capacity())
            .finish_non_exhaustive()
    }
}

/// Reads into `buf`, retrying `Interrupted` as [`Read::read_exact`] does.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Writes length-prefixed frames to a [`Write`].
///
/// Each frame (header and payload) is first copied into a buffer the writer keeps and then handed
/// to the inner writer with a single `write_all`. Copying costs less than it saves: a frame is one
/// write call on an unbuffered socket (a header sent apart from its payload is a separate small
/// TCP segment, which Nagle's algorithm and delayed acknowledgements can hold back), and once the
/// buffer has grown to the largest frame, writing allocates nothing as long as frames stay within
/// the [retained capacity](FrameConfig::with_retained_capacity); a buffer grown beyond it is
/// released once its frame is written. To send many frames in one write, append them to one
/// `Vec` with [`FrameConfig::append_frame`] instead.
///
/// The writer does not flush; call [`flush`](Self::flush) when the frames must leave.
///
/// # Examples
///
/// ```
/// use actor_core::codec::{FrameReader, FrameWriter};
///
/// let mut writer = FrameWriter::new(Vec::new());
/// writer.write_frame(b"ping")?;
/// writer.write_frame_parts(&[b"pong", b"+mac"])?;
/// let wire = writer.into_inner();
///
/// let mut reader = FrameReader::new(wire.as_slice());
/// assert_eq!(reader.read_frame()?, Some(&b"ping"[..]));
/// assert_eq!(reader.read_frame()?, Some(&b"pong+mac"[..]));
/// assert_eq!(reader.read_frame()?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FrameWriter<W> {
    inner: W,
    config: FrameConfig,
    buf: Vec<u8>,
}

impl<W: Write> FrameWriter<W> {
    /// Creates a writer with the default [`FrameConfig`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame(b"x")?;
    /// assert_eq!(writer.get_ref(), &[0, 0, 0, 1, b'x']);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(inner: W) -> Self {
        Self::with_config(inner, FrameConfig::new())
    }

    /// Creates a writer that enforces `config`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameWriter};
    ///
    /// let config = FrameConfig::new().with_max_payload(2);
    /// let mut writer = FrameWriter::with_config(Vec::new(), config);
    /// assert!(writer.write_frame(b"abc").is_err());
    /// assert!(writer.get_ref().is_empty());
    /// ```
    pub fn with_config(inner: W, config: FrameConfig) -> Self {
        FrameWriter {
            inner,
            config,
            buf: Vec::new(),
        }
    }

    /// Writes one frame carrying `payload`.
    ///
    /// # Errors
    ///
    /// - [`FrameError::TooLarge`] if `payload` is longer than the configured maximum; nothing is
    ///   written.
    /// - [`FrameError::Io`] if the inner writer fails. Part of the frame may have been written, so
    ///   the stream should be closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame(b"")?;
    /// assert_eq!(writer.get_ref(), &[0, 0, 0, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_frame(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        self.write_frame_parts(&[payload])
    }

    /// Writes one frame whose payload is the concatenation of `parts`.
    ///
    /// # Errors
    ///
    /// As [`write_frame`](Self::write_frame), with the parts' total length checked.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame_parts(&[b"ab", b"", b"c"])?;
    /// assert_eq!(writer.get_ref(), &[0, 0, 0, 3, b'a', b'b', b'c']);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_frame_parts(&mut self, parts: &[&[u8]]) -> Result<(), FrameError> {
        self.buf.clear();
        self.config.append_frame_parts(&mut self.buf, parts)?;
        let written = self.inner.write_all(&self.buf);
        if self.config.over_retained(self.buf.capacity()) {
            self.buf = Vec::new();
        }
        written?;
        Ok(())
    }

    /// Flushes the inner writer.
    ///
    /// # Errors
    ///
    /// [`FrameError::Io`] if the inner writer fails to flush.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::BufWriter;
    /// use actor_core::codec::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(BufWriter::new(Vec::new()));
    /// writer.write_frame(b"x")?;
    /// writer.flush()?;
    /// assert_eq!(writer.get_ref().get_ref(), &[0, 0, 0, 1, b'x']);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&mut self) -> Result<(), FrameError> {
        self.inner.flush()?;
        Ok(())
    }
}

impl<W> FrameWriter<W> {
    /// Returns the limits this writer enforces.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{FrameConfig, FrameWriter};
    ///
    /// let writer = FrameWriter::new(std::io::sink());
    /// assert_eq!(writer.config(), FrameConfig::new());
    /// ```
    pub fn config(&self) -> FrameConfig {
        self.config
    }

    /// Returns a reference to the underlying writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameWriter;
    ///
    /// let writer = FrameWriter::new(Vec::<u8>::new());
    /// assert!(writer.get_ref().is_empty());
    /// ```
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Returns a mutable reference to the underlying writer, for example to set a socket's write
    /// timeout. Writing to it directly puts bytes between the frames.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::<u8>::new());
    /// writer.get_mut().reserve(1024);
    /// assert!(writer.get_ref().capacity() >= 1024);
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Returns the underlying writer. Nothing is lost: every frame was handed to it whole.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::FrameWriter;
    ///
    /// let mut writer = FrameWriter::new(Vec::new());
    /// writer.write_frame(b"x")?;
    /// assert_eq!(writer.into_inner(), [0, 0, 0, 1, b'x']);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: fmt::Debug> fmt::Debug for FrameWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The buffer only holds the last frame written; its size says what matters.
        f.debug_struct("FrameWriter")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .field("capacity", &self.buf.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its data in `step`-byte reads, failing with `WouldBlock` before every read (the
    /// way a socket with a read timeout fails while its peer is slow).
    struct Stuttering<'a> {
        data: &'a [u8],
        step: usize,
        block_next: bool,
    }

    impl Read for Stuttering<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.block_next = !self.block_next;
            if !self.block_next {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Fails with `Interrupted` every other call.
    struct Interrupting<'a> {
        data: &'a [u8],
        fail_next: bool,
    }

    impl Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.fail_next = !self.fail_next;
            if self.fail_next {
                return Err(io::ErrorKind::Interrupted.into());
            }
            self.data.read(buf)
        }
    }

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut wire = Vec::new();
        for payload in payloads {
            FrameConfig::new().append_frame(&mut wire, payload).unwrap();
        }
        wire
    }

    #[test]
    fn io_errors_mid_frame_resume_the_same_frame() {
        let wire = frames(&[b"first frame", b"", b"second"]);
        let mut reader = FrameReader::new(Stuttering {
            data: &wire,
            step: 3,
            block_next: false,
        });
        let mut got = Vec::new();
        let mut blocked = 0;
        loop {
            match reader.read_frame() {
                Ok(Some(payload)) => got.push(payload.to_vec()),
                Ok(None) => break,
                Err(FrameError::Io(err)) if err.kind() == io::ErrorKind::WouldBlock => {
                    blocked += 1;
                    assert!(blocked < 1000, "reader made no progress");
                }
                Err(err) => panic!("unexpected error: {err}"),
            }
        }
        assert_eq!(got, [&b"first frame"[..], b"", b"second"]);
    }

    #[test]
    fn interrupted_reads_are_retried() {
        let wire = frames(&[b"abc"]);
        let mut reader = FrameReader::new(Interrupting {
            data: &wire,
            fail_next: false,
        });
        assert_eq!(reader.read_frame().unwrap(), Some(&b"abc"[..]));
        assert_eq!(reader.read_frame().unwrap(), None);
    }

    #[test]
    fn is_mid_frame_tracks_partial_frames() {
        let wire = frames(&[b"abcdef"]);
        let mut reader = FrameReader::new(Stuttering {
            data: &wire,
            step: 5,
            block_next: false,
        });
        assert!(!reader.is_mid_frame());
        // The header arrives, then the next read would block.
        assert!(matches!(reader.read_frame(), Err(FrameError::Io(_))));
        assert!(reader.is_mid_frame());
        assert_eq!(reader.state, ReadState::Payload { len: 6, read: 0 });
        // Five payload bytes arrive and are kept across the next failure.
        assert!(matches!(reader.read_frame(), Err(FrameError::Io(_))));
        assert_eq!(reader.state, ReadState::Payload { len: 6, read: 5 });
        assert_eq!(reader.read_frame().unwrap(), Some(&b"abcdef"[..]));
        assert!(!reader.is_mid_frame());
    }

    #[test]
    fn buffer_grows_with_arrived_bytes_not_announced_length() {
        let len = 10 * INITIAL_GROWTH;
        let mut wire = u32::try_from(len).unwrap().to_be_bytes().to_vec();
        wire.extend(std::iter::repeat_n(7, INITIAL_GROWTH + 1));
        let mut reader = FrameReader::new(wire.as_slice());
        assert!(matches!(
            reader.read_frame(),
            Err(FrameError::TruncatedPayload { read, .. }) if read == INITIAL_GROWTH + 1
        ));
        assert_eq!(reader.capacity(), 2 * INITIAL_GROWTH);
    }

    #[test]
    fn warm_buffer_is_reused_without_reallocation() {
        let wire = frames(&[&vec![1; 100_000], &[2; 10], &vec![3; 100_000]]);
        let mut reader = FrameReader::new(wire.as_slice());
        let first = reader.read_frame().unwrap().unwrap().as_ptr();
        let capacity = reader.capacity();
        let second = reader.read_frame().unwrap().unwrap().as_ptr();
        let third = reader.read_frame().unwrap().unwrap().as_ptr();
        assert_eq!((first, capacity), (second, reader.capacity()));
        assert_eq!(first, third);
    }

    #[test]
    fn a_large_buffer_is_released_before_waiting_for_the_next_header() {
        let config = FrameConfig::new().with_retained_capacity(1024);
        let mut wire = Vec::new();
        config.append_frame(&mut wire, &[1; 5000]).unwrap();
        config.append_frame(&mut wire, b"small").unwrap();
        let mut reader = FrameReader::with_config(
            Stuttering {
                data: &wire,
                step: usize::MAX,
                block_next: false,
            },
            config,
        );
        // The header, then the payload arrive (each after a `WouldBlock`).
        assert_eq!(next_frame(&mut reader).map(|p| p.len()), Some(5000));
        assert!(reader.capacity() >= 5000);
        // Waiting for the next header: the read blocks, and the large buffer is gone already.
        assert!(matches!(reader.read_frame(), Err(FrameError::Io(_))));
        assert!(!reader.is_mid_frame());
        assert_eq!(reader.capacity(), 0);
        assert_eq!(next_frame(&mut reader).as_deref(), Some(&b"small"[..]));
    }

    /// The next frame of a stuttering stream, read through its `WouldBlock`s.
    fn next_frame(reader: &mut FrameReader<Stuttering<'_>>) -> Option<Vec<u8>> {
        for _ in 0..1000 {
            match reader.read_frame() {
                Ok(payload) => return payload.map(<[u8]>::to_vec),
                Err(FrameError::Io(_)) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
        panic!("the reader made no progress");
    }

    #[test]
    fn frames_within_the_retained_capacity_keep_their_buffer() {
        let config = FrameConfig::new().with_retained_capacity(1024);
        let mut wire = Vec::new();
        for payload in [&[1; 3000][..], &[2; 1000], &[3; 10], &[4; 1024]] {
            config.append_frame(&mut wire, payload).unwrap();
        }
        let mut reader = FrameReader::with_config(wire.as_slice(), config);
        assert_eq!(reader.read_frame().unwrap().map(<[u8]>::len), Some(3000));
        // The 3000-byte buffer is released; the next one is kept for the frames after it.
        let first = reader.read_frame().unwrap().unwrap().as_ptr();
        assert_eq!(reader.capacity(), 1000);
        let second = reader.read_frame().unwrap().unwrap().as_ptr();
        assert_eq!((first, reader.capacity()), (second, 1000));
        assert_eq!(reader.read_frame().unwrap().map(<[u8]>::len), Some(1024));
        assert_eq!(reader.read_frame().unwrap(), None);
        assert_eq!(reader.capacity(), 1024, "at the limit, the buffer is kept");
    }

    #[test]
    fn read_header_tells_the_length_and_leaves_the_payload() {
        let wire = frames(&[b"abcdef", b""]);
        let mut reader = FrameReader::new(Stuttering {
            data: &wire,
            step: 2,
            block_next: false,
        });
        let len = loop {
            match reader.read_header() {
                Ok(len) => break len,
                Err(FrameError::Io(_)) => assert_eq!(reader.capacity(), 0),
                Err(other) => panic!("unexpected {other}"),
            }
        };
        assert_eq!(len, Some(6));
        assert_eq!(reader.state, ReadState::Payload { len: 6, read: 0 });
        assert_eq!(
            reader.read_header().unwrap(),
            Some(6),
            "asked again, read nothing"
        );
        // A read that blocks, then two bytes and a read that blocks.
        assert!(matches!(reader.read_frame(), Err(FrameError::Io(_))));
        assert!(matches!(reader.read_frame(), Err(FrameError::Io(_))));
        assert_eq!(reader.state, ReadState::Payload { len: 6, read: 2 });
        assert_eq!(
            reader.read_header().unwrap(),
            Some(6),
            "mid-payload, the same length"
        );
        assert_eq!(next_frame(&mut reader).as_deref(), Some(&b"abcdef"[..]));
        let next = loop {
            match reader.read_header() {
                Ok(len) => break len,
                Err(FrameError::Io(_)) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        };
        assert_eq!(next, Some(0));
    }

    #[test]
    fn read_header_rejects_an_oversized_frame_before_allocating() {
        let config = FrameConfig::new().with_max_payload(4);
        let mut reader = FrameReader::with_config(&[0, 0, 0, 5, 1, 2, 3, 4, 5][..], config);
        assert!(matches!(
            reader.read_header(),
            Err(FrameError::TooLarge { len: 5, max: 4 })
        ));
        assert_eq!(reader.capacity(), 0);
        assert!(reader.read_frame().is_err());
    }

    #[test]
    fn writer_releases_a_buffer_grown_past_the_retained_capacity() {
        let config = FrameConfig::new().with_retained_capacity(1024);
        let mut writer = FrameWriter::with_config(Vec::new(), config);
        writer.write_frame(&[0; 1000]).unwrap();
        let kept = writer.buf.capacity();
        assert!(kept >= 1004);
        writer.write_frame(&[0; 5000]).unwrap();
        assert_eq!(writer.buf.capacity(), 0);
        assert_eq!(writer.get_ref().len(), 1004 + 5004);
    }

    #[test]
    fn writer_reuses_its_buffer() {
        let mut writer = FrameWriter::new(io::sink());
        writer.write_frame(&[0; 1000]).unwrap();
        let (ptr, capacity) = (writer.buf.as_ptr(), writer.buf.capacity());
        writer.write_frame(&[0; 10]).unwrap();
        writer.write_frame_parts(&[&[0; 500], &[0; 496]]).unwrap();
        assert_eq!(
            (ptr, capacity),
            (writer.buf.as_ptr(), writer.buf.capacity())
        );
    }

    #[test]
    fn outgoing_header_rejects_lengths_beyond_u32() {
        let config = FrameConfig::new().with_max_payload(u32::MAX);
        assert_eq!(
            config.outgoing_header(Some(0x0102_0304)).unwrap(),
            [1, 2, 3, 4]
        );
        assert!(config.outgoing_header(Some(u32::MAX as usize)).is_ok());
        assert!(matches!(
            config.outgoing_header(None),
            Err(FrameError::TooLarge { len: u64::MAX, .. })
        ));
        if let Some(len) = (u32::MAX as usize).checked_add(1) {
            assert!(config.outgoing_header(Some(len)).is_err());
        }
    }

    #[test]
    fn failed_append_leaves_buffer_untouched() {
        let config = FrameConfig::new().with_max_payload(4);
        let mut out = vec![9];
        assert!(
            config
                .append_frame_parts(&mut out, &[b"abc", b"de"])
                .is_err()
        );
        assert_eq!(out, [9]);
    }

    #[test]
    fn debug_omits_buffer_contents() {
        let mut reader = FrameReader::new(&[0, 0, 0, 3, 1, 2, 3][..]);
        reader.read_frame().unwrap();
        let shown = format!("{reader:?}");
        assert!(shown.contains("capacity: 3"), "{shown}");
    }
}
