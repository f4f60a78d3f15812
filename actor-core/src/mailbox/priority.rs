//! The priority flavor of mailbox: the highest priority is handled first, FIFO among equals.
//!
//! A binary heap under one mutex, with a condition variable for each side that can wait
//! (the receiver for a message, blocked senders for room). Every operation takes the lock
//! once; that is the cost of reordering, which a channel cannot do.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crossbeam_channel::{RecvError, TryRecvError};
use parking_lot::{Condvar, Mutex};

use super::{Envelope, Overflow, SendWait, Sent};
use crate::error::SendError;

/// Computes a message's priority: higher is handled sooner.
pub(crate) type PriorityFn<M> = Arc<dyn Fn(&M) -> u32 + Send + Sync>;

pub(crate) struct Queue<M> {
    state: Mutex<State<M>>,
    not_empty: Condvar,
    not_full: Condvar,
    capacity: Option<usize>,
    overflow: Overflow,
    priority: PriorityFn<M>,
}

struct State<M> {
    heap: BinaryHeap<Item<M>>,
    /// Arrival order, so that equal priorities come out first in, first out.
    next_seq: u64,
    /// A wake-up is pending (see `Envelope::Wake`).
    woken: bool,
    /// The receiver is gone: sends fail.
    closed: bool,
}

struct Item<M> {
    priority: u32,
    seq: u64,
    msg: M,
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

impl<M> Queue<M> {
    pub(crate) fn new(
        capacity: Option<usize>,
        overflow: Overflow,
        priority: PriorityFn<M>,
    ) -> Arc<Queue<M>> {
        Arc::new(Queue {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                next_seq: 0,
                woken: false,
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
            overflow,
            priority,
        })
    }

    pub(crate) fn send(&self, msg: M, wait: SendWait) -> Result<Sent, SendError<M>> {
        let priority = (self.priority)(&msg);
        let mut state = self.state.lock();
        loop {
            if state.closed {
                return Err(SendError::Closed(msg));
            }
            if self.capacity.is_none_or(|cap| state.heap.len() < cap) {
                break;
            }
            match (self.overflow, wait) {
                (Overflow::DropNewest, _) => return Ok(Sent::Dropped),
                (Overflow::Fail, _) | (Overflow::Block, SendWait::Never) => {
                    return Err(SendError::Full(msg));
                }
                (Overflow::Block, SendWait::Forever) => self.not_full.wait(&mut state),
                (Overflow::Block, SendWait::Until(deadline)) => {
                    if self.not_full.wait_until(&mut state, deadline).timed_out()
                        && self.capacity.is_some_and(|cap| state.heap.len() >= cap)
                    {
                        return Err(SendError::Timeout(msg));
                    }
                }
            }
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.heap.push(Item { priority, seq, msg });
        drop(state);
        self.not_empty.notify_one();
        Ok(Sent::Queued)
    }

    pub(crate) fn wake(&self) {
        self.state.lock().woken = true;
        self.not_empty.notify_one();
    }

    fn take(&self, state: &mut State<M>) -> Option<Envelope<M>> {
        if let Some(item) = state.heap.pop() {
            if self.capacity.is_some() {
                self.not_full.notify_one();
            }
            return Some(Envelope::Msg(item.msg));
        }
        if std::mem::take(&mut state.woken) {
            return Some(Envelope::Wake);
        }
        None
    }

    pub(crate) fn try_recv(&self) -> Result<Envelope<M>, TryRecvError> {
        self.take(&mut self.state.lock()).ok_or(TryRecvError::Empty)
    }

    pub(crate) fn recv(&self) -> Result<Envelope<M>, RecvError> {
        let mut state = self.state.lock();
        loop {
            if let Some(envelope) = self.take(&mut state) {
                return Ok(envelope);
            }
            self.not_empty.wait(&mut state);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.state.lock().heap.len()
    }

    /// The receiver is gone: refuse further sends, discard what is queued, and release
    /// blocked senders.
    pub(crate) fn close(&self) {
        let discarded = {
            let mut state = self.state.lock();
            state.closed = true;
            std::mem::take(&mut state.heap)
        };
        self.not_full.notify_all();
        // Dropped outside the lock: a message may hold a reply whose callback runs now.
        drop(discarded);
    }
}
