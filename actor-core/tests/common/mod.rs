//! What several test files share: an actor that sums what it is told, and can be made to
//! panic.

use actor_core::{Actor, Context, HandlerResult, Reply};

/// What [`Summer`] takes.
pub(crate) enum Msg {
    Add(u64),
    Panic,
    Sum(Reply<u64>),
}

/// Sums the numbers it is told; answers the sum; panics on `Msg::Panic`.
#[derive(Default)]
pub(crate) struct Summer(pub(crate) u64);

impl Actor for Summer {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Add(n) => self.0 += n,
            Msg::Panic => panic!("summer panicked"),
            Msg::Sum(reply) => reply.send(self.0),
        }
        Ok(())
    }
}
