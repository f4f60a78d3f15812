//! W6, spawn cost and memory: `n` idle thread-backed actors whose `started` hook counts
//! itself; the baseline spawns `n` plain threads blocked in `recv`.
//!
//! `spawn` is the time from just before the first spawn until the `n`-th start, per actor;
//! `rss` is the growth of the resident set over the same span, per actor. The spawner keeps
//! every ref (or channel) alive until both are taken, and its containers are sized before
//! the first reading so that their growth is not counted.
//!
//! The counting actor and the measurement are shared with the dispatcher variant
//! ([`crate::w6_dispatcher`]), which differs only in where the actors run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use actor_core::{Actor, ActorRef, Context, HandlerResult, SpawnError, System};
use crossbeam_channel::{Receiver, Sender};

use crate::error::{BenchError, BenchResult};
use crate::report::Sample;
use crate::rss;
use crate::wait;

/// Default number of actors (threads).
pub(crate) const N: u64 = 10_000;

/// Counts starts; the `n`-th start records `t_end`.
#[derive(Debug, Clone)]
pub(crate) struct StartCounter {
    n: u64,
    started: Arc<AtomicU64>,
    last: Sender<Instant>,
}

impl StartCounter {
    /// A counter for `n` starts, and where the `n`-th start sends its time.
    pub(crate) fn new(n: u64) -> (StartCounter, Receiver<Instant>) {
        let (last, last_rx) = crossbeam_channel::bounded(1);
        let counter = StartCounter {
            n,
            started: Arc::new(AtomicU64::new(0)),
            last,
        };
        (counter, last_rx)
    }

    fn count(&self) {
        // The read-modify-write alone decides which start is the n-th; nothing else is
        // published through the counter, so `Relaxed` is enough.
        if self.started.fetch_add(1, Ordering::Relaxed) + 1 == self.n {
            let _ = self.last.send(Instant::now());
        }
    }

    /// Fails unless exactly `n` starts were counted.
    pub(crate) fn verify(&self) -> BenchResult<()> {
        let started = self.started.load(Ordering::Relaxed);
        if started == self.n {
            Ok(())
        } else {
            Err(BenchError::check(format!(
                "{started} starts counted for {} spawns",
                self.n
            )))
        }
    }
}

/// An actor that does nothing but count its start.
#[derive(Debug)]
pub(crate) struct Idle(StartCounter);

impl Actor for Idle {
    type Msg = ();

    fn started(&mut self, _ctx: &mut Context<()>) -> HandlerResult {
        self.0.count();
        Ok(())
    }

    fn handle(&mut self, _msg: (), _ctx: &mut Context<()>) -> HandlerResult {
        Ok(())
    }
}

/// The framework: `n` [`Idle`] actors, each on its own thread, default mailbox.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let (counter, last) = StartCounter::new(n);
    let mut refs: Vec<ActorRef<()>> = Vec::with_capacity(usize::try_from(n)?);
    let system = System::new();
    let measured = spawn_actors(&counter, &last, &mut refs, |idle| system.spawn(idle));
    // On every path: stop and join every actor spawned.
    system.shutdown();
    drop(refs);
    let samples = measured?;
    counter.verify()?;
    Ok(samples)
}

/// Spawns `counter.n` [`Idle`] actors through `spawn`, keeping their refs in `refs` (sized
/// for them already), and takes `spawn` and `rss` once the last one has started. The caller
/// shuts the actors down and drops the refs, whatever this returns.
pub(crate) fn spawn_actors(
    counter: &StartCounter,
    last: &Receiver<Instant>,
    refs: &mut Vec<ActorRef<()>>,
    mut spawn: impl FnMut(Idle) -> Result<ActorRef<()>, SpawnError>,
) -> BenchResult<Vec<Sample>> {
    let rss_before = rss::vm_rss_bytes()?;
    let t_start = Instant::now();
    for _ in 0..counter.n {
        refs.push(spawn(Idle(counter.clone()))?);
    }
    let t_end = wait::recv(last, "the n-th actor to start")?;
    let rss_after = rss::vm_rss_bytes()?;
    Ok(figures(counter.n, t_end - t_start, rss_before, rss_after))
}

/// The baseline: `n` threads from `std::thread::spawn` (through its `Builder`, to get the
/// error instead of a panic), each counting its start and then blocked in `recv` on a
/// channel of its own.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let (counter, last) = StartCounter::new(n);
    let capacity = usize::try_from(n)?;
    let mut idle = IdleThreads {
        senders: Vec::with_capacity(capacity),
        threads: Vec::with_capacity(capacity),
    };
    let measured = spawn_threads(&counter, &last, &mut idle);
    // On every path: closing the channels ends the threads.
    drop(idle.senders);
    wait::join_all(idle.threads, "an idle thread")?;
    let samples = measured?;
    counter.verify()?;
    Ok(samples)
}

/// The raw threads and the channels that keep them blocked.
#[derive(Debug)]
struct IdleThreads {
    senders: Vec<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

fn spawn_threads(
    counter: &StartCounter,
    last: &Receiver<Instant>,
    idle: &mut IdleThreads,
) -> BenchResult<Vec<Sample>> {
    let rss_before = rss::vm_rss_bytes()?;
    let t_start = Instant::now();
    for _ in 0..counter.n {
        let (tx, rx) = crossbeam_channel::unbounded::<()>();
        let counter = counter.clone();
        let thread = thread::Builder::new().spawn(move || {
            counter.count();
            while rx.recv().is_ok() {}
        })?;
        idle.senders.push(tx);
        idle.threads.push(thread);
    }
    let t_end = wait::recv(last, "the n-th thread to start")?;
    let rss_after = rss::vm_rss_bytes()?;
    Ok(figures(counter.n, t_end - t_start, rss_before, rss_after))
}

/// `spawn` and `rss` of `n` actors (threads) started in `elapsed`.
fn figures(n: u64, elapsed: Duration, rss_before: u64, rss_after: u64) -> Vec<Sample> {
    let per_actor_us = elapsed.as_secs_f64() * 1e6 / n as f64;
    // Signed: the resident set may shrink while it is measured.
    let grown = rss_after as f64 - rss_before as f64;
    vec![
        Sample::new("spawn", per_actor_us, "us/actor"),
        Sample::new("rss", grown / n as f64, "bytes/actor"),
    ]
}
