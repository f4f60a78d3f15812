//! [`TcpListenerActor`]: a TCP listener that keeps a bounded number of live connections.
//!
//! The actor owns the listening socket through an accept thread that it starts in `started`
//! and joins in `stopped`. The accept thread only accepts and tells the actor; the actor
//! admits a connection (one thread each, joined when it ends) or, at the limit, closes it at
//! once. Admission is counted in one place, the actor, so there is nothing to lock.
//!
//! Stopping, in order: the accept thread is told to stop and woken by a connection to the
//! listener's own address, then joined; every live connection's socket is shut down, which
//! ends its blocked reads and writes; every connection thread is joined.

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use actor_core::{Actor, ActorRef, Context, HandlerResult};

use super::io::wake_addr;
use super::limits::Limits;
use super::protocol::Protocol;
use super::service::TcpService;
use crate::source::{RefusalLog, Source};

/// Stack size of the accept and connection threads: they move small buffers around.
const THREAD_STACK: usize = 256 * 1024;

/// What the listener actor takes.
#[derive(Debug)]
pub(crate) enum TcpListenerMsg {
    /// The accept thread accepted a connection.
    Accepted(TcpStream, SocketAddr),
    /// A connection thread is about to end.
    Finished(u64),
}

/// A TCP listener for one protocol; see the module documentation.
#[derive(Debug)]
pub(crate) struct TcpListenerActor {
    protocol: Protocol,
    local_addr: SocketAddr,
    /// Moved into the accept thread when the actor starts.
    listener: Option<TcpListener>,
    service: TcpService,
    limits: Limits,
    /// Set when the actor stops; read by the accept thread after each accept.
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    /// Reports the connections refused by the limits.
    refusals: RefusalLog,
    open: HashMap<u64, Open>,
    next_id: u64,
}

/// A live connection: its thread, and a handle on its socket to shut it down.
#[derive(Debug)]
struct Open {
    thread: JoinHandle<()>,
    socket: TcpStream,
    /// The client's source, counted against the per-source limit.
    source: Source,
}

impl TcpListenerActor {
    /// A listener actor for `listener`, which is bound already.
    pub(crate) fn new(
        protocol: Protocol,
        listener: TcpListener,
        local_addr: SocketAddr,
        service: TcpService,
        limits: Limits,
    ) -> TcpListenerActor {
        TcpListenerActor {
            protocol,
            local_addr,
            listener: Some(listener),
            service,
            limits,
            stopping: Arc::new(AtomicBool::new(false)),
            accept: None,
            refusals: RefusalLog::default(),
            open: HashMap::new(),
            next_id: 0,
        }
    }

    /// Serves `stream` on a thread of its own, or closes it at once when the listener is full.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr, myself: &ActorRef<TcpListenerMsg>) {
        let protocol = self.protocol;
        if self.open.len() >= self.limits.max_connections {
            self.refusals
                .refused(peer, &protocol, &"the connection limit is reached");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        // Without this, one host holding every slot with slow connections locks all others out.
        let source = Source::of(peer.ip());
        let from_source = self
            .open
            .values()
            .filter(|open| open.source == source)
            .count();
        if from_source >= self.limits.max_connections_per_source {
            let reason = "the source's connection limit is reached";
            self.refusals.refused(peer, &protocol, &reason);
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        let socket = match stream.try_clone() {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(%peer, service = %protocol, %error, "connection dropped");
                return;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let service = self.service.clone();
        let limits = self.limits;
        let finished = Finished {
            listener: myself.clone(),
            id,
        };
        let spawned = std::thread::Builder::new()
            .name(format!("actor-net-{protocol}"))
            .stack_size(THREAD_STACK)
            .spawn(move || {
                // Tells the listener when the thread ends, even by a panic.
                let _finished = finished;
                match service.serve(stream, peer, &limits) {
                    Ok(()) => tracing::debug!(%peer, service = %protocol, "connection closed"),
                    Err(error) => {
                        tracing::debug!(%peer, service = %protocol, %error, "connection closed");
                    }
                }
            });
        match spawned {
            Ok(thread) => {
                tracing::debug!(%peer, service = %protocol, "connection accepted");
                self.open.insert(
                    id,
                    Open {
                        thread,
                        socket,
                        source,
                    },
                );
            }
            Err(error) => {
                tracing::warn!(%peer, service = %protocol, %error, "no thread for a connection");
            }
        }
    }
}

/// Tells the listener that a connection thread ended, when dropped.
struct Finished {
    listener: ActorRef<TcpListenerMsg>,
    id: u64,
}

impl Drop for Finished {
    fn drop(&mut self) {
        // Fails only when the listener has stopped, and then it joins the thread itself.
        let _ = self.listener.tell(TcpListenerMsg::Finished(self.id));
    }
}

impl Actor for TcpListenerActor {
    type Msg = TcpListenerMsg;

    fn started(&mut self, ctx: &mut Context<TcpListenerMsg>) -> HandlerResult {
        let Some(listener) = self.listener.take() else {
            return Ok(());
        };
        let myself = ctx.myself().clone();
        let stopping = Arc::clone(&self.stopping);
        let protocol = self.protocol;
        let accept = std::thread::Builder::new()
            .name(format!("actor-net-{protocol}-accept"))
            .stack_size(THREAD_STACK)
            .spawn(move || accept_loop(&listener, &stopping, &myself, protocol))?;
        self.accept = Some(accept);
        Ok(())
    }

    fn handle(&mut self, msg: TcpListenerMsg, ctx: &mut Context<TcpListenerMsg>) -> HandlerResult {
        match msg {
            TcpListenerMsg::Accepted(stream, peer) => self.admit(stream, peer, ctx.myself()),
            TcpListenerMsg::Finished(id) => {
                if let Some(open) = self.open.remove(&id) {
                    // The thread's last act was to send this message: the join is short.
                    let _ = open.thread.join();
                }
            }
        }
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<TcpListenerMsg>) {
        // Pairs with the load in `accept_loop`, which happens after the wake-up below.
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let woken = TcpStream::connect_timeout(&wake_addr(self.local_addr), WAKE_TIMEOUT);
            if woken.is_ok() || accept.is_finished() {
                let _ = accept.join();
            } else {
                // Joining would wait for the next client: the thread is left to end then.
                tracing::warn!(addr = %self.local_addr, service = %self.protocol,
                    "could not wake the accept thread");
            }
        }
        for open in self.open.values() {
            let _ = open.socket.shutdown(Shutdown::Both);
        }
        for (_, open) in self.open.drain() {
            let _ = open.thread.join();
        }
        tracing::debug!(addr = %self.local_addr, service = %self.protocol, "listener stopped");
    }
}

/// How long waking the accept thread may take.
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// Accepts connections and hands them to the listener actor until it stops.
fn accept_loop(
    listener: &TcpListener,
    stopping: &AtomicBool,
    myself: &ActorRef<TcpListenerMsg>,
    protocol: Protocol,
) {
    for incoming in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        match incoming {
            Ok(stream) => {
                let Ok(peer) = stream.peer_addr() else {
                    continue;
                };
                if myself.tell(TcpListenerMsg::Accepted(stream, peer)).is_err() {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(service = %protocol, %error, "accepting a connection failed");
                // Out of file descriptors, typically: let some close before trying again.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
