//! [`Peer`]: process B of a remote workload (W4, W5, W7, W9) as the measuring process A sees
//! it, a guard that makes sure B never outlives the run.
//!
//! B is this binary again, run as `actor-bench serve <workload> <variant> --n N` with the run's
//! [`RunKey`] in its environment (see [`crate::server`] for B's side). The protocol between
//! the two processes:
//!
//! | step | A                                     | B                                          |
//! |------|---------------------------------------|--------------------------------------------|
//! | 1    | spawns B, stdin and stdout piped      | binds 127.0.0.1:0, prints the address line |
//! | 2    | reads the address, connects, measures | serves                                     |
//! | 3    | closes its connection, then B's stdin | sees stdin end, checks what it got         |
//! | 4    | waits for B's exit status             | exits 0, or non-zero when a check failed   |
//!
//! Closing B's stdin is the only stop signal, so B also ends when A dies. [`Peer`] closes it
//! and reaps B on every path: [`Peer::finish`] on success, `Drop` on an early return or a
//! panic; a B that has not exited [`EXIT_LIMIT`] later is killed. B's stderr is A's, so its
//! errors show in the run's output.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use crate::error::{BenchError, BenchResult};
use crate::run_key::{self, RunKey};
use crate::wait;

/// The hidden command that turns the binary into a serving process.
pub(crate) const SERVE: &str = "serve";

/// How long B may take to exit once its stdin is closed (a node's shutdown waits up to a
/// second for its goodbyes) before it is killed.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// A running serving process; stopped and reaped when finished or dropped.
#[derive(Debug)]
pub(crate) struct Peer {
    child: Child,
    /// B's stdin; dropping it is B's stop signal.
    stdin: Option<ChildStdin>,
    /// Where B listens.
    addr: SocketAddr,
    /// The run's key, which B has too.
    key: RunKey,
}

impl Peer {
    /// Starts B serving `workload` `variant` for `n` messages, with a fresh key, and waits for
    /// its address.
    pub(crate) fn start(workload: &str, variant: &str, n: u64) -> BenchResult<Peer> {
        Peer::start_with(workload, variant, n, RunKey::random()?, &[])
    }

    /// [`start`](Peer::start) with the run's `key` given (several serving processes of one
    /// run share it) and the variables `env` added to B's environment.
    pub(crate) fn start_with(
        workload: &str,
        variant: &str,
        n: u64,
        key: RunKey,
        env: &[(&str, String)],
    ) -> BenchResult<Peer> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([SERVE, workload, variant, "--n", &n.to_string()])
            .env(run_key::VAR, key.to_hex())
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // From here on the guard owns B, so every early return below stops it.
        let mut peer = Peer {
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            key,
        };
        let stdout = stdout.ok_or_else(|| BenchError::peer("has no stdout"))?;
        // Read on a helper thread so that the wait for the line is bounded.
        let (line_tx, line_rx) = crossbeam_channel::bounded(1);
        let reader = thread::Builder::new()
            .name("peer-address".into())
            .spawn(move || {
                let mut line = String::new();
                let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
                let _ = line_tx.send(read);
            })?;
        let line = wait::recv(&line_rx, "the serving process's address");
        if line.is_err() {
            // B never wrote its line: stopping it ends the read, so the reader can be joined.
            peer.stop_quietly();
        }
        wait::join(reader, "the address reader")?;
        peer.addr = parse_addr(&line??)?;
        Ok(peer)
    }

    /// Where B listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// B's process id (W9 watches its memory).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The run's key.
    pub(crate) fn key(&self) -> &RunKey {
        &self.key
    }

    /// Stops B and checks that it exited successfully, that is, that its own checks held.
    pub(crate) fn finish(mut self) -> BenchResult<()> {
        let status = self.stop()?;
        if status.success() {
            Ok(())
        } else {
            Err(BenchError::peer(format!("exited with {status}")))
        }
    }

    /// Closes B's stdin and waits for B to exit, killing it after [`EXIT_LIMIT`]. Returns how
    /// B ended; calling it again returns the same status.
    fn stop(&mut self) -> BenchResult<ExitStatus> {
        drop(self.stdin.take());
        wait::exit(
            &mut self.child,
            EXIT_LIMIT,
            "the serving process to exit (killed)",
        )
    }

    /// [`stop`](Self::stop) on a path that already has an error to report; kills B if even
    /// waiting for it failed.
    fn stop_quietly(&mut self) {
        if self.stop().is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // After `finish` this returns at once: the status is already known.
        self.stop_quietly();
    }
}

/// The address line of B: a loopback socket address.
fn parse_addr(line: &str) -> BenchResult<SocketAddr> {
    let line = line.trim();
    if line.is_empty() {
        return Err(BenchError::peer("ended before printing its address"));
    }
    match line.parse::<SocketAddr>() {
        Ok(addr) if addr.ip().is_loopback() => Ok(addr),
        _ => Err(BenchError::peer(format!(
            "printed {line:?}, not a loopback address"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loopback_address_is_accepted() {
        assert_eq!(
            parse_addr("127.0.0.1:4000\n").unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 4000))
        );
        assert!(parse_addr("").is_err());
        assert!(parse_addr("10.0.0.1:4000").is_err());
        assert!(parse_addr("localhost").is_err());
    }
}
