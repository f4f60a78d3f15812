//! Servers of your own: a [`TcpServer`] that runs a handler for each connection, and a
//! [`UdpServer`] that answers each datagram, both bounded and stop-safe.
//!
//! A server is an actor spawned in a [`System`](actor_core::System): it owns its socket
//! through a thread of its own, and stops, closing its connections and joining every thread,
//! at [`TcpServer::shutdown`], when its handle is dropped, or when the system shuts down. The
//! [services](crate::services) run on these servers.
//!
//! # A TCP echo server
//!
//! The handler gets each connection's stream and the client's address, on a thread of its
//! own, and returns a `Result` whose error is logged: `?` ends the connection.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::{Shutdown, TcpStream};
//! use actor_core::System;
//! use actor_net::server::TcpServer;
//!
//! let system = System::new();
//! let server = TcpServer::builder().spawn(&system, "127.0.0.1:0", |stream, _peer| {
//!     std::io::copy(&mut &stream, &mut &stream)?;
//!     Ok(())
//! })?;
//!
//! let mut client = TcpStream::connect(server.local_addr())?;
//! client.write_all(b"hello")?;
//! client.shutdown(Shutdown::Write)?;
//! let mut echoed = String::new();
//! client.read_to_string(&mut echoed)?;
//! assert_eq!(echoed, "hello");
//! system.shutdown(); // stops the server too
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a TCP server bounds
//!
//! - **Connections**: at most [`max_connections`](TcpServerBuilder::max_connections) are
//!   handled at once (64 by default); the [`excess`](TcpServerBuilder::excess) is refused
//!   (closed at once, the default) or waits in a queue of a bound of your choosing
//!   ([`Excess`]). [`max_connections_per_source`](TcpServerBuilder::max_connections_per_source)
//!   keeps one host from taking every slot.
//! - **Threads**: a thread per connection, or a fixed pool of `max_connections` threads
//!   ([`Threads`]).
//! - **Time**: an [`idle_timeout`](TcpServerBuilder::idle_timeout) on every read and write
//!   (60 seconds by default), and a [`deadline`](TcpServerBuilder::deadline) for the whole
//!   connection, at which the server shuts its socket down.
//!
//! [`socket_options`](TcpServerBuilder::socket_options) sets options on each accepted
//! stream; [`spawn_on`](TcpServerBuilder::spawn_on) serves a listener you bound and set up
//! yourself.
//!
//! # Serving through an actor
//!
//! A handler can hand each request to an actor and write back its answer: the actor keeps the
//! state, the handler threads only move bytes. The [services](crate::services) answer
//! this way, through their echo and time actors.
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//! use actor_core::{Actor, Context, HandlerResult, Reply, System};
//! use actor_net::server::TcpServer;
//!
//! /// Counts the lines of every client together.
//! #[derive(Default)]
//! struct Counter(u64);
//!
//! impl Actor for Counter {
//!     type Msg = Reply<u64>;
//!     fn handle(&mut self, reply: Reply<u64>, _: &mut Context<Reply<u64>>) -> HandlerResult {
//!         self.0 += 1;
//!         reply.send(self.0);
//!         Ok(())
//!     }
//! }
//!
//! let system = System::new();
//! let counter = system.spawn(Counter::default())?;
//! let server = TcpServer::builder().spawn(&system, "127.0.0.1:0", move |stream, _peer| {
//!     for line in BufReader::new(&stream).lines() {
//!         let _ = line?;
//!         let count = counter.ask(|reply| reply, Duration::from_secs(5))?;
//!         writeln!(&stream, "line {count}")?;
//!     }
//!     Ok(())
//! })?;
//!
//! let client = TcpStream::connect(server.local_addr())?;
//! let mut answers = BufReader::new(&client).lines();
//! writeln!(&client, "first")?;
//! assert_eq!(answers.next().transpose()?.as_deref(), Some("line 1"));
//! writeln!(&client, "second")?;
//! assert_eq!(answers.next().transpose()?.as_deref(), Some("line 2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # UDP
//!
//! A [`UdpServer`]'s handler takes a datagram and its source and returns the answer, if any.
//! Datagrams wait for it in a bounded queue that drops what it has no room for; those too
//! large, from service ports (below 1024) or over their source's rate are ignored, so that no
//! two answering services can be set talking to each other forever ([`UdpServerBuilder`]).
//!
//! ```
//! use std::net::UdpSocket;
//! use std::time::Duration;
//! use actor_core::System;
//! use actor_net::server::UdpServer;
//!
//! let system = System::new();
//! let server = UdpServer::builder().spawn(&system, "127.0.0.1:0", |request, _peer| {
//!     Some(request) // an echo
//! })?;
//! let client = UdpSocket::bind("127.0.0.1:0")?;
//! client.set_read_timeout(Some(Duration::from_secs(5)))?;
//! client.send_to(b"ping", server.local_addr())?;
//! let mut answer = [0; 8];
//! assert_eq!(client.recv(&mut answer)?, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod io;
pub(crate) mod rate_limit;
mod tcp;
mod udp;

pub use error::ServerError;
pub use tcp::{Excess, TcpServer, TcpServerBuilder, Threads};
pub use udp::{UdpServer, UdpServerBuilder};

pub(crate) use io::is_timeout;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_builders_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<TcpServer>();
        check::<TcpServerBuilder>();
        check::<UdpServer>();
        check::<UdpServerBuilder>();
        check::<ServerError>();
    }
}
