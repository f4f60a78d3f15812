//! The errors of the test kit: [`BuildError`] when a proxy cannot start, [`ProbabilityError`]
//! for a drop probability that is not one.

use std::io;
use std::net::SocketAddr;

/// A drop probability outside `[0, 1]` (or not a number).
///
/// # Examples
///
/// ```
/// use actor_testkit::{FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let proxy = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?).build()?;
/// let error = proxy.faults().set_drop_probability(2.0).unwrap_err();
/// assert_eq!(error.probability, 2.0);
/// assert_eq!(error.to_string(), "a drop probability must be from 0 to 1, not 2");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("a drop probability must be from 0 to 1, not {probability}")]
pub struct ProbabilityError {
    /// The value refused.
    pub probability: f64,
}

/// Why [`FaultProxyBuilder::build`](crate::FaultProxyBuilder::build) could not start a proxy.
///
/// # Examples
///
/// ```
/// use actor_testkit::{BuildError, FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let error = FaultProxy::builder(Protocol::Tcp, taken.local_addr()?)
///     .listen(taken.local_addr()?)
///     .build()
///     .unwrap_err();
/// assert!(matches!(error, BuildError::Bind { .. }));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The listening socket could not be bound (or set up) at `addr`.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The initial drop probability is not one.
    #[error(transparent)]
    Probability(#[from] ProbabilityError),
    /// A bound or timeout is zero.
    #[error("{setting} must not be zero")]
    Zero {
        /// The builder setting, such as `max_queued_bytes`.
        setting: &'static str,
    },
    /// The proxy's thread could not be started.
    #[error("cannot start the proxy's thread: {0}")]
    Spawn(#[source] io::Error),
}
