//! W2, ask round trip: a client thread asks one actor `i` and gets `i + 1`, sequentially;
//! the baseline sends `i` through one crossbeam channel and reads `i + 1` from another.

use std::thread;
use std::time::Instant;

use actor_core::{Actor, Context, HandlerResult, Reply, System};
use crossbeam_channel::{Receiver, Sender};

use crate::error::{BenchError, BenchResult};
use crate::report::{self, Sample};
use crate::wait::{self, WAIT_LIMIT};

/// Default number of recorded requests.
pub(crate) const N: u64 = 100_000;

/// Requests before recording starts (fewer when `n` is smaller).
const WARM_UP: u64 = 1_000;

/// Answers `i` with `i + 1`.
#[derive(Debug)]
pub(crate) struct Incrementer;

impl Actor for Incrementer {
    type Msg = (u64, Reply<u64>);

    fn handle(&mut self, (i, reply): Self::Msg, _ctx: &mut Context<Self::Msg>) -> HandlerResult {
        reply.send(i + 1);
        Ok(())
    }
}

/// The framework: `ask` on an [`Incrementer`] with an unbounded mailbox.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let system = System::new();
    let measured = ask_all(&system, n);
    // On every path: a failed run still stops and joins its actor.
    system.shutdown();
    report::latency_samples(measured?)
}

fn ask_all(system: &System, n: u64) -> BenchResult<Vec<u64>> {
    let incrementer = system.spawn(Incrementer)?;
    record(n, |i| Ok(incrementer.ask(|reply| (i, reply), WAIT_LIMIT)?))
}

/// The baseline: a request channel and a reply channel, blocking `recv` on both sides.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let (request_tx, request_rx) = crossbeam_channel::unbounded::<u64>();
    let (reply_tx, reply_rx) = crossbeam_channel::unbounded::<u64>();
    let server = thread::Builder::new()
        .name("raw-incrementer".into())
        .spawn(move || serve(&request_rx, &reply_tx))?;
    let measured = record(n, |i| round_trip(&request_tx, &reply_rx, i));
    // On every path: closing the request channel ends the server.
    drop(request_tx);
    wait::join(server, "the server thread")?;
    report::latency_samples(measured?)
}

fn serve(requests: &Receiver<u64>, replies: &Sender<u64>) {
    for i in requests {
        if replies.send(i + 1).is_err() {
            break;
        }
    }
}

fn round_trip(requests: &Sender<u64>, replies: &Receiver<u64>, i: u64) -> BenchResult<u64> {
    requests.send(i)?;
    wait::recv(replies, "a reply")
}

/// Makes the warm-up requests, then `n` recorded ones; checks every answer and returns the
/// recorded latencies in nanoseconds.
fn record(n: u64, mut ask: impl FnMut(u64) -> BenchResult<u64>) -> BenchResult<Vec<u64>> {
    let warm_up = WARM_UP.min(n);
    let mut latencies = Vec::with_capacity(usize::try_from(n)?);
    for i in 0..warm_up + n {
        let start = Instant::now();
        let answer = ask(i)?;
        let elapsed = start.elapsed();
        if answer != i + 1 {
            return Err(BenchError::check(format!(
                "request {i} was answered {answer}"
            )));
        }
        if i >= warm_up {
            latencies.push(u64::try_from(elapsed.as_nanos())?);
        }
    }
    Ok(latencies)
}
