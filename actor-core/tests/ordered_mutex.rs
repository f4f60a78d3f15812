//! Ordered mutexes: several taken at once in the global order, and the debug check that
//! reports an out-of-order acquisition with both places.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use actor_core::OrderedMutex;

/// The message of the panic `f` raises, if it raises one.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
}

#[test]
fn lock_all_hands_the_guards_back_in_the_order_asked() {
    let a = OrderedMutex::new('a');
    let b = OrderedMutex::new('b');
    let c = OrderedMutex::new('c');
    let [gc, ga, gb] = OrderedMutex::lock_all([&c, &a, &b]);
    assert_eq!([*gc, *ga, *gb], ['c', 'a', 'b']);
}

#[test]
fn opposite_orders_on_two_threads_finish() {
    let a = Arc::new(OrderedMutex::new(0_u64));
    let b = Arc::new(OrderedMutex::new(0_u64));
    let threads: Vec<_> = [(a.clone(), b.clone()), (b.clone(), a.clone())]
        .into_iter()
        .map(|(first, second)| {
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    let [mut x, mut y] = OrderedMutex::lock_all([&*first, &*second]);
                    *x += 1;
                    *y += 1;
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!((*a.lock(), *b.lock()), (20_000, 20_000));
}

#[test]
#[cfg(debug_assertions)]
fn taking_a_lower_rank_while_holding_a_higher_one_panics_with_both_sites() {
    let low = OrderedMutex::new(());
    let high = OrderedMutex::new(());
    let message = panic_message(|| {
        let _high = high.lock();
        let _low = low.lock();
    })
    .expect("the out-of-order lock panics");
    assert!(message.contains("lock order violated"), "{message}");
    assert!(
        message.contains(&format!("rank {}", low.rank())),
        "{message}"
    );
    assert!(
        message.contains(&format!("rank {}", high.rank())),
        "{message}"
    );
    // Both places are in this file.
    assert_eq!(message.matches("ordered_mutex.rs:").count(), 2, "{message}");
    // The guard taken before the panic was released while unwinding.
    assert!(high.try_lock().is_some());
    // In order, the same two are fine.
    let _low = low.lock();
    let _high = high.lock();
}

#[test]
#[cfg(debug_assertions)]
fn taking_a_held_mutex_again_panics_instead_of_waiting_forever() {
    let mutex = OrderedMutex::new(());
    let message = panic_message(|| {
        let _first = mutex.lock();
        let _second = mutex.lock_timeout(Duration::from_secs(60));
    })
    .expect("the second lock panics");
    assert!(message.contains("already holds it"), "{message}");
}

#[test]
fn lock_all_refuses_the_same_mutex_twice() {
    let mutex = OrderedMutex::new(());
    let message = panic_message(|| {
        let _ = OrderedMutex::lock_all([&mutex, &mutex]);
    })
    .expect("lock_all panics");
    assert!(message.contains("asked for twice"), "{message}");
    assert!(mutex.try_lock().is_some());
}

#[test]
fn guards_are_not_sent_but_mutexes_are_shared() {
    fn shared<T: Send + Sync>() {}
    shared::<OrderedMutex<Vec<u8>>>();
}
