//! [`Views`]: the cluster as each member process has reported it, change by change, and when
//! a condition on those views started to hold for a set of them.
//!
//! Members report on separate pipes, so their lines reach the measuring process in no
//! particular order across members; each member's own changes arrive in the order it
//! published them, stamped on the shared clock. So each member's changes are replayed on their
//! own: a condition that holds now for every member of a set has held for all of them since
//! the latest of the moments it last came to hold for each one.

use std::collections::HashMap;

use actor_net::{ClusterMember, MemberState, NodeId};

/// One member's view: the last state it published for each other member.
pub(super) type View = HashMap<NodeId, MemberState>;

/// Every member's reported changes, by member index.
#[derive(Debug, Default)]
pub(super) struct Views {
    /// Per member: its changes with their stamps, in the order it published them.
    changes: Vec<Vec<(u64, ClusterMember)>>,
}

impl Views {
    /// Views of `members` members, none of which has reported anything yet.
    pub(super) fn new(members: usize) -> Views {
        Views {
            changes: vec![Vec::new(); members],
        }
    }

    /// Member `observer` published `member` at `at_ns`.
    pub(super) fn record(&mut self, observer: usize, at_ns: u64, member: ClusterMember) {
        if let Some(changes) = self.changes.get_mut(observer) {
            changes.push((at_ns, member));
        }
    }

    /// Member `observer`'s view now.
    pub(super) fn view(&self, observer: usize) -> View {
        let mut view = View::new();
        for (_, member) in self.changes.get(observer).into_iter().flatten() {
            view.insert(member.id, member.state);
        }
        view
    }

    /// How many changes the members of `observers` published from `since_ns` on that
    /// `matches` picks.
    pub(super) fn count_since(
        &self,
        observers: &[usize],
        since_ns: u64,
        matches: impl Fn(&ClusterMember) -> bool,
    ) -> usize {
        observers
            .iter()
            .filter_map(|&observer| self.changes.get(observer))
            .flatten()
            .filter(|(at_ns, member)| *at_ns >= since_ns && matches(member))
            .count()
    }

    /// The stamp of the first change from `since_ns` on, published by a member of
    /// `observers`, that `matches` picks.
    pub(super) fn first_since(
        &self,
        observers: &[usize],
        since_ns: u64,
        matches: impl Fn(&ClusterMember) -> bool,
    ) -> Option<u64> {
        observers
            .iter()
            .filter_map(|&observer| self.changes.get(observer))
            .flatten()
            .filter(|(at_ns, member)| *at_ns >= since_ns && matches(member))
            .map(|(at_ns, _)| *at_ns)
            .min()
    }

    /// When `condition` (asked of a member's index and view) started to hold, for good so
    /// far, for every member of `observers`: the stamp of the latest change that made it hold
    /// for one of them. `None` while it does not hold for one of them now.
    ///
    /// A condition that held before any change was reported (on an empty view) holds since
    /// stamp 0.
    pub(super) fn held_since(
        &self,
        observers: &[usize],
        condition: impl Fn(usize, &View) -> bool,
    ) -> Option<u64> {
        let mut latest = 0;
        for &observer in observers {
            let since = self.held_since_for(observer, &condition)?;
            latest = latest.max(since);
        }
        Some(latest)
    }

    /// [`held_since`](Self::held_since) for one member: replays its changes.
    fn held_since_for(
        &self,
        observer: usize,
        condition: &impl Fn(usize, &View) -> bool,
    ) -> Option<u64> {
        let mut view = View::new();
        let mut since = condition(observer, &view).then_some(0);
        for &(at_ns, member) in self.changes.get(observer)? {
            view.insert(member.id, member.state);
            since = match (condition(observer, &view), since) {
                (true, Some(earlier)) => Some(earlier),
                (true, None) => Some(at_ns),
                (false, _) => None,
            };
        }
        since
    }
}

/// Whether `view` lists every one of `ids` except `own` as up.
pub(super) fn lists_up(view: &View, ids: &[NodeId], own: NodeId) -> bool {
    ids.iter()
        .filter(|&&id| id != own)
        .all(|id| view.get(id) == Some(&MemberState::Up))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, state: MemberState) -> ClusterMember {
        ClusterMember {
            id: NodeId::from_u64(id),
            addr: "127.0.0.1:7000".parse().unwrap(),
            state,
        }
    }

    fn is(id: u64, state: MemberState) -> impl Fn(usize, &View) -> bool {
        move |_, view| view.get(&NodeId::from_u64(id)) == Some(&state)
    }

    #[test]
    fn a_condition_holds_since_the_last_member_it_came_to_hold_for() {
        let mut views = Views::new(3);
        views.record(0, 10, member(9, MemberState::Up));
        views.record(1, 20, member(9, MemberState::Up));
        assert_eq!(views.held_since(&[0, 1], is(9, MemberState::Up)), Some(20));
        // Member 2 has reported nothing: the condition does not hold for it.
        assert_eq!(views.held_since(&[0, 1, 2], is(9, MemberState::Up)), None);
        // Reported out of order across members: the latest stamp still wins.
        views.record(2, 15, member(9, MemberState::Up));
        assert_eq!(
            views.held_since(&[0, 1, 2], is(9, MemberState::Up)),
            Some(20)
        );
    }

    #[test]
    fn a_condition_that_stopped_holding_starts_again_later() {
        let mut views = Views::new(1);
        views.record(0, 10, member(9, MemberState::Up));
        views.record(0, 20, member(9, MemberState::Suspect));
        assert_eq!(views.held_since(&[0], is(9, MemberState::Up)), None);
        views.record(0, 30, member(9, MemberState::Up));
        assert_eq!(views.held_since(&[0], is(9, MemberState::Up)), Some(30));
        // A change of another member leaves it holding since 30.
        views.record(0, 40, member(8, MemberState::Up));
        assert_eq!(views.held_since(&[0], is(9, MemberState::Up)), Some(30));
        assert_eq!(views.view(0).len(), 2);
    }

    #[test]
    fn changes_are_counted_from_a_moment_on() {
        let mut views = Views::new(2);
        views.record(0, 10, member(9, MemberState::Suspect));
        views.record(0, 20, member(9, MemberState::Suspect));
        views.record(1, 30, member(8, MemberState::Suspect));
        views.record(1, 40, member(9, MemberState::Up));
        let suspect = |m: &ClusterMember| m.state == MemberState::Suspect;
        assert_eq!(views.count_since(&[0, 1], 0, suspect), 3);
        assert_eq!(views.count_since(&[0, 1], 20, suspect), 2);
        assert_eq!(views.count_since(&[1], 0, suspect), 1);
        assert_eq!(views.first_since(&[0, 1], 15, suspect), Some(20));
        assert_eq!(views.first_since(&[1], 0, suspect), Some(30));
        assert_eq!(views.first_since(&[0], 25, suspect), None);
    }

    #[test]
    fn every_other_member_up() {
        let ids = [1, 2, 3].map(NodeId::from_u64);
        let mut views = Views::new(3);
        let everyone = |i: usize, view: &View| lists_up(view, &ids, ids[i]);
        views.record(0, 10, member(2, MemberState::Up));
        views.record(0, 11, member(3, MemberState::Up));
        views.record(1, 12, member(1, MemberState::Up));
        views.record(1, 13, member(3, MemberState::Up));
        views.record(2, 14, member(1, MemberState::Up));
        assert_eq!(views.held_since(&[0, 1, 2], everyone), None);
        views.record(2, 16, member(2, MemberState::Up));
        assert_eq!(views.held_since(&[0, 1, 2], everyone), Some(16));
    }
}
