//! [`SendWait`]: how long one send may wait for room.

use std::time::Instant;

/// How long a send may wait for room in a full bounded queue (a mailbox, or a transport's
/// queue for a [`RemoteTarget`](crate::RemoteTarget)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendWait {
    /// Do not wait: a full queue is an error (`try_tell`).
    Never,
    /// Wait as long as it takes (`tell`).
    Forever,
    /// Wait until this instant at most (`tell_timeout`).
    Until(Instant),
}
