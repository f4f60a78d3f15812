//! Process B's side of the remote workloads (W4, W5, W7, W9): announce the address, serve
//! until stdin closes, then report through the exit status (see [`crate::peer`] for the
//! protocol).
//!
//! Two shapes of server: [`export_until_stdin_closes`] puts an actor on a framework node, and
//! [`serve_one_connection`] hands the first TCP connection to a raw baseline's handler.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use actor_core::ActorRef;
use actor_net::{Node, RemoteMessage};
use serde::de::DeserializeOwned;

use crate::error::{BenchError, BenchResult};
use crate::run_key::RunKey;
use crate::wait;

/// The loopback address with a port of the system's choosing.
pub(crate) const LISTEN: &str = "127.0.0.1:0";

/// Prints the address A connects to: B's first and only line on stdout.
pub(crate) fn announce(addr: SocketAddr) -> BenchResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{addr}")?;
    out.flush()?;
    Ok(())
}

/// Blocks until A closes B's stdin (or dies, which closes it too).
pub(crate) fn until_stdin_closes() -> BenchResult<()> {
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())?;
    Ok(())
}

/// Exports `actor` as `name` on a node that listens on 127.0.0.1 and authenticates with the
/// run's key, announces the node's address, and serves until stdin closes; then shuts the
/// node down.
pub(crate) fn export_until_stdin_closes<M>(name: &str, actor: &ActorRef<M>) -> BenchResult<()>
where
    M: RemoteMessage + DeserializeOwned + Send + 'static,
{
    let node = Node::builder(RunKey::from_env()?.secret()?)
        .name("actor-bench-serve")
        .listen(LISTEN)
        .build()?;
    let served = (|| {
        node.export(name, actor)?;
        let addr = node
            .local_addr()
            .ok_or_else(|| BenchError::peer("node has no address"))?;
        announce(addr)?;
        until_stdin_closes()
    })();
    // On every path: the node's threads are joined before the process reports.
    node.shutdown();
    served
}

/// Listens on 127.0.0.1, announces the address, and runs `serve` on the first connection
/// (with TCP_NODELAY set) on a thread, until stdin closes; returns what `serve` returned.
///
/// A closes its connection before it closes B's stdin, so `serve` has normally seen the end of
/// its stream by then. If A never connected, a connection B makes to itself wakes the accept,
/// and `serve` then sees an empty stream.
pub(crate) fn serve_one_connection(
    serve: impl FnOnce(TcpStream) -> BenchResult<()> + Send + 'static,
) -> BenchResult<()> {
    let listener = TcpListener::bind(LISTEN)?;
    let addr = listener.local_addr()?;
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let server = thread::Builder::new()
        .name("raw-server".into())
        .spawn(move || {
            let served = (|| {
                let (stream, _) = listener.accept()?;
                stream.set_nodelay(true)?;
                serve(stream)
            })();
            let _ = done_tx.send(served);
        })?;
    announce(addr)?;
    until_stdin_closes()?;
    if done_rx.is_empty() {
        // Wakes an accept still waiting; harmless if the connection was taken already.
        let _ = TcpStream::connect(addr);
    }
    // Should A still hold its connection open, this wait runs out, the run fails and the
    // process exit ends the thread, which is blocked in a read that nothing else can end.
    let served = wait::recv(&done_rx, "the raw server to finish")?;
    wait::join(server, "the raw server thread")?;
    served
}
