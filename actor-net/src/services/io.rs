//! The socket helpers that the protocols share: why a connection ended
//! ([`ConnectionError`]), and reading under the idle timeout.

use std::io::{self, Read};
use std::net::TcpStream;

use actor_core::AskError;

use crate::server::is_timeout;

/// Why a connection ended early. Logged, never sent to the client.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectionError {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The client sent nothing (or took nothing) for the idle timeout.
    #[error("idle for too long")]
    Idle,
    /// The connection reached its deadline, however busy it was.
    #[error("open for too long")]
    Deadline,
    /// The echo or time actor did not answer.
    #[error("the service did not answer")]
    Service(#[from] AskError),
    /// The operating system's random source failed.
    #[error("the random source failed: {0}")]
    Random(getrandom::Error),
    /// An authenticated-echo client sent no (complete) digest in time.
    #[error("no digest in time")]
    AuthTimeout,
    /// An authenticated-echo client closed before sending a complete digest.
    #[error("closed before sending a digest")]
    AuthClosed,
    /// An authenticated-echo client sent a wrong digest.
    #[error("wrong digest")]
    WrongDigest,
}

/// Reads what is there (at most `buf.len()` bytes; 0 at the end of the stream), mapping a
/// read timeout to [`ConnectionError::Idle`].
pub(crate) fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, ConnectionError> {
    loop {
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if is_timeout(&error) => return Err(ConnectionError::Idle),
            Err(error) => return Err(error.into()),
        }
    }
}
