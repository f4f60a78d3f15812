//! [`Tally`]: the sum and count a receiver keeps, and the exactly-once check on them.

use serde::{Deserialize, Serialize};

use crate::error::{BenchError, BenchResult};

/// The running sum and count of the `u64` values a receiver has seen.
///
/// A sender sends each of `0..n` once; the receiver's tally must then be `n` values summing
/// to `n·(n−1)/2`. The sum wraps, on both sides alike, so any `n` can be checked. A remote
/// receiver (W4) sends its tally back to the sender, hence serde.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tally {
    /// Values seen.
    pub(crate) count: u64,
    /// Their sum, modulo 2^64.
    pub(crate) sum: u64,
}

impl Tally {
    /// Counts one value.
    #[inline]
    pub(crate) fn add(&mut self, value: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(value);
    }

    /// The tally of each of `0..n` seen exactly once.
    pub(crate) fn expected(n: u64) -> Tally {
        let sum = u128::from(n) * u128::from(n.saturating_sub(1)) / 2;
        Tally {
            count: n,
            // Wraps like `add` does.
            sum: sum as u64,
        }
    }

    /// Fails the run unless this is the tally of each of `0..n` seen exactly once; `who`
    /// names the receiver in the error.
    pub(crate) fn verify(self, n: u64, who: &str) -> BenchResult<()> {
        let expected = Tally::expected(n);
        if self == expected {
            Ok(())
        } else {
            Err(BenchError::check(format!(
                "{who} saw {} values summing to {}, expected {} summing to {}",
                self.count, self.sum, expected.count, expected.sum
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_once_passes() {
        let mut tally = Tally::default();
        (0..1000).for_each(|v| tally.add(v));
        assert!(tally.verify(1000, "test").is_ok());
    }

    #[test]
    fn a_duplicate_or_a_loss_fails() {
        let mut duplicate = Tally::default();
        [0, 1, 1].into_iter().for_each(|v| duplicate.add(v));
        assert!(duplicate.verify(3, "test").is_err());
        let mut lost = Tally::default();
        [0, 2].into_iter().for_each(|v| lost.add(v));
        assert!(lost.verify(3, "test").is_err());
    }

    #[test]
    fn the_expected_sum_wraps_like_the_tally() {
        assert_eq!(Tally::expected(5_000_000).sum, 12_499_997_500_000);
        assert_eq!(Tally::expected(1).sum, 0);
        let n = 1_u64 << 33;
        let wrapped = (u128::from(n) * u128::from(n - 1) / 2) as u64;
        assert_eq!(Tally::expected(n).sum, wrapped);
    }
}
