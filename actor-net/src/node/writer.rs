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
//! An answer still leaves at once when it can (on Unix): when nothing is queued and the write
//! side is free, its sender seals it and hands it to the socket without waiting
//! (`MSG_DONTWAIT`). Whatever the socket does not take at once stays behind as the write
//! side's `unsent` tail, and the writer thread, woken by a `Flush`, writes it before anything
//! else; meanwhile no sender writes directly. So an answer costs no hand-off to the writer
//! thread when the peer reads, and never blocks its actor when the peer does not: what waits
//! is one frame at most, beside the queue.
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
    /// Write the write side's unsent tail (see the module documentation).
    Flush,
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
    /// The part of a frame that a write that must not wait left behind: written before
    /// anything else (see the module documentation).
    unsent: Vec<u8>,
}

impl WriteSide {
    /// Seals `body` into one frame and writes it, after the unsent tail of an earlier one.
    fn write(&mut self, body: &[u8]) -> Result<(), NetError> {
        self.flush()?;
        self.frame.clear();
        self.sealer.seal(body, &mut self.frame)?;
        let written = self.socket.write_all(&self.frame);
        if self.frame.capacity() > RETAINED {
            self.frame = Vec::new();
        }
        written?;
        Ok(())
    }

    /// Writes the unsent tail of an earlier frame, if any.
    fn flush(&mut self) -> Result<(), NetError> {
        if !self.unsent.is_empty() {
            self.socket.write_all(&self.unsent)?;
            self.unsent = Vec::new();
        }
        Ok(())
    }

    /// Seals `body` into one frame and gives the socket as much of it as it takes without
    /// waiting; returns whether it took everything. What it did not take becomes the unsent
    /// tail, which must be empty before.
    #[cfg(unix)]
    fn write_now(&mut self, body: &[u8]) -> Result<bool, NetError> {
        use nix::errno::Errno;
        use nix::sys::socket::{MsgFlags, send};
        use std::os::fd::AsRawFd;

        self.frame.clear();
        self.sealer.seal(body, &mut self.frame)?;
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
        let mut sent = 0;
        while sent < self.frame.len() {
            match send(self.socket.as_raw_fd(), &self.frame[sent..], flags) {
                Ok(0) => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
                Ok(n) => sent += n,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => break,
                Err(errno) => return Err(std::io::Error::from(errno).into()),
            }
        }
        // The frame is sealed: its sequence number is spent, so what is left of it must go
        // out as it is, later.
        self.unsent.extend_from_slice(&self.frame[sent..]);
        if self.frame.capacity() > RETAINED {
            self.frame = Vec::new();
        }
        Ok(self.unsent.is_empty())
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
                unsent: Vec::new(),
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

    /// Sends one encoded message whatever the budget, never waiting on this thread: for
    /// answers, produced on threads that must not wait for this peer. Written at once when
    /// the socket takes it (see the module documentation), queued otherwise.
    pub(crate) fn send_forced(&self, msg: Vec<u8>) -> Result<(), Refused> {
        #[cfg(unix)]
        if self.queue.is_empty()
            && let Some(mut side) = self.side.try_lock()
            && side.unsent.is_empty()
            && self.queue.is_empty()
        {
            if side.write_now(&msg).map_err(Refused::Broken)? {
                return Ok(());
            }
            drop(side);
            return self
                .queue
                .send(Outgoing::Flush)
                .map_err(|_| Refused::Closed);
        }
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
                    // Written below, before the batch, whatever the batch holds.
                    Ok(Outgoing::Flush) => {}
                    Ok(Outgoing::Close) | Err(TryRecvError::Disconnected) => {
                        closing = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            if body.is_empty() {
                side.flush()?;
            } else {
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use actor_core::codec::FrameReader;

    use super::*;
    use crate::session::Opener;

    const KEY: [u8; 32] = [7; 32];

    /// A writer on one end of a loopback connection, its thread running; and the other end.
    fn connected() -> (Arc<Writer>, std::thread::JoinHandle<()>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (writer, queued) = Writer::new(Sealer::new(&KEY), client, 1024, 1 << 20);
        let writer = Arc::new(writer);
        let runner = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || writer.run(queued, Duration::from_secs(3600)).unwrap())
        };
        (writer, runner, server)
    }

    /// Reads frames until the connection ends; returns their bodies, concatenated.
    fn received(server: TcpStream) -> Vec<u8> {
        let mut opener = Opener::new(&KEY);
        let mut frames = FrameReader::with_config(server, crate::frame::session_frames());
        let mut bodies = Vec::new();
        while let Some(payload) = frames.read_frame().unwrap() {
            bodies.extend_from_slice(opener.open(payload).unwrap());
        }
        bodies
    }

    #[test]
    fn forced_sends_to_a_peer_that_does_not_read_never_wait_and_all_arrive_in_order() {
        let (writer, runner, server) = connected();
        // Far more than the socket buffers hold: most of it waits, in the queue or as the
        // unsent tail of a frame.
        let messages: Vec<Vec<u8>> = (0..200u8).map(|i| vec![i; 16 * 1024]).collect();
        let (sent_tx, sent) = crossbeam_channel::bounded(1);
        let sender = {
            let (writer, messages) = (Arc::clone(&writer), messages.clone());
            std::thread::spawn(move || {
                for msg in messages {
                    writer.send_forced(msg).unwrap();
                }
                sent_tx.send(()).unwrap();
            })
        };
        sent.recv_timeout(Duration::from_secs(30))
            .expect("forced sends return while the peer reads nothing");
        sender.join().unwrap();
        // Now the peer reads: everything arrives, the writer stops once it is written.
        let reader = std::thread::spawn(move || received(server));
        writer.close();
        runner.join().unwrap();
        drop(writer);
        assert_eq!(reader.join().unwrap(), messages.concat());
    }

    #[test]
    fn a_forced_send_to_an_idle_writer_goes_out_at_once() {
        let (writer, runner, server) = connected();
        writer.send_forced(b"answer".to_vec()).unwrap();
        writer.send_forced(b" and another".to_vec()).unwrap();
        writer.close();
        runner.join().unwrap();
        drop(writer);
        assert_eq!(received(server), b"answer and another");
    }
}
