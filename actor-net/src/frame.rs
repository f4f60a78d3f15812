//! Frames on sockets: the limits actor-net uses and the mapping of socket failures to errors.
//!
//! The framing itself is actor-core's [`codec`](actor_core::codec): a `u32` big-endian payload
//! length, then the payload, with the length checked against a maximum before anything is
//! allocated for it. This module adds what a network connection needs on top: the default limits,
//! a [`TimedStream`] whose reads can be given a timeout, and [`read_frame`]/[`write_frames`],
//! which turn timeouts and closed connections into a typed [`StreamError`].
//!
//! # Examples
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use std::time::Duration;
//! use actor_core::codec::FrameReader;
//! use actor_net::frame::{self, StreamError};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let mut client = TcpStream::connect(listener.local_addr()?)?;
//! let (server, _) = listener.accept()?;
//!
//! let mut wire = Vec::new();
//! frame::session_frames().append_frame(&mut wire, b"ping")?;
//! frame::write_frames(&mut client, &wire)?;
//!
//! server.set_read_timeout(Some(Duration::from_millis(50)))?;
//! let mut reader = FrameReader::with_config(server, frame::session_frames());
//! assert_eq!(frame::read_frame(&mut reader)?, b"ping");
//! // Nothing more was sent: the read times out.
//! assert!(matches!(frame::read_frame(&mut reader), Err(StreamError::Timeout)));
//! drop(client);
//! assert!(matches!(frame::read_frame(&mut reader), Err(StreamError::Closed)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use actor_core::codec::{FrameConfig, FrameError, FrameReader};

/// The default largest payload of a session frame: 1 MiB.
///
/// # Examples
///
/// ```
/// assert_eq!(actor_net::frame::DEFAULT_MAX_PAYLOAD, 1024 * 1024);
/// ```
pub const DEFAULT_MAX_PAYLOAD: u32 = 1024 * 1024;

/// The default largest payload of a handshake frame: 512 bytes.
///
/// The largest valid handshake frame (a CHALLENGE carrying a 255-byte name) has 329 bytes, so an
/// unauthenticated peer can make a node hold little more than that.
///
/// # Examples
///
/// ```
/// assert_eq!(actor_net::frame::DEFAULT_HANDSHAKE_MAX_PAYLOAD, 512);
/// ```
pub const DEFAULT_HANDSHAKE_MAX_PAYLOAD: u32 = 512;

/// Returns the frame limits of a session: payloads up to [`DEFAULT_MAX_PAYLOAD`].
///
/// # Examples
///
/// ```
/// use actor_net::frame;
///
/// assert_eq!(frame::session_frames().max_payload(), frame::DEFAULT_MAX_PAYLOAD);
/// ```
#[must_use]
pub const fn session_frames() -> FrameConfig {
    FrameConfig::new().with_max_payload(DEFAULT_MAX_PAYLOAD)
}

/// A byte stream whose reads can be given a timeout: what a handshake runs over.
///
/// [`TcpStream`] implements it; tests implement it for in-memory pipes. Only reads need a
/// timeout: the handshake writes less than a kilobyte in all, which fits in any socket's send
/// buffer, so a peer that does not read cannot block a write.
///
/// # Examples
///
/// ```
/// use std::net::{TcpListener, TcpStream};
/// use std::time::Duration;
/// use actor_net::frame::TimedStream;
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut stream = TcpStream::connect(listener.local_addr()?)?;
/// TimedStream::set_read_timeout(&mut stream, Some(Duration::from_secs(1)))?;
/// assert_eq!(stream.read_timeout()?, Some(Duration::from_secs(1)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TimedStream: Read + Write {
    /// Makes every later read that waits longer than `timeout` fail with
    /// [`io::ErrorKind::WouldBlock`] or [`io::ErrorKind::TimedOut`]; `None` waits forever.
    ///
    /// Callers never pass `Some(Duration::ZERO)`.
    ///
    /// # Errors
    ///
    /// Whatever error setting the timeout produces.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{TcpListener, TcpStream};
    /// use actor_net::frame::TimedStream;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let mut stream = TcpStream::connect(listener.local_addr()?)?;
    /// TimedStream::set_read_timeout(&mut stream, None)?;
    /// assert_eq!(stream.read_timeout()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl TimedStream for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

/// Why a frame could not be read from or written to a stream.
///
/// After any of these but [`StreamError::Timeout`] the connection should be closed. After a read
/// timeout the [`FrameReader`] keeps what it has read, and the next read resumes the same frame.
///
/// # Examples
///
/// ```
/// use actor_core::codec::FrameReader;
/// use actor_net::frame::{self, StreamError};
///
/// // A clean end of stream at a frame boundary is `Closed`.
/// let mut reader = FrameReader::new(&[][..]);
/// assert!(matches!(frame::read_frame(&mut reader), Err(StreamError::Closed)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream's timeout passed before the read or write completed.
    #[error("timed out waiting for the peer")]
    Timeout,
    /// The peer closed the connection (at a frame boundary) or reset it.
    #[error("the peer closed the connection")]
    Closed,
    /// The frame was too large, or the stream ended inside it.
    #[error("invalid frame: {0}")]
    Frame(#[source] FrameError),
    /// The stream failed in another way.
    #[error("connection i/o failed: {0}")]
    Io(#[source] io::Error),
}

impl From<FrameError> for StreamError {
    fn from(err: FrameError) -> Self {
        match err {
            FrameError::Io(err) => StreamError::from(err),
            other => StreamError::Frame(other),
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            // Unix reports a socket read timeout as `WouldBlock`, Windows as `TimedOut`.
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => StreamError::Timeout,
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof => StreamError::Closed,
            _ => StreamError::Io(err),
        }
    }
}

/// Reads the next frame's payload; a clean end of stream is [`StreamError::Closed`].
///
/// # Errors
///
/// [`StreamError::Timeout`] if the stream's read timeout passed (calling again resumes the
/// frame; [`FrameReader::is_mid_frame`] tells whether part of one has arrived);
/// [`StreamError::Closed`] if the peer closed the connection between frames or reset it;
/// [`StreamError::Frame`] if the frame is over the reader's limit or cut short;
/// [`StreamError::Io`] for other failures.
///
/// # Examples
///
/// ```
/// use actor_core::codec::FrameReader;
/// use actor_net::frame;
///
/// let mut reader = FrameReader::new(&[0, 0, 0, 2, b'h', b'i'][..]);
/// assert_eq!(frame::read_frame(&mut reader)?, b"hi");
/// # Ok::<(), actor_net::frame::StreamError>(())
/// ```
pub fn read_frame<R: Read>(reader: &mut FrameReader<R>) -> Result<&[u8], StreamError> {
    reader.read_frame()?.ok_or(StreamError::Closed)
}

/// Writes bytes that already hold whole frames (appended with
/// [`FrameConfig::append_frame`] or a session [`Sealer`](crate::session::Sealer)) and flushes.
///
/// # Errors
///
/// [`StreamError::Timeout`] if the stream's write timeout passed, [`StreamError::Closed`] if the
/// peer closed or reset the connection, [`StreamError::Io`] for other failures. In each case part
/// of the bytes may have been sent, so the connection should be closed.
///
/// # Examples
///
/// ```
/// use actor_core::codec::FrameConfig;
/// use actor_net::frame;
///
/// let mut wire = Vec::new();
/// FrameConfig::new().append_frame(&mut wire, b"one")?;
/// FrameConfig::new().append_frame(&mut wire, b"two")?;
/// let mut socket = Vec::new();
/// frame::write_frames(&mut socket, &wire)?;
/// assert_eq!(socket, wire);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_frames<W: Write + ?Sized>(writer: &mut W, frames: &[u8]) -> Result<(), StreamError> {
    writer.write_all(frames)?;
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_classified() {
        let kind = |kind: io::ErrorKind| StreamError::from(io::Error::from(kind));
        assert!(matches!(
            kind(io::ErrorKind::WouldBlock),
            StreamError::Timeout
        ));
        assert!(matches!(
            kind(io::ErrorKind::TimedOut),
            StreamError::Timeout
        ));
        assert!(matches!(
            kind(io::ErrorKind::ConnectionReset),
            StreamError::Closed
        ));
        assert!(matches!(
            kind(io::ErrorKind::BrokenPipe),
            StreamError::Closed
        ));
        assert!(matches!(
            kind(io::ErrorKind::PermissionDenied),
            StreamError::Io(_)
        ));
    }

    #[test]
    fn oversized_and_truncated_frames_are_frame_errors() {
        let config = FrameConfig::new().with_max_payload(2);
        let mut reader = FrameReader::with_config(&[0, 0, 0, 3, 1, 2, 3][..], config);
        assert!(matches!(
            read_frame(&mut reader),
            Err(StreamError::Frame(FrameError::TooLarge { len: 3, max: 2 }))
        ));
        let mut reader = FrameReader::new(&[0, 0, 0, 3, 1][..]);
        assert!(matches!(
            read_frame(&mut reader),
            Err(StreamError::Frame(FrameError::TruncatedPayload {
                read: 1,
                len: 3
            }))
        ));
    }
}
