//! The helper thread of a [`Select`](crate::Select) that holds both sockets and channels:
//! it waits on the poller and forwards each event's token into a channel that the
//! selecting thread's crossbeam select includes.
//!
//! One helper per selection, never one per socket. Stopping it is a short sequence, run by
//! [`Helper::join`] (from the selection's drop): wake the poller with the waker, whose token
//! ends the helper's loop; join the thread, which hands the poller back.

use std::io;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Poll, Token, Waker};

use super::sockets::{EVENTS, WAKE, index_of};

/// The name of every helper thread (`/proc/self/task/*/comm` shows it).
const NAME: &str = "select-sockets";

/// A running helper thread.
pub(super) struct Helper {
    forwarded: Receiver<Token>,
    thread: JoinHandle<Option<Poll>>,
}

impl Helper {
    /// Starts a helper that waits on `poll`; gives `poll` back when no thread can be started.
    pub(super) fn start(poll: Poll) -> Result<Helper, Poll> {
        let (forward, forwarded) = crossbeam_channel::unbounded();
        // The poller goes to the thread once it runs, so that a failed spawn keeps it here.
        let (hand_over, handed) = crossbeam_channel::bounded::<Poll>(1);
        let spawned = std::thread::Builder::new()
            .name(NAME.to_string())
            // `recv` fails only if the sender is gone, which it is not before the send below.
            .spawn(move || handed.recv().ok().map(|poll| run(poll, &forward)));
        let thread = match spawned {
            Ok(thread) => thread,
            Err(error) => {
                tracing::warn!(%error, "cannot start a Select's socket thread; polling in turns");
                return Err(poll);
            }
        };
        // The thread holds `handed` until it has received: the send cannot fail.
        let _ = hand_over.send(poll);
        Ok(Helper { forwarded, thread })
    }

    /// The channel the tokens of ready sockets come through.
    pub(super) fn forwarded(&self) -> &Receiver<Token> {
        &self.forwarded
    }

    /// Stops the thread (see the module docs) and takes the poller back.
    ///
    /// `None` when the thread could not be woken (it is then left to end with the process,
    /// logged) or did not end cleanly.
    pub(super) fn join(self, waker: &Waker) -> Option<Poll> {
        if let Err(error) = waker.wake()
            && !self.thread.is_finished()
        {
            tracing::error!(%error, "cannot wake a Select's socket thread to stop it");
            return None;
        }
        self.thread.join().ok().flatten()
    }
}

/// The helper's loop: waits on the poller and forwards tokens until the waker's token comes
/// or the selection is gone; returns the poller.
///
/// A socket is forwarded once per token: a token's generation changes at every re-arm (see
/// `sockets.rs`), and until then more events of the same token would only be dropped as
/// duplicates by the selecting thread.
fn run(mut poll: Poll, forward: &Sender<Token>) -> Poll {
    let mut events = Events::with_capacity(EVENTS);
    // The last token forwarded for each index.
    let mut last: Vec<Token> = Vec::new();
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            // The selecting thread sees the channel closed and takes the poller back.
            Err(error) => {
                tracing::error!(%error, "a Select's socket thread cannot wait on its poller");
                return poll;
            }
        }
        for event in &events {
            let token = event.token();
            if token == WAKE {
                return poll;
            }
            let index = index_of(token);
            if last.len() <= index {
                last.resize(index + 1, WAKE);
            }
            if last[index] == token {
                continue;
            }
            last[index] = token;
            if forward.send(token).is_err() {
                return poll;
            }
        }
    }
}
