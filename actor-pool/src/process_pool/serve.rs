//! The worker's side of the conversation: read calls, run them, answer.
//!
//! One thread does it all: it reads a call, runs it and writes the answer, so that a call
//! crosses no thread inside the worker, and its argument is decoded where it was read.
//!
//! A real worker ([`Hangup::Exit`]) also has a watcher thread, which exists only to see the
//! pool's end of the connection close even while a long call runs, and then to exit the
//! process at once. It blocks in `poll` on the connection, for the hang-up alone (on Linux
//! `POLLRDHUP`, which the pool's shutting down its end or closing it raises; elsewhere no
//! requested event at all, relying on the `POLLHUP` that `poll` always reports): incoming
//! calls, which the serving thread reads, never wake it.

use std::io::{self, BufReader, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use actor_core::codec::{Bincode, Codec, FrameConfig, FrameReader};
use actor_core::{ErrorChain, panic_message};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::entry::{CallFailure, Entries, Entry};
use super::protocol::{FromWorker, Outcome, ToWorker, VERSION};
use crate::error::ProtocolError;

/// What the worker does when the pool's end of the connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hangup {
    /// Exit the process at once, even in the middle of a call: nobody is left to answer to.
    /// This is what a real worker does.
    Exit,
    /// Let [`serve`] return once the call under way (if any) is answered; for tests that run a
    /// worker on a thread.
    #[cfg(test)]
    Return,
}

/// Serves calls on standard input, which a pool made one end of a socket pair.
pub(crate) fn serve_stdin(functions: &Entries) -> Result<(), ProtocolError> {
    // Standard input is read-only in `std`'s API; a duplicate of the descriptor as a socket
    // reads and writes.
    let connection = io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(UnixStream::from)
        .map_err(|error| ProtocolError::Frame(error.into()))?;
    serve(functions, connection, Hangup::Exit)
}

/// Greets the pool, then answers calls until the connection ends.
///
/// With [`Hangup::Exit`], a watcher thread exits the process as soon as the pool's end of
/// the connection closes, even while a call runs (see the module's docs).
pub(crate) fn serve(
    functions: &Entries,
    connection: UnixStream,
    hangup: Hangup,
) -> Result<(), ProtocolError> {
    let codec = Bincode::new();
    let config = FrameConfig::new();
    let mut out = Vec::new();
    let mut header = Vec::new();
    let ready = FromWorker::Ready {
        version: VERSION,
        pid: std::process::id(),
    };
    codec.encode(&ready, &mut header)?;
    config.append_frame(&mut out, &header)?;
    (&connection).write_all(&out).map_err(into_protocol)?;

    if hangup == Hangup::Exit {
        let watched = connection.try_clone().map_err(into_protocol)?;
        // Never joined: it ends with the process, which it ends itself if the pool goes first.
        thread::Builder::new()
            .name("pool-worker-hangup".to_string())
            .spawn(move || {
                if let Err(error) = wait_for_hangup(watched.as_fd()) {
                    // The serving thread still sees the end of the connection when it next
                    // reads; only a long call would then outlive the pool.
                    eprintln!(
                        "actor-pool worker (pid {}): cannot watch the connection: {error}",
                        std::process::id()
                    );
                    return;
                }
                std::process::exit(0)
            })
            .map_err(into_protocol)?;
    }

    // Buffered: the pool writes a call's two frames at once, and one `read` takes both.
    let mut reader = FrameReader::new(BufReader::new(&connection));
    let mut result = Vec::new();
    loop {
        let Some(frame) = reader.read_frame()? else {
            return Ok(());
        };
        let ToWorker::Call { id, function } = codec.decode::<ToWorker<'static>>(frame)?;
        // Looked up before the argument is read, which takes the place of the header frame.
        let entry = functions.get(&*function);
        let Some(argument) = reader.read_frame()? else {
            return Err(ProtocolError::Ended);
        };
        result.clear();
        let outcome = run(entry, argument, &mut result);
        out.clear();
        answer(&mut out, &mut header, id, outcome, &result)?;
        (&connection).write_all(&out).map_err(into_protocol)?;
    }
}

/// The events that tell the watcher the pool's end has closed, or shut down its writing:
/// never the arrival of data.
fn hangup_events() -> PollFlags {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // nix names no `POLLRDHUP`; its value comes from the C library.
        PollFlags::from_bits_retain(nix::libc::POLLRDHUP)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        // `POLLHUP` (with `POLLERR` and `POLLNVAL`) is reported whatever is asked for.
        PollFlags::empty()
    }
}

/// Whether the pool's end of `connection` has hung up, waiting up to `timeout` for it.
///
/// Every event `poll` can report here means the connection is over: the hang-up asked for,
/// or `POLLHUP`, `POLLERR`, `POLLNVAL`, which it reports unasked.
fn hung_up(connection: BorrowedFd<'_>, timeout: PollTimeout) -> Result<bool, Errno> {
    let mut watched = [PollFd::new(connection, hangup_events())];
    loop {
        match poll(&mut watched, timeout) {
            Ok(ready) => return Ok(ready > 0),
            Err(Errno::EINTR) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Blocks until the pool's end of `connection` hangs up.
fn wait_for_hangup(connection: BorrowedFd<'_>) -> Result<(), Errno> {
    while !hung_up(connection, PollTimeout::NONE)? {}
    Ok(())
}

/// Runs one call of `entry` (`None`: the worker has no function of the name called); a panic
/// in the function is caught and becomes the outcome.
fn run(entry: Option<&Entry>, argument: &[u8], result: &mut Vec<u8>) -> Outcome {
    let Some(entry) = entry else {
        return Outcome::UnknownFunction;
    };
    match catch_unwind(AssertUnwindSafe(|| entry.call(argument, result))) {
        Ok(Ok(())) => Outcome::Returned,
        Ok(Err(CallFailure::Argument(error))) => {
            Outcome::BadArgument(ErrorChain(&error).to_string())
        }
        Ok(Err(CallFailure::Result(error))) => Outcome::BadResult(ErrorChain(&error).to_string()),
        Err(payload) => Outcome::Panicked(panic_message(payload.as_ref()).to_owned()),
    }
}

/// Appends the answer to call `id` to `out`: its header frame and, for a returned value, the
/// result's frame.
fn answer(
    out: &mut Vec<u8>,
    header: &mut Vec<u8>,
    id: u64,
    outcome: Outcome,
    result: &[u8],
) -> Result<(), ProtocolError> {
    let codec = Bincode::new();
    let config = FrameConfig::new();
    let returned = outcome == Outcome::Returned;
    header.clear();
    codec.encode(&FromWorker::Done { id, outcome }, header)?;
    config.append_frame(out, header)?;
    if returned {
        config.append_frame(out, result)?;
    }
    Ok(())
}

fn into_protocol(error: io::Error) -> ProtocolError {
    ProtocolError::Frame(error.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_pool::entry::Entry;
    use actor_core::codec::FrameWriter;
    use std::borrow::Cow;
    use std::sync::Arc;
    use std::time::Duration;

    fn call(writer: &mut FrameWriter<&UnixStream>, id: u64, function: &str, argument: &[u8]) {
        let mut header = Vec::new();
        let message = ToWorker::Call {
            id,
            function: Cow::Borrowed(function),
        };
        Bincode::new().encode(&message, &mut header).unwrap();
        writer.write_frame(&header).unwrap();
        writer.write_frame(argument).unwrap();
    }

    fn done(reader: &mut FrameReader<&UnixStream>) -> FromWorker {
        Bincode::new()
            .decode(reader.read_frame().unwrap().unwrap())
            .unwrap()
    }

    #[test]
    fn a_worker_greets_answers_and_survives_a_panic() {
        let functions: Entries = [
            (Arc::from("square"), Entry::new(|x: u64| x * x)),
            (
                Arc::from("boom"),
                Entry::new(|_: ()| -> u8 { panic!("on purpose") }),
            ),
        ]
        .into();
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        let worker = thread::spawn(move || serve(&functions, worker_end, Hangup::Return));
        let mut reader = FrameReader::new(&pool_end);
        let mut writer = FrameWriter::new(&pool_end);
        let codec = Bincode::new();

        assert!(matches!(
            done(&mut reader),
            FromWorker::Ready {
                version: VERSION,
                ..
            }
        ));

        call(&mut writer, 1, "square", &[12]);
        assert_eq!(
            done(&mut reader),
            FromWorker::Done {
                id: 1,
                outcome: Outcome::Returned
            }
        );
        let result = reader.read_frame().unwrap().unwrap();
        assert_eq!(codec.decode::<u64>(result).unwrap(), 144);

        call(&mut writer, 2, "boom", &[]);
        assert_eq!(
            done(&mut reader),
            FromWorker::Done {
                id: 2,
                outcome: Outcome::Panicked("on purpose".into())
            }
        );

        call(&mut writer, 3, "nothing", &[]);
        assert_eq!(
            done(&mut reader),
            FromWorker::Done {
                id: 3,
                outcome: Outcome::UnknownFunction
            }
        );

        // 251 announces a two-byte integer that never comes.
        call(&mut writer, 4, "square", &[251]);
        assert!(matches!(
            done(&mut reader),
            FromWorker::Done {
                id: 4,
                outcome: Outcome::BadArgument(_)
            }
        ));

        pool_end.shutdown(std::net::Shutdown::Write).unwrap();
        worker.join().unwrap().unwrap();
    }

    #[test]
    fn the_watcher_ignores_incoming_calls_and_sees_the_pool_close() {
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        let mut writer = FrameWriter::new(&pool_end);
        call(&mut writer, 1, "square", &[12]);
        assert!(!hung_up(worker_end.as_fd(), PollTimeout::ZERO).unwrap());
        drop(pool_end);
        assert!(hung_up(worker_end.as_fd(), PollTimeout::ZERO).unwrap());
    }

    #[test]
    fn the_watcher_sees_the_pool_shut_its_end_down() {
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        pool_end.shutdown(std::net::Shutdown::Both).unwrap();
        assert!(hung_up(worker_end.as_fd(), PollTimeout::ZERO).unwrap());
    }

    /// Only Linux reports a shutdown of the pool's writing alone (`POLLRDHUP`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn the_watcher_sees_the_pool_stop_writing() {
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        pool_end.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(hung_up(worker_end.as_fd(), PollTimeout::ZERO).unwrap());
    }

    #[test]
    fn waiting_for_the_hangup_ends_when_the_pool_closes() {
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        let (done_tx, done) = crossbeam_channel::bounded(1);
        let watcher = thread::spawn(move || {
            let _ = done_tx.send(wait_for_hangup(worker_end.as_fd()));
        });
        // Data does not end the wait; a hang-up that followed it would still be seen.
        let mut writer = FrameWriter::new(&pool_end);
        call(&mut writer, 1, "square", &[12]);
        drop(pool_end);
        assert_eq!(done.recv_timeout(Duration::from_secs(20)), Ok(Ok(())));
        watcher.join().unwrap();
    }

    #[test]
    fn a_worker_refuses_a_malformed_call() {
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        let worker = thread::spawn(move || serve(&Entries::new(), worker_end, Hangup::Return));
        let mut writer = FrameWriter::new(&pool_end);
        writer.write_frame(&[0xFF, 0xFF]).unwrap();
        assert!(matches!(
            worker.join().unwrap(),
            Err(ProtocolError::Codec(_))
        ));
    }

    #[test]
    fn a_call_cut_off_after_its_header_is_an_error() {
        let (pool_end, worker_end) = UnixStream::pair().unwrap();
        let worker = thread::spawn(move || serve(&Entries::new(), worker_end, Hangup::Return));
        let mut writer = FrameWriter::new(&pool_end);
        let mut header = Vec::new();
        let message = ToWorker::Call {
            id: 1,
            function: Cow::Borrowed("f"),
        };
        Bincode::new().encode(&message, &mut header).unwrap();
        writer.write_frame(&header).unwrap();
        pool_end.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(matches!(worker.join().unwrap(), Err(ProtocolError::Ended)));
    }
}
