//! [`WorkQueue`]: items shared by several producer and consumer threads, bounded or not, in
//! arrival order or by priority, closable, with a wait until every item is done.
//!
//! Two flavors behind one private enum, as for mailboxes: a crossbeam channel that can be
//! closed (`channel.rs`), where puts and gets take no lock; and, for priorities, the
//! mailbox's queue under a mutex (`priority.rs`). What is done is counted beside both
//! (`unfinished.rs`).

mod channel;
mod priority;
mod unfinished;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{JoinError, RecvError, SendError, SpawnError};
use crate::mailbox::{Mailbox, Sent};
use crate::send_wait::SendWait;
use channel::Channel;
use priority::Priority;
use unfinished::Unfinished;

/// A queue of items shared by producer and consumer threads: what the classic
/// "queue plus worker threads" recipes are built on.
///
/// A `WorkQueue` is a handle: clone it for each producer and each consumer thread, all
/// clones are the same queue, and each item goes to exactly one consumer.
///
/// - [`put`](WorkQueue::put) adds an item, waiting for room in a full bounded queue;
///   [`try_put`](WorkQueue::try_put) never waits; [`put_timeout`](WorkQueue::put_timeout)
///   waits at most a given time. A bounded queue's [`Overflow`](crate::Overflow) policy
///   decides what a put to a full queue does, as for a mailbox.
/// - [`get`](WorkQueue::get), [`try_get`](WorkQueue::try_get) and
///   [`get_timeout`](WorkQueue::get_timeout) take the next item, as a [`Task`].
/// - [`close`](WorkQueue::close) is the framework's answer to the sentinel value: puts fail
///   from then on, consumers take what is left, then every get returns
///   [`RecvError::Closed`], so `while let Ok(task) = queue.get()` ends by itself.
/// - Each [`Task`] is marked done when it is dropped (or by [`Task::done`]), even when its
///   consumer panics; [`join`](WorkQueue::join) waits until every item put so far is done.
///
/// Items come out in arrival order, or by priority for a queue built with
/// [`with_priority`](WorkQueue::with_priority). A producer that waits for one particular
/// item puts a [`Reply`](crate::Reply) in it and waits on its [`Pending`](crate::Pending).
///
/// # Examples
///
/// ```
/// use actor_core::WorkQueue;
///
/// let queue = WorkQueue::new();
/// let consumers: Vec<_> = (0..3)
///     .map(|_| {
///         let queue = queue.clone();
///         std::thread::spawn(move || {
///             let mut sum = 0;
///             while let Ok(n) = queue.get() {
///                 sum += *n;
///             }
///             sum
///         })
///     })
///     .collect();
/// for n in 1..=100 {
///     queue.put(n)?;
/// }
/// queue.join(); // every item taken and done
/// queue.close(); // the consumers' loops end
/// let total: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
/// assert_eq!(total, 5050);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WorkQueue<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    flavor: Flavor<T>,
    unfinished: Unfinished,
    /// Items discarded by a full `DropNewest` queue.
    dropped: AtomicU64,
}

/// What a [`Select`](crate::Select) waits on for a queue.
pub(crate) enum Readiness<'q, T> {
    /// A queue in arrival order: ready when an item is queued, or once it is sealed
    /// (closed, with no put in progress).
    Channel {
        items: &'q crossbeam_channel::Receiver<T>,
        sealed: &'q crossbeam_channel::Receiver<std::convert::Infallible>,
    },
    /// A priority queue's doorbell.
    Bell(&'q crossbeam_channel::Receiver<()>),
}

/// The order items come out in.
enum Flavor<T> {
    /// Arrival order: a channel, no lock.
    Channel(Channel<T>),
    /// By priority: the mailbox's locked queue.
    Priority(Priority<T>),
}

impl<T: Send + 'static> WorkQueue<T> {
    /// An unbounded queue, items in arrival order.
    ///
    /// # Examples
    ///
    /// See [`WorkQueue`].
    #[must_use]
    pub fn new() -> WorkQueue<T> {
        WorkQueue::from_flavor(Flavor::Channel(Channel::new(None, crate::Overflow::Block)))
    }

    /// A queue with the given limits, items in arrival order: a bounded one applies its
    /// [`Overflow`](crate::Overflow) policy to a put that finds it full.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ZeroCapacity`] for a bounded mailbox of capacity 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Mailbox, Overflow, SendError, WorkQueue};
    ///
    /// let queue = WorkQueue::with_mailbox(Mailbox::bounded(2, Overflow::Block))?;
    /// queue.put("a")?;
    /// queue.put("b")?;
    /// assert!(matches!(queue.try_put("c"), Err(SendError::Full("c"))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_mailbox(mailbox: Mailbox) -> Result<WorkQueue<T>, SpawnError> {
        let (capacity, overflow) = mailbox.limits()?;
        Ok(WorkQueue::from_flavor(Flavor::Channel(Channel::new(
            capacity, overflow,
        ))))
    }

    /// A queue that hands out the item of highest `priority` first, and items of equal
    /// priority in arrival order; `mailbox` sets its limits as for
    /// [`with_mailbox`](WorkQueue::with_mailbox).
    ///
    /// `priority` rates each item once, as it is put. A priority queue takes a lock per
    /// put and get; a queue in arrival order does not.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ZeroCapacity`] for a bounded mailbox of capacity 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Mailbox, WorkQueue};
    ///
    /// let queue = WorkQueue::with_priority(Mailbox::Unbounded, |&(urgency, _): &(u32, &str)| urgency)?;
    /// queue.put((1, "tidy up"))?;
    /// queue.put((5, "fire"))?;
    /// queue.put((1, "water plants"))?;
    /// let order: Vec<&str> = std::iter::from_fn(|| queue.try_get().ok())
    ///     .map(|task| task.1)
    ///     .collect();
    /// assert_eq!(order, ["fire", "tidy up", "water plants"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_priority(
        mailbox: Mailbox,
        priority: impl Fn(&T) -> u32 + Send + Sync + 'static,
    ) -> Result<WorkQueue<T>, SpawnError> {
        let (capacity, overflow) = mailbox.limits()?;
        let queue = Priority::new(capacity, overflow, Arc::new(priority));
        Ok(WorkQueue::from_flavor(Flavor::Priority(queue)))
    }

    fn from_flavor(flavor: Flavor<T>) -> WorkQueue<T> {
        WorkQueue {
            shared: Arc::new(Shared {
                flavor,
                unfinished: Unfinished::default(),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Adds `item`; when a bounded queue with `Overflow::Block` is full, waits for room.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the queue is closed (also when it is closed while this put
    /// waits for room); [`SendError::Full`] when a bounded queue with `Overflow::Fail` is
    /// full. The item is given back in the error.
    ///
    /// # Examples
    ///
    /// See [`WorkQueue`].
    pub fn put(&self, item: T) -> Result<(), SendError<T>> {
        self.send(item, SendWait::Forever)
    }

    /// Adds `item` without ever waiting.
    ///
    /// # Errors
    ///
    /// As [`put`](WorkQueue::put), and [`SendError::Full`] when a bounded queue is full
    /// whatever its overflow policy (except `DropNewest`, which counts and drops).
    ///
    /// # Examples
    ///
    /// See [`with_mailbox`](WorkQueue::with_mailbox).
    pub fn try_put(&self, item: T) -> Result<(), SendError<T>> {
        self.send(item, SendWait::Never)
    }

    /// Adds `item`, waiting at most `timeout` for room in a full bounded queue.
    ///
    /// # Errors
    ///
    /// As [`put`](WorkQueue::put), and [`SendError::Timeout`] when no room came in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Mailbox, Overflow, SendError, WorkQueue};
    ///
    /// let queue = WorkQueue::with_mailbox(Mailbox::bounded(1, Overflow::Block))?;
    /// queue.put_timeout(1, Duration::from_millis(10))?;
    /// let full = queue.put_timeout(2, Duration::from_millis(10));
    /// assert!(matches!(full, Err(SendError::Timeout(2))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), SendError<T>> {
        let wait = Instant::now()
            .checked_add(timeout)
            .map_or(SendWait::Forever, SendWait::Until);
        self.send(item, wait)
    }

    fn send(&self, item: T, wait: SendWait) -> Result<(), SendError<T>> {
        let shared = &*self.shared;
        // Counted before it can be taken, so that its done never comes first.
        shared.unfinished.add();
        let sent = match &shared.flavor {
            Flavor::Channel(channel) => channel.send(item, wait),
            Flavor::Priority(queue) => queue.send(item, wait),
        };
        match sent {
            Ok(Sent::Queued) => Ok(()),
            Ok(Sent::Dropped) => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                shared.unfinished.done();
                Ok(())
            }
            Err(error) => {
                shared.unfinished.done();
                Err(error)
            }
        }
    }

    /// Waits for the next item.
    ///
    /// # Errors
    ///
    /// [`RecvError::Closed`] when the queue is closed and drained: nothing more will come.
    ///
    /// # Examples
    ///
    /// See [`WorkQueue`].
    pub fn get(&self) -> Result<Task<T>, RecvError> {
        let item = match &self.shared.flavor {
            Flavor::Channel(channel) => channel.recv(None),
            Flavor::Priority(queue) => queue.recv(None),
        };
        item.map(|item| self.task(item))
    }

    /// Takes the next item if one is queued, without waiting.
    ///
    /// # Errors
    ///
    /// [`RecvError::Empty`] when nothing is queued now; [`RecvError::Closed`] when the queue
    /// is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{RecvError, WorkQueue};
    ///
    /// let queue = WorkQueue::new();
    /// assert!(matches!(queue.try_get(), Err(RecvError::Empty)));
    /// queue.put(1)?;
    /// assert_eq!(*queue.try_get()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get(&self) -> Result<Task<T>, RecvError> {
        let item = match &self.shared.flavor {
            Flavor::Channel(channel) => channel.try_recv(),
            Flavor::Priority(queue) => queue.try_recv(),
        };
        item.map(|item| self.task(item))
    }

    /// Waits at most `timeout` for the next item.
    ///
    /// # Errors
    ///
    /// [`RecvError::Timeout`] when nothing came in time; [`RecvError::Closed`] when the
    /// queue is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{RecvError, WorkQueue};
    ///
    /// let queue = WorkQueue::<u8>::new();
    /// let nothing = queue.get_timeout(Duration::from_millis(10));
    /// assert!(matches!(nothing, Err(RecvError::Timeout)));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<Task<T>, RecvError> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return self.get();
        };
        let item = match &self.shared.flavor {
            Flavor::Channel(channel) => channel.recv(Some(deadline)),
            Flavor::Priority(queue) => queue.recv(Some(deadline)),
        };
        item.map(|item| self.task(item))
    }

    /// What a [`Select`](crate::Select) waits on to learn that a get would not wait.
    pub(crate) fn readiness(&self) -> Readiness<'_, T> {
        match &self.shared.flavor {
            Flavor::Channel(channel) => {
                let (items, sealed) = channel.readiness();
                Readiness::Channel { items, sealed }
            }
            Flavor::Priority(queue) => Readiness::Bell(queue.readiness()),
        }
    }

    fn task(&self, item: T) -> Task<T> {
        Task {
            item,
            done: Done(Arc::clone(&self.shared)),
        }
    }

    /// Closes the queue: from now on puts fail with [`SendError::Closed`] (and puts waiting
    /// for room wake up with it); consumers take what is queued, then gets return
    /// [`RecvError::Closed`] (and consumers waiting on the empty queue wake up with it).
    /// Closing twice does nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{RecvError, SendError, WorkQueue};
    ///
    /// let queue = WorkQueue::new();
    /// queue.put("last")?;
    /// queue.close();
    /// assert!(matches!(queue.put("late"), Err(SendError::Closed("late"))));
    /// assert_eq!(*queue.get()?, "last");
    /// assert!(matches!(queue.get(), Err(RecvError::Closed)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) {
        match &self.shared.flavor {
            Flavor::Channel(channel) => channel.close(),
            Flavor::Priority(queue) => queue.close(),
        }
    }
}

impl<T> WorkQueue<T> {
    /// Whether the queue is closed (it may still hold items to take).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = actor_core::WorkQueue::<u8>::new();
    /// assert!(!queue.is_closed());
    /// queue.close();
    /// assert!(queue.is_closed());
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        match &self.shared.flavor {
            Flavor::Channel(channel) => channel.is_closed(),
            Flavor::Priority(queue) => queue.is_closed(),
        }
    }

    /// How many items are queued now, not yet taken. A snapshot: other threads may put and
    /// take at any moment.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = actor_core::WorkQueue::new();
    /// queue.put('a')?;
    /// assert_eq!(queue.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.shared.flavor {
            Flavor::Channel(channel) => channel.len(),
            Flavor::Priority(queue) => queue.len(),
        }
    }

    /// Whether no item is queued now (some may still be in their consumers' hands).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actor_core::WorkQueue::<u8>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many items were put and are not done yet: queued, or taken and still in a
    /// [`Task`]. [`join`](WorkQueue::join) waits for this to be 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = actor_core::WorkQueue::new();
    /// queue.put(1)?;
    /// let task = queue.get()?;
    /// assert_eq!(queue.unfinished(), 1);
    /// task.done();
    /// assert_eq!(queue.unfinished(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn unfinished(&self) -> usize {
        self.shared.unfinished.get()
    }

    /// Items discarded because the queue was full under
    /// [`Overflow::DropNewest`](crate::Overflow::DropNewest).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Mailbox, Overflow, WorkQueue};
    ///
    /// let queue = WorkQueue::with_mailbox(Mailbox::bounded(1, Overflow::DropNewest))?;
    /// queue.put(1)?;
    /// queue.put(2)?; // dropped, counted
    /// assert_eq!(queue.dropped_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dropped_count(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every item put so far is done: taken, and its [`Task`] done or dropped.
    /// Items put while it waits are waited for too.
    ///
    /// Do not join from a thread that holds an unfinished [`Task`] of the same queue: the
    /// wait would include that task, which only this thread can finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use actor_core::WorkQueue;
    ///
    /// let queue = WorkQueue::new();
    /// let handled = Arc::new(AtomicU32::new(0));
    /// let consumer = {
    ///     let (queue, handled) = (queue.clone(), Arc::clone(&handled));
    ///     std::thread::spawn(move || {
    ///         while let Ok(task) = queue.get() {
    ///             handled.fetch_add(*task, Ordering::Relaxed);
    ///         } // each task is done as it is dropped
    ///     })
    /// };
    /// for n in [1, 2, 3] {
    ///     queue.put(n)?;
    /// }
    /// queue.join();
    /// assert_eq!(handled.load(Ordering::Relaxed), 6);
    /// queue.close();
    /// consumer.join().unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(&self) {
        self.shared.unfinished.wait(None);
    }

    /// Waits at most `timeout` until every item put so far is done.
    ///
    /// # Errors
    ///
    /// [`JoinError::Timeout`] when some were not done in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{JoinError, WorkQueue};
    ///
    /// let queue = WorkQueue::new();
    /// queue.put("nobody takes this")?;
    /// assert_eq!(queue.join_timeout(Duration::from_millis(10)), Err(JoinError::Timeout));
    /// queue.try_get()?.done();
    /// queue.join_timeout(Duration::from_millis(10))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<(), JoinError> {
        let deadline = Instant::now().checked_add(timeout);
        if deadline.is_none() {
            self.join();
            return Ok(());
        }
        if self.shared.unfinished.wait(deadline) {
            Ok(())
        } else {
            Err(JoinError::Timeout)
        }
    }
}

impl<T: Send + 'static> Default for WorkQueue<T> {
    fn default() -> Self {
        WorkQueue::new()
    }
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        WorkQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for WorkQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = match self.shared.flavor {
            Flavor::Channel(_) => "arrival",
            Flavor::Priority(_) => "priority",
        };
        f.debug_struct("WorkQueue")
            .field("order", &order)
            .field("queued", &self.len())
            .field("unfinished", &self.unfinished())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// An item taken from a [`WorkQueue`], marked done when it is dropped.
///
/// Read and change the item through the task (it dereferences to it). The task is done when
/// it is dropped, also when its consumer panics, so [`WorkQueue::join`] never waits for an
/// item nobody will finish; [`done`](Task::done) says it explicitly. A task can be sent
/// elsewhere (to an actor, another thread) and is done wherever it ends.
///
/// # Examples
///
/// ```
/// let queue = actor_core::WorkQueue::new();
/// queue.put(String::from("draft"))?;
/// let mut task = queue.get()?;
/// task.push_str(", reviewed");
/// assert_eq!(*task, "draft, reviewed");
/// task.done();
/// queue.join();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Task<T> {
    item: T,
    done: Done<T>,
}

impl<T> Task<T> {
    /// Marks the item done (as dropping the task does).
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn done(self) {}

    /// Takes the item out and marks it done now: for an item whose processing is followed
    /// otherwise, such as one carrying its own [`Reply`](crate::Reply).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Reply, WorkQueue};
    ///
    /// let queue = WorkQueue::new();
    /// let (reply, square) = Reply::pair();
    /// queue.put((7, reply))?;
    /// let (n, reply) = queue.get()?.into_inner();
    /// reply.send(n * n);
    /// assert_eq!(square.wait()?, 49);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> T {
        let Task { item, done } = self;
        drop(done);
        item
    }
}

impl<T> Deref for Task<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T> DerefMut for Task<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.item
    }
}

impl<T: fmt::Debug> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Task").field(&self.item).finish()
    }
}

/// Marks its task's item done when dropped: a field of its own, so that the item can be
/// moved out of the task.
struct Done<T>(Arc<Shared<T>>);

impl<T> Drop for Done<T> {
    fn drop(&mut self) {
        self.0.unfinished.done();
    }
}
