//! [`Crew`]: a queue and the threads that work through it; the core of every pool.
//!
//! Each pool queues its own kind of [`Item`]: the thread pool boxed closures, the dispatcher
//! actors that have mail, the process pool calls for its worker processes. What does not
//! depend on the item lives here once: the queue and who may still put into it, the threads
//! and their names, the flag that makes `kill` discard, the count of threads still
//! running, and the guard that keeps the crew whole when a thread dies.
//!
//! # States
//!
//! | `sender` | `discarding` | meaning                                                         |
//! |----------|--------------|-----------------------------------------------------------------|
//! | `Some`   | `false`      | open: pushes are taken, and threads run what they take          |
//! | `None`   | `false`      | closed: pushes are refused; threads run what is queued, then end |
//! | `None`   | `true`       | closed at once: what was queued is discarded, and so is whatever a thread still takes |
//!
//! # Shutdown sequence
//!
//! 1. [`close_now`](Crew::close_now) only: set `discarding`, so that threads stop starting
//!    the items they take.
//! 2. Drop the hangup sender: pushers waiting for room in a full queue wake up and get their
//!    item back (`SubmitError::ShutDown`).
//! 3. Take the queue's sender under the write lock, which waits for the pushes under way;
//!    later pushes are refused.
//! 4. [`close`](Crew::close): the threads run what is queued, then find the queue closed and
//!    empty, let their [`Hand`] finish, and end. `close_now`: the caller drains the queue,
//!    discarding each item; the threads end after the item each is running.
//! 5. [`join`](Crew::join) every thread.
//!
//! `kill` calls its `interrupt` between steps 4 and 5: the process pool cuts its
//! workers' connections there, so that calls under way end too.

mod threads;
mod wait;

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use actor_core::panic_message;
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError, TrySendError};
use parking_lot::{Mutex, RwLock};

use crate::error::SubmitError;
use crate::queue::Queue;
use threads::Threads;
pub(crate) use wait::Wait;

/// What a crew's queue carries.
pub(crate) trait Item: Send + Sized + 'static {
    /// What each thread keeps from one item to the next.
    type Hand: Hand;

    /// Runs the item on one of the crew's threads.
    ///
    /// A panic that leaves `run` ends the thread, and the crew starts a replacement (see
    /// [`Hand::replacement`]). An item whose panics are to be expected contains them with
    /// [`Crew::contain`].
    fn run(self, hand: &mut Self::Hand, crew: &Crew<Self>);

    /// How long a thread that has just run an item keeps looking for the next one, spinning,
    /// before it goes to sleep on the queue. By default not at all.
    ///
    /// Worth it only where an item is often followed, within a microsecond or two, by one
    /// that its own completion caused (a caller woken by a result submits the next call):
    /// the thread that is still warm takes it, instead of a thread that must be woken. (The
    /// push still wakes a thread asleep on the queue, if there is one, which finds nothing
    /// and sleeps again.) It is spent once per item run, never while the crew is idle.
    const LINGER: Duration = Duration::ZERO;

    /// Lets go of an item that no thread will run: `close_now` drained it, a thread took it
    /// after `close_now`, or the last thread ended with it still queued. Whoever waits for
    /// the item must learn here that it will not come.
    fn discard(self);
}

/// What one thread of a crew keeps from one item to the next.
pub(crate) trait Hand: Send + 'static {
    /// The queue is closed and empty, and the thread ends: lets go of what the hand holds.
    fn finish(self);

    /// The thread is unwinding from a panic: cleans up what the hand holds and returns the
    /// hand that the thread replacing this one starts with.
    fn replacement(&mut self) -> Self;
}

/// A hand that holds nothing, for items that need no state between them.
impl Hand for () {
    fn finish(self) {}

    fn replacement(&mut self) {}
}

/// A queue of items and the threads that run them.
///
/// Always held in an `Arc`: each thread holds one too, so the crew lives until its last
/// thread has ended. Its owner must shut it down (dropping the owner's `Arc` alone leaves
/// the threads waiting for items): pools do it in their `drop`, with
/// [`shut_down_on_drop`](Crew::shut_down_on_drop).
pub(crate) struct Crew<T: Item> {
    /// The queue's sending side: `Some` while the crew takes items. Pushers hold the read lock
    /// while they put an item in; closing takes the sender under the write lock, so once it
    /// has it, no item can arrive any more and the queue disconnects when it is empty.
    sender: RwLock<Option<Sender<T>>>,
    receiver: Receiver<T>,
    /// Never carries a message: closing drops the sender so that pushers waiting for room in
    /// a full queue wake up and give up.
    hangup_sender: Mutex<Option<Sender<Infallible>>>,
    hangup: Receiver<Infallible>,
    /// Set by `close_now`: threads discard the items they take instead of running them.
    discarding: AtomicBool,
    /// Threads started and not yet ended; see [`Member`]'s drop.
    live: AtomicUsize,
    threads: Threads,
}

impl<T: Item> Crew<T> {
    /// Starts a crew of one thread per hand, named `<prefix>-<n>`, over a new queue.
    ///
    /// # Errors
    ///
    /// When the operating system refuses a thread; the threads already started are then
    /// stopped and joined, and the hands not yet given to a thread are dropped.
    pub(crate) fn start(
        prefix: String,
        stack_size: Option<usize>,
        queue: Queue,
        hands: impl IntoIterator<Item = T::Hand>,
    ) -> io::Result<Arc<Crew<T>>> {
        let (sender, receiver) = match queue {
            Queue::Unbounded => crossbeam_channel::unbounded(),
            Queue::Bounded(capacity) => crossbeam_channel::bounded(capacity),
        };
        let (hangup_sender, hangup) = crossbeam_channel::bounded(0);
        let crew = Arc::new(Crew {
            sender: RwLock::new(Some(sender)),
            receiver,
            hangup_sender: Mutex::new(Some(hangup_sender)),
            hangup,
            discarding: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            threads: Threads::new(prefix, stack_size),
        });
        for hand in hands {
            if let Err(error) = crew.spawn(hand) {
                // Nothing is queued yet: the threads started find the queue closed and end.
                crew.shutdown();
                return Err(error);
            }
        }
        Ok(crew)
    }

    /// Starts one more thread, working with `hand`.
    fn spawn(self: &Arc<Self>, hand: T::Hand) -> io::Result<()> {
        // Counted before the thread starts, so that a thread replacing another is counted
        // before the one it replaces leaves (see `Member`'s drop). AcqRel pairs with the
        // decrement there.
        self.live.fetch_add(1, Ordering::AcqRel);
        let crew = Arc::clone(self);
        let spawned = self.threads.spawn(move || {
            let mut member = Member {
                crew,
                hand: Some(hand),
            };
            member.work();
        });
        if spawned.is_err() {
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
        spawned
    }

    /// Puts `item` in the queue, waiting for room as `wait` allows.
    ///
    /// # Errors
    ///
    /// Gives `item` back: [`SubmitError::ShutDown`] once the crew is closing,
    /// [`SubmitError::Full`] or [`SubmitError::Timeout`] when a bounded queue had no room
    /// in time.
    pub(crate) fn push(&self, item: T, wait: Wait) -> Result<(), SubmitError<T>> {
        // The write lock is only ever taken by `close`: a lock that is held or wanted for
        // writing means the crew is closing, and the item is refused without waiting.
        let Some(guard) = self.sender.try_read() else {
            return Err(SubmitError::ShutDown(item));
        };
        let Some(sender) = guard.as_ref() else {
            return Err(SubmitError::ShutDown(item));
        };
        let item = match sender.try_send(item) {
            Ok(()) => return Ok(()),
            // The crew holds the receiver as long as it holds a sender.
            Err(TrySendError::Disconnected(item)) => return Err(SubmitError::ShutDown(item)),
            Err(TrySendError::Full(item)) => item,
        };
        let mut select = Select::new();
        let send = select.send(sender);
        let hangup = select.recv(&self.hangup);
        let operation = match wait {
            Wait::No => return Err(SubmitError::Full(item)),
            Wait::Forever => select.select(),
            Wait::Until(deadline) => match select.select_deadline(deadline) {
                Ok(operation) => operation,
                Err(_) => return Err(SubmitError::Timeout(item)),
            },
        };
        if operation.index() == send {
            operation
                .send(sender, item)
                .map_err(|refused| SubmitError::ShutDown(refused.into_inner()))
        } else {
            debug_assert_eq!(operation.index(), hangup);
            // The hangup channel only ever disconnects, so this returns an error at once.
            let _ = operation.recv(&self.hangup);
            Err(SubmitError::ShutDown(item))
        }
    }

    /// Stops taking items, lets the threads run what is queued, and joins them.
    pub(crate) fn shutdown(&self) {
        self.close();
        self.join();
    }

    /// Stops taking items, discards what is queued, calls `interrupt` to end what is running
    /// where the pool can (a thread cannot be interrupted, a worker process can), and joins
    /// the threads.
    pub(crate) fn kill(&self, interrupt: impl FnOnce()) {
        self.close_now();
        interrupt();
        self.join();
    }

    /// What dropping a pool does: [`shutdown`](Crew::shutdown), or
    /// [`kill`](Crew::kill) when the drop happens during a panic, so that the
    /// panic is not held up by queued work.
    pub(crate) fn shut_down_on_drop(&self, interrupt: impl FnOnce()) {
        if thread::panicking() {
            self.kill(interrupt);
        } else {
            self.shutdown();
        }
    }

    /// Stops taking items; the threads run what is queued, then end.
    fn close(&self) {
        // First wake the pushers waiting for room: each holds the read lock that the write
        // lock below waits for.
        drop(self.hangup_sender.lock().take());
        drop(self.sender.write().take());
    }

    /// Stops taking items and discards what is queued; the threads end after the item each
    /// is running.
    fn close_now(&self) {
        // Relaxed: see `Member::work`; whatever a thread misses is discarded by the drain
        // below.
        self.discarding.store(true, Ordering::Relaxed);
        self.close();
        // No item can be queued any more (`close` took the sender), so this empties the
        // queue for good.
        while let Ok(item) = self.receiver.try_recv() {
            item.discard();
        }
    }

    /// Waits until every thread has ended; from one of the crew's threads, every other one.
    fn join(&self) {
        self.threads.join();
    }

    /// Takes an item, looking for one for up to [`Item::LINGER`] without sleeping: `None` when
    /// none came in that time, or the queue is closed and empty.
    fn take_lingering(&self) -> Option<T> {
        if T::LINGER.is_zero() {
            return None;
        }
        let start = Instant::now();
        loop {
            match self.receiver.try_recv() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) if start.elapsed() >= T::LINGER => return None,
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
    }

    /// Whether [`close_now`](Crew::close_now) was called, as a hint (a relaxed load): an
    /// item that needs an exact answer orders it against `close_now` itself.
    pub(crate) fn is_discarding(&self) -> bool {
        self.discarding.load(Ordering::Relaxed)
    }

    /// Whether the crew has stopped taking items, or is stopping.
    pub(crate) fn is_closed(&self) -> bool {
        self.sender.try_read().is_none_or(|sender| sender.is_none())
    }

    /// The number of items waiting for a thread (not counting those running), a snapshot.
    pub(crate) fn queued(&self) -> usize {
        self.receiver.len()
    }

    /// The prefix of the threads' names, which also names the pool in logs.
    pub(crate) fn prefix(&self) -> &str {
        self.threads.prefix()
    }

    /// Runs `work`, logging a panic instead of letting it end the thread: for items whose
    /// panics have nobody else to go to.
    pub(crate) fn contain(&self, work: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(work)) {
            let message = panic_message(payload.as_ref());
            tracing::error!(pool = self.prefix(), %message, "a pool task panicked");
        }
    }
}

impl<T: Item> fmt::Debug for Crew<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crew")
            .field("threads", &self.threads)
            .field("queued", &self.queued())
            .field("closed", &self.is_closed())
            .field("discarding", &self.is_discarding())
            .finish()
    }
}

/// One thread of a crew, from its start to its end; its drop is the guard that keeps the
/// crew whole.
struct Member<T: Item> {
    crew: Arc<Crew<T>>,
    /// `None` once the hand has finished.
    hand: Option<T::Hand>,
}

impl<T: Item> Member<T> {
    /// Runs queued items until the queue is closed and empty.
    fn work(&mut self) {
        let Some(hand) = self.hand.as_mut() else {
            return;
        };
        let mut ran = false;
        loop {
            let next = if ran {
                self.crew.take_lingering()
            } else {
                None
            };
            let Some(item) = next.or_else(|| self.crew.receiver.recv().ok()) else {
                break;
            };
            ran = true;
            // Relaxed: a hint. A thread that misses the flag runs an item it had already
            // taken off the queue, which `close_now` allows (it discards only what is still
            // queued).
            if self.crew.discarding.load(Ordering::Relaxed) {
                item.discard();
                continue;
            }
            item.run(hand, &self.crew);
        }
        if let Some(hand) = self.hand.take() {
            hand.finish();
        }
    }
}

/// If the thread is unwinding (a panic that left an item's `run`), a replacement is started
/// so that the crew keeps its size. A thread that panics in `finish` is not replaced: the
/// queue is closed and empty, and there is nothing left for it to do. The last thread to
/// leave discards whatever is still queued, so that nobody waits for an item that no thread
/// will run.
impl<T: Item> Drop for Member<T> {
    fn drop(&mut self) {
        if thread::panicking() {
            tracing::error!(pool = self.crew.prefix(), "a pool thread panicked");
            if let Some(hand) = self.hand.as_mut() {
                let replacement = hand.replacement();
                if let Err(error) = self.crew.spawn(replacement) {
                    tracing::error!(pool = self.crew.prefix(), %error, "could not replace a pool thread");
                }
            }
        }
        // AcqRel pairs with the increment in `spawn`: the last one out sees every thread
        // that was started.
        if self.crew.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            while let Ok(item) = self.crew.receiver.try_recv() {
                item.discard();
            }
        }
    }
}

/// The number of threads (or worker processes) a pool gets by default: the available
/// parallelism, or 1 when it is unknown.
pub(crate) fn default_threads() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bounds every wait in these tests.
    const LIMIT: Duration = Duration::from_secs(20);

    /// An item that sends its number, after which its thread lingers.
    struct Numbered(crossbeam_channel::Sender<u32>, u32);

    impl Item for Numbered {
        type Hand = ();

        const LINGER: Duration = Duration::from_millis(20);

        fn run(self, _: &mut (), _: &Crew<Self>) {
            let _ = self.0.send(self.1);
        }

        fn discard(self) {}
    }

    #[test]
    fn a_lingering_thread_runs_each_next_item_and_ends_at_shutdown() {
        let crew = Crew::start("linger".to_string(), None, Queue::Unbounded, [()]).unwrap();
        let (done_tx, done) = crossbeam_channel::unbounded();
        for number in 0..5 {
            assert!(
                crew.push(Numbered(done_tx.clone(), number), Wait::No)
                    .is_ok()
            );
            assert_eq!(done.recv_timeout(LIMIT), Ok(number));
        }
        // Closed while its thread lingers (or sleeps): the thread ends either way.
        crew.shutdown();
        assert!(crew.push(Numbered(done_tx, 5), Wait::No).is_err());
    }
}
