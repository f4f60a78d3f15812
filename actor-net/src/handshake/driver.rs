//! Running the handshake state machines over a stream, within a timeout.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Instant;

use actor_core::codec::{FrameError, FrameReader};

use super::client::ClientHandshake;
use super::config::HandshakeConfig;
use super::constants::NONCE_LEN;
use super::error::HandshakeError;
use super::server::ServerHandshake;
use super::step::{Handshaken, Step};
use super::wire;
use crate::Secret;
use crate::frame::{self, StreamError, TimedStream};
use crate::random;

/// Runs the client's side of the handshake over `stream`.
///
/// The whole exchange must finish within [`HandshakeConfig::timeout`]: every read waits at
/// most for the time that remains. The nonce is drawn from the operating system's random source.
/// On success the stream's read timeout is cleared (`None`), and the stream holds nothing but
/// session frames from here on; the returned [`Handshaken`] seals and opens them.
///
/// On error the server has been told why where the protocol says so, and the caller should close
/// the connection.
///
/// # Errors
///
/// Any [`HandshakeError`]: [`Timeout`](HandshakeError::Timeout) when the timeout passes,
/// [`Closed`](HandshakeError::Closed) when the server hangs up, and the protocol's refusals as
/// described at [`ClientHandshake::step`].
///
/// # Examples
///
/// ```
/// use std::net::{TcpListener, TcpStream};
/// use actor_net::Secret;
/// use actor_net::handshake::{self, HandshakeConfig};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// // Both sides hold the same key: one made for this example, and a copy.
/// let key = Secret::generate()?;
/// let server_key = key.clone();
/// let server = std::thread::spawn(move || -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
///     let config = HandshakeConfig::builder().name("server").build()?;
///     let (mut stream, peer) = listener.accept()?;
///     let done = handshake::server_handshake(&mut stream, &server_key, &config, peer)?;
///     Ok(done.peer_name)
/// });
///
/// let config = HandshakeConfig::builder().name("client").build()?;
/// let mut stream = TcpStream::connect(addr)?;
/// let done = handshake::client_handshake(&mut stream, &key, &config)?;
/// assert_eq!(done.peer_name, "server");
/// assert_eq!(server.join().unwrap().unwrap(), "client");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client_handshake<S: TimedStream + ?Sized>(
    stream: &mut S,
    key: &Secret,
    config: &HandshakeConfig,
) -> Result<Handshaken, HandshakeError> {
    let deadline = Deadline::start(config);
    let mut out = Vec::new();
    let machine = ClientHandshake::new(key, config, random_nonce()?, &mut out);
    let result = run(stream, config, deadline, machine, out);
    match &result {
        Ok(done) => tracing::debug!(server = ?done.peer_name, "handshake complete"),
        Err(err) => tracing::debug!(error = %err, "handshake failed"),
    }
    result
}

/// Runs the server's side of the handshake over `stream`, accepted from `peer`.
///
/// As [`client_handshake`], for the other side; `peer` is used only in logs. A failure is
/// logged at `debug` level only, with the peer's address and the error (never a key or a
/// digest): anyone can make a handshake fail, so the caller decides what reaches its logs (a
/// [`Node`](crate::Node) reports refusals at `info` at most once a minute per source). On
/// success the server has already sent the first session frame (the WELCOME, with
/// sequence number 0), so the returned sealer continues at sequence number 1.
///
/// # Errors
///
/// Any [`HandshakeError`], as described at [`client_handshake`] and [`ServerHandshake::step`].
///
/// # Examples
///
/// A client that sends nothing is dropped when the timeout passes:
///
/// ```
/// use std::net::{TcpListener, TcpStream};
/// use std::time::Duration;
/// use actor_net::Secret;
/// use actor_net::handshake::{self, HandshakeConfig, HandshakeError};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let _silent = TcpStream::connect(listener.local_addr()?)?;
/// let (mut stream, peer) = listener.accept()?;
///
/// let key = Secret::generate()?;
/// let limit = Duration::from_millis(50);
/// let config = HandshakeConfig::builder().timeout(limit).build()?;
/// let err = handshake::server_handshake(&mut stream, &key, &config, peer).unwrap_err();
/// assert!(matches!(err, HandshakeError::Timeout { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn server_handshake<S: TimedStream + ?Sized>(
    stream: &mut S,
    key: &Secret,
    config: &HandshakeConfig,
    peer: SocketAddr,
) -> Result<Handshaken, HandshakeError> {
    let deadline = Deadline::start(config);
    let result = random_nonce().and_then(|nonce_s| {
        let machine = ServerHandshake::new(key, config, nonce_s);
        run(stream, config, deadline, machine, Vec::new())
    });
    match &result {
        Ok(done) => tracing::debug!(%peer, client = ?done.peer_name, "handshake complete"),
        Err(err) => tracing::debug!(%peer, error = %err, "handshake failed"),
    }
    result
}

/// Refuses a connection the server will not serve (its limits are reached): sends the ERROR
/// BUSY frame in place of the CHALLENGE, and closes the sending direction, without waiting.
///
/// What the client has sent already (its HELLO, typically) is read and dropped first, within
/// a bound, so that the close is a plain FIN: a close with unread bytes makes the kernel reset
/// the connection, and a reset may reach the client before it reads the BUSY. The caller
/// drops the stream afterwards. Nothing here blocks: the socket is put in non-blocking mode,
/// and the 8-byte frame fits in a fresh socket's send buffer.
///
/// # Errors
///
/// The socket's error, if it could not be set non-blocking or written.
///
/// # Examples
///
/// ```
/// use std::net::{TcpListener, TcpStream};
/// use actor_net::Secret;
/// use actor_net::handshake::{self, HandshakeConfig, HandshakeError};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut client = TcpStream::connect(listener.local_addr()?)?;
/// let (mut refused, _) = listener.accept()?;
/// let config = HandshakeConfig::builder().build()?;
/// handshake::refuse_busy(&mut refused, &config)?;
///
/// let key = Secret::generate()?;
/// let err = handshake::client_handshake(&mut client, &key, &config).unwrap_err();
/// assert!(matches!(err, HandshakeError::Busy));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn refuse_busy(stream: &mut TcpStream, config: &HandshakeConfig) -> io::Result<()> {
    /// Reads of what the client sent before the refusal: a HELLO takes one.
    const DRAIN_READS: usize = 4;
    let mut out = Vec::with_capacity(16);
    wire::append_busy(config, &mut out);
    stream.set_nonblocking(true)?;
    let mut sink = [0_u8; 512];
    for _ in 0..DRAIN_READS {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    stream.write_all(&out)?;
    stream.shutdown(Shutdown::Write)
}

/// A handshake state machine, as the driver sees it.
trait Machine: Sized {
    fn step(self, incoming: &[u8], out: &mut Vec<u8>) -> Result<Step<Self>, HandshakeError>;
}

impl Machine for ClientHandshake<'_> {
    fn step(self, incoming: &[u8], out: &mut Vec<u8>) -> Result<Step<Self>, HandshakeError> {
        ClientHandshake::step(self, incoming, out)
    }
}

impl Machine for ServerHandshake<'_> {
    fn step(self, incoming: &[u8], out: &mut Vec<u8>) -> Result<Step<Self>, HandshakeError> {
        ServerHandshake::step(self, incoming, out)
    }
}

/// Sends `out`, then feeds the machine frame after frame until it finishes or fails.
fn run<S: TimedStream + ?Sized, M: Machine>(
    stream: &mut S,
    config: &HandshakeConfig,
    deadline: Deadline,
    mut machine: M,
    mut out: Vec<u8>,
) -> Result<Handshaken, HandshakeError> {
    let stream = Deadlined { stream, deadline };
    let mut reader = FrameReader::with_config(stream, config.frames());
    loop {
        frame::write_frames(reader.get_mut(), &out).map_err(|err| deadline.error(err))?;
        out.clear();
        let step = match frame::read_frame(&mut reader) {
            Ok(incoming) => machine.step(incoming, &mut out),
            Err(StreamError::Frame(err @ FrameError::TooLarge { .. })) => {
                // Larger than any handshake frame: tell the peer, as for any malformed frame.
                wire::append_malformed(config, &mut out);
                Err(HandshakeError::Frame(err))
            }
            Err(err) => Err(deadline.error(err)),
        };
        match step {
            Ok(Step::Continue(next)) => machine = next,
            Ok(Step::Done(done)) => {
                frame::write_frames(reader.get_mut(), &out).map_err(|err| deadline.error(err))?;
                reader
                    .get_mut()
                    .stream
                    .set_read_timeout(None)
                    .map_err(HandshakeError::Io)?;
                return Ok(done);
            }
            Err(err) => {
                // Telling the peer why is a courtesy; the error that ended the handshake is what
                // the caller needs, so a failure to send is not reported.
                let _ = frame::write_frames(reader.get_mut(), &out);
                return Err(err);
            }
        }
    }
}

/// When the handshake must be over; `None` if the timeout is too far away to represent.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Option<Instant>,
    limit: std::time::Duration,
}

impl Deadline {
    fn start(config: &HandshakeConfig) -> Deadline {
        let limit = config.timeout();
        Deadline {
            at: Instant::now().checked_add(limit),
            limit,
        }
    }

    /// Converts a stream failure into the handshake's error.
    fn error(self, err: StreamError) -> HandshakeError {
        match err {
            StreamError::Timeout => HandshakeError::Timeout { limit: self.limit },
            StreamError::Closed => HandshakeError::Closed,
            StreamError::Frame(err) => HandshakeError::Frame(err),
            StreamError::Io(err) => HandshakeError::Io(err),
        }
    }
}

/// A stream whose every read waits at most until the deadline.
///
/// Setting the timeout before each read (not once per frame) is what bounds the whole
/// handshake: a peer that trickles one byte just before each read would time out keeps a frame
/// reader busy for as long as it likes.
struct Deadlined<'s, S: ?Sized> {
    stream: &'s mut S,
    deadline: Deadline,
}

impl<S: TimedStream + ?Sized> Read for Deadlined<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let remaining = match self.deadline.at {
                Some(at) => match at.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => Some(remaining),
                    _ => return Err(io::ErrorKind::TimedOut.into()),
                },
                None => None,
            };
            self.stream.set_read_timeout(remaining)?;
            match self.stream.read(buf) {
                // A socket may time out a little early; the deadline decides, on the next turn.
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                result => return result,
            }
        }
    }
}

impl<S: TimedStream + ?Sized> Write for Deadlined<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// Draws a nonce from the operating system's random source.
fn random_nonce() -> Result<[u8; NONCE_LEN], HandshakeError> {
    let mut nonce = [0; NONCE_LEN];
    random::fill(&mut nonce).map_err(HandshakeError::Random)?;
    Ok(nonce)
}
