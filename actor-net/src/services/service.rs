//! [`TcpService`] and [`UdpService`]: how each protocol answers a TCP connection or a UDP
//! datagram, by asking the echo and time actors. The socket side of every protocol is here;
//! the authenticated echo's decisions are the pure state machine of
//! [`auth_echo`](super::auth_echo), which this file drives.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use actor_core::{ActorRef, AskError};

use super::auth_echo::{CHALLENGE_LEN, Phase, Step};
use super::echo::EchoMsg;
use super::io::{ConnectionError, read_some};
use super::limits::Limits;
use super::protocol::Protocol;
use super::time::{TimeMsg, TimeOfDay};
use crate::secret::Secret;
use crate::server::is_timeout;
use crate::source::RefusalLog;

/// The most bytes read from a client at once, and so the largest piece asked of the actor.
const CHUNK: usize = 4096;

/// What a TCP listener does with each connection it admits.
#[derive(Debug, Clone)]
pub(crate) enum TcpService {
    Echo(ActorRef<EchoMsg>),
    Daytime(ActorRef<TimeMsg>),
    Time(ActorRef<TimeMsg>),
    AuthEcho {
        echo: ActorRef<EchoMsg>,
        key: Arc<Secret>,
        /// Logs the refused clients of all the listener's connections.
        refusals: Arc<RefusalLog>,
    },
}

impl TcpService {
    /// Serves one connection to its end.
    pub(crate) fn serve(
        &self,
        mut stream: TcpStream,
        peer: SocketAddr,
        limits: &Limits,
    ) -> Result<(), ConnectionError> {
        let deadline = Instant::now() + limits.connection_deadline;
        stream.set_read_timeout(Some(limits.idle_timeout))?;
        stream.set_write_timeout(Some(limits.idle_timeout))?;
        match self {
            TcpService::Echo(echo) => {
                stream.set_nodelay(true)?;
                relay(&mut stream, echo, limits, deadline)
            }
            TcpService::Daytime(time) => {
                let line = daytime_line(&now(time, limits)?);
                answer_and_close(stream, &line, limits)
            }
            TcpService::Time(time) => {
                let seconds = now(time, limits)?.rfc868().to_be_bytes();
                answer_and_close(stream, &seconds, limits)
            }
            TcpService::AuthEcho {
                echo,
                key,
                refusals,
            } => {
                stream.set_nodelay(true)?;
                let refuse = |reason: ConnectionError| {
                    refusals.refused(peer, &Protocol::AuthEcho, &reason);
                    reason
                };
                serve_auth_echo(&mut stream, echo, key, limits, refuse)?;
                tracing::info!(%peer, service = %Protocol::AuthEcho, "client authenticated");
                relay(&mut stream, echo, limits, deadline)
            }
        }
    }
}

/// What a UDP listener answers to each datagram.
#[derive(Debug, Clone)]
pub(crate) enum UdpService {
    Echo(ActorRef<EchoMsg>),
    Daytime(ActorRef<TimeMsg>),
    Time(ActorRef<TimeMsg>),
}

impl UdpService {
    /// The datagram that answers `datagram`.
    pub(crate) fn answer(&self, datagram: Vec<u8>, limits: &Limits) -> Result<Vec<u8>, AskError> {
        match self {
            UdpService::Echo(echo) => {
                echo.ask(|reply| EchoMsg::Echo(datagram, reply), limits.ask_timeout)
            }
            UdpService::Daytime(time) => Ok(daytime_line(&now(time, limits)?)),
            UdpService::Time(time) => Ok(now(time, limits)?.rfc868().to_be_bytes().to_vec()),
        }
    }
}

/// Asks the time actor for the time.
fn now(time: &ActorRef<TimeMsg>, limits: &Limits) -> Result<TimeOfDay, AskError> {
    time.ask(TimeMsg::Now, limits.ask_timeout)
}

/// The daytime protocol's answer: the line, ended as Internet text lines are, with CR LF.
fn daytime_line(now: &TimeOfDay) -> Vec<u8> {
    format!("{}\r\n", now.daytime).into_bytes()
}

/// Sends `answer`, closes the sending side, then gives the client a moment to close its own:
/// closing a socket with unread input resets the connection, which could destroy the answer
/// before the client reads it. What the client sends meanwhile is read and ignored.
fn answer_and_close(
    mut stream: TcpStream,
    answer: &[u8],
    limits: &Limits,
) -> Result<(), ConnectionError> {
    stream.write_all(answer)?;
    stream.shutdown(Shutdown::Write)?;
    let deadline = Instant::now() + limits.linger;
    let mut discard = [0; 512];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if left.is_zero() {
            break;
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut discard) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // A timeout or a reset: either way the client had its chance.
            Err(_) => break,
        }
    }
    Ok(())
}

/// Sends back, through `echo`, every byte the client sends, until the client closes its side
/// (which is then passed on: the server closes its side too), stays idle too long, or reaches
/// the connection's `deadline`.
fn relay(
    stream: &mut TcpStream,
    echo: &ActorRef<EchoMsg>,
    limits: &Limits,
    deadline: Instant,
) -> Result<(), ConnectionError> {
    let mut buf = vec![0; CHUNK];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ConnectionError::Deadline);
        }
        stream.set_read_timeout(Some(left.min(limits.idle_timeout)))?;
        let n = match read_some(stream, &mut buf) {
            Err(ConnectionError::Idle) if Instant::now() >= deadline => {
                return Err(ConnectionError::Deadline);
            }
            read => read?,
        };
        if n == 0 {
            break;
        }
        let echoed = echo.ask(
            |reply| EchoMsg::Echo(buf[..n].to_vec(), reply),
            limits.ask_timeout,
        )?;
        stream.write_all(&echoed)?;
    }
    stream.flush()?;
    stream.shutdown(Shutdown::Write)?;
    Ok(())
}

/// Runs the authentication of an accepted connection: challenge, then digest (within the
/// authentication time limit); each refusal goes through `refuse`, which reports it.
fn serve_auth_echo(
    stream: &mut TcpStream,
    echo: &ActorRef<EchoMsg>,
    key: &Secret,
    limits: &Limits,
    refuse: impl Fn(ConnectionError) -> ConnectionError,
) -> Result<(), ConnectionError> {
    let mut challenge = [0; CHALLENGE_LEN];
    getrandom::fill(&mut challenge).map_err(ConnectionError::Random)?;
    stream.write_all(&challenge)?;
    let auth_deadline = Instant::now() + limits.auth_timeout;
    let mut phase = Phase::challenged(challenge);
    let mut buf = [0; CHALLENGE_LEN];
    // Reads no more than the digest, so nothing the client sends is consumed before it is
    // authenticated.
    while phase.missing() > 0 {
        let left = auth_deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(refuse(ConnectionError::AuthTimeout));
        }
        stream.set_read_timeout(Some(left))?;
        let wanted = phase.missing();
        let n = match std::io::Read::read(stream, &mut buf[..wanted]) {
            Ok(0) => return Err(refuse(ConnectionError::AuthClosed)),
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) if is_timeout(&error) => {
                return Err(refuse(ConnectionError::AuthTimeout));
            }
            Err(error) => return Err(error.into()),
        };
        match phase.step(key, &buf[..n]) {
            Step::Read => {}
            Step::Close => return Err(refuse(ConnectionError::WrongDigest)),
            Step::Echo(rest) => {
                // Unreachable while at most the missing bytes are read; echoed all the same.
                let echoed = echo.ask(
                    |reply| EchoMsg::Echo(rest.to_vec(), reply),
                    limits.ask_timeout,
                )?;
                stream.write_all(&echoed)?;
            }
        }
    }
    Ok(())
}
