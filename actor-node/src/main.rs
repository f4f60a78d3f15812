//! `actor-node`: serves a node with the echo and time actors and the classic listeners, or
//! calls the actors of such a node.
//!
//! ```text
//! actor-node serve --listen 127.0.0.1:7700 --secret-file node.key --daytime-tcp 127.0.0.1:1313
//! actor-node call 127.0.0.1:7700 echo hello --secret-file node.key
//! actor-node call 127.0.0.1:7700 time --secret-file node.key
//! ```
//!
//! `serve` prints the node's address as the first line of its standard output, then one line
//! `PROTOCOL ADDRESS` per classic listener, so that a script can use port 0 everywhere. It
//! runs until it is stopped (Ctrl-C, or a signal).
//!
//! Logs go to standard error through `tracing`; `RUST_LOG` sets the level (by default,
//! `info`). An error is one line on standard error, `actor-node: ...` with its causes, and
//! exit code 1; a command line that cannot be parsed gives exit code 2.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use actor_core::{AskError, System};
use actor_net::services::{self, EchoMsg, Protocol, ServiceError, ServiceSet, TimeMsg};
use actor_net::{NetError, Node, Secret, SecretError};
use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The environment variable naming the key file, when `--secret-file` is not given.
const SECRET_FILE_VAR: &str = "ACTOR_SECRET_FILE";
/// The environment variable holding the key itself, when no key file is named.
const SECRET_VAR: &str = "ACTOR_SECRET";

const KEY_HELP: &str = "\
The shared key (at least 16 bytes) is read from --secret-file FILE; without it, from the file \
named by the ACTOR_SECRET_FILE environment variable; without that, from the value of the \
ACTOR_SECRET environment variable. One trailing line ending of a key file is not part of the \
key. Only nodes with the same key can talk to each other.

Logs go to standard error; RUST_LOG sets their level (by default, info).";

/// Serve or call remote actors over HMAC-authenticated TCP.
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
    /// `PROTOCOL ADDRESS` per classic listener (useful with port 0). Runs until stopped
    /// with Ctrl-C or a signal.
    #[command(after_help = KEY_HELP)]
    Serve(ServeArgs),
    /// Call the `echo` or `time` actor of a node and print the answer.
    #[command(after_help = KEY_HELP)]
    Call(CallArgs),
}

#[derive(Debug, Args)]
struct KeyArgs {
    /// The file holding the shared key (see below)
    #[arg(long, value_name = "FILE", env = SECRET_FILE_VAR, global = true)]
    secret_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Where the node listens for other nodes (port 0: any free port)
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// The name the node gives its peers
    #[arg(long, value_name = "NAME", default_value = "actor-node")]
    name: String,
    /// Echo over TCP (RFC 862) on ADDR
    #[arg(long, value_name = "ADDR")]
    echo_tcp: Option<String>,
    /// Echo over UDP (RFC 862) on ADDR
    #[arg(long, value_name = "ADDR")]
    echo_udp: Option<String>,
    /// Daytime over TCP (RFC 867) on ADDR
    #[arg(long, value_name = "ADDR")]
    daytime_tcp: Option<String>,
    /// Daytime over UDP (RFC 867) on ADDR
    #[arg(long, value_name = "ADDR")]
    daytime_udp: Option<String>,
    /// Time over TCP (RFC 868) on ADDR
    #[arg(long, value_name = "ADDR")]
    time_tcp: Option<String>,
    /// Time over UDP (RFC 868) on ADDR
    #[arg(long, value_name = "ADDR")]
    time_udp: Option<String>,
    /// The authenticated echo (HMAC-SHA256 challenge under the shared key) on ADDR
    #[arg(long, value_name = "ADDR")]
    auth_echo: Option<String>,
    /// Live connections allowed per classic TCP listener; the excess is refused
    #[arg(
        long,
        value_name = "N",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    max_connections: u32,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct CallArgs {
    /// The address of the node to call
    #[arg(value_name = "ADDR")]
    addr: String,
    /// How long to wait for the connection and for the answer
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

/// What can go wrong, as told to the user.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("no shared key: give --secret-file FILE, or set {SECRET_FILE_VAR} or {SECRET_VAR}")]
    NoKey,
    #[error("unusable shared key")]
    Key(#[source] SecretError),
    // `NetError` is large: boxed, so that every `Result` here stays small.
    #[error("cannot start the node on {addr}")]
    Node {
        addr: String,
        #[source]
        source: Box<NetError>,
    },
    #[error("cannot start the client node")]
    Client(#[source] Box<NetError>),
    #[error("cannot start the services")]
    Services(#[from] ServiceError),
    #[error("cannot export the services")]
    Export(#[source] Box<NetError>),
    #[error("cannot reach the {actor} actor at {addr}")]
    Lookup {
        actor: &'static str,
        addr: String,
        #[source]
        source: Box<NetError>,
    },
    #[error("the {actor} actor did not answer")]
    Ask {
        actor: &'static str,
        #[source]
        source: AskError,
    },
    #[error("cannot write to standard output")]
    Output(#[from] io::Error),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    init_logging();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Call(args) => call(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actor-node: {}", with_causes(&error));
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

/// The error and its causes on one line: `error: cause: cause`.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// The shared key, from the first of: `--secret-file` (or `ACTOR_SECRET_FILE`, which clap
/// reads into the same option), `ACTOR_SECRET`.
fn secret(key: &KeyArgs) -> Result<Secret, CliError> {
    match &key.secret_file {
        Some(path) => Secret::from_file(path).map_err(CliError::Key),
        None => match Secret::from_env(SECRET_VAR) {
            Ok(secret) => Ok(secret),
            Err(SecretError::NotSet { .. }) => Err(CliError::NoKey),
            Err(error) => Err(CliError::Key(error)),
        },
    }
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    let secret = secret(&args.key)?;
    let listeners = [
        (Protocol::EchoTcp, args.echo_tcp),
        (Protocol::EchoUdp, args.echo_udp),
        (Protocol::DaytimeTcp, args.daytime_tcp),
        (Protocol::DaytimeUdp, args.daytime_udp),
        (Protocol::TimeTcp, args.time_tcp),
        (Protocol::TimeUdp, args.time_udp),
        (Protocol::AuthEcho, args.auth_echo),
    ];
    let mut builder = ServiceSet::builder()
        // The authenticated echo's clients prove they hold the node's key.
        .secret(secret.clone())
        .max_connections(args.max_connections as usize);
    for (protocol, addr) in listeners {
        if let Some(addr) = addr {
            builder = builder.listen(protocol, addr);
        }
    }
    let node = Node::builder(secret)
        .name(args.name)
        .listen(args.listen.clone())
        .build()
        .map_err(|source| CliError::Node {
            addr: args.listen,
            source: Box::new(source),
        })?;
    let system = System::new();
    let services = builder.build(&system)?;
    services
        .export(&node)
        .map_err(|e| CliError::Export(Box::new(e)))?;
    let node_addr = node
        .local_addr()
        .expect("invariant: a node built with an address listens");

    let mut out = io::stdout().lock();
    writeln!(out, "{node_addr}")?;
    for (protocol, addr) in services.listeners() {
        writeln!(out, "{protocol} {addr}")?;
    }
    out.flush()?;
    drop(out);
    tracing::info!(addr = %node_addr, "serving the echo and time actors; stop with Ctrl-C");
    // Serves until the process is stopped: the operating system closes every socket then.
    loop {
        std::thread::park();
    }
}

fn call(args: CallArgs) -> Result<(), CliError> {
    let timeout = Duration::from_secs(args.timeout);
    let node = Node::builder(secret(&args.key)?)
        .name(format!("actor-node-call-{}", std::process::id()))
        .connect_timeout(timeout)
        .request_timeout(timeout)
        .build()
        .map_err(|e| CliError::Client(Box::new(e)))?;
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
                .ask(|reply| EchoMsg::Echo(text.into_bytes(), reply), timeout)
                .map_err(ask_error(services::ECHO))?;
            String::from_utf8_lossy(&echoed).into_owned()
        }
        CallActor::Time => {
            let time = node
                .lookup::<TimeMsg>(addr, services::TIME)
                .map_err(lookup_error(services::TIME))?;
            let now = time
                .ask(TimeMsg::Now, timeout)
                .map_err(ask_error(services::TIME))?;
            format!(
                "{} ({}.{:09} s since the Unix epoch)",
                now.local, now.secs, now.nanos
            )
        }
    };
    node.shutdown();
    writeln!(io::stdout().lock(), "{line}")?;
    Ok(())
}
