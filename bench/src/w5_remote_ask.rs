//! W5, remote ask round trip over loopback: process A asks an actor in process B (a
//! [`Peer`], serving an [`Incrementer`](crate::incrementer::Incrementer)) `i` and gets
//! `i + 1`, sequentially; the baseline echoes a 64-byte payload in
//! length-prefixed frames with blocking reads and writes, TCP_NODELAY.
//!
//! Connection set-up (and, for the framework, the handshake and the lookup) happens before
//! the warm-up; each recorded latency is one request written and its answer read.

use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use actor_core::codec::{FrameReader, FrameWriter};
use actor_net::Node;
use actor_net::handshake::Encryption;

use crate::error::{BenchError, BenchResult};
use crate::incrementer::{self, Increment};
use crate::peer::Peer;
use crate::report::{self, Sample};
use crate::run_key::RunKey;
use crate::server;
use crate::wait::WAIT_LIMIT;

/// Default number of recorded requests.
pub(crate) const N: u64 = 20_000;

/// Requests before recording starts (fewer when `n` is smaller).
const WARM_UP: u64 = 500;

const WORKLOAD: &str = "W5";

/// Bytes of the baseline's payload.
const PAYLOAD: usize = 64;

/// The framework, process A: asks B's [`Incrementer`] through a remote ref, in a session
/// authenticated with MACs and not encrypted.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    actor_with(n, "ask", Encryption::Off)
}

/// As [`actor`], in an encrypted session.
pub(crate) fn actor_aead(n: u64) -> BenchResult<Vec<Sample>> {
    actor_with(n, "ask-aead", Encryption::Required)
}

fn actor_with(n: u64, variant: &str, encryption: Encryption) -> BenchResult<Vec<Sample>> {
    let peer = Peer::start(WORKLOAD, variant, n)?;
    let measured = ask_all(peer.key(), peer.addr(), n, encryption);
    let finished = peer.finish();
    let latencies = measured?;
    finished?;
    report::latency_samples(latencies)
}

/// Connects with `encryption`, looks the incrementer up and asks it; the node is shut down on
/// return, on every path.
fn ask_all(
    key: &RunKey,
    addr: SocketAddr,
    n: u64,
    encryption: Encryption,
) -> BenchResult<Vec<u64>> {
    let node = Node::builder(key.secret()?)
        .name("actor-bench")
        .encryption(encryption)
        .build()?;
    let incrementer = node.lookup::<Increment>(addr, incrementer::EXPORT)?;
    record(n, |i| {
        let answer = incrementer.ask(|reply| Increment(i, reply), WAIT_LIMIT)?;
        if answer == i + 1 {
            Ok(())
        } else {
            Err(BenchError::check(format!(
                "request {i} was answered {answer}"
            )))
        }
    })
}

/// The raw baseline, process A: writes a 64-byte frame and reads its echo, unbuffered.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let peer = Peer::start(WORKLOAD, "tcp-ping-pong", n)?;
    let measured = ping_all(peer.addr(), n);
    let finished = peer.finish();
    let latencies = measured?;
    finished?;
    report::latency_samples(latencies)
}

/// Connects and pings; the connection is closed on return, on every path.
fn ping_all(addr: SocketAddr, n: u64) -> BenchResult<Vec<u64>> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(WAIT_LIMIT))?;
    stream.set_write_timeout(Some(WAIT_LIMIT))?;
    // Unbuffered on both sides: the writer sends header and payload in one `write_all`, the
    // reader reads the header, then the payload, with blocking reads.
    let mut reader = FrameReader::new(stream.try_clone()?);
    let mut writer = FrameWriter::new(stream);
    let mut payload = [0xa5_u8; PAYLOAD];
    record(n, |i| {
        // A different payload each time, so that an echo of an earlier one is caught.
        payload[..8].copy_from_slice(&i.to_le_bytes());
        writer.write_frame(&payload)?;
        let echo = reader
            .read_frame()?
            .ok_or_else(|| BenchError::peer("closed the connection mid-run"))?;
        if echo == payload {
            Ok(())
        } else {
            Err(BenchError::check(format!("request {i} came back altered")))
        }
    })
}

/// The raw baseline, process B: echoes every frame until A closes the connection.
pub(crate) fn serve_raw(_n: u64) -> BenchResult<()> {
    server::serve_one_connection(|stream| {
        let mut reader = FrameReader::new(stream.try_clone()?);
        let mut writer = FrameWriter::new(stream);
        while let Some(payload) = reader.read_frame()? {
            writer.write_frame(payload)?;
        }
        Ok(())
    })
}

/// Makes the warm-up round trips, then `n` recorded ones (each checked by `round_trip`);
/// returns the recorded latencies in nanoseconds.
fn record(n: u64, mut round_trip: impl FnMut(u64) -> BenchResult<()>) -> BenchResult<Vec<u64>> {
    let warm_up = WARM_UP.min(n);
    let mut latencies = Vec::with_capacity(usize::try_from(n)?);
    for i in 0..warm_up + n {
        let start = Instant::now();
        round_trip(i)?;
        let elapsed = start.elapsed();
        if i >= warm_up {
            latencies.push(u64::try_from(elapsed.as_nanos())?);
        }
    }
    Ok(latencies)
}
