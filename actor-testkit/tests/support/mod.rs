//! What the proxy's TCP and UDP tests share: their time bounds, and waiting on the counters.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use actor_testkit::{FaultProxy, ProxyStats};

/// The bound on every wait.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// The delay under test, and how long a receive waits to show that nothing came early.
pub(crate) const DELAY: Duration = Duration::from_millis(800);
pub(crate) const EARLY: Duration = Duration::from_millis(100);
/// How long a receive waits to show that nothing comes (a blackhole keeps a side silent).
pub(crate) const SILENCE: Duration = Duration::from_millis(200);

/// Polls the proxy's counters until `done` holds, within `WAIT`. A counter is updated after
/// its write, so a peer may have what it counts before the counter does.
pub(crate) fn wait_for_stats(
    proxy: &FaultProxy,
    what: &str,
    done: impl Fn(&ProxyStats) -> bool,
) -> ProxyStats {
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = proxy.stats();
        if done(&stats) {
            return stats;
        }
        assert!(Instant::now() < deadline, "never {what}: {stats:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
