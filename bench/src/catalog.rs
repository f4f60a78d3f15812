//! [`CATALOG`]: every measurement the binary can make, and the baseline each framework
//! figure is read against.
//!
//! A workload joins by adding its module and its rows here; `list`, `baselines`, the driver
//! and the smoke test pick it up from this table.
//!
//! The remote workloads (W4, W5) and the raw process round trip (`micro process-echo`) run in
//! two processes: their rows also name what the second process runs ([`Measurement::serve`],
//! reached through the hidden `serve` command). W4 has two raw rows: `framed-tcp`, the
//! baseline its goal is set against, and `framed-tcp-hmac`, the same frames authenticated as
//! the framework's are, a second reference read from the table by hand (a row has one
//! baseline).
//!
//! Baselines are per row, so two framework rows may share one: W6's `thread` and
//! `dispatcher` are both read against `std-thread` (though the dispatcher's goals are
//! absolute figures), and micro's `worker` and `thread-pool` against `channel-worker`. The
//! process pool's workers are processes too, but started by the pool itself (see
//! [`micro::process_pool`]), not through `serve`. The pool is measured twice, sequentially
//! (`process-pool`) and pipelined (`process-pool-pipelined`), each against its own form of
//! the raw echo; `process-echo-pipelined` starts its child through `process-echo`'s
//! `serve`, so its own row names none.
//!
//! W7 (pub/sub across nodes) runs in three processes: its serving process is started twice,
//! and its framework row prints how the publisher is paced ([`Measurement::settings`]).
//!
//! W8 (the cluster, Unix only: it stops and continues processes) has no raw baseline: its
//! figures are times and rates at the cluster's settings, which its rows print beside them
//! ([`Measurement::settings`]). Its member processes are started through `serve` too, many
//! per run, and its `N` is their number.
//!
//! W9 (a hostile peer) has no raw baseline either: its `flood` row is read against its
//! `quiet` row, the same honest client without the flood (a goal in `summarize.py`, as the
//! catalog's baselines are raw rows). Both serve W5's incrementer, and their `N` is the
//! length of the window in milliseconds.

use crate::error::BenchResult;
use crate::report::Sample;
#[cfg(unix)]
use crate::w8_cluster;
use crate::{
    incrementer, micro, w1_tell, w2_ask, w3_fanout, w4_remote_tell, w5_remote_ask, w6_dispatcher,
    w6_spawn, w7_pubsub, w9_hostile,
};

/// What a measurement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// The framework (`actor` in RESULT lines).
    Actor,
    /// The raw mechanism it stands on (`raw`).
    Raw,
}

impl Subject {
    /// The name in RESULT lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Subject::Actor => "actor",
            Subject::Raw => "raw",
        }
    }
}

/// One measurement: a (workload, variant) pair and how to run it.
#[derive(Debug)]
pub(crate) struct Measurement {
    /// `W1`, `W2`, ... or `micro`.
    pub(crate) workload: &'static str,
    /// Unique within the workload, across subjects.
    pub(crate) variant: &'static str,
    /// Framework or raw.
    pub(crate) subject: Subject,
    /// For a framework measurement, the raw variant of the same workload it is read against.
    pub(crate) baseline: Option<&'static str>,
    /// `N` when `--n` is not given.
    pub(crate) default_n: u64,
    /// Performs the measurement with the given `N`.
    pub(crate) run: fn(u64) -> BenchResult<Vec<Sample>>,
    /// For a two-process measurement, what the serving process runs with the same `N`: it
    /// serves until its stdin closes, and fails if its own checks did not hold.
    pub(crate) serve: Option<fn(u64) -> BenchResult<()>>,
    /// For a measurement whose figures depend on settings of the framework, those settings
    /// as one line of text, printed beside the figures.
    pub(crate) settings: Option<fn() -> String>,
}

impl Measurement {
    const fn actor(
        workload: &'static str,
        variant: &'static str,
        baseline: Option<&'static str>,
        default_n: u64,
        run: fn(u64) -> BenchResult<Vec<Sample>>,
    ) -> Measurement {
        Measurement {
            workload,
            variant,
            subject: Subject::Actor,
            baseline,
            default_n,
            run,
            serve: None,
            settings: None,
        }
    }

    const fn raw(
        workload: &'static str,
        variant: &'static str,
        default_n: u64,
        run: fn(u64) -> BenchResult<Vec<Sample>>,
    ) -> Measurement {
        Measurement {
            workload,
            variant,
            subject: Subject::Raw,
            baseline: None,
            default_n,
            run,
            serve: None,
            settings: None,
        }
    }

    /// The same measurement, run against a serving process that runs `serve`.
    const fn served_by(self, serve: fn(u64) -> BenchResult<()>) -> Measurement {
        Measurement {
            serve: Some(serve),
            ..self
        }
    }

    /// The same measurement, its figures printed with the settings `settings` describes.
    const fn with_settings(self, settings: fn() -> String) -> Measurement {
        Measurement {
            settings: Some(settings),
            ..self
        }
    }
}

/// Every measurement, in the order the driver runs them.
pub(crate) const CATALOG: &[Measurement] = &[
    Measurement::actor(
        "W1",
        "unbounded",
        Some("crossbeam-unbounded"),
        w1_tell::N,
        w1_tell::actor_unbounded,
    ),
    Measurement::raw(
        "W1",
        "crossbeam-unbounded",
        w1_tell::N,
        w1_tell::raw_unbounded,
    ),
    Measurement::actor(
        "W1",
        "bounded",
        Some("crossbeam-bounded"),
        w1_tell::N,
        w1_tell::actor_bounded,
    ),
    Measurement::raw("W1", "crossbeam-bounded", w1_tell::N, w1_tell::raw_bounded),
    Measurement::actor("W2", "ask", Some("crossbeam"), w2_ask::N, w2_ask::actor),
    Measurement::raw("W2", "crossbeam", w2_ask::N, w2_ask::raw),
    Measurement::actor(
        "W3",
        "exchange",
        Some("crossbeam"),
        w3_fanout::N,
        w3_fanout::actor,
    ),
    Measurement::raw("W3", "crossbeam", w3_fanout::N, w3_fanout::raw),
    Measurement::actor(
        "W4",
        "actor",
        Some("framed-tcp"),
        w4_remote_tell::N,
        w4_remote_tell::actor,
    )
    .served_by(w4_remote_tell::serve_actor),
    Measurement::actor(
        "W4",
        "actor-aead",
        Some("framed-tcp"),
        w4_remote_tell::N,
        w4_remote_tell::actor_aead,
    )
    .served_by(w4_remote_tell::serve_actor),
    Measurement::raw(
        "W4",
        "framed-tcp",
        w4_remote_tell::N,
        w4_remote_tell::raw_framed,
    )
    .served_by(w4_remote_tell::serve_framed),
    Measurement::raw(
        "W4",
        "framed-tcp-hmac",
        w4_remote_tell::N,
        w4_remote_tell::raw_framed_hmac,
    )
    .served_by(w4_remote_tell::serve_framed_hmac),
    Measurement::actor(
        "W5",
        "ask",
        Some("tcp-ping-pong"),
        w5_remote_ask::N,
        w5_remote_ask::actor,
    )
    .served_by(incrementer::serve),
    Measurement::actor(
        "W5",
        "ask-aead",
        Some("tcp-ping-pong"),
        w5_remote_ask::N,
        w5_remote_ask::actor_aead,
    )
    .served_by(incrementer::serve),
    Measurement::raw("W5", "tcp-ping-pong", w5_remote_ask::N, w5_remote_ask::raw)
        .served_by(w5_remote_ask::serve_raw),
    Measurement::actor(
        "W6",
        "thread",
        Some("std-thread"),
        w6_spawn::N,
        w6_spawn::actor,
    ),
    Measurement::raw("W6", "std-thread", w6_spawn::N, w6_spawn::raw),
    Measurement::actor(
        "W6",
        "dispatcher",
        Some("std-thread"),
        w6_dispatcher::N,
        w6_dispatcher::actor,
    ),
    Measurement::actor(
        "W7",
        "pubsub",
        Some("framed-tcp"),
        w7_pubsub::N,
        w7_pubsub::actor,
    )
    .served_by(w7_pubsub::serve_pubsub)
    .with_settings(w7_pubsub::settings_text),
    Measurement::raw("W7", "framed-tcp", w7_pubsub::N, w7_pubsub::raw)
        .served_by(w7_pubsub::serve_raw),
    #[cfg(unix)]
    Measurement::actor("W8", "5-nodes", None, w8_cluster::SMALL, w8_cluster::small)
        .served_by(w8_cluster::serve)
        .with_settings(w8_cluster::settings_text),
    #[cfg(unix)]
    Measurement::actor("W8", "16-nodes", None, w8_cluster::LARGE, w8_cluster::large)
        .served_by(w8_cluster::serve)
        .with_settings(w8_cluster::settings_text),
    Measurement::actor("W9", "flood", None, w9_hostile::N, w9_hostile::flood)
        .served_by(incrementer::serve),
    Measurement::actor("W9", "quiet", None, w9_hostile::N, w9_hostile::quiet)
        .served_by(incrementer::serve),
    Measurement::actor(
        "micro",
        "codec",
        Some("bincode"),
        micro::codec::N,
        micro::codec::actor,
    ),
    Measurement::raw("micro", "bincode", micro::codec::N, micro::codec::raw),
    Measurement::raw("micro", "hmac", micro::hmac::N, micro::hmac::raw),
    Measurement::actor(
        "micro",
        "worker",
        Some("channel-worker"),
        micro::worker::N,
        micro::worker::actor,
    ),
    Measurement::raw(
        "micro",
        "channel-worker",
        micro::worker::N,
        micro::worker::raw,
    ),
    Measurement::actor(
        "micro",
        "thread-pool",
        Some("channel-worker"),
        micro::thread_pool::N,
        micro::thread_pool::actor,
    ),
    Measurement::actor(
        "micro",
        "process-pool",
        Some("process-echo"),
        micro::process_pool::N,
        micro::process_pool::actor,
    ),
    Measurement::raw(
        "micro",
        "process-echo",
        micro::process_echo::N,
        micro::process_echo::raw,
    )
    .served_by(micro::process_echo::serve),
    Measurement::actor(
        "micro",
        "process-pool-pipelined",
        Some("process-echo-pipelined"),
        micro::process_pool::N,
        micro::process_pool::actor_pipelined,
    ),
    Measurement::raw(
        "micro",
        "process-echo-pipelined",
        micro::process_echo::N,
        micro::process_echo::raw_pipelined,
    ),
];

/// The measurement named by `workload` and `variant`.
pub(crate) fn find(workload: &str, variant: &str) -> Option<&'static Measurement> {
    CATALOG
        .iter()
        .find(|m| m.workload == workload && m.variant == variant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pair_names_one_measurement() {
        for (i, m) in CATALOG.iter().enumerate() {
            let same = CATALOG
                .iter()
                .skip(i + 1)
                .any(|o| o.workload == m.workload && o.variant == m.variant);
            assert!(!same, "{} {} is listed twice", m.workload, m.variant);
        }
    }

    #[test]
    fn each_baseline_is_a_raw_measurement_of_the_same_workload() {
        for m in CATALOG {
            match (m.subject, m.baseline) {
                (Subject::Actor, Some(baseline)) => {
                    let raw = find(m.workload, baseline).expect("baseline listed");
                    assert_eq!(raw.subject, Subject::Raw);
                }
                (Subject::Actor, None) => {}
                (Subject::Raw, baseline) => assert_eq!(baseline, None),
            }
        }
    }

    #[test]
    fn the_two_process_measurements_have_a_serving_process() {
        for m in CATALOG {
            let two_processes = matches!(m.workload, "W4" | "W5" | "W7" | "W8" | "W9")
                || (m.workload, m.variant) == ("micro", "process-echo");
            assert_eq!(
                m.serve.is_some(),
                two_processes,
                "{} {}",
                m.workload,
                m.variant
            );
        }
    }

    #[test]
    fn only_the_cluster_and_the_paced_pub_sub_print_settings() {
        for m in CATALOG {
            let settings = m.workload == "W8" || (m.workload, m.variant) == ("W7", "pubsub");
            assert_eq!(m.settings.is_some(), settings, "{}", m.variant);
        }
    }

    #[test]
    fn names_need_no_quoting() {
        for m in CATALOG {
            for name in [m.workload, m.variant] {
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            }
        }
    }
}
