//! Actors on plain threads.
//!
//! An actor is a piece of state with a mailbox. It handles one message at a time on a thread
//! of its own, so its state needs no lock; other threads and actors reach it through an
//! [`ActorRef`], which is cheap to clone and safe to share.
//!
//! # A first actor
//!
//! The message type is usually an enum: each variant is a tag, and the handler matches on
//! it. A request that expects an answer carries a [`Reply`].
//!
//! ```
//! use std::time::Duration;
//! use actor_core::{Actor, Context, HandlerResult, Reply, System};
//!
//! enum Msg {
//!     Deposit(u64),
//!     Withdraw(u64, Reply<Result<u64, String>>),
//! }
//!
//! #[derive(Default)]
//! struct Account {
//!     balance: u64,
//! }
//!
//! impl Actor for Account {
//!     type Msg = Msg;
//!
//!     fn handle(&mut self, msg: Msg, _ctx: &mut Context<Msg>) -> HandlerResult {
//!         match msg {
//!             Msg::Deposit(amount) => self.balance += amount,
//!             // An error meant for the caller travels in the reply; the actor lives on.
//!             Msg::Withdraw(amount, reply) if amount > self.balance => {
//!                 reply.send(Err(format!("only {} left", self.balance)))
//!             }
//!             Msg::Withdraw(amount, reply) => {
//!                 self.balance -= amount;
//!                 reply.send(Ok(self.balance));
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let system = System::new();
//! let account = system.spawn(Account::default())?;
//! account.tell(Msg::Deposit(100))?;
//! let timeout = Duration::from_secs(1);
//! assert_eq!(account.ask(|r| Msg::Withdraw(30, r), timeout)?, Ok(70));
//! assert!(account.ask(|r| Msg::Withdraw(500, r), timeout)?.is_err());
//! system.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What else is here
//!
//! - **Mailboxes** ([`Mailbox`], [`Overflow`]): unbounded by default; bounded with a policy
//!   for a full mailbox: block the sender, fail fast, or drop the new message and count it.
//! - **Results that arrive later** ([`Pending`]): what `request` returns; wait, wait with a
//!   timeout, poll, or attach a callback. A result that can no longer come is an error at
//!   once, never a hang.
//! - **Supervision** ([`Supervision`]): a handler's error or panic is caught at the actor's
//!   boundary; the actor stops, resumes, or restarts with fresh state from its factory
//!   within a restart limit. Any thread or actor can [monitor](ActorRef::monitor) an actor
//!   and get a [`Down`] notice when it ends.
//! - **The system** ([`System`]): a registry of names, typed lookup, and a shutdown that
//!   stops and joins every actor.
//! - **Workers** ([`Worker`]): closures run in order on a thread of their own, each result a
//!   [`Pending`]; a panicking task is an error for its caller, not for the worker.
//! - **Exchanges** ([`Exchange`]): named pub/sub that fans a message out to every attached
//!   [`Subscriber`] (actor refs, channels, closures, the diagnostic taps of [`tap`]);
//!   patterns (`orders.*`, `orders.>`) cover exchanges created later. The system publishes
//!   its own events ([`SystemEvent`]: lifecycle, dead letters, drops) on `system.*`.
//! - **Messages by name** ([`Router`], [`Tagged`]): a tag and an encoded payload dispatched to
//!   a typed handler; bad input is a typed error and a dead letter, never a panic. A
//!   [`RouterActor`] can be exported to other processes, which send it (tag, payload) pairs.
//! - **The wire codec** ([`codec`]): length-prefixed frames and the serde codec that the
//!   network layer and the process pool use.
//! - **Timers** ([`System::send_after`], [`System::send_interval`]) on one shared thread;
//!   **inboxes** ([`Inbox`]: unbounded or bounded, closable) and [`Select`] for threads that
//!   take part in conversations; **priority mailboxes** ([`ActorBuilder::priority`]).
//! - **Work queues** ([`WorkQueue`]): items shared by several producer and consumer
//!   threads, bounded or not, in arrival order or by priority; [`close`](WorkQueue::close)
//!   ends the consumers' loops (no sentinel needed), and [`join`](WorkQueue::join) waits
//!   until every item put is done (each [`Task`] is done when dropped). Receives say
//!   [`RecvError::Closed`] at the end, never hang.
//! - **Ordered locks** ([`OrderedMutex`]): mutexes taken in one global order, several at once
//!   with [`OrderedMutex::lock_all`]; debug builds panic, naming both places, when a thread
//!   takes them out of order.
//! - **The executor seam** ([`Runner`]): the step "run up to N queued messages of this
//!   actor", so that other executors (a dispatcher sharing few threads among many actors)
//!   run the same [`Actor`] implementations. An [`Executor`] is handed [`ActorTask`]s to
//!   queue and run, and the actor spawned on it ([`ActorBuilder::spawn_on`]) is one
//!   allocation, its runner included: a million idle actors fit in well under a gigabyte.
//!
//! # Guarantees
//!
//! Delivery is at most once, and in order between one sender and one actor. A `tell` that
//! returns `Ok` has queued the message; a message queued to an actor that is killed, or that
//! fails for good, is discarded (requests in it fail with [`ReplyError::Dropped`]).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod codec;

/// The channels of [`crossbeam_channel`], which [`Select`] waits on and which subscribe to
/// exchanges (a `Sender<M>` is a [`Subscriber`]), re-exported so that a program uses the same
/// version as this crate without depending on it.
///
/// # Examples
///
/// ```
/// use actor_core::{System, channel};
///
/// let system = System::new();
/// let (tx, rx) = channel::unbounded::<String>();
/// let _guard = system.exchange::<String>("news")?.attach(tx);
/// system.exchange::<String>("news")?.publish("hello".to_string());
/// assert_eq!(rx.try_recv()?, "hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub use crossbeam_channel as channel;

mod actor;
mod actor_id;
mod actor_ref;
mod budget;
mod builder;
mod cell;
mod error;
mod escaped;
mod event;
mod exchange;
mod executor;
mod inbox;
mod local;
mod mailbox;
mod ordered_mutex;
mod reply;
mod router;
mod runner;
mod select;
mod send_wait;
mod supervision;
mod system;
pub mod tap;
mod timer;
pub mod wire;
mod work_queue;
mod worker;

pub use actor::{Actor, BoxError, Context, HandlerResult};
pub use actor_id::ActorId;
pub use actor_ref::{ActorRef, RemoteTarget};
pub use budget::{Budget, BudgetError, Ticket};
pub use builder::ActorBuilder;
pub use error::{
    AskError, ErrorChain, ExchangeError, JoinError, LookupError, RecvError, SendError, SpawnError,
};
pub use escaped::Escaped;
pub use event::{
    DEAD_LETTERS, DROPPED, DeadLetterReason, LIFECYCLE, SUBSCRIBERS, SystemEvent, WARNINGS,
};
pub use exchange::{
    Delivery, Detach, Exchange, FnSubscriber, Pattern, Subscriber, SubscriptionGuard,
    SubscriptionId, SubscriptionInfo, from_fn,
};
pub use executor::{ActorTask, Executor};
pub use inbox::Inbox;
pub use mailbox::{Mailbox, Overflow};
pub use ordered_mutex::{OrderedMutex, OrderedMutexGuard};
pub use reply::{Pending, Reply, ReplyError};
pub use router::{AskTaggedError, ErrorText, RouteError, Router, RouterActor, Tagged, TaggedReply};
pub use runner::{RunStatus, Runner};
pub use select::{Select, SelectError};
pub use send_wait::SendWait;
pub use supervision::{Down, ExitReason, Failure, Supervision, panic_message};
pub use system::System;
pub use timer::TimerHandle;
pub use work_queue::{Task, WorkQueue};
pub use worker::Worker;
