//! [`WorkerProcess`]: the pool's side of one worker process.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{self, BufReader, ErrorKind, Write};
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use actor_core::codec::{Bincode, Codec, FrameConfig, FrameError, FrameReader};

use super::protocol::{FromWorker, Outcome, ToWorker, VERSION, WORKER_ENV};
use crate::error::{ProtocolError, StartError};

/// How long a worker whose connection was closed gets to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// How worker processes are started.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    pub(crate) startup_timeout: Duration,
}

/// Why a call did not get an answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The call could not be written: it never reached the worker, which is gone.
    NotSent(ProtocolError),
    /// The call was sent, and then the worker ended or sent something that is not an answer.
    Broke(ProtocolError),
}

/// A running worker process and the connection to it.
///
/// Dropping it kills the process (if it is still running) and waits for it, so that no worker
/// is left running or unreaped whatever path the pool takes.
pub(crate) struct WorkerProcess {
    index: usize,
    pid: u32,
    /// `None` once the process has been waited for.
    child: Option<Child>,
    connection: UnixStream,
    reader: FrameReader<BufReader<UnixStream>>,
    out: Vec<u8>,
    header: Vec<u8>,
}

impl WorkerProcess {
    /// Starts worker number `index` and waits for its greeting.
    pub(crate) fn start(index: usize, launch: &Launch) -> Result<WorkerProcess, StartError> {
        let mut worker = WorkerProcess::spawn(index, launch)?;
        worker.handshake(launch.startup_timeout)?;
        Ok(worker)
    }

    /// Starts the process without waiting for it to be ready; see
    /// [`handshake`](Self::handshake).
    pub(crate) fn spawn(index: usize, launch: &Launch) -> Result<WorkerProcess, StartError> {
        let spawn_error = |source| StartError::Spawn {
            program: launch.program.clone(),
            source,
        };
        // Both ends are close-on-exec: no other child of this process inherits them.
        let (ours, theirs) = UnixStream::pair().map_err(spawn_error)?;
        let reading = ours.try_clone().map_err(spawn_error)?;
        let child = {
            let mut command = Command::new(&launch.program);
            command
                .args(&launch.args)
                .env(WORKER_ENV, VERSION.to_string())
                .stdin(Stdio::from(OwnedFd::from(theirs)));
            command.spawn().map_err(spawn_error)?
            // `command` is dropped here with the worker's end of the socket, leaving the
            // worker its only holder: when the worker ends, this process reads the end of
            // the stream, and when this process closes its end, the worker does.
        };
        Ok(WorkerProcess {
            index,
            pid: child.id(),
            child: Some(child),
            connection: ours,
            reader: FrameReader::new(BufReader::new(reading)),
            out: Vec::new(),
            header: Vec::new(),
        })
    }

    /// Waits up to `timeout` for the worker's greeting.
    pub(crate) fn handshake(&mut self, timeout: Duration) -> Result<(), StartError> {
        // A zero timeout would mean "none" to the socket.
        let timeout = timeout.max(Duration::from_millis(1));
        let io_error = |error: io::Error| StartError::Handshake(ProtocolError::Frame(error.into()));
        self.connection
            .set_read_timeout(Some(timeout))
            .map_err(io_error)?;
        let greeting = match self.reader.read_frame() {
            Ok(Some(frame)) => Bincode::new()
                .decode::<FromWorker>(frame)
                .map_err(|error| StartError::Handshake(error.into()))?,
            Ok(None)
            | Err(FrameError::TruncatedHeader { .. } | FrameError::TruncatedPayload { .. }) => {
                return Err(StartError::Exited {
                    status: self.kill_and_reap(),
                });
            }
            Err(FrameError::Io(error))
                if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                return Err(StartError::Timeout(timeout));
            }
            Err(error) => return Err(StartError::Handshake(error.into())),
        };
        match greeting {
            FromWorker::Ready { version, .. } if version != VERSION => {
                Err(StartError::Handshake(ProtocolError::Version {
                    found: version,
                    expected: VERSION,
                }))
            }
            FromWorker::Ready { .. } => self.connection.set_read_timeout(None).map_err(io_error),
            FromWorker::Done { .. } => Err(StartError::Handshake(ProtocolError::Unexpected(
                "an answer in place of the greeting",
            ))),
        }
    }

    /// The worker's number in the pool.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// A second handle on the connection, with which another thread can cut it.
    pub(crate) fn connection_handle(&self) -> io::Result<UnixStream> {
        self.connection.try_clone()
    }

    /// Runs one call and returns how it ended, with the encoded result when it returned.
    pub(crate) fn call(
        &mut self,
        id: u64,
        function: &str,
        argument: &[u8],
    ) -> Result<(Outcome, &[u8]), CallError> {
        let codec = Bincode::new();
        let config = FrameConfig::new();
        let message = ToWorker::Call {
            id,
            function: Cow::Borrowed(function),
        };
        self.header.clear();
        self.out.clear();
        codec
            .encode(&message, &mut self.header)
            .map_err(|error| CallError::NotSent(error.into()))?;
        config
            .append_frame(&mut self.out, &self.header)
            .and_then(|()| config.append_frame(&mut self.out, argument))
            .map_err(|error| CallError::NotSent(error.into()))?;
        (&self.connection)
            .write_all(&self.out)
            .map_err(|error| CallError::NotSent(ProtocolError::Frame(error.into())))?;

        let answer = match self.reader.read_frame() {
            Ok(Some(frame)) => codec.decode::<FromWorker>(frame),
            Ok(None) => return Err(CallError::Broke(ProtocolError::Ended)),
            Err(error) => return Err(CallError::Broke(error.into())),
        };
        let outcome = match answer {
            Ok(FromWorker::Done {
                id: answered,
                outcome,
            }) if answered == id => outcome,
            Ok(FromWorker::Done { id: answered, .. }) => {
                return Err(CallError::Broke(ProtocolError::WrongTask {
                    expected: id,
                    found: answered,
                }));
            }
            Ok(FromWorker::Ready { .. }) => {
                return Err(CallError::Broke(ProtocolError::Unexpected(
                    "a greeting in place of an answer",
                )));
            }
            Err(error) => return Err(CallError::Broke(error.into())),
        };
        if outcome != Outcome::Returned {
            return Ok((outcome, &[]));
        }
        match self.reader.read_frame() {
            Ok(Some(result)) => Ok((outcome, result)),
            Ok(None) => Err(CallError::Broke(ProtocolError::Ended)),
            Err(error) => Err(CallError::Broke(error.into())),
        }
    }

    /// Closes the connection, which makes the worker exit, and waits for it (killing it if it
    /// has not exited within a grace period).
    pub(crate) fn close(mut self) {
        let _ = self.connection.shutdown(Shutdown::Both);
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + EXIT_GRACE;
            let mut pause = Duration::from_micros(50);
            // `std` has no wait with a timeout for a child process; the worker exits as soon
            // as it reads the end of the stream, so the first checks nearly always find it
            // gone.
            loop {
                match child.try_wait() {
                    // An error means the process is not there to wait for (the program let
                    // the system reap its children): nothing is left to do.
                    Ok(Some(_)) | Err(_) => return,
                    Ok(None) if Instant::now() < deadline => {
                        thread::sleep(pause);
                        pause = (pause * 2).min(Duration::from_millis(20));
                    }
                    Ok(None) => break,
                }
            }
            tracing::warn!(
                worker = self.index,
                pid = self.pid,
                "worker did not exit after its connection closed; killing it"
            );
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the worker if it is still running, waits for it, and returns how it ended
    /// (`None` if that cannot be known: the program let the system reap its children).
    ///
    /// For a worker whose connection broke because it died, killing changes nothing: once a
    /// process has begun to exit (which is when the kernel closes its end), its status is
    /// settled. A worker that broke the protocol and lives on is ended here.
    pub(crate) fn kill_and_reap(&mut self) -> Option<ExitStatus> {
        let _ = self.connection.shutdown(Shutdown::Both);
        let mut child = self.child.take()?;
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill_and_reap();
        }
    }
}

impl std::fmt::Debug for WorkerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerProcess")
            .field("index", &self.index)
            .field("pid", &self.pid)
            .field("reaped", &self.child.is_none())
            .finish()
    }
}
