//! `System::shutdown` while four threads keep telling: it returns promptly, leaves no thread
//! behind, and every message is either handled or handed back to its sender.
//!
//! The only test in this binary, so that the thread count is the system's alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actor_core::{Actor, Context, HandlerResult, Mailbox, Overflow, SendError, System};

struct Count(Arc<AtomicU64>);

impl Actor for Count {
    type Msg = u64;
    fn handle(&mut self, _: u64, _: &mut Context<u64>) -> HandlerResult {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

#[test]
fn shutdown_under_load_accounts_for_every_message() {
    let before = thread_count();
    let system = System::new();
    let handled = Arc::new(AtomicU64::new(0));
    // Unbounded and bounded (blocking) mailboxes: a sender blocked on a full mailbox must be
    // released by the shutdown too.
    let actors: Vec<_> = (0..4)
        .map(|i| {
            let mailbox = if i % 2 == 0 {
                Mailbox::Unbounded
            } else {
                Mailbox::bounded(64, Overflow::Block)
            };
            system
                .actor_from(Count(Arc::clone(&handled)))
                .mailbox(mailbox)
                .spawn()
                .unwrap()
        })
        .collect();
    let go = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(AtomicU64::new(0));
    let returned = Arc::new(AtomicU64::new(0));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let actors = actors.clone();
            let (go, sent, returned) = (Arc::clone(&go), Arc::clone(&sent), Arc::clone(&returned));
            std::thread::spawn(move || {
                let mut n = 0u64;
                // Keep telling until every actor refuses: the shutdown has reached them all.
                let mut refused_by = [false; 4];
                while go.load(Ordering::Relaxed) && !refused_by.iter().all(|&r| r) {
                    let i = (n as usize + t) % actors.len();
                    sent.fetch_add(1, Ordering::Relaxed);
                    match actors[i].tell(n) {
                        Ok(()) => {}
                        Err(SendError::Closed(_)) => {
                            returned.fetch_add(1, Ordering::Relaxed);
                            refused_by[i] = true;
                        }
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                    n += 1;
                }
            })
        })
        .collect();
    // Let the load build up, then shut down under it.
    while sent.load(Ordering::Relaxed) < 200_000 {
        std::thread::yield_now();
    }
    let start = Instant::now();
    system.shutdown();
    let took = start.elapsed();
    go.store(false, Ordering::Relaxed);
    for sender in senders {
        sender.join().unwrap();
    }
    let (sent, handled, returned) = (
        sent.load(Ordering::Relaxed),
        handled.load(Ordering::Relaxed),
        returned.load(Ordering::Relaxed),
    );
    println!("shutdown took {took:?}: {sent} sent, {handled} handled, {returned} returned");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    assert_eq!(
        handled + returned,
        sent,
        "every message handled or returned"
    );
    assert_eq!(thread_count(), before, "no thread left behind");
}
