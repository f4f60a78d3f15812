//! [`Writer`]: the sending half of a connection — the frames being filled with messages, and
//! the thread that seals and writes them.
//!
//! A sender encodes its message straight into the body of the last frame waiting to be
//! written (a new one when the last is full), under one lock: no buffer, queue entry or
//! budget ticket per message. The writer thread takes all the waiting frames at once, seals
//! and writes them, and hands their buffers back for reuse. So a stream of tells costs each
//! sender an encode and a copy of its payload, and the writer thread one seal and one write
//! per 64 KiB.
//!
//! Whoever holds the write side (the sealer and the socket) writes the next frame. A request
//! that finds nothing waiting and the write side free is written by its sender at once,
//! saving a hand-off to the writer thread; otherwise it waits with the others. The writer
//! thread takes frames only while it holds the write side, and a sender writes directly only
//! while nothing waits and it holds the write side, so messages leave in the order they were
//! encoded.
//!
//! What waits (messages and bytes, counted until written) is bounded: a sender that finds no
//! room waits as its `SendWait` allows, until the writer thread has written what waited.
//! Answers to requests the peer made are taken whatever the bound (`send_forced`), because
//! the thread producing them (an actor's) must never wait on one peer's socket — they are
//! bounded instead by the requests the reader admitted, which it admits only while there is
//! room ([`Writer::has_room`]).
//!
//! An answer still leaves at once when it can (on Unix): when nothing waits and the write
//! side is free, its sender seals it and hands it to the socket without waiting
//! (`MSG_DONTWAIT`). Whatever the socket does not take at once stays behind as the write
//! side's `unsent` tail, and the writer thread, rung for it, writes it before anything else;
//! meanwhile no sender writes directly. So an answer costs no hand-off to the writer thread
//! when the peer reads, and never blocks its actor when the peer does not: what waits is one
//! frame at most, beside the others.
//!
//! The writer thread sleeps on a doorbell (a channel of one token), rung by the sender whose
//! message is the first to wait, by a sender that left an unsent tail, and by `close`; after
//! each ring it takes whatever waits, so a ring is never lost and an extra one costs one empty
//! look.
//!
//! The writer knows nothing of the connection around it: a failed write comes back to the
//! caller as an error, and the caller closes the connection.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actor_core::SendWait;
use actor_core::codec::FrameConfig;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::{Condvar, Mutex};

use crate::error::NetError;
use crate::message;
use crate::session::Sealer;

/// The most the writer packs into one frame before sealing it, unless the frame limit is
/// lower.
const BATCH_BYTES: usize = 64 * 1024;

/// The most the writer keeps of a buffer (a frame's body, a sealed frame) between frames: one
/// that grew past it for a large message is released once its frame is written, so that a
/// connection that sent a large answer and went idle does not keep the answer's memory. The
/// same as a frame reader keeps, which leaves room for a full batch and its frame.
const RETAINED: usize = FrameConfig::DEFAULT_RETAINED_CAPACITY as usize;

/// How many emptied frame bodies are kept for reuse.
const SPARE_BODIES: usize = 2;

/// Why a message was not sent.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The writer is closed: the connection is closing.
    Closed,
    /// There was no room (a send that must not wait).
    Full,
    /// There was no room until the deadline.
    Timeout,
    /// The encoded message is larger than a frame can carry.
    TooLarge(usize),
    /// Writing the message directly failed: the connection is broken.
    Broken(NetError),
}

/// The sending half of one connection; see the module documentation.
pub(crate) struct Writer {
    side: Mutex<WriteSide>,
    waiting: Mutex<Waiting>,
    /// Signalled when the writer thread has written what waited, and on closing.
    room: Condvar,
    /// Wakes the writer thread (see the module documentation).
    bell: Sender<()>,
    /// The bound on what waits: messages, bytes.
    max_messages: usize,
    max_bytes: usize,
    /// The most one frame's body holds, unless one message alone is larger.
    batch_limit: usize,
    /// The largest message body a frame can carry.
    max_body: usize,
}

/// What waits for the writer thread.
///
/// | frames (full or open) | `flush` | `closed` | the writer thread, rung                  |
/// |-----------------------|---------|----------|------------------------------------------|
/// | none                  | no      | no       | finds nothing, sleeps again              |
/// | some                  | any     | any      | writes the unsent tail, then the frames  |
/// | none                  | yes     | any      | writes the unsent tail                   |
/// | none                  | no      | yes      | stops                                    |
///
/// Senders are refused once `closed` is set.
struct Waiting {
    /// The bodies of full frames to write, in order.
    frames: Vec<Vec<u8>>,
    /// The body of the frame being filled, written after `frames`: senders append to it
    /// while it has room for their message.
    open: Vec<u8>,
    /// Emptied bodies, for reuse.
    spare: Vec<Vec<u8>>,
    /// Messages and bytes waiting or being written (the bound's use).
    messages: usize,
    bytes: usize,
    /// The write side has an unsent tail for the writer thread.
    flush: bool,
    closed: bool,
    /// Senders waiting for room.
    blocked: usize,
}

/// What writing a frame needs; held by one writer at a time.
struct WriteSide {
    sealer: Sealer,
    socket: TcpStream,
    /// Reused for every frame.
    frame: Vec<u8>,
    /// Reused for the body of a message written directly.
    body: Vec<u8>,
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

    /// Encodes one message with `write` and writes it as a frame of its own.
    fn write_one(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), NetError> {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        write(&mut body);
        let written = self.write(&body);
        if body.capacity() <= RETAINED {
            self.body = body;
        }
        written
    }

    /// Writes the unsent tail of an earlier frame, if any.
    fn flush(&mut self) -> Result<(), NetError> {
        if !self.unsent.is_empty() {
            self.socket.write_all(&self.unsent)?;
            self.unsent = Vec::new();
        }
        Ok(())
    }

    /// Seals the message that `write` encodes into one frame and gives the socket as much of
    /// it as it takes without waiting; returns whether it took everything. What it did not
    /// take becomes the unsent tail, which must be empty before.
    #[cfg(unix)]
    fn write_now(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<bool, NetError> {
        use nix::errno::Errno;
        use nix::sys::socket::{MsgFlags, send};
        use std::os::fd::AsRawFd;

        let mut body = std::mem::take(&mut self.body);
        body.clear();
        write(&mut body);
        self.frame.clear();
        let sealed = self.sealer.seal(&body, &mut self.frame);
        if body.capacity() <= RETAINED {
            self.body = body;
        }
        sealed?;
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

/// The doorbell's other end, for the thread that runs [`Writer::run`].
pub(crate) struct Queued(Receiver<()>);

impl Writer {
    /// A writer that seals with `sealer` onto `socket`, letting at most `messages` messages
    /// and `bytes` bytes wait (except forced answers).
    pub(crate) fn new(
        sealer: Sealer,
        socket: TcpStream,
        messages: usize,
        bytes: usize,
    ) -> (Writer, Queued) {
        let (bell, rung) = crossbeam_channel::bounded(1);
        let max_body = sealer.max_body_len();
        let writer = Writer {
            side: Mutex::new(WriteSide {
                sealer,
                socket,
                frame: Vec::new(),
                body: Vec::new(),
                unsent: Vec::new(),
            }),
            waiting: Mutex::new(Waiting {
                frames: Vec::new(),
                open: Vec::new(),
                spare: Vec::new(),
                messages: 0,
                bytes: 0,
                flush: false,
                closed: false,
                blocked: 0,
            }),
            room: Condvar::new(),
            bell,
            max_messages: messages.max(1),
            max_bytes: bytes.max(1),
            batch_limit: BATCH_BYTES.min(max_body),
            max_body,
        };
        (writer, Queued(rung))
    }

    /// The largest message body a frame can carry.
    pub(crate) fn max_body(&self) -> usize {
        self.max_body
    }

    /// Sends the message that `write` encodes, waiting for room as `wait` allows.
    ///
    /// An `urgent` message (a request someone waits for) is written at once by this thread
    /// when nothing waits and nobody is writing; never for a send that must not wait on the
    /// socket. Plain tells always wait for the writer thread, so that a stream of them is
    /// packed into few frames.
    pub(crate) fn send(
        &self,
        write: impl FnOnce(&mut message::Writer<'_>),
        wait: SendWait,
        urgent: bool,
    ) -> Result<(), Refused> {
        let write = |body: &mut Vec<u8>| write(&mut message::Writer::new(body));
        if urgent
            && wait != SendWait::Never
            && let Some(mut side) = self.side.try_lock()
            && self.nothing_waits()
        {
            return side.write_one(write).map_err(Refused::Broken);
        }
        self.push(write, wait, false)
    }

    /// Sends the message that `write` encodes whatever the bound, never waiting on this
    /// thread: for answers, produced on threads that must not wait for this peer. Written at
    /// once when the socket takes it (see the module documentation), left for the writer
    /// thread otherwise.
    pub(crate) fn send_forced(
        &self,
        write: impl FnOnce(&mut message::Writer<'_>),
    ) -> Result<(), Refused> {
        let write = |body: &mut Vec<u8>| write(&mut message::Writer::new(body));
        #[cfg(unix)]
        if let Some(mut side) = self.side.try_lock()
            && side.unsent.is_empty()
            && self.nothing_waits()
        {
            if side.write_now(write).map_err(Refused::Broken)? {
                return Ok(());
            }
            drop(side);
            let mut waiting = self.waiting.lock();
            if waiting.closed {
                return Err(Refused::Closed);
            }
            waiting.flush = true;
            self.ring();
            return Ok(());
        }
        self.push(write, SendWait::Never, true)
    }

    /// Whether nothing waits for the writer thread (so a message written now keeps the order).
    fn nothing_waits(&self) -> bool {
        let waiting = self.waiting.lock();
        waiting.is_empty() && !waiting.closed
    }

    /// Wakes the writer thread; a token already there is enough.
    fn ring(&self) {
        let _ = self.bell.try_send(());
    }

    /// Encodes a message with `write` into the frame being filled, within the bound unless
    /// `forced`, waiting for room as `wait` allows.
    fn push(
        &self,
        write: impl FnOnce(&mut Vec<u8>),
        wait: SendWait,
        forced: bool,
    ) -> Result<(), Refused> {
        let mut waiting = self.waiting.lock();
        if waiting.closed {
            return Err(Refused::Closed);
        }
        let first = waiting.is_empty();
        let start = waiting.open.len();
        write(&mut waiting.open);
        let len = waiting.open.len() - start;
        if len > self.max_body {
            waiting.open.truncate(start);
            return Err(Refused::TooLarge(len));
        }
        if forced || waiting.fits(len, self) {
            self.admit(&mut waiting, start, len);
            drop(waiting);
            if first {
                self.ring();
            }
            return Ok(());
        }
        // No room: the message comes back out, to wait (if it may) until there is.
        let deadline = match wait {
            SendWait::Never => {
                waiting.open.truncate(start);
                return Err(Refused::Full);
            }
            SendWait::Forever => None,
            SendWait::Until(deadline) => Some(deadline),
        };
        let msg = waiting.open[start..].to_vec();
        waiting.open.truncate(start);
        waiting.blocked += 1;
        let outcome = loop {
            if waiting.closed {
                break Err(Refused::Closed);
            }
            if waiting.fits(len, self) {
                break Ok(());
            }
            match deadline {
                None => self.room.wait(&mut waiting),
                Some(deadline) => {
                    if self.room.wait_until(&mut waiting, deadline).timed_out()
                        && !waiting.fits(len, self)
                    {
                        break Err(Refused::Timeout);
                    }
                }
            }
        };
        waiting.blocked -= 1;
        outcome?;
        let first = waiting.is_empty();
        let start = waiting.open.len();
        waiting.open.extend_from_slice(&msg);
        self.admit(&mut waiting, start, len);
        drop(waiting);
        if first {
            self.ring();
        }
        Ok(())
    }

    /// Counts the message of `len` bytes just encoded at `start` of the frame being filled;
    /// if it made that frame too large, it starts the next frame instead.
    fn admit(&self, waiting: &mut Waiting, start: usize, len: usize) {
        if start > 0 && start + len > self.batch_limit {
            let mut next = waiting.spare.pop().unwrap_or_default();
            next.extend_from_slice(&waiting.open[start..]);
            waiting.open.truncate(start);
            let full = std::mem::replace(&mut waiting.open, next);
            waiting.frames.push(full);
        }
        waiting.messages += 1;
        waiting.bytes += len;
    }

    /// Keeps an emptied body for reuse, unless enough are kept or it grew too large.
    fn recycle(&self, spare: &mut Vec<Vec<u8>>, mut body: Vec<u8>) {
        if spare.len() < SPARE_BODIES && body.capacity() <= RETAINED {
            body.clear();
            spare.push(body);
        }
    }

    /// Whether there is room for one more message now.
    pub(crate) fn has_room(&self) -> bool {
        self.waiting.lock().fits(1, self)
    }

    /// Waits until there is room for one more message (or the deadline passes); returns
    /// whether there is.
    pub(crate) fn wait_for_room(&self, deadline: Instant) -> bool {
        let mut waiting = self.waiting.lock();
        waiting.blocked += 1;
        let room = loop {
            if waiting.fits(1, self) {
                break true;
            }
            if waiting.closed || self.room.wait_until(&mut waiting, deadline).timed_out() {
                break waiting.fits(1, self);
            }
        };
        waiting.blocked -= 1;
        room
    }

    /// Asks the writer thread to stop after what waits now; later sends are refused.
    pub(crate) fn close(&self) {
        let mut waiting = self.waiting.lock();
        waiting.closed = true;
        if waiting.blocked > 0 {
            self.room.notify_all();
        }
        drop(waiting);
        self.ring();
    }

    /// Seals and writes what waits, as it comes, until the writer is closed (`Ok`) or a write
    /// fails (`Err`); sends a ping when nothing was written for `heartbeat`.
    pub(crate) fn run(&self, queued: Queued, heartbeat: Duration) -> Result<(), NetError> {
        /// Whatever ends the thread, the writer is closed and what waits is dropped, so that
        /// no sender waits for room that would never come.
        struct Stopped<'a>(&'a Writer);
        impl Drop for Stopped<'_> {
            fn drop(&mut self) {
                let mut waiting = self.0.waiting.lock();
                waiting.closed = true;
                waiting.frames = Vec::new();
                waiting.open = Vec::new();
                (waiting.messages, waiting.bytes) = (0, 0);
                self.0.room.notify_all();
            }
        }
        let _stopped = Stopped(self);
        let Queued(rung) = queued;
        let mut taken: Vec<Vec<u8>> = Vec::new();
        let mut emptied: Vec<Vec<u8>> = Vec::new();
        let mut pings = 0u64;
        loop {
            match rung.recv_timeout(heartbeat) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => {
                    pings += 1;
                    self.side
                        .lock()
                        .write_one(|body| message::Writer::new(body).ping(pings))?;
                    continue;
                }
                // The writer itself holds the bell: not while this runs.
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            let mut side = self.side.lock();
            loop {
                // Frames are taken only while the write side is held (see the module
                // documentation); what they hold is counted until they are written.
                let (messages, bytes, closed) = {
                    let mut waiting = self.waiting.lock();
                    std::mem::swap(&mut waiting.frames, &mut taken);
                    if !waiting.open.is_empty() {
                        let next = waiting.spare.pop().unwrap_or_default();
                        taken.push(std::mem::replace(&mut waiting.open, next));
                    }
                    waiting.flush = false;
                    (waiting.messages, waiting.bytes, waiting.closed)
                };
                if taken.is_empty() {
                    side.flush()?;
                    if closed {
                        return Ok(());
                    }
                    break;
                }
                for body in taken.drain(..) {
                    side.write(&body)?;
                    emptied.push(body);
                }
                let mut waiting = self.waiting.lock();
                waiting.messages -= messages;
                waiting.bytes -= bytes;
                for body in emptied.drain(..) {
                    self.recycle(&mut waiting.spare, body);
                }
                if waiting.blocked > 0 {
                    self.room.notify_all();
                }
            }
        }
    }
}

impl Waiting {
    /// Whether no message waits.
    fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.open.is_empty()
    }

    /// Whether one more message of `len` bytes fits the bound. Alone, even an oversized one
    /// does, so that a bound smaller than the largest message never deadlocks.
    fn fits(&self, len: usize, writer: &Writer) -> bool {
        self.messages == 0
            || (self.messages < writer.max_messages
                && self.bytes.saturating_add(len) <= writer.max_bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::Arc;

    use actor_core::codec::FrameReader;

    use super::*;
    use crate::message::{Message, Reader};
    use crate::session::Opener;

    const KEY: [u8; 32] = [7; 32];

    /// A writer on one end of a loopback connection, bounded to `messages` and `bytes`, its
    /// thread running; and the other end.
    fn connected(
        messages: usize,
        bytes: usize,
    ) -> (
        Arc<Writer>,
        std::thread::JoinHandle<Result<(), NetError>>,
        TcpStream,
    ) {
        let (writer, queued, server) = unstarted(messages, bytes);
        let runner = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || writer.run(queued, Duration::from_secs(3600)))
        };
        (writer, runner, server)
    }

    /// A writer as `connected` makes, its thread not started: the doorbell's end is returned.
    fn unstarted(messages: usize, bytes: usize) -> (Arc<Writer>, Queued, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (writer, queued) = Writer::new(Sealer::new(&KEY), client, messages, bytes);
        (Arc::new(writer), queued, server)
    }

    /// Reads frames until the connection ends; returns each frame's body.
    fn received(server: TcpStream) -> Vec<Vec<u8>> {
        let mut opener = Opener::new(&KEY);
        let mut frames = FrameReader::with_config(server, crate::frame::session_frames());
        let mut bodies = Vec::new();
        while let Some(payload) = frames.read_frame().unwrap() {
            bodies.push(opener.open(payload).unwrap().to_vec());
        }
        bodies
    }

    /// The actors and payloads of the TELLs in `bodies`, in order.
    fn tells(bodies: &[Vec<u8>]) -> Vec<(u64, Vec<u8>)> {
        let mut tells = Vec::new();
        for body in bodies {
            for msg in Reader::new(body) {
                match msg.unwrap() {
                    Message::Tell { actor, payload, .. } => tells.push((actor, payload.to_vec())),
                    other => panic!("not a tell: {other:?}"),
                }
            }
        }
        tells
    }

    #[test]
    fn forced_sends_to_a_peer_that_does_not_read_never_wait_and_all_arrive_in_order() {
        let (writer, runner, server) = connected(1024, 1 << 20);
        // Far more than the socket buffers hold: most of it waits, in frames or as the
        // unsent tail of a frame.
        let messages: Vec<(u64, Vec<u8>)> = (0..200u8)
            .map(|i| (u64::from(i), vec![i; 16 * 1024]))
            .collect();
        let (sent_tx, sent) = crossbeam_channel::bounded(1);
        let sender = {
            let (writer, messages) = (Arc::clone(&writer), messages.clone());
            std::thread::spawn(move || {
                for (actor, payload) in messages {
                    writer
                        .send_forced(|w| w.tell(actor, &[], &payload))
                        .unwrap();
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
        runner.join().unwrap().unwrap();
        drop(writer);
        assert_eq!(tells(&reader.join().unwrap()), messages);
    }

    #[test]
    fn a_forced_send_to_an_idle_writer_goes_out_at_once() {
        let (writer, runner, server) = connected(1024, 1 << 20);
        writer.send_forced(|w| w.tell(1, &[], b"answer")).unwrap();
        writer
            .send_forced(|w| w.tell(2, &[], b"and another"))
            .unwrap();
        writer.close();
        runner.join().unwrap().unwrap();
        drop(writer);
        assert_eq!(
            tells(&received(server)),
            [(1, b"answer".to_vec()), (2, b"and another".to_vec())]
        );
    }

    #[test]
    fn messages_from_several_senders_arrive_whole_in_each_senders_order_packed_into_frames() {
        let (writer, runner, server) = connected(64, 1 << 16);
        let reader = std::thread::spawn(move || received(server));
        let senders: Vec<_> = (0..4u64)
            .map(|sender| {
                let writer = Arc::clone(&writer);
                std::thread::spawn(move || {
                    for i in 0..5000u32 {
                        // Sizes from 1 byte to past a frame's batch, so that some messages
                        // start frames of their own.
                        let len = if i % 997 == 0 {
                            70_000
                        } else {
                            1 + i as usize % 300
                        };
                        let mut payload = vec![sender as u8; len];
                        payload[..4.min(len)].copy_from_slice(&i.to_be_bytes()[..4.min(len)]);
                        writer
                            .send(|w| w.tell(sender, &[], &payload), SendWait::Forever, false)
                            .unwrap();
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
        writer.close();
        runner.join().unwrap().unwrap();
        drop(writer);
        let bodies = reader.join().unwrap();
        let tells = tells(&bodies);
        assert_eq!(tells.len(), 4 * 5000);
        for sender in 0..4u64 {
            let order: Vec<u32> = tells
                .iter()
                .filter(|(actor, _)| *actor == sender)
                .map(|(_, payload)| {
                    let mut i = [sender as u8; 4];
                    i[..4.min(payload.len())].copy_from_slice(&payload[..4.min(payload.len())]);
                    u32::from_be_bytes(i)
                })
                .collect();
            let lens: Vec<usize> = tells
                .iter()
                .filter(|(actor, _)| *actor == sender)
                .map(|(_, payload)| payload.len())
                .collect();
            let expected: Vec<usize> = (0..5000)
                .map(|i| if i % 997 == 0 { 70_000 } else { 1 + i % 300 })
                .collect();
            assert_eq!(
                lens, expected,
                "sender {sender}'s messages arrive whole, in order"
            );
            for (i, &n) in order.iter().enumerate() {
                if expected[i] >= 4 {
                    assert_eq!(n, i as u32, "sender {sender}, message {i}");
                }
            }
        }
        assert!(
            bodies.len() < 4 * 5000,
            "{} frames for {} messages: nothing was packed",
            bodies.len(),
            4 * 5000
        );
        assert!(
            bodies
                .iter()
                .all(|b| b.len() <= BATCH_BYTES || Reader::new(b).count() == 1),
            "only a message larger than a batch makes a frame larger than a batch"
        );
    }

    #[test]
    fn a_send_that_finds_no_room_is_refused_or_waits_until_the_writer_has_written() {
        // The writer thread is not running yet: what is sent waits.
        let (writer, queued, server) = unstarted(2, 1 << 20);
        writer
            .send(|w| w.tell(1, &[], b"a"), SendWait::Never, false)
            .unwrap();
        writer
            .send(|w| w.tell(2, &[], b"b"), SendWait::Never, false)
            .unwrap();
        assert!(!writer.has_room());
        let full = writer.send(|w| w.tell(3, &[], b"c"), SendWait::Never, false);
        assert!(matches!(full, Err(Refused::Full)), "{full:?}");
        let soon = Instant::now() + Duration::from_millis(20);
        let timeout = writer.send(|w| w.tell(3, &[], b"c"), SendWait::Until(soon), false);
        assert!(matches!(timeout, Err(Refused::Timeout)), "{timeout:?}");
        // An answer goes whatever the bound.
        writer.send_forced(|w| w.tell(4, &[], b"d")).unwrap();
        // A send that may wait goes through once the writer thread has written.
        let waiter = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                writer.send(|w| w.tell(5, &[], b"e"), SendWait::Forever, false)
            })
        };
        let runner = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || writer.run(queued, Duration::from_secs(3600)))
        };
        let reader = std::thread::spawn(move || received(server));
        waiter.join().unwrap().unwrap();
        writer.close();
        runner.join().unwrap().unwrap();
        drop(writer);
        let actors: Vec<u64> = tells(&reader.join().unwrap()).iter().map(|t| t.0).collect();
        assert_eq!(actors, [1, 2, 4, 5]);
    }

    #[test]
    fn a_message_larger_than_a_frame_is_refused_and_leaves_nothing_behind() {
        let (writer, runner, server) = connected(1024, usize::MAX);
        let huge = vec![0u8; writer.max_body() + 1];
        writer
            .send(|w| w.tell(1, &[], b"before"), SendWait::Never, false)
            .unwrap();
        let refused = writer.send(|w| w.tell(2, &[], &huge), SendWait::Never, false);
        assert!(matches!(refused, Err(Refused::TooLarge(_))), "{refused:?}");
        writer
            .send(|w| w.tell(3, &[], b"after"), SendWait::Never, false)
            .unwrap();
        writer.close();
        runner.join().unwrap().unwrap();
        drop(writer);
        let actors: Vec<u64> = tells(&received(server)).iter().map(|t| t.0).collect();
        assert_eq!(actors, [1, 3]);
    }

    #[test]
    fn sends_after_close_are_refused_and_a_waiting_sender_is_released() {
        let (writer, queued, _server) = unstarted(1, 1 << 20);
        writer
            .send(|w| w.tell(1, &[], b"a"), SendWait::Never, false)
            .unwrap();
        let (waiting_tx, waiting) = crossbeam_channel::bounded(1);
        let waiter = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                waiting_tx.send(()).unwrap();
                writer.send(|w| w.tell(2, &[], b"b"), SendWait::Forever, false)
            })
        };
        waiting.recv_timeout(Duration::from_secs(10)).unwrap();
        // Whether the waiter is already waiting or not, closing refuses it.
        writer.close();
        assert!(matches!(waiter.join().unwrap(), Err(Refused::Closed)));
        assert!(matches!(
            writer.send(|w| w.tell(3, &[], b"c"), SendWait::Forever, false),
            Err(Refused::Closed)
        ));
        drop(queued);
    }
}
