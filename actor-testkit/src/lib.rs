//! What the multi-host tests use: a fault-injecting proxy for TCP and UDP.
//!
//! The kernel of the test machines has no `netem`, so the delay, loss and silence that a
//! real network produces come from a [`FaultProxy`] placed between two nodes. A client
//! connects (or sends) to the proxy, and the proxy forwards to the upstream, in both
//! directions, applying the [`Faults`] in force:
//!
//! - a one-way **delay**, per direction, that keeps the order of each connection or flow;
//! - a **drop** probability for UDP datagrams, drawn from a seeded generator so that a test
//!   drops the same datagrams on every run;
//! - a **blackhole** that silently discards everything in both directions while TCP
//!   connections stay open: the peer sees silence, not a reset.
//!
//! Faults change at run time, from any thread, through the [`Faults`] handle; [`ProxyStats`]
//! counts what was forwarded and dropped. The proxy runs on plain threads, bounds its memory
//! (each delay queue holds at most a set number of bytes), and joins every thread when it
//! stops or is dropped. A partition is not the proxy's job: the network-namespace tests
//! (`tests/netns/cluster.sh`) set a link down for that.
//!
//! The `fault-proxy` command wraps the library for scripts: it prints the address it listens
//! on, then takes fault changes as lines on its standard input (`delay 50`, `drop 0.1`,
//! `blackhole on`), acknowledging each with a line (`fault-proxy --help`).
//!
//! # Examples
//!
//! A UDP echo behind a proxy that drops every datagram, then none:
//!
//! ```
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant};
//! use actor_testkit::{FaultProxy, Protocol};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let echo = UdpSocket::bind("127.0.0.1:0")?;
//! let echo_addr = echo.local_addr()?;
//! let echo_thread = std::thread::spawn(move || -> std::io::Result<()> {
//!     let mut buf = [0u8; 64];
//!     let (n, from) = echo.recv_from(&mut buf)?;
//!     echo.send_to(&buf[..n], from)?;
//!     Ok(())
//! });
//!
//! let proxy = FaultProxy::builder(Protocol::Udp, echo_addr)
//!     .drop_probability(1.0)
//!     .build()?;
//! let client = UdpSocket::bind("127.0.0.1:0")?;
//! client.send_to(b"lost", proxy.local_addr())?;
//! // Wait for the proxy to have seen it (poll with a deadline, never a bare sleep).
//! let deadline = Instant::now() + Duration::from_secs(10);
//! while proxy.stats().to_upstream.dropped_datagrams < 1 {
//!     assert!(Instant::now() < deadline, "the datagram never reached the proxy");
//!     std::thread::sleep(Duration::from_millis(5));
//! }
//!
//! proxy.faults().set_drop_probability(0.0)?;
//! client.send_to(b"kept", proxy.local_addr())?;
//! client.set_read_timeout(Some(Duration::from_secs(10)))?;
//! let mut buf = [0u8; 64];
//! let n = client.recv(&mut buf)?;
//! assert_eq!(&buf[..n], b"kept");
//! echo_thread.join().unwrap()?;
//! # Ok(())
//! # }
//! ```

mod error;
mod fault_proxy;
mod faults;
mod rng;
mod stats;

pub use crate::error::{BuildError, ProbabilityError};
pub use crate::fault_proxy::{FaultProxy, FaultProxyBuilder, Protocol};
pub use crate::faults::{Direction, Faults, MAX_DELAY};
pub use crate::stats::{DirectionStats, ProxyStats};
