//! A member process of W8: one cluster member on 127.0.0.1 that reports every change it
//! publishes on `cluster.members`, and its traffic counters when asked, as [`Line`]s on its
//! stdout; it leaves the cluster and exits when its stdin ends.
//!
//! It is this binary run as `actor-bench serve W8 <variant>`, with the run's key in
//! [`run_key::VAR`](crate::run_key::VAR) and, for every member but the first, the address it
//! joins through in [`SEED_VAR`].

use std::ffi::OsString;
use std::io::{BufRead as _, Write as _};
use std::thread;

use actor_core::{System, from_fn};
use actor_net::cluster::MEMBERS_EXCHANGE;
use actor_net::{ClusterMember, Node};
use crossbeam_channel::Receiver;

use super::clock::now_ns;
use super::line::{Line, TRAFFIC_REQUEST, Traffic};
use crate::error::{BenchError, BenchResult};
use crate::run_key::RunKey;
use crate::wait;

/// The environment variable that carries the address of the member to join through.
pub(super) const SEED_VAR: &str = "ACTOR_BENCH_SEED";

/// A change as the subscriber saw it: when (or why the clock could not be read), and what.
type Stamped = (BenchResult<u64>, ClusterMember);

/// Runs one member until its stdin ends; the node leaves the cluster and its threads are
/// joined on every path.
pub(crate) fn serve(_n: u64) -> BenchResult<()> {
    let key = RunKey::from_env()?;
    let seeds: Vec<String> = match std::env::var_os(SEED_VAR) {
        None => Vec::new(),
        Some(seed) => vec![
            seed.into_string()
                .map_err(|seed: OsString| BenchError::peer(format!("has a seed {seed:?}")))?,
        ],
    };
    let system = System::new();
    let served = (|| {
        // Subscribed before the node is built, so that no change is missed; stamped on the
        // membership thread as it publishes, so that the time a line takes to reach the
        // measuring process does not count.
        let (changes_tx, changes) = crossbeam_channel::unbounded::<Stamped>();
        let subscription = system
            .exchange::<ClusterMember>(MEMBERS_EXCHANGE)?
            .subscribe(from_fn(move |_: &str, member: ClusterMember| {
                let _ = changes_tx.send((now_ns(), member));
            }));
        let node = Node::builder(key.secret()?)
            .name("actor-bench-w8")
            .listen("127.0.0.1:0")
            .join(seeds)
            .cluster_settings(super::settings::from_env()?)
            .system(&system)
            .build()?;
        let reported = announce(&node).and_then(|()| {
            // Started after the first line, so that it comes first; the changes published
            // meanwhile wait in the channel.
            let writer = thread::Builder::new()
                .name("w8-changes".into())
                .spawn(move || write_changes(&changes))?;
            Ok((writer, answer_requests(&node)))
        });
        // On every path: the node leaves and its membership thread ends; then the
        // subscription goes, and with it the changes' sender, which ends the writer.
        node.shutdown();
        drop(subscription);
        let (writer, answered) = reported?;
        let written = wait::join(writer, "the change writer")?;
        answered.and(written)
    })();
    system.shutdown();
    served
}

/// Writes the node's first line: its id and address.
fn announce(node: &Node) -> BenchResult<()> {
    let (id, addr) = node
        .node_id()
        .zip(node.local_addr())
        .ok_or_else(|| BenchError::peer("built a node that is no cluster member"))?;
    write_line(Line::Started { id, addr })
}

/// Writes each change until the channel closes.
fn write_changes(changes: &Receiver<Stamped>) -> BenchResult<()> {
    for (at_ns, member) in changes {
        write_line(Line::Change {
            at_ns: at_ns?,
            member,
        })?;
    }
    Ok(())
}

/// Answers each [`TRAFFIC_REQUEST`] on stdin until it ends.
fn answer_requests(node: &Node) -> BenchResult<()> {
    for request in std::io::stdin().lock().lines() {
        let request = request?;
        if request != TRAFFIC_REQUEST {
            return Err(BenchError::peer(format!("was asked {request:?}")));
        }
        let (sent, received, refused) = node.membership_traffic();
        write_line(Line::Traffic(Traffic {
            at_ns: now_ns()?,
            sent,
            received,
            refused,
        }))?;
    }
    Ok(())
}

/// Writes `line` whole: the change writer and the request loop share stdout.
fn write_line(line: Line) -> BenchResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
