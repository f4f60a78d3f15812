//! `actor-node call`: asks the echo or time actor of a node, and prints the answer.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use actor_core::{ActorRef, Escaped};
use actor_net::cluster::{CLUSTER, ClusterMsg};
use actor_net::services::{self, EchoMsg, TimeMsg};
use actor_net::{NetError, Node, RemoteMessage};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::error::CliError;
use crate::key::{KEY_HELP, KeyArgs};

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The address of the node to call
    #[arg(value_name = "ADDR")]
    addr: String,
    /// The name the actor is exported under, if not `echo` or `time`. When the node does not
    /// export it but is a cluster member, the member that does is asked
    #[arg(long = "as", value_name = "NAME", global = true)]
    name: Option<String>,
    #[command(subcommand)]
    actor: CallActor,
    #[command(flatten)]
    client: ClientArgs,
}

/// What a command that only connects to a node takes: how long it may wait, and the key.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// How long to wait for the connection, for the handshake and for the answer
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    timeout: u64,
    #[command(flatten)]
    key: KeyArgs,
}

impl ClientArgs {
    /// A node that only connects, with its connecting, handshake and lookups each bounded by
    /// the timeout, and the moment the whole command's answer is due.
    ///
    /// Connecting and the handshake are each bounded by the timeout (the node's own handshake
    /// limit, 5 s, is longer than a short `--timeout`), and an answer is awaited only for what
    /// is left of it from the start. A server that answers each step just in time can still
    /// stretch a command past the timeout, to at most a few times it, never without bound.
    pub(crate) fn connect(&self) -> Result<(Node, Instant), CliError> {
        let timeout = Duration::from_secs(self.timeout);
        let deadline = Instant::now() + timeout;
        let node = Node::builder(self.key.secret()?)
            .encryption(self.key.encryption())
            .name(format!("actor-node-client-{}", std::process::id()))
            .connect_timeout(timeout)
            .handshake_timeout(timeout)
            .request_timeout(timeout)
            .build()
            .map_err(|e| CliError::Client(Box::new(e)))?;
        Ok((node, deadline))
    }
}

#[derive(Debug, Subcommand)]
enum CallActor {
    /// Ask the `echo` actor to send TEXT back, and print what it sends.
    #[command(after_help = KEY_HELP)]
    Echo {
        /// The text to send
        #[arg(allow_hyphen_values = true)]
        text: String,
    },
    /// Ask the `time` actor for the time, and print its local time and the seconds since the
    /// Unix epoch.
    #[command(after_help = KEY_HELP)]
    Time,
}

/// The actor exported as `name` at `addr`; if that node does not export it, the one that the
/// member at `addr` says owns `name` in its cluster.
fn find<M>(node: &Node, addr: &str, name: &str, wait: Duration) -> Result<ActorRef<M>, CliError>
where
    M: RemoteMessage + Serialize + Send + 'static,
{
    let lookup_error = |at: &str| {
        let at = at.to_owned();
        move |source| CliError::Lookup {
            actor: name.to_owned(),
            addr: at,
            source: Box::new(source),
        }
    };
    let not_found = match node.lookup::<M>(addr, name) {
        Ok(actor) => return Ok(actor),
        Err(error @ NetError::NotFound { .. }) => error,
        Err(error) => return Err(lookup_error(addr)(error)),
    };
    // Not exported there: a cluster member knows where it is, if anywhere.
    let owner = node
        .lookup::<ClusterMsg>(addr, CLUSTER)
        .ok()
        .and_then(|cluster| {
            cluster
                .ask(|reply| ClusterMsg::Whereis(name.to_owned(), reply), wait)
                .ok()
        })
        .flatten();
    match owner {
        Some((_, owner)) => node
            .lookup::<M>(owner, name)
            .map_err(lookup_error(&owner.to_string())),
        None => Err(lookup_error(addr)(not_found)),
    }
}

/// Connects to the node, asks the chosen actor, and prints its answer on one line, with its
/// control characters escaped.
pub(crate) fn call(args: CallArgs) -> Result<(), CliError> {
    let (node, deadline) = args.client.connect()?;
    let left = || deadline.saturating_duration_since(Instant::now());
    let addr = args.addr.as_str();
    let ask_error = |actor: &str| {
        let actor = actor.to_owned();
        move |source| CliError::Ask { actor, source }
    };
    let line = match args.actor {
        CallActor::Echo { text } => {
            let name = args.name.as_deref().unwrap_or(services::ECHO);
            let echo = find::<EchoMsg>(&node, addr, name, left())?;
            let echoed = echo
                .ask(|reply| EchoMsg::Echo(text.into_bytes(), reply), left())
                .map_err(ask_error(name))?;
            String::from_utf8_lossy(&echoed).into_owned()
        }
        CallActor::Time => {
            let name = args.name.as_deref().unwrap_or(services::TIME);
            let time = find::<TimeMsg>(&node, addr, name, left())?;
            let now = time.ask(TimeMsg::Now, left()).map_err(ask_error(name))?;
            format!(
                "{} ({}.{:09} s since the Unix epoch)",
                now.local, now.secs, now.nanos
            )
        }
    };
    node.shutdown();
    // The answer is the server's text: its control characters are shown escaped, so that it
    // cannot send escape codes to the terminal or forge lines.
    writeln!(io::stdout().lock(), "{}", Escaped(&line))?;
    Ok(())
}
