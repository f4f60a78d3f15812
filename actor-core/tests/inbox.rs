//! Inboxes: bounded mailboxes with their overflow policies, and the close (drain, then the
//! end; senders refused; blocked receivers woken); each for both kinds of inbox, in arrival
//! order and by priority; and priority inboxes' order and readiness in a `Select`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actor_core::{Inbox, Mailbox, Overflow, RecvError, Select, SendError, SpawnError};
use crossbeam_channel::bounded;

const WAIT: Duration = Duration::from_secs(10);

/// An inbox of each kind with the given limits: in arrival order, and by priority (all
/// equal, so the order is the arrival order too).
fn both<M: Send + 'static>(mailbox: Mailbox) -> [Inbox<M>; 2] {
    [
        Inbox::with_mailbox(mailbox).unwrap(),
        Inbox::with_priority(mailbox, |_: &M| 0).unwrap(),
    ]
}

#[test]
fn inbox_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Inbox<String>>();
    check::<RecvError>();
}

#[test]
fn zero_capacity_is_refused() {
    let refused = Inbox::<u8>::with_mailbox(Mailbox::bounded(0, Overflow::Block));
    assert!(matches!(refused, Err(SpawnError::ZeroCapacity)));
    let refused = Inbox::<u8>::with_priority(Mailbox::bounded(0, Overflow::Block), |_| 0);
    assert!(matches!(refused, Err(SpawnError::ZeroCapacity)));
}

#[test]
fn bounded_fail_refuses_when_full() {
    for inbox in both(Mailbox::bounded(2, Overflow::Fail)) {
        let to_inbox = inbox.actor_ref();
        to_inbox.tell(1).unwrap();
        to_inbox.tell(2).unwrap();
        assert!(matches!(to_inbox.tell(3), Err(SendError::Full(3))));
        assert_eq!(inbox.recv(), Ok(1));
        to_inbox.tell(4).unwrap();
        assert_eq!(inbox.recv(), Ok(2));
        assert_eq!(inbox.recv(), Ok(4));
        assert_eq!(inbox.try_recv(), Err(RecvError::Empty));
    }
}

#[test]
fn bounded_drop_newest_counts_what_it_drops() {
    for inbox in both(Mailbox::bounded(1, Overflow::DropNewest)) {
        let to_inbox = inbox.actor_ref();
        to_inbox.tell("kept").unwrap();
        to_inbox.tell("dropped").unwrap();
        to_inbox.tell("dropped too").unwrap();
        assert_eq!(to_inbox.dropped_count(), 2);
        assert_eq!(inbox.recv(), Ok("kept"));
        assert_eq!(inbox.try_recv(), Err(RecvError::Empty));
    }
}

#[test]
fn bounded_block_waits_for_room() {
    for inbox in both(Mailbox::bounded(1, Overflow::Block)) {
        let to_inbox = inbox.actor_ref().clone();
        to_inbox.tell(1).unwrap();
        assert!(matches!(to_inbox.try_tell(2), Err(SendError::Full(2))));
        assert!(matches!(
            to_inbox.tell_timeout(2, Duration::from_millis(10)),
            Err(SendError::Timeout(2))
        ));
        let (told_tx, told) = bounded(1);
        let sender = std::thread::spawn(move || {
            to_inbox.tell(2).unwrap();
            told_tx.send(()).unwrap();
        });
        assert_eq!(inbox.recv_timeout(WAIT), Ok(1));
        told.recv_timeout(WAIT).expect("the blocked tell gets room");
        assert_eq!(inbox.recv_timeout(WAIT), Ok(2));
        sender.join().unwrap();
    }
}

#[test]
fn close_refuses_senders_and_drains_then_ends() {
    for inbox in both(Mailbox::Unbounded) {
        let to_inbox = inbox.actor_ref();
        to_inbox.tell(1).unwrap();
        to_inbox.tell(2).unwrap();
        inbox.close();
        assert!(inbox.is_closed());
        assert!(matches!(to_inbox.tell(3), Err(SendError::Closed(3))));
        assert_eq!(inbox.try_recv(), Ok(1));
        assert_eq!(inbox.recv_timeout(WAIT), Ok(2));
        assert_eq!(inbox.try_recv(), Err(RecvError::Closed));
        assert_eq!(inbox.recv(), Err(RecvError::Closed));
        assert_eq!(inbox.recv_timeout(WAIT), Err(RecvError::Closed));
        inbox.close();
        assert_eq!(
            inbox.recv(),
            Err(RecvError::Closed),
            "closing twice changes nothing"
        );
    }
}

#[test]
fn stopping_the_ref_closes_the_inbox() {
    for inbox in both::<u8>(Mailbox::Unbounded) {
        inbox.actor_ref().stop();
        assert!(inbox.is_closed());
        assert_eq!(inbox.recv(), Err(RecvError::Closed));
        assert!(inbox.actor_ref().is_alive(), "ended only when dropped");
    }
}

#[test]
fn recv_timeout_on_an_open_empty_inbox_times_out() {
    for inbox in both::<u8>(Mailbox::Unbounded) {
        assert_eq!(
            inbox.recv_timeout(Duration::from_millis(10)),
            Err(RecvError::Timeout)
        );
    }
}

#[test]
fn close_wakes_blocked_receivers() {
    for inbox in both::<u32>(Mailbox::Unbounded) {
        let (ended_tx, ended) = bounded(4);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let ended_tx = ended_tx.clone();
                let inbox = &inbox;
                scope.spawn(move || ended_tx.send(inbox.recv()).unwrap());
            }
            inbox.close();
            for _ in 0..4 {
                let result = ended.recv_timeout(WAIT).expect("a blocked receiver wakes");
                assert_eq!(result, Err(RecvError::Closed));
            }
        });
    }
}

#[test]
fn a_tell_blocked_on_a_full_inbox_before_the_close_is_delivered() {
    for inbox in both(Mailbox::bounded(1, Overflow::Block)) {
        let to_inbox = inbox.actor_ref().clone();
        to_inbox.tell(1).unwrap();
        let (started_tx, started) = bounded(1);
        let sender = std::thread::spawn(move || {
            started_tx.send(()).unwrap();
            to_inbox.tell(2)
        });
        started.recv_timeout(WAIT).unwrap();
        inbox.close();
        let mut got = vec![inbox.recv_timeout(WAIT).unwrap()];
        // The blocked tell either got in before the close (then it is received) or was refused.
        let told = sender.join().unwrap();
        if told.is_ok() {
            got.push(inbox.recv_timeout(WAIT).unwrap());
        }
        assert_eq!(inbox.recv_timeout(WAIT), Err(RecvError::Closed));
        assert_eq!(got[0], 1);
        assert_eq!(got.len(), if told.is_ok() { 2 } else { 1 });
    }
}

/// Senders race the close: every tell that returned `Ok` is received exactly once, and the
/// receivers then see the end instead of hanging.
#[test]
fn every_accepted_tell_is_received_when_closing_under_load() {
    for capacity in [None, Some(4)] {
        let mailbox = capacity.map_or(Mailbox::Unbounded, |capacity| {
            Mailbox::bounded(capacity, Overflow::Block)
        });
        for inbox in both::<u64>(mailbox) {
            let accepted = AtomicU64::new(0);
            let received = AtomicU64::new(0);
            std::thread::scope(|scope| {
                let receivers: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut sum = 0;
                            while let Ok(n) = inbox.recv_timeout(WAIT) {
                                sum += n;
                            }
                            assert_eq!(inbox.try_recv(), Err(RecvError::Closed));
                            received.fetch_add(sum, Ordering::Relaxed);
                        })
                    })
                    .collect();
                let senders: Vec<_> = (0..3)
                    .map(|_| {
                        let to_inbox = inbox.actor_ref().clone();
                        let accepted = &accepted;
                        scope.spawn(move || {
                            for n in 1.. {
                                match to_inbox.tell(n) {
                                    Ok(()) => accepted.fetch_add(n, Ordering::Relaxed),
                                    Err(error) => {
                                        assert!(error.is_closed());
                                        break;
                                    }
                                };
                            }
                        })
                    })
                    .collect();
                // Let some traffic through, then close in the middle of it.
                let deadline = std::time::Instant::now() + WAIT;
                while accepted.load(Ordering::Relaxed) < 1_000
                    && std::time::Instant::now() < deadline
                {
                    std::thread::yield_now();
                }
                inbox.close();
                for sender in senders {
                    sender.join().unwrap();
                }
                for receiver in receivers {
                    receiver.join().unwrap();
                }
            });
            assert_eq!(
                received.load(Ordering::Relaxed),
                accepted.load(Ordering::Relaxed),
                "capacity {capacity:?}"
            );
        }
    }
}

#[test]
fn monitors_hear_of_the_inbox_when_it_is_dropped() {
    for inbox in both::<u8>(Mailbox::Unbounded) {
        let mut down = inbox.actor_ref().monitor();
        inbox.close();
        assert!(!down.is_ready(), "closed is not ended");
        let id = inbox.id();
        drop(inbox);
        assert_eq!(down.wait_timeout(WAIT).unwrap().id, id);
    }
}

#[test]
fn a_closed_inbox_stays_ready_in_a_select_until_removed() {
    for inbox in both(Mailbox::Unbounded) {
        inbox.actor_ref().tell("last").unwrap();
        inbox.close();
        let mut select = Select::new();
        let index = select.inbox(&inbox);
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        assert_eq!(inbox.try_recv(), Ok("last"));
        for _ in 0..3 {
            assert_eq!(select.ready_timeout(WAIT), Some(index));
            assert_eq!(inbox.try_recv(), Err(RecvError::Closed));
        }
    }
}

#[test]
fn a_priority_inbox_hands_out_the_highest_priority_first_then_in_arrival_order() {
    let inbox =
        Inbox::with_priority(Mailbox::Unbounded, |&(priority, _): &(u32, u32)| priority).unwrap();
    let to_inbox = inbox.actor_ref();
    for message in [(0, 1), (2, 2), (1, 3), (2, 4), (0, 5)] {
        to_inbox.tell(message).unwrap();
    }
    let order: Vec<u32> = std::iter::from_fn(|| inbox.try_recv().ok())
        .map(|(_, n)| n)
        .collect();
    assert_eq!(order, [2, 4, 3, 1, 5]);
}

#[test]
fn a_priority_inbox_in_a_select_is_ready_exactly_while_it_holds_something() {
    let inbox = Inbox::with_priority(Mailbox::Unbounded, |&n: &u32| n).unwrap();
    let other: Inbox<()> = Inbox::new();
    let mut select = Select::new();
    let index = select.inbox(&inbox);
    select.inbox(&other);
    assert_eq!(select.try_ready(), None);

    let to_inbox = inbox.actor_ref().clone();
    let sender = std::thread::spawn(move || {
        to_inbox.tell(1).unwrap();
        to_inbox.tell(7).unwrap();
    });
    assert_eq!(select.ready_timeout(WAIT), Some(index));
    sender.join().unwrap();
    assert_eq!(select.try_ready(), Some(index));
    assert_eq!(inbox.try_recv(), Ok(7));
    assert_eq!(select.try_ready(), Some(index), "one message is left");
    assert_eq!(inbox.try_recv(), Ok(1));
    assert_eq!(select.try_ready(), None, "drained: not ready any more");
    assert_eq!(inbox.try_recv(), Err(RecvError::Empty));

    // A receiver blocked in a select wakes at the close, and sees the end.
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            let mut select = Select::new();
            let index = select.inbox(&inbox);
            assert_eq!(select.ready_timeout(WAIT), Some(index));
            inbox.try_recv()
        });
        inbox.actor_ref().stop();
        assert_eq!(waiter.join().unwrap(), Err(RecvError::Closed));
    });
}
