//! What runs on a handler thread for one connection: [`Serve`], the configuration every
//! connection of a server shares, and [`Job`], one admitted connection with the guard that
//! tells the listener when it ends.

use std::net::{SocketAddr, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use actor_core::{ActorRef, BoxError, panic_message};

use super::listener::ListenerMsg;
use super::{Handler, SocketOptions};

/// What every connection of one server needs, shared by its handler threads.
pub(super) struct Serve {
    pub(super) name: Arc<str>,
    pub(super) handler: Box<Handler>,
    pub(super) socket_options: Option<Box<SocketOptions>>,
    pub(super) idle_timeout: Option<Duration>,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("name", &self.name)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// One admitted connection, handed to a handler thread.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    /// Dropped when the handler is done with the connection, however it ended.
    pub(super) finished: Finished,
}

impl Job {
    /// Runs the server's handler on the connection, then tells the listener it ended. A
    /// handler's error is logged; so is a panic, which ends this connection only (a pool
    /// thread goes on with the next).
    pub(super) fn run(self, serve: &Serve) {
        let Job {
            stream,
            peer,
            finished,
        } = self;
        let name = &serve.name;
        // Only this connection's stream and the shared, immutable configuration are touched;
        // after a panic, the stream is gone and the configuration unchanged.
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), BoxError> {
            if let Some(idle) = serve.idle_timeout {
                stream.set_read_timeout(Some(idle))?;
                stream.set_write_timeout(Some(idle))?;
            }
            if let Some(hook) = &serve.socket_options {
                hook(&stream)?;
            }
            (serve.handler)(stream, peer)
        }));
        match outcome {
            Ok(Ok(())) => tracing::debug!(%peer, server = %name, "connection closed"),
            Ok(Err(error)) => {
                tracing::debug!(%peer, server = %name, %error, "connection closed");
            }
            Err(panic) => {
                let panic = panic_message(panic.as_ref());
                tracing::warn!(%peer, server = %name, %panic, "the connection's handler panicked");
            }
        }
        drop(finished);
    }
}

/// Tells the listener that a connection's handler is done, when dropped.
#[derive(Debug)]
pub(super) struct Finished {
    pub(super) listener: ActorRef<ListenerMsg>,
    pub(super) id: u64,
}

impl Drop for Finished {
    fn drop(&mut self) {
        // Fails only when the listener has stopped, and then it closes and joins everything
        // itself.
        let _ = self.listener.tell(ListenerMsg::Finished(self.id));
    }
}
