//! The worker's side of the conversation: read calls, run them, answer.

use std::io::{self, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use actor_core::codec::{Bincode, Codec, FrameConfig, FrameReader};
use actor_core::{ErrorChain, panic_message};
use crossbeam_channel::Sender;

use super::entry::{CallFailure, Entries};
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

/// A call read from the connection, or the end of the connection.
enum Incoming {
    Call {
        id: u64,
        function: String,
        argument: Vec<u8>,
    },
    End(Result<(), ProtocolError>),
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
/// Calls are read on a thread of their own, so that the end of the connection is seen even
/// while a call runs (with [`Hangup::Exit`], the process then exits at once).
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

    let reading = connection.try_clone().map_err(into_protocol)?;
    // One call at a time: the pool sends the next call only after the answer.
    let (incoming_tx, incoming) = crossbeam_channel::bounded(1);
    thread::Builder::new()
        .name("pool-worker-reader".to_string())
        .spawn(move || {
            let end = read_calls(reading, &incoming_tx);
            if hangup == Hangup::Exit {
                match end {
                    Ok(()) => std::process::exit(0),
                    Err(error) => {
                        eprintln!(
                            "actor-pool worker (pid {}): {}",
                            std::process::id(),
                            ErrorChain(&error)
                        );
                        std::process::exit(2)
                    }
                }
            }
            let _ = incoming_tx.send(Incoming::End(end));
        })
        .map_err(into_protocol)?;

    let mut result = Vec::new();
    for message in incoming {
        let (id, function, argument) = match message {
            Incoming::Call {
                id,
                function,
                argument,
            } => (id, function, argument),
            Incoming::End(end) => return end,
        };
        result.clear();
        let outcome = run(functions, &function, &argument, &mut result);
        out.clear();
        answer(&mut out, &mut header, id, outcome, &result)?;
        (&connection).write_all(&out).map_err(into_protocol)?;
    }
    // The reader always sends `End` before it lets go of the channel.
    Ok(())
}

/// Reads calls and hands them to the serving thread until the connection ends.
fn read_calls(connection: UnixStream, calls: &Sender<Incoming>) -> Result<(), ProtocolError> {
    let codec = Bincode::new();
    let mut reader = FrameReader::new(BufReader::new(connection));
    loop {
        let Some(frame) = reader.read_frame()? else {
            return Ok(());
        };
        let ToWorker::Call { id, function } = codec.decode::<ToWorker<'static>>(frame)?;
        let Some(argument) = reader.read_frame()? else {
            return Err(ProtocolError::Ended);
        };
        let call = Incoming::Call {
            id,
            function: function.into_owned(),
            argument: argument.to_vec(),
        };
        if calls.send(call).is_err() {
            // The serving thread has stopped (it could not write): nothing more to do.
            return Ok(());
        }
    }
}

/// Runs one call; a panic in the function is caught and becomes the outcome.
fn run(functions: &Entries, name: &str, argument: &[u8], result: &mut Vec<u8>) -> Outcome {
    let Some(entry) = functions.get(name) else {
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
