//! [`Executor`]: runs many actors on a few threads, each only when it has something to do;
//! [`ActorTask`]: one such actor, as the executor queues and runs it.
//!
//! An actor spawned with [`ActorBuilder::spawn_on`](crate::ActorBuilder::spawn_on) keeps its
//! [`Runner`] in its own allocation (`local.rs`), beside its cell and mailbox, with one flag
//! of scheduling state:
//!
//! | `scheduled` | meaning                                                     |
//! |-------------|-------------------------------------------------------------|
//! | `false`     | idle: its mailbox was empty when it last ran                |
//! | `true`      | submitted to the executor, or running; nobody else submits it |
//!
//! Whoever turns the flag from `false` to `true` submits the actor, so it is never queued
//! twice and never run by two threads at once. The flag starts `true`: the spawn submits the
//! first run, which starts the actor. A run that ends with mail left (the batch was used up)
//! submits it again with the flag still set. A run that finds the mailbox empty clears the
//! flag and then looks again, so that a message that arrived in between is not stranded:
//! either its sender saw the cleared flag and submitted the actor, or the second look sees
//! the message. Both sides use `SeqCst` on the flag for this handshake.
//!
//! The runner holds refs to its own actor, so the allocation keeps itself alive until the
//! actor ends: then the runner is taken out, and the executor is told
//! ([`Executor::ended`]). The flag and the executor are reached from the allocation; a
//! submission clones no more than the allocation's `Arc`, and allocates nothing.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::actor::Actor;
use crate::actor_id::ActorId;
use crate::cell::ActorCell;
use crate::local::{Host, Local};
use crate::runner::{RunStatus, Runner};

/// Runs actors on threads of its own, each whenever it has something to do: the queue of a
/// pool of threads, say. Actors are put on it with
/// [`ActorBuilder::spawn_on`](crate::ActorBuilder::spawn_on); from then on, the executor is
/// handed an [`ActorTask`] whenever one of them has mail (or was asked to stop), and runs it
/// with [`ActorTask::run`].
///
/// An executor only queues and runs: starting, batching, supervision and ending are the
/// task's. A handler that blocks holds the executor's thread the whole time.
///
/// # Examples
///
/// The smallest executor: a queue of tasks, run by whichever thread drains it.
///
/// ```
/// use std::sync::Arc;
/// use actor_core::channel::{Receiver, Sender, unbounded};
/// use actor_core::{Actor, ActorTask, Context, Executor, HandlerResult, Reply, System};
///
/// struct Queue(Sender<ActorTask>);
/// impl Executor for Queue {
///     fn submit(&self, task: ActorTask) -> Result<(), ActorTask> {
///         self.0.send(task).map_err(|refused| refused.0)
///     }
/// }
///
/// enum Msg {
///     Add(u64),
///     Total(Reply<u64>),
/// }
/// struct Sum(u64);
/// impl Actor for Sum {
///     type Msg = Msg;
///     fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Total(reply) => reply.send(self.0),
///         }
///         Ok(())
///     }
/// }
///
/// fn drain(ready: &Receiver<ActorTask>) {
///     while let Ok(task) = ready.try_recv() {
///         task.run(64);
///     }
/// }
///
/// let (tx, ready) = unbounded();
/// let executor = Arc::new(Queue(tx));
/// let system = System::new();
/// let sum = system.actor_from(Sum(0)).spawn_on(&executor)?;
/// sum.tell(Msg::Add(2))?;
/// sum.tell(Msg::Add(3))?;
/// let total = sum.request(Msg::Total)?;
/// drain(&ready); // starts the actor and handles the three messages
/// assert_eq!(total.wait()?, 5);
/// sum.stop();
/// drain(&ready); // the actor ends
/// assert!(!sum.is_alive());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Executor: Send + Sync {
    /// A new actor is about to be submitted for the first time. By default, nothing: an
    /// executor that must reach its actors later (to stop them all, say) keeps the task.
    ///
    /// # Examples
    ///
    /// See `Dispatcher` in `actor-pool`, which keeps its actors until they end.
    fn added(&self, task: &ActorTask) {
        let _ = task;
    }

    /// `task`'s actor has something to do: queue it, so that one of the executor's threads
    /// calls [`ActorTask::run`] soon. Called on the thread that queued a message, so it must
    /// be quick and must not block.
    ///
    /// A task taken must be run or [ended](ActorTask::end): until then its actor counts as
    /// submitted, and one dropped unrun is never submitted again.
    ///
    /// # Errors
    ///
    /// The task, handed back when the executor takes no more (it has shut down): its actor
    /// then ends, as killed.
    ///
    /// # Examples
    ///
    /// See [`Executor`].
    fn submit(&self, task: ActorTask) -> Result<(), ActorTask>;

    /// `actor` has ended and will not be submitted again. Called once for every actor
    /// [`added`](Executor::added), on the thread that ran it last. By default, nothing.
    ///
    /// # Examples
    ///
    /// See `Dispatcher` in `actor-pool`.
    fn ended(&self, actor: ActorId) {
        let _ = actor;
    }
}

/// An actor run by an [`Executor`]: what the executor is handed to queue, and runs with
/// [`run`](ActorTask::run).
///
/// Clones refer to the same actor. Run only the tasks handed to
/// [`Executor::submit`]: the actor's scheduling flag (see the module docs) lets one run
/// at a time.
///
/// # Examples
///
/// See [`Executor`].
#[derive(Clone)]
pub struct ActorTask(Arc<dyn Scheduled>);

/// What a task does, whatever its actor's type.
trait Scheduled: Send + Sync {
    fn id(&self) -> ActorId;
    fn run(self: Arc<Self>, batch: usize);
    fn stop(&self);
    fn end(&self);
}

impl ActorTask {
    /// The actor's identity.
    ///
    /// # Examples
    ///
    /// See [`Executor`].
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.0.id()
    }

    /// Runs the actor on the calling thread: starts it if this is its first run, handles at
    /// most `batch` queued messages, then submits it again if it has more to do, lets it
    /// idle if not, and tells the executor ([`Executor::ended`]) if it has ended. The
    /// actor's panics are caught (its supervision decides what follows).
    ///
    /// # Examples
    ///
    /// See [`Executor`].
    pub fn run(self, batch: usize) {
        self.0.run(batch);
    }

    /// Asks the actor to stop once it has handled what is queued, as
    /// [`ActorRef::stop`](crate::ActorRef::stop) does.
    ///
    /// # Examples
    ///
    /// See [`Executor`].
    pub fn stop(&self) {
        self.0.stop();
    }

    /// Ends the actor at once, as killed, on the calling thread (its `stopped` hook runs
    /// here), without running what is queued: for an executor that discards the tasks it can
    /// no longer run. Waits for a run in progress on another thread to finish first.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use actor_core::{Actor, ActorTask, Context, Executor, ExitReason, HandlerResult, System};
    /// struct Parked(Mutex<Vec<ActorTask>>);
    /// impl Executor for Parked {
    ///     fn submit(&self, task: ActorTask) -> Result<(), ActorTask> {
    ///         self.0.lock().unwrap().push(task);
    ///         Ok(())
    ///     }
    /// }
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let executor = Arc::new(Parked(Mutex::new(Vec::new())));
    /// let system = System::new();
    /// let nop = system.actor_from(Nop).spawn_on(&executor)?;
    /// for task in executor.0.lock().unwrap().drain(..) {
    ///     task.end();
    /// }
    /// assert!(matches!(nop.join()?, ExitReason::Killed));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn end(self) {
        self.0.end();
    }
}

impl fmt::Debug for ActorTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorTask")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// The host of an actor run by an executor `E` (see the module docs).
pub(crate) struct Exec<A: Actor, E> {
    /// The allocation this is part of, to submit; weak, or it would never be freed.
    me: Weak<Local<A::Msg, Exec<A, E>>>,
    executor: Weak<E>,
    /// `None` before the spawn puts it in, and once the actor has ended. Locked only by
    /// the thread that runs the actor (the flag makes that one thread at a time), and
    /// briefly by an idling run and by `end`.
    runner: Mutex<Option<Runner<A>>>,
}

impl<A: Actor, E: Executor + 'static> Exec<A, E> {
    pub(crate) fn new(me: Weak<Local<A::Msg, Exec<A, E>>>, executor: Weak<E>) -> Exec<A, E> {
        Exec {
            me,
            executor,
            runner: Mutex::new(None),
        }
    }

    /// Puts the runner in, tells the executor of the new actor, and submits its first run.
    pub(crate) fn start(local: &Arc<Local<A::Msg, Exec<A, E>>>, runner: Runner<A>) {
        *local.host.runner.lock() = Some(runner);
        if let Some(executor) = local.host.executor.upgrade() {
            executor.added(&ActorTask(Arc::clone(local) as Arc<dyn Scheduled>));
        }
        submit(Arc::clone(local));
    }
}

impl<A: Actor, E: Executor + 'static> Host for Exec<A, E> {
    /// Submits the actor unless it is submitted or running already.
    #[inline]
    fn schedule(&self, cell: &ActorCell) {
        if !cell.scheduled.swap(true, Ordering::SeqCst)
            && let Some(me) = self.me.upgrade()
        {
            submit(me);
        }
    }
}

/// Hands the actor to its executor; ends it if the executor is gone or refuses it, since
/// nothing would run it again.
fn submit<A: Actor, E: Executor + 'static>(local: Arc<Local<A::Msg, Exec<A, E>>>) {
    let executor = local.host.executor.upgrade();
    let task = ActorTask(local);
    let refused = match executor {
        Some(executor) => executor.submit(task),
        None => Err(task),
    };
    if let Err(task) = refused {
        task.end();
    }
}

impl<A: Actor, E: Executor + 'static> Scheduled for Local<A::Msg, Exec<A, E>> {
    fn id(&self) -> ActorId {
        self.cell.id
    }

    fn run(self: Arc<Self>, batch: usize) {
        let status = match self.host.runner.lock().as_mut() {
            Some(runner) => runner.run(batch),
            None => return,
        };
        match status {
            // Still scheduled: back in the queue.
            RunStatus::Yielded => submit(self),
            RunStatus::Idle => {
                // Clears the flag, then looks at the mailbox once more (see the module docs).
                self.cell.scheduled.store(false, Ordering::SeqCst);
                let has_mail = self
                    .host
                    .runner
                    .lock()
                    .as_ref()
                    .is_some_and(Runner::has_mail);
                if has_mail {
                    self.host.schedule(&self.cell);
                }
            }
            RunStatus::Stopped(_) => self.end(),
        }
    }

    fn stop(&self) {
        Local::stop(self);
    }

    /// Lets go of the runner (ending the actor as killed if it has not ended), which frees
    /// the allocation from its own refs, and tells the executor, once.
    fn end(&self) {
        let runner = self.host.runner.lock().take();
        let Some(runner) = runner else { return };
        drop(runner);
        if let Some(executor) = self.host.executor.upgrade() {
            executor.ended(self.cell.id);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{Context, HandlerResult};

    /// An actor of 32 bytes, as W6's (a counter and its channel).
    struct Small([u64; 4]);

    impl Actor for Small {
        type Msg = ();
        fn handle(&mut self, (): (), _: &mut Context<()>) -> HandlerResult {
            self.0[0] += 1;
            Ok(())
        }
    }

    struct Nowhere;

    impl Executor for Nowhere {
        fn submit(&self, task: ActorTask) -> Result<(), ActorTask> {
            Err(task)
        }
    }

    /// The budget behind 512 bytes per idle actor on a dispatcher (bench W6 `dispatcher`):
    /// the allocation (its `Arc` counts and the allocator's header on top) and the entries
    /// in the system's and the executor's tables must fit in it.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn an_idle_actor_on_an_executor_fits_its_budget() {
        let size = std::mem::size_of::<Local<(), Exec<Small, Nowhere>>>();
        assert!(size <= 320, "{size} bytes");
    }
}
