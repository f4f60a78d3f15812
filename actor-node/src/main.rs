//! `actor-node`: serves a node with the echo and time actors and the classic listeners, calls
//! the actors of such a node, or taps its exchanges.
//!
//! ```text
//! actor-node serve --listen 127.0.0.1:7700 --secret-file node.key --daytime-tcp 127.0.0.1:1313
//! actor-node call 127.0.0.1:7700 echo hello --secret-file node.key
//! actor-node call 127.0.0.1:7700 time --secret-file node.key
//! actor-node tap 127.0.0.1:7700 'system.>' --secret-file node.key
//! actor-node keygen node.key
//! ```
//!
//! `keygen FILE` writes a new random key to FILE (mode 0600 on Unix), never over an existing
//! file; the key must be random, since one handshake lets anyone test guesses offline.
//!
//! `tap ADDR PATTERN` prints every message the node publishes on its exchanges matching
//! PATTERN, numbered, as the `Debug` text the node sends for taps (`msg[1]: system.net:
//! Connected { .. }`), until SIGINT or SIGTERM; `--json` prints one JSON object per line
//! instead, `--count N` exits after N messages.
//!
//! Every command that talks to a node takes `--encrypt off|preferred|required` (by default,
//! `preferred`): sessions are encrypted unless one side has encryption off, and a side that
//! requires it refuses a peer that has it off, with an error that names both settings.
//!
//! `serve` prints the node's address as the first line of its standard output, then one line
//! `PROTOCOL ADDRESS` per classic listener, so that a script can use port 0 everywhere. It
//! runs until SIGTERM or SIGINT (Ctrl-C); then it says GOODBYE to every peer node, so that
//! their monitors of its actors see them stop rather than the connection fail, and exits with
//! code 0.
//!
//! Logs go to standard error through `tracing`; `RUST_LOG` sets the level (by default,
//! `info`). An error is one line on standard error, `actor-node: ...` with its causes, and
//! exit code 1; a command line that cannot be parsed gives exit code 2.

mod call;
mod error;
mod key;
mod keygen;
mod members;
mod serve;
mod stop_signals;
mod tap;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use actor_core::{ErrorChain, Escaped};
use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use crate::call::{CallArgs, call};
use crate::key::KEY_HELP;
use crate::keygen::{KeygenArgs, keygen};
use crate::members::{MembersArgs, members};
use crate::serve::{ServeArgs, serve};
use crate::tap::{TapArgs, tap};

/// Serve or call remote actors over HMAC-authenticated TCP, and make their shared keys.
#[derive(Debug, Parser)]
#[command(name = "actor-node", version, after_help = KEY_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a node exporting the `echo` and `time` actors, and the chosen classic listeners.
    ///
    /// The first line of standard output is the node's address; then one line
    /// `PROTOCOL ADDRESS` per classic listener (useful with port 0). Runs until SIGTERM or
    /// SIGINT (Ctrl-C), then says goodbye to its peers and exits with code 0.
    #[command(after_help = KEY_HELP)]
    Serve(Box<ServeArgs>),
    /// Call the `echo` or `time` actor of a node and print the answer.
    #[command(after_help = KEY_HELP)]
    Call(CallArgs),
    /// Write a new random key to FILE, readable and writable by its owner only.
    ///
    /// The key is 32 bytes from the operating system's random source. FILE must not exist:
    /// a key is never written over a file.
    #[command(after_help = KEY_HELP)]
    Keygen(KeygenArgs),
    /// Print the members of a node's cluster, one per line: `<node id> <address> <state>`,
    /// the state one of `up`, `suspect`, `down`, `left`; the asked node comes first.
    #[command(after_help = KEY_HELP)]
    Members(MembersArgs),
    /// Print what a node publishes on its exchanges matching PATTERN (such as 'system.>'),
    /// numbered, until interrupted.
    ///
    /// Each message is one line, `msg[N]: EXCHANGE: TEXT`, TEXT being the `Debug` text that
    /// the node sends for taps, with control characters escaped. A node shows its own events
    /// (`system.*`: who connects, actors started and stopped, ...) and the types its program
    /// shows or shares. The tap ends with exit code 0 on SIGINT or SIGTERM, or after --count
    /// messages; with exit code 1 if the connection is lost.
    #[command(after_help = KEY_HELP)]
    Tap(TapArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    init_logging();
    let result = match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Call(args) => call(args),
        Command::Keygen(args) => keygen(args),
        Command::Members(args) => members(args),
        Command::Tap(args) => tap(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // An error may carry a peer's text (a remote failure): escaped, it stays one line.
            eprintln!("actor-node: {}", Escaped(ErrorChain(&error)));
            ExitCode::FAILURE
        }
    }
}

/// Prints help or the version as asked, or a command-line error as one line (exit code 2).
fn usage_error(error: &clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(2)
        }
        _ => {
            // clap's message, up to its usage section, on one line.
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("actor-node: {message} (see --help)");
            ExitCode::from(2)
        }
    }
}

/// Logs to standard error, at the level `RUST_LOG` sets (by default, info).
fn init_logging() {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .from_env_lossy();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}
