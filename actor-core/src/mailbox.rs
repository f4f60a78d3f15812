//! Mailboxes: the queue in front of each actor, and what happens when a bounded one is full.
//!
//! Two flavors behind one private enum: a crossbeam channel (`channel.rs`), the fastest for
//! a thread-backed actor, and a queue under a mutex (`locked.rs`), for priority mailboxes
//! ([`ActorBuilder::priority`](crate::ActorBuilder::priority)) and for actors run by an
//! executor, where it is the most compact (and, with several receivers, for a
//! [`WorkQueue`](crate::WorkQueue) with priorities). What both flavors need (the envelope, the overflow
//! policy, what a send did; and, at the crate's root, how long a send waits) has a file of
//! its own below them, so that neither flavor imports this one.

mod channel;
mod envelope;
mod locked;
mod overflow;
mod sent;

use std::time::Instant;

use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, TryRecvError};

use crate::error::{SendError, SpawnError};
use crate::send_wait::SendWait;

pub(crate) use envelope::Envelope;
pub(crate) use locked::PriorityFn;
pub(crate) use locked::Queue as LockedQueue;
pub use overflow::Overflow;
pub(crate) use sent::Sent;

/// The kind of mailbox an actor gets, chosen at spawn.
///
/// # Examples
///
/// ```
/// use actor_core::{Mailbox, Overflow};
///
/// assert_eq!(Mailbox::default(), Mailbox::Unbounded);
/// let bounded = Mailbox::bounded(1024, Overflow::Block);
/// assert!(matches!(bounded, Mailbox::Bounded { capacity: 1024, .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mailbox {
    /// Grows without limit; `tell` never blocks. The default.
    #[default]
    Unbounded,
    /// Holds at most `capacity` messages; `overflow` decides what a `tell` to a full
    /// mailbox does.
    Bounded {
        /// Maximum number of queued messages (at least 1).
        capacity: usize,
        /// What a `tell` to a full mailbox does.
        overflow: Overflow,
    },
}

impl Mailbox {
    /// A bounded mailbox.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = actor_core::Mailbox::bounded(8, actor_core::Overflow::DropNewest);
    /// assert_ne!(m, actor_core::Mailbox::Unbounded);
    /// ```
    #[must_use]
    pub fn bounded(capacity: usize, overflow: Overflow) -> Mailbox {
        Mailbox::Bounded { capacity, overflow }
    }

    /// The capacity (`None`: unbounded) and the overflow policy; a zero capacity is refused.
    pub(crate) fn limits(self) -> Result<(Option<usize>, Overflow), SpawnError> {
        match self {
            Mailbox::Unbounded => Ok((None, Overflow::Block)),
            Mailbox::Bounded { capacity: 0, .. } => Err(SpawnError::ZeroCapacity),
            Mailbox::Bounded { capacity, overflow } => Ok((Some(capacity), overflow)),
        }
    }

    /// The mailbox of an actor: a channel, or a locked queue when the actor has priorities
    /// or is run by an executor (`compact`).
    pub(crate) fn create<M>(
        self,
        priority: Option<PriorityFn<M>>,
        compact: bool,
    ) -> Result<(MailboxQueue<M>, MailboxReceiver<M>), SpawnError> {
        let (capacity, overflow) = self.limits()?;
        match priority {
            None if !compact => {
                let (tx, rx) = match capacity {
                    None => crossbeam_channel::unbounded(),
                    Some(capacity) => crossbeam_channel::bounded(capacity),
                };
                Ok((
                    MailboxQueue::channel(tx, overflow),
                    MailboxReceiver::Channel(rx),
                ))
            }
            priority => Ok((
                MailboxQueue::Locked(locked::Queue::new(capacity, overflow, priority)),
                MailboxReceiver::Locked,
            )),
        }
    }
}

/// An actor's mailbox as it lives in the actor's allocation (see `local.rs`): the sending
/// side of a channel, or a whole locked queue. Applies the overflow policy.
///
/// Receiving takes the [`MailboxReceiver`] too, which holds what the receiving side owns
/// apart: a channel's receiver, whose drop disconnects the channel.
pub(crate) enum MailboxQueue<M> {
    Channel(channel::Sender<M>),
    Locked(locked::Queue<M>),
}

impl<M> MailboxQueue<M> {
    /// The sending side of a channel mailbox built elsewhere (an inbox's).
    pub(crate) fn channel(tx: crossbeam_channel::Sender<Envelope<M>>, overflow: Overflow) -> Self {
        MailboxQueue::Channel(channel::Sender::new(tx, overflow))
    }

    /// Queues a message, waiting for room as `wait` allows when the policy is `Block`.
    #[inline]
    pub(crate) fn send(&self, env: Envelope<M>, wait: SendWait) -> Result<Sent, SendError<M>> {
        match self {
            MailboxQueue::Channel(tx) => tx.send(env, wait),
            MailboxQueue::Locked(queue) => queue.send(env, wait),
        }
    }

    /// How many messages are queued now.
    pub(crate) fn len(&self) -> usize {
        match self {
            MailboxQueue::Channel(tx) => tx.len(),
            MailboxQueue::Locked(queue) => queue.len(),
        }
    }

    /// Makes a receiver blocked on an empty mailbox look at its actor's state.
    pub(crate) fn wake(&self) {
        match self {
            MailboxQueue::Channel(tx) => tx.wake(),
            MailboxQueue::Locked(queue) => queue.wake(),
        }
    }

    #[inline]
    pub(crate) fn try_recv(&self, rx: &MailboxReceiver<M>) -> Result<Envelope<M>, TryRecvError> {
        match (self, rx) {
            (MailboxQueue::Locked(queue), _) => queue.try_recv(),
            (MailboxQueue::Channel(_), MailboxReceiver::Channel(rx)) => rx.try_recv(),
            (MailboxQueue::Channel(_), MailboxReceiver::Locked) => Err(TryRecvError::Disconnected),
        }
    }

    #[inline]
    pub(crate) fn recv(&self, rx: &MailboxReceiver<M>) -> Result<Envelope<M>, RecvError> {
        match (self, rx) {
            (MailboxQueue::Locked(queue), _) => queue.recv(),
            (MailboxQueue::Channel(_), MailboxReceiver::Channel(rx)) => rx.recv(),
            (MailboxQueue::Channel(_), MailboxReceiver::Locked) => Err(RecvError),
        }
    }

    pub(crate) fn recv_deadline(
        &self,
        rx: &MailboxReceiver<M>,
        deadline: Instant,
    ) -> Result<Envelope<M>, RecvTimeoutError> {
        match (self, rx) {
            (MailboxQueue::Locked(queue), _) => queue.recv_deadline(deadline),
            (MailboxQueue::Channel(_), MailboxReceiver::Channel(rx)) => rx.recv_deadline(deadline),
            (MailboxQueue::Channel(_), MailboxReceiver::Locked) => {
                Err(RecvTimeoutError::Disconnected)
            }
        }
    }

    /// Whether a receive would find nothing, counting a pending wake-up as something.
    pub(crate) fn is_empty(&self, rx: &MailboxReceiver<M>) -> bool {
        match (self, rx) {
            (MailboxQueue::Locked(queue), _) => queue.is_empty(),
            (MailboxQueue::Channel(_), MailboxReceiver::Channel(rx)) => rx.is_empty(),
            (MailboxQueue::Channel(_), MailboxReceiver::Locked) => true,
        }
    }

    /// The receiving side is done: a locked queue refuses further sends and discards what
    /// it holds (a channel closes itself when its receiver is dropped).
    pub(crate) fn close(&self) {
        if let MailboxQueue::Locked(queue) = self {
            queue.close();
        }
    }
}

/// What the receiving side of a mailbox owns apart from the actor's allocation: a channel's
/// receiver (its drop disconnects the channel and releases blocked senders), or nothing for
/// a locked queue, which is read where it lives. Made together with its [`MailboxQueue`];
/// the two always have the same flavor.
pub(crate) enum MailboxReceiver<M> {
    Channel(Receiver<Envelope<M>>),
    Locked,
}
