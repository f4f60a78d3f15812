//! The control lines `fault-proxy` reads on its standard input, each answered with one line:
//! `ok ...` with the setting now in force, or `error ...`.

use std::fmt::Write as _;
use std::time::Duration;

use actor_testkit::{Direction, FaultProxy, ProbabilityError, Protocol, ProxyStats};

/// What the control lines can say, for `--help`.
pub(crate) const CONTROL_HELP: &str = "\
Control lines on standard input, each answered with one line on standard output
(`ok ...` or `error ...`):
  delay MS                 one-way delay of both directions, in milliseconds
  delay to-upstream MS     delay of what goes from the clients to the upstream
  delay to-client MS       delay of what comes back
  drop P                   drop each UDP datagram with probability P (0 to 1)
  blackhole on|off         discard everything both ways; TCP connections stay open
  stats                    the counters, as key=value pairs
The proxy runs until SIGTERM, SIGINT, or the end of standard input.";

/// A control line, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Control {
    /// `None`: both directions.
    Delay(Option<Direction>, Duration),
    Drop(f64),
    Blackhole(bool),
    Stats,
}

/// Why a control line was refused.
#[derive(Debug, PartialEq, thiserror::Error)]
pub(crate) enum ControlError {
    #[error("empty line")]
    Empty,
    #[error("unknown command {0:?} (delay, drop, blackhole, stats)")]
    Unknown(String),
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error(transparent)]
    Probability(#[from] ProbabilityError),
    #[error("drop applies to UDP only: a TCP stream cannot lose bytes (use blackhole)")]
    DropOnTcp,
}

/// Parses one control line.
pub(crate) fn parse(line: &str) -> Result<Control, ControlError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => Err(ControlError::Empty),
        ["delay", rest @ ..] => {
            const USAGE: &str = "delay [to-upstream|to-client] MS";
            let (direction, ms) = match rest {
                [ms] => (None, ms),
                ["to-upstream", ms] => (Some(Direction::ToUpstream), ms),
                ["to-client", ms] => (Some(Direction::ToClient), ms),
                _ => return Err(ControlError::Usage(USAGE)),
            };
            let ms: u64 = ms.parse().map_err(|_| ControlError::Usage(USAGE))?;
            Ok(Control::Delay(direction, Duration::from_millis(ms)))
        }
        ["drop", p] => {
            let p: f64 = p
                .parse()
                .map_err(|_| ControlError::Usage("drop P (0 to 1)"))?;
            Ok(Control::Drop(p))
        }
        ["drop", ..] => Err(ControlError::Usage("drop P (0 to 1)")),
        ["blackhole", "on"] => Ok(Control::Blackhole(true)),
        ["blackhole", "off"] => Ok(Control::Blackhole(false)),
        ["blackhole", ..] => Err(ControlError::Usage("blackhole on|off")),
        ["stats"] => Ok(Control::Stats),
        ["stats", ..] => Err(ControlError::Usage("stats")),
        [command, ..] => Err(ControlError::Unknown((*command).to_string())),
    }
}

/// Carries out one control line on `proxy` and returns the line that answers it.
pub(crate) fn apply(line: &str, proxy: &FaultProxy) -> String {
    match parse(line).and_then(|control| carry_out(control, proxy)) {
        Ok(answer) => format!("ok {answer}"),
        Err(error) => format!("error {error}"),
    }
}

fn carry_out(control: Control, proxy: &FaultProxy) -> Result<String, ControlError> {
    let faults = proxy.faults();
    Ok(match control {
        Control::Delay(None, delay) => {
            faults.set_delay(delay);
            format!("delay {}", delay.as_millis())
        }
        Control::Delay(Some(direction), delay) => {
            faults.set_delay_toward(direction, delay);
            format!("delay {} {}", direction_word(direction), delay.as_millis())
        }
        Control::Drop(_) if proxy.protocol() == Protocol::Tcp => {
            return Err(ControlError::DropOnTcp);
        }
        Control::Drop(p) => {
            faults.set_drop_probability(p)?;
            format!("drop {p}")
        }
        Control::Blackhole(on) => {
            faults.set_blackhole(on);
            format!("blackhole {}", if on { "on" } else { "off" })
        }
        Control::Stats => format!("stats {}", stats_line(&proxy.stats())),
    })
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::ToUpstream => "to-upstream",
        Direction::ToClient => "to-client",
    }
}

/// The counters as `key=value` pairs, separated by spaces.
pub(crate) fn stats_line(stats: &ProxyStats) -> String {
    let mut line = format!(
        "opened={} refused={} evicted={}",
        stats.opened, stats.refused, stats.evicted
    );
    for (name, direction) in [
        ("to_upstream", &stats.to_upstream),
        ("to_client", &stats.to_client),
    ] {
        let _ = write!(
            line,
            " {name}_bytes={} {name}_datagrams={} {name}_dropped_bytes={} {name}_dropped_datagrams={}",
            direction.forwarded_bytes,
            direction.forwarded_datagrams,
            direction.dropped_bytes,
            direction.dropped_datagrams
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses() {
        assert_eq!(
            parse("delay 50"),
            Ok(Control::Delay(None, Duration::from_millis(50)))
        );
        assert_eq!(
            parse("  delay   to-client 7 "),
            Ok(Control::Delay(
                Some(Direction::ToClient),
                Duration::from_millis(7)
            ))
        );
        assert_eq!(
            parse("delay to-upstream 0"),
            Ok(Control::Delay(Some(Direction::ToUpstream), Duration::ZERO))
        );
        assert_eq!(parse("drop 0.25"), Ok(Control::Drop(0.25)));
        assert_eq!(parse("blackhole on"), Ok(Control::Blackhole(true)));
        assert_eq!(parse("blackhole off"), Ok(Control::Blackhole(false)));
        assert_eq!(parse("stats"), Ok(Control::Stats));
    }

    #[test]
    fn bad_lines_are_refused_with_their_usage() {
        assert_eq!(parse(""), Err(ControlError::Empty));
        assert_eq!(parse("   "), Err(ControlError::Empty));
        assert!(matches!(parse("delay"), Err(ControlError::Usage(_))));
        assert!(matches!(parse("delay -5"), Err(ControlError::Usage(_))));
        assert!(matches!(
            parse("delay sideways 5"),
            Err(ControlError::Usage(_))
        ));
        assert!(matches!(parse("drop lots"), Err(ControlError::Usage(_))));
        assert!(matches!(
            parse("blackhole maybe"),
            Err(ControlError::Usage(_))
        ));
        assert_eq!(
            parse("reboot now"),
            Err(ControlError::Unknown("reboot".into()))
        );
    }
}
