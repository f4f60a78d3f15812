//! [`PendingRequests`]: what this side waits for from one peer — answers to the replies it
//! sent, answers to its lookups, the end of remote actors it monitors, and the end of the
//! connection itself.
//!
//! States of the table:
//!
//! | `ended`        | meaning                                                           |
//! |----------------|-------------------------------------------------------------------|
//! | `None`         | open: requests are recorded and completed as their answers arrive |
//! | `Some(reason)` | ended: every request was failed once; new ones fail at once       |
//!
//! `ended` is set once, under the same lock that records requests, so a request is either
//! recorded before the end (and failed by it) or refused after it: none waits forever.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use actor_core::wire::ReplyCompleter;
use actor_core::{ExitReason, Pending, Reply, ReplyError};
use parking_lot::Mutex;

use crate::message::LookupFailure;

/// The answer to a lookup: the remote actor's id, or why there is none.
pub(crate) type LookupAnswer = Result<u64, (LookupFailure, String)>;

/// The requests waiting for one peer; see the module documentation.
pub(crate) struct PendingRequests {
    /// Ids of replies and lookups: one counter, so that a log can tell them apart.
    next_id: AtomicU64,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    replies: HashMap<u64, ReplyCompleter>,
    lookups: HashMap<u64, Reply<LookupAnswer>>,
    /// Monitors of the peer's actors, by actor id: told by a DOWN, or by the end.
    actor_watchers: HashMap<u64, Vec<Reply<ExitReason>>>,
    ended: Option<ExitReason>,
}

impl PendingRequests {
    pub(crate) fn new() -> PendingRequests {
        PendingRequests {
            next_id: AtomicU64::new(1),
            table: Mutex::new(Table::default()),
        }
    }

    fn next_id(&self) -> u64 {
        // Relaxed: the id only has to be unique, which the atomic increment ensures.
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Records a reply sent to the peer; returns the id that travels in its place. After the
    /// end, the reply is failed at once (with `Disconnected`) and the id is never answered.
    pub(crate) fn add_reply(&self, complete: ReplyCompleter) -> u64 {
        let id = self.next_id();
        let refused = {
            let mut table = self.table.lock();
            if table.ended.is_some() {
                Some(complete)
            } else {
                table.replies.insert(id, complete);
                None
            }
        };
        if let Some(complete) = refused {
            complete(Err(ReplyError::Disconnected));
        }
        id
    }

    /// Completes the reply `id` with the peer's answer; an unknown id (answered already, or
    /// never asked) is ignored.
    pub(crate) fn complete_reply(&self, id: u64, answer: Result<&[u8], ReplyError>) {
        let complete = self.table.lock().replies.remove(&id);
        if let Some(complete) = complete {
            complete(answer);
        }
    }

    /// Fails the replies `ids` (of a message that could not be sent) with `error`.
    pub(crate) fn fail_replies(&self, ids: &[u64], error: &ReplyError) {
        let completers: Vec<ReplyCompleter> = {
            let mut table = self.table.lock();
            ids.iter()
                .filter_map(|id| table.replies.remove(id))
                .collect()
        };
        for complete in completers {
            complete(Err(error.clone()));
        }
    }

    /// Records a lookup about to be sent: its id and its answer to come, or `None` after the
    /// end (the answer has then failed already).
    pub(crate) fn add_lookup(&self) -> (Option<u64>, Pending<LookupAnswer>) {
        let (reply, pending) = Reply::pair();
        let mut table = self.table.lock();
        if table.ended.is_some() {
            // Dropping the reply fails the lookup at once.
            return (None, pending);
        }
        let id = self.next_id();
        table.lookups.insert(id, reply);
        (Some(id), pending)
    }

    /// Completes the lookup `id` with the peer's answer; an unknown id is ignored.
    pub(crate) fn complete_lookup(&self, id: u64, answer: LookupAnswer) {
        let reply = self.table.lock().lookups.remove(&id);
        if let Some(reply) = reply {
            reply.send(answer);
        }
    }

    /// Completes when the peer's actor `actor` ends (its DOWN arrives) or the connection
    /// does, whichever comes first; also returns whether this is the first watcher of that
    /// actor, which is when the peer must be sent a MONITOR. After the end, completes at once.
    pub(crate) fn watch_actor(&self, actor: u64) -> (Pending<ExitReason>, bool) {
        let mut table = self.table.lock();
        if let Some(reason) = &table.ended {
            return (Pending::ready(Ok(reason.clone())), false);
        }
        let (reply, pending) = Reply::pair();
        let watchers = table.actor_watchers.entry(actor).or_default();
        watchers.retain(|w| !w.is_canceled());
        let first = watchers.is_empty();
        watchers.push(reply);
        (pending, first)
    }

    /// The peer's actor `actor` ended for `reason`: tells its watchers.
    pub(crate) fn actor_down(&self, actor: u64, reason: &ExitReason) {
        let watchers = self.table.lock().actor_watchers.remove(&actor);
        for watcher in watchers.into_iter().flatten() {
            watcher.send(reason.clone());
        }
    }

    /// Ends the table (once): fails every request with `Disconnected` and tells the watchers
    /// `reason`. Later calls do nothing.
    pub(crate) fn end(&self, reason: &ExitReason) {
        let taken = {
            let mut table = self.table.lock();
            if table.ended.is_some() {
                return;
            }
            // What waits is taken out; `ended` stays, so that a watcher added later is
            // answered at once.
            let taken = std::mem::take(&mut *table);
            table.ended = Some(reason.clone());
            taken
        };
        for complete in taken.replies.into_values() {
            complete(Err(ReplyError::Disconnected));
        }
        // Dropping the lookups' replies fails them at once.
        drop(taken.lookups);
        for watcher in taken.actor_watchers.into_values().flatten() {
            watcher.send(reason.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    type Seen = Arc<Mutex<Option<Result<Vec<u8>, ReplyError>>>>;

    /// A completer that records what it is completed with.
    fn recorder() -> (ReplyCompleter, Seen) {
        let seen: Seen = Arc::default();
        let record = Arc::clone(&seen);
        let complete: ReplyCompleter = Box::new(move |answer| {
            *record.lock() = Some(answer.map(<[u8]>::to_vec));
        });
        (complete, seen)
    }

    #[test]
    fn the_end_fails_every_request_and_refuses_later_ones() {
        let table = PendingRequests::new();
        let (complete, answered) = recorder();
        let id = table.add_reply(complete);
        let (lookup, lookup_answer) = table.add_lookup();
        assert!(lookup.is_some());
        let (watcher, first) = table.watch_actor(9);
        assert!(first);
        table.end(&ExitReason::Stopped);
        assert_eq!(*answered.lock(), Some(Err(ReplyError::Disconnected)));
        assert_eq!(lookup_answer.wait(), Err(ReplyError::Dropped));
        assert!(matches!(watcher.wait(), Ok(ExitReason::Stopped)));
        // An answer to a request failed already changes nothing.
        table.complete_reply(id, Ok(b"late"));
        assert_eq!(*answered.lock(), Some(Err(ReplyError::Disconnected)));

        let (complete, refused) = recorder();
        table.add_reply(complete);
        assert_eq!(*refused.lock(), Some(Err(ReplyError::Disconnected)));
        assert!(table.add_lookup().0.is_none());
        assert!(matches!(
            table.watch_actor(9).0.wait(),
            Ok(ExitReason::Stopped)
        ));
    }

    #[test]
    fn answers_complete_their_own_request_once() {
        let table = PendingRequests::new();
        let (complete, answered) = recorder();
        let id = table.add_reply(complete);
        table.complete_reply(id + 1000, Ok(b"stranger"));
        assert_eq!(*answered.lock(), None);
        table.complete_reply(id, Ok(b"mine"));
        table.complete_reply(id, Ok(b"again"));
        assert_eq!(*answered.lock(), Some(Ok(b"mine".to_vec())));

        let (lookup, answer) = table.add_lookup();
        table.complete_lookup(lookup.expect("open"), Ok(7));
        assert_eq!(answer.wait(), Ok(Ok(7)));
    }

    #[test]
    fn failing_replies_fails_only_those() {
        let table = PendingRequests::new();
        let (first, first_seen) = recorder();
        let (second, second_seen) = recorder();
        let first_id = table.add_reply(first);
        let _second_id = table.add_reply(second);
        table.fail_replies(&[first_id], &ReplyError::Remote("full".into()));
        assert_eq!(
            *first_seen.lock(),
            Some(Err(ReplyError::Remote("full".into())))
        );
        assert_eq!(*second_seen.lock(), None);
    }
}
