//! [`Protocol`]: the classic protocols a [`ServiceSet`](super::ServiceSet) answers, and how
//! each one answers a TCP connection or a UDP datagram by asking the echo and time actors.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actor_core::{ActorRef, AskError};

use super::auth_echo;
use super::echo::{self, EchoMsg};
use super::time::{TimeMsg, TimeOfDay};
use crate::secret::Secret;

/// One of the classic listeners a [`ServiceSet`](super::ServiceSet) can open.
///
/// # Examples
///
/// ```
/// use actor_net::services::Protocol;
///
/// assert_eq!(Protocol::DaytimeUdp.to_string(), "daytime-udp");
/// assert!(Protocol::TimeUdp.is_udp());
/// assert_eq!(Protocol::ALL.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// Echo over TCP (RFC 862): every byte received is sent back, until the client closes.
    EchoTcp,
    /// Echo over UDP (RFC 862): each datagram is sent back.
    EchoUdp,
    /// Daytime over TCP (RFC 867): one line with the local time, then the server closes.
    DaytimeTcp,
    /// Daytime over UDP (RFC 867): any datagram is answered with the line.
    DaytimeUdp,
    /// Time over TCP (RFC 868): 4 bytes, seconds since 1900 (big-endian), then the server
    /// closes.
    TimeTcp,
    /// Time over UDP (RFC 868): any datagram is answered with the 4 bytes.
    TimeUdp,
    /// The authenticated echo over TCP: the server sends 32 random bytes, the client answers
    /// with their HMAC-SHA256 under the shared key, then bytes are echoed until the client
    /// closes. A wrong answer closes the connection.
    AuthEcho,
}

impl Protocol {
    /// Every protocol, in the order of the variants.
    ///
    /// # Examples
    ///
    /// See [`Protocol`].
    pub const ALL: [Protocol; 7] = [
        Protocol::EchoTcp,
        Protocol::EchoUdp,
        Protocol::DaytimeTcp,
        Protocol::DaytimeUdp,
        Protocol::TimeTcp,
        Protocol::TimeUdp,
        Protocol::AuthEcho,
    ];

    /// The protocol's name, as in logs and in `actor-node`'s flags: `echo-tcp`, `echo-udp`,
    /// `daytime-tcp`, `daytime-udp`, `time-tcp`, `time-udp`, `auth-echo`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_net::services::Protocol::AuthEcho.name(), "auth-echo");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Protocol::EchoTcp => "echo-tcp",
            Protocol::EchoUdp => "echo-udp",
            Protocol::DaytimeTcp => "daytime-tcp",
            Protocol::DaytimeUdp => "daytime-udp",
            Protocol::TimeTcp => "time-tcp",
            Protocol::TimeUdp => "time-udp",
            Protocol::AuthEcho => "auth-echo",
        }
    }

    /// Whether the protocol runs over UDP (else over TCP).
    ///
    /// # Examples
    ///
    /// See [`Protocol`].
    pub fn is_udp(self) -> bool {
        matches!(
            self,
            Protocol::EchoUdp | Protocol::DaytimeUdp | Protocol::TimeUdp
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The limits every listener of a set applies; see [`ServiceSetBuilder`](super::ServiceSetBuilder).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Live connections per TCP listener; the excess is closed at once.
    pub(crate) max_connections: usize,
    /// How long a connection may stay silent (or refuse to take what is written to it).
    pub(crate) idle_timeout: Duration,
    /// How long an authenticated-echo client has to send its digest.
    pub(crate) auth_timeout: Duration,
    /// How long a connection waits for the echo or time actor.
    pub(crate) ask_timeout: Duration,
    /// How long a server that closed its side waits for the client to close too.
    pub(crate) linger: Duration,
}

/// Why a connection ended early. Logged, never sent to the client.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectionError {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The client sent nothing (or took nothing) for the idle timeout.
    #[error("idle for too long")]
    Idle,
    /// The echo or time actor did not answer.
    #[error("the service did not answer")]
    Service(#[from] AskError),
    /// The operating system's random source failed.
    #[error("the random source failed: {0}")]
    Random(getrandom::Error),
    /// An authenticated-echo client sent no (complete) digest in time.
    #[error("no digest in time")]
    AuthTimeout,
    /// An authenticated-echo client closed before sending a complete digest.
    #[error("closed before sending a digest")]
    AuthClosed,
    /// An authenticated-echo client sent a wrong digest.
    #[error("wrong digest")]
    WrongDigest,
}

/// Reads what is there (at most `buf.len()` bytes; 0 at the end of the stream), mapping a
/// read timeout to [`ConnectionError::Idle`].
pub(crate) fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, ConnectionError> {
    loop {
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if is_timeout(&error) => return Err(ConnectionError::Idle),
            Err(error) => return Err(error.into()),
        }
    }
}

/// Whether `error` is a socket timeout (`WouldBlock` on Unix, `TimedOut` on Windows).
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// What a TCP listener does with each connection it admits.
#[derive(Debug, Clone)]
pub(crate) enum TcpService {
    Echo(ActorRef<EchoMsg>),
    Daytime(ActorRef<TimeMsg>),
    Time(ActorRef<TimeMsg>),
    AuthEcho {
        echo: ActorRef<EchoMsg>,
        key: Arc<Secret>,
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
        stream.set_read_timeout(Some(limits.idle_timeout))?;
        stream.set_write_timeout(Some(limits.idle_timeout))?;
        match self {
            TcpService::Echo(echo) => {
                stream.set_nodelay(true)?;
                echo::relay(&mut stream, echo, limits)
            }
            TcpService::Daytime(time) => {
                let line = daytime_line(&now(time, limits)?);
                answer_and_close(stream, &line, limits)
            }
            TcpService::Time(time) => {
                let seconds = now(time, limits)?.rfc868().to_be_bytes();
                answer_and_close(stream, &seconds, limits)
            }
            TcpService::AuthEcho { echo, key } => {
                stream.set_nodelay(true)?;
                auth_echo::serve(&mut stream, peer, echo, key, limits)
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
