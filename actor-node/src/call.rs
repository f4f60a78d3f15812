//! `actor-node call`: asks the echo or time actor of a node, and prints the answer.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use actor_core::Escaped;
use actor_net::Node;
use actor_net::services::{self, EchoMsg, TimeMsg};
use clap::{Args, Subcommand};

use crate::error::CliError;
use crate::key::{KEY_HELP, KeyArgs};

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The address of the node to call
    #[arg(value_name = "ADDR")]
    addr: String,
    /// How long to wait for the connection, for the handshake and for the answer
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    timeout: u64,
    #[command(subcommand)]
    actor: CallActor,
    #[command(flatten)]
    key: KeyArgs,
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

/// A node that only connects, with its connecting, handshake and lookups each bounded by
/// `timeout`.
pub(crate) fn client_node(key: &KeyArgs, timeout: Duration) -> Result<Node, CliError> {
    Node::builder(key.secret()?)
        .name(format!("actor-node-client-{}", std::process::id()))
        .connect_timeout(timeout)
        .handshake_timeout(timeout)
        .request_timeout(timeout)
        .build()
        .map_err(|e| CliError::Client(Box::new(e)))
}

/// Connects to the node, asks the chosen actor, and prints its answer on one line, with its
/// control characters escaped.
pub(crate) fn call(args: CallArgs) -> Result<(), CliError> {
    let timeout = Duration::from_secs(args.timeout);
    // Connecting and the handshake are each bounded by the timeout (the node's own handshake
    // limit, 5 s, is longer than a short `--timeout`), and the answer is awaited only for what
    // is left of it from the start. A server that answers each step just in time can still
    // stretch a call past the timeout, to at most a few times it, never without bound.
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let node = client_node(&args.key, timeout)?;
    let addr = args.addr.as_str();
    let lookup_error = |actor| {
        move |source| CliError::Lookup {
            actor,
            addr: addr.to_string(),
            source: Box::new(source),
        }
    };
    let ask_error = |actor| move |source| CliError::Ask { actor, source };
    let line = match args.actor {
        CallActor::Echo { text } => {
            let echo = node
                .lookup::<EchoMsg>(addr, services::ECHO)
                .map_err(lookup_error(services::ECHO))?;
            let echoed = echo
                .ask(|reply| EchoMsg::Echo(text.into_bytes(), reply), left())
                .map_err(ask_error(services::ECHO))?;
            String::from_utf8_lossy(&echoed).into_owned()
        }
        CallActor::Time => {
            let time = node
                .lookup::<TimeMsg>(addr, services::TIME)
                .map_err(lookup_error(services::TIME))?;
            let now = time
                .ask(TimeMsg::Now, left())
                .map_err(ask_error(services::TIME))?;
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
