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
//! - `framed-tcp`: one `[u32 BE length][bincode]` frame per record through 64 KiB buffers,
//!   TCP_NODELAY; B decodes every frame and, after the `n`-th, writes its tally back in a
//!   frame of its own.
//! - `framed-tcp-hmac`: the same with every frame sealed (sequence number and
//!   HMAC-SHA256 tag, as the framework's session layer does) and opened by the reader.

use std::io::{BufReader, BufWriter, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec, FrameConfig, FrameReader};
use actor_core::{Actor, AskError, Context, HandlerResult, Reply, System};
use actor_net::handshake::Encryption;
use actor_net::session::{Opener, Sealer};
use actor_net::{Node, RemoteMessage};
use crossbeam_channel::Sender;
use serde::{Deserialize, Serialize};

use crate::error::{BenchError, BenchResult};
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

/// Capacity of the raw variants' buffered reader and writer.
const BUFFER: usize = 64 * 1024;

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
    raw(n, "framed-tcp", |_| Framing::Plain(FrameConfig::new()))
}

/// The raw baseline, process A: one sealed frame per record.
pub(crate) fn raw_framed_hmac(n: u64) -> BenchResult<Vec<Sample>> {
    raw(n, "framed-tcp-hmac", Framing::sealed)
}

/// The raw baseline, process B, for `framed-tcp`.
pub(crate) fn serve_framed(n: u64) -> BenchResult<()> {
    server::serve_one_connection(move |stream| {
        count_frames(stream, n, Framing::Plain(FrameConfig::new()))
    })
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
    let mut reader = FrameReader::new(BufReader::with_capacity(BUFFER, stream.try_clone()?));
    let watchdog = Watchdog::arm(stream.try_clone()?)?;
    let mut writer = BufWriter::with_capacity(BUFFER, stream);
    let measured = stream_records(&mut reader, &mut writer, n, framing);
    let watched = watchdog.disarm("the raw server to take the records and answer");
    if measured.is_err() {
        // A `BufWriter` flushes when dropped: to a stalled peer that would block for another
        // write timeout. Shut down, the flush fails at once.
        let _ = writer.get_ref().shutdown(Shutdown::Both);
    }
    // When the watchdog fired, the i/o error it caused is the lesser news.
    watched?;
    measured
}

fn stream_records(
    reader: &mut FrameReader<BufReader<TcpStream>>,
    writer: &mut BufWriter<TcpStream>,
    n: u64,
    mut framing: Framing,
) -> BenchResult<Duration> {
    let codec = Bincode::new();
    let mut body = Vec::with_capacity(64);
    let mut frame = Vec::with_capacity(128);

    let t_start = Instant::now();
    for id in 0..n {
        body.clear();
        codec.encode(&Record::new(id), &mut body)?;
        frame.clear();
        framing.append(&body, &mut frame)?;
        writer.write_all(&frame)?;
    }
    writer.flush()?;
    let payload = reader
        .read_frame()?
        .ok_or_else(|| BenchError::peer("closed the connection before its tally"))?;
    let tally: Tally = codec.decode(framing.open(payload)?)?;
    let t_end = Instant::now();
    tally.verify(n, "the raw server, on its n-th frame,")?;
    Ok(t_end - t_start)
}

/// Reads and decodes frames until A closes the connection, counting record ids; writes the
/// tally back after the `n`-th; checks the final tally.
fn count_frames(stream: TcpStream, n: u64, mut framing: Framing) -> BenchResult<()> {
    let mut reader = FrameReader::new(BufReader::with_capacity(BUFFER, stream.try_clone()?));
    let mut writer = stream;
    let codec = Bincode::new();
    let mut tally = Tally::default();
    while let Some(payload) = reader.read_frame()? {
        let record: Record = codec.decode(framing.open(payload)?)?;
        tally.add(record.id);
        if tally.count == n {
            let mut body = Vec::with_capacity(32);
            codec.encode(&tally, &mut body)?;
            let mut frame = Vec::with_capacity(128);
            framing.append(&body, &mut frame)?;
            // One write, unbuffered: it is the only frame in this direction.
            writer.write_all(&frame)?;
        }
    }
    tally.verify(n, "the raw server, at the end,")
}

/// How a raw variant frames a body: plain, or sealed with a sequence number and an HMAC tag.
///
/// Each side seals what it sends and opens what it receives; the two directions have their
/// own sequences, as in a framework session.
#[derive(Debug)]
enum Framing {
    /// `[u32 BE length][body]`.
    Plain(FrameConfig),
    /// `[u32 BE length][seq][body][tag]`, from actor-net's session layer. Boxed: the MAC
    /// states are a few hundred bytes.
    Sealed {
        sealer: Box<Sealer>,
        opener: Box<Opener>,
    },
}

impl Framing {
    fn sealed(key: &RunKey) -> Framing {
        Framing::Sealed {
            sealer: Box::new(Sealer::new(key.bytes())),
            opener: Box::new(Opener::new(key.bytes())),
        }
    }

    /// Appends one frame carrying `body` to `out`.
    fn append(&mut self, body: &[u8], out: &mut Vec<u8>) -> BenchResult<()> {
        match self {
            Framing::Plain(config) => config.append_frame(out, body)?,
            Framing::Sealed { sealer, .. } => sealer.seal(body, out)?,
        }
        Ok(())
    }

    /// The body of a received frame's payload, checked when sealed.
    fn open<'a>(&'a mut self, payload: &'a [u8]) -> BenchResult<&'a [u8]> {
        match self {
            Framing::Plain(_) => Ok(payload),
            Framing::Sealed { opener, .. } => Ok(opener.open(payload)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_framing_opens_what_it_appends() {
        let key = RunKey::random().unwrap();
        for (mut sender, mut receiver) in [
            (
                Framing::Plain(FrameConfig::new()),
                Framing::Plain(FrameConfig::new()),
            ),
            (Framing::sealed(&key), Framing::sealed(&key)),
        ] {
            let mut wire = Vec::new();
            sender.append(b"first", &mut wire).unwrap();
            sender.append(b"second", &mut wire).unwrap();
            let mut reader = FrameReader::new(wire.as_slice());
            let mut bodies = Vec::new();
            while let Some(payload) = reader.read_frame().unwrap() {
                bodies.push(receiver.open(payload).unwrap().to_vec());
            }
            assert_eq!(bodies, [&b"first"[..], b"second"]);
        }
    }

    #[test]
    fn a_sealed_frame_under_another_key_is_refused() {
        let mut sender = Framing::sealed(&RunKey::random().unwrap());
        let mut receiver = Framing::sealed(&RunKey::random().unwrap());
        let mut wire = Vec::new();
        sender.append(b"body", &mut wire).unwrap();
        assert!(receiver.open(&wire[4..]).is_err());
    }
}
