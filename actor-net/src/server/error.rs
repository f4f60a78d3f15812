//! [`ServerError`]: why a [`TcpServer`](super::TcpServer) or a [`UdpServer`](super::UdpServer)
//! could not start.

use std::io;

use actor_core::SpawnError;

/// A server could not start; nothing of it keeps running.
///
/// # Examples
///
/// ```
/// use std::net::TcpListener;
/// use actor_core::System;
/// use actor_net::server::{ServerError, TcpServer};
///
/// let taken = TcpListener::bind("127.0.0.1:0")?;
/// let system = System::new();
/// let err = TcpServer::builder()
///     .spawn(&system, taken.local_addr()?, |_stream, _peer| Ok(()))
///     .unwrap_err();
/// assert!(matches!(err, ServerError::Bind(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The address could not be resolved or bound (malformed, in use, not local).
    #[error("cannot bind the server's socket")]
    Bind(#[source] io::Error),
    /// The bound socket could not be read or set up (its address, a handle on it, its
    /// timeouts).
    #[error("cannot set up the server's socket")]
    Socket(#[source] io::Error),
    /// A thread of a handler pool could not be started.
    #[error("cannot start a handler thread")]
    Thread(#[source] io::Error),
    /// The server's actor could not be started (the system is shutting down, typically).
    #[error("cannot start the server's actor")]
    Spawn(#[source] SpawnError),
}
