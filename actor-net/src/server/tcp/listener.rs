//! [`Listener`]: the actor behind a [`TcpServer`](super::TcpServer).
//!
//! The actor owns the listening socket through an accept thread that it starts in `started`
//! and joins in `stopped`. The accept thread only accepts and tells the actor; the actor
//! decides. Admission is counted in one place, the actor, so there is nothing to lock:
//!
//! | a new connection finds | it is |
//! |---|---|
//! | its source at `max_connections_per_source` (handled and queued) | closed at once |
//! | fewer than `max_connections` handled | handed to a handler thread |
//! | `max_connections` handled, fewer than `queue` waiting | queued |
//! | `max_connections` handled, `queue` waiting | closed at once |
//!
//! When a handler returns, its connection's socket is shut down and the oldest queued
//! connection, if any, is handed on. A connection that reaches its deadline has its socket
//! shut down by a timer message, which makes its handler's reads and writes fail.
//!
//! Stopping, in order: the accept thread is told to stop and woken by a connection to the
//! listener's own address, then joined; the queued connections are closed; every live
//! connection's socket is shut down, which ends its handler's blocked reads and writes; every
//! handler thread is joined.

use std::collections::{HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use actor_core::{Actor, ActorRef, Context, HandlerResult, TimerHandle};

use super::connection::{Finished, Job};
use super::execution::Execution;
use crate::server::io::wake_addr;
use crate::source::{RefusalLog, Source};

/// Stack size of the accept thread: it moves sockets around, nothing more.
const ACCEPT_STACK: usize = 128 * 1024;

/// How long waking the accept thread may take.
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the listener actor takes.
#[derive(Debug)]
pub(super) enum ListenerMsg {
    /// The accept thread accepted a connection.
    Accepted(TcpStream, SocketAddr),
    /// A connection's handler is done with it.
    Finished(u64),
    /// A connection reached its deadline.
    Deadline(u64),
}

/// The limits the listener applies; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Admission {
    pub(super) max_connections: usize,
    pub(super) max_connections_per_source: Option<usize>,
    /// How many connections may wait for a slot (0: the excess is refused).
    pub(super) queue: usize,
    pub(super) deadline: Option<Duration>,
}

/// The actor behind a server; see the module documentation.
#[derive(Debug)]
pub(super) struct Listener {
    name: Arc<str>,
    local_addr: SocketAddr,
    /// Moved into the accept thread when the actor starts.
    listener: Option<TcpListener>,
    admission: Admission,
    execution: Execution,
    /// Set when the actor stops; read by the accept thread after each accept.
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    /// Reports the connections refused by the limits.
    refusals: RefusalLog,
    /// The connections being handled.
    live: HashMap<u64, Live>,
    /// The connections waiting for a slot, oldest first.
    waiting: VecDeque<Waiting>,
    next_id: u64,
}

/// A connection being handled: a handle on its socket to shut it down.
#[derive(Debug)]
struct Live {
    socket: TcpStream,
    /// The client's source, counted against the per-source limit.
    source: Source,
    /// Shuts the socket down at the connection's deadline.
    deadline: Option<TimerHandle>,
}

/// A connection waiting for a slot.
#[derive(Debug)]
struct Waiting {
    stream: TcpStream,
    peer: SocketAddr,
    source: Source,
}

impl Listener {
    /// A listener actor for `listener`, which is bound (to `local_addr`) already.
    pub(super) fn new(
        name: Arc<str>,
        listener: TcpListener,
        local_addr: SocketAddr,
        admission: Admission,
        execution: Execution,
    ) -> Listener {
        Listener {
            name,
            local_addr,
            listener: Some(listener),
            admission,
            execution,
            stopping: Arc::new(AtomicBool::new(false)),
            accept: None,
            refusals: RefusalLog::default(),
            live: HashMap::new(),
            waiting: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Hands `stream` to a handler thread, queues it, or closes it; see the module
    /// documentation.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr, ctx: &Context<ListenerMsg>) {
        let source = Source::of(peer.ip());
        if let Some(max) = self.admission.max_connections_per_source {
            // Without this, one host holding every slot with slow connections locks all
            // others out.
            let live = self.live.values().filter(|c| c.source == source).count();
            let waiting = self.waiting.iter().filter(|c| c.source == source).count();
            if live + waiting >= max {
                self.refuse(stream, peer, "the source's connection limit is reached");
                return;
            }
        }
        let waiting = Waiting {
            stream,
            peer,
            source,
        };
        if self.live.len() < self.admission.max_connections {
            self.start(waiting, ctx);
        } else if self.waiting.len() < self.admission.queue {
            tracing::debug!(%peer, server = %self.name, "connection queued");
            self.waiting.push_back(waiting);
        } else {
            self.refuse(waiting.stream, peer, "the connection limit is reached");
        }
    }

    /// Closes `stream` at once, and logs why.
    fn refuse(&self, stream: TcpStream, peer: SocketAddr, reason: &str) {
        self.refusals.refused(peer, &self.name, &reason);
        let _ = stream.shutdown(Shutdown::Both);
    }

    /// Hands a connection to a handler thread, and starts its deadline.
    fn start(&mut self, connection: Waiting, ctx: &Context<ListenerMsg>) {
        let Waiting {
            stream,
            peer,
            source,
        } = connection;
        let socket = match stream.try_clone() {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(%peer, server = %self.name, %error, "connection dropped");
                return;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let deadline = self.admission.deadline.map(|limit| {
            ctx.system()
                .send_after(limit, ctx.myself(), ListenerMsg::Deadline(id))
        });
        self.live.insert(
            id,
            Live {
                socket,
                source,
                deadline,
            },
        );
        tracing::debug!(%peer, server = %self.name, "connection accepted");
        let finished = Finished {
            listener: ctx.myself().clone(),
            id,
        };
        let job = Job {
            stream,
            peer,
            finished,
        };
        self.execution.start(id, job);
    }

    /// Closes the connection `id`, whose handler is done, and hands the oldest waiting one
    /// its slot.
    fn finished(&mut self, id: u64, ctx: &Context<ListenerMsg>) {
        if let Some(live) = self.live.remove(&id) {
            // Even if the handler kept a handle on the socket: a connection lasts as long as
            // its handler, so that the limits count what is really open.
            let _ = live.socket.shutdown(Shutdown::Both);
            if let Some(timer) = live.deadline {
                timer.cancel();
            }
        }
        self.execution.finished(id);
        while self.live.len() < self.admission.max_connections {
            let Some(next) = self.waiting.pop_front() else {
                break;
            };
            self.start(next, ctx);
        }
    }
}

impl Actor for Listener {
    type Msg = ListenerMsg;

    fn started(&mut self, ctx: &mut Context<ListenerMsg>) -> HandlerResult {
        let Some(listener) = self.listener.take() else {
            return Ok(());
        };
        let myself = ctx.myself().clone();
        let stopping = Arc::clone(&self.stopping);
        let name = Arc::clone(&self.name);
        let accept = std::thread::Builder::new()
            .name(format!("{}-accept", self.name))
            .stack_size(ACCEPT_STACK)
            .spawn(move || accept_loop(&listener, &stopping, &myself, &name))?;
        self.accept = Some(accept);
        Ok(())
    }

    fn handle(&mut self, msg: ListenerMsg, ctx: &mut Context<ListenerMsg>) -> HandlerResult {
        match msg {
            ListenerMsg::Accepted(stream, peer) => self.admit(stream, peer, ctx),
            ListenerMsg::Finished(id) => self.finished(id, ctx),
            ListenerMsg::Deadline(id) => {
                if let Some(live) = self.live.get(&id) {
                    tracing::debug!(server = %self.name, "connection closed at its deadline");
                    let _ = live.socket.shutdown(Shutdown::Both);
                }
            }
        }
        Ok(())
    }

    fn stopped(&mut self, _ctx: &mut Context<ListenerMsg>) {
        // Pairs with the load in `accept_loop`, which happens after the wake-up below.
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let woken = TcpStream::connect_timeout(&wake_addr(self.local_addr), WAKE_TIMEOUT);
            if woken.is_ok() || accept.is_finished() {
                let _ = accept.join();
            } else {
                // Joining would wait for the next client: the thread is left to end then.
                tracing::warn!(addr = %self.local_addr, server = %self.name,
                    "could not wake the accept thread");
            }
        }
        for waiting in self.waiting.drain(..) {
            let _ = waiting.stream.shutdown(Shutdown::Both);
        }
        for live in self.live.values() {
            let _ = live.socket.shutdown(Shutdown::Both);
            if let Some(timer) = &live.deadline {
                timer.cancel();
            }
        }
        self.execution.stop();
        self.live.clear();
        tracing::debug!(addr = %self.local_addr, server = %self.name, "server stopped");
    }
}

/// Accepts connections and hands them to the listener actor until it stops.
fn accept_loop(
    listener: &TcpListener,
    stopping: &AtomicBool,
    myself: &ActorRef<ListenerMsg>,
    name: &str,
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
                if myself.tell(ListenerMsg::Accepted(stream, peer)).is_err() {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(server = %name, %error, "accepting a connection failed");
                // Out of file descriptors, typically: let some close before trying again.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
