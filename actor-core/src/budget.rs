//! [`Budget`]: a bound on what is in flight (a number of messages and of bytes), and
//! [`Ticket`], one message's share of it, given back when the ticket is dropped.
//!
//! A transport takes a ticket for each message it hands to an actor and sends it along
//! ([`ActorRef::tell_ticketed`](crate::ActorRef::tell_ticketed)); the actor's runner drops it
//! once the message has been handled (or discarded), so the budget counts exactly what is
//! queued or being handled. When the budget is spent, the transport waits (and stops reading
//! its socket, which pushes back on the sender through TCP) until a ticket comes back.
//! A transport that takes room for a whole frame before it reads the frame carves each
//! message's share out of the frame's ([`Ticket::split`]), so that handing the messages on
//! never waits for room that the frame itself holds.
//!
//! State: one `AtomicU64`, the messages in use in the high 32 bits and the bytes in use in
//! the low 32 bits, so that taking and giving back are one atomic operation each and the two
//! counts never disagree.
//!
//! | in use                       | `take` / `try_take`         | `force`      |
//! |------------------------------|-----------------------------|--------------|
//! | room for the new one         | succeeds                    | succeeds     |
//! | no room, something in use    | waits (as allowed) / `None` | succeeds     |
//! | no room, nothing in use      | succeeds (one oversized)    | succeeds     |
//!
//! The last row makes a single message larger than the whole byte budget pass when it is
//! alone, so that a budget smaller than the largest message never deadlocks.
//!
//! Waking: a taker that must wait registers in `waiters` (SeqCst), then looks at the state
//! again (SeqCst) under the `room` mutex before it sleeps; a ticket that comes back subtracts
//! (SeqCst), then reads `waiters` (SeqCst) and, if anyone waits and the budget is down to its
//! low-water mark (half of both limits, or nothing in use), notifies under the mutex. In the
//! single total order of SeqCst operations, either the giver sees the waiter, or the
//! waiter's second look sees the room; and a giver that sees the waiter but is above the
//! low-water mark leaves the wake-up to a later one, which must come: what is in use is held
//! by tickets, and every ticket comes back.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::send_wait::SendWait;

const BYTES_MASK: u64 = 0xFFFF_FFFF;

/// A bound on what is in flight: at most some number of messages and of bytes at once.
///
/// # Examples
///
/// ```
/// use actor_core::{Budget, SendWait};
///
/// let budget = Budget::new(2, 1024);
/// let first = budget.try_take(600).expect("room");
/// assert!(budget.try_take(600).is_none(), "1200 bytes would be over 1024");
/// let small = budget.try_take(100).expect("room for 100 more");
/// assert_eq!(budget.in_use(), (2, 700));
/// drop(first);
/// assert_eq!(budget.in_use(), (1, 100));
/// let third = budget.take(200, SendWait::Never)?;
/// drop((small, third));
/// assert_eq!(budget.in_use(), (0, 0));
/// # Ok::<(), actor_core::BudgetError>(())
/// ```
pub struct Budget {
    max_messages: u32,
    max_bytes: u32,
    /// Messages in use (high 32 bits) and bytes in use (low 32 bits).
    used: AtomicU64,
    /// How many takers are waiting for room (see the module documentation).
    waiters: AtomicUsize,
    room: Mutex<()>,
    returned: Condvar,
}

/// A taken share of a [`Budget`]: one message and some bytes, given back when dropped.
///
/// # Examples
///
/// See [`Budget`].
#[must_use = "a ticket gives its share back as soon as it is dropped"]
pub struct Ticket {
    first: Share,
    /// Other budgets' shares, given back with this one (see [`Ticket::join`]): inline for
    /// the common cases of two and three (a connection's, an actor's and a node's), so that
    /// joining allocates nothing.
    second: Option<Share>,
    third: Option<Share>,
    /// Any further shares.
    more: Option<Box<Ticket>>,
}

/// One budget's share: `messages` messages (one, unless absorbed) and `bytes` bytes, given
/// back when dropped.
struct Share {
    budget: Arc<Budget>,
    messages: u32,
    bytes: u32,
}

impl Drop for Share {
    fn drop(&mut self) {
        if self.messages > 0 || self.bytes > 0 {
            self.budget.give_back(self.messages, self.bytes);
        }
    }
}

/// A [`Budget`] had no room.
///
/// # Examples
///
/// ```
/// use actor_core::{Budget, BudgetError, SendWait};
///
/// let budget = Budget::new(1, 10);
/// let _held = budget.try_take(1).expect("room");
/// assert_eq!(budget.take(1, SendWait::Never).err(), Some(BudgetError::Full));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// No room, and the taker would not wait.
    #[error("the budget is spent")]
    Full,
    /// No room came before the deadline.
    #[error("the budget stayed spent until the deadline")]
    Timeout,
}

impl Budget {
    /// A budget of at most `messages` messages and `bytes` bytes in flight (each at least 1;
    /// bytes at most `u32::MAX`).
    ///
    /// # Examples
    ///
    /// See [`Budget`].
    #[must_use]
    pub fn new(messages: usize, bytes: usize) -> Arc<Budget> {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).max(1);
        Arc::new(Budget {
            max_messages: clamp(messages),
            max_bytes: clamp(bytes),
            used: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            room: Mutex::new(()),
            returned: Condvar::new(),
        })
    }

    /// The limits: messages and bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_core::Budget::new(8, 4096).limits(), (8, 4096));
    /// ```
    #[must_use]
    pub fn limits(&self) -> (usize, usize) {
        (self.max_messages as usize, self.max_bytes as usize)
    }

    /// What is in use now: messages and bytes.
    ///
    /// # Examples
    ///
    /// See [`Budget`].
    #[must_use]
    pub fn in_use(&self) -> (usize, usize) {
        let used = self.used.load(Ordering::Relaxed);
        ((used >> 32) as usize, (used & BYTES_MASK) as usize)
    }

    /// Whether a share of `bytes` fits now (as `try_take` would decide).
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = actor_core::Budget::new(1, 100);
    /// assert!(budget.has_room(100));
    /// let _held = budget.try_take(1).expect("room");
    /// assert!(!budget.has_room(1));
    /// ```
    #[must_use]
    pub fn has_room(&self, bytes: usize) -> bool {
        self.fits(self.used.load(Ordering::SeqCst), Self::clamp_bytes(bytes))
    }

    /// Takes one message of `bytes` if there is room now; never waits.
    ///
    /// # Examples
    ///
    /// See [`Budget`].
    pub fn try_take(self: &Arc<Self>, bytes: usize) -> Option<Ticket> {
        let bytes = Self::clamp_bytes(bytes);
        let mut used = self.used.load(Ordering::SeqCst);
        loop {
            if !self.fits(used, bytes) {
                return None;
            }
            // SeqCst: see the module documentation (pairs with the waiters' second look).
            match self.used.compare_exchange_weak(
                used,
                used + (1 << 32) + u64::from(bytes),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Some(self.ticket(bytes)),
                Err(now) => used = now,
            }
        }
    }

    /// Takes one message of `bytes`, waiting for room as `wait` allows.
    ///
    /// # Errors
    ///
    /// [`BudgetError::Full`] for [`SendWait::Never`] when there is no room;
    /// [`BudgetError::Timeout`] when no room came before the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use actor_core::{Budget, BudgetError, SendWait};
    ///
    /// let budget = Budget::new(1, 10);
    /// let held = budget.try_take(1).expect("room");
    /// let soon = SendWait::Until(Instant::now() + Duration::from_millis(10));
    /// assert_eq!(budget.take(1, soon).err(), Some(BudgetError::Timeout));
    /// drop(held);
    /// assert!(budget.take(1, SendWait::Forever).is_ok());
    /// ```
    pub fn take(self: &Arc<Self>, bytes: usize, wait: SendWait) -> Result<Ticket, BudgetError> {
        if let Some(ticket) = self.try_take(bytes) {
            return Ok(ticket);
        }
        let deadline = match wait {
            SendWait::Never => return Err(BudgetError::Full),
            SendWait::Forever => None,
            SendWait::Until(deadline) => Some(deadline),
        };
        let mut room = self.room.lock();
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let taken = loop {
            if let Some(ticket) = self.try_take(bytes) {
                break Ok(ticket);
            }
            match deadline {
                None => self.returned.wait(&mut room),
                Some(deadline) => {
                    if Instant::now() >= deadline {
                        break Err(BudgetError::Timeout);
                    }
                    let _ = self.returned.wait_until(&mut room, deadline);
                }
            }
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        taken
    }

    /// Takes one message of `bytes` whether there is room or not: for what must not wait
    /// and is bounded some other way (answers to requests already admitted).
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = actor_core::Budget::new(1, 10);
    /// let a = budget.force(8);
    /// let b = budget.force(8);
    /// assert_eq!(budget.in_use(), (2, 16));
    /// assert!(budget.try_take(1).is_none());
    /// # drop((a, b));
    /// ```
    pub fn force(self: &Arc<Self>, bytes: usize) -> Ticket {
        let bytes = Self::clamp_bytes(bytes);
        // SeqCst: see the module documentation.
        self.used
            .fetch_add((1 << 32) + u64::from(bytes), Ordering::SeqCst);
        self.ticket(bytes)
    }

    /// Waits until something is free (a message and a byte), or the deadline passes;
    /// returns whether there is room. For a transport that must not start new work while
    /// its budget is spent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let budget = actor_core::Budget::new(1, 10);
    /// assert!(budget.wait_for_room(Instant::now()));
    /// let held = budget.force(50);
    /// assert!(!budget.wait_for_room(Instant::now() + Duration::from_millis(5)));
    /// drop(held);
    /// assert!(budget.wait_for_room(Instant::now()));
    /// ```
    #[must_use]
    pub fn wait_for_room(&self, deadline: Instant) -> bool {
        if self.has_room(1) {
            return true;
        }
        let mut room = self.room.lock();
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let free = loop {
            if self.has_room(1) {
                break true;
            }
            if Instant::now() >= deadline {
                break false;
            }
            let _ = self.returned.wait_until(&mut room, deadline);
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        free
    }

    fn clamp_bytes(bytes: usize) -> u32 {
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }

    /// Whether one more message of `bytes` fits when `used` is in use.
    fn fits(&self, used: u64, bytes: u32) -> bool {
        let messages = used >> 32;
        if messages == 0 {
            // Alone, even an oversized message passes (see the module documentation).
            return true;
        }
        let in_bytes = used & BYTES_MASK;
        messages < u64::from(self.max_messages)
            && in_bytes + u64::from(bytes) <= u64::from(self.max_bytes)
    }

    fn ticket(self: &Arc<Self>, bytes: u32) -> Ticket {
        Ticket {
            first: Share {
                budget: Arc::clone(self),
                messages: 1,
                bytes,
            },
            second: None,
            third: None,
            more: None,
        }
    }

    fn give_back(&self, messages: u32, bytes: u32) {
        let share = (u64::from(messages) << 32) + u64::from(bytes);
        // SeqCst: see the module documentation (pairs with the waiters' registration).
        let before = self.used.fetch_sub(share, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 && self.low(before - share) {
            let _room = self.room.lock();
            self.returned.notify_all();
        }
    }

    /// Whether `used` is at the low-water mark: at most half of both limits in use, or
    /// nothing. Waiters are woken only there, so that a taker that waits is woken once per
    /// half a budget drained rather than once per ticket: a consumer that keeps up with its
    /// producer pays no wake-up per message. (A waiter needing more than half still gets its
    /// turn: at the latest when nothing is in use, when any one message fits.)
    fn low(&self, used: u64) -> bool {
        let (messages, bytes) = (used >> 32, used & BYTES_MASK);
        messages == 0
            || (messages <= u64::from(self.max_messages / 2)
                && bytes <= u64::from(self.max_bytes / 2))
    }
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (messages, bytes) = self.in_use();
        f.debug_struct("Budget")
            .field(
                "messages",
                &format_args!("{messages}/{}", self.max_messages),
            )
            .field("bytes", &format_args!("{bytes}/{}", self.max_bytes))
            .finish()
    }
}

impl Ticket {
    /// Adds `other`'s share to this ticket's, when both are single shares of the same budget,
    /// so that dropping this one gives both back in one operation (for a writer that gives
    /// back a whole batch at once); otherwise joins them (see [`join`](Ticket::join)).
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = actor_core::Budget::new(10, 1000);
    /// let mut batch = budget.try_take(10).expect("room");
    /// batch.absorb(budget.try_take(20).expect("room"));
    /// assert_eq!(budget.in_use(), (2, 30));
    /// drop(batch);
    /// assert_eq!(budget.in_use(), (0, 0));
    /// ```
    pub fn absorb(&mut self, mut other: Ticket) {
        let single = |t: &Ticket| t.second.is_none() && t.third.is_none() && t.more.is_none();
        if single(self) && single(&other) && Arc::ptr_eq(&self.first.budget, &other.first.budget) {
            let (mine, theirs) = (&mut self.first, &mut other.first);
            if let (Some(messages), Some(bytes)) = (
                mine.messages.checked_add(theirs.messages),
                mine.bytes.checked_add(theirs.bytes),
            ) {
                (mine.messages, mine.bytes) = (messages, bytes);
                // What `other` held is now this ticket's to give back.
                (theirs.messages, theirs.bytes) = (0, 0);
                return;
            }
        }
        let mut slot = &mut self.more;
        while let Some(next) = slot {
            slot = &mut next.more;
        }
        *slot = Some(Box::new(other));
    }

    /// One ticket that gives back both shares when dropped: for a message that counts
    /// against two budgets (a connection's, and the actor's it goes to).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::Budget;
    ///
    /// let connection = Budget::new(10, 1000);
    /// let actor = Budget::new(4, usize::MAX);
    /// let both = connection.try_take(100).expect("room").join(actor.try_take(0).expect("room"));
    /// assert_eq!((connection.in_use(), actor.in_use()), ((1, 100), (1, 0)));
    /// drop(both);
    /// assert_eq!((connection.in_use(), actor.in_use()), ((0, 0), (0, 0)));
    /// ```
    pub fn join(mut self, other: Ticket) -> Ticket {
        match other {
            Ticket {
                first,
                second: None,
                third: None,
                more: None,
            } if self.more.is_none() && (self.second.is_none() || self.third.is_none()) => {
                if self.second.is_none() {
                    self.second = Some(first);
                } else {
                    self.third = Some(first);
                }
            }
            other => {
                let mut slot = &mut self.more;
                while let Some(next) = slot {
                    slot = &mut next.more;
                }
                *slot = Some(Box::new(other));
            }
        }
        self
    }

    /// Carves `bytes` out of this ticket's share into a ticket of their own: a new message of
    /// the same budget, holding those bytes, which this ticket then no longer holds. At most
    /// what this ticket's own share holds is carved (of a joined ticket, its first share's).
    ///
    /// For a transport that takes room for a whole frame before reading it and then hands
    /// each message of the frame on with its part: the parts come out of room already
    /// taken, so handing them on never waits for the budget, and what is not carved goes
    /// back when the frame's ticket is dropped. The new message counts whatever the message
    /// limit (as [`force`](Budget::force) does); the bytes in use do not change.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = actor_core::Budget::new(10, 1000);
    /// let mut frame = budget.try_take(600).expect("room");
    /// let first = frame.split(200);
    /// let second = frame.split(300);
    /// assert_eq!(budget.in_use(), (3, 600));
    /// drop(frame); // the 100 bytes left over
    /// assert_eq!(budget.in_use(), (2, 500));
    /// drop((first, second));
    /// assert_eq!(budget.in_use(), (0, 0));
    /// ```
    pub fn split(&mut self, bytes: usize) -> Ticket {
        let share = &mut self.first;
        let bytes = Budget::clamp_bytes(bytes).min(share.bytes);
        // SeqCst, as every change of the state (see the module documentation); adding only
        // takes room, so nobody needs waking.
        share.budget.used.fetch_add(1 << 32, Ordering::SeqCst);
        share.bytes -= bytes;
        share.budget.ticket(bytes)
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = self.second.is_some() || self.third.is_some() || self.more.is_some();
        f.debug_struct("Ticket")
            .field("bytes", &self.first.bytes)
            .field("joined", &joined)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn joined_tickets_give_every_share_back_once() {
        let budgets: Vec<_> = (0..4).map(|_| Budget::new(10, 100)).collect();
        let take = |i: usize| budgets[i].try_take(i + 1).expect("room");
        let all = take(0).join(take(1)).join(take(2).join(take(3)));
        let used: Vec<_> = budgets.iter().map(|b| b.in_use()).collect();
        assert_eq!(used, [(1, 1), (1, 2), (1, 3), (1, 4)]);
        drop(all);
        assert!(budgets.iter().all(|b| b.in_use() == (0, 0)));
    }

    #[test]
    fn three_joined_shares_give_every_share_back_once() {
        let budgets: Vec<_> = (0..3).map(|_| Budget::new(10, 100)).collect();
        let take = |i: usize| budgets[i].try_take(i + 1).expect("room");
        let all = take(0).join(take(1)).join(take(2));
        assert!(all.more.is_none(), "three shares are held inline");
        let used: Vec<_> = budgets.iter().map(|b| b.in_use()).collect();
        assert_eq!(used, [(1, 1), (1, 2), (1, 3)]);
        drop(all);
        assert!(budgets.iter().all(|b| b.in_use() == (0, 0)));
    }

    #[test]
    fn split_tickets_give_every_byte_back_once() {
        let budget = Budget::new(2, 100);
        let other = Budget::new(10, 100);
        let mut frame = budget
            .try_take(90)
            .expect("room")
            .join(other.try_take(7).expect("room"));
        let parts: Vec<_> = (0..5).map(|_| frame.split(20)).collect();
        // Four parts of 20, then the 10 bytes left: never more than the frame held, and the
        // message limit does not stop a split.
        let sizes: Vec<_> = parts.iter().map(|t| t.first.bytes).collect();
        assert_eq!(sizes, [20, 20, 20, 20, 10]);
        assert_eq!(budget.in_use(), (6, 90));
        assert_eq!(other.in_use(), (1, 7), "the joined share is left as it was");
        assert!(budget.try_take(0).is_none());
        drop(frame);
        assert_eq!((budget.in_use(), other.in_use()), ((5, 90), (0, 0)));
        drop(parts);
        assert_eq!(budget.in_use(), (0, 0));
    }

    #[test]
    fn a_taker_waits_while_split_parts_are_held() {
        let budget = Budget::new(10, 100);
        let mut frame = budget.try_take(80).expect("room");
        let part = frame.split(60);
        drop(frame);
        // 60 bytes are still held by the part: there is no room for 50 more until it is back.
        assert!(budget.try_take(50).is_none());
        drop(part);
        assert!(budget.try_take(50).is_some());
    }

    #[test]
    fn an_oversized_message_passes_alone_and_only_alone() {
        let budget = Budget::new(10, 100);
        let big = budget.try_take(1000).expect("alone, it passes");
        assert!(budget.try_take(1).is_none());
        drop(big);
        let small = budget.try_take(1).expect("room");
        assert!(budget.try_take(1000).is_none());
        drop(small);
    }

    #[test]
    fn a_waiting_taker_is_woken_by_a_returned_ticket() {
        let budget = Budget::new(1, 10);
        let held = budget.try_take(5).expect("room");
        let (started_tx, started) = crossbeam_channel::bounded(1);
        let waiter = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || {
                started_tx.send(()).expect("the test waits");
                budget
                    .take(5, SendWait::Until(Instant::now() + Duration::from_secs(10)))
                    .map(|ticket| ticket.first.bytes)
            })
        };
        started.recv().expect("the waiter started");
        // Give the ticket back while the waiter waits or is about to: it gets the room
        // either way, well before its deadline.
        drop(held);
        assert_eq!(waiter.join().expect("no panic"), Ok(5));
        assert_eq!(budget.in_use(), (0, 0));
    }

    #[test]
    fn many_threads_never_exceed_the_limits() {
        let budget = Budget::new(3, 30);
        let peak = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let budget = Arc::clone(&budget);
                let peak = Arc::clone(&peak);
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        let ticket = budget.take(10, SendWait::Forever).expect("waits");
                        let (messages, bytes) = budget.in_use();
                        peak.fetch_max((messages as u64) << 32 | bytes as u64, Ordering::Relaxed);
                        drop(ticket);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no panic");
        }
        let peak = peak.load(Ordering::Relaxed);
        assert!(peak >> 32 <= 3 && peak & BYTES_MASK <= 30, "{peak:x}");
        assert_eq!(budget.in_use(), (0, 0));
    }
}
