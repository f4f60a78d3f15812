//! Inboxes and `Select`: a thread receives from several queues at once.

use std::collections::HashMap;
use std::time::Duration;

use actor_core::{ExitReason, Inbox, Select, SendError};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn one_consumer_takes_everything_from_three_producers() {
    const PER_PRODUCER: u32 = 10_000;
    let inboxes: Vec<Inbox<Option<u32>>> = (0..3).map(|_| Inbox::new()).collect();
    let producers: Vec<_> = inboxes
        .iter()
        .map(|inbox| {
            let target = inbox.actor_ref().clone();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    target.tell(Some(i)).unwrap();
                }
                target.tell(None).unwrap();
            })
        })
        .collect();

    let mut select = Select::new();
    let indexes: Vec<usize> = inboxes.iter().map(|inbox| select.inbox(inbox)).collect();
    let mut next: HashMap<usize, u32> = HashMap::new();
    let mut open = inboxes.len();
    while open > 0 {
        let index = select.ready_timeout(WAIT).expect("a producer is ready");
        let source = indexes.iter().position(|&i| i == index).unwrap();
        match inboxes[source].try_recv() {
            Ok(Some(value)) => {
                let expected = next.entry(source).or_default();
                assert_eq!(value, *expected, "in order per producer");
                *expected += 1;
            }
            Ok(None) => {
                select.remove(index);
                open -= 1;
            }
            Err(_) => {}
        }
    }
    for producer in producers {
        producer.join().unwrap();
    }
    assert!(next.values().all(|&n| n == PER_PRODUCER));
}

#[test]
fn a_dropped_inbox_refuses_messages_and_tells_its_monitors() {
    let inbox: Inbox<u8> = Inbox::new();
    let target = inbox.actor_ref().clone();
    let down = target.monitor();
    target.tell(1).unwrap();
    drop(inbox);
    assert!(!target.is_alive());
    assert!(matches!(target.tell(2), Err(SendError::Closed(2))));
    let mut down = down;
    assert!(matches!(
        down.wait_timeout(WAIT).unwrap().reason,
        ExitReason::Stopped
    ));
}

#[test]
fn select_mixes_inboxes_and_channels() {
    let inbox: Inbox<&str> = Inbox::new();
    let (tx, rx) = crossbeam_channel::unbounded::<u8>();
    let mut select = Select::new();
    let inbox_index = select.inbox(&inbox);
    let channel_index = select.channel(&rx);
    assert_eq!(select.try_ready(), None);
    tx.send(9).unwrap();
    assert_eq!(select.ready_timeout(WAIT), Some(channel_index));
    assert_eq!(rx.try_recv(), Ok(9));
    inbox.actor_ref().tell("x").unwrap();
    assert_eq!(select.ready_timeout(WAIT), Some(inbox_index));
    assert_eq!(inbox.try_recv(), Ok("x"));
}
