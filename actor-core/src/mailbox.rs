//! Mailboxes: the queue in front of each actor, and what happens when a bounded one is full.
//!
//! Two flavors behind one private enum: a crossbeam channel (`channel.rs`), the fastest for
//! a thread-backed actor, and a queue under a mutex (`locked.rs`), for priority mailboxes
//! ([`ActorBuilder::priority`](crate::ActorBuilder::priority)) and for actors run by an
//! executor, where it is the most compact.

mod channel;
mod locked;

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvError, TryRecvError};

use crate::error::{SendError, SpawnError};

pub(crate) use locked::PriorityFn;

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
    pub fn bounded(capacity: usize, overflow: Overflow) -> Mailbox {
        Mailbox::Bounded { capacity, overflow }
    }

    fn limits(self) -> Result<(Option<usize>, Overflow), SpawnError> {
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

/// What `tell` does when a bounded mailbox is full.
///
/// `try_tell` never blocks: under `Block` it returns [`SendError::Full`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait for room (backpressure). The default.
    #[default]
    Block,
    /// Fail at once with [`SendError::Full`], giving the message back.
    Fail,
    /// Discard the new message, count it (see
    /// [`ActorRef::dropped_count`](crate::ActorRef::dropped_count)) and report success.
    DropNewest,
}

/// What travels through a mailbox.
pub(crate) enum Envelope<M> {
    /// A user message.
    Msg(M),
    /// Nothing to handle: wakes a blocked actor so it looks at its state (stop, kill).
    Wake,
}

impl<M> Envelope<M> {
    /// The message a sender handed in; a send only ever hands back what it was given.
    fn into_msg(self) -> M {
        match self {
            Envelope::Msg(m) => m,
            Envelope::Wake => {
                unreachable!("invariant: senders hand back only the message they sent")
            }
        }
    }
}

/// How long a send may wait for room in a full bounded queue (a mailbox, or a transport's
/// queue for a [`RemoteTarget`](crate::RemoteTarget)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendWait {
    /// Do not wait: a full queue is an error (`try_tell`).
    Never,
    /// Wait as long as it takes (`tell`).
    Forever,
    /// Wait until this instant at most (`tell_timeout`).
    Until(Instant),
}

/// What a successful send did with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Queued,
    /// Discarded by a full `DropNewest` mailbox, as the policy promises the sender.
    Dropped,
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

    /// Queues `msg`, waiting for room as `wait` allows when the policy is `Block`.
    #[inline]
    pub(crate) fn send(&self, msg: M, wait: SendWait) -> Result<Sent, SendError<M>> {
        match self {
            MailboxSender::Channel(tx) => tx.send(msg, wait),
            MailboxSender::Locked(queue) => queue.send(msg, wait),
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

    pub(crate) fn len(&self) -> usize {
        match self {
            MailboxReceiver::Channel(rx) => rx.len(),
            MailboxReceiver::Locked(queue) => queue.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
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
