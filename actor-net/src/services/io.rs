//! The socket helpers that the protocols and the listeners share: why a connection ended
//! ([`ConnectionError`]), reading under the idle timeout, and the address at which a listener
//! wakes its own thread.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};

use actor_core::AskError;

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

/// Whether `error` is a socket timeout (`WouldBlock` on Unix, `TimedOut` on Windows).
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The address at which a socket bound to `addr` can reach itself: the loopback address
/// when it is bound to all addresses.
pub(crate) fn wake_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_addr_reaches_a_wildcard_socket_through_the_loopback() {
        let wildcard: SocketAddr = "0.0.0.0:7000".parse().unwrap();
        assert_eq!(wake_addr(wildcard), "127.0.0.1:7000".parse().unwrap());
        let wildcard6: SocketAddr = "[::]:7000".parse().unwrap();
        assert_eq!(wake_addr(wildcard6), "[::1]:7000".parse().unwrap());
        let specific: SocketAddr = "127.0.0.2:7000".parse().unwrap();
        assert_eq!(wake_addr(specific), specific);
    }
}
