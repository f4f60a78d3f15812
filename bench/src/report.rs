//! [`Sample`]: one figure of a measurement, and the `RESULT` line that carries it.
//!
//! The line format is fixed by BENCH-WORKLOADS.md, tab-separated:
//! `RESULT <system> <workload> <variant> <metric> <value> <unit>`. A measurement whose figures
//! depend on settings of the framework (W8, the cluster's timing) also prints them, on a line
//! of its own: `SETTINGS <workload> <variant> <text>`.

use std::fmt::Write as _;
use std::time::Duration;

use crate::error::{BenchError, BenchResult};

/// One figure: what was measured, its value and its unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// `throughput`, `mean`, `p50`, `p99`, `spawn`, `rss`, `cost`, or one of W8's
    /// (`convergence`, `kill-detection`, ...).
    pub(crate) metric: &'static str,
    /// The figure.
    pub(crate) value: f64,
    /// `msgs/s`, `deliveries/s`, `us`, `us/actor`, `bytes/actor`, `ns/op`, `us/task`, `s` or
    /// `bytes/s`.
    pub(crate) unit: &'static str,
}

impl Sample {
    /// A figure.
    pub(crate) fn new(metric: &'static str, value: f64, unit: &'static str) -> Sample {
        Sample {
            metric,
            value,
            unit,
        }
    }

    /// `count` events in `elapsed`, per second.
    pub(crate) fn throughput(count: u64, elapsed: Duration, unit: &'static str) -> Sample {
        Sample::new("throughput", count as f64 / elapsed.as_secs_f64(), unit)
    }

    /// `elapsed` spread over `count` operations, in nanoseconds each.
    pub(crate) fn cost_ns(count: u64, elapsed: Duration) -> Sample {
        Sample::new("cost", elapsed.as_nanos() as f64 / count as f64, "ns/op")
    }
}

/// The `RESULT` lines of one measurement, one per sample.
///
/// # Errors
///
/// A sample that is not a finite number (a zero elapsed time, say) fails the run rather
/// than print a figure no driver can use.
pub(crate) fn result_lines(
    system: &str,
    workload: &str,
    variant: &str,
    samples: &[Sample],
) -> BenchResult<String> {
    let mut out = String::new();
    for sample in samples {
        if !sample.value.is_finite() {
            return Err(BenchError::check(format!(
                "{} is {} (not a finite number)",
                sample.metric, sample.value
            )));
        }
        let value = format_value(sample.value);
        let (metric, unit) = (sample.metric, sample.unit);
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "RESULT\t{system}\t{workload}\t{variant}\t{metric}\t{value}\t{unit}"
        );
    }
    Ok(out)
}

/// The `SETTINGS` line of a measurement whose figures depend on `settings` (one line of
/// text without tabs).
pub(crate) fn settings_line(workload: &str, variant: &str, settings: &str) -> String {
    format!("SETTINGS\t{workload}\t{variant}\t{settings}\n")
}

/// One decimal for large figures (rates), three for small ones (latencies in µs), six for
/// tiny ones (W8's times in seconds, some below a millisecond).
fn format_value(value: f64) -> String {
    if value.abs() >= 1000.0 {
        format!("{value:.1}")
    } else if value.abs() >= 0.1 {
        format!("{value:.3}")
    } else {
        format!("{value:.6}")
    }
}

/// Mean, p50 and p99 of per-request latencies, in µs (`mean`, `p50`, `p99` samples).
///
/// Percentiles are nearest rank on the sorted latencies: the value at rank ⌈p·n/100⌉.
///
/// # Errors
///
/// An empty list has no percentiles.
pub(crate) fn latency_samples(mut latencies_ns: Vec<u64>) -> BenchResult<Vec<Sample>> {
    if latencies_ns.is_empty() {
        return Err(BenchError::check("no latencies recorded"));
    }
    latencies_ns.sort_unstable();
    let total: u128 = latencies_ns.iter().map(|&ns| u128::from(ns)).sum();
    let mean_ns = total as f64 / latencies_ns.len() as f64;
    let us = |ns: f64| ns / 1000.0;
    Ok(vec![
        Sample::new("mean", us(mean_ns), "us"),
        Sample::new("p50", us(nearest_rank(&latencies_ns, 50) as f64), "us"),
        Sample::new("p99", us(nearest_rank(&latencies_ns, 99) as f64), "us"),
    ])
}

/// The `percent`-th percentile of non-empty `sorted` values, nearest rank.
fn nearest_rank(sorted: &[u64], percent: usize) -> u64 {
    let rank = (percent * sorted.len())
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_tab_separated_in_the_documented_order() {
        let samples = [Sample::new("throughput", 26_359_895.5, "msgs/s")];
        let lines = result_lines("actor", "W1", "unbounded", &samples).unwrap();
        assert_eq!(
            lines,
            "RESULT\tactor\tW1\tunbounded\tthroughput\t26359895.5\tmsgs/s\n"
        );
    }

    #[test]
    fn the_settings_line_is_tab_separated_too() {
        assert_eq!(
            settings_line("W8", "5-nodes", "probe_interval=250ms indirect_probes=3"),
            "SETTINGS\tW8\t5-nodes\tprobe_interval=250ms indirect_probes=3\n"
        );
    }

    #[test]
    fn small_figures_keep_three_decimals_and_tiny_ones_six() {
        assert_eq!(format_value(4.12345), "4.123");
        assert_eq!(format_value(1234.56), "1234.6");
        assert_eq!(format_value(0.000_345_678), "0.000346");
        assert_eq!(format_value(0.0), "0.000000");
    }

    #[test]
    fn a_non_finite_figure_fails_the_run() {
        let samples = [Sample::throughput(10, Duration::ZERO, "msgs/s")];
        assert!(result_lines("raw", "W1", "crossbeam-bounded", &samples).is_err());
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&values, 50), 50);
        assert_eq!(nearest_rank(&values, 99), 99);
        assert_eq!(nearest_rank(&[7], 99), 7);
        assert_eq!(nearest_rank(&[1, 2, 3], 50), 2);
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), 2);
    }

    #[test]
    fn latency_samples_are_in_microseconds() {
        let samples = latency_samples(vec![3000, 1000, 2000]).unwrap();
        let values: Vec<_> = samples.iter().map(|s| (s.metric, s.value)).collect();
        assert_eq!(values, [("mean", 2.0), ("p50", 2.0), ("p99", 3.0)]);
        assert!(latency_samples(Vec::new()).is_err());
    }
}
