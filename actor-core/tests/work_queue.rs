//! Work queues: several consumers, bounded overflow policies, the close, priorities, the
//! wait until every item is done, and readiness in a `Select`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actor_core::{
    Inbox, JoinError, Mailbox, Overflow, RecvError, Reply, Select, SendError, SpawnError, Task,
    WorkQueue,
};
use crossbeam_channel::bounded;

const WAIT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(20);

/// Both orders, unbounded and bounded: most behaviour must not depend on the flavor.
fn flavors(capacity: Option<usize>) -> Vec<WorkQueue<u64>> {
    let mailbox = capacity.map_or(Mailbox::Unbounded, |capacity| {
        Mailbox::bounded(capacity, Overflow::Block)
    });
    vec![
        WorkQueue::with_mailbox(mailbox).unwrap(),
        WorkQueue::with_priority(mailbox, |_| 0).unwrap(),
    ]
}

#[test]
fn handles_are_send_sync_and_tasks_are_send() {
    fn check<T: Send + Sync>() {}
    fn check_send<T: Send>() {}
    check::<WorkQueue<String>>();
    check_send::<Task<String>>();
}

#[test]
fn zero_capacity_is_refused() {
    let zero = Mailbox::bounded(0, Overflow::Block);
    assert!(matches!(
        WorkQueue::<u8>::with_mailbox(zero),
        Err(SpawnError::ZeroCapacity)
    ));
    assert!(matches!(
        WorkQueue::<u8>::with_priority(zero, |_| 0),
        Err(SpawnError::ZeroCapacity)
    ));
}

#[test]
fn one_consumer_gets_items_in_arrival_order() {
    for queue in flavors(None) {
        for n in 0..100 {
            queue.put(n).unwrap();
        }
        let got: Vec<u64> = (0..100).map(|_| *queue.get().unwrap()).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }
}

#[test]
fn several_consumers_take_each_item_exactly_once() {
    const ITEMS: u64 = 20_000;
    for queue in flavors(Some(16)) {
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    let mut taken = Vec::new();
                    while let Ok(task) = queue.get_timeout(WAIT) {
                        taken.push(*task);
                    }
                    taken
                })
            })
            .collect();
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    for n in (p..ITEMS).step_by(2) {
                        queue.put(n).unwrap();
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.join().unwrap();
        }
        queue.close();
        let mut all: Vec<u64> = consumers
            .into_iter()
            .flat_map(|consumer| consumer.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..ITEMS).collect::<Vec<_>>());
        assert_eq!(queue.unfinished(), 0);
    }
}

#[test]
fn close_refuses_puts_and_drains_then_ends() {
    for queue in flavors(None) {
        queue.put(1).unwrap();
        queue.put(2).unwrap();
        queue.close();
        assert!(queue.is_closed());
        assert!(matches!(queue.put(3), Err(SendError::Closed(3))));
        assert!(matches!(queue.try_put(3), Err(SendError::Closed(3))));
        assert!(matches!(
            queue.put_timeout(3, SHORT),
            Err(SendError::Closed(3))
        ));
        assert_eq!(*queue.try_get().unwrap(), 1);
        assert_eq!(*queue.get_timeout(WAIT).unwrap(), 2);
        assert!(matches!(queue.try_get(), Err(RecvError::Closed)));
        assert!(matches!(queue.get(), Err(RecvError::Closed)));
        assert!(matches!(queue.get_timeout(WAIT), Err(RecvError::Closed)));
        queue.close();
        assert!(matches!(queue.get(), Err(RecvError::Closed)));
        queue.join_timeout(WAIT).unwrap();
    }
}

#[test]
fn close_wakes_every_blocked_consumer() {
    for queue in flavors(None) {
        let (ended_tx, ended) = bounded(4);
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let (queue, ended_tx) = (queue.clone(), ended_tx.clone());
                std::thread::spawn(move || ended_tx.send(queue.get().map(|t| *t)).unwrap())
            })
            .collect();
        queue.close();
        for _ in 0..4 {
            let result = ended.recv_timeout(WAIT).expect("a blocked consumer wakes");
            assert_eq!(result, Err(RecvError::Closed));
        }
        for consumer in consumers {
            consumer.join().unwrap();
        }
    }
}

#[test]
fn close_wakes_producers_blocked_on_a_full_queue() {
    for queue in flavors(Some(1)) {
        queue.put(0).unwrap();
        let (ended_tx, ended) = bounded(2);
        let producers: Vec<_> = (1..=2)
            .map(|n| {
                let (queue, ended_tx) = (queue.clone(), ended_tx.clone());
                std::thread::spawn(move || ended_tx.send(queue.put(n)).unwrap())
            })
            .collect();
        queue.close();
        for _ in 0..2 {
            let result = ended.recv_timeout(WAIT).expect("a blocked producer wakes");
            assert!(matches!(result, Err(SendError::Closed(_))));
        }
        for producer in producers {
            producer.join().unwrap();
        }
        assert_eq!(*queue.get().unwrap(), 0);
        assert!(matches!(queue.get(), Err(RecvError::Closed)));
    }
}

#[test]
fn a_consumer_blocks_until_an_item_arrives() {
    for queue in flavors(None) {
        let (got_tx, got) = bounded(1);
        let consumer = {
            let queue = queue.clone();
            std::thread::spawn(move || got_tx.send(*queue.get().unwrap()).unwrap())
        };
        queue.put(42).unwrap();
        assert_eq!(got.recv_timeout(WAIT), Ok(42));
        consumer.join().unwrap();
    }
}

#[test]
fn bounded_block_try_put_put_timeout_and_get_timeout() {
    for queue in flavors(Some(2)) {
        assert!(matches!(queue.get_timeout(SHORT), Err(RecvError::Timeout)));
        queue.try_put(1).unwrap();
        queue.put_timeout(2, SHORT).unwrap();
        assert!(matches!(queue.try_put(3), Err(SendError::Full(3))));
        assert!(matches!(
            queue.put_timeout(3, SHORT),
            Err(SendError::Timeout(3))
        ));
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.unfinished(), 2, "refused items are not counted");

        // A blocking put waits for the room a get makes.
        let (put_tx, put) = bounded(1);
        let producer = {
            let queue = queue.clone();
            std::thread::spawn(move || put_tx.send(queue.put(3).is_ok()).unwrap())
        };
        assert_eq!(*queue.get_timeout(WAIT).unwrap(), 1);
        assert_eq!(put.recv_timeout(WAIT), Ok(true));
        producer.join().unwrap();
        assert_eq!(*queue.get().unwrap(), 2);
        assert_eq!(*queue.get().unwrap(), 3);
        assert!(matches!(queue.try_get(), Err(RecvError::Empty)));
    }
}

#[test]
fn bounded_fail_and_drop_newest() {
    for priority in [false, true] {
        let make = |overflow| {
            let mailbox = Mailbox::bounded(1, overflow);
            if priority {
                WorkQueue::with_priority(mailbox, |_: &u32| 0).unwrap()
            } else {
                WorkQueue::with_mailbox(mailbox).unwrap()
            }
        };
        let fail = make(Overflow::Fail);
        fail.put(1).unwrap();
        assert!(matches!(fail.put(2), Err(SendError::Full(2))));
        assert_eq!(fail.unfinished(), 1);

        let drop_newest = make(Overflow::DropNewest);
        drop_newest.put(1).unwrap();
        drop_newest.put(2).unwrap();
        drop_newest.try_put(3).unwrap();
        assert_eq!(drop_newest.dropped_count(), 2);
        assert_eq!(
            drop_newest.unfinished(),
            1,
            "dropped items are not waited for"
        );
        assert_eq!(*drop_newest.get().unwrap(), 1);
        assert!(matches!(drop_newest.try_get(), Err(RecvError::Empty)));
    }
}

#[test]
fn priority_highest_first_and_arrival_order_among_equals() {
    let queue =
        WorkQueue::with_priority(Mailbox::Unbounded, |&(priority, _): &(u32, u32)| priority)
            .unwrap();
    let items = [(1, 0), (3, 1), (2, 2), (3, 3), (1, 4), (2, 5), (3, 6)];
    for item in items {
        queue.put(item).unwrap();
    }
    queue.close();
    let mut got = Vec::new();
    while let Ok(task) = queue.get() {
        got.push(*task);
    }
    assert_eq!(
        got,
        [(3, 1), (3, 3), (3, 6), (2, 2), (2, 5), (1, 0), (1, 4)]
    );
}

#[test]
fn join_waits_until_every_item_is_done() {
    for queue in flavors(None) {
        let processed = AtomicBool::new(false);
        let (taken_tx, taken) = bounded(1);
        let (release_tx, release) = bounded::<()>(1);
        std::thread::scope(|scope| {
            let queue_for_consumer = queue.clone();
            let processed = &processed;
            scope.spawn(move || {
                let task = queue_for_consumer.get().unwrap();
                taken_tx.send(()).unwrap();
                release.recv_timeout(WAIT).unwrap();
                processed.store(true, Ordering::Relaxed);
                drop(task);
            });
            queue.put(7).unwrap();
            taken.recv_timeout(WAIT).unwrap();
            // Taken but not done: a join that returned now would be early.
            assert_eq!(queue.unfinished(), 1);
            assert_eq!(queue.join_timeout(SHORT), Err(JoinError::Timeout));
            release_tx.send(()).unwrap();
            queue.join_timeout(WAIT).unwrap();
            assert!(
                processed.load(Ordering::Relaxed),
                "join returned before the task was done"
            );
        });
    }
}

#[test]
fn join_waits_for_items_nobody_has_taken_yet() {
    let queue = WorkQueue::new();
    queue.put("waiting").unwrap();
    assert_eq!(queue.join_timeout(SHORT), Err(JoinError::Timeout));
    queue.get().unwrap().done();
    queue.join();
    assert_eq!(queue.unfinished(), 0);
}

#[test]
fn a_panicking_consumer_still_marks_its_task_done() {
    let queue = WorkQueue::new();
    queue.put(1).unwrap();
    let consumer = {
        let queue = queue.clone();
        std::thread::spawn(move || {
            let _task = queue.get().unwrap();
            panic!("the consumer fails while holding its task");
        })
    };
    assert!(consumer.join().is_err());
    queue.join_timeout(WAIT).unwrap();
}

#[test]
fn a_task_can_be_finished_on_another_thread() {
    let queue = WorkQueue::new();
    queue.put(String::from("job")).unwrap();
    let task = queue.get().unwrap();
    std::thread::spawn(move || assert_eq!(*task, "job"))
        .join()
        .unwrap();
    queue.join_timeout(WAIT).unwrap();
}

#[test]
fn an_item_carrying_a_reply_is_waited_for_on_its_own() {
    let queue: WorkQueue<(u64, Reply<u64>)> = WorkQueue::new();
    let consumer = {
        let queue = queue.clone();
        std::thread::spawn(move || {
            while let Ok(task) = queue.get() {
                let (n, reply) = task.into_inner();
                reply.send(n * n);
            }
        })
    };
    let (reply, mut square) = Reply::pair();
    queue.put((12, reply)).unwrap();
    assert_eq!(square.wait_timeout(WAIT), Ok(144));
    queue.close();
    consumer.join().unwrap();
    assert_eq!(queue.unfinished(), 0, "into_inner marks the task done");
}

/// Producers race the close: every put that returned `Ok` is taken exactly once, consumers
/// then see the end instead of hanging, and nothing is left unfinished.
#[test]
fn every_accepted_put_is_taken_when_closing_under_load() {
    for capacity in [None, Some(4)] {
        for queue in flavors(capacity) {
            let accepted = AtomicU64::new(0);
            let taken = AtomicU64::new(0);
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        while let Ok(task) = queue.get_timeout(WAIT) {
                            taken.fetch_add(*task, Ordering::Relaxed);
                        }
                        assert!(matches!(queue.try_get(), Err(RecvError::Closed)));
                    });
                }
                for _ in 0..3 {
                    scope.spawn(|| {
                        for n in 1.. {
                            match queue.put(n) {
                                Ok(()) => accepted.fetch_add(n, Ordering::Relaxed),
                                Err(error) => {
                                    assert!(error.is_closed());
                                    break;
                                }
                            };
                        }
                    });
                }
                let deadline = Instant::now() + WAIT;
                while accepted.load(Ordering::Relaxed) < 1_000 && Instant::now() < deadline {
                    std::thread::yield_now();
                }
                queue.close();
            });
            assert_eq!(
                taken.load(Ordering::Relaxed),
                accepted.load(Ordering::Relaxed),
                "{queue:?}"
            );
            queue.join_timeout(WAIT).unwrap();
        }
    }
}

#[test]
fn in_a_select_a_queue_is_ready_exactly_while_a_get_would_not_wait() {
    for queue in flavors(None) {
        let other: Inbox<()> = Inbox::new();
        let mut select = Select::new();
        select.inbox(&other);
        let index = select.work_queue(&queue);
        assert_eq!(select.try_ready(), None);

        let producer = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.put(5).unwrap())
        };
        assert_eq!(select.ready_timeout(WAIT), Some(index));
        producer.join().unwrap();
        assert_eq!(*queue.try_get().unwrap(), 5);
        assert_eq!(select.try_ready(), None, "drained: not ready any more");

        queue.put(6).unwrap();
        queue.close();
        assert_eq!(select.try_ready(), Some(index));
        assert_eq!(*queue.try_get().unwrap(), 6);
        for _ in 0..3 {
            assert_eq!(select.try_ready(), Some(index), "the end stays ready");
            assert!(matches!(queue.try_get(), Err(RecvError::Closed)));
        }
        select.remove(index);
        assert_eq!(select.try_ready(), None);
    }
}

#[test]
fn consumers_blocked_in_selects_wake_at_the_close_and_share_the_items() {
    for queue in flavors(Some(4)) {
        let taken = AtomicU64::new(0);
        std::thread::scope(|scope| {
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    scope.spawn(|| {
                        let mut select = Select::new();
                        let index = select.work_queue(&queue);
                        loop {
                            assert_eq!(select.ready_timeout(WAIT), Some(index));
                            match queue.try_get() {
                                Ok(item) => taken.fetch_add(*item, Ordering::Relaxed),
                                Err(RecvError::Empty) => continue,
                                Err(error) => return error,
                            };
                        }
                    })
                })
                .collect();
            for n in 1..=100 {
                queue.put(n).unwrap();
            }
            queue.close();
            for consumer in consumers {
                assert_eq!(consumer.join().unwrap(), RecvError::Closed);
            }
        });
        assert_eq!(taken.load(Ordering::Relaxed), 5050);
    }
}
