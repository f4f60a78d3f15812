//! Recipe: deadlock avoidance by taking several locks in one global order, with a debug check
//! that reports code taking them out of order; the dining philosophers eat and finish.
//!
//! Run with `cargo run --example ordered_locks` (a debug build, to see the check report).

use std::sync::Arc;

use actor::OrderedMutex;

const PHILOSOPHERS: usize = 5;
const MEALS: u32 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Each philosopher needs the fork on each side; naively taking left then right deadlocks
    // as soon as all five hold their left fork. `lock_all` takes both by rank instead.
    let forks: Arc<Vec<OrderedMutex<u32>>> =
        Arc::new((0..PHILOSOPHERS).map(|_| OrderedMutex::new(0)).collect());
    let diners: Vec<_> = (0..PHILOSOPHERS)
        .map(|n| {
            let forks = Arc::clone(&forks);
            std::thread::spawn(move || {
                let (left, right) = (&forks[n], &forks[(n + 1) % PHILOSOPHERS]);
                for _ in 0..MEALS {
                    let [mut left, mut right] = OrderedMutex::lock_all([left, right]);
                    *left += 1;
                    *right += 1;
                }
            })
        })
        .collect();
    for diner in diners {
        diner.join().map_err(|_| "a philosopher panicked")?;
    }
    let uses: u32 = forks.iter().map(|fork| *fork.lock()).sum();
    println!("{PHILOSOPHERS} philosophers ate {MEALS} meals each; forks used {uses} times");
    if uses != 2 * MEALS * PHILOSOPHERS as u32 {
        return Err("a meal went missing".into());
    }

    // The naive order, left then right, for the last philosopher (fork 4, then fork 0) is
    // reported on its first run in a debug build, with both places.
    if cfg!(debug_assertions) {
        std::panic::set_hook(Box::new(|_| {})); // the report is printed below instead
        let forks = Arc::clone(&forks);
        let wrong = std::thread::spawn(move || {
            let _left = forks[PHILOSOPHERS - 1].lock();
            let _right = forks[0].lock(); // ranked below the fork held
        });
        let report = wrong
            .join()
            .err()
            .ok_or("the out-of-order lock was not reported")?;
        let _ = std::panic::take_hook();
        let message = report
            .downcast_ref::<String>()
            .ok_or("the report is not text")?;
        println!("the check reports: {message}");
    } else {
        println!(
            "(the lock-order check runs in debug builds: `cargo run --example ordered_locks`)"
        );
    }
    Ok(())
}
