//! W1, tell throughput: one sender thread tells `n` values to one actor, fire and forget;
//! the baseline sends them through one crossbeam channel to a consumer thread.

use std::thread;
use std::time::{Duration, Instant};

use actor_core::{Mailbox, Overflow, System};
use crossbeam_channel::{Receiver, Sender};

use crate::error::BenchResult;
use crate::report::Sample;
use crate::summer::{self, Signals, Summer, Watch};
use crate::wait;

/// Default number of values.
pub(crate) const N: u64 = 5_000_000;

/// Capacity of the bounded variants (sending blocks when full).
pub(crate) const CAPACITY: usize = 1024;

/// The framework: values told to a [`Summer`] with an unbounded mailbox.
pub(crate) fn actor_unbounded(n: u64) -> BenchResult<Vec<Sample>> {
    actor(n, Mailbox::Unbounded)
}

/// The framework: values told to a [`Summer`] with a bounded, blocking mailbox.
pub(crate) fn actor_bounded(n: u64) -> BenchResult<Vec<Sample>> {
    actor(n, Mailbox::bounded(CAPACITY, Overflow::Block))
}

/// The baseline: an unbounded crossbeam channel to a consumer thread.
pub(crate) fn raw_unbounded(n: u64) -> BenchResult<Vec<Sample>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    raw(n, tx, rx)
}

/// The baseline: a bounded crossbeam channel (blocking send) to a consumer thread.
pub(crate) fn raw_bounded(n: u64) -> BenchResult<Vec<Sample>> {
    let (tx, rx) = crossbeam_channel::bounded(CAPACITY);
    raw(n, tx, rx)
}

fn actor(n: u64, mailbox: Mailbox) -> BenchResult<Vec<Sample>> {
    let (signals, watch) = summer::signals();
    let system = System::new();
    let measured = tell_all(&system, mailbox, n, signals, &watch);
    // On every path: a failed run still stops and joins its actor.
    system.shutdown();
    let elapsed = measured?;
    watch.ended(1, n)?;
    Ok(vec![Sample::throughput(n, elapsed, "msgs/s")])
}

/// Spawns the summer, waits until it runs, tells it `0..n`; returns `t_end − t_start`.
fn tell_all(
    system: &System,
    mailbox: Mailbox,
    n: u64,
    signals: Signals,
    watch: &Watch,
) -> BenchResult<Duration> {
    let summer = system
        .actor_from(Summer::new(n, signals))
        .mailbox(mailbox)
        .spawn()?;
    watch.started(1)?;
    let t_start = Instant::now();
    for value in 0..n {
        summer.tell(value)?;
    }
    let t_end = watch.done(1, n)?[0].at;
    Ok(t_end - t_start)
}

fn raw(n: u64, tx: Sender<u64>, rx: Receiver<u64>) -> BenchResult<Vec<Sample>> {
    let (signals, watch) = summer::signals();
    let consumer = thread::Builder::new()
        .name("raw-consumer".into())
        .spawn(move || summer::consume(rx, n, signals))?;
    let measured = send_all(&tx, n, &watch);
    // On every path: closing the channel ends the consumer.
    drop(tx);
    wait::join(consumer, "the consumer thread")?;
    let elapsed = measured?;
    watch.ended(1, n)?;
    Ok(vec![Sample::throughput(n, elapsed, "msgs/s")])
}

/// Waits until the consumer runs, sends it `0..n`; returns `t_end − t_start`.
fn send_all(tx: &Sender<u64>, n: u64, watch: &Watch) -> BenchResult<Duration> {
    watch.started(1)?;
    let t_start = Instant::now();
    for value in 0..n {
        tx.send(value)?;
    }
    let t_end = watch.done(1, n)?[0].at;
    Ok(t_end - t_start)
}
