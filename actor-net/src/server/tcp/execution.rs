//! [`Execution`]: which threads run a server's handlers, behind one private enum: a thread per
//! connection (`per_connection.rs`) or a fixed pool (`pool.rs`).

mod per_connection;
mod pool;

use std::io;
use std::sync::Arc;

use super::connection::{Job, Serve};
use per_connection::PerConnection;
use pool::Pool;

/// The threads that run a server's handlers.
#[derive(Debug)]
pub(super) enum Execution {
    PerConnection(PerConnection),
    Pool(Pool),
}

impl Execution {
    /// A thread per connection, each with `stack_size` bytes of stack (or the default).
    pub(super) fn per_connection(serve: Arc<Serve>, stack_size: Option<usize>) -> Execution {
        Execution::PerConnection(PerConnection::new(serve, stack_size))
    }

    /// A pool of `threads` threads, started now.
    ///
    /// # Errors
    ///
    /// When a thread cannot start; those started are joined first.
    pub(super) fn pool(
        serve: Arc<Serve>,
        threads: usize,
        stack_size: Option<usize>,
    ) -> io::Result<Execution> {
        Pool::start(serve, threads, stack_size).map(Execution::Pool)
    }

    /// Hands the connection `id` to a thread. If none can take it, the job is dropped, which
    /// closes the connection and tells the listener it ended.
    pub(super) fn start(&mut self, id: u64, job: Job) {
        match self {
            Execution::PerConnection(threads) => threads.run(id, job),
            Execution::Pool(pool) => pool.run(job),
        }
    }

    /// Called when the connection `id` has ended: joins its thread, if it had one of its own.
    pub(super) fn finished(&mut self, id: u64) {
        match self {
            Execution::PerConnection(threads) => threads.finished(id),
            Execution::Pool(_) => {}
        }
    }

    /// Joins every handler thread. The sockets of the live connections must have been shut
    /// down first, so that their handlers return.
    pub(super) fn stop(&mut self) {
        match self {
            Execution::PerConnection(threads) => threads.stop(),
            Execution::Pool(pool) => pool.stop(),
        }
    }
}
