//! The [`Actor`] trait and the [`Context`] its handlers receive.

use std::fmt;
use std::sync::Arc;

use crate::actor_id::ActorId;
use crate::actor_ref::ActorRef;
use crate::cell::ActorCell;
use crate::local::{AnyLocal, Local};
use crate::supervision::Down;
// A context holds its system (the one import back up from an actor to the system that
// runs it): handlers spawn, look up and publish through it.
use crate::system::System;

/// An error a handler hands back to the runtime: any error type converts into it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What handlers and lifecycle hooks return. An `Err` is a failure of the actor and goes to
/// its [`Supervision`](crate::Supervision) policy; an error meant for a caller belongs in
/// the reply instead (`Reply<Result<T, E>>`).
pub type HandlerResult = Result<(), BoxError>;

/// A unit of state and behaviour that handles one message at a time.
///
/// The associated `Msg` type is usually an enum: its variants are the message tags, and
/// `handle` matches on them. Each actor runs on its own named thread by default (or on a
/// dispatcher that shares a few threads among many actors); either way, one message at a
/// time, so the actor's state needs no lock.
///
/// A failure in a handler (an `Err`, or a panic) is caught at the actor's boundary and handed
/// to its supervision policy; it never reaches the sender.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Actor, Context, HandlerResult, Reply, System};
///
/// enum Msg {
///     A(i32),
///     B(i32, i32),
///     Total(Reply<i32>),
/// }
///
/// #[derive(Default)]
/// struct Tagged {
///     total: i32,
/// }
///
/// impl Actor for Tagged {
///     type Msg = Msg;
///
///     fn handle(&mut self, msg: Msg, _ctx: &mut Context<Msg>) -> HandlerResult {
///         match msg {
///             Msg::A(x) => self.total += x,
///             Msg::B(x, y) => self.total += x * y,
///             Msg::Total(reply) => reply.send(self.total),
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let tagged = system.spawn(Tagged::default())?;
/// tagged.tell(Msg::A(1))?;
/// tagged.tell(Msg::B(2, 3))?;
/// assert_eq!(tagged.ask(Msg::Total, Duration::from_secs(1))?, 7);
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Actor: Send + 'static {
    /// The messages this actor handles.
    type Msg: Send + 'static;

    /// Runs before the first message. An `Err` (or a panic) is a failure, handled like a
    /// failing message. By default, does nothing.
    fn started(&mut self, ctx: &mut Context<Self::Msg>) -> HandlerResult {
        let _ = ctx;
        Ok(())
    }

    /// Handles one message.
    fn handle(&mut self, msg: Self::Msg, ctx: &mut Context<Self::Msg>) -> HandlerResult;

    /// Runs when this instance ends: the actor stopped, was killed, failed for good, or is
    /// about to be replaced by a restart. A panic here is caught and logged. By default,
    /// does nothing.
    fn stopped(&mut self, ctx: &mut Context<Self::Msg>) {
        let _ = ctx;
    }
}

/// What a handler can reach besides its message: its own ref and the system.
///
/// # Examples
///
/// ```
/// use actor_core::{Actor, Context, HandlerResult, System};
///
/// /// Counts down to zero by sending itself the next number, then stops.
/// struct Countdown;
///
/// impl Actor for Countdown {
///     type Msg = u32;
///     fn handle(&mut self, n: u32, ctx: &mut Context<u32>) -> HandlerResult {
///         if n == 0 {
///             ctx.stop();
///         } else {
///             ctx.myself().tell(n - 1)?;
///         }
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// let countdown = system.spawn(Countdown)?;
/// countdown.tell(10)?;
/// countdown.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Context<M> {
    myself: ActorRef<M>,
    /// The same allocation as `myself`'s, its message type erased: for marking the thread
    /// that runs the actor (`CurrentActor`).
    shared: Arc<dyn AnyLocal>,
    system: System,
}

impl<M: Send + 'static> Context<M> {
    pub(crate) fn new(
        myself: ActorRef<M>,
        shared: Arc<dyn AnyLocal>,
        system: System,
    ) -> Context<M> {
        Context {
            myself,
            shared,
            system,
        }
    }

    /// This actor's shared state.
    pub(crate) fn cell(&self) -> &ActorCell {
        self.shared.cell()
    }

    /// This actor's allocation, its message type erased.
    pub(crate) fn shared(&self) -> &Arc<dyn AnyLocal> {
        &self.shared
    }

    /// This actor's allocation: its cell and its mailbox.
    pub(crate) fn local(&self) -> &Local<M> {
        // Cannot fail: a context is only made by `ActorBuilder::build`, with a ref made by
        // `ActorRef::local` from the actor's own allocation.
        self.myself
            .as_local()
            .expect("invariant: an actor's ref to itself is local")
    }

    /// A ref to this actor.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    #[must_use]
    pub fn myself(&self) -> &ActorRef<M> {
        &self.myself
    }

    /// This actor's identity.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, Reply, System};
    /// struct WhoAmI;
    /// impl Actor for WhoAmI {
    ///     type Msg = Reply<actor_core::ActorId>;
    ///     fn handle(&mut self, reply: Self::Msg, ctx: &mut Context<Self::Msg>) -> HandlerResult {
    ///         reply.send(ctx.id());
    ///         Ok(())
    ///     }
    /// }
    /// let system = System::new();
    /// let who = system.spawn(WhoAmI)?;
    /// assert_eq!(who.ask(|r| r, std::time::Duration::from_secs(1))?, who.id());
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.myself.id()
    }

    /// The system this actor belongs to: spawn children, look up names.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Actor, Context, HandlerResult, Reply, System};
    ///
    /// struct Child;
    /// impl Actor for Child {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// }
    ///
    /// struct Parent;
    /// impl Actor for Parent {
    ///     type Msg = Reply<()>;
    ///     fn started(&mut self, ctx: &mut Context<Reply<()>>) -> HandlerResult {
    ///         ctx.system().actor(|| Child).name("child").spawn()?;
    ///         Ok(())
    ///     }
    ///     fn handle(&mut self, ready: Reply<()>, _: &mut Context<Reply<()>>) -> HandlerResult {
    ///         ready.send(());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let parent = system.spawn(Parent)?;
    /// parent.ask(|ready| ready, Duration::from_secs(1))?; // `started` has run
    /// assert!(system.lookup::<()>("child")?.is_alive());
    /// system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Stops this actor gracefully once the current message is handled: what is already
    /// queued is handled first.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub fn stop(&self) {
        self.myself.stop();
    }

    /// Watches `target`: when it ends, `wrap` turns its [`Down`] notice into a message for
    /// this actor (dropped if this actor has ended by then).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Actor, ActorRef, Context, Down, HandlerResult, Reply, System};
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// }
    ///
    /// enum WatchMsg {
    ///     Watch(ActorRef<()>),
    ///     Down(Down),
    ///     Seen(Reply<usize>),
    /// }
    ///
    /// #[derive(Default)]
    /// struct Watcher { downs: usize }
    /// impl Actor for Watcher {
    ///     type Msg = WatchMsg;
    ///     fn handle(&mut self, msg: WatchMsg, ctx: &mut Context<WatchMsg>) -> HandlerResult {
    ///         match msg {
    ///             WatchMsg::Watch(target) => ctx.monitor(&target, WatchMsg::Down),
    ///             WatchMsg::Down(_) => self.downs += 1,
    ///             WatchMsg::Seen(reply) => reply.send(self.downs),
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let system = System::new();
    /// let worker = system.spawn(Worker)?;
    /// let watcher = system.spawn(Watcher::default())?;
    /// watcher.tell(WatchMsg::Watch(worker.clone()))?;
    /// // The Watch message is handled before this ask, so the monitor is in place.
    /// assert_eq!(watcher.ask(WatchMsg::Seen, Duration::from_secs(1))?, 0);
    /// worker.stop();
    /// worker.join()?;
    /// // The notice is queued as the worker ends, before join returns.
    /// assert_eq!(watcher.ask(WatchMsg::Seen, Duration::from_secs(1))?, 1);
    /// system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn monitor<N>(&self, target: &ActorRef<N>, wrap: impl FnOnce(Down) -> M + Send + 'static) {
        let me = self.myself.clone();
        target.monitor().on_complete(move |down| {
            if let Ok(down) = down {
                let _ = me.tell(wrap(down));
            }
        });
    }
}

impl<M> fmt::Debug for Context<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("myself", &self.myself)
            .finish_non_exhaustive()
    }
}
