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

use std::sync::Arc;

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
    ) -> Result<(MailboxSender<M>, MailboxReceiver<M>), SpawnError> {
        let (capacity, overflow) = self.limits()?;
        match priority {
            None if !compact => {
                let (tx, rx) = match capacity {
                    None => crossbeam_channel::unbounded(),
                    Some(capacity) => crossbeam_channel::bounded(capacity),
                };
                Ok((
                    MailboxSender::channel(tx, overflow),
                    MailboxReceiver::Channel(rx),
                ))
            }
            priority => {
                let queue = locked::Queue::new(capacity, overflow, priority);
                Ok((
                    MailboxSender::Locked(Arc::clone(&queue)),
                    MailboxReceiver::Locked(queue),
                ))
            }
        }
    }
}

/// The sending side of a mailbox, applying its overflow policy.
pub(crate) enum MailboxSender<M> {
    Channel(channel::Sender<M>),
    Locked(Arc<locked::Queue<M>>),
}

impl<M> Clone for MailboxSender<M> {
    fn clone(&self) -> Self {
        match self {
            MailboxSender::Channel(tx) => MailboxSender::Channel(tx.clone()),
            MailboxSender::Locked(queue) => MailboxSender::Locked(Arc::clone(queue)),
        }
    }
}

impl<M> MailboxSender<M> {
    /// The sending side of a channel mailbox built elsewhere (an inbox's).
    pub(crate) fn channel(tx: crossbeam_channel::Sender<Envelope<M>>, overflow: Overflow) -> Self {
        MailboxSender::Channel(channel::Sender::new(tx, overflow))
    }

    /// Queues a message, waiting for room as `wait` allows when the policy is `Block`.
    #[inline]
    pub(crate) fn send(&self, env: Envelope<M>, wait: SendWait) -> Result<Sent, SendError<M>> {
        match self {
            MailboxSender::Channel(tx) => tx.send(env, wait),
            MailboxSender::Locked(queue) => queue.send(env, wait),
        }
    }

    /// How many messages are queued now.
    pub(crate) fn len(&self) -> usize {
        match self {
            MailboxSender::Channel(tx) => tx.len(),
            MailboxSender::Locked(queue) => queue.len(),
        }
    }

    /// Makes a receiver blocked on an empty mailbox look at its actor's state.
    pub(crate) fn wake(&self) {
        match self {
            MailboxSender::Channel(tx) => tx.wake(),
            MailboxSender::Locked(queue) => queue.wake(),
        }
    }
}

/// The receiving side of an actor's mailbox.
pub(crate) enum MailboxReceiver<M> {
    Channel(Receiver<Envelope<M>>),
    Locked(Arc<locked::Queue<M>>),
}

impl<M> MailboxReceiver<M> {
    #[inline]
    pub(crate) fn try_recv(&self) -> Result<Envelope<M>, TryRecvError> {
        match self {
            MailboxReceiver::Channel(rx) => rx.try_recv(),
            MailboxReceiver::Locked(queue) => queue.try_recv(),
        }
    }

    #[inline]
    pub(crate) fn recv(&self) -> Result<Envelope<M>, RecvError> {
        match self {
            MailboxReceiver::Channel(rx) => rx.recv(),
            MailboxReceiver::Locked(queue) => queue.recv(),
        }
    }

    pub(crate) fn recv_deadline(&self, deadline: Instant) -> Result<Envelope<M>, RecvTimeoutError> {
        match self {
            MailboxReceiver::Channel(rx) => rx.recv_deadline(deadline),
            MailboxReceiver::Locked(queue) => queue.recv_deadline(deadline),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            MailboxReceiver::Channel(rx) => rx.len(),
            MailboxReceiver::Locked(queue) => queue.len(),
        }
    }

    /// Whether a receive would find nothing, counting a pending wake-up as something.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            MailboxReceiver::Channel(rx) => rx.is_empty(),
            MailboxReceiver::Locked(queue) => queue.is_empty(),
        }
    }
}

impl<M> Drop for MailboxReceiver<M> {
    fn drop(&mut self) {
        // A channel closes itself when its last receiver goes; the queue must be told.
        if let MailboxReceiver::Locked(queue) = self {
            queue.close();
        }
    }
}
