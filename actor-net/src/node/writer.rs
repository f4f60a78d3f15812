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
//! The writer knows nothing of the connection around it: a failed write comes back to the
//! caller as an error, and the caller closes the connection.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use actor_core::SendWait;
use crossbeam_channel::{Receiver, Select, SendTimeoutError, Sender, TryRecvError, TrySendError};
use parking_lot::Mutex;

use crate::error::NetError;
use crate::message;
use crate::session::Sealer;

/// The most the writer packs into one frame before sealing it, unless the frame limit is
/// lower.
const BATCH_BYTES: usize = 64 * 1024;

/// What the writer thread takes from its queue.
enum Outgoing {
    /// One encoded message (see `message::Writer`).
    Message(Vec<u8>),
    /// Stop after what is already queued.
    Close,
}

/// Why a message was not sent.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The queue is closed: the connection is closing.
    Closed,
    /// The queue is full (a send that must not wait).
    Full,
    /// The queue stayed full until the deadline.
    Timeout,
    /// Writing the message directly failed: the connection is broken.
    Broken(NetError),
}

/// The sending half of one connection; see the module documentation.
pub(crate) struct Writer {
    side: Mutex<WriteSide>,
    queue: Sender<Outgoing>,
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
        self.socket.write_all(&self.frame)?;
        Ok(())
    }
}

/// The queue's other end, for the thread that runs [`Writer::run`].
pub(crate) struct Queued(Receiver<Outgoing>);

impl Writer {
    /// A writer that seals with `sealer` onto `socket`, queueing at most `capacity` messages.
    pub(crate) fn new(sealer: Sealer, socket: TcpStream, capacity: usize) -> (Writer, Queued) {
        let (queue, queued) = crossbeam_channel::bounded(capacity);
        let max_body = sealer.max_body_len();
        let writer = Writer {
            side: Mutex::new(WriteSide {
                sealer,
                socket,
                frame: Vec::new(),
            }),
            queue,
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
    /// An `urgent` message (a request or an answer someone waits for) is written at once by
    /// this thread when nothing is queued and nobody is writing; never for a send that must
    /// not wait on the socket. Plain tells always go through the queue, so that a stream of
    /// them is packed into few frames.
    pub(crate) fn send(&self, msg: Vec<u8>, wait: SendWait, urgent: bool) -> Result<(), Refused> {
        if urgent
            && wait != SendWait::Never
            && self.queue.is_empty()
            && let Some(mut side) = self.side.try_lock()
            && self.queue.is_empty()
        {
            return side.write(&msg).map_err(Refused::Broken);
        }
        let item = Outgoing::Message(msg);
        match wait {
            SendWait::Forever => self.queue.send(item).map_err(|_| Refused::Closed),
            SendWait::Never => self.queue.try_send(item).map_err(|e| match e {
                TrySendError::Full(_) => Refused::Full,
                TrySendError::Disconnected(_) => Refused::Closed,
            }),
            SendWait::Until(deadline) => {
                self.queue
                    .send_deadline(item, deadline)
                    .map_err(|e| match e {
                        SendTimeoutError::Timeout(_) => Refused::Timeout,
                        SendTimeoutError::Disconnected(_) => Refused::Closed,
                    })
            }
        }
    }

    /// Sends a control message (lookups, answers, pongs, goodbye) written by `write`,
    /// waiting for room in the queue.
    pub(crate) fn send_control(
        &self,
        write: impl FnOnce(&mut message::Writer<'_>),
    ) -> Result<(), Refused> {
        let mut msg = Vec::with_capacity(32);
        write(&mut message::Writer::new(&mut msg));
        self.send(msg, SendWait::Forever, true)
    }

    /// Asks the writer thread to stop after what is queued now (if there is room to ask; a
    /// full queue is drained by a closing socket anyway).
    pub(crate) fn close(&self) {
        let _ = self.queue.try_send(Outgoing::Close);
    }

    /// Packs queued messages into sealed frames until the queue closes (`Ok`) or a write
    /// fails (`Err`); sends a ping when nothing was queued for `heartbeat`.
    pub(crate) fn run(&self, queued: Queued, heartbeat: Duration) -> Result<(), NetError> {
        let Queued(queue) = queued;
        let batch_limit = BATCH_BYTES.min(self.max_body);
        let mut body = Vec::with_capacity(batch_limit);
        let mut carried: Option<Vec<u8>> = None;
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
            if let Some(msg) = carried.take() {
                body.extend_from_slice(&msg);
            }
            let mut closing = false;
            while body.len() < batch_limit {
                match queue.try_recv() {
                    Ok(Outgoing::Message(msg)) if body.len() + msg.len() <= self.max_body => {
                        body.extend_from_slice(&msg);
                    }
                    Ok(Outgoing::Message(msg)) => {
                        carried = Some(msg);
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
            if closing {
                return Ok(());
            }
        }
    }
}
