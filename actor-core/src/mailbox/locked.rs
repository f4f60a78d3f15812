//! The locked flavor of mailbox: a queue under one mutex, first in first out or by priority.
//!
//! Used for priority mailboxes (a channel cannot reorder) and for actors run by an
//! executor, which never block on their mailbox and so need none of a channel's waiting
//! machinery: an empty queue costs a few dozen bytes. One condition variable wakes a receiver
//! that does block (a thread-backed actor), another wakes senders blocked on a full
//! bounded queue. Every operation takes the lock once. A [`WorkQueue`](crate::WorkQueue)
//! built with priorities uses it too, with several receivers, and so does a priority
//! [`Inbox`](crate::Inbox).
//!
//! A queue read through a [`Select`](crate::Select) has a doorbell: a channel of capacity
//! one that holds a token exactly while a receive would find something (a message, a
//! wake-up, or the end). The token is put in and taken out under the queue's lock, by the
//! operation that changes the answer, so a selection waiting on the doorbell sees the
//! queue's state, never a stale one. Queues without a doorbell pay one branch.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, Sender, TryRecvError};
use parking_lot::{Condvar, Mutex};

use super::envelope::Envelope;
use super::overflow::Overflow;
use super::sent::Sent;
use crate::error::SendError;
use crate::send_wait::SendWait;

/// Computes a message's priority: higher is handled sooner.
pub(crate) type PriorityFn<M> = Arc<dyn Fn(&M) -> u32 + Send + Sync>;

/// The capacity of an unbounded queue: more than any queue can hold.
const UNBOUNDED: usize = usize::MAX;

// An actor's mailbox lives in the actor's own allocation (see `local.rs`), so every byte here
// is paid by every idle actor run by an executor: what only some queues need is boxed.
pub(crate) struct Queue<M> {
    state: Mutex<State<M>>,
    not_empty: Condvar,
    /// `None` for an unbounded queue that no selection reads, as most mailboxes are.
    rare: Option<Box<Rare>>,
}

/// What a bounded queue, or one read through a selection, needs besides.
struct Rare {
    /// At most this many messages; [`UNBOUNDED`] for none.
    capacity: usize,
    overflow: Overflow,
    not_full: Condvar,
    /// See the module documentation; `None` for a queue no selection reads.
    bell: Option<Bell>,
}

/// A doorbell: holds a token while the queue has something for a receiver.
struct Bell {
    tx: Sender<()>,
    rx: Receiver<()>,
}

struct State<M> {
    items: Items<M>,
    /// A wake-up is pending (see `Envelope::Wake`).
    woken: bool,
    /// Sends fail: the receiver is gone (`close`), or the queue was shut (`shut`) and its
    /// receivers take what is left, then get an error.
    closed: bool,
    /// The doorbell holds its token.
    rung: bool,
}

impl<M> State<M> {
    /// Whether a receive would find something: a message, a wake-up, or the end.
    fn has_news(&self) -> bool {
        self.items.len() > 0 || self.woken || self.closed
    }
}

/// The order messages come out in.
enum Items<M> {
    Fifo(VecDeque<Envelope<M>>),
    /// Boxed, so that the common first-in-first-out queue stays small.
    Priority(Box<Heap<M>>),
}

struct Heap<M> {
    heap: BinaryHeap<Item<M>>,
    /// Arrival order, so that equal priorities come out first in, first out.
    next_seq: u64,
    priority: PriorityFn<M>,
}

struct Item<M> {
    priority: u32,
    seq: u64,
    msg: Envelope<M>,
}

impl<M> Ord for Item<M> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Max-heap: higher priority first, then the earlier arrival.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<M> PartialOrd for Item<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<M> PartialEq for Item<M> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<M> Eq for Item<M> {}

impl<M> Items<M> {
    fn len(&self) -> usize {
        match self {
            Items::Fifo(queue) => queue.len(),
            Items::Priority(heap) => heap.heap.len(),
        }
    }

    fn push(&mut self, msg: Envelope<M>) {
        match self {
            Items::Fifo(queue) => queue.push_back(msg),
            Items::Priority(heap) => {
                let item = Item {
                    // A queued envelope always holds a message (wake-ups are a flag).
                    priority: msg.msg().map_or(0, |m| (heap.priority)(m)),
                    seq: heap.next_seq,
                    msg,
                };
                heap.next_seq += 1;
                heap.heap.push(item);
            }
        }
    }

    fn pop(&mut self) -> Option<Envelope<M>> {
        match self {
            Items::Fifo(queue) => queue.pop_front(),
            Items::Priority(heap) => heap.heap.pop().map(|item| item.msg),
        }
    }

    /// Empties the queue, returning what was in it (to be dropped outside the lock).
    fn take(&mut self) -> Vec<Envelope<M>> {
        let mut taken = Vec::with_capacity(self.len());
        while let Some(msg) = self.pop() {
            taken.push(msg);
        }
        taken
    }
}

impl<M> Queue<M> {
    /// A queue handing out messages in arrival order, or by `priority` when one is given.
    pub(crate) fn new(
        capacity: Option<usize>,
        overflow: Overflow,
        priority: Option<PriorityFn<M>>,
    ) -> Queue<M> {
        Queue::build(capacity, overflow, priority, None)
    }

    /// As [`new`](Queue::new), with a doorbell for a [`Select`](crate::Select) to wait
    /// on: the queue, and the doorbell's receiving end.
    pub(crate) fn with_bell(
        capacity: Option<usize>,
        overflow: Overflow,
        priority: Option<PriorityFn<M>>,
    ) -> (Queue<M>, Receiver<()>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let bell = Bell { tx, rx: rx.clone() };
        (Queue::build(capacity, overflow, priority, Some(bell)), rx)
    }

    fn build(
        capacity: Option<usize>,
        overflow: Overflow,
        priority: Option<PriorityFn<M>>,
        bell: Option<Bell>,
    ) -> Queue<M> {
        let items = match priority {
            None => Items::Fifo(VecDeque::new()),
            Some(priority) => Items::Priority(Box::new(Heap {
                heap: BinaryHeap::new(),
                next_seq: 0,
                priority,
            })),
        };
        Queue {
            state: Mutex::new(State {
                items,
                woken: false,
                closed: false,
                rung: false,
            }),
            not_empty: Condvar::new(),
            rare: (capacity.is_some() || bell.is_some()).then(|| {
                Box::new(Rare {
                    capacity: capacity.unwrap_or(UNBOUNDED),
                    overflow,
                    not_full: Condvar::new(),
                    bell,
                })
            }),
        }
    }

    /// Puts the doorbell's token in or takes it out, as the queue's state now says. Called
    /// under the lock by every operation that changes that state.
    #[inline]
    fn ring(&self, state: &mut State<M>) {
        if let Some(bell) = self.rare.as_ref().and_then(|rare| rare.bell.as_ref()) {
            let news = state.has_news();
            if news != state.rung {
                state.rung = news;
                if news {
                    let _ = bell.tx.try_send(());
                } else {
                    let _ = bell.rx.try_recv();
                }
            }
        }
    }

    pub(crate) fn send(&self, msg: Envelope<M>, wait: SendWait) -> Result<Sent, SendError<M>> {
        let mut state = self.state.lock();
        loop {
            if state.closed {
                return Err(SendError::Closed(msg.into_msg()));
            }
            let Some(rare) = self
                .rare
                .as_deref()
                .filter(|rare| state.items.len() >= rare.capacity)
            else {
                break;
            };
            match (rare.overflow, wait) {
                (Overflow::DropNewest, _) => return Ok(Sent::Dropped),
                (Overflow::Fail, _) | (Overflow::Block, SendWait::Never) => {
                    return Err(SendError::Full(msg.into_msg()));
                }
                (Overflow::Block, SendWait::Forever) => rare.not_full.wait(&mut state),
                (Overflow::Block, SendWait::Until(deadline)) => {
                    if rare.not_full.wait_until(&mut state, deadline).timed_out()
                        && state.items.len() >= rare.capacity
                    {
                        return Err(SendError::Timeout(msg.into_msg()));
                    }
                }
            }
        }
        state.items.push(msg);
        self.ring(&mut state);
        drop(state);
        self.not_empty.notify_one();
        Ok(Sent::Queued)
    }

    pub(crate) fn wake(&self) {
        let mut state = self.state.lock();
        state.woken = true;
        self.ring(&mut state);
        drop(state);
        self.not_empty.notify_one();
    }

    fn take(&self, state: &mut State<M>) -> Option<Envelope<M>> {
        let taken = if let Some(msg) = state.items.pop() {
            if let Some(rare) = &self.rare
                && rare.capacity != UNBOUNDED
            {
                rare.not_full.notify_one();
            }
            Some(msg)
        } else if std::mem::take(&mut state.woken) {
            Some(Envelope::Wake)
        } else {
            None
        };
        self.ring(state);
        taken
    }

    pub(crate) fn try_recv(&self) -> Result<Envelope<M>, TryRecvError> {
        let mut state = self.state.lock();
        match self.take(&mut state) {
            Some(envelope) => Ok(envelope),
            None if state.closed => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for an envelope; an error once the queue is closed and empty.
    pub(crate) fn recv(&self) -> Result<Envelope<M>, RecvError> {
        let mut state = self.state.lock();
        loop {
            if let Some(envelope) = self.take(&mut state) {
                return Ok(envelope);
            }
            if state.closed {
                return Err(RecvError);
            }
            self.not_empty.wait(&mut state);
        }
    }

    /// As [`recv`](Queue::recv), waiting until `deadline` at most.
    pub(crate) fn recv_deadline(&self, deadline: Instant) -> Result<Envelope<M>, RecvTimeoutError> {
        let mut state = self.state.lock();
        loop {
            if let Some(envelope) = self.take(&mut state) {
                return Ok(envelope);
            }
            if state.closed {
                return Err(RecvTimeoutError::Disconnected);
            }
            if self.not_empty.wait_until(&mut state, deadline).timed_out() {
                return self.take(&mut state).ok_or(if state.closed {
                    RecvTimeoutError::Disconnected
                } else {
                    RecvTimeoutError::Timeout
                });
            }
        }
    }

    /// Whether sends fail now.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    pub(crate) fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether a receive would find nothing: no message, and no wake-up pending either (an
    /// executor decides by this whether to run the actor again, and a stop wakes it that way).
    pub(crate) fn is_empty(&self) -> bool {
        let state = self.state.lock();
        state.items.len() == 0 && !state.woken
    }

    /// Refuses further sends but keeps what is queued for the receivers, which get an error
    /// once it is taken: releases blocked senders, and blocked receivers too (several may
    /// wait on a shared queue).
    pub(crate) fn shut(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        self.ring(&mut state);
        drop(state);
        if let Some(rare) = &self.rare {
            rare.not_full.notify_all();
        }
        self.not_empty.notify_all();
    }

    /// The receiver is gone: refuse further sends, discard what is queued, and release
    /// blocked senders.
    pub(crate) fn close(&self) {
        let discarded = {
            let mut state = self.state.lock();
            state.closed = true;
            self.ring(&mut state);
            state.items.take()
        };
        if let Some(rare) = &self.rare {
            rare.not_full.notify_all();
        }
        // Dropped outside the lock: a message may hold a reply whose callback runs now.
        drop(discarded);
    }
}
