//! Where a connection or a datagram comes from, as the per-source limits count it, and
//! [`RefusalLog`]: how refusals of unauthenticated peers are logged without letting anyone
//! who can open a connection fill the disk.
//!
//! A [`Source`] is one IPv4 address, or one IPv6 /64 network: a single IPv6 host is
//! commonly given a whole /64, so counting its addresses one by one would let it hold 2^64
//! times the limit. An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`) counts as the IPv4
//! address.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The unit the per-source limits count: an IPv4 address or an IPv6 /64 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Source(IpAddr);

impl Source {
    /// The source that `ip` belongs to.
    pub(crate) fn of(ip: IpAddr) -> Source {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Source(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !u128::from(u64::MAX);
                Source(IpAddr::V6(Ipv6Addr::from(network)))
            }
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// How often, at most, a refusal of one source is logged at `info` level.
pub(crate) const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// How many sources a [`RefusalLog`] remembers; refusals of sources beyond them are counted
/// together.
const MAX_LOGGED_SOURCES: usize = 1024;

/// Logs refused connections of unauthenticated peers: every refusal at `debug` level, with
/// its details, and at most one line per source per [`REFUSAL_LOG_INTERVAL`] at `info`,
/// which counts the refusals of that source since its last line.
///
/// So the `info` log grows by at most one line per source per interval however fast a
/// source connects, and by at most one line per interval for all the sources beyond the
/// first [`MAX_LOGGED_SOURCES`] (forged or rotated addresses).
#[derive(Debug)]
pub(crate) struct RefusalLog {
    interval: Duration,
    sources: Mutex<Sources>,
}

#[derive(Debug, Default)]
struct Sources {
    known: HashMap<Source, Tally>,
    /// The sources that did not fit in `known`.
    others: Option<Tally>,
}

/// The refusals of a source since its last `info` line.
#[derive(Debug, Clone, Copy)]
struct Tally {
    logged_at: Instant,
    unlogged: u64,
}

impl Tally {
    /// Counts a refusal at `now`; returns how many refusals the `info` line to write now
    /// covers, or `None` when this one waits for a later line.
    fn count(&mut self, now: Instant, interval: Duration) -> Option<u64> {
        self.unlogged += 1;
        if now.saturating_duration_since(self.logged_at) < interval {
            return None;
        }
        let covered = self.unlogged;
        self.logged_at = now;
        self.unlogged = 0;
        Some(covered)
    }
}

impl Default for RefusalLog {
    fn default() -> Self {
        RefusalLog::new(REFUSAL_LOG_INTERVAL)
    }
}

impl RefusalLog {
    /// A log that writes at most one `info` line per source per `interval`.
    pub(crate) fn new(interval: Duration) -> RefusalLog {
        RefusalLog {
            interval,
            sources: Mutex::new(Sources::default()),
        }
    }

    /// Logs that a connection from `peer` to `place` (the node, or a service) was refused
    /// because of `reason`.
    pub(crate) fn refused(
        &self,
        peer: SocketAddr,
        place: &dyn fmt::Display,
        reason: &dyn fmt::Display,
    ) {
        tracing::debug!(%peer, %place, %reason, "connection refused");
        let source = Source::of(peer.ip());
        match self.count(source, Instant::now()) {
            Some((Some(source), 1)) => {
                tracing::info!(%source, %place, %reason, "connection refused")
            }
            Some((Some(source), refused)) => tracing::info!(
                %source,
                %place,
                refused,
                last_reason = %reason,
                "connections refused since the last report of this source"
            ),
            Some((None, refused)) => tracing::info!(
                refused,
                %place,
                last_reason = %reason,
                "connections refused from sources too many to list one by one"
            ),
            None => {}
        }
    }

    /// Counts a refusal of `source` at `now`; returns the source to report (`None` for the
    /// others) and the refusals the report covers, when a line is due.
    fn count(&self, source: Source, now: Instant) -> Option<(Option<Source>, u64)> {
        let interval = self.interval;
        let mut sources = self.sources.lock();
        if !sources.known.contains_key(&source) && sources.known.len() >= MAX_LOGGED_SOURCES {
            // Forget the sources whose last line is older than the interval and that have
            // been refused nothing since: a new line for them would start afresh anyway.
            sources.known.retain(|_, tally| {
                tally.unlogged > 0 || now.saturating_duration_since(tally.logged_at) < interval
            });
        }
        if let Some(tally) = sources.known.get_mut(&source) {
            return tally.count(now, interval).map(|n| (Some(source), n));
        }
        if sources.known.len() < MAX_LOGGED_SOURCES {
            sources.known.insert(
                source,
                Tally {
                    logged_at: now,
                    unlogged: 0,
                },
            );
            return Some((Some(source), 1));
        }
        match &mut sources.others {
            Some(tally) => tally.count(now, interval).map(|n| (None, n)),
            None => {
                sources.others = Some(Tally {
                    logged_at: now,
                    unlogged: 0,
                });
                Some((None, 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn v4(last: u8) -> Source {
        Source::of(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64_network_and_a_mapped_ipv4_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Source::of(a), Source::of(b));
        assert_ne!(Source::of(a), Source::of(c));
        assert_eq!(Source::of(a).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(Source::of(mapped), v4(7));
        assert_eq!(v4(7).to_string(), "10.0.0.7");
    }

    #[test]
    fn one_line_per_source_per_interval_counting_the_refusals_it_covers() {
        let log = RefusalLog::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(log.count(v4(1), start), Some((Some(v4(1)), 1)));
        for n in 1..100 {
            assert_eq!(log.count(v4(1), start + Duration::from_millis(n)), None);
        }
        // Another source has its own line.
        assert_eq!(log.count(v4(2), start), Some((Some(v4(2)), 1)));
        // After the interval, one line covers the 99 held back and this one.
        let later = start + Duration::from_secs(60);
        assert_eq!(log.count(v4(1), later), Some((Some(v4(1)), 100)));
        assert_eq!(log.count(v4(1), later), None);
    }

    #[test]
    fn sources_beyond_the_table_share_one_line() {
        let log = RefusalLog::new(Duration::from_secs(60));
        let now = Instant::now();
        let many = (0..MAX_LOGGED_SOURCES).map(|n| {
            Source::of(IpAddr::V4(Ipv4Addr::from(
                0x0a00_0000 + u32::try_from(n).unwrap(),
            )))
        });
        for source in many {
            assert_eq!(log.count(source, now), Some((Some(source), 1)));
        }
        let stranger = Source::of(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(log.count(stranger, now), Some((None, 1)));
        let another = Source::of(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(log.count(another, now), None);
        // Once the interval has passed, quiet sources are forgotten and new ones get lines.
        let later = now + Duration::from_secs(61);
        assert_eq!(log.count(stranger, later), Some((Some(stranger), 1)));
        assert_eq!(log.sources.lock().known.len(), 1);
    }
}
