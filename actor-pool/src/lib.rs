//! Pools for the `actor` framework.
//!
//! This crate will hold the thread pool, the process pool and the dispatcher described in
//! the workspace design. It exports nothing yet: the pools have not been built.
