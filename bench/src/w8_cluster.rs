//! W8, cluster: `n` member processes on 127.0.0.1 (5 or 16) form a cluster, each joining
//! through the first, at the default `ClusterSettings` (or others, see [`settings`]); then one is killed and another one
//! stopped and continued. Every member is this binary run as a [`member`] process, which
//! reports each change it publishes on `cluster.members`, stamped on the clock all the
//! processes share ([`clock`]), and its traffic counters when asked (see [`line`](mod@line)).
//!
//! The figures: the time figures run from the moment the measuring process acted (read just
//! before it did) until the last member concerned published the change (see [`views`]).
//!
//! | metric           | from                          | until                                          |
//! |------------------|-------------------------------|------------------------------------------------|
//! | `convergence`    | the spawn of the first member | every member lists every other one up          |
//! | `kill-detection` | a member's SIGKILL            | every survivor lists it down                   |
//! | `stop-detection` | another member's SIGSTOP      | every other running member lists it down       |
//! | `rejoin`         | that member's SIGCONT         | every other running member lists it up again   |
//!
//! A stopped member is a silent failure: its sockets stay open and nothing is reset, so only
//! the failure detector can tell. Each failure comes after a pause of random length (up to
//! [`JITTER`] more than [`SETTLE`]), so that the rounds of a run sample failures at every point
//! of the members' probe rounds.
//!
//! And the membership traffic of the idle cluster (before the failures), in bytes per second:
//! `idle-sent`, the bytes a member sends, the mean over the members, over a window of
//! [`IDLE`]; `idle-sent-max`, the same for the member that sent most. Every byte one member
//! sends another one receives, so a member's traffic in and out together is about twice
//! `idle-sent`. The settings are printed beside the figures (a `SETTINGS` line, see
//! [`settings_text`]).
//!
//! How long the first member concerned took to suspect the killed and the stopped member is
//! printed on stderr, to show where the detection time goes (first suspicion, then the
//! suspicion timeout, then the news spreading).
//!
//! `N` is the number of members (at least [`MIN_MEMBERS`]); the last one is killed, the one
//! in the middle stopped, and neither is the first, which the others joined through.

mod clock;
mod fleet;
mod line;
mod member;
mod settings;
mod views;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actor_net::{MemberState, NodeId};

use crate::error::{BenchError, BenchResult};
use crate::report::Sample;
use clock::{now_ns, seconds_between};
use fleet::Fleet;
use line::{Line, Traffic};
use views::{View, Views, lists_up};

pub(crate) use member::serve;

/// The workload's name, in RESULT lines and in the members' command line.
const WORKLOAD: &str = "W8";

/// Members of the small cluster.
pub(crate) const SMALL: u64 = 5;

/// Members of the large cluster.
pub(crate) const LARGE: u64 = 16;

/// The fewest members that leave a survivor to watch the stopped member after one is killed.
const MIN_MEMBERS: usize = 3;

/// The longest a phase may take. The goals are a few seconds: reaching it means a member
/// that never converged or never noticed a failure, not a slow machine.
const PHASE_LIMIT: Duration = Duration::from_secs(30);

/// The pause after a phase before the next one starts, so that the updates of one (each
/// sent several times) are not counted in the idle traffic, nor slow down the next.
const SETTLE: Duration = Duration::from_secs(2);

/// The most a pause before a failure is drawn longer than [`SETTLE`], so that failures fall at
/// any point of the members' probe rounds rather than at the same one in every run (the
/// pauses are otherwise the same from run to run). Several probe intervals.
const JITTER: Duration = Duration::from_secs(1);

/// The idle window over which the membership traffic is measured: one period of a member's
/// periodic announcement (5 s), the least frequent of its messages.
const IDLE: Duration = Duration::from_secs(5);

/// The settings the members use, as printed beside the figures: the defaults, unless
/// [`settings::VAR`] changes them.
pub(crate) fn settings_text() -> String {
    match settings::from_env() {
        Ok(settings) => settings::text(&settings),
        Err(error) => format!("unreadable: {error}"),
    }
}

/// W8 with 5 members by default.
pub(crate) fn small(n: u64) -> BenchResult<Vec<Sample>> {
    measure("5-nodes", n)
}

/// W8 with 16 members by default.
pub(crate) fn large(n: u64) -> BenchResult<Vec<Sample>> {
    measure("16-nodes", n)
}

/// Runs every phase with `n` members (started as `serve W8 <variant>`).
fn measure(variant: &'static str, n: u64) -> BenchResult<Vec<Sample>> {
    let count = usize::try_from(n)?;
    if count < MIN_MEMBERS {
        return Err(Box::new(BenchError::Usage(format!(
            "W8 needs at least {MIN_MEMBERS} members, not {n}"
        ))));
    }
    // Read here first, so that a mistake in it fails the run before any member starts.
    settings::from_env()?;
    let mut run = Run::new(variant, count)?;

    let start = now_ns()?;
    let ids = run.start_members()?;
    let everyone: Vec<usize> = (0..count).collect();
    let converged = run.until("every member to list every other up", |run| {
        run.views
            .held_since(&everyone, |i, view| lists_up(view, &ids, ids[i]))
    })?;

    run.pump(SETTLE)?;
    let sent = run.idle_sent()?;

    run.pump(jitter()?)?;
    let killed = count - 1;
    let survivors: Vec<usize> = (0..count).filter(|&i| i != killed).collect();
    let killed_at = now_ns()?;
    run.fleet.kill(killed)?;
    let killed_down = run.until("every survivor to list the killed member down", |run| {
        run.views
            .held_since(&survivors, lists(ids[killed], MemberState::Down))
    })?;

    run.pump(SETTLE + jitter()?)?;
    let stopped = count / 2;
    let others: Vec<usize> = survivors
        .iter()
        .copied()
        .filter(|&i| i != stopped)
        .collect();
    let stopped_at = now_ns()?;
    run.fleet.stop(stopped)?;
    let stopped_down = run.until("every other member to list the stopped one down", |run| {
        run.views
            .held_since(&others, lists(ids[stopped], MemberState::Down))
    })?;
    let resumed_at = now_ns()?;
    run.fleet.resume(stopped)?;
    let rejoined = run.until("every other member to list the continued one up", |run| {
        run.views
            .held_since(&others, lists(ids[stopped], MemberState::Up))
    })?;

    run.print_detection(variant, "killed", ids[killed], &survivors, killed_at);
    run.print_detection(variant, "stopped", ids[stopped], &others, stopped_at);
    let flaps = run.views.count_since(&others, converged, |member| {
        member.id != ids[killed]
            && member.id != ids[stopped]
            && matches!(member.state, MemberState::Suspect | MemberState::Down)
    });
    if flaps > 0 {
        eprintln!(
            "W8 {variant}: {flaps} time(s) a running member was suspected or listed down \
             by another after convergence"
        );
    }
    let Run { fleet, .. } = run;
    fleet.finish()?;

    let mean = sent.iter().sum::<f64>() / sent.len() as f64;
    let max = sent.iter().copied().fold(0.0, f64::max);
    Ok(vec![
        Sample::new("convergence", elapsed(start, converged)?, "s"),
        Sample::new("idle-sent", mean, "bytes/s"),
        Sample::new("idle-sent-max", max, "bytes/s"),
        Sample::new("kill-detection", elapsed(killed_at, killed_down)?, "s"),
        Sample::new("stop-detection", elapsed(stopped_at, stopped_down)?, "s"),
        Sample::new("rejoin", elapsed(resumed_at, rejoined)?, "s"),
    ])
}

/// A random pause of up to [`JITTER`].
fn jitter() -> BenchResult<Duration> {
    let mut bytes = [0; 8];
    // Without getrandom's `std` feature its error is no `std::error::Error`.
    getrandom::fill(&mut bytes)
        .map_err(|error| std::io::Error::other(format!("no random pause: {error}")))?;
    let millis = u64::from_le_bytes(bytes) % u64::try_from(JITTER.as_millis())?;
    Ok(Duration::from_millis(millis))
}

/// The condition "the view lists `id` as `state`".
fn lists(id: NodeId, state: MemberState) -> impl Fn(usize, &View) -> bool {
    move |_, view| view.get(&id) == Some(&state)
}

/// Seconds from `from_ns` until `to_ns`; a change seen before the measuring process acted is
/// a failed check, not a figure.
fn elapsed(from_ns: u64, to_ns: u64) -> BenchResult<f64> {
    if to_ns < from_ns {
        return Err(BenchError::check(format!(
            "a change was published {:.3} s before the step that caused it",
            seconds_between(to_ns, from_ns)
        )));
    }
    Ok(seconds_between(from_ns, to_ns))
}

/// Each member's membership bytes sent per second between two readings.
fn sent_per_second(before: &[Traffic], after: &[Traffic]) -> BenchResult<Vec<f64>> {
    before
        .iter()
        .zip(after)
        .map(|(before, after)| {
            let sent = after.sent.checked_sub(before.sent);
            let seconds = seconds_between(before.at_ns, after.at_ns);
            match sent {
                Some(sent) if seconds > 0.0 => {
                    if after.refused > before.refused {
                        eprintln!(
                            "W8: a member refused {} datagram(s) while idle",
                            after.refused - before.refused
                        );
                    }
                    Ok(sent as f64 / seconds)
                }
                _ => Err(BenchError::check(format!(
                    "traffic counters went back: {before:?}, then {after:?}"
                ))),
            }
        })
        .collect()
}

/// One run in progress: the members and what they reported.
#[derive(Debug)]
struct Run {
    fleet: Fleet,
    views: Views,
    /// Each member's id and address, once it reported them.
    started: Vec<Option<(NodeId, SocketAddr)>>,
    /// Each member's answer to the latest traffic request.
    traffic: Vec<Option<Traffic>>,
}

impl Run {
    fn new(variant: &'static str, count: usize) -> BenchResult<Run> {
        Ok(Run {
            fleet: Fleet::new(variant)?,
            views: Views::new(count),
            started: vec![None; count],
            traffic: vec![None; count],
        })
    }

    /// Starts the members, the first one alone, the others once it has an address, all
    /// joining through it; returns their ids, by index.
    fn start_members(&mut self) -> BenchResult<Vec<NodeId>> {
        let first = self.fleet.spawn(None)?;
        let seed = self.until("the first member's address", |run| {
            run.started[first].map(|(_, addr)| addr)
        })?;
        for _ in 1..self.started.len() {
            self.fleet.spawn(Some(seed))?;
        }
        self.until("every member's address", |run| {
            run.started
                .iter()
                .map(|started| started.map(|(id, _)| id))
                .collect::<Option<Vec<NodeId>>>()
        })
    }

    /// The membership bytes each member sends per second over an idle window of [`IDLE`].
    fn idle_sent(&mut self) -> BenchResult<Vec<f64>> {
        let before = self.traffic()?;
        self.pump(IDLE)?;
        let after = self.traffic()?;
        sent_per_second(&before, &after)
    }

    /// Prints how long after `from` the first member of `observers` suspected the member
    /// `id`, and the first listed it down: where its detection time went.
    fn print_detection(
        &self,
        variant: &str,
        what: &str,
        id: NodeId,
        observers: &[usize],
        from: u64,
    ) {
        let first = |state| {
            self.views
                .first_since(observers, from, |m| m.id == id && m.state == state)
                .map_or_else(
                    || "never".into(),
                    |at| format!("{:.3} s", seconds_between(from, at)),
                )
        };
        eprintln!(
            "W8 {variant}: the {what} member was first suspected after {}, first listed down \
             after {}",
            first(MemberState::Suspect),
            first(MemberState::Down)
        );
    }

    /// Takes the members' lines until `condition` gives a value, within [`PHASE_LIMIT`];
    /// `what` names the wait in the error.
    fn until<T>(
        &mut self,
        what: &'static str,
        condition: impl Fn(&Run) -> Option<T>,
    ) -> BenchResult<T> {
        let deadline = Instant::now() + PHASE_LIMIT;
        loop {
            if let Some(value) = condition(self) {
                return Ok(value);
            }
            match self.fleet.next(deadline, what) {
                Ok((index, line)) => self.take(index, line),
                Err(error) => {
                    if matches!(error.downcast_ref(), Some(BenchError::Timeout(_))) {
                        self.print_views();
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Prints what each member lists now, for a phase that did not end.
    fn print_views(&self) {
        for index in 0..self.started.len() {
            let mut listed: Vec<String> = self
                .views
                .view(index)
                .iter()
                .map(|(id, state)| format!("{id} {state}"))
                .collect();
            listed.sort();
            eprintln!("W8: member {index} lists: {}", listed.join(", "));
        }
    }

    /// Takes the members' lines for `duration`: lets the cluster run, and fails if a member
    /// exits meanwhile.
    fn pump(&mut self, duration: Duration) -> BenchResult<()> {
        let deadline = Instant::now() + duration;
        while Instant::now() < deadline {
            match self.fleet.next(deadline, "nothing (a pause)") {
                Ok((index, line)) => self.take(index, line),
                Err(error)
                    if matches!(error.downcast_ref(), Some(BenchError::Timeout(_)))
                        && Instant::now() >= deadline =>
                {
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Every member's traffic counters, read now.
    fn traffic(&mut self) -> BenchResult<Vec<Traffic>> {
        self.traffic.fill(None);
        for index in 0..self.traffic.len() {
            self.fleet.request_traffic(index)?;
        }
        self.until("every member's traffic counters", |run| {
            run.traffic
                .iter()
                .copied()
                .collect::<Option<Vec<Traffic>>>()
        })
    }

    fn take(&mut self, index: usize, line: Line) {
        match line {
            Line::Started { id, addr } => self.started[index] = Some((id, addr)),
            Line::Change { at_ns, member } => self.views.record(index, at_ns, member),
            Line::Traffic(traffic) => self.traffic[index] = Some(traffic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_before_its_cause_is_no_figure() {
        assert_eq!(elapsed(1_000_000_000, 1_500_000_000).unwrap(), 0.5);
        assert!(elapsed(2, 1).is_err());
    }

    #[test]
    fn idle_traffic_is_bytes_sent_per_second() {
        let reading = |at_ns, sent| Traffic {
            at_ns,
            sent,
            received: 0,
            refused: 0,
        };
        let rates = sent_per_second(
            &[reading(0, 100), reading(0, 0)],
            &[reading(2_000_000_000, 4100), reading(4_000_000_000, 1000)],
        )
        .unwrap();
        assert_eq!(rates, [2000.0, 250.0]);
        assert!(sent_per_second(&[reading(0, 10)], &[reading(1, 5)]).is_err());
    }
}
