//! Pools for the `actor` framework: threads that run closures, and processes that run named
//! functions.
//!
//! # Thread pool
//!
//! A [`ThreadPool`] is a fixed set of threads sharing one queue. Each submitted closure comes
//! back as a [`Pending`](actor_core::Pending) result: wait for it, poll it, or attach a
//! callback. A closure that panics yields an error carrying the panic message, and the thread
//! goes on.
//!
//! ```
//! use actor_pool::{Queue, ThreadPool};
//!
//! let pool = ThreadPool::builder().threads(4).queue(Queue::Bounded(1000)).build()?;
//! let answer = pool.submit(|| 6 * 7);
//! let lengths: Vec<usize> = pool
//!     .map(|word: &str| word.len(), ["one", "three", "seven"])
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(answer.wait()?, 42);
//! assert_eq!(lengths, [3, 5, 5]);
//! pool.shutdown(); // runs what is queued, then joins every thread
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Process pool
//!
//! A [`ProcessPool`] runs functions in worker processes started from the running program, so
//! that work holding a CPU for long, or that may crash, stays out of the program's own
//! process. Functions are registered by name in a [`Functions`] registry with typed
//! arguments and results; each registration returns a typed handle, a [`Function`], which
//! calls take, so that their types are checked at compile time and the name only travels on
//! the wire. Calls and results travel through the wire codec ([`actor_core::codec`]). The one
//! line `functions.serve_if_worker();` at the start of `main` turns a copy of the program
//! started by the pool into a worker.
//!
//! ```no_run
//! use actor_pool::{Functions, ProcessPool};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut functions = Functions::new();
//!     let count_words = functions.register("count_words", |text: String| {
//!         text.split_whitespace().count() as u64
//!     });
//!     functions.serve_if_worker(); // in a worker: serves calls, then exits
//!
//!     let pool = ProcessPool::builder(&functions).workers(2).build()?;
//!     let texts = vec!["a b c".to_string(), "d e".to_string()];
//!     let counts: Vec<u64> = pool.map(&count_words, texts)?.collect::<Result<_, _>>()?;
//!     assert_eq!(counts, [3, 2]);
//!     Ok(())
//! }
//! ```
//!
//! A worker that crashes fails only the call it was running, with
//! [`ReplyError::Crashed`](actor_core::ReplyError::Crashed), and is replaced. Every worker is
//! waited for at shutdown, and a worker exits by itself when the program's process ends.
//!
//! # Dispatcher
//!
//! A [`Dispatcher`] runs many actors on a few threads: an actor is scheduled when it has
//! mail, handles a batch, and goes back to idle, costing memory only. The same `Actor`
//! implementations run there as on threads of their own.
//!
//! # Shutting down
//!
//! Both pools have `shutdown` (finish what is queued, then join) and `kill` (fail
//! what is queued with [`ReplyError::Dropped`](actor_core::ReplyError::Dropped), then join).
//! Dropping a pool shuts it down: gracefully, or at once when the drop happens during a
//! panic.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod crew;
mod dispatcher;
mod error;
mod ordered;
#[cfg(unix)]
mod process_pool;
mod queue;
mod thread_pool;

pub use dispatcher::{Dispatcher, DispatcherBuilder};
pub use error::{PoolError, ProtocolError, StartError, SubmitError};
#[cfg(unix)]
pub use process_pool::{Function, Functions, ProcessPool, ProcessPoolBuilder, Signature};
pub use queue::Queue;
pub use thread_pool::{ThreadPool, ThreadPoolBuilder};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ThreadPool>();
        check::<ThreadPoolBuilder>();
        check::<SubmitError<fn()>>();
        #[cfg(unix)]
        {
            check::<ProcessPool>();
            check::<Functions>();
            check::<Function<String, std::cell::Cell<u8>>>();
            check::<ProcessPoolBuilder<'static>>();
        }
    }
}
