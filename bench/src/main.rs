//! The benchmark binary: one measurement per run, printed as `RESULT` lines.
//!
//! ```text
//! actor-bench <workload> <variant> [--n N]   one measurement
//! actor-bench list                           every (workload, variant), one a line
//! actor-bench baselines                      each framework variant and its raw baseline
//! ```
//!
//! Every workload of `shared/BENCH-WORKLOADS.md` is measured twice: through the framework
//! (`actor`) and through the raw mechanism it stands on (`raw`), so that each framework
//! figure is read as a ratio to a baseline measured on the same machine in the same driver
//! run (`bench/run.sh`). Output, one line per figure, tab-separated:
//!
//! ```text
//! RESULT  <system>  <workload>  <variant>  <metric>  <value>  <unit>
//! ```
//!
//! A failed run (a correctness check that did not hold included) prints no `RESULT` line
//! and exits non-zero; a usage error exits with 2.
//!
//! The remote workloads (W4, W5, W9) and the raw process round trip (`micro process-echo`)
//! measure from this process against a second one: the binary runs itself as
//! `actor-bench serve <workload> <variant> --n N`, a command for that purpose only, left out
//! of the usage text (see `peer.rs` for the protocol of W4, W5 and W9,
//! `micro/process_echo.rs` for the echo's). W7 (pub/sub across nodes) starts two such
//! processes, which subscribe to the measuring process's node (see `w7_pubsub.rs`). W8 (the
//! cluster) starts 5 or 16 member processes the same way, `actor-bench serve W8 <variant>`
//! (see `w8_cluster.rs`), and prints the cluster's settings beside its figures on a
//! `SETTINGS` line. W9 (a hostile peer) floods its serving process's node and watches that
//! process's memory (see `w9_hostile.rs`). The process pool's workers (`micro
//! process-pool`) are this binary too, started by the pool: `main` hands such a process to
//! the pool's worker loop before anything else.

mod catalog;
mod error;
mod frame_batch;
mod frame_chunks;
mod incrementer;
mod micro;
mod peer;
mod record;
mod report;
mod rss;
mod run_key;
mod server;
mod summer;
mod tally;
mod w1_tell;
mod w2_ask;
mod w3_fanout;
mod w4_remote_tell;
mod w5_remote_ask;
mod w6_dispatcher;
mod w6_spawn;
mod w7_pubsub;
#[cfg(unix)]
mod w8_cluster;
mod w9_hostile;
mod wait;

use std::error::Error;
use std::io::Write as _;
use std::process::ExitCode;

use actor_core::ErrorChain;

use crate::catalog::{CATALOG, Measurement, Subject};
use crate::error::{BenchError, BenchResult};

const USAGE: &str = "\
usage: actor-bench <workload> <variant> [--n N]
       actor-bench list
       actor-bench baselines";

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Help,
    List,
    Baselines,
    Run {
        measurement: &'static Measurement,
        n: u64,
    },
    /// Be the serving process of a two-process measurement.
    Serve {
        serve: fn(u64) -> BenchResult<()>,
        n: u64,
    },
}

fn main() -> ExitCode {
    // First: in a worker process of the process pool this serves calls and exits; anywhere
    // else it returns at once.
    let (functions, _) = micro::process_pool::functions();
    functions.serve_if_worker();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(execute) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let usage = matches!(error.downcast_ref(), Some(BenchError::Usage(_)));
            eprintln!("actor-bench: {}", ErrorChain(&*error));
            if usage {
                eprintln!("{USAGE}");
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn usage(what: impl Into<String>) -> Box<dyn Error + Send + Sync> {
    Box::new(BenchError::Usage(what.into()))
}

fn parse(args: &[String]) -> BenchResult<Command> {
    match args {
        [] => Err(usage("no workload given")),
        [cmd] if matches!(cmd.as_str(), "help" | "-h" | "--help") => Ok(Command::Help),
        [cmd] if cmd == "list" => Ok(Command::List),
        [cmd] if cmd == "baselines" => Ok(Command::Baselines),
        [cmd, workload, variant, options @ ..] if cmd == peer::SERVE => {
            let measurement = find(workload, variant)?;
            let serve = measurement.serve.ok_or_else(|| {
                usage(format!(
                    "{workload} {variant} runs in one process: nothing to serve"
                ))
            })?;
            let n = parse_n(options)?.unwrap_or(measurement.default_n);
            Ok(Command::Serve { serve, n })
        }
        [workload, variant, options @ ..] => {
            let measurement = find(workload, variant)?;
            let n = parse_n(options)?.unwrap_or(measurement.default_n);
            Ok(Command::Run { measurement, n })
        }
        [other] => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn find(workload: &str, variant: &str) -> BenchResult<&'static Measurement> {
    catalog::find(workload, variant).ok_or_else(|| {
        usage(format!(
            "no measurement {workload} {variant} (see `actor-bench list`)"
        ))
    })
}

/// `--n N` or `--n=N`, with `_` allowed as a digit separator; `N` at least 1.
fn parse_n(options: &[String]) -> BenchResult<Option<u64>> {
    let value = match options {
        [] => return Ok(None),
        [flag, value] if flag == "--n" => value.as_str(),
        [flag] if flag.starts_with("--n=") => &flag["--n=".len()..],
        _ => return Err(usage(format!("unexpected arguments {options:?}"))),
    };
    match value.replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(usage(format!(
            "--n wants a whole number of at least 1, not {value:?}"
        ))),
    }
}

fn execute(command: Command) -> BenchResult<()> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Help => writeln!(out, "{USAGE}")?,
        Command::List => {
            for m in CATALOG {
                writeln!(out, "{}\t{}", m.workload, m.variant)?;
            }
        }
        Command::Baselines => {
            for m in CATALOG.iter().filter(|m| m.subject == Subject::Actor) {
                if let Some(baseline) = m.baseline {
                    writeln!(out, "{}\t{}\t{baseline}", m.workload, m.variant)?;
                }
            }
        }
        Command::Run { measurement, n } => {
            let samples = (measurement.run)(n)?;
            let lines = report::result_lines(
                measurement.subject.name(),
                measurement.workload,
                measurement.variant,
                &samples,
            )?;
            out.write_all(lines.as_bytes())?;
            if let Some(settings) = measurement.settings {
                let line =
                    report::settings_line(measurement.workload, measurement.variant, &settings());
                out.write_all(line.as_bytes())?;
            }
        }
        Command::Serve { serve, n } => {
            // The serving process writes to stdout itself, if at all (W4, W5, W7: their address; W8:
            // the member's lines).
            drop(out);
            return serve(n);
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn run_n(line: &str) -> Option<u64> {
        match parse(&args(line)) {
            Ok(Command::Run { n, .. }) => Some(n),
            _ => None,
        }
    }

    #[test]
    fn a_measurement_runs_with_its_default_n_or_the_given_one() {
        assert_eq!(run_n("W1 unbounded"), Some(w1_tell::N));
        assert_eq!(run_n("W1 unbounded --n 10"), Some(10));
        assert_eq!(run_n("W2 crossbeam --n=1_000"), Some(1000));
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for line in [
            "",
            "W1",
            "W1 nope",
            "W1 unbounded --n 0",
            "W1 unbounded --n x",
            "W1 unbounded -x",
        ] {
            let error = parse(&args(line)).expect_err(line);
            assert!(
                matches!(error.downcast_ref(), Some(BenchError::Usage(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn the_serve_command_names_a_two_process_measurement() {
        assert!(matches!(
            parse(&args("serve W4 framed-tcp --n 10")),
            Ok(Command::Serve { n: 10, .. })
        ));
        assert!(matches!(
            parse(&args("serve micro process-echo --n 10")),
            Ok(Command::Serve { n: 10, .. })
        ));
        assert!(matches!(
            parse(&args("serve W5 ask")),
            Ok(Command::Serve {
                n: w5_remote_ask::N,
                ..
            })
        ));
        for line in [
            "serve W1 unbounded",
            "serve W4 nope",
            "serve W4",
            "serve micro process-pool",
        ] {
            let error = parse(&args(line)).expect_err(line);
            assert!(
                matches!(error.downcast_ref(), Some(BenchError::Usage(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn listing_commands_parse() {
        assert!(matches!(parse(&args("list")), Ok(Command::List)));
        assert!(matches!(parse(&args("baselines")), Ok(Command::Baselines)));
        assert!(matches!(parse(&args("--help")), Ok(Command::Help)));
    }
}
