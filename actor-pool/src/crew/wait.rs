//! [`Wait`]: how long a push may wait for room in a bounded queue.

use std::time::{Duration, Instant};

/// How long a push may wait for room in a bounded queue.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// Not at all: a full queue refuses the item at once.
    No,
    /// Until there is room, or the crew closes.
    Forever,
    /// Until this instant at the latest.
    Until(Instant),
}

impl Wait {
    /// Waiting at most `timeout`; a timeout too large to represent is no timeout.
    pub(crate) fn at_most(timeout: Duration) -> Wait {
        Instant::now()
            .checked_add(timeout)
            .map_or(Wait::Forever, Wait::Until)
    }
}
