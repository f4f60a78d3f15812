//! [`ActorId`]: the identity of an actor, and which actor the calling thread is running.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identity of an actor, unique within the process.
///
/// # Examples
///
/// ```
/// # use actor_core::{Actor, Context, HandlerResult, System};
/// # struct Nop;
/// # impl Actor for Nop {
/// #     type Msg = ();
/// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
/// # }
/// let system = System::new();
/// let a = system.spawn(Nop)?;
/// let b = system.spawn(Nop)?;
/// assert_ne!(a.id(), b.id());
/// assert_eq!(a.id(), a.clone().id());
/// # system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(u64);

impl ActorId {
    /// The actor whose messages the calling thread is handling, if any.
    pub(crate) fn current() -> Option<ActorId> {
        CURRENT.with(Cell::get)
    }

    pub(crate) fn next() -> ActorId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ActorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The identity as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// assert!(system.spawn(Nop)?.id().as_u64() > 0);
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

thread_local! {
    static CURRENT: Cell<Option<ActorId>> = const { Cell::new(None) };
}

/// Marks the calling thread as running an actor until dropped (restoring the previous mark,
/// so a runner driven from inside another actor's handler nests correctly).
pub(crate) struct CurrentActor(Option<ActorId>);

impl CurrentActor {
    pub(crate) fn enter(id: ActorId) -> CurrentActor {
        CurrentActor(CURRENT.with(|c| c.replace(Some(id))))
    }
}

impl Drop for CurrentActor {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}
