//! The socket helpers both servers share, and the services above them: whether an error is a
//! socket timeout, and the address at which a server wakes its own thread.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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
