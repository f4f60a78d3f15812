//! [`Writer`]: the sending half of a connection — a bounded queue of encoded messages, and
//! the loop that packs them into as few sealed frames as it can.
//!
//! Whoever holds the write side (the sealer and the socket) writes the next frame. A sender
//! that finds nothing queued and the write side free writes its message itself, at once,
//! saving a hand-off to the writer thread; otherwise it queues the message, and the writer
//! thread packs the queue into frames. The writer thread takes messages off the queue only
//! while it holds the write side, and a sender writes directly only while the queue is empty
//! and it holds the write side, so messages leave in the order they were queued or written.
//!
//! What waits in the queue is bounded by a [`Budget`] (messages and bytes): each queued
//! message holds a ticket until it has been written. A sender that finds the budget spent
//! waits as its `SendWait` allows; answers to requests the peer made are queued whatever the
//! budget (`send_forced`), because the thread producing them (an actor's) must never wait on
//! one peer's socket — they are bounded instead by the requests the reader admitted, which it
//! admits only while the queue has room.
//!
//! The writer knows nothing of the connection around it: a failed write comes back to the
//! caller as an error, and the caller closes the connection.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actor_core::codec::FrameConfig;
use actor_core::{Budget, BudgetError, SendWait, Ticket};
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use parking_lot::Mutex;

use crate::error::NetError;
use crate::message;
use crate::session::Sealer;

/// The most the writer packs into one frame before sealing it, unless the frame limit is
/// lower.
const BATCH_BYTES: usize = 64 * 1024;

/// The most the writer keeps of a buffer (a batch, a sealed frame) between frames: one that
/// grew past it for a large message is released once its frame is written, so that a
/// connection that sent a large answer and went idle does not keep the answer's memory. The
/// same as a frame reader keeps, which leaves room for a full batch and its frame.
const RETAINED: usize = FrameConfig::DEFAULT_RETAINED_CAPACITY as usize;

/// What the writer thread takes from its queue.
enum Outgoing {
    /// One encoded message (see `message::Writer`), and its share of the queue's budget.
    Message(Vec<u8>, Ticket),
    /// Stop after what is already queued.
    Close,
}

/// Why a message was not sent.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The queue is closed: the connection is closing.
    Closed,
    /// The queue's budget is spent (a send that must not wait).
    Full,
    /// The queue's budget stayed spent until the deadline.
    Timeout,
    /// Writing the message directly failed: the connection is broken.
    Broken(NetError),
}

/// The sending half of one connection; see the module documentation.
pub(crate) struct Writer {
    side: Mutex<WriteSide>,
    queue: Sender<Outgoing>,
    /// Bounds what waits in the queue.
    budget: Arc<Budget>,
    /// The largest message body a frame can carry.
    max_body: usize,
}

/// What writing a frame needs; held by one writer at a time.
struct WriteSide {
    sealer: Sealer,
    socket: TcpStream,
    /// Reused for every frame.
    frame: Vec<u8>,
}

impl WriteSide {
    /// Seals `body` into one frame and writes it.
    fn write(&mut self, body: &[u8]) -> Result<(), NetError> {
        self.frame.clear();
        self.sealer.seal(body, &mut self.frame)?;
        let written = self.socket.write_all(&self.frame);
        if self.frame.capacity() > RETAINED {
            self.frame = Vec::new();
        }
        written?;
        Ok(())
    }
}

/// The queue's other end, for the thread that runs [`Writer::run`].
pub(crate) struct Queued(Receiver<Outgoing>);

impl Writer {
    /// A writer that seals with `sealer` onto `socket`, queueing at most `messages` messages
    /// and `bytes` bytes (except forced answers).
    pub(crate) fn new(
        sealer: Sealer,
        socket: TcpStream,
        messages: usize,
        bytes: usize,
    ) -> (Writer, Queued) {
        let (queue, queued) = crossbeam_channel::unbounded();
        let max_body = sealer.max_body_len();
        let writer = Writer {
            side: Mutex::new(WriteSide {
                sealer,
                socket,
                frame: Vec::new(),
            }),
            queue,
            budget: Budget::new(messages, bytes),
            max_body,
        };
        (writer, Queued(queued))
    }

    /// The largest message body a frame can carry.
    pub(crate) fn max_body(&self) -> usize {
        self.max_body
    }

    /// Sends one encoded message, waiting for room in the queue as `wait` allows.
    ///
    /// An `urgent` message (a request someone waits for) is written at once by this thread
    /// when nothing is queued and nobody is writing; never for a send that must not wait on
    /// the socket. Plain tells always go through the queue, so that a stream of them is
    /// packed into few frames.
    pub(crate) fn send(&self, msg: Vec<u8>, wait: SendWait, urgent: bool) -> Result<(), Refused> {
        if urgent
            && wait != SendWait::Never
            && self.queue.is_empty()
            && let Some(mut side) = self.side.try_lock()
            && self.queue.is_empty()
        {
            return side.write(&msg).map_err(Refused::Broken);
        }
        let ticket = match self.budget.try_take(msg.len()) {
            Some(ticket) => ticket,
            None => self.budget.take(msg.len(), wait).map_err(|e| match e {
                BudgetError::Timeout => Refused::Timeout,
                _ => Refused::Full,
            })?,
        };
        self.enqueue(msg, ticket)
    }

    /// Queues one encoded message whatever the budget, never writing on this thread: for
    /// answers, produced on threads that must not wait for this peer.
    pub(crate) fn send_forced(&self, msg: Vec<u8>) -> Result<(), Refused> {
        let ticket = self.budget.force(msg.len());
        self.enqueue(msg, ticket)
    }

    fn enqueue(&self, msg: Vec<u8>, ticket: Ticket) -> Result<(), Refused> {
        self.queue
            .send(Outgoing::Message(msg, ticket))
            .map_err(|_| Refused::Closed)
    }

    /// Whether the queue has room now.
    pub(crate) fn has_room(&self) -> bool {
        self.budget.has_room(1)
    }

    /// Waits until the queue has room (or the deadline passes); returns whether it has.
    pub(crate) fn wait_for_room(&self, deadline: Instant) -> bool {
        self.budget.wait_for_room(deadline)
    }

    /// Asks the writer thread to stop after what is queued now.
    pub(crate) fn close(&self) {
        let _ = self.queue.send(Outgoing::Close);
    }

    /// Packs queued messages into sealed frames until the queue closes (`Ok`) or a write
    /// fails (`Err`); sends a ping when nothing was queued for `heartbeat`.
    pub(crate) fn run(&self, queued: Queued, heartbeat: Duration) -> Result<(), NetError> {
        let Queued(queue) = queued;
        let batch_limit = BATCH_BYTES.min(self.max_body);
        let mut body = Vec::with_capacity(batch_limit);
        // What the batch holds is given back to the budget once written, in one operation.
        let mut tickets: Option<Ticket> = None;
        let mut carried: Option<(Vec<u8>, Ticket)> = None;
        let mut pings = 0u64;
        loop {
            if carried.is_none() {
                // Waits for something to be queued without taking it: messages leave the
                // queue only while the write side is held (see the module documentation).
                let mut ready = Select::new();
                ready.recv(&queue);
                if ready.ready_timeout(heartbeat).is_err() {
                    pings += 1;
                    body.clear();
                    message::Writer::new(&mut body).ping(pings);
                    self.side.lock().write(&body)?;
                    continue;
                }
            }
            let mut side = self.side.lock();
            body.clear();
            if let Some((msg, ticket)) = carried.take() {
                body.extend_from_slice(&msg);
                add(&mut tickets, ticket);
            }
            let mut closing = false;
            while body.len() < batch_limit {
                match queue.try_recv() {
                    Ok(Outgoing::Message(msg, ticket))
                        if body.len() + msg.len() <= self.max_body =>
                    {
                        body.extend_from_slice(&msg);
                        add(&mut tickets, ticket);
                    }
                    Ok(Outgoing::Message(msg, ticket)) => {
                        carried = Some((msg, ticket));
                        break;
                    }
                    Ok(Outgoing::Close) | Err(TryRecvError::Disconnected) => {
                        closing = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            if !body.is_empty() {
                side.write(&body)?;
            }
            drop(side);
            if body.capacity() > RETAINED {
                body = Vec::with_capacity(batch_limit);
            }
            drop(tickets.take());
            if closing {
                return Ok(());
            }
        }
    }
}

/// Adds `ticket` to the batch's `tickets`.
fn add(tickets: &mut Option<Ticket>, ticket: Ticket) {
    match tickets {
        Some(batch) => batch.absorb(ticket),
        None => *tickets = Some(ticket),
    }
}
