//! [`Limits`]: how much every listener of a [`ServiceSet`](super::ServiceSet) allows a client.

use std::time::Duration;

/// The limits every listener of a set applies; see [`ServiceSetBuilder`](super::ServiceSetBuilder).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Live connections per TCP listener; the excess is closed at once.
    pub(crate) max_connections: usize,
    /// Live connections per TCP listener from one source address; the excess is closed at once.
    pub(crate) max_connections_per_source: usize,
    /// How long a connection may stay silent (or refuse to take what is written to it).
    pub(crate) idle_timeout: Duration,
    /// How long a connection may stay open in all, however busy: unlike the idle timeout,
    /// not restarted by each byte, so that slow clients cannot hold a slot for ever.
    pub(crate) connection_deadline: Duration,
    /// How long an authenticated-echo client has to send its digest.
    pub(crate) auth_timeout: Duration,
    /// How long a connection waits for the echo or time actor.
    pub(crate) ask_timeout: Duration,
    /// How long a server that closed its side waits for the client to close too.
    pub(crate) linger: Duration,
    /// How many datagrams each UDP listener answers at once to one source address.
    pub(crate) udp_burst: u32,
    /// How many datagrams a second each UDP listener answers to one source over time.
    pub(crate) udp_per_second: u32,
}
