//! [`Inbox`]: a mailbox read by a thread instead of an actor.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::actor_id::ActorId;
use crate::actor_ref::ActorRef;
use crate::cell::ActorCell;
use crate::mailbox::{Envelope, MailboxSender, Overflow};
use crate::supervision::ExitReason;

/// A mailbox with no actor behind it: hand out its [`ActorRef`], and a plain thread
/// receives what is sent to it.
///
/// Use it where a thread (a `main`, a test, a bridge to other code) must take part in an
/// actor conversation: receive notices, replies or published messages; or, with
/// [`Select`](crate::Select), wait on several inboxes and channels at once. The ref behaves
/// like any actor's: `tell` queues, and once the inbox is dropped, `tell` fails with
/// [`SendError::Closed`](crate::SendError::Closed) and monitors get a `Down` notice.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::Inbox;
///
/// let inbox = Inbox::new();
/// let sender = inbox.actor_ref().clone();
/// std::thread::spawn(move || sender.tell("hello").unwrap());
/// assert_eq!(inbox.recv_timeout(Duration::from_secs(5)), Some("hello"));
/// assert_eq!(inbox.try_recv(), None);
/// ```
pub struct Inbox<M> {
    rx: Receiver<Envelope<M>>,
    actor_ref: ActorRef<M>,
    cell: Arc<ActorCell>,
}

impl<M: Send + 'static> Inbox<M> {
    /// An inbox with an unbounded mailbox.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    #[must_use]
    pub fn new() -> Inbox<M> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let tx = MailboxSender::channel(tx, Overflow::Block);
        let (actor_ref, cell) = ActorRef::create(tx, None, std::sync::Weak::new());
        Inbox {
            rx,
            actor_ref,
            cell,
        }
    }

    /// The ref that sends to this inbox.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    #[must_use]
    pub fn actor_ref(&self) -> &ActorRef<M> {
        &self.actor_ref
    }

    /// The inbox's identity, as its ref reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// let inbox = actor_core::Inbox::<u8>::new();
    /// assert_eq!(inbox.id(), inbox.actor_ref().id());
    /// ```
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.actor_ref.id()
    }

    /// Takes the next message if one is queued, without blocking.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    #[must_use]
    pub fn try_recv(&self) -> Option<M> {
        loop {
            match self.rx.try_recv() {
                Ok(envelope) => {
                    if let Some((msg, _ticket)) = envelope.into_parts() {
                        return Some(msg);
                    }
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        }
    }

    /// Waits for the next message.
    ///
    /// # Examples
    ///
    /// ```
    /// let inbox = actor_core::Inbox::new();
    /// inbox.actor_ref().tell(1)?;
    /// assert_eq!(inbox.recv(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn recv(&self) -> M {
        loop {
            // The inbox's own ref holds a sender, so the channel cannot disconnect.
            if let Some((msg, _ticket)) = self.rx.recv().ok().and_then(Envelope::into_parts) {
                return msg;
            }
        }
    }

    /// Waits at most `timeout` for the next message.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    #[must_use]
    pub fn recv_timeout(&self, timeout: Duration) -> Option<M> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let next = match deadline {
                Some(deadline) => self.rx.recv_deadline(deadline),
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(envelope) => {
                    if let Some((msg, _ticket)) = envelope.into_parts() {
                        return Some(msg);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    pub(crate) fn receiver(&self) -> &Receiver<Envelope<M>> {
        &self.rx
    }
}

impl<M: Send + 'static> Default for Inbox<M> {
    fn default() -> Self {
        Inbox::new()
    }
}

impl<M> Drop for Inbox<M> {
    fn drop(&mut self) {
        self.cell.close();
        self.cell.notify_exit(ExitReason::Stopped);
    }
}

impl<M> fmt::Debug for Inbox<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("id", &self.actor_ref.id())
            .field("in_mailbox", &self.rx.len())
            .finish()
    }
}
