//! Actors on plain threads, with remote actors that are safe to expose on a network.
//!
//! This is the umbrella crate: it re-exports [`actor_core`] (actors, refs, mailboxes,
//! replies, supervision) at its root and in [`prelude`], and the other parts of the
//! framework as [`net`] and [`pool`].
//!
//! ```
//! use std::time::Duration;
//! use actor::prelude::*;
//!
//! struct Echo;
//! impl Actor for Echo {
//!     type Msg = (String, Reply<String>);
//!     fn handle(&mut self, (text, reply): Self::Msg, _: &mut Context<Self::Msg>) -> HandlerResult {
//!         reply.send(text);
//!         Ok(())
//!     }
//! }
//!
//! let system = System::new();
//! let echo = system.spawn(Echo)?;
//! assert_eq!(echo.ask(|r| ("hi".to_string(), r), Duration::from_secs(1))?, "hi");
//! system.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use actor_core::*;

/// Remote actors: see the `actor-net` crate.
pub use actor_net as net;
/// Pools: see the `actor-pool` crate.
pub use actor_pool as pool;

/// The names most programs need: `use actor::prelude::*;`.
pub mod prelude {
    pub use actor_core::{
        Actor, ActorRef, AskError, Context, Down, ExitReason, HandlerResult, Inbox, Mailbox,
        Overflow, Pending, RecvError, Reply, ReplyError, Select, SelectError, SendError,
        Supervision, System, TimerHandle, WorkQueue, Worker,
    };
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
