//! [`Redial`]: the node-wide state of reconnecting to one peer address, shared by every
//! remote ref to an actor there, so that a thousand refs to a lost peer dial it once, not a
//! thousand times.
//!
//! A ref whose connection is lost asks its peer's `Redial` for a connection
//! ([`Redial::connection`]). The answer depends on the state, held under one lock:
//!
//! | an open connection | `dialing` | `backoff`            | the ref's send                          |
//! |--------------------|-----------|----------------------|-----------------------------------------|
//! | yes                | —         | reset                | uses it                                 |
//! | no                 | `false`   | allows a dial now    | dials on its own thread (`dialing` set) |
//! | no                 | `false`   | pauses until later   | fails fast: [`DialError::Waiting`]      |
//! | no                 | `true`    | —                    | fails fast: [`DialError::Waiting`]      |
//!
//! A dial is a TCP connect (at most the node's `connect_timeout`) and the handshake (at most
//! its `handshake_timeout`). Its outcome moves the backoff: a success resets it, a failure
//! pauses further dials (see [`Backoff`]). At most one dial to an address is in flight, and
//! at most one starts per pause, whatever the number of refs and senders.
//!
//! The schedule: the first dial after a loss (or after a success) is at once; after `n`
//! failures in a row the next waits `min(100 ms × 2^(n−1), 5 s)`, scaled by a random factor
//! between 0.8 and 1.2 (from the OS, through `getrandom`) so that the clients of a restarted
//! node do not all dial it in the same instant. The pauses are 80–120 ms, 160–240 ms,
//! 320–480 ms, ..., then 4–6 s for as long as the peer stays unreachable: at most 4 dials in
//! the first second after a loss, at most 7 in the first 6 seconds, then at most one per 4 s.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

// Dialling is the node connecting to a peer: it reaches back to the node and its
// connections, as a connection does (see `connection.rs`).
use super::{Connection, Shared};
use crate::error::NetError;

/// The pause after the first failed dial, before jitter.
pub(crate) const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// The longest pause between two dials, before jitter.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(5);

/// How far the jitter moves a pause, in percent either way.
pub(crate) const JITTER_PERCENT: u32 = 20;

/// The reconnecting state of one peer address; see the module documentation.
pub(crate) struct Redial {
    peer: SocketAddr,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    backoff: Backoff,
    /// A sender is dialing the peer now.
    dialing: bool,
}

/// Why [`Redial::connection`] gives no connection.
#[derive(Debug)]
pub(crate) enum DialError {
    /// Not dialed: the backoff pauses dials to this peer now, or another sender is dialing.
    Waiting,
    /// Dialed, and the connect or the handshake failed; or the node is shutting down
    /// ([`NetError::ShutDown`], not counted as a failed dial).
    Failed(NetError),
}

impl Redial {
    fn new(peer: SocketAddr) -> Redial {
        Redial {
            peer,
            state: Mutex::new(State::default()),
        }
    }

    /// The open connection to the peer: an existing one, or a new one dialed on this thread
    /// if the backoff allows and nobody else is dialing; see the module documentation.
    ///
    /// Blocks while it dials: at most the node's `connect_timeout` plus its
    /// `handshake_timeout`. Never blocks otherwise.
    pub(crate) fn connection(&self, node: &Arc<Shared>) -> Result<Arc<Connection>, DialError> {
        {
            let mut state = self.state.lock();
            if node.is_shutting_down() {
                return Err(DialError::Failed(NetError::ShutDown));
            }
            if let Some(open) = node.connection_to(self.peer) {
                // Someone reached the peer (another ref, or a lookup): it is reachable.
                state.backoff.reset();
                return Ok(open);
            }
            if state.dialing || !state.backoff.allows(Instant::now()) {
                return Err(DialError::Waiting);
            }
            state.dialing = true;
        }
        let mut attempt = Attempt {
            redial: self,
            succeeded: false,
        };
        let outcome = node.connect(self.peer);
        match &outcome {
            Ok(_) => attempt.succeeded = true,
            Err(error) => tracing::info!(peer = %self.peer, %error, "reconnecting failed"),
        }
        drop(attempt);
        outcome.map_err(DialError::Failed)
    }
}

/// One dial in flight: gives the `dialing` flag back and moves the backoff however the dial
/// ends (a panic counts as a failure), so that no dial can leave the peer unreachable for good.
struct Attempt<'a> {
    redial: &'a Redial,
    succeeded: bool,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let mut state = self.redial.state.lock();
        state.dialing = false;
        if self.succeeded {
            state.backoff.reset();
        } else {
            state.backoff.failed(Instant::now(), random());
        }
    }
}

/// The redial states of a node, one per peer address that remote refs point at. Weak: a
/// state lives as long as some ref to that address does.
#[derive(Default)]
pub(crate) struct Redials(Mutex<HashMap<SocketAddr, Weak<Redial>>>);

impl Redials {
    /// The redial state of `peer`, made if no ref has one.
    pub(crate) fn get(&self, peer: SocketAddr) -> Arc<Redial> {
        let mut table = self.0.lock();
        if let Some(redial) = table.get(&peer).and_then(Weak::upgrade) {
            return redial;
        }
        // Forgets the states of the addresses that no ref points at any more.
        table.retain(|_, redial| redial.strong_count() > 0);
        let redial = Arc::new(Redial::new(peer));
        table.insert(peer, Arc::downgrade(&redial));
        redial
    }
}

/// When the next dial to a peer may start: after `failures` failed dials in a row, not before
/// `not_before`. Pure, so that the schedule is tested without sockets or clocks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    failures: u32,
    not_before: Option<Instant>,
}

impl Backoff {
    /// Whether a dial may start at `now`.
    pub(crate) fn allows(&self, now: Instant) -> bool {
        self.not_before.is_none_or(|not_before| now >= not_before)
    }

    /// Records a failed dial ending at `now`; `random` picks the jitter.
    pub(crate) fn failed(&mut self, now: Instant, random: u32) {
        self.failures = self.failures.saturating_add(1);
        self.not_before = now.checked_add(jittered(pause(self.failures), random));
    }

    /// Records a success: the next dial (after a later loss) starts at once.
    pub(crate) fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// The pause after `failures` failed dials in a row, before jitter: none before the first
/// failure, then 100 ms doubling up to 5 s.
pub(crate) fn pause(failures: u32) -> Duration {
    let Some(doublings) = failures.checked_sub(1) else {
        return Duration::ZERO;
    };
    // 2^6 × 100 ms is past the cap already; the bound keeps the shift in range.
    FIRST_PAUSE
        .saturating_mul(1 << doublings.min(16))
        .min(MAX_PAUSE)
}

/// `pause` scaled by a factor between 0.8 and 1.2 picked by `random`.
pub(crate) fn jittered(pause: Duration, random: u32) -> Duration {
    let percent = 100 - JITTER_PERCENT + random % (2 * JITTER_PERCENT + 1);
    pause * percent / 100
}

/// A random number for the jitter; without one from the OS, the middle (no jitter), which
/// only loses the spreading of the clients' dials.
fn random() -> u32 {
    getrandom::u32().unwrap_or(JITTER_PERCENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_from_100_ms_up_to_5_s() {
        let pauses: Vec<u64> = (0..9).map(|n| pause(n).as_millis() as u64).collect();
        assert_eq!(pauses, [0, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(pause(u32::MAX), MAX_PAUSE);
    }

    #[test]
    fn the_jitter_stays_within_20_percent_either_way() {
        let pause = Duration::from_millis(1000);
        assert_eq!(jittered(pause, 0), Duration::from_millis(800));
        assert_eq!(jittered(pause, 40), Duration::from_millis(1200));
        assert_eq!(jittered(pause, JITTER_PERCENT), pause);
        for random in [1, 7, 41, 1000, u32::MAX] {
            let scaled = jittered(pause, random);
            assert!((800..=1200).contains(&scaled.as_millis()), "{scaled:?}");
        }
    }

    #[test]
    fn a_failure_pauses_dials_and_a_success_resets_the_schedule() {
        let start = Instant::now();
        let mut backoff = Backoff::default();
        assert!(backoff.allows(start), "the first dial is at once");
        backoff.failed(start, 0); // the shortest pause: 80 ms
        assert!(!backoff.allows(start + Duration::from_millis(79)));
        assert!(backoff.allows(start + Duration::from_millis(80)));
        let later = start + Duration::from_millis(80);
        backoff.failed(later, 40); // the longest second pause: 240 ms
        assert!(!backoff.allows(later + Duration::from_millis(239)));
        assert!(backoff.allows(later + Duration::from_millis(240)));
        backoff.reset();
        assert!(backoff.allows(start));
    }

    #[test]
    fn dials_in_the_first_second_after_a_loss_are_at_most_four() {
        // The shortest pauses (jitter 0.8 each time) give the most dials.
        let mut backoff = Backoff::default();
        let start = Instant::now();
        let mut now = start;
        let mut dials = 0;
        while now < start + Duration::from_secs(1) {
            if backoff.allows(now) {
                dials += 1;
                backoff.failed(now, 0);
            }
            now += Duration::from_millis(1);
        }
        assert_eq!(dials, 4);
    }
}
