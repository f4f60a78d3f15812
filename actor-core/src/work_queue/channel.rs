//! The channel flavor of work queue: a crossbeam channel, unbounded or bounded, that can be
//! closed while every handle still holds both of its ends.
//!
//! A crossbeam channel ends only when all its senders are gone, and every `WorkQueue`
//! handle holds one, so the close is built beside it. `gate` counts the puts in progress
//! and has a closed bit:
//!
//! | gate             | a new put   | a blocked put            | an empty queue means  |
//! |------------------|-------------|--------------------------|-----------------------|
//! | open, n          | accepted    | waits for room           | wait                  |
//! | `CLOSED`, n > 0  | refused     | woken: `closing` is gone | wait: n may still land|
//! | `CLOSED`, 0      | refused     | (none left)              | the end: sealed       |
//!
//! A put announces itself (adds one), checks the bit, pushes, and leaves (takes its one
//! back). Whoever brings the gate to `CLOSED | 0` (the close itself, or the last put that
//! was in progress) seals: it disconnects `sealed`, which wakes every blocked get. A get that
//! finds the queue empty and the gate at `CLOSED | 0` knows nothing more can arrive. The
//! gate is read and written with `SeqCst`, so a put either sees the closed bit or is counted
//! by the close. Gets and puts that find what they want take no lock; the lock is only for
//! the close's signals.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Select, Sender, TrySendError};
use parking_lot::Mutex;

use crate::error::{RecvError, SendError};
use crate::mailbox::{Overflow, Sent};
use crate::send_wait::SendWait;

/// The gate's closed bit; the bits below count puts in progress.
const CLOSED: usize = 1 << (usize::BITS - 1);

pub(super) struct Channel<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
    overflow: Overflow,
    /// See the module documentation.
    gate: AtomicUsize,
    /// Disconnected at the close: wakes the puts blocked on a full queue.
    closing: Receiver<Infallible>,
    /// Disconnected at the seal: wakes the blocked gets.
    sealed: Receiver<Infallible>,
    /// The other ends of `closing` and `sealed`, dropped to disconnect them.
    signals: Mutex<Signals>,
}

/// What the close and the seal drop; `None` once dropped.
struct Signals {
    closing: Option<Sender<Infallible>>,
    sealed: Option<Sender<Infallible>>,
}

impl<T> Channel<T> {
    pub(super) fn new(capacity: Option<usize>, overflow: Overflow) -> Channel<T> {
        let (tx, rx) = match capacity {
            None => crossbeam_channel::unbounded(),
            Some(capacity) => crossbeam_channel::bounded(capacity),
        };
        let (closing_tx, closing) = crossbeam_channel::bounded(0);
        let (sealed_tx, sealed) = crossbeam_channel::bounded(0);
        Channel {
            tx,
            rx,
            overflow,
            gate: AtomicUsize::new(0),
            closing,
            sealed,
            signals: Mutex::new(Signals {
                closing: Some(closing_tx),
                sealed: Some(sealed_tx),
            }),
        }
    }

    pub(super) fn send(&self, item: T, wait: SendWait) -> Result<Sent, SendError<T>> {
        if self.gate.fetch_add(1, Ordering::SeqCst) & CLOSED != 0 {
            self.leave();
            return Err(SendError::Closed(item));
        }
        let sent = self.push(item, wait);
        self.leave();
        sent
    }

    fn push(&self, item: T, wait: SendWait) -> Result<Sent, SendError<T>> {
        let item = match self.tx.try_send(item) {
            Ok(()) => return Ok(Sent::Queued),
            // Cannot happen: this queue holds its own receiver.
            Err(TrySendError::Disconnected(item)) => return Err(SendError::Closed(item)),
            Err(TrySendError::Full(item)) => item,
        };
        match (self.overflow, wait) {
            (Overflow::DropNewest, _) => Ok(Sent::Dropped),
            (Overflow::Fail, _) | (Overflow::Block, SendWait::Never) => Err(SendError::Full(item)),
            (Overflow::Block, SendWait::Forever) => self.push_blocking(item, None),
            (Overflow::Block, SendWait::Until(deadline)) => {
                self.push_blocking(item, Some(deadline))
            }
        }
    }

    /// Waits for room, or for the close.
    fn push_blocking(&self, item: T, deadline: Option<Instant>) -> Result<Sent, SendError<T>> {
        let mut select = Select::new();
        let send = select.send(&self.tx);
        select.recv(&self.closing);
        let operation = match deadline {
            None => select.select(),
            Some(deadline) => match select.select_deadline(deadline) {
                Ok(operation) => operation,
                Err(_) => return Err(SendError::Timeout(item)),
            },
        };
        if operation.index() == send {
            return match operation.send(&self.tx, item) {
                Ok(()) => Ok(Sent::Queued),
                Err(error) => Err(SendError::Closed(error.into_inner())),
            };
        }
        // `closing` is disconnected: the queue is closed.
        let _ = operation.recv(&self.closing);
        Err(SendError::Closed(item))
    }

    /// A put is no longer in progress; the last one after the close seals.
    fn leave(&self) {
        if self.gate.fetch_sub(1, Ordering::SeqCst) == CLOSED | 1 {
            self.seal();
        }
    }

    fn seal(&self) {
        self.signals.lock().sealed = None;
    }

    pub(super) fn try_recv(&self) -> Result<T, RecvError> {
        if let Ok(item) = self.rx.try_recv() {
            return Ok(item);
        }
        if self.gate.load(Ordering::SeqCst) != CLOSED {
            return Err(RecvError::Empty);
        }
        // Nothing more can arrive; an item may have landed just before.
        self.rx.try_recv().map_err(|_| RecvError::Closed)
    }

    /// Waits for an item, until `deadline` at most.
    pub(super) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvError> {
        loop {
            match self.try_recv() {
                Err(RecvError::Empty) => {}
                done => return done,
            }
            let mut select = Select::new();
            let recv = select.recv(&self.rx);
            select.recv(&self.sealed);
            let operation = match deadline {
                None => select.select(),
                Some(deadline) => match select.select_deadline(deadline) {
                    Ok(operation) => operation,
                    Err(_) => {
                        return self.try_recv().map_err(|why| match why {
                            RecvError::Empty => RecvError::Timeout,
                            other => other,
                        });
                    }
                },
            };
            if operation.index() == recv {
                if let Ok(item) = operation.recv(&self.rx) {
                    return Ok(item);
                }
            } else {
                // Sealed: the next look finds an item or the end.
                let _ = operation.recv(&self.sealed);
            }
        }
    }

    pub(super) fn close(&self) {
        let before = self.gate.fetch_or(CLOSED, Ordering::SeqCst);
        if before & CLOSED != 0 {
            return;
        }
        let mut signals = self.signals.lock();
        signals.closing = None;
        if before == 0 {
            signals.sealed = None;
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.gate.load(Ordering::SeqCst) & CLOSED != 0
    }

    pub(super) fn len(&self) -> usize {
        self.rx.len()
    }

    /// The items' channel, and the one disconnected at the seal: a selection waits on both.
    pub(super) fn readiness(&self) -> (&Receiver<T>, &Receiver<Infallible>) {
        (&self.rx, &self.sealed)
    }
}
