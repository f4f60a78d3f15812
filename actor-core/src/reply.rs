//! One-shot replies ([`Reply`]) and the waitable result they complete ([`Pending`]).
//!
//! A `Reply<T>`/`Pending<T>` pair shares one slot. The slot moves through these states:
//!
//! | state      | entered when                                   | left when                     |
//! |------------|------------------------------------------------|-------------------------------|
//! | `Empty`    | the pair is created                            | completed, or callback set    |
//! | `Ready`    | completed with nobody waiting on a callback    | the value is taken            |
//! | `Callback` | `on_complete` was called before completion     | completed (callback runs)     |
//! | `Taken`    | the value was handed out, or a callback ran    | never                         |
//!
//! A `Reply` completes the slot exactly once: with a value (`send`), an error (`fail`), or,
//! when it is dropped unanswered, with [`ReplyError::Dropped`]. So a waiter never hangs on a
//! reply that can no longer come.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;
use parking_lot::{Condvar, Mutex};

/// Why a [`Pending`] result holds no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The wait ended before the result arrived; the [`Pending`] can be waited on again.
    #[error("timed out waiting for the result")]
    Timeout,
    /// The [`Reply`] was dropped without an answer: the actor stopped, was killed or failed
    /// before answering, or a queued task was discarded.
    #[error("no result will come: the reply was dropped unanswered")]
    Dropped,
    /// The task that was to produce the result panicked; the payload is the panic message.
    #[error("the task panicked: {0}")]
    Panicked(String),
    /// The process that ran the task ended before answering (it crashed, aborted or was
    /// killed); the payload says how it ended.
    #[error("the process running the task ended: {0}")]
    Crashed(String),
    /// The connection carrying the request was lost before the answer came.
    #[error("the connection was lost before the answer came")]
    Disconnected,
    /// The answer came from another process but could not be used (for instance it did not
    /// decode as the expected type); the payload says why.
    #[error("the remote answer is unusable: {0}")]
    Remote(String),
    /// The result was already taken from this [`Pending`] by an earlier call.
    #[error("the result was already taken")]
    Taken,
}

type Callback<T> = Box<dyn FnOnce(Result<T, ReplyError>) + Send>;

enum State<T> {
    Empty,
    Ready(Result<T, ReplyError>),
    Callback(Callback<T>),
    Taken,
}

pub(crate) struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    /// Set once the slot leaves `Empty`, so a waiter can spin on it briefly before
    /// sleeping: an answer often comes within microseconds, and waking a sleeping thread
    /// costs far more than that. Release (in `complete`) pairs with Acquire (in `block`).
    done: AtomicBool,
}

impl<T> Slot<T> {
    pub(crate) fn complete(&self, result: Result<T, ReplyError>) {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Empty => {
                *state = State::Ready(result);
                self.done.store(true, Ordering::Release);
                drop(state);
                self.ready.notify_all();
            }
            State::Callback(callback) => {
                drop(state);
                // The callback is user code running on the completing thread (often an
                // actor's): its panic must not take that thread's owner down with it.
                if catch_unwind(AssertUnwindSafe(|| callback(result))).is_err() {
                    tracing::error!("a completion callback panicked");
                }
            }
            // A Reply completes its slot once (it is consumed by `send`/`fail`, and Drop only
            // runs for an unanswered one), so these states keep what they hold.
            other @ (State::Ready(_) | State::Taken) => *state = other,
        }
    }

    fn take_if_ready(state: &mut State<T>) -> Option<Result<T, ReplyError>> {
        match std::mem::replace(state, State::Taken) {
            State::Ready(result) => Some(result),
            State::Taken => Some(Err(ReplyError::Taken)),
            other => {
                *state = other;
                None
            }
        }
    }
}

/// The sending half of a one-shot reply: answer a request exactly once.
///
/// A `Reply<T>` travels inside a message; the actor that handles the message calls
/// [`send`](Reply::send). If the reply is dropped unanswered (the actor stopped, failed, or
/// simply forgot), the waiting [`Pending`] gets [`ReplyError::Dropped`] at once.
///
/// An error meant for the caller is data: use `Reply<Result<T, E>>` and the actor lives on.
///
/// # Examples
///
/// ```
/// use actor_core::{Pending, Reply};
///
/// let (reply, pending): (Reply<u32>, Pending<u32>) = Reply::pair();
/// std::thread::spawn(move || reply.send(42));
/// assert_eq!(pending.wait()?, 42);
/// # Ok::<(), actor_core::ReplyError>(())
/// ```
pub struct Reply<T> {
    /// Taken when the reply is answered, or handed over to a transport; a `Mutex` because
    /// serialization hands it over through `&self`.
    slot: Mutex<Option<Arc<Slot<T>>>>,
}

impl<T> Reply<T> {
    /// Creates a connected `Reply` and [`Pending`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, pending) = actor_core::Reply::pair();
    /// reply.send("done");
    /// assert_eq!(pending.wait(), Ok("done"));
    /// ```
    pub fn pair() -> (Reply<T>, Pending<T>) {
        let slot = Arc::new(Slot {
            state: Mutex::new(State::Empty),
            ready: Condvar::new(),
            done: AtomicBool::new(false),
        });
        (
            Reply {
                slot: Mutex::new(Some(Arc::clone(&slot))),
            },
            Pending { slot },
        )
    }

    /// Completes the request with `value`.
    ///
    /// Sending to a request whose [`Pending`] was dropped (the asker gave up) is not an
    /// error: the value is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, pending) = actor_core::Reply::pair();
    /// reply.send(7);
    /// assert_eq!(pending.wait(), Ok(7));
    /// ```
    pub fn send(mut self, value: T) {
        if let Some(slot) = self.slot.get_mut().take() {
            slot.complete(Ok(value));
        }
    }

    /// Completes the request with an error, e.g. [`ReplyError::Panicked`] from a pool whose
    /// task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Reply, ReplyError};
    ///
    /// let (reply, pending) = Reply::<u8>::pair();
    /// reply.fail(ReplyError::Panicked("boom".into()));
    /// assert_eq!(pending.wait(), Err(ReplyError::Panicked("boom".into())));
    /// ```
    pub fn fail(mut self, error: ReplyError) {
        if let Some(slot) = self.slot.get_mut().take() {
            slot.complete(Err(error));
        }
    }

    /// Returns `true` when nobody can receive the answer any more (the [`Pending`] was
    /// dropped), so expensive work for it can be skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, pending) = actor_core::Reply::<u8>::pair();
    /// assert!(!reply.is_canceled());
    /// drop(pending);
    /// assert!(reply.is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        // A `Pending` that handed its wait to a callback is gone, but the callback still
        // wants the answer.
        self.slot.lock().as_ref().is_none_or(|slot| {
            Arc::strong_count(slot) == 1 && !matches!(*slot.state.lock(), State::Callback(_))
        })
    }
}

impl<T> Reply<T> {
    /// Takes the slot out for a transport, which completes it when the answer comes back;
    /// the reply then no longer answers (nor fails) on drop.
    pub(crate) fn hand_over(&self) -> Option<Arc<Slot<T>>> {
        self.slot.lock().take()
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.get_mut().take() {
            slot.complete(Err(ReplyError::Dropped));
        }
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("canceled", &self.is_canceled())
            .finish()
    }
}

/// A result that arrives later: the answer to an `ask`, a worker's task, a pool's job.
///
/// Wait for it with [`wait`](Pending::wait) or [`wait_timeout`](Pending::wait_timeout), poll
/// it with [`try_get`](Pending::try_get), or have a callback run when it completes with
/// [`on_complete`](Pending::on_complete). A result that can no longer come (the replier
/// stopped, the task was discarded) is an error at once, never a hang.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Reply, ReplyError};
///
/// let (reply, mut pending) = Reply::<String>::pair();
/// assert_eq!(pending.try_get(), None);
/// assert_eq!(pending.wait_timeout(Duration::from_millis(10)), Err(ReplyError::Timeout));
/// reply.send("hello".to_string());
/// assert_eq!(pending.wait_timeout(Duration::from_secs(1))?, "hello");
/// # Ok::<(), ReplyError>(())
/// ```
pub struct Pending<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Pending<T> {
    /// Creates a `Pending` that is already complete with `result`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pending = actor_core::Pending::ready(Ok(5));
    /// assert_eq!(pending.wait(), Ok(5));
    /// ```
    pub fn ready(result: Result<T, ReplyError>) -> Pending<T> {
        Pending {
            slot: Arc::new(Slot {
                state: Mutex::new(State::Ready(result)),
                ready: Condvar::new(),
                done: AtomicBool::new(true),
            }),
        }
    }

    /// Blocks until the result arrives.
    ///
    /// # Errors
    ///
    /// [`ReplyError::Dropped`] when no result will come, [`ReplyError::Panicked`] when the
    /// task panicked, [`ReplyError::Taken`] when an earlier call already took the result.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, pending) = actor_core::Reply::pair();
    /// std::thread::spawn(move || reply.send(1 + 1));
    /// assert_eq!(pending.wait(), Ok(2));
    /// ```
    pub fn wait(self) -> Result<T, ReplyError> {
        self.block(None)
    }

    /// Blocks until the result arrives or `timeout` passes.
    ///
    /// # Errors
    ///
    /// [`ReplyError::Timeout`] when the time ran out (the `Pending` stays usable), and the
    /// errors of [`wait`](Pending::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_reply, mut pending) = actor_core::Reply::<()>::pair();
    /// assert_eq!(
    ///     pending.wait_timeout(Duration::from_millis(5)),
    ///     Err(actor_core::ReplyError::Timeout)
    /// );
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<T, ReplyError> {
        // A timeout too large to represent is a wait without a deadline.
        self.block(Instant::now().checked_add(timeout))
    }

    /// Blocks until the result arrives or `deadline` passes.
    ///
    /// # Errors
    ///
    /// As [`wait_timeout`](Pending::wait_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (reply, mut pending) = actor_core::Reply::pair();
    /// reply.send('x');
    /// assert_eq!(pending.wait_deadline(Instant::now() + Duration::from_secs(1)), Ok('x'));
    /// ```
    pub fn wait_deadline(&mut self, deadline: Instant) -> Result<T, ReplyError> {
        self.block(Some(deadline))
    }

    fn block(&self, deadline: Option<Instant>) -> Result<T, ReplyError> {
        let backoff = Backoff::new();
        while !self.slot.done.load(Ordering::Acquire) && !backoff.is_completed() {
            backoff.snooze();
        }
        let mut state = self.slot.state.lock();
        loop {
            if let Some(result) = Slot::take_if_ready(&mut state) {
                return result;
            }
            match deadline {
                None => self.slot.ready.wait(&mut state),
                Some(deadline) => {
                    if self.slot.ready.wait_until(&mut state, deadline).timed_out() {
                        return Slot::take_if_ready(&mut state).unwrap_or(Err(ReplyError::Timeout));
                    }
                }
            }
        }
    }

    /// Returns the result if it has arrived, without blocking; `None` while it has not.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, mut pending) = actor_core::Reply::pair();
    /// assert_eq!(pending.try_get(), None);
    /// reply.send(3);
    /// assert_eq!(pending.try_get(), Some(Ok(3)));
    /// assert_eq!(pending.try_get(), Some(Err(actor_core::ReplyError::Taken)));
    /// ```
    pub fn try_get(&mut self) -> Option<Result<T, ReplyError>> {
        Slot::take_if_ready(&mut self.slot.state.lock())
    }

    /// Returns `true` once the result has arrived (or can no longer come).
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, pending) = actor_core::Reply::<u8>::pair();
    /// assert!(!pending.is_ready());
    /// drop(reply);
    /// assert!(pending.is_ready());
    /// ```
    #[must_use]
    pub fn is_ready(&self) -> bool {
        !matches!(*self.slot.state.lock(), State::Empty)
    }

    /// Runs `callback` with the result once it arrives: at once on this thread when it
    /// already has, otherwise on the thread that completes it. Keep the callback short; a
    /// panic in it is caught and logged.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reply, pending) = actor_core::Reply::pair();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pending.on_complete(move |result| tx.send(result).unwrap());
    /// reply.send(9);
    /// assert_eq!(rx.recv().unwrap(), Ok(9));
    /// ```
    pub fn on_complete<F>(self, callback: F)
    where
        F: FnOnce(Result<T, ReplyError>) + Send + 'static,
    {
        let mut state = self.slot.state.lock();
        match Slot::take_if_ready(&mut state) {
            Some(result) => {
                drop(state);
                callback(result);
            }
            None => *state = State::Callback(Box::new(callback)),
        }
    }
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("ready", &self.is_ready())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_reply_fails_the_waiter_at_once() {
        let (reply, pending) = Reply::<u8>::pair();
        let waiter = std::thread::spawn(move || pending.wait());
        drop(reply);
        assert_eq!(waiter.join().unwrap(), Err(ReplyError::Dropped));
    }

    #[test]
    fn callback_runs_on_completion_and_on_drop() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (reply, pending) = Reply::<u8>::pair();
        let tx2 = tx.clone();
        pending.on_complete(move |r| tx2.send(r).unwrap());
        reply.send(1);
        let (reply, pending) = Reply::<u8>::pair();
        pending.on_complete(move |r| tx.send(r).unwrap());
        drop(reply);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(1));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            Err(ReplyError::Dropped)
        );
    }

    #[test]
    fn panicking_callback_does_not_unwind_into_the_replier() {
        let (reply, pending) = Reply::<u8>::pair();
        pending.on_complete(|_| panic!("callback bug"));
        reply.send(1);
    }

    #[test]
    fn a_reply_with_a_callback_waiting_is_not_canceled() {
        let (reply, pending) = Reply::<u8>::pair();
        pending.on_complete(|_| {});
        assert!(!reply.is_canceled());
    }

    #[test]
    fn pending_and_reply_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Pending<String>>();
        check::<Reply<String>>();
    }
}
