//! [`ServiceError`]: why a [`ServiceSet`](super::ServiceSet) could not start.

use std::io;

use actor_core::SpawnError;

use super::protocol::Protocol;

/// A [`ServiceSet`](super::ServiceSet) could not start; nothing of it keeps running.
///
/// # Examples
///
/// ```
/// use actor_core::System;
/// use actor_net::services::{Protocol, ServiceError, ServiceSet};
///
/// let system = System::new();
/// let err = ServiceSet::builder()
///     .listen(Protocol::AuthEcho, "127.0.0.1:0")
///     .build(&system)
///     .unwrap_err();
/// assert!(matches!(err, ServiceError::MissingSecret));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A listener's address could not be resolved or bound (malformed, in use, not local).
    #[error("cannot listen for {protocol} on {addr}")]
    Bind {
        /// The listener.
        protocol: Protocol,
        /// The address as given.
        addr: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A listener's address resolved to no socket address.
    #[error("the {protocol} address {addr:?} resolves to no socket address")]
    NoAddress {
        /// The listener.
        protocol: Protocol,
        /// The address as given.
        addr: String,
    },
    /// The authenticated echo was asked for without a key.
    #[error("the auth-echo listener needs the shared key")]
    MissingSecret,
    /// An actor of the set could not be started.
    #[error("cannot start the {actor} actor")]
    Spawn {
        /// Which actor: `echo`, `time`, or a listener's protocol name.
        actor: &'static str,
        /// Why.
        #[source]
        source: SpawnError,
    },
}
