//! Criterion micro-benchmarks of the framework's hot paths: tell to an unbounded actor, ask
//! round trip, publish to 8 subscriber actors, codec encode + decode of the W4 message, and
//! HMAC-SHA256 of a 64-byte frame.
//!
//! Short measurement times keep `cargo bench -p actor-bench` quick; the figures that are
//! compared against baselines come from the bench binary (`bench/run.sh`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec};
use actor_core::{Actor, Context, HandlerResult, Reply, System};
use criterion::{Criterion, criterion_group, criterion_main};
use crossbeam_channel::Sender;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a bench waits for an answer before it gives up (a bug, not a slow machine).
const TIMEOUT: Duration = Duration::from_secs(60);

enum SinkMsg {
    Add(u64),
    /// Answers once every value told before it has been added.
    Flush(Reply<u64>),
}

/// Sums what it is told.
struct Sink(u64);

impl Actor for Sink {
    type Msg = SinkMsg;

    fn handle(&mut self, msg: SinkMsg, _ctx: &mut Context<SinkMsg>) -> HandlerResult {
        match msg {
            SinkMsg::Add(value) => self.0 = self.0.wrapping_add(value),
            SinkMsg::Flush(reply) => reply.send(self.0),
        }
        Ok(())
    }
}

/// Answers `i` with `i + 1`.
struct Incrementer;

impl Actor for Incrementer {
    type Msg = (u64, Reply<u64>);

    fn handle(&mut self, (i, reply): Self::Msg, _ctx: &mut Context<Self::Msg>) -> HandlerResult {
        reply.send(i + 1);
        Ok(())
    }
}

/// Published after a batch: each subscriber acknowledges it once it has handled the batch.
const FLUSH: u64 = u64::MAX;

/// Sums published values; acknowledges [`FLUSH`].
struct Subscriber {
    sum: u64,
    acks: Sender<()>,
}

impl Actor for Subscriber {
    type Msg = u64;

    fn handle(&mut self, value: u64, _ctx: &mut Context<u64>) -> HandlerResult {
        if value == FLUSH {
            self.acks.send(())?;
        } else {
            self.sum = self.sum.wrapping_add(value);
        }
        Ok(())
    }
}

/// The message of W4.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
}

/// Tells a batch of values, then waits until the actor has handled all of them: the time
/// per value is the sustained cost of a tell, queueing and handling included.
fn tell(c: &mut Criterion) {
    let system = System::new();
    let sink = system.spawn(Sink(0)).expect("spawn the sink");
    c.bench_function("tell/unbounded", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for value in 0..iters {
                sink.tell(SinkMsg::Add(value)).expect("tell");
            }
            sink.ask(SinkMsg::Flush, TIMEOUT).expect("flush");
            start.elapsed()
        });
    });
    system.shutdown();
}

fn ask(c: &mut Criterion) {
    let system = System::new();
    let incrementer = system.spawn(Incrementer).expect("spawn the incrementer");
    let mut i = 0;
    c.bench_function("ask/round_trip", |b| {
        b.iter(|| {
            i += 1;
            let answer = incrementer.ask(|reply| (i, reply), TIMEOUT).expect("ask");
            assert_eq!(answer, i + 1);
        });
    });
    system.shutdown();
}

/// Publishes a batch, then waits until all 8 subscribers have handled it.
fn publish(c: &mut Criterion) {
    const SUBSCRIBERS: usize = 8;
    let system = System::new();
    let exchange = system.exchange::<u64>("bench.publish").expect("exchange");
    let (acks_tx, acks) = crossbeam_channel::unbounded();
    for _ in 0..SUBSCRIBERS {
        let subscriber = Subscriber {
            sum: 0,
            acks: acks_tx.clone(),
        };
        exchange.attach(system.spawn(subscriber).expect("spawn a subscriber"));
    }
    c.bench_function("publish/8_subscribers", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for value in 0..iters {
                exchange.publish(value % FLUSH);
            }
            exchange.publish(FLUSH);
            for _ in 0..SUBSCRIBERS {
                acks.recv_timeout(TIMEOUT).expect("a subscriber's ack");
            }
            start.elapsed()
        });
    });
    system.shutdown();
}

fn codec(c: &mut Criterion) {
    let codec = Bincode::new();
    let record = Record {
        id: 42,
        name: "actor-name-16byt".to_string(),
    };
    let mut buf = Vec::with_capacity(64);
    c.bench_function("codec/encode_decode", |b| {
        b.iter(|| {
            buf.clear();
            codec.encode(black_box(&record), &mut buf).expect("encode");
            let decoded: Record = codec.decode(&buf).expect("decode");
            decoded
        });
    });
}

fn hmac(c: &mut Criterion) {
    let keyed = Hmac::<Sha256>::new_from_slice(&[0x5a; 32]).expect("any key length");
    let frame = [0xa5_u8; 64];
    c.bench_function("hmac/sha256_64_bytes", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(&frame));
            mac.finalize().into_bytes()
        });
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = hot_paths;
    config = config();
    targets = tell, ask, publish, codec, hmac
}
criterion_main!(hot_paths);
