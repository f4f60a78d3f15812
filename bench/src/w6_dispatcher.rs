//! W6 on the dispatcher: `n` idle actors (100,000 by default) on a [`Dispatcher`] of
//! [`THREADS`] threads, each counting its start like the thread-backed ones of
//! [`crate::w6_spawn`], whose measurement it shares.
//!
//! A dispatched actor's `started` hook runs on its first turn on the dispatcher's threads, so
//! `spawn` covers queueing every actor and running each hook. The dispatcher is built before
//! the first reading: its threads are a fixed cost, not a cost per actor. The figures are read
//! against W6's `std-thread` row, though the goals for this row are absolute (2 µs and 512
//! bytes per idle actor).

use actor_core::{ActorRef, System};
use actor_pool::Dispatcher;

use crate::error::BenchResult;
use crate::report::Sample;
use crate::w6_spawn::{self, StartCounter};

/// Default number of actors.
pub(crate) const N: u64 = 100_000;

/// Threads of the dispatcher.
const THREADS: usize = 2;

/// The framework: `n` idle actors spawned with [`Dispatcher::spawn`].
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let (counter, last) = StartCounter::new(n);
    let mut refs: Vec<ActorRef<()>> = Vec::with_capacity(usize::try_from(n)?);
    let system = System::new();
    let measured = match Dispatcher::new(&system, THREADS) {
        Ok(dispatcher) => {
            let measured =
                w6_spawn::spawn_actors(&counter, &last, &mut refs, |idle| dispatcher.spawn(idle));
            // On every path: stop every actor, wait for each to end, join the threads.
            dispatcher.shutdown();
            measured
        }
        Err(error) => Err(error.into()),
    };
    system.shutdown();
    drop(refs);
    let samples = measured?;
    counter.verify()?;
    Ok(samples)
}
