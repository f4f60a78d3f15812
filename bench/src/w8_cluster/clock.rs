//! [`now_ns`]: the clock every process of W8 reads, so that a member's time stamps and the
//! measuring process's readings can be subtracted from each other.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};

use crate::error::BenchResult;

/// Nanoseconds on `CLOCK_MONOTONIC`, one clock for every process on the machine. (std's
/// `Instant` reads the same clock on Linux, but cannot hand its value to another process.)
pub(super) fn now_ns() -> BenchResult<u64> {
    let now: Duration = clock_gettime(ClockId::CLOCK_MONOTONIC)?.into();
    Ok(u64::try_from(now.as_nanos())?)
}

/// The seconds from `from_ns` to `to_ns`, two readings of [`now_ns`]; negative if `to_ns` is
/// the earlier one.
pub(super) fn seconds_between(from_ns: u64, to_ns: u64) -> f64 {
    (to_ns as f64 - from_ns as f64) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_does_not_go_back() {
        let first = now_ns().unwrap();
        let second = now_ns().unwrap();
        assert!(second >= first);
        assert!(seconds_between(first, second) >= 0.0);
    }

    #[test]
    fn seconds_between_two_readings() {
        assert_eq!(seconds_between(1_000_000_000, 3_500_000_000), 2.5);
        assert_eq!(seconds_between(2_000_000_000, 1_000_000_000), -1.0);
    }
}
