//! What a thread pool's crew carries: a [`Job`], and the two kinds of it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use actor_core::{Reply, ReplyError, panic_message};

use crate::crew::{Crew, Item};

/// A queued unit of work.
///
/// A trait rather than `Box<dyn FnOnce()>` so that a job the queue refuses can be turned back
/// into the caller's own closure ([`into_any`](Job::into_any)) and handed back in the error.
pub(crate) trait Job: Send + 'static {
    /// Runs the job on a pool thread.
    fn run(self: Box<Self>);

    /// The job as `Any`, to recover its concrete type after the queue refused it.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl Item for Box<dyn Job> {
    type Hand = ();

    fn run(self, _: &mut (), crew: &Crew<Self>) {
        // A submitted job catches its own panic and hands it to its `Pending`; this catch is
        // for jobs queued with `execute`, which have nobody to hand it to.
        crew.contain(|| Job::run(self));
    }

    /// Drops the job, which fails its `Pending` with `ReplyError::Dropped`.
    fn discard(self) {
        // Dropping runs the drop code of whatever the closure captured; a panic there must not
        // take a pool thread (or the caller of `kill`) down with it.
        if catch_unwind(AssertUnwindSafe(|| drop(self))).is_err() {
            tracing::error!("dropping a discarded pool task panicked");
        }
    }
}

/// Recovers the job that the queue refused: the one the caller offered, so its type is known.
pub(crate) fn unbox<J: Job>(job: Box<dyn Job>) -> J {
    *job.into_any()
        .downcast::<J>()
        .expect("invariant: a refused job is the job that was offered")
}

/// A closure whose result goes to a [`Pending`](actor_core::Pending).
pub(crate) struct Submitted<F, T> {
    pub(crate) task: F,
    pub(crate) reply: Reply<T>,
}

impl<F, T> Job for Submitted<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>) {
        let Submitted { task, reply } = *self;
        match catch_unwind(AssertUnwindSafe(task)) {
            Ok(value) => reply.send(value),
            Err(payload) => reply.fail(ReplyError::Panicked(
                panic_message(payload.as_ref()).to_owned(),
            )),
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A closure run for its effect alone, as [`ThreadPool::execute`](crate::ThreadPool::execute)
/// queues it.
pub(crate) struct Executed<F>(pub(crate) F);

impl<F> Job for Executed<F>
where
    F: FnOnce() + Send + 'static,
{
    fn run(self: Box<Self>) {
        (self.0)();
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_submitted(task: impl FnOnce() -> u8 + Send + 'static) -> Result<u8, ReplyError> {
        let (reply, pending) = Reply::pair();
        Job::run(Box::new(Submitted { task, reply }));
        pending.wait()
    }

    #[test]
    fn a_panic_of_every_kind_becomes_its_message() {
        assert_eq!(
            run_submitted(|| panic!("static")),
            Err(ReplyError::Panicked("static".into()))
        );
        assert_eq!(
            run_submitted(|| panic!("formatted {}", 1)),
            Err(ReplyError::Panicked("formatted 1".into()))
        );
        assert_eq!(
            run_submitted(|| std::panic::panic_any(7_u8)),
            Err(ReplyError::Panicked(
                "panic with a non-string payload".into()
            ))
        );
    }
}
