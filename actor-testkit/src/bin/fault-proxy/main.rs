//! `fault-proxy`: a TCP or UDP proxy that injects delay, loss and blackholes, for scripts.
//!
//! ```text
//! fault-proxy --tcp --listen 10.231.7.13:0 --upstream 10.231.7.12:7700 --delay-ms 50
//! fault-proxy --udp --upstream 127.0.0.1:7007 --drop 0.1 --seed 7
//! ```
//!
//! The first line of standard output is the address the proxy listens on (useful with port
//! 0). Then each line on standard input changes a fault and is answered with one line on
//! standard output (`ok ...` or `error ...`; see `control.rs`). The proxy runs until SIGTERM,
//! SIGINT or the end of standard input, then stops its threads and exits with code 0. An
//! error is one line on standard error, `fault-proxy: ...` with its causes, and exit code 1;
//! a command line that cannot be parsed gives exit code 2.

mod control;

use std::error::Error;
use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use actor_testkit::{FaultProxy, Protocol};
use clap::{ArgGroup, Parser};
use crossbeam_channel::{Receiver, Sender};

use crate::control::CONTROL_HELP;

/// A TCP or UDP proxy that injects delay, loss and blackholes, for tests.
///
/// Prints the address it listens on as the first line of standard output, then takes fault
/// changes as lines on standard input.
#[derive(Debug, Parser)]
#[command(name = "fault-proxy", version, after_help = CONTROL_HELP)]
#[command(group(ArgGroup::new("protocol").required(true).args(["tcp", "udp"])))]
struct Cli {
    /// Proxy TCP connections
    #[arg(long)]
    tcp: bool,
    /// Proxy UDP datagrams
    #[arg(long)]
    udp: bool,
    /// Where to listen, as IP:PORT (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where to forward, as IP:PORT
    #[arg(long, value_name = "ADDR")]
    upstream: SocketAddr,
    /// One-way delay of both directions, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    delay_ms: u64,
    /// Probability of dropping each UDP datagram, from 0 to 1
    #[arg(long, value_name = "P", default_value_t = 0.0, conflicts_with = "tcp")]
    drop: f64,
    /// Seed of the drop decisions: the same seed drops the same datagrams
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Start with the blackhole on
    #[arg(long)]
    blackhole: bool,
    /// Bytes each delay queue may hold
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_queued_bytes: u64,
    /// TCP connections open at once, or UDP client addresses with a flow of their own
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_clients: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut line = format!("fault-proxy: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                line.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{line}");
            ExitCode::FAILURE
        }
    }
}

/// What the main loop waits for.
enum Event {
    /// A control line.
    Line(String),
    /// Standard input ended.
    Eof,
    /// SIGTERM or SIGINT.
    Signal,
}

fn run(cli: &Cli) -> Result<(), Box<dyn Error>> {
    let protocol = if cli.tcp {
        Protocol::Tcp
    } else {
        Protocol::Udp
    };
    let proxy = FaultProxy::builder(protocol, cli.upstream)
        .listen(cli.listen)
        .delay(Duration::from_millis(cli.delay_ms))
        .drop_probability(cli.drop)
        .seed(cli.seed)
        .blackhole(cli.blackhole)
        .max_queued_bytes(usize::try_from(cli.max_queued_bytes).unwrap_or(usize::MAX))
        .max_clients(usize::try_from(cli.max_clients).unwrap_or(usize::MAX))
        .build()?;
    // Standard output is line-buffered: each line reaches a pipe or a file as it is written.
    let mut out = io::stdout();
    writeln!(out, "{}", proxy.local_addr())?;

    let (events, received) = crossbeam_channel::bounded(16);
    read_stdin(events.clone())?;
    let signals = Signals::catch(events)?;
    let ended = serve(&proxy, &received, &mut out);
    proxy.stop();
    signals.close();
    ended
}

/// Answers control lines until standard input ends or a signal comes.
fn serve(
    proxy: &FaultProxy,
    events: &Receiver<Event>,
    out: &mut impl Write,
) -> Result<(), Box<dyn Error>> {
    loop {
        match events.recv() {
            Ok(Event::Line(line)) => writeln!(out, "{}", control::apply(&line, proxy))?,
            Ok(Event::Eof | Event::Signal) | Err(_) => return Ok(()),
        }
    }
}

/// Sends each line of standard input, then [`Event::Eof`], from a thread of its own.
///
/// That thread is not joined: a read from standard input cannot be interrupted, and the
/// process exits right after the proxy has stopped, which ends it.
fn read_stdin(events: Sender<Event>) -> io::Result<()> {
    thread::Builder::new()
        .name("fault-proxy-stdin".into())
        .spawn(move || {
            for line in io::stdin().lock().split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line).into_owned();
                if events.send(Event::Line(line)).is_err() {
                    return;
                }
            }
            let _ = events.send(Event::Eof);
        })?;
    Ok(())
}

/// SIGTERM and SIGINT, caught by a thread that turns them into [`Event::Signal`].
struct Signals {
    #[cfg(unix)]
    handle: signal_hook::iterator::Handle,
    #[cfg(unix)]
    thread: thread::JoinHandle<()>,
}

#[cfg(unix)]
impl Signals {
    fn catch(events: Sender<Event>) -> io::Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        let handle = signals.handle();
        let thread = thread::Builder::new()
            .name("fault-proxy-signals".into())
            .spawn(move || {
                // Ends at the first signal, or when `close` ends the iterator.
                if signals.forever().next().is_some() {
                    let _ = events.send(Event::Signal);
                }
            })?;
        Ok(Signals { handle, thread })
    }

    /// Stops catching and joins the thread.
    fn close(self) {
        self.handle.close();
        let _ = self.thread.join();
    }
}

#[cfg(not(unix))]
impl Signals {
    /// Nothing to catch here: Ctrl-C ends the process as it always has.
    fn catch(_events: Sender<Event>) -> io::Result<Signals> {
        Ok(Signals {})
    }

    fn close(self) {}
}
