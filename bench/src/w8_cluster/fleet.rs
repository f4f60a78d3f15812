//! [`Fleet`]: the member processes of one W8 run as the measuring process sees them, a guard
//! that makes sure none outlives the run.
//!
//! Each member's stdout is read on a thread of its own, which hands every [`Line`] to one
//! channel, tagged with the member's index; [`Fleet::next`] takes them in the order they
//! arrive. The fleet closes every member's stdin (their signal to leave) and reaps them all
//! on every path: [`Fleet::finish`] on success, `Drop` on an early return or a panic, after
//! continuing a member it stopped; a member that has not exited [`EXIT_LIMIT`] later is
//! killed. The members' stderr is the measuring process's, so their errors show in the
//! run's output.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::line::{Line, TRAFFIC_REQUEST};
use super::member::SEED_VAR;
use crate::error::{BenchError, BenchResult};
use crate::peer::SERVE;
use crate::run_key::{self, RunKey};
use crate::wait;

/// How long the members together may take to exit once their stdin is closed (each node's
/// leaving waits up to a second for its goodbyes) before the rest are killed.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// What a reader thread hands on.
#[derive(Debug)]
enum Read {
    /// A line of the member.
    Line(Line),
    /// A line that is none of W8's, or a failed read.
    Bad(Box<dyn std::error::Error + Send + Sync>),
    /// The member's stdout ended: it exited, or is about to.
    End,
}

/// What became of a member process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Running (or stopped and continued again).
    Running,
    /// Stopped with SIGSTOP and not continued yet.
    Stopped,
    /// Killed with SIGKILL and reaped, on purpose.
    Killed,
}

/// One member process.
#[derive(Debug)]
struct Member {
    child: Child,
    /// Its stdin: requests go there, and closing it is its signal to leave.
    stdin: Option<ChildStdin>,
    fate: Fate,
}

/// The member processes of one run; all stopped and reaped when finished or dropped.
#[derive(Debug)]
pub(super) struct Fleet {
    /// The variant the members are started for (`serve W8 <variant>`).
    variant: &'static str,
    key: RunKey,
    members: Vec<Member>,
    lines_tx: Sender<(usize, Read)>,
    lines: Receiver<(usize, Read)>,
    readers: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// A fleet of no members yet, with a fresh key for the run.
    pub(super) fn new(variant: &'static str) -> BenchResult<Fleet> {
        let (lines_tx, lines) = crossbeam_channel::unbounded();
        Ok(Fleet {
            variant,
            key: RunKey::random()?,
            members: Vec::new(),
            lines_tx,
            lines,
            readers: Vec::new(),
        })
    }

    /// Starts a member that joins the cluster through `seed` (none for the first member);
    /// returns its index. Its first line, [`Line::Started`], comes through [`next`](Self::next).
    pub(super) fn spawn(&mut self, seed: Option<SocketAddr>) -> BenchResult<usize> {
        let index = self.members.len();
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args([SERVE, super::WORKLOAD, self.variant])
            .env(run_key::VAR, self.key.to_hex())
            .env_remove(SEED_VAR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(seed) = seed {
            command.env(SEED_VAR, seed.to_string());
        }
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // From here on the fleet owns the process, so every early return stops it.
        self.members.push(Member {
            child,
            stdin,
            fate: Fate::Running,
        });
        let stdout = stdout.ok_or_else(|| BenchError::peer("has no stdout"))?;
        let lines_tx = self.lines_tx.clone();
        self.readers.push(
            thread::Builder::new()
                .name(format!("w8-member-{index}"))
                .spawn(move || read_lines(index, stdout, &lines_tx))?,
        );
        Ok(index)
    }

    /// The next line of any member, by `deadline`; `what` names the wait in the error. The
    /// end of a killed member's output is passed over.
    ///
    /// # Errors
    ///
    /// A [`BenchError::Timeout`] after the deadline; a [`BenchError::Peer`] when a member
    /// wrote something else than a line of W8, or exited while it should be running.
    pub(super) fn next(
        &mut self,
        deadline: Instant,
        what: &'static str,
    ) -> BenchResult<(usize, Line)> {
        loop {
            let timeout = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(timeout) {
                Ok((index, Read::Line(line))) => return Ok((index, line)),
                Ok((index, Read::Bad(error))) => {
                    return Err(BenchError::peer(format!(
                        "(member {index}) failed: {error}"
                    )));
                }
                Ok((index, Read::End)) => {
                    if self.members[index].fate != Fate::Killed {
                        return Err(BenchError::peer(format!(
                            "(member {index}) exited before the run was over"
                        )));
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Err(Box::new(BenchError::Timeout(what))),
                // The fleet holds a sender itself: the channel cannot close.
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Box::new(BenchError::Thread("the member readers")));
                }
            }
        }
    }

    /// Asks member `index` for its traffic counters: the answer comes through
    /// [`next`](Self::next) as a [`Line::Traffic`].
    pub(super) fn request_traffic(&mut self, index: usize) -> BenchResult<()> {
        let stdin = self.members[index]
            .stdin
            .as_mut()
            .ok_or_else(|| BenchError::peer(format!("(member {index}) has no stdin")))?;
        writeln!(stdin, "{TRAFFIC_REQUEST}")?;
        stdin.flush()?;
        Ok(())
    }

    /// Kills member `index` with SIGKILL, at once, and reaps it.
    pub(super) fn kill(&mut self, index: usize) -> BenchResult<()> {
        let member = &mut self.members[index];
        // Marked first: its reader may see the end of its output before `kill` returns.
        member.fate = Fate::Killed;
        member.child.kill()?;
        member.child.wait()?;
        Ok(())
    }

    /// Stops member `index` with SIGSTOP: its sockets stay open, and nothing is reset.
    pub(super) fn stop(&mut self, index: usize) -> BenchResult<()> {
        self.signal(index, Signal::SIGSTOP)?;
        self.members[index].fate = Fate::Stopped;
        Ok(())
    }

    /// Continues member `index`, stopped with [`stop`](Self::stop), with SIGCONT.
    pub(super) fn resume(&mut self, index: usize) -> BenchResult<()> {
        self.signal(index, Signal::SIGCONT)?;
        self.members[index].fate = Fate::Running;
        Ok(())
    }

    fn signal(&self, index: usize, signal: Signal) -> BenchResult<()> {
        let pid = Pid::from_raw(i32::try_from(self.members[index].child.id())?);
        kill(pid, signal)?;
        Ok(())
    }

    /// Tells every member to leave, and checks that each one not killed on purpose exited
    /// successfully, that is, that its own checks held.
    pub(super) fn finish(mut self) -> BenchResult<()> {
        let statuses = self.stop_all()?;
        for (index, (member, status)) in self.members.iter().zip(statuses).enumerate() {
            if member.fate != Fate::Killed && !status.success() {
                return Err(BenchError::peer(format!(
                    "(member {index}) exited with {status}"
                )));
            }
        }
        Ok(())
    }

    /// Continues the stopped members, closes every stdin, and waits for every member to
    /// exit, killing those still running [`EXIT_LIMIT`] after the stdins closed; then joins
    /// the readers. Returns how each member ended; calling it again returns the same.
    fn stop_all(&mut self) -> BenchResult<Vec<ExitStatus>> {
        for index in 0..self.members.len() {
            if self.members[index].fate == Fate::Stopped {
                // Else it never sees its stdin close; a failure here ends in a kill below.
                let _ = self.resume(index);
            }
            drop(self.members[index].stdin.take());
        }
        let deadline = Instant::now() + EXIT_LIMIT;
        let mut statuses = Vec::with_capacity(self.members.len());
        let mut first_error = None;
        for member in &mut self.members {
            let left = deadline.saturating_duration_since(Instant::now());
            match wait::exit(&mut member.child, left, "the members to exit (killed)") {
                Ok(status) => statuses.push(status),
                Err(error) => {
                    // Killed, or even that failed: make sure, and go on with the others.
                    let _ = member.child.kill();
                    if let Ok(status) = member.child.wait() {
                        statuses.push(status);
                    }
                    first_error.get_or_insert(error);
                }
            }
        }
        // Every member is gone, so every reader has seen the end of its output.
        let joined = wait::join_all(self.readers.drain(..), "a member reader");
        match first_error {
            Some(error) => Err(error),
            None => joined.map(|()| statuses),
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // After `finish` this returns at once: every member is reaped.
        let _ = self.stop_all();
    }
}

/// Hands each line of member `index` on, then the end of its output.
fn read_lines(index: usize, stdout: ChildStdout, lines: &Sender<(usize, Read)>) {
    for text in BufReader::new(stdout).lines() {
        let read = match text {
            Ok(text) => match Line::parse(&text) {
                Ok(line) => Read::Line(line),
                Err(error) => Read::Bad(error),
            },
            Err(error) => Read::Bad(Box::new(error)),
        };
        // Read to the end even after a bad line, so that the member never blocks on a full
        // pipe; the measuring process fails at the first bad line anyway.
        if lines.send((index, read)).is_err() {
            return;
        }
    }
    let _ = lines.send((index, Read::End));
}
