//! TCP connections from a chosen loopback address (127.0.0.2, 127.0.0.3, ...), each standing
//! for another host. The standard library cannot bind a client socket before it connects, so
//! this goes through `nix`; Unix only.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};

/// A TCP connection to `server` (an IPv4 address) from `source` (any port); `None` if the
/// socket cannot be made, bound or connected.
pub(crate) fn connect_from(source: Ipv4Addr, server: SocketAddr) -> Option<TcpStream> {
    let SocketAddr::V4(server) = server else {
        return None;
    };
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .ok()?;
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(source, 0)),
    )
    .ok()?;
    connect(fd.as_raw_fd(), &SockaddrIn::from(server)).ok()?;
    Some(TcpStream::from(fd))
}
