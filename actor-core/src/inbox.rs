//! [`Inbox`]: a mailbox read by a thread instead of an actor.
//!
//! Closing follows the actor's rules (see `cell.rs`): `close` shuts the gate, so a `tell`
//! either was announced before it (and its message is handed out) or fails with `Closed`.
//! The inbox counts the messages it hands out; once the gate is closed and that count
//! reaches the gate's count of announced messages, nothing more can arrive and a receive
//! returns [`RecvError::Closed`]. A receiver blocked on the empty channel is woken by the
//! wake-up envelope that closing sends, by a late sender that takes its announcement back,
//! or by the late message itself. Several threads may receive from one inbox (`&Inbox` is
//! shared): the one that takes the last message after the close, and the one that sees the
//! end, each queue a wake-up, so that no other receiver stays blocked.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::actor_id::ActorId;
use crate::actor_ref::ActorRef;
use crate::cell::ActorCell;
use crate::error::{RecvError, SpawnError};
use crate::local::Local;
use crate::mailbox::{
    Envelope, LockedQueue, Mailbox, MailboxQueue, MailboxReceiver, Overflow, PriorityFn,
};
use crate::supervision::ExitReason;

/// A mailbox with no actor behind it: hand out its [`ActorRef`], and a plain thread
/// receives what is sent to it.
///
/// Use it where a thread (a `main`, a test, a bridge to other code) must take part in an
/// actor conversation: receive notices, replies or published messages; or, with
/// [`Select`](crate::Select), wait on several inboxes and channels at once. The ref behaves
/// like any actor's: `tell` queues (into a bounded inbox, as its [`Overflow`] policy says),
/// and once the inbox is closed or dropped, `tell` fails with
/// [`SendError::Closed`](crate::SendError::Closed).
///
/// [`close`](Inbox::close) is the end of the stream, the framework's answer to a sentinel
/// value: what was queued before is still received, then every receive returns
/// [`RecvError::Closed`]. Monitors get a `Down` notice when the inbox is dropped.
///
/// [`with_priority`](Inbox::with_priority) makes an inbox that hands out the most urgent
/// message first. For items shared by several consumer threads, or whose processing a
/// producer waits for, use a [`WorkQueue`](crate::WorkQueue).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Inbox, RecvError};
///
/// let inbox = Inbox::new();
/// let sender = inbox.actor_ref().clone();
/// std::thread::spawn(move || sender.tell("hello").unwrap());
/// assert_eq!(inbox.recv_timeout(Duration::from_secs(5)), Ok("hello"));
/// assert_eq!(inbox.try_recv(), Err(RecvError::Empty));
/// ```
pub struct Inbox<M> {
    rx: MailboxReceiver<M>,
    /// What a [`Select`](crate::Select) waits on.
    readiness: Readiness<M>,
    actor_ref: ActorRef<M>,
    /// The allocation `actor_ref` points to: its cell and mailbox.
    local: Arc<Local<M, ()>>,
    /// Messages handed out so far (see the module documentation). `SeqCst`, like the gate
    /// it is compared with.
    taken: AtomicU64,
}

/// What a [`Select`](crate::Select) waits on to learn that an inbox has something: its
/// channel, or the doorbell of its locked queue (a priority inbox).
pub(crate) enum Readiness<M> {
    Channel(Receiver<Envelope<M>>),
    Bell(Receiver<()>),
}

impl<M: Send + 'static> Inbox<M> {
    /// An inbox with an unbounded mailbox.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    #[must_use]
    pub fn new() -> Inbox<M> {
        Inbox::from_channel(crossbeam_channel::unbounded(), Overflow::Block)
    }

    /// An inbox with the given mailbox: bounded ones apply their [`Overflow`] policy to a
    /// `tell` that finds them full, as an actor's do.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ZeroCapacity`] for a bounded mailbox of capacity 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Inbox, Mailbox, Overflow, SendError};
    ///
    /// let inbox = Inbox::with_mailbox(Mailbox::bounded(1, Overflow::Fail))?;
    /// let to_inbox = inbox.actor_ref();
    /// to_inbox.tell(1)?;
    /// assert!(matches!(to_inbox.tell(2), Err(SendError::Full(2))));
    /// assert_eq!(inbox.recv(), Ok(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_mailbox(mailbox: Mailbox) -> Result<Inbox<M>, SpawnError> {
        let (capacity, overflow) = mailbox.limits()?;
        let channel = match capacity {
            None => crossbeam_channel::unbounded(),
            Some(capacity) => crossbeam_channel::bounded(capacity),
        };
        Ok(Inbox::from_channel(channel, overflow))
    }

    /// An inbox that hands out the message of highest `priority` first, and messages of
    /// equal priority in arrival order; `mailbox` sets its limits as for
    /// [`with_mailbox`](Inbox::with_mailbox).
    ///
    /// `priority` rates each message once, as it is sent. A priority inbox takes a lock per
    /// send and receive; it can be waited on in a [`Select`](crate::Select) like any other.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ZeroCapacity`] for a bounded mailbox of capacity 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Inbox, Mailbox};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum Job {
    ///     Routine(u32),
    ///     Urgent(u32),
    /// }
    ///
    /// let inbox = Inbox::with_priority(Mailbox::Unbounded, |job: &Job| match job {
    ///     Job::Urgent(_) => 1,
    ///     Job::Routine(_) => 0,
    /// })?;
    /// let to_inbox = inbox.actor_ref();
    /// to_inbox.tell(Job::Routine(1))?;
    /// to_inbox.tell(Job::Urgent(2))?;
    /// to_inbox.tell(Job::Routine(3))?;
    /// assert_eq!(inbox.recv(), Ok(Job::Urgent(2)));
    /// assert_eq!(inbox.recv(), Ok(Job::Routine(1)));
    /// assert_eq!(inbox.recv(), Ok(Job::Routine(3)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_priority(
        mailbox: Mailbox,
        priority: impl Fn(&M) -> u32 + Send + Sync + 'static,
    ) -> Result<Inbox<M>, SpawnError> {
        let (capacity, overflow) = mailbox.limits()?;
        let priority: PriorityFn<M> = Arc::new(priority);
        let (queue, bell) = LockedQueue::with_bell(capacity, overflow, Some(priority));
        Ok(Inbox::from_parts(
            MailboxQueue::Locked(queue),
            MailboxReceiver::Locked,
            Readiness::Bell(bell),
        ))
    }

    fn from_channel(
        (tx, rx): (
            crossbeam_channel::Sender<Envelope<M>>,
            crossbeam_channel::Receiver<Envelope<M>>,
        ),
        overflow: Overflow,
    ) -> Inbox<M> {
        Inbox::from_parts(
            MailboxQueue::channel(tx, overflow),
            MailboxReceiver::Channel(rx.clone()),
            Readiness::Channel(rx),
        )
    }

    fn from_parts(
        mailbox: MailboxQueue<M>,
        rx: MailboxReceiver<M>,
        readiness: Readiness<M>,
    ) -> Inbox<M> {
        let cell = ActorCell::new(ActorId::next(), None, std::sync::Weak::new());
        let local = Arc::new(Local::new(cell, mailbox, ()));
        Inbox {
            rx,
            readiness,
            actor_ref: ActorRef::local(Arc::clone(&local) as Arc<Local<M>>),
            local,
            taken: AtomicU64::new(0),
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

    /// Closes the inbox: from now on `tell` fails with
    /// [`SendError::Closed`](crate::SendError::Closed); what is queued is still received,
    /// then receives return [`RecvError::Closed`] (a receiver blocked on the empty inbox
    /// wakes up with it). Closing twice does nothing more. Stopping the inbox's ref
    /// ([`ActorRef::stop`]) closes it too. In a [`Select`](crate::Select), a closed and
    /// drained inbox counts as ready, and `try_recv` then says `Closed`: remove it.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Inbox, RecvError, SendError};
    ///
    /// let inbox = Inbox::new();
    /// let to_inbox = inbox.actor_ref().clone();
    /// let consumer = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     while let Ok(n) = inbox.recv() {
    ///         got.push(n);
    ///     }
    ///     got
    /// });
    /// to_inbox.tell(1)?;
    /// to_inbox.tell(2)?;
    /// to_inbox.stop(); // what `close` does, from the sending side
    /// assert!(matches!(to_inbox.tell(3), Err(SendError::Closed(3))));
    /// assert_eq!(consumer.join().unwrap(), [1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) {
        self.local.stop();
    }

    /// Whether the inbox is closed (it may still hold messages to receive).
    ///
    /// # Examples
    ///
    /// ```
    /// let inbox = actor_core::Inbox::<u8>::new();
    /// assert!(!inbox.is_closed());
    /// inbox.close();
    /// assert!(inbox.is_closed());
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.local.cell.is_closed()
    }

    /// Takes the next message if one is queued, without blocking.
    ///
    /// # Errors
    ///
    /// [`RecvError::Empty`] when nothing is queued now; [`RecvError::Closed`] when the inbox
    /// is closed and drained.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    pub fn try_recv(&self) -> Result<M, RecvError> {
        loop {
            match self.local.mailbox.try_recv(&self.rx) {
                Ok(envelope) => {
                    if let Some(msg) = self.accept(envelope) {
                        return Ok(msg);
                    }
                }
                Err(_) => return Err(self.why_empty()),
            }
        }
    }

    /// Waits for the next message.
    ///
    /// # Errors
    ///
    /// [`RecvError::Closed`] when the inbox is closed and drained: nothing more will come.
    ///
    /// # Examples
    ///
    /// ```
    /// let inbox = actor_core::Inbox::new();
    /// inbox.actor_ref().tell(1)?;
    /// assert_eq!(inbox.recv(), Ok(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv(&self) -> Result<M, RecvError> {
        loop {
            match self.try_recv() {
                Err(RecvError::Empty) => {}
                done => return done,
            }
            // Whatever wakes us (a message, or a wake-up at the close), look again. The
            // inbox's own ref holds a sender, so the channel never disconnects.
            if let Ok(envelope) = self.local.mailbox.recv(&self.rx)
                && let Some(msg) = self.accept(envelope)
            {
                return Ok(msg);
            }
        }
    }

    /// Waits at most `timeout` for the next message.
    ///
    /// # Errors
    ///
    /// [`RecvError::Timeout`] when nothing came in time; [`RecvError::Closed`] when the
    /// inbox is closed and drained.
    ///
    /// # Examples
    ///
    /// See [`Inbox`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<M, RecvError> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return self.recv();
        };
        loop {
            match self.try_recv() {
                Err(RecvError::Empty) => {}
                done => return done,
            }
            match self.local.mailbox.recv_deadline(&self.rx, deadline) {
                Ok(envelope) => {
                    if let Some(msg) = self.accept(envelope) {
                        return Ok(msg);
                    }
                }
                Err(_) => {
                    return self.try_recv().map_err(|why| match why {
                        RecvError::Empty => RecvError::Timeout,
                        other => other,
                    });
                }
            }
        }
    }

    /// The message in an envelope (`None` for a wake-up), counted as handed out.
    fn accept(&self, envelope: Envelope<M>) -> Option<M> {
        // The ticket, if any, goes back now: the message is in the receiving thread's hands.
        let (msg, _ticket) = envelope.into_parts()?;
        let taken = self.taken.fetch_add(1, Ordering::SeqCst) + 1;
        if self.local.cell.is_drained(taken) {
            // This was the last message. Another receiver may have found the inbox empty
            // just before this count, and be blocked now: let it look again. (Only now: a
            // wake-up takes a place in a bounded channel, which a late sender may need.)
            self.local.wake();
        }
        Some(msg)
    }

    /// Why the channel is empty: closed and drained, or nothing yet.
    fn why_empty(&self) -> RecvError {
        if self
            .local
            .cell
            .is_drained(self.taken.load(Ordering::SeqCst))
        {
            // Let any other receiver blocked on this inbox see the end too.
            self.local.wake();
            RecvError::Closed
        } else {
            RecvError::Empty
        }
    }

    pub(crate) fn readiness(&self) -> &Readiness<M> {
        &self.readiness
    }
}

impl<M: Send + 'static> Default for Inbox<M> {
    fn default() -> Self {
        Inbox::new()
    }
}

impl<M> Drop for Inbox<M> {
    fn drop(&mut self) {
        self.local.cell.close();
        self.local.cell.notify_exit(ExitReason::Stopped);
        // The receiving side is gone: a locked queue discards what it holds and lets its
        // blocked senders go (a channel does so when `rx` is dropped, just after this).
        self.local.mailbox.close();
    }
}

impl<M> fmt::Debug for Inbox<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("id", &self.actor_ref.id())
            .field("in_mailbox", &self.local.mailbox.len())
            .field("closed", &self.local.cell.is_closed())
            .finish()
    }
}
