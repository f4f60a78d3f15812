//! The priority flavor of work queue: the mailbox's locked queue, ordering by priority, with
//! the same operations as the channel flavor.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::error::{RecvError, SendError};
use crate::mailbox::{Envelope, LockedQueue, Overflow, PriorityFn, Sent};
use crate::send_wait::SendWait;

pub(super) struct Priority<T> {
    queue: Arc<LockedQueue<T>>,
    /// The queue's doorbell, for a selection.
    bell: Receiver<()>,
}

impl<T> Priority<T> {
    pub(super) fn new(
        capacity: Option<usize>,
        overflow: Overflow,
        priority: PriorityFn<T>,
    ) -> Priority<T> {
        let (queue, bell) = LockedQueue::with_bell(capacity, overflow, Some(priority));
        Priority {
            queue: Arc::new(queue),
            bell,
        }
    }

    pub(super) fn send(&self, item: T, wait: SendWait) -> Result<Sent, SendError<T>> {
        self.queue.send(Envelope::Msg(item), wait)
    }

    // The queue holds only messages: wake-ups are for actors' mailboxes, and nothing wakes
    // this one. So every envelope taken has an item.

    pub(super) fn try_recv(&self) -> Result<T, RecvError> {
        loop {
            match self.queue.try_recv() {
                Ok(envelope) => {
                    if let Some((item, _)) = envelope.into_parts() {
                        return Ok(item);
                    }
                }
                Err(TryRecvError::Empty) => return Err(RecvError::Empty),
                Err(TryRecvError::Disconnected) => return Err(RecvError::Closed),
            }
        }
    }

    /// Waits for an item, until `deadline` at most.
    pub(super) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvError> {
        loop {
            let envelope = match deadline {
                None => self.queue.recv().map_err(|_| RecvError::Closed),
                Some(deadline) => self.queue.recv_deadline(deadline).map_err(|e| match e {
                    RecvTimeoutError::Timeout => RecvError::Timeout,
                    RecvTimeoutError::Disconnected => RecvError::Closed,
                }),
            }?;
            if let Some((item, _)) = envelope.into_parts() {
                return Ok(item);
            }
        }
    }

    pub(super) fn close(&self) {
        self.queue.shut();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// What a selection waits on: a token while a get would find an item or the end.
    pub(super) fn readiness(&self) -> &Receiver<()> {
        &self.bell
    }
}
