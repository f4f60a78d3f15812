//! What happens when an actor fails, and how others learn that it ended.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::actor_id::ActorId;

/// What the runtime does when a handler returns an error or panics.
///
/// The failure is caught at the actor's boundary: it never reaches the thread that sent the
/// message. A sender waiting on a reply from the failed handler gets
/// [`ReplyError::Dropped`](crate::ReplyError::Dropped) at once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::Supervision;
///
/// // At most 3 restarts within 10 seconds; the 4th failure in that window stops the actor.
/// let policy = Supervision::restart(3, Duration::from_secs(10));
/// assert_ne!(policy, Supervision::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Supervision {
    /// Stop the actor; monitors get [`ExitReason::Failed`]. The default.
    #[default]
    Stop,
    /// Drop the failing message and go on with the same actor state.
    Resume,
    /// Replace the actor with a fresh one from its factory (same ref, same mailbox), at most
    /// `max_restarts` times within any window of `within`; one more failure stops it.
    Restart {
        /// Restarts allowed within the window.
        max_restarts: u32,
        /// Length of the sliding window.
        within: Duration,
    },
}

impl Supervision {
    /// The [`Restart`](Supervision::Restart) policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = actor_core::Supervision::restart(5, Duration::from_secs(60));
    /// assert!(matches!(p, actor_core::Supervision::Restart { max_restarts: 5, .. }));
    /// ```
    #[must_use]
    pub fn restart(max_restarts: u32, within: Duration) -> Supervision {
        Supervision::Restart {
            max_restarts,
            within,
        }
    }
}

/// Remembers recent restarts to enforce a [`Supervision::Restart`] limit.
#[derive(Debug, Default)]
pub(crate) struct RestartWindow {
    recent: std::collections::VecDeque<Instant>,
}

impl RestartWindow {
    /// Records a restart at `now` if the limit allows one; returns `false` when it does not.
    pub(crate) fn try_record(&mut self, now: Instant, max_restarts: u32, within: Duration) -> bool {
        while let Some(&oldest) = self.recent.front() {
            if now.duration_since(oldest) >= within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= max_restarts as usize {
            return false;
        }
        self.recent.push_back(now);
        true
    }
}

/// Why a handler failed: the error it returned, or its panic.
#[derive(Clone)]
pub enum Failure {
    /// The handler (or a lifecycle hook) returned this error.
    Error(Arc<dyn Error + Send + Sync>),
    /// The handler panicked with this message.
    Panic(String),
}

impl Failure {
    /// Turns a caught panic payload into a failure carrying the panic message.
    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Failure {
        Failure::Panic(panic_message(payload.as_ref()).to_string())
    }
}

/// The message a panic was raised with (`panic!("...")` gives a `&str` or a `String`
/// payload), or a placeholder for any other payload.
///
/// For code that catches panics itself (an executor, a pool) and reports them as
/// [`Failure::Panic`] or [`ReplyError::Panicked`](crate::ReplyError::Panicked) does.
///
/// # Examples
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("disk {} is full", 2)).unwrap_err();
/// assert_eq!(actor_core::panic_message(payload.as_ref()), "disk 2 is full");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "panic with a non-string payload"
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => write!(f, "handler error: {e}"),
            Failure::Panic(msg) => write!(f, "handler panicked: {msg}"),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => f.debug_tuple("Error").field(&e.to_string()).finish(),
            Failure::Panic(msg) => f.debug_tuple("Panic").field(msg).finish(),
        }
    }
}

/// Why an actor ended.
#[derive(Debug, Clone)]
pub enum ExitReason {
    /// Stopped gracefully (by `stop`, from its own handler, or by system shutdown) after
    /// handling what was queued.
    Stopped,
    /// Killed: stopped after its current message; what was queued was discarded.
    Killed,
    /// Failed and its supervision policy (or its restart limit) stopped it.
    Failed(Failure),
}

impl ExitReason {
    /// Returns `true` for [`ExitReason::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!actor_core::ExitReason::Stopped.is_failure());
    /// ```
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(self, ExitReason::Failed(_))
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Stopped => f.write_str("stopped"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Failed(failure) => write!(f, "failed: {failure}"),
        }
    }
}

/// The notice a monitor receives when the actor it watches has ended.
///
/// See [`ActorRef::monitor`](crate::ActorRef::monitor) and
/// [`Context::monitor`](crate::Context::monitor).
#[derive(Debug, Clone)]
pub struct Down {
    /// The actor that ended.
    pub id: ActorId,
    /// Its registered name, if it had one.
    pub name: Option<Arc<str>>,
    /// Why it ended.
    pub reason: ExitReason,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_window_slides() {
        let mut w = RestartWindow::default();
        let t0 = Instant::now();
        let within = Duration::from_secs(10);
        assert!(w.try_record(t0, 2, within));
        assert!(w.try_record(t0 + Duration::from_secs(1), 2, within));
        assert!(!w.try_record(t0 + Duration::from_secs(2), 2, within));
        // The first restart has left the window.
        assert!(w.try_record(t0 + Duration::from_secs(10), 2, within));
    }

    #[test]
    fn panic_messages_are_recovered() {
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "static");
        let p = std::panic::catch_unwind(|| panic!("formatted {}", 1)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "formatted 1");
    }
}
