//! [`TcpServer`] and its builder: a listener actor that admits a bounded number of
//! connections and runs the user's handler for each.
//!
//! The parts: `listener.rs` is the actor (admission, the queue of the excess, deadlines, the
//! stop sequence), `connection.rs` what runs on a handler thread for one connection, and
//! `execution.rs` the two ways of finding that thread (a thread per connection, or a pool),
//! behind one private enum.

mod connection;
mod execution;
mod listener;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use actor_core::{ActorRef, BoxError, System};

use super::error::ServerError;
use connection::Serve;
use execution::Execution;
use listener::{Admission, Listener, ListenerMsg};

/// What a handler is: run once per connection, on the connection's thread.
type Handler = dyn Fn(TcpStream, SocketAddr) -> Result<(), BoxError> + Send + Sync;

/// The hook that sets options on each accepted stream.
type SocketOptions = dyn Fn(&TcpStream) -> io::Result<()> + Send + Sync;

/// A TCP server: an actor that accepts connections and runs a handler of yours for each, with
/// a bounded number of connections, timeouts, and a clean stop. Made by
/// [`TcpServer::builder`]; see the [module documentation](super) for a tutorial.
///
/// [`shutdown`](TcpServer::shutdown) (also run on drop, and when the [`System`] it was
/// spawned in shuts down) stops accepting, shuts down the socket of every connection and
/// joins every thread of the server.
///
/// # Examples
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
/// use std::net::TcpStream;
/// use actor_core::System;
/// use actor_net::server::TcpServer;
///
/// let system = System::new();
/// // Answers one line with its length.
/// let server = TcpServer::builder().spawn(&system, "127.0.0.1:0", |stream, _peer| {
///     let mut line = String::new();
///     BufReader::new(&stream).read_line(&mut line)?;
///     writeln!(&stream, "{}", line.trim_end().len())?;
///     Ok(())
/// })?;
///
/// let mut client = TcpStream::connect(server.local_addr())?;
/// client.write_all(b"hello\n")?;
/// let mut answer = String::new();
/// BufReader::new(client).read_line(&mut answer)?;
/// assert_eq!(answer, "5\n");
/// server.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TcpServer {
    actor: ActorRef<ListenerMsg>,
    local_addr: SocketAddr,
}

impl TcpServer {
    /// Starts configuring a server.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn builder() -> TcpServerBuilder {
        TcpServerBuilder {
            name: Arc::from("tcp-server"),
            max_connections: 64,
            max_connections_per_source: None,
            excess: Excess::Refuse,
            threads: Threads::PerConnection,
            idle_timeout: Some(Duration::from_secs(60)),
            deadline: None,
            socket_options: None,
            stack_size: None,
        }
    }

    /// The address the server listens on (with the port the system chose, when it was
    /// given as 0).
    ///
    /// # Examples
    ///
    /// See [`TcpServer`].
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the server and waits until every one of its threads has ended: the accept
    /// thread stops (new clients are refused by the system), the connections waiting in the
    /// queue are closed, the socket of every live connection is shut down, which makes its
    /// handler's reads and writes fail, and every handler thread is joined. Idempotent.
    ///
    /// A handler returns once its socket fails, unless it waits on something else: such a
    /// handler holds the shutdown up until it returns. Not to be called from a handler (it
    /// would wait for itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Read};
    /// use std::net::TcpStream;
    /// use actor_core::System;
    /// use actor_net::server::TcpServer;
    ///
    /// let system = System::new();
    /// let (entered, handler_entered) = std::sync::mpsc::channel();
    /// // Waits for a byte that never comes.
    /// let server = TcpServer::builder().spawn(&system, "127.0.0.1:0", move |mut stream, _| {
    ///     entered.send(())?;
    ///     stream.read(&mut [0])?;
    ///     Ok(())
    /// })?;
    /// let mut client = TcpStream::connect(server.local_addr())?;
    /// handler_entered.recv_timeout(std::time::Duration::from_secs(5))?;
    ///
    /// server.shutdown();
    /// assert_eq!(client.read(&mut [0])?, 0); // the connection was closed
    /// let refused = TcpStream::connect(server.local_addr()).unwrap_err();
    /// assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self) {
        self.stop();
        self.join();
    }

    /// Starts the stop sequence without waiting for it (see [`shutdown`](Self::shutdown)).
    pub(crate) fn stop(&self) {
        self.actor.stop();
    }

    /// Waits for the stop sequence to end.
    pub(crate) fn join(&self) {
        // Fails only when called from the listener actor itself, which never calls it.
        let _ = self.actor.join();
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What a [`TcpServer`] does with a connection accepted while
/// [`max_connections`](TcpServerBuilder::max_connections) are being handled.
///
/// Connections refused by [`max_connections_per_source`](TcpServerBuilder::max_connections_per_source)
/// are closed at once whatever the policy, and a queued connection counts against that limit.
///
/// # Examples
///
/// ```
/// use actor_net::server::{Excess, TcpServer};
///
/// // Two handled at once, and up to eight more waiting their turn in arrival order.
/// let builder = TcpServer::builder().max_connections(2).excess(Excess::Queue(8));
/// # drop(builder);
/// assert_eq!(Excess::default(), Excess::Refuse);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Excess {
    /// Closes it at once, without a byte: the client reads the end of the stream (or a
    /// reset). Refusals are logged at `info` level, at most one line a minute per source.
    #[default]
    Refuse,
    /// Keeps up to this many waiting, in arrival order; each starts when a handled
    /// connection ends (its handler returns). The client sees a connection that does not
    /// answer yet. Beyond the bound, as [`Refuse`](Excess::Refuse).
    Queue(usize),
}

/// Which threads run a [`TcpServer`]'s handlers.
///
/// # Examples
///
/// ```
/// use actor_net::server::{TcpServer, Threads};
///
/// // Four threads, started with the server, handle every connection in turn.
/// let builder = TcpServer::builder().max_connections(4).threads(Threads::Pool);
/// # drop(builder);
/// assert_eq!(Threads::default(), Threads::PerConnection);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Threads {
    /// A new thread for each connection, ended and joined with it: no thread while no
    /// client is connected.
    #[default]
    PerConnection,
    /// A fixed pool of [`max_connections`](TcpServerBuilder::max_connections) threads,
    /// started with the server and joined at its stop, each handling one connection at a
    /// time: no thread is started per connection.
    Pool,
}

/// Configures a [`TcpServer`]. Made by [`TcpServer::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::System;
/// use actor_net::server::{Excess, TcpServer, Threads};
///
/// let system = System::new();
/// let server = TcpServer::builder()
///     .name("echo")
///     .max_connections(8)
///     .excess(Excess::Queue(32))
///     .max_connections_per_source(4)
///     .threads(Threads::Pool)
///     .idle_timeout(Duration::from_secs(10))
///     .deadline(Duration::from_secs(300))
///     .socket_options(|stream| stream.set_nodelay(true))
///     .spawn(&system, "127.0.0.1:0", |stream, _peer| {
///         std::io::copy(&mut &stream, &mut &stream)?;
///         Ok(())
///     })?;
/// assert_ne!(server.local_addr().port(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TcpServerBuilder {
    name: Arc<str>,
    max_connections: usize,
    max_connections_per_source: Option<usize>,
    excess: Excess,
    threads: Threads,
    idle_timeout: Option<Duration>,
    deadline: Option<Duration>,
    socket_options: Option<Box<SocketOptions>>,
    stack_size: Option<usize>,
}

impl TcpServerBuilder {
    /// The server's name, in its logs and the names of its threads. By default,
    /// `tcp-server`.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Arc::from(name.into());
        self
    }

    /// At most this many connections handled at once (at least 1); what happens to the
    /// excess is the [`excess`](Self::excess) policy. With [`Threads::Pool`], also the number
    /// of threads. By default, 64.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// What to do with a connection accepted while `max_connections` are handled. By
    /// default, [`Excess::Refuse`]: it is closed at once.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn excess(mut self, excess: Excess) -> Self {
        self.excess = excess;
        self
    }

    /// At most this many connections (handled and queued) from one source address (at least
    /// 1); one more is closed at once, so that one host cannot take every slot. A source is
    /// an IPv4 address, or an IPv6 /64 network, which a single host is commonly given. By
    /// default, no limit but `max_connections`.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn max_connections_per_source(mut self, max: usize) -> Self {
        self.max_connections_per_source = Some(max.max(1));
        self
    }

    /// Which threads run the handlers. By default, [`Threads::PerConnection`].
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// The read and write timeout of each accepted stream, set before the handler runs: a
    /// read that waits this long for a byte, or a write that waits this long for room, fails
    /// with an error of kind [`WouldBlock`](io::ErrorKind::WouldBlock) (`TimedOut` on
    /// Windows), so that a handler using `?` ends a silent client's connection. `None` waits
    /// for ever; durations under a millisecond count as one. By default, 60 seconds.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn idle_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = limit.into().map(at_least_a_millisecond);
        self
    }

    /// How long a connection may last in all, from when its handler starts, however busy it
    /// is: then the server shuts its socket down, which makes the handler's reads and
    /// writes fail. Unlike the idle timeout, not restarted by each byte, so that slow clients
    /// cannot hold a slot for as long as they like. By default, none.
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn deadline(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.deadline = limit.into();
        self
    }

    /// Runs `hook` on each accepted stream on its handler's thread, after the idle timeout
    /// was set and before the handler runs: to set `TCP_NODELAY`, a TTL, or any option
    /// through the stream's descriptor. An error closes the connection (and is logged at
    /// `debug` level). By default, none: the stream keeps the system's defaults.
    ///
    /// To set options on the listening socket, bind it yourself and use
    /// [`spawn_on`](Self::spawn_on).
    ///
    /// # Examples
    ///
    /// See [`TcpServerBuilder`].
    #[must_use]
    pub fn socket_options(
        mut self,
        hook: impl Fn(&TcpStream) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.socket_options = Some(Box::new(hook));
        self
    }

    /// The stack size of the handler threads. By default, the standard library's.
    #[must_use]
    pub(crate) fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Binds `addr` (the first of its addresses that can be bound; port 0 lets the system
    /// choose) and starts the server's actor on `system`, running `handler` for each
    /// connection it admits.
    ///
    /// The handler owns the stream, and is given the client's address. The connection ends
    /// when the handler returns: the server then shuts its socket down, even if the
    /// handler kept a handle on it, so that the limits count what is really open. An error
    /// it returns is logged at `debug` level; a panic is caught, logged at `warn` level, and
    /// ends that connection only.
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] when `addr` cannot be resolved or bound; the others as
    /// [`spawn_on`](Self::spawn_on).
    ///
    /// # Examples
    ///
    /// See [`TcpServer`].
    pub fn spawn<F>(
        self,
        system: &System,
        addr: impl ToSocketAddrs,
        handler: F,
    ) -> Result<TcpServer, ServerError>
    where
        F: Fn(TcpStream, SocketAddr) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(addr).map_err(ServerError::Bind)?;
        self.spawn_on(system, listener, handler)
    }

    /// As [`spawn`](Self::spawn), on a `listener` bound already: one whose options you set
    /// yourself, or that was handed to the process.
    ///
    /// # Errors
    ///
    /// [`ServerError::Socket`] when the listener's address cannot be read;
    /// [`ServerError::Thread`] when a pool thread cannot start; [`ServerError::Spawn`] when
    /// the actor cannot start (`system` is shutting down). Whatever was started is stopped
    /// before the error is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpListener;
    /// use actor_core::System;
    /// use actor_net::server::TcpServer;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// listener.set_ttl(32)?;
    /// let addr = listener.local_addr()?;
    /// let system = System::new();
    /// let server = TcpServer::builder().spawn_on(&system, listener, |_stream, _peer| Ok(()))?;
    /// assert_eq!(server.local_addr(), addr);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_on<F>(
        self,
        system: &System,
        listener: TcpListener,
        handler: F,
    ) -> Result<TcpServer, ServerError>
    where
        F: Fn(TcpStream, SocketAddr) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        let local_addr = listener.local_addr().map_err(ServerError::Socket)?;
        let serve = Arc::new(Serve {
            name: Arc::clone(&self.name),
            handler: Box::new(handler),
            socket_options: self.socket_options,
            idle_timeout: self.idle_timeout,
        });
        let execution = match self.threads {
            Threads::PerConnection => Execution::per_connection(serve, self.stack_size),
            Threads::Pool => Execution::pool(serve, self.max_connections, self.stack_size)
                .map_err(ServerError::Thread)?,
        };
        let admission = Admission {
            max_connections: self.max_connections,
            max_connections_per_source: self.max_connections_per_source,
            queue: match self.excess {
                Excess::Refuse => 0,
                Excess::Queue(bound) => bound,
            },
            deadline: self.deadline,
        };
        let actor = Listener::new(self.name, listener, local_addr, admission, execution);
        // A failed spawn drops the actor, and with it the pool (which joins its threads).
        let actor = system.spawn(actor).map_err(ServerError::Spawn)?;
        Ok(TcpServer { actor, local_addr })
    }
}

impl fmt::Debug for TcpServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpServerBuilder")
            .field("name", &self.name)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_source",
                &self.max_connections_per_source,
            )
            .field("excess", &self.excess)
            .field("threads", &self.threads)
            .field("idle_timeout", &self.idle_timeout)
            .field("deadline", &self.deadline)
            .field("socket_options", &self.socket_options.is_some())
            .finish_non_exhaustive()
    }
}

/// `limit`, or a millisecond if it is shorter: a socket refuses a zero timeout.
fn at_least_a_millisecond(limit: Duration) -> Duration {
    limit.max(Duration::from_millis(1))
}
