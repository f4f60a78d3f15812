//! [`RateLimit`] and [`SourceBuckets`]: how many datagrams a UDP server answers per source
//! address.
//!
//! Each source (an IPv4 address or an IPv6 /64, see `source.rs`) has a token bucket: it
//! holds at most `burst` tokens, gains `per_second` tokens a second, and each answered datagram takes one; a datagram that finds
//! the bucket empty is ignored. Dropping a single datagram ends any exchange two answering
//! services were set into, so a loop dies within about `burst` round trips.
//!
//! The table holds at most `max_sources` addresses. When it is full, buckets that have
//! refilled (their source has been quiet long enough to be forgotten at no cost) are
//! removed; if none has, a datagram from a new source is ignored, so that a flood of forged
//! source addresses costs a bounded amount of memory.
//!
//! The table belongs to one receive thread: no sharing, no locks.

use crate::source::Source;
use std::collections::HashMap;
use std::time::Instant;

/// The per-source limit of a UDP server; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    /// The most datagrams answered at once to one source.
    pub(crate) burst: u32,
    /// Datagrams a second answered to one source over time.
    pub(crate) per_second: u32,
    /// The most source addresses remembered.
    pub(crate) max_sources: usize,
}

/// The buckets of the sources a server has heard from.
#[derive(Debug)]
pub(crate) struct SourceBuckets {
    limit: RateLimit,
    buckets: HashMap<Source, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// The bucket refilled up to `now`.
    fn refill(&mut self, limit: RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * f64::from(limit.per_second)).min(f64::from(limit.burst));
        self.updated = now;
    }
}

impl SourceBuckets {
    /// An empty table for `limit`.
    pub(crate) fn new(limit: RateLimit) -> SourceBuckets {
        SourceBuckets {
            limit,
            buckets: HashMap::new(),
        }
    }

    /// Whether a datagram from `source`, arrived at `now`, may be answered; takes a token
    /// if so.
    pub(crate) fn admit(&mut self, source: Source, now: Instant) -> bool {
        let limit = self.limit;
        if limit.burst == 0 {
            return false;
        }
        if !self.buckets.contains_key(&source) && self.buckets.len() >= limit.max_sources {
            self.buckets.retain(|_, bucket| {
                bucket.refill(limit, now);
                bucket.tokens < f64::from(limit.burst)
            });
            if self.buckets.len() >= limit.max_sources {
                return false;
            }
        }
        let bucket = self.buckets.entry(source).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            updated: now,
        });
        bucket.refill(limit, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    use super::*;

    const LIMIT: RateLimit = RateLimit {
        burst: 4,
        per_second: 2,
        max_sources: 2,
    };

    fn ip(last: u8) -> Source {
        Source::of(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
    }

    #[test]
    fn a_source_gets_its_burst_then_its_rate() {
        let mut table = SourceBuckets::new(LIMIT);
        let start = Instant::now();
        let admitted = (0..10).filter(|_| table.admit(ip(1), start)).count();
        assert_eq!(admitted, 4);
        assert!(!table.admit(ip(1), start + Duration::from_millis(400)));
        assert!(table.admit(ip(1), start + Duration::from_millis(500)));
        // Another source has a bucket of its own.
        assert!(table.admit(ip(2), start));
    }

    #[test]
    fn a_full_table_forgets_refilled_sources_and_refuses_new_ones_otherwise() {
        let mut table = SourceBuckets::new(LIMIT);
        let start = Instant::now();
        assert!(table.admit(ip(1), start));
        assert!(table.admit(ip(2), start));
        assert!(!table.admit(ip(3), start));
        // Two seconds later both buckets are full again and can be forgotten.
        assert!(table.admit(ip(3), start + Duration::from_secs(2)));
    }
}
