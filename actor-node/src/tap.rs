//! `actor-node tap`: prints what a node publishes on its exchanges matching a pattern, as the
//! `Debug` text the node sends for taps, numbered, until interrupted or after `--count`
//! messages.

use std::io::{self, Write};

use actor_core::{Escaped, from_fn};
use clap::Args;
use crossbeam_channel::select;

use crate::call::ClientArgs;
use crate::error::CliError;
use crate::stop_signals::StopSignals;

#[derive(Debug, Args)]
pub(crate) struct TapArgs {
    /// The address of the node to watch
    #[arg(value_name = "ADDR")]
    addr: String,
    /// The exchanges to watch: a name, or a pattern such as 'system.>' or 'orders.*'
    #[arg(value_name = "PATTERN")]
    pattern: String,
    /// Print one JSON object per line: {"seq":N,"exchange":"...","message":"..."}
    #[arg(long)]
    json: bool,
    /// Exit after N messages
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    #[command(flatten)]
    client: ClientArgs,
}

/// One message as the tap prints it with `--json`.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    seq: u64,
    exchange: &'a str,
    message: &'a str,
}

/// Subscribes to the node's exchanges matching the pattern and prints each message until
/// SIGINT or SIGTERM, `--count` messages, or the loss of the connection (an error).
pub(crate) fn tap(args: TapArgs) -> Result<(), CliError> {
    let mut signals = StopSignals::catch().map_err(CliError::Signals)?;
    let (stop, stopped) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        signals.wait();
        let _ = stop.send(());
    });
    let (node, _) = args.client.connect()?;
    // The node drops this subscriber when the connection closes: the channel disconnects.
    let (tx, messages) = crossbeam_channel::unbounded::<(String, String)>();
    let subscriber = from_fn(move |exchange: &str, text: String| {
        let _ = tx.send((exchange.to_owned(), text));
    });
    let guard = node
        .subscribe_text(args.addr.as_str(), &args.pattern, subscriber)
        .map_err(|source| CliError::Subscribe {
            addr: args.addr.clone(),
            pattern: args.pattern.clone(),
            source: Box::new(source),
        })?;
    tracing::info!(addr = %args.addr, pattern = %Escaped(&args.pattern), "tapping");
    let mut seq = 0;
    let ended = loop {
        if args.count.is_some_and(|count| seq >= count) {
            break Ok(());
        }
        select! {
            recv(messages) -> message => match message {
                Ok((exchange, text)) => {
                    seq += 1;
                    match print(seq, &exchange, &text, args.json) {
                        Ok(()) => {}
                        // A reader that went away (`| head`) ends the tap, not in error.
                        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => break Ok(()),
                        Err(error) => break Err(error.into()),
                    }
                }
                Err(_) => break Err(CliError::Lost(args.addr.clone())),
            },
            recv(stopped) -> _ => break Ok(()),
        }
    };
    drop(guard);
    node.shutdown();
    ended
}

/// Prints one message as the numbered printer does (`msg[N]: EXCHANGE: TEXT`, the node's
/// text with its control characters escaped), or as one JSON object; flushed at once, so that
/// a pipe sees each line as it comes.
fn print(seq: u64, exchange: &str, text: &str, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        let line = JsonLine {
            seq,
            exchange,
            message: text,
        };
        serde_json::to_writer(&mut out, &line)?;
        writeln!(out)?;
    } else {
        writeln!(out, "msg[{seq}]: {}: {}", Escaped(exchange), Escaped(text))?;
    }
    out.flush()
}
