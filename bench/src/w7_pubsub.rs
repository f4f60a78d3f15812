//! W7, pub/sub across nodes: process A publishes `n` [`Record`]s (W4's message) on an
//! exchange; two other processes each hold [`SUBSCRIBERS_PER_NODE`] subscriber actors for it,
//! so every record makes 8 deliveries across the wire. Each subscriber sums and counts like
//! W3's; deliveries/s = 8·n / (t_end − t_start).
//!
//! `t_start` is taken on A just before the first publish, once both subscribing nodes have
//! attached their subscriptions; `t_end` when A learns that the last of the 8 subscribers has
//! taken its `n`-th record (as W4 ends when A learns that B has all `n`). Every subscriber's
//! tally is checked against `0..n` on its `n`-th record (by A) and when it stops (by its own
//! process, which catches a record too many).
//!
//! - `pubsub`: A's node shares [`Record`] and publishes on the exchange [`EXCHANGE`]; each
//!   subscribing node subscribes its 4 actors (`ActorRef<Record>`) to it with
//!   `Node::subscribe`, so the 4 share one wire subscription and each record crosses once per
//!   node. A publishing node never waits for a remote subscriber: a record that finds the
//!   connection's outbound queue full is dropped. So A publishes under a credit window: at
//!   most [`WINDOW`] records past the slowest subscriber's acknowledgement, which is never more
//!   than the connection's outbound queue holds ([`OUTBOUND_MESSAGES`], the node's default).
//!   Each subscriber acknowledges every [`ACK_EVERY`] records with a remote tell to a
//!   [`CreditDesk`] actor on A. A record that reaches fewer than both nodes, or a drop counted
//!   on the exchange's subscriptions, fails the run.
//! - `framed-tcp`: W4's raw baseline, sending the same bytes to each of the two processes:
//!   A encodes each record once as a `[u32 BE length][bincode]` frame in place into one
//!   reused buffer ([`FrameBatch`]) and writes each 64 KiB of frames to both connections
//!   (TCP_NODELAY); each process reads in large chunks and decodes every frame where it
//!   arrived ([`FrameChunks`]), adding the id to the tallies of its 4 subscribers, on the
//!   reading thread (no hand-off: the strongest form), then writes the 4 tallies back after
//!   the `n`-th.
//!   No flow control is needed: TCP's own holds the writer back.
//!
//! The framework row also reports `node-throughput`: records arriving at each subscribing node
//! per second, n / (t_end − t_start) (its 4 deliveries of a record count once). That is the
//! figure read against W4's remote tell throughput (one node sending to one other) of the same
//! run.

use std::io::Write as _;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec};
use actor_core::{Actor, ActorRef, AskError, Context, HandlerResult, System};
use actor_net::{Node, RemoteMessage};
use crossbeam_channel::{Receiver, Sender};
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

/// Default number of records published.
pub(crate) const N: u64 = 1_000_000;

const WORKLOAD: &str = "W7";

/// Subscribing processes.
pub(crate) const NODES: usize = 2;

/// Subscriber actors in each subscribing process.
pub(crate) const SUBSCRIBERS_PER_NODE: usize = 4;

/// Deliveries per record.
const SUBSCRIBERS: usize = NODES * SUBSCRIBERS_PER_NODE;

/// The exchange A publishes on, and the pattern the subscribers subscribe with.
const EXCHANGE: &str = "bench.records";

/// The name A exports its [`CreditDesk`] under.
const CREDIT_DESK: &str = "w7-credit";

/// Messages that may wait for one connection's writer on A: the node's default, set
/// explicitly so that [`WINDOW`] stays within it.
pub(crate) const OUTBOUND_MESSAGES: usize = 8192;

/// The most records A publishes beyond the slowest subscriber's last acknowledgement. A record
/// waits in a connection's outbound queue only until it is written, long before a subscriber
/// acknowledges it, so no more than this many ever wait there: none is dropped.
pub(crate) const WINDOW: u64 = OUTBOUND_MESSAGES as u64;

/// Each subscriber acknowledges every this many records.
pub(crate) const ACK_EVERY: u64 = 1024;

// The window never outgrows the queue, and acknowledgements come more often than it fills.
const _: () = assert!(WINDOW <= OUTBOUND_MESSAGES as u64 && ACK_EVERY < WINDOW);

/// Where the subscribing processes find A's node: its address, in their environment.
const PUBLISHER_VAR: &str = "ACTOR_BENCH_W7_PUBLISHER";

/// Which subscribing process this is (0 or 1), in its environment.
const NODE_VAR: &str = "ACTOR_BENCH_W7_NODE";

impl RemoteMessage for Record {
    const NAME: &'static str = "actor-bench.w7.record";
}

/// What the subscribing processes tell A's [`CreditDesk`].
#[derive(Debug, Serialize, Deserialize)]
enum Credit {
    /// Subscribing process `node` has attached all its subscribers.
    Ready { node: usize },
    /// Subscriber `subscriber` (0..8) has taken `count` records.
    Ack { subscriber: usize, count: u64 },
    /// Subscriber `subscriber` has taken its `n`-th record; its tally then.
    Done { subscriber: usize, tally: Tally },
}

impl RemoteMessage for Credit {
    const NAME: &'static str = "actor-bench.w7.credit";
}

/// A's actor that hands every [`Credit`] to the publishing thread.
#[derive(Debug)]
struct CreditDesk {
    to_publisher: Sender<Credit>,
}

impl Actor for CreditDesk {
    type Msg = Credit;

    fn handle(&mut self, credit: Credit, _ctx: &mut Context<Credit>) -> HandlerResult {
        // A send error only means the publishing thread has given up already.
        let _ = self.to_publisher.send(credit);
        Ok(())
    }
}

/// A subscriber actor: counts and sums record ids, acknowledges to A's [`CreditDesk`] every
/// [`ACK_EVERY`] records and on the `n`-th, and reports its final tally when it stops.
#[derive(Debug)]
struct Subscriber {
    /// 0..8 across both subscribing processes.
    index: usize,
    n: u64,
    tally: Tally,
    desk: ActorRef<Credit>,
    ended: Sender<Tally>,
}

impl Actor for Subscriber {
    type Msg = Record;

    #[inline]
    fn handle(&mut self, record: Record, _ctx: &mut Context<Record>) -> HandlerResult {
        self.tally.add(record.id);
        let count = self.tally.count;
        let subscriber = self.index;
        if count == self.n {
            let tally = self.tally;
            self.desk
                .tell(Credit::Done { subscriber, tally })
                .map_err(AskError::from)?;
        } else if count.is_multiple_of(ACK_EVERY) {
            self.desk
                .tell(Credit::Ack { subscriber, count })
                .map_err(AskError::from)?;
        }
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<Record>) {
        // A send error only means the process's main thread has given up already.
        let _ = self.ended.send(self.tally);
    }
}

/// The settings W7's framework figures depend on, printed beside them.
pub(crate) fn settings_text() -> String {
    format!(
        "paced by credit: at most credit_window={WINDOW} records published past the slowest \
         subscriber's acknowledgement, each subscriber acknowledging every ack_every={ACK_EVERY} \
         through a remote tell; publisher outbound_messages={OUTBOUND_MESSAGES} (default) per \
         connection; a dropped record fails the run"
    )
}

/// The framework, process A: publishes `0..n` on a node that both subscribing processes
/// subscribe to.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let key = RunKey::random()?;
    let system = System::new();
    let node = Node::builder(key.secret()?)
        .name("actor-bench-w7")
        .listen(server::LISTEN)
        .outbound_messages(OUTBOUND_MESSAGES)
        .share::<Record>()
        .system(&system)
        .build();
    let measured = match node {
        Ok(node) => {
            let measured = publish_with_peers(&node, &system, key, n);
            node.shutdown();
            measured
        }
        Err(error) => Err(error.into()),
    };
    // On every path: a failed run still stops and joins its actors.
    system.shutdown();
    let elapsed = measured?;
    Ok(vec![
        Sample::throughput(n * SUBSCRIBERS as u64, elapsed, "deliveries/s"),
        Sample::new(
            "node-throughput",
            n as f64 / elapsed.as_secs_f64(),
            "msgs/s",
        ),
    ])
}

/// Exports the credit desk, starts the subscribing processes, publishes; returns
/// `t_end − t_start` once both processes have exited successfully.
fn publish_with_peers(node: &Node, system: &System, key: RunKey, n: u64) -> BenchResult<Duration> {
    let (credit_tx, credits) = crossbeam_channel::unbounded();
    let desk = system.spawn(CreditDesk {
        to_publisher: credit_tx,
    })?;
    node.export(CREDIT_DESK, &desk)?;
    let exchange = system.exchange::<Record>(EXCHANGE)?;
    let addr = node
        .local_addr()
        .ok_or_else(|| BenchError::check("the publishing node has no address"))?;
    let mut peers = Vec::with_capacity(NODES);
    for index in 0..NODES {
        let env = [
            (PUBLISHER_VAR, addr.to_string()),
            (NODE_VAR, index.to_string()),
        ];
        peers.push(Peer::start_with(WORKLOAD, "pubsub", n, key.clone(), &env)?);
    }
    let measured = publish_all(&exchange, &credits, n);
    // Each process checks its subscribers' final tallies before it exits.
    let mut finished = Ok(());
    for peer in peers {
        let result = peer.finish();
        if finished.is_ok() {
            finished = result;
        }
    }
    let elapsed = measured?;
    finished?;
    Ok(elapsed)
}

/// What the publishing thread knows of the subscribers' progress.
#[derive(Debug)]
struct Progress {
    n: u64,
    /// Records each subscriber has acknowledged.
    acked: [u64; SUBSCRIBERS],
    /// The least of `acked`.
    floor: u64,
    /// Subscribers that have taken all `n`.
    done: usize,
}

impl Progress {
    fn new(n: u64) -> Progress {
        Progress {
            n,
            acked: [0; SUBSCRIBERS],
            floor: 0,
            done: 0,
        }
    }

    /// Takes in one credit from the desk (waiting for it at most [`WAIT_LIMIT`]).
    fn take(&mut self, credits: &Receiver<Credit>) -> BenchResult<()> {
        match wait::recv(credits, "a subscriber's acknowledgement")? {
            Credit::Ack { subscriber, count } => self.ack(subscriber, count)?,
            Credit::Done { subscriber, tally } => {
                tally.verify(self.n, "a subscriber, on its n-th record,")?;
                self.ack(subscriber, self.n)?;
                self.done += 1;
            }
            Credit::Ready { node } => {
                return Err(BenchError::peer(format!(
                    "{node} said it was ready a second time"
                )));
            }
        }
        Ok(())
    }

    fn ack(&mut self, subscriber: usize, count: u64) -> BenchResult<()> {
        let acked = self
            .acked
            .get_mut(subscriber)
            .ok_or_else(|| BenchError::peer(format!("named subscriber {subscriber}")))?;
        *acked = (*acked).max(count);
        self.floor = self.acked.iter().copied().min().unwrap_or(0);
        Ok(())
    }
}

/// Waits until both subscribing processes are ready, publishes `0..n` under the credit window,
/// and waits for every subscriber's `n`-th record; returns `t_end − t_start`.
fn publish_all(
    exchange: &actor_core::Exchange<Record>,
    credits: &Receiver<Credit>,
    n: u64,
) -> BenchResult<Duration> {
    let mut ready = [false; NODES];
    for _ in 0..NODES {
        match wait::recv(credits, "the subscribing processes to be ready")? {
            Credit::Ready { node } if node < NODES && !ready[node] => ready[node] = true,
            other => {
                return Err(BenchError::peer(format!(
                    "sent {other:?} before the run began"
                )));
            }
        }
    }
    if exchange.subscriber_count() != NODES {
        return Err(BenchError::check(format!(
            "the exchange has {} subscriptions, expected one per subscribing node ({NODES})",
            exchange.subscriber_count()
        )));
    }
    let mut progress = Progress::new(n);
    let t_start = Instant::now();
    for id in 0..n {
        while id - progress.floor >= WINDOW {
            progress.take(credits)?;
        }
        let delivered = exchange.publish(Record::new(id));
        if delivered != NODES {
            return Err(BenchError::check(format!(
                "record {id} reached {delivered} of {NODES} subscribing nodes: {:?}",
                exchange.subscriptions()
            )));
        }
    }
    while progress.done < SUBSCRIBERS {
        progress.take(credits)?;
    }
    let t_end = Instant::now();
    let dropped: u64 = exchange.subscriptions().iter().map(|s| s.dropped).sum();
    if dropped != 0 {
        return Err(BenchError::check(format!(
            "the exchange dropped {dropped} records"
        )));
    }
    Ok(t_end - t_start)
}

/// The framework, a subscribing process: 4 [`Subscriber`]s subscribed to A's exchange until
/// A is done; then checks their final tallies.
pub(crate) fn serve_pubsub(n: u64) -> BenchResult<()> {
    let publisher: SocketAddr = env_value(PUBLISHER_VAR)?;
    let index: usize = env_value(NODE_VAR)?;
    if index >= NODES {
        return Err(BenchError::peer(format!("has {NODE_VAR}={index}")));
    }
    let (ended_tx, ended_rx) = crossbeam_channel::unbounded();
    let system = System::new();
    let node = Node::builder(RunKey::from_env()?.secret()?)
        .name(format!("actor-bench-w7-{index}"))
        .listen(server::LISTEN)
        .build();
    let served = match node {
        Ok(node) => {
            let served =
                subscribe_until_stdin_closes(&node, &system, publisher, index, n, ended_tx);
            node.shutdown();
            served
        }
        Err(error) => Err(error.into()),
    };
    // On every path: stopping the subscribers makes them report their final tallies.
    system.shutdown();
    served?;
    for tally in wait::recv_all(&ended_rx, SUBSCRIBERS_PER_NODE, "the subscribers' tallies")? {
        tally.verify(n, "a subscriber, at the end,")?;
    }
    Ok(())
}

fn subscribe_until_stdin_closes(
    node: &Node,
    system: &System,
    publisher: SocketAddr,
    index: usize,
    n: u64,
    ended: Sender<Tally>,
) -> BenchResult<()> {
    let desk = node.lookup::<Credit>(publisher, CREDIT_DESK)?;
    let mut guards = Vec::with_capacity(SUBSCRIBERS_PER_NODE);
    for local in 0..SUBSCRIBERS_PER_NODE {
        let subscriber = system.spawn(Subscriber {
            index: index * SUBSCRIBERS_PER_NODE + local,
            n,
            tally: Tally::default(),
            desk: desk.clone(),
            ended: ended.clone(),
        })?;
        guards.push(node.subscribe::<Record>(publisher, EXCHANGE, subscriber)?);
    }
    // Every subscription is attached on A now: `subscribe` returns once A confirmed it.
    desk.tell(Credit::Ready { node: index })
        .map_err(AskError::from)?;
    let addr = node
        .local_addr()
        .ok_or_else(|| BenchError::peer("node has no address"))?;
    server::announce(addr)?;
    server::until_stdin_closes()?;
    drop(guards);
    Ok(())
}

/// The value of the environment variable `name`, parsed.
fn env_value<T: std::str::FromStr>(name: &str) -> BenchResult<T> {
    let text = std::env::var(name).map_err(|_| BenchError::peer(format!("has no {name}")))?;
    text.parse()
        .map_err(|_| BenchError::peer(format!("has a malformed {name}: {text:?}")))
}

/// The raw baseline, process A: the same frames written to both processes.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let mut peers = Vec::with_capacity(NODES);
    for _ in 0..NODES {
        peers.push(Peer::start(WORKLOAD, "framed-tcp", n)?);
    }
    let addrs: Vec<SocketAddr> = peers.iter().map(Peer::addr).collect();
    let measured = send_frames(&addrs, n);
    let mut finished = Ok(());
    for peer in peers {
        let result = peer.finish();
        if finished.is_ok() {
            finished = result;
        }
    }
    let elapsed = measured?;
    finished?;
    Ok(vec![Sample::throughput(
        n * SUBSCRIBERS as u64,
        elapsed,
        "deliveries/s",
    )])
}

/// The raw baseline, a receiving process.
pub(crate) fn serve_raw(n: u64) -> BenchResult<()> {
    server::serve_one_connection(move |stream| count_frames(stream, n))
}

/// One connection of A to a receiving process.
struct Link {
    stream: TcpStream,
    frames: FrameChunks<TcpStream>,
    watchdog: Option<Watchdog>,
}

/// Connects to every process, sends `0..n` once to each, and reads their tallies; returns
/// `t_end − t_start`. The connections are closed on return, on every path.
fn send_frames(addrs: &[SocketAddr], n: u64) -> BenchResult<Duration> {
    let mut links = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(WAIT_LIMIT))?;
        stream.set_write_timeout(Some(WAIT_LIMIT))?;
        let frames = FrameChunks::new(stream.try_clone()?);
        let watchdog = Some(Watchdog::arm(stream.try_clone()?)?);
        links.push(Link {
            stream,
            frames,
            watchdog,
        });
    }
    let measured = stream_records(&mut links, n);
    let mut watched = Ok(());
    for link in &mut links {
        if let Some(watchdog) = link.watchdog.take() {
            let result = watchdog.disarm("a raw receiver to take the records and answer");
            if watched.is_ok() {
                watched = result;
            }
        }
        let _ = link.stream.shutdown(Shutdown::Both);
    }
    // When a watchdog fired, the i/o error it caused is the lesser news.
    watched?;
    measured
}

fn stream_records(links: &mut [Link], n: u64) -> BenchResult<Duration> {
    let codec = Bincode::new();
    let mut batch = FrameBatch::new();

    let t_start = Instant::now();
    for id in 0..n {
        batch.push_with(|buf| Ok(codec.encode(&Record::new(id), buf)?))?;
        if batch.is_full() {
            write_to_all(&mut batch, links)?;
        }
    }
    write_to_all(&mut batch, links)?;
    for link in links.iter_mut() {
        let payload = link
            .frames
            .next_frame()?
            .ok_or_else(|| BenchError::peer("closed the connection before its tallies"))?;
        let tallies: Vec<Tally> = codec.decode(payload)?;
        verify_all(&tallies, n, "a raw subscriber, on its n-th record,")?;
    }
    let t_end = Instant::now();
    Ok(t_end - t_start)
}

/// Writes the batch to every link, then empties it.
fn write_to_all(batch: &mut FrameBatch, links: &mut [Link]) -> BenchResult<()> {
    for link in links.iter_mut() {
        link.stream.write_all(batch.as_bytes())?;
    }
    batch.clear();
    Ok(())
}

/// Reads and decodes frames until A closes the connection, adding each id to the tallies of
/// [`SUBSCRIBERS_PER_NODE`] subscribers; writes the tallies back after the `n`-th; checks the
/// final tallies.
fn count_frames(stream: TcpStream, n: u64) -> BenchResult<()> {
    let mut frames = FrameChunks::new(stream.try_clone()?);
    let codec = Bincode::new();
    let mut tallies = [Tally::default(); SUBSCRIBERS_PER_NODE];
    while let Some(payload) = frames.next_frame()? {
        let record: Record = codec.decode(payload)?;
        for tally in &mut tallies {
            tally.add(record.id);
        }
        if tallies[0].count == n {
            // One write, unbuffered: it is the only frame in this direction.
            let mut reply = FrameBatch::new();
            reply.push_with(|buf| Ok(codec.encode(&tallies[..], buf)?))?;
            reply.write_to(&stream)?;
        }
    }
    verify_all(&tallies, n, "a raw subscriber, at the end,")
}

/// Checks that there are [`SUBSCRIBERS_PER_NODE`] tallies, each of `0..n` seen once.
fn verify_all(tallies: &[Tally], n: u64, who: &str) -> BenchResult<()> {
    if tallies.len() != SUBSCRIBERS_PER_NODE {
        return Err(BenchError::peer(format!(
            "reported {} tallies, expected {SUBSCRIBERS_PER_NODE}",
            tallies.len()
        )));
    }
    tallies.iter().try_for_each(|tally| tally.verify(n, who))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_slowest_subscriber() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut progress = Progress::new(10);
        for subscriber in 0..SUBSCRIBERS {
            tx.send(Credit::Ack {
                subscriber,
                count: 4 + subscriber as u64,
            })
            .unwrap();
        }
        for _ in 0..SUBSCRIBERS {
            progress.take(&rx).unwrap();
        }
        assert_eq!(progress.floor, 4);
        // An acknowledgement never takes a subscriber back.
        tx.send(Credit::Ack {
            subscriber: 0,
            count: 2,
        })
        .unwrap();
        progress.take(&rx).unwrap();
        assert_eq!(progress.floor, 4);
        tx.send(Credit::Ack {
            subscriber: SUBSCRIBERS,
            count: 1,
        })
        .unwrap();
        assert!(progress.take(&rx).is_err());
    }

    #[test]
    fn a_done_subscriber_must_have_every_record() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut progress = Progress::new(3);
        tx.send(Credit::Done {
            subscriber: 0,
            tally: Tally::expected(3),
        })
        .unwrap();
        progress.take(&rx).unwrap();
        assert_eq!((progress.done, progress.acked[0]), (1, 3));
        tx.send(Credit::Done {
            subscriber: 1,
            tally: Tally::expected(2),
        })
        .unwrap();
        assert!(progress.take(&rx).is_err());
    }
}
