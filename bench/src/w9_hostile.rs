//! W9, a hostile peer: process B (a [`Peer`]) exports the
//! [`Incrementer`](crate::incrementer::Incrementer) on a node at its default settings; from
//! process A, a peer that holds the key floods it with asks on one connection and never
//! reads the answers ([`Flooder`]), for `n` milliseconds (10 s by default), while an honest
//! client asks it on a connection of its own. Figures:
//!
//! - `rss-growth` (bytes): B's peak resident memory during the window (sampled every
//!   [`RSS_EVERY`] from `/proc/<pid>/status`) minus its resident memory just before it, after
//!   the honest client's warm-up and before the flooder connects (its connection is part of
//!   what it makes the node hold).
//! - `mean`, `p50`, `p99` (µs): the honest client's asks during the window, each a remote ask
//!   through a framework node at its default settings, one every [`HONEST_PAUSE`] or so (an
//!   honest client does not flood), after [`WARM_UP`] unrecorded ones.
//!
//! Two variants, each a run of its own: `flood`, and `quiet`, the same run without the
//! flooder: the honest client's figures with no flood, which the flood's are read against
//! (the framework against itself: W9 has no raw baseline).
//!
//! The flood's length is the run's `n`, so that the smoke test can make it short.

mod flooder;

use std::thread;
use std::time::{Duration, Instant};

use actor_net::Node;
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::{BenchError, BenchResult};
use crate::incrementer::{self, Increment};
use crate::peer::Peer;
use crate::report::{self, Sample};
use crate::rss;
use crate::wait::{self, WAIT_LIMIT};
use flooder::Flooder;

/// Default length of the window, in milliseconds: the flood's, and the honest client's asks.
pub(crate) const N: u64 = 10_000;

const WORKLOAD: &str = "W9";

/// The honest client's asks before the window, not recorded.
const WARM_UP: u64 = 200;

/// The honest client's pause between two asks.
const HONEST_PAUSE: Duration = Duration::from_millis(1);

/// How often B's resident memory is sampled.
const RSS_EVERY: Duration = Duration::from_millis(10);

/// The honest client while a peer floods the node.
pub(crate) fn flood(n: u64) -> BenchResult<Vec<Sample>> {
    run(n, "flood", true)
}

/// The honest client alone.
pub(crate) fn quiet(n: u64) -> BenchResult<Vec<Sample>> {
    run(n, "quiet", false)
}

fn run(n: u64, variant: &str, hostile: bool) -> BenchResult<Vec<Sample>> {
    let window = Duration::from_millis(n);
    let peer = Peer::start(WORKLOAD, variant, n)?;
    let measured = measure(&peer, window, hostile);
    let finished = peer.finish();
    let (latencies, growth) = measured?;
    finished?;
    let mut samples = vec![Sample::new("rss-growth", growth as f64, "bytes")];
    samples.extend(report::latency_samples(latencies)?);
    Ok(samples)
}

/// The honest client's warm-up, then the window (with the flooder, if `hostile`); returns
/// the latencies of the asks made in the window, in ns, and B's resident memory growth. The
/// honest client's node is shut down on return, on every path.
fn measure(peer: &Peer, window: Duration, hostile: bool) -> BenchResult<(Vec<u64>, u64)> {
    let node = Node::builder(peer.key().secret()?)
        .name("actor-bench-honest")
        .build()?;
    let measured = (|| {
        let remote = node.lookup::<Increment>(peer.addr(), incrementer::EXPORT)?;
        let ask = |i: u64| -> BenchResult<()> {
            let answer = remote.ask(|reply| Increment(i, reply), WAIT_LIMIT)?;
            if answer == i + 1 {
                Ok(())
            } else {
                Err(BenchError::check(format!(
                    "request {i} was answered {answer}"
                )))
            }
        };
        for i in 0..WARM_UP {
            ask(i)?;
        }
        let before = rss::vm_rss_bytes_of(peer.pid())?;
        let flooder = hostile
            .then(|| Flooder::connect(peer.addr(), peer.key()))
            .transpose()?;
        thread::scope(|scope| {
            let until = Instant::now() + window;
            let flooding = flooder.map(|flooder| {
                thread::Builder::new()
                    .name("flooder".into())
                    .spawn_scoped(scope, move || flooder.flood(until))
            });
            let flooding = flooding.transpose()?;
            // Dropping the sender stops the sampler, on every path.
            let (stop_sampling, stop) = crossbeam_channel::bounded::<()>(0);
            let pid = peer.pid();
            let sampling = thread::Builder::new()
                .name("rss-sampler".into())
                .spawn_scoped(scope, move || peak_rss(pid, &stop))?;

            let mut latencies = Vec::new();
            let mut i = WARM_UP;
            let asked = loop {
                let start = Instant::now();
                if start >= until {
                    break Ok(());
                }
                if let Err(error) = ask(i) {
                    break Err(error);
                }
                latencies.push(u64::try_from(start.elapsed().as_nanos())?);
                i += 1;
                thread::sleep(HONEST_PAUSE);
            };

            drop(stop_sampling);
            let peak = wait::join_scoped(sampling, "the RSS sampler")?;
            let flooded = flooding
                .map(|flooding| wait::join_scoped(flooding, "the flooder"))
                .transpose()?;
            asked?;
            if let Some(asks) = flooded.transpose()?
                && asks == 0
            {
                return Err(BenchError::check("the flooder wrote no ask"));
            }
            Ok((latencies, peak?.saturating_sub(before)))
        })
    })();
    node.shutdown();
    measured
}

/// The largest of the resident memory samples of process `pid`, taken every [`RSS_EVERY`]
/// until `stop` disconnects.
fn peak_rss(pid: u32, stop: &Receiver<()>) -> BenchResult<u64> {
    let mut peak = 0;
    loop {
        peak = peak.max(rss::vm_rss_bytes_of(pid)?);
        match stop.recv_timeout(RSS_EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return Ok(peak),
        }
    }
}
