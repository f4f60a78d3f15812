//! Mailboxes: the queue in front of each actor, and what happens when a bounded one is full.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::error::{SendError, SpawnError};

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

    pub(crate) fn channel<M>(
        self,
    ) -> Result<(MailboxSender<M>, Receiver<Envelope<M>>), SpawnError> {
        let ((tx, rx), overflow) = match self {
            Mailbox::Unbounded => (crossbeam_channel::unbounded(), Overflow::Block),
            Mailbox::Bounded { capacity: 0, .. } => return Err(SpawnError::ZeroCapacity),
            Mailbox::Bounded { capacity, overflow } => {
                (crossbeam_channel::bounded(capacity), overflow)
            }
        };
        Ok((MailboxSender { tx, overflow }, rx))
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

/// How long a send may wait for room in a full bounded mailbox.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    Never,
    Forever,
    Until(Instant),
}

/// The sending side of a mailbox, applying its overflow policy.
pub(crate) struct MailboxSender<M> {
    tx: Sender<Envelope<M>>,
    overflow: Overflow,
}

impl<M> Clone for MailboxSender<M> {
    fn clone(&self) -> Self {
        MailboxSender {
            tx: self.tx.clone(),
            overflow: self.overflow,
        }
    }
}

impl<M> MailboxSender<M> {
    /// Queues `msg`, waiting for room as `wait` allows when the policy is `Block`.
    pub(crate) fn send(&self, msg: M, wait: Wait, dropped: &AtomicU64) -> Result<(), SendError<M>> {
        let env = Envelope::Msg(msg);
        let result = match (self.overflow, wait) {
            (Overflow::Block, Wait::Forever) => {
                return self
                    .tx
                    .send(env)
                    .map_err(|e| SendError::Closed(unwrap_msg(e.0)));
            }
            (Overflow::Block, Wait::Until(deadline)) => {
                return self.tx.send_deadline(env, deadline).map_err(|e| match e {
                    crossbeam_channel::SendTimeoutError::Timeout(env) => {
                        SendError::Timeout(unwrap_msg(env))
                    }
                    crossbeam_channel::SendTimeoutError::Disconnected(env) => {
                        SendError::Closed(unwrap_msg(env))
                    }
                });
            }
            _ => self.tx.try_send(env),
        };
        match result {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(env)) => Err(SendError::Closed(unwrap_msg(env))),
            Err(TrySendError::Full(env)) => match self.overflow {
                // Counted, not delivered: the policy promises success to the sender.
                Overflow::DropNewest => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Overflow::Block | Overflow::Fail => Err(SendError::Full(unwrap_msg(env))),
            },
        }
    }

    /// Queues a wake-up if there is room. A full mailbox needs none: its actor is not
    /// blocked waiting for mail and will look at its state before the next message.
    pub(crate) fn wake(&self) {
        let _ = self.tx.try_send(Envelope::Wake);
    }
}

fn unwrap_msg<M>(env: Envelope<M>) -> M {
    match env {
        Envelope::Msg(m) => m,
        Envelope::Wake => unreachable!("invariant: senders hand back only the message they sent"),
    }
}
