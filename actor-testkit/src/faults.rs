//! [`Faults`]: the delay, loss and blackhole a proxy injects, changeable while it runs.
//!
//! Every setting is one atomic, read once per chunk or datagram with `Relaxed` ordering: a
//! setting guards no other data, and a change that takes effect a chunk later is as good as
//! one that takes effect at once (a test waits for its effect, never for the store).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::error::ProbabilityError;
use crate::rng::SplitMix64;

/// The longest delay a proxy applies; longer ones are cut to it, so that a due time always
/// fits in an `Instant`.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

/// Which way data goes through a proxy.
///
/// # Examples
///
/// ```
/// use actor_testkit::Direction;
///
/// assert_eq!(Direction::ToUpstream.reverse(), Direction::ToClient);
/// assert_eq!(Direction::ALL.len(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the clients that connect to the proxy, to the upstream.
    ToUpstream,
    /// From the upstream back to a client.
    ToClient,
}

impl Direction {
    /// Both directions, `ToUpstream` first.
    pub const ALL: [Direction; 2] = [Direction::ToUpstream, Direction::ToClient];

    /// The other direction.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::Direction;
    ///
    /// assert_eq!(Direction::ToClient.reverse(), Direction::ToUpstream);
    /// ```
    #[must_use]
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToUpstream => Direction::ToClient,
            Direction::ToClient => Direction::ToUpstream,
        }
    }

    /// The index of this direction in per-direction arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Direction::ToUpstream => 0,
            Direction::ToClient => 1,
        }
    }
}

/// The faults a proxy injects: a one-way delay per direction, a drop probability for UDP
/// datagrams, and a blackhole. A cheap handle: clones share the settings, so a test can
/// change them from any thread while the proxy runs.
///
/// - **Delay** holds each chunk (TCP) or datagram (UDP) back for the delay in force when it
///   arrived, never letting it overtake what arrived before it on the same connection or
///   flow: order is kept even when the delay shrinks.
/// - **Drop** (UDP only) discards each datagram with the given probability, drawn from a
///   generator seeded at build time ([`FaultProxyBuilder::seed`]), one per direction, so the
///   same datagrams sent in the same order are dropped on every run. A TCP proxy ignores it:
///   a byte stream cannot lose bytes from its middle and stay a stream; use the blackhole.
/// - **Blackhole** discards everything in both directions, including what is already
///   delayed, while TCP connections stay open: each side sees silence, not a reset. A
///   connection closed by one side while the blackhole is on is not closed on the other side
///   either. Turned off, traffic flows again; what was discarded stays lost, so a TCP stream
///   that lost bytes is broken for the protocol above it (which a MAC or a framing check sees).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_testkit::{Direction, FaultProxy, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let proxy = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?).build()?;
/// let faults = proxy.faults().clone();
/// std::thread::spawn(move || {
///     faults.set_delay(Duration::from_millis(20));
///     faults.set_blackhole(true);
/// })
/// .join()
/// .unwrap();
/// assert_eq!(proxy.faults().delay(Direction::ToClient), Duration::from_millis(20));
/// assert!(proxy.faults().blackhole());
/// # Ok(())
/// # }
/// ```
///
/// [`FaultProxyBuilder::seed`]: crate::FaultProxyBuilder::seed
#[derive(Debug, Clone)]
pub struct Faults {
    shared: Arc<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    /// Nanoseconds, indexed by [`Direction::index`].
    delay: [AtomicU64; 2],
    /// The bits of an `f64` in `[0, 1]`.
    drop_probability: AtomicU64,
    blackhole: AtomicBool,
    /// One generator per direction, so that one direction's traffic does not shift the
    /// other's draws.
    rng: [Mutex<SplitMix64>; 2],
}

impl Faults {
    /// Faults with nothing injected, drawing drops from generators seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Faults {
        // The second generator's seed differs by a constant, so the two directions do not
        // drop in lockstep.
        let rng = [
            Mutex::new(SplitMix64::new(seed)),
            Mutex::new(SplitMix64::new(seed ^ 0xD1B5_4A32_D192_ED03)),
        ];
        Faults {
            shared: Arc::new(FaultState {
                delay: [AtomicU64::new(0), AtomicU64::new(0)],
                drop_probability: AtomicU64::new(0f64.to_bits()),
                blackhole: AtomicBool::new(false),
                rng,
            }),
        }
    }

    /// Delays both directions by `delay` (cut to [`MAX_DELAY`]); zero forwards at once.
    ///
    /// What is already delayed keeps its due time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_testkit::{Direction, FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// proxy.faults().set_delay(Duration::from_millis(50));
    /// assert_eq!(proxy.faults().delay(Direction::ToUpstream), Duration::from_millis(50));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_delay(&self, delay: Duration) {
        for direction in Direction::ALL {
            self.set_delay_toward(direction, delay);
        }
    }

    /// Delays the data going `direction` by `delay` (cut to [`MAX_DELAY`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_testkit::{Direction, FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// proxy.faults().set_delay_toward(Direction::ToClient, Duration::from_millis(80));
    /// assert_eq!(proxy.faults().delay(Direction::ToUpstream), Duration::ZERO);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_delay_toward(&self, direction: Direction, delay: Duration) {
        let nanos = u64::try_from(delay.min(MAX_DELAY).as_nanos()).unwrap_or(u64::MAX);
        self.shared.delay[direction.index()].store(nanos, Ordering::Relaxed);
    }

    /// The delay in force for `direction`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_testkit::{Direction, FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?)
    ///     .delay(Duration::from_secs(7200))
    ///     .build()?;
    /// assert_eq!(proxy.faults().delay(Direction::ToClient), actor_testkit::MAX_DELAY);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn delay(&self, direction: Direction) -> Duration {
        Duration::from_nanos(self.shared.delay[direction.index()].load(Ordering::Relaxed))
    }

    /// Drops each UDP datagram, in both directions, with probability `probability`: 0 drops
    /// none, 1 drops all. A TCP proxy ignores it.
    ///
    /// # Errors
    ///
    /// [`ProbabilityError`] if `probability` is not a number from 0 to 1; the setting is then
    /// left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?).build()?;
    /// proxy.faults().set_drop_probability(0.25)?;
    /// assert_eq!(proxy.faults().drop_probability(), 0.25);
    /// assert!(proxy.faults().set_drop_probability(1.5).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_drop_probability(&self, probability: f64) -> Result<(), ProbabilityError> {
        let probability = check_probability(probability)?;
        self.shared
            .drop_probability
            .store(probability.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    /// The drop probability in force.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Udp, upstream.local_addr()?)
    ///     .drop_probability(0.5)
    ///     .build()?;
    /// assert_eq!(proxy.faults().drop_probability(), 0.5);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn drop_probability(&self) -> f64 {
        f64::from_bits(self.shared.drop_probability.load(Ordering::Relaxed))
    }

    /// Turns the blackhole on (everything discarded in both directions, connections kept
    /// open) or off.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?).build()?;
    /// proxy.faults().set_blackhole(true);
    /// assert!(proxy.faults().blackhole());
    /// proxy.faults().set_blackhole(false);
    /// assert!(!proxy.faults().blackhole());
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_blackhole(&self, on: bool) {
        self.shared.blackhole.store(on, Ordering::Relaxed);
    }

    /// Whether the blackhole is on.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_testkit::{FaultProxy, Protocol};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let upstream = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let proxy = FaultProxy::builder(Protocol::Tcp, upstream.local_addr()?)
    ///     .blackhole(true)
    ///     .build()?;
    /// assert!(proxy.faults().blackhole());
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn blackhole(&self) -> bool {
        self.shared.blackhole.load(Ordering::Relaxed)
    }

    /// Whether to drop the next datagram going `direction`: one draw from that direction's
    /// generator, unless the probability is 0 or 1 and the answer is known without one.
    pub(crate) fn drop_next(&self, direction: Direction) -> bool {
        let probability = self.drop_probability();
        if probability <= 0.0 {
            return false;
        }
        if probability >= 1.0 {
            return true;
        }
        self.shared.rng[direction.index()].lock().next_f64() < probability
    }
}

/// `probability` if it is a number from 0 to 1.
pub(crate) fn check_probability(probability: f64) -> Result<f64, ProbabilityError> {
    if (0.0..=1.0).contains(&probability) {
        Ok(probability)
    } else {
        Err(ProbabilityError { probability })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_probability_zero_and_one_are_never_and_always() {
        let faults = Faults::new(1);
        assert!((0..1000).all(|_| !faults.drop_next(Direction::ToUpstream)));
        faults.set_drop_probability(1.0).unwrap();
        assert!((0..1000).all(|_| faults.drop_next(Direction::ToClient)));
    }

    #[test]
    fn the_same_seed_drops_the_same_datagrams() {
        let pattern = |seed| {
            let faults = Faults::new(seed);
            faults.set_drop_probability(0.3).unwrap();
            (0..200)
                .map(|_| faults.drop_next(Direction::ToUpstream))
                .collect::<Vec<_>>()
        };
        assert_eq!(pattern(5), pattern(5));
        assert_ne!(pattern(5), pattern(6));
        let dropped = pattern(5).iter().filter(|d| **d).count();
        assert!((30..90).contains(&dropped), "{dropped} of 200 at 0.3");
    }

    #[test]
    fn the_directions_draw_from_generators_of_their_own() {
        let faults = Faults::new(9);
        faults.set_drop_probability(0.5).unwrap();
        let up: Vec<bool> = (0..64)
            .map(|_| faults.drop_next(Direction::ToUpstream))
            .collect();
        let down: Vec<bool> = (0..64)
            .map(|_| faults.drop_next(Direction::ToClient))
            .collect();
        assert_ne!(up, down);
    }

    #[test]
    fn a_probability_outside_the_unit_interval_is_refused_and_changes_nothing() {
        let faults = Faults::new(0);
        faults.set_drop_probability(0.5).unwrap();
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(faults.set_drop_probability(bad).is_err(), "{bad}");
        }
        assert_eq!(faults.drop_probability(), 0.5);
    }

    #[test]
    fn delays_are_per_direction_and_cut_to_the_maximum() {
        let faults = Faults::new(0);
        faults.set_delay_toward(Direction::ToClient, Duration::from_millis(5));
        assert_eq!(faults.delay(Direction::ToUpstream), Duration::ZERO);
        assert_eq!(faults.delay(Direction::ToClient), Duration::from_millis(5));
        faults.set_delay(Duration::MAX);
        assert_eq!(faults.delay(Direction::ToUpstream), MAX_DELAY);
    }
}
