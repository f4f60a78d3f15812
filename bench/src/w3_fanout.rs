//! W3, pub/sub fan-out: one publisher thread publishes `n` values on an exchange with 8
//! subscriber actors attached; the baseline sends each value into 8 crossbeam channels.

use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use actor_core::System;
use crossbeam_channel::Sender;

use crate::error::{BenchError, BenchResult};
use crate::report::Sample;
use crate::summer::{self, Completion, Signals, Summer, Watch};
use crate::wait;

/// Default number of values published (each delivered to every subscriber).
pub(crate) const N: u64 = 1_000_000;

/// Subscribers per value.
pub(crate) const SUBSCRIBERS: usize = 8;

/// The framework: 8 [`Summer`] actors attached (as `ActorRef<u64>`) to one exchange.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let (signals, watch) = summer::signals();
    let system = System::new();
    let measured = publish_all(&system, n, signals, &watch);
    // On every path: a failed run still stops and joins its actors.
    system.shutdown();
    let elapsed = measured?;
    watch.ended(SUBSCRIBERS, n)?;
    Ok(vec![deliveries(n, elapsed)])
}

/// Spawns and attaches the subscribers, waits until they run, publishes `0..n`; returns
/// `t_end − t_start`.
fn publish_all(system: &System, n: u64, signals: Signals, watch: &Watch) -> BenchResult<Duration> {
    let exchange = system.exchange::<u64>("bench.fanout")?;
    for _ in 0..SUBSCRIBERS {
        let subscriber = system.spawn(Summer::new(n, signals.clone()))?;
        exchange.attach(subscriber);
    }
    // Only the subscribers hold the side channels now: if they all end, a wait fails at once.
    drop(signals);
    watch.started(SUBSCRIBERS)?;
    let t_start = Instant::now();
    for value in 0..n {
        let delivered = exchange.publish(value);
        if delivered != SUBSCRIBERS {
            return Err(BenchError::check(format!(
                "value {value} reached {delivered} of {SUBSCRIBERS} subscribers"
            )));
        }
    }
    let completions = watch.done(SUBSCRIBERS, n)?;
    Ok(latest(&completions)? - t_start)
}

/// The baseline: 8 consumer threads, each reading its own unbounded crossbeam channel.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let (signals, watch) = summer::signals();
    let mut senders = Vec::with_capacity(SUBSCRIBERS);
    let mut consumers: Vec<JoinHandle<()>> = Vec::with_capacity(SUBSCRIBERS);
    let mut spawned = Ok(());
    for i in 0..SUBSCRIBERS {
        let (tx, rx) = crossbeam_channel::unbounded();
        let signals = signals.clone();
        let consumer = thread::Builder::new()
            .name(format!("raw-subscriber-{i}"))
            .spawn(move || summer::consume(rx, n, signals));
        match consumer {
            Ok(consumer) => {
                senders.push(tx);
                consumers.push(consumer);
            }
            Err(error) => {
                spawned = Err(error);
                break;
            }
        }
    }
    drop(signals);
    let measured = match spawned {
        Ok(()) => send_all(&senders, n, &watch),
        Err(error) => Err(error.into()),
    };
    // On every path: closing the channels ends the consumers.
    drop(senders);
    wait::join_all(consumers, "a consumer thread")?;
    let elapsed = measured?;
    watch.ended(SUBSCRIBERS, n)?;
    Ok(vec![deliveries(n, elapsed)])
}

/// Waits until the consumers run, sends `0..n` into every channel; returns
/// `t_end − t_start`.
fn send_all(senders: &[Sender<u64>], n: u64, watch: &Watch) -> BenchResult<Duration> {
    watch.started(SUBSCRIBERS)?;
    let t_start = Instant::now();
    for value in 0..n {
        for tx in senders {
            tx.send(value)?;
        }
    }
    let completions = watch.done(SUBSCRIBERS, n)?;
    Ok(latest(&completions)? - t_start)
}

/// `t_end`: the latest of the subscribers' completion times.
fn latest(completions: &[Completion]) -> BenchResult<Instant> {
    let latest = completions.iter().map(|c| c.at).max();
    latest.ok_or_else(|| BenchError::check("no subscriber completed"))
}

fn deliveries(n: u64, elapsed: Duration) -> Sample {
    Sample::throughput(n * SUBSCRIBERS as u64, elapsed, "deliveries/s")
}
