//! [`Incrementer`]: the actor that W5 asks and W9 floods, exported on a framework node by a
//! serving process ([`serve`]).

use actor_core::{Actor, Context, HandlerResult, Reply, System};
use actor_net::RemoteMessage;
use serde::{Deserialize, Serialize};

use crate::error::BenchResult;
use crate::server;

/// The name the serving process exports the incrementer under.
pub(crate) const EXPORT: &str = "incrementer";

/// A request for `i + 1`: encoded as the tuple `(u64, Reply<u64>)` that W2 asks locally
/// (bincode writes a tuple struct's fields alone, and a `Reply` as its reply id), with the
/// declared name a remote lookup needs.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Increment(pub(crate) u64, pub(crate) Reply<u64>);

impl RemoteMessage for Increment {
    const NAME: &'static str = "actor-bench.increment";
}

/// Answers `Increment(i)` with `i + 1`: W2's incrementer, for remote askers.
#[derive(Debug)]
pub(crate) struct Incrementer;

impl Actor for Incrementer {
    type Msg = Increment;

    fn handle(
        &mut self,
        Increment(i, reply): Increment,
        _: &mut Context<Increment>,
    ) -> HandlerResult {
        reply.send(i + 1);
        Ok(())
    }
}

/// The serving process: an [`Incrementer`] exported as [`EXPORT`] on a node with the
/// default settings, until the measuring process is done.
pub(crate) fn serve(_n: u64) -> BenchResult<()> {
    let system = System::new();
    let served = (|| {
        let incrementer = system.spawn(Incrementer)?;
        server::export_until_stdin_closes(EXPORT, &incrementer)
    })();
    // On every path: the actor is stopped and joined before the process reports.
    system.shutdown();
    served
}
