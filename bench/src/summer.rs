//! [`Summer`]: the receiving end of the throughput workloads (W1, W3), as an actor and as a
//! plain consumer thread ([`consume`]) doing the same work, and the [`Signals`] both report
//! through.

use std::time::Instant;

use actor_core::{Actor, Context, HandlerResult};
use crossbeam_channel::{Receiver, Sender};

use crate::error::BenchResult;
use crate::tally::Tally;
use crate::wait;

/// What a receiver reports on its `n`-th value: its tally then, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Completion {
    /// The tally on the `n`-th value.
    pub(crate) tally: Tally,
    /// `t_end` of the workload, taken by the receiver itself.
    pub(crate) at: Instant,
}

/// The side channels a receiver reports through: started, completed, ended (with its final
/// tally, so that a value arriving after the `n`-th is caught too).
#[derive(Debug, Clone)]
pub(crate) struct Signals {
    started: Sender<()>,
    done: Sender<Completion>,
    ended: Sender<Tally>,
}

/// The measuring thread's end of [`Signals`].
#[derive(Debug)]
pub(crate) struct Watch {
    started: Receiver<()>,
    done: Receiver<Completion>,
    ended: Receiver<Tally>,
}

/// Side channels for any number of receivers.
pub(crate) fn signals() -> (Signals, Watch) {
    let (started_tx, started) = crossbeam_channel::unbounded();
    let (done_tx, done) = crossbeam_channel::unbounded();
    let (ended_tx, ended) = crossbeam_channel::unbounded();
    let signals = Signals {
        started: started_tx,
        done: done_tx,
        ended: ended_tx,
    };
    (
        signals,
        Watch {
            started,
            done,
            ended,
        },
    )
}

// A receiver ignores a send error on the side channels: it only means the measuring thread
// has already given up on a failed run.
impl Signals {
    fn started(&self) {
        let _ = self.started.send(());
    }

    fn done(&self, tally: Tally) {
        let at = Instant::now();
        let _ = self.done.send(Completion { tally, at });
    }

    fn ended(&self, tally: Tally) {
        let _ = self.ended.send(tally);
    }
}

impl Watch {
    /// Waits until `receivers` receivers are running.
    pub(crate) fn started(&self, receivers: usize) -> BenchResult<()> {
        wait::recv_all(&self.started, receivers, "the receivers to start").map(drop)
    }

    /// Waits for the completions of `receivers` receivers and checks each tally against
    /// `0..n`.
    pub(crate) fn done(&self, receivers: usize, n: u64) -> BenchResult<Vec<Completion>> {
        let completions = wait::recv_all(&self.done, receivers, "the n-th value to arrive")?;
        for completion in &completions {
            completion
                .tally
                .verify(n, "a receiver, on its n-th value,")?;
        }
        Ok(completions)
    }

    /// Waits for the final tallies of `receivers` ended receivers and checks each against
    /// `0..n`: nothing arrived after the `n`-th value.
    pub(crate) fn ended(&self, receivers: usize, n: u64) -> BenchResult<()> {
        for tally in wait::recv_all(&self.ended, receivers, "the receivers to end")? {
            tally.verify(n, "a receiver, when it ended,")?;
        }
        Ok(())
    }
}

/// An actor that sums and counts `u64` values and reports its `n`-th.
#[derive(Debug)]
pub(crate) struct Summer {
    n: u64,
    tally: Tally,
    signals: Signals,
}

impl Summer {
    /// A summer expecting `n` values.
    pub(crate) fn new(n: u64, signals: Signals) -> Summer {
        Summer {
            n,
            tally: Tally::default(),
            signals,
        }
    }
}

impl Actor for Summer {
    type Msg = u64;

    fn started(&mut self, _ctx: &mut Context<u64>) -> HandlerResult {
        self.signals.started();
        Ok(())
    }

    #[inline]
    fn handle(&mut self, value: u64, _ctx: &mut Context<u64>) -> HandlerResult {
        self.tally.add(value);
        if self.tally.count == self.n {
            self.signals.done(self.tally);
        }
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<u64>) {
        self.signals.ended(self.tally);
    }
}

/// The raw baseline of [`Summer`]: the same work on a plain thread reading a channel until
/// every sender is gone.
pub(crate) fn consume(rx: Receiver<u64>, n: u64, signals: Signals) {
    signals.started();
    let mut tally = Tally::default();
    for value in rx {
        tally.add(value);
        if tally.count == n {
            signals.done(tally);
        }
    }
    signals.ended(tally);
}
