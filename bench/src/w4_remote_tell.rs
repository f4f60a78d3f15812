//! W4, remote tell throughput over loopback: process A sends `n` [`Record`]s to process B
//! (a [`Peer`]), which decodes, counts and sums their ids.
//!
//! `t_start` is taken on A just before the first send, once the connection is set up (and,
//! for the framework, authenticated and the actor looked up); `t_end` when A learns that B
//! has processed all `n`. Both sides check the tally against `0..n`: A the one B reports on
//! its `n`-th record, B its final one after A has gone (which catches a record too many).
//!
//! - `actor`: a remote `ActorRef` on a framework node in A, an exported actor in B. `t_end`
//!   is the answer to an ask queued behind the `n` tells. The framework authenticates every
//!   frame and packs many messages into one frame.
//! - `framed-tcp`: one `[u32 BE length][bincode]` frame per record, TCP_NODELAY, written as
//!   a skilled engineer would ([`FrameBatch`]): each record encoded in place into one reused
//!   buffer, which leaves in one write per 64 KiB. B reads in 256 KiB chunks into a buffer of
//!   its own and decodes every record (an owned [`Record`], as the framework's receiver
//!   does) where its frame arrived ([`FrameChunks`]); after the `n`-th it writes its tally
//!   back in a frame of its own.
//! - `framed-tcp-hmac`: the same with every frame sealed (sequence number and
//!   HMAC-SHA256 tag, by actor-net's session layer, the framework's own) and opened by the
//!   reader. The session's sealer appends each frame to the batch itself, but from a body
//!   of its own: each record is encoded into a small reused buffer first and copied from
//!   there (see [`Framing::Sealed`]).

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec};
use actor_core::{Actor, AskError, Context, HandlerResult, Reply, System};
use actor_net::handshake::Encryption;
use actor_net::session::{Opener, Sealer};
use actor_net::{Node, RemoteMessage};
use crossbeam_channel::Sender;
use serde::{Deserialize, Serialize};

use crate::error::{BenchError, BenchResult};
use crate::frame_batch::FrameBatch;
use crate::frame_chunks::FrameChunks;
use crate::peer::Peer;
use crate::record::Record;
use crate::report::Sample;
use crate::run_key::RunKey;
use crate::server;
use crate::tally::Tally;
use crate::wait::{self, WAIT_LIMIT, Watchdog};

/// Default number of records.
pub(crate) const N: u64 = 1_000_000;

const WORKLOAD: &str = "W4";

/// The name B exports its actor under.
const EXPORT: &str = "w4-counter";

/// What the counting actor takes: the records, then the question that ends the run.
#[derive(Debug, Serialize, Deserialize)]
enum Counted {
    /// One of the `n` records.
    Record(Record),
    /// Asks for the tally so far; queued behind the records, so answered after them.
    Tally(Reply<Tally>),
}

impl RemoteMessage for Counted {
    const NAME: &'static str = "actor-bench.w4.counted";
}

/// B's actor: counts and sums record ids; reports its final tally when it stops.
#[derive(Debug)]
struct Counter {
    tally: Tally,
    ended: Sender<Tally>,
}

impl Actor for Counter {
    type Msg = Counted;

    #[inline]
    fn handle(&mut self, msg: Counted, _ctx: &mut Context<Counted>) -> HandlerResult {
        match msg {
            Counted::Record(record) => self.tally.add(record.id),
            Counted::Tally(reply) => reply.send(self.tally),
        }
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<Counted>) {
        // A send error only means B's main thread has given up already.
        let _ = self.ended.send(self.tally);
    }
}

/// The framework, process A: tells the records to B's actor through a remote ref, in a
/// session authenticated with MACs and not encrypted.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    actor_with(n, "actor", Encryption::Off)
}

/// As [`actor`], in an encrypted session (W4-aead).
pub(crate) fn actor_aead(n: u64) -> BenchResult<Vec<Sample>> {
    actor_with(n, "actor-aead", Encryption::Required)
}

fn actor_with(n: u64, variant: &str, encryption: Encryption) -> BenchResult<Vec<Sample>> {
    let peer = Peer::start(WORKLOAD, variant, n)?;
    let measured = tell_all(peer.key(), peer.addr(), n, encryption);
    let finished = peer.finish();
    let elapsed = measured?;
    finished?;
    Ok(vec![Sample::throughput(n, elapsed, "msgs/s")])
}

/// Connects with `encryption`, looks the counter up, tells it `0..n` and asks for its tally;
/// returns `t_end − t_start`. The node is shut down on return, on every path.
fn tell_all(
    key: &RunKey,
    addr: SocketAddr,
    n: u64,
    encryption: Encryption,
) -> BenchResult<Duration> {
    let node = Node::builder(key.secret()?)
        .name("actor-bench")
        .encryption(encryption)
        .build()?;
    let counter = node.lookup::<Counted>(addr, EXPORT)?;
    let t_start = Instant::now();
    for id in 0..n {
        counter
            .tell(Counted::Record(Record::new(id)))
            .map_err(AskError::from)?;
    }
    let tally = counter.ask(Counted::Tally, WAIT_LIMIT)?;
    let t_end = Instant::now();
    tally.verify(n, "the remote actor, asked after the n-th record,")?;
    Ok(t_end - t_start)
}

/// The framework, process B: a [`Counter`] exported on a node until A is done.
pub(crate) fn serve_actor(n: u64) -> BenchResult<()> {
    let (ended_tx, ended_rx) = crossbeam_channel::bounded(1);
    let system = System::new();
    let served = (|| {
        let counter = system.spawn(Counter {
            tally: Tally::default(),
            ended: ended_tx,
        })?;
        server::export_until_stdin_closes(EXPORT, &counter)
    })();
    // On every path: stopping the actor makes it report its final tally.
    system.shutdown();
    served?;
    wait::recv(&ended_rx, "the counter's final tally")?.verify(n, "the remote actor, at the end,")
}

/// The raw baseline, process A: one plain frame per record.
pub(crate) fn raw_framed(n: u64) -> BenchResult<Vec<Sample>> {
    raw(n, "framed-tcp", |_| Framing::Plain)
}

/// The raw baseline, process A: one sealed frame per record.
pub(crate) fn raw_framed_hmac(n: u64) -> BenchResult<Vec<Sample>> {
    raw(n, "framed-tcp-hmac", Framing::sealed)
}

/// The raw baseline, process B, for `framed-tcp`.
pub(crate) fn serve_framed(n: u64) -> BenchResult<()> {
    server::serve_one_connection(move |stream| count_frames(stream, n, Framing::Plain))
}

/// The raw baseline, process B, for `framed-tcp-hmac`.
pub(crate) fn serve_framed_hmac(n: u64) -> BenchResult<()> {
    let framing = Framing::sealed(&RunKey::from_env()?);
    server::serve_one_connection(move |stream| count_frames(stream, n, framing))
}

fn raw(
    n: u64,
    variant: &'static str,
    framing: impl FnOnce(&RunKey) -> Framing,
) -> BenchResult<Vec<Sample>> {
    let peer = Peer::start(WORKLOAD, variant, n)?;
    let measured = send_frames(peer.addr(), n, framing(peer.key()));
    let finished = peer.finish();
    let elapsed = measured?;
    finished?;
    Ok(vec![Sample::throughput(n, elapsed, "msgs/s")])
}

/// Connects, sends `0..n` one record per frame, and reads B's tally; returns
/// `t_end − t_start`. The connection is closed on return, on every path.
fn send_frames(addr: SocketAddr, n: u64, framing: Framing) -> BenchResult<Duration> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(WAIT_LIMIT))?;
    stream.set_write_timeout(Some(WAIT_LIMIT))?;
    let mut frames = FrameChunks::new(stream.try_clone()?);
    let watchdog = Watchdog::arm(stream.try_clone()?)?;
    let measured = stream_records(&mut frames, &stream, n, framing);
    let watched = watchdog.disarm("the raw server to take the records and answer");
    // When the watchdog fired, the i/o error it caused is the lesser news.
    watched?;
    measured
}

fn stream_records(
    frames: &mut FrameChunks<TcpStream>,
    mut writer: &TcpStream,
    n: u64,
    mut framing: Framing,
) -> BenchResult<Duration> {
    let mut batch = FrameBatch::new();

    let t_start = Instant::now();
    for id in 0..n {
        framing.push(&Record::new(id), &mut batch)?;
        batch.write_if_full(&mut writer)?;
    }
    batch.write_to(writer)?;
    let payload = frames
        .next_frame()?
        .ok_or_else(|| BenchError::peer("closed the connection before its tally"))?;
    let tally: Tally = Bincode::new().decode(framing.open(payload)?)?;
    let t_end = Instant::now();
    tally.verify(n, "the raw server, on its n-th frame,")?;
    Ok(t_end - t_start)
}

/// Reads and decodes frames until A closes the connection, counting record ids; writes the
/// tally back after the `n`-th; checks the final tally.
fn count_frames(stream: TcpStream, n: u64, mut framing: Framing) -> BenchResult<()> {
    let mut frames = FrameChunks::new(stream.try_clone()?);
    let codec = Bincode::new();
    let mut tally = Tally::default();
    while let Some(payload) = frames.next_frame()? {
        let record: Record = codec.decode(framing.open(payload)?)?;
        tally.add(record.id);
        if tally.count == n {
            // One write, unbuffered: it is the only frame in this direction.
            let mut reply = FrameBatch::new();
            framing.push(&tally, &mut reply)?;
            reply.write_to(&stream)?;
        }
    }
    tally.verify(n, "the raw server, at the end,")
}

/// How a raw variant frames a value: plain, or sealed with a sequence number and an HMAC tag.
///
/// Each side seals what it sends and opens what it receives; the two directions have their
/// own sequences, as in a framework session.
#[derive(Debug)]
enum Framing {
    /// `[u32 BE length][bincode]`, the value encoded in place in the batch.
    Plain,
    /// `[u32 BE length][seq][bincode][tag]`, from actor-net's session layer. Boxed: the MAC
    /// states are a few hundred bytes.
    ///
    /// The sealer appends the whole frame to the batch, but takes the body as a slice of
    /// its own: the value is encoded into `body` first, and copied from there (tens of
    /// bytes). Sealing a body already in place would take an API actor-net does not have.
    Sealed {
        sealer: Box<Sealer>,
        opener: Box<Opener>,
        body: Vec<u8>,
    },
}

impl Framing {
    fn sealed(key: &RunKey) -> Framing {
        Framing::Sealed {
            sealer: Box::new(Sealer::new(key.bytes())),
            opener: Box::new(Opener::new(key.bytes())),
            body: Vec::with_capacity(64),
        }
    }

    /// Appends one frame carrying `value` to `batch`.
    #[inline]
    fn push<T: Serialize>(&mut self, value: &T, batch: &mut FrameBatch) -> BenchResult<()> {
        let codec = Bincode::new();
        match self {
            Framing::Plain => batch.push_with(|buf| Ok(codec.encode(value, buf)?)),
            Framing::Sealed { sealer, body, .. } => {
                body.clear();
                codec.encode(value, body)?;
                Ok(sealer.seal(body, batch.buffer())?)
            }
        }
    }

    /// The body of a received frame's payload, checked when sealed.
    #[inline]
    fn open<'a>(&'a mut self, payload: &'a [u8]) -> BenchResult<&'a [u8]> {
        match self {
            Framing::Plain => Ok(payload),
            Framing::Sealed { opener, .. } => Ok(opener.open(payload)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(sender: &mut Framing, values: &[u64]) -> Vec<u8> {
        let mut batch = FrameBatch::new();
        for value in values {
            sender.push(value, &mut batch).unwrap();
        }
        batch.as_bytes().to_vec()
    }

    #[test]
    fn each_framing_opens_what_it_pushes() {
        let key = RunKey::random().unwrap();
        for (mut sender, mut receiver) in [
            (Framing::Plain, Framing::Plain),
            (Framing::sealed(&key), Framing::sealed(&key)),
        ] {
            let wire = frames_of(&mut sender, &[1, 300, 70_000]);
            let mut frames = FrameChunks::new(wire.as_slice());
            let mut values = Vec::new();
            while let Some(payload) = frames.next_frame().unwrap() {
                let body = receiver.open(payload).unwrap();
                values.push(Bincode::new().decode::<u64>(body).unwrap());
            }
            assert_eq!(values, [1, 300, 70_000]);
        }
    }

    #[test]
    fn the_sealed_frames_are_the_session_layers() {
        let key = RunKey::random().unwrap();
        let wire = frames_of(&mut Framing::sealed(&key), &[5]);
        let mut expected = Vec::new();
        Sealer::new(key.bytes()).seal(&[5], &mut expected).unwrap();
        assert_eq!(wire, expected);
    }

    #[test]
    fn a_sealed_frame_under_another_key_is_refused() {
        let mut sender = Framing::sealed(&RunKey::random().unwrap());
        let mut receiver = Framing::sealed(&RunKey::random().unwrap());
        let wire = frames_of(&mut sender, &[1]);
        assert!(receiver.open(&wire[4..]).is_err());
    }
}
