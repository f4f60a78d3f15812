//! Recipe: per-thread state: each thread of a pool lazily opens its own connection object the
//! first time a task needs it, and every later task on that thread reuses it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actor::pool::ThreadPool;

/// Stands for a database or network connection: costly to open, not to be shared by threads.
struct Connection {
    number: u32,
    queries: u32,
}

static OPENED: AtomicU32 = AtomicU32::new(0);

thread_local! {
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// Runs a query on this thread's connection, opening it on first use; says which connection.
fn query(task: u32) -> u32 {
    CONNECTION.with(|connection| {
        let mut connection = connection.borrow_mut();
        let connection = connection.get_or_insert_with(|| {
            let number = OPENED.fetch_add(1, Ordering::Relaxed) + 1;
            let thread = std::thread::current();
            println!(
                "{} opens connection {number}",
                thread.name().unwrap_or("a thread")
            );
            Connection { number, queries: 0 }
        });
        connection.queries += 1;
        // A real query would send `task` and wait for the answer.
        let _ = task;
        std::thread::sleep(Duration::from_millis(2));
        connection.number
    })
}

const THREADS: usize = 3;
const TASKS: u32 = 30;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPool::builder().threads(THREADS).build()?;
    let mut used = BTreeMap::new();
    for connection in pool.map(query, 0..TASKS) {
        *used.entry(connection?).or_insert(0) += 1;
    }
    pool.shutdown();
    println!("{TASKS} tasks used connections {used:?}");
    let opened = OPENED.load(Ordering::Relaxed);
    if opened as usize > THREADS || used.values().sum::<u32>() != TASKS {
        return Err(format!("{opened} connections for {THREADS} threads").into());
    }
    Ok(())
}
