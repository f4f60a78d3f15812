//! [`Task`]: a call of a process pool, from its submission to its answer.

use std::any::type_name;
use std::sync::Arc;

use actor_core::codec::{Bincode, Codec};
use actor_core::{ErrorChain, Reply, ReplyError};
use serde::de::DeserializeOwned;

use super::protocol::Outcome;

/// A call waiting for a worker, or running on one.
pub(crate) struct Task {
    pub(crate) id: u64,
    pub(crate) function: Arc<str>,
    pub(crate) argument: Vec<u8>,
    deliver: Deliver,
}

/// Decodes a worker's answer and completes the caller's `Pending`. Dropping it unused fails
/// the `Pending` with `ReplyError::Dropped`.
type Deliver = Box<dyn FnOnce(Result<&[u8], ReplyError>) + Send>;

impl Task {
    /// A call of `function` on the encoded `argument`, whose result, decoded as an `R`, goes
    /// to `reply`.
    pub(crate) fn new<R>(id: u64, function: Arc<str>, argument: Vec<u8>, reply: Reply<R>) -> Task
    where
        R: DeserializeOwned + Send + 'static,
    {
        Task {
            id,
            function,
            argument,
            deliver: Box::new(move |result| deliver(reply, result)),
        }
    }

    /// Fails the task with `error`.
    pub(crate) fn fail(self, error: ReplyError) {
        (self.deliver)(Err(error));
    }

    /// Completes the task with the answer of worker number `worker`.
    pub(crate) fn finish(self, worker: usize, outcome: Outcome, result: &[u8]) {
        let name = &self.function;
        let result = match outcome {
            Outcome::Returned => Ok(result),
            Outcome::Panicked(message) => Err(ReplyError::Panicked(message)),
            Outcome::UnknownFunction => Err(ReplyError::Remote(format!(
                "worker {worker} has no function named {name:?} \
                 (does it run another program than the pool's registry came from?)"
            ))),
            Outcome::BadArgument(why) => Err(ReplyError::Remote(format!(
                "worker {worker} could not decode the argument of {name:?}: {why}"
            ))),
            Outcome::BadResult(why) => Err(ReplyError::Remote(format!(
                "worker {worker} could not encode the result of {name:?}: {why}"
            ))),
        };
        (self.deliver)(result);
    }
}

/// Decodes a worker's answer as an `R` and completes `reply` with it.
fn deliver<R: DeserializeOwned>(reply: Reply<R>, result: Result<&[u8], ReplyError>) {
    let decoded = result.and_then(|bytes| {
        Bincode::new().decode::<R>(bytes).map_err(|error| {
            ReplyError::Remote(format!(
                "the result does not decode as {}: {}",
                type_name::<R>(),
                ErrorChain(&error)
            ))
        })
    });
    match decoded {
        Ok(value) => reply.send(value),
        Err(error) => reply.fail(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task<R: DeserializeOwned + Send + 'static>(reply: Reply<R>) -> Task {
        Task::new(0, Arc::from("f"), Vec::new(), reply)
    }

    #[test]
    fn a_task_dropped_unrun_fails_its_pending() {
        let (reply, pending) = Reply::<u8>::pair();
        drop(task(reply));
        assert_eq!(pending.wait(), Err(ReplyError::Dropped));
    }

    #[test]
    fn a_result_of_the_wrong_type_is_a_remote_error() {
        let (reply, pending) = Reply::<String>::pair();
        // 251 announces a two-byte length that never comes.
        deliver(reply, Ok(&[251]));
        assert!(matches!(pending.wait(), Err(ReplyError::Remote(_))));
    }

    #[test]
    fn outcomes_map_to_reply_errors() {
        let finish = |outcome| {
            let (reply, pending) = Reply::<u8>::pair();
            task(reply).finish(3, outcome, &[7]);
            pending.wait()
        };
        assert_eq!(finish(Outcome::Returned), Ok(7));
        assert_eq!(
            finish(Outcome::Panicked("p".into())),
            Err(ReplyError::Panicked("p".into()))
        );
        for outcome in [
            Outcome::UnknownFunction,
            Outcome::BadArgument("a".into()),
            Outcome::BadResult("r".into()),
        ] {
            let Err(ReplyError::Remote(why)) = finish(outcome) else {
                panic!("not a remote error");
            };
            assert!(why.contains("worker 3"), "{why}");
        }
    }
}
