//! The cluster settings of a W8 run: the defaults, or those named in [`VAR`], as text.
//!
//! The text is the one printed beside the figures, `name=value` pairs separated by spaces,
//! durations in `ms` or `s`:
//!
//! ```text
//! probe_interval=150ms probe_timeout=60ms indirect_probes=3 suspect_timeout=400ms
//! rejoin_interval=2s forget_down_after=60s
//! ```
//!
//! [`VAR`] takes the same pairs, any of them, to measure other settings than the defaults
//! (`ACTOR_BENCH_CLUSTER="suspect_timeout=500ms" actor-bench W8 5-nodes`); the members
//! inherit it from the measuring process, and the printed settings are those it gives.

use std::time::Duration;

use actor_net::ClusterSettings;

use crate::error::{BenchError, BenchResult};

/// The environment variable that changes the settings the members are built with.
pub(super) const VAR: &str = "ACTOR_BENCH_CLUSTER";

/// The defaults, changed by the pairs in [`VAR`] if it is set.
///
/// # Errors
///
/// A [`BenchError::Usage`] when [`VAR`] holds something else than pairs of [`parse`].
pub(super) fn from_env() -> BenchResult<ClusterSettings> {
    match std::env::var(VAR) {
        Ok(text) => parse(&text),
        Err(std::env::VarError::NotPresent) => Ok(ClusterSettings::default()),
        Err(std::env::VarError::NotUnicode(_)) => Err(usage("is not text")),
    }
}

/// The settings as `name=value` pairs.
pub(super) fn text(settings: &ClusterSettings) -> String {
    // Destructured, so that a new setting cannot be left out of the report.
    let ClusterSettings {
        probe_interval,
        probe_timeout,
        indirect_probes,
        suspect_timeout,
        rejoin_interval,
        forget_down_after,
    } = *settings;
    format!(
        "probe_interval={probe_interval:?} probe_timeout={probe_timeout:?} \
         indirect_probes={indirect_probes} suspect_timeout={suspect_timeout:?} \
         rejoin_interval={rejoin_interval:?} forget_down_after={forget_down_after:?}"
    )
}

/// The defaults, changed by each `name=value` pair of `text`.
fn parse(text: &str) -> BenchResult<ClusterSettings> {
    let mut settings = ClusterSettings::default();
    for pair in text.split_whitespace() {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| usage(format!("has {pair:?}, not name=value")))?;
        let bad = || usage(format!("has {pair:?}: not a valid value"));
        match name {
            "probe_interval" => settings.probe_interval = duration(value).ok_or_else(bad)?,
            "probe_timeout" => settings.probe_timeout = duration(value).ok_or_else(bad)?,
            "indirect_probes" => settings.indirect_probes = value.parse().map_err(|_| bad())?,
            "suspect_timeout" => settings.suspect_timeout = duration(value).ok_or_else(bad)?,
            "rejoin_interval" => settings.rejoin_interval = duration(value).ok_or_else(bad)?,
            "forget_down_after" => {
                settings.forget_down_after = duration(value).ok_or_else(bad)?;
            }
            _ => return Err(usage(format!("names no setting {name:?}"))),
        }
    }
    Ok(settings)
}

/// `250ms`, `2s`, `1.5s`: a duration as `Debug` prints it, in milliseconds or seconds.
fn duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(number) => (number, 1e-3),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let value: f64 = number.parse().ok()?;
    Duration::try_from_secs_f64(value * unit).ok()
}

fn usage(what: impl std::fmt::Display) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(BenchError::Usage(format!("{VAR} {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_print_on_one_line() {
        let text = text(&ClusterSettings::default());
        assert_eq!(
            text,
            "probe_interval=150ms probe_timeout=60ms indirect_probes=3 suspect_timeout=400ms \
             rejoin_interval=2s forget_down_after=60s"
        );
    }

    #[test]
    fn the_printed_text_reads_back() {
        let settings = ClusterSettings {
            probe_interval: Duration::from_millis(150),
            probe_timeout: Duration::from_millis(60),
            indirect_probes: 2,
            suspect_timeout: Duration::from_millis(1500),
            rejoin_interval: Duration::from_secs(1),
            forget_down_after: Duration::from_secs(30),
        };
        assert_eq!(parse(&text(&settings)).unwrap(), settings);
    }

    #[test]
    fn some_pairs_change_some_settings() {
        let settings = parse("  suspect_timeout=500ms   probe_interval=0.2s ").unwrap();
        assert_eq!(settings.suspect_timeout, Duration::from_millis(500));
        assert_eq!(settings.probe_interval, Duration::from_millis(200));
        assert_eq!(
            settings.probe_timeout,
            ClusterSettings::default().probe_timeout
        );
        assert_eq!(parse("").unwrap(), ClusterSettings::default());
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "suspect_timeout",
            "suspect_timeout=",
            "suspect_timeout=500",
            "suspect_timeout=fast",
            "suspect_timeout=-1s",
            "indirect_probes=many",
            "gossip=1s",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}
