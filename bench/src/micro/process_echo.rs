//! Process round trip, raw: a child process echoing one tiny frame over a Unix socket pair
//! that is its standard input, the transport by which the process pool reaches its workers
//! ([`super::process_pool`]), without the pool's queue, threads and call protocol. Sequential
//! round trips, µs each.
//!
//! The child is this binary again, run as `actor-bench serve micro process-echo --n N`. A
//! request is the task's number `i` encoded with the wire codec in one frame
//! (`actor_core::codec`, on both sides: nothing here frames bytes by hand); the child sends each
//! frame back as it came, and the parent decodes it and checks that it is `i`. Closing the
//! parent's end of the socket is the child's stop signal: it then checks that it echoed as
//! many frames as a run of `n` sends, and reports through its exit status.
//!
//! Pipelined (`process-echo-pipelined`, read against the process pool's pipelined figure):
//! the same child, but a writer thread writes all the requests, encoded in place into one
//! reused buffer that leaves in one write per 64 KiB ([`FrameBatch`]), while the measuring
//! thread reads the echoes in large chunks ([`FrameChunks`]), so that neither side waits for
//! the other. The child still echoes each frame with a write of its own, as a pool's worker
//! answers each call.

use std::io::{self, BufReader};
use std::net::Shutdown;
use std::os::fd::{AsFd as _, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use actor_core::codec::{Bincode, Codec, FrameReader, FrameWriter};

use crate::error::{BenchError, BenchResult};
use crate::frame_batch::FrameBatch;
use crate::frame_chunks::FrameChunks;
use crate::peer;
use crate::report::Sample;
use crate::wait::{self, WAIT_LIMIT};

/// Default number of round trips.
pub(crate) const N: u64 = 20_000;

/// The measurement's names, for the child's command line.
const WORKLOAD: &str = "micro";
const VARIANT: &str = "process-echo";

/// How long the child may take to exit once its socket is closed before it is killed.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// The baseline, parent side: starts the child, echoes `n` requests through it after a
/// warm-up, then stops it and checks its exit status.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    with_child(n, |connection| echo_all(connection, n))
}

/// The pipelined baseline, parent side: as [`raw`], every batch of requests written while
/// their echoes are read.
pub(crate) fn raw_pipelined(n: u64) -> BenchResult<Vec<Sample>> {
    with_child(n, |connection| {
        connection.set_write_timeout(Some(WAIT_LIMIT))?;
        super::pipelined_cost(n, |count| echo_pipelined(connection, count))
    })
}

/// Starts the child, runs `measure` on the connection to it, then stops the child and checks
/// its exit status.
fn with_child(
    n: u64,
    measure: impl FnOnce(&UnixStream) -> BenchResult<Vec<Sample>>,
) -> BenchResult<Vec<Sample>> {
    // Both ends are close-on-exec; the child gets its end as its standard input only, and the
    // `Command` holding this process's copy of that end is dropped with the statement.
    let (ours, theirs) = UnixStream::pair()?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([peer::SERVE, WORKLOAD, VARIANT, "--n", &n.to_string()])
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let measured = measure(&ours);
    // On every path: the child sees the end of its stream, exits, and is reaped.
    let _ = ours.shutdown(Shutdown::Both);
    let exited = wait::exit(&mut child, EXIT_LIMIT, "the echo process to exit (killed)");
    let samples = measured?;
    let status = exited?;
    if !status.success() {
        return Err(BenchError::peer(format!("exited with {status}")));
    }
    Ok(samples)
}

/// Sends request `i` and reads its echo, sequentially; every read is bounded by
/// [`WAIT_LIMIT`].
fn echo_all(connection: &UnixStream, n: u64) -> BenchResult<Vec<Sample>> {
    connection.set_read_timeout(Some(WAIT_LIMIT))?;
    let codec = Bincode::new();
    // Unbuffered writes: each frame leaves in one `write_all`. Buffered reads: a frame's
    // header and payload come in one `read`.
    let mut writer = FrameWriter::new(connection);
    let mut reader = FrameReader::new(BufReader::new(connection));
    let mut request = Vec::new();
    super::task_cost(n, |i| {
        request.clear();
        codec.encode(&i, &mut request)?;
        writer.write_frame(&request)?;
        match reader.read_frame()? {
            // The task's result is `i + 1`: the echo of `i`, plus one.
            Some(echo) => Ok(codec.decode::<u64>(echo)? + 1),
            None => Err(BenchError::peer("closed its socket during the run")),
        }
    })
}

/// Writes requests `0..count` on a thread of its own while this one reads their echoes;
/// returns the tasks' results (each echo plus one), in order. Every read is bounded by
/// [`WAIT_LIMIT`], and so is every write.
fn echo_pipelined(connection: &UnixStream, count: u64) -> BenchResult<Vec<u64>> {
    let codec = Bincode::new();
    thread::scope(|scope| {
        let writer = thread::Builder::new()
            .name("echo-writer".into())
            .spawn_scoped(scope, move || -> BenchResult<()> {
                let mut batch = FrameBatch::new();
                for i in 0..count {
                    batch.push_with(|buf| Ok(codec.encode(&i, buf)?))?;
                    batch.write_if_full(connection)?;
                }
                Ok(batch.write_to(connection)?)
            })?;
        let mut frames = FrameChunks::new(connection);
        let read = (0..count)
            .map(|_| match frames.next_frame()? {
                Some(echo) => Ok(codec.decode::<u64>(echo)? + 1),
                None => Err(BenchError::peer("closed its socket during the run")),
            })
            .collect::<BenchResult<Vec<u64>>>();
        if read.is_err() {
            // The writer may be blocked on a child that waits for its echoes to be read:
            // shutting the socket down fails that write at once.
            let _ = connection.shutdown(Shutdown::Both);
        }
        let written = wait::join_scoped(writer, "the echo's writer")?;
        let results = read?;
        written?;
        Ok(results)
    })
}

/// The baseline, child side: echoes every frame on standard input (the parent's socket pair)
/// until the parent closes it, then checks the count.
pub(crate) fn serve(n: u64) -> BenchResult<()> {
    // Standard input is read-only in `std`'s API; a duplicate of the descriptor as a socket
    // reads and writes.
    let connection = UnixStream::from(io::stdin().as_fd().try_clone_to_owned()?);
    let mut reader = FrameReader::new(BufReader::new(&connection));
    let mut writer = FrameWriter::new(&connection);
    let mut echoed = 0_u64;
    while let Some(frame) = reader.read_frame()? {
        writer.write_frame(frame)?;
        echoed += 1;
    }
    let expected = super::task_warm_up(n) + n;
    if echoed == expected {
        Ok(())
    } else {
        Err(BenchError::check(format!(
            "the echo process echoed {echoed} frames, not {expected}"
        )))
    }
}
