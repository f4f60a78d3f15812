//! [`ActorId`]: the identity of an actor, and which actor the calling thread is running.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cell::ActorCell;
use crate::local::AnyLocal;

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
        CurrentActor::with(|cell| cell.map(|cell| cell.id))
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
    static CURRENT: Cell<Option<Arc<dyn AnyLocal>>> = const { Cell::new(None) };
}

/// Marks the calling thread as running an actor until dropped (restoring the previous mark,
/// so a runner driven from inside another actor's handler nests correctly).
pub(crate) struct CurrentActor(Option<Arc<dyn AnyLocal>>);

impl CurrentActor {
    pub(crate) fn enter(actor: &Arc<dyn AnyLocal>) -> CurrentActor {
        CurrentActor(CURRENT.with(|c| c.replace(Some(Arc::clone(actor)))))
    }

    /// Calls `f` with the cell of the actor the calling thread runs, if any.
    pub(crate) fn with<R>(f: impl FnOnce(Option<&ActorCell>) -> R) -> R {
        CURRENT.with(|current| {
            let actor = current.take();
            let result = f(actor.as_deref().map(AnyLocal::cell));
            current.set(actor);
            result
        })
    }
}

impl Drop for CurrentActor {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| c.set(previous));
    }
}
