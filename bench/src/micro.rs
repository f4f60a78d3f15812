//! Micro-costs: the price of one operation on a hot path, framework and raw.
//!
//! Each is timed over `n` operations after a short warm-up, on one thread, and reported per
//! operation. Pool submit costs (thread pool, process pool) join here as more modules.

pub(crate) mod codec;
pub(crate) mod hmac;
pub(crate) mod worker;

/// Operations before timing starts (fewer when `n` is smaller).
fn warm_up(n: u64) -> u64 {
    n.min(10_000)
}
