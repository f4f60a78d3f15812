//! [`Local`]: the one allocation of an actor in this process, which all its refs share: its
//! cell (identity, phase, monitors: `cell.rs`), its mailbox, and its host, what runs it.
//!
//! One allocation rather than one per part, because an idle actor run by an executor costs
//! nothing but memory: a million of them should fit in well under a gigabyte. A ref is one
//! pointer to it (`Arc<Local<M>>`, the host's type erased), and the sending side reads the
//! cell and the mailbox at fixed offsets, with no indirection. The system and the thread
//! running the actor hold it with its message type erased too (`Arc<dyn AnyLocal>`), made
//! from the same allocation while its type is still known.
//!
//! The host decides what happens when the actor has something to do:
//!
//! | host     | runs the actor                              | learns of mail                    |
//! |----------|---------------------------------------------|-----------------------------------|
//! | `()`     | its own thread, or an inbox's readers       | blocked on the mailbox            |
//! | [`Hook`] | a user's executor, through a `Runner`       | the function of `Runner::on_mail` |
//! | `Exec`   | an `Executor`; the runner lives in the host | its task, submitted (`executor.rs`) |

use std::sync::OnceLock;

use crate::cell::ActorCell;
use crate::mailbox::MailboxQueue;

/// One actor's shared state: see the module documentation. `H` is `dyn Host` behind a ref.
pub(crate) struct Local<M, H: ?Sized = dyn Host> {
    pub(crate) cell: ActorCell,
    pub(crate) mailbox: MailboxQueue<M>,
    /// Last, so that it can be unsized: a ref does not know what runs the actor.
    pub(crate) host: H,
}

/// What runs an actor, as far as its senders are concerned.
pub(crate) trait Host: Send + Sync {
    /// The actor (whose cell is `cell`) has something to do (a message was queued, or it
    /// was asked to stop): have it run. Called on the sender's thread after every successful
    /// push, so it is quick.
    fn schedule(&self, cell: &ActorCell);

    /// Sets the function told that the actor has something to do (see `Runner::on_mail`);
    /// `false`, and nothing done, when one was set before or the host takes none.
    fn on_mail(&self, notify: Box<dyn Fn() + Send + Sync>) -> bool {
        drop(notify);
        false
    }
}

/// A thread-backed actor's host (and an inbox's): its receivers block on the mailbox, which
/// wakes them itself.
impl Host for () {
    #[inline]
    fn schedule(&self, _: &ActorCell) {}
}

/// The host of an actor whose [`Runner`](crate::Runner) was handed out: a user's executor,
/// told through the function given to `Runner::on_mail`, if any.
#[derive(Default)]
pub(crate) struct Hook(OnceLock<Box<dyn Fn() + Send + Sync>>);

impl Host for Hook {
    #[inline]
    fn schedule(&self, _: &ActorCell) {
        if let Some(notify) = self.0.get() {
            notify();
        }
    }

    fn on_mail(&self, notify: Box<dyn Fn() + Send + Sync>) -> bool {
        self.0.set(notify).is_ok()
    }
}

impl<M, H: Host> Local<M, H> {
    pub(crate) fn new(cell: ActorCell, mailbox: MailboxQueue<M>, host: H) -> Local<M, H> {
        Local {
            cell,
            mailbox,
            host,
        }
    }
}

impl<M, H: Host + ?Sized> Local<M, H> {
    /// Makes the actor look at its state: wakes it if it waits on its mailbox, and has its
    /// host run it.
    pub(crate) fn wake(&self) {
        self.mailbox.wake();
        self.host.schedule(&self.cell);
    }

    /// Asks for a graceful stop (see `ActorCell::stop`).
    pub(crate) fn stop(&self) {
        if self.cell.stop() {
            self.wake();
        }
    }

    /// Asks for an immediate stop (see `ActorCell::kill`).
    pub(crate) fn kill(&self) {
        if self.cell.kill() {
            self.wake();
        }
    }

    /// Takes back an announced push that queued nothing (see `ActorCell::undo`).
    #[inline]
    pub(crate) fn undo(&self) {
        if self.cell.undo() {
            self.wake();
        }
    }
}

/// An actor's allocation seen without its message type: what the system and the thread
/// running the actor hold.
pub(crate) trait AnyLocal: Send + Sync {
    fn cell(&self) -> &ActorCell;
    fn stop(&self);
    fn kill(&self);
}

impl<M: Send, H: Host> AnyLocal for Local<M, H> {
    fn cell(&self) -> &ActorCell {
        &self.cell
    }

    fn stop(&self) {
        Local::stop(self);
    }

    fn kill(&self) {
        Local::kill(self);
    }
}
