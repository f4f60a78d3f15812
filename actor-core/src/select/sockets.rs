//! The sockets of a [`Select`](crate::Select): their registrations with a mio poller, the
//! re-arming that makes edge-triggered epoll level-triggered, and who waits on the poller.
//!
//! # Level-triggered over edge-triggered
//!
//! mio registers every descriptor edge-triggered: epoll reports a socket once when it
//! becomes ready and not again until something new arrives. `Select` promises more: a
//! socket still readable when the next wait starts is reported again. So a socket, once
//! reported, is *re-armed* before the next wait: `reregister` makes epoll look at the
//! socket's current state and queue an event if it is still ready, and only then.
//!
//! Each registration carries a token made of the socket's index and a *generation*,
//! bumped at every re-arm (and at every new registration of the index). An event whose
//! generation is not the current one was queued before the last re-arm; the re-arm has
//! looked at the socket since, so the event is stale and is dropped. That is what keeps a
//! drained socket from being reported again. Between two re-arms a socket is reported at
//! most once (`armed` says whether it still may be).
//!
//! | slot                        | meaning                                                |
//! |-----------------------------|--------------------------------------------------------|
//! | `Unused`                    | no socket at this index (free, or a channel's index)   |
//! | `Watched`, `armed`          | registered; its next current event is reported         |
//! | `Watched`, not `armed`      | reported; waits in `rearm` for the next wait to re-arm |
//!
//! # Who waits on the poller
//!
//! With sockets only, the thread that calls `ready` waits on the poller itself (`Here`).
//! When the selection also holds channels, one thread cannot sleep in epoll and in a
//! crossbeam select at once, so a helper thread (`helper.rs`) takes the poller, waits on
//! it and forwards each event's token through a channel that the crossbeam select includes.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use crossbeam_channel::{Receiver, TryRecvError};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::helper::Helper;

/// How many bits of a token name the index; the rest hold the generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: usize = usize::MAX >> INDEX_BITS;
/// The waker's token: its index part is one no socket can have (see [`MAX_INDEX`]).
pub(super) const WAKE: Token = Token(usize::MAX);
/// The largest index a socket can have.
pub(super) const MAX_INDEX: usize = INDEX_MASK - 1;
/// How many events one wait on the poller takes at most.
pub(super) const EVENTS: usize = 256;

/// The token of the socket at `index` in its `generation`.
fn token(index: usize, generation: usize) -> Token {
    Token(((generation & GENERATION_MASK) << INDEX_BITS) | index)
}

/// The index part of a token.
pub(super) fn index_of(token: Token) -> usize {
    token.0 & INDEX_MASK
}

/// What one index holds, as far as sockets go.
enum Slot {
    /// No socket. The generation of its last socket is kept so that a socket added later
    /// at this index gets tokens no stale event carries.
    Unused {
        generation: usize,
    },
    Watched(Watched),
}

struct Watched {
    fd: RawFd,
    interest: Interest,
    generation: usize,
    /// False once reported, until re-armed.
    armed: bool,
}

/// Who waits on the poller.
enum Waiter {
    /// The selecting thread, when it has only sockets to wait for.
    Here(Poll),
    /// A helper thread, when the selection holds channels too.
    Helper(Helper),
}

/// The sockets of one selection.
pub(super) struct Sockets {
    /// Registers, re-arms and removes sockets, whoever holds the poller.
    registry: Registry,
    /// Stops the helper thread. Made with the poller: mio allows one per poller, ever.
    waker: Waker,
    /// `None` only for the moment the poller moves to or from the helper.
    waiter: Option<Waiter>,
    /// Indexed by the selection's indexes; shorter when the last indexes hold no socket.
    slots: Vec<Slot>,
    /// How many slots are `Watched`.
    watched: usize,
    /// Indexes reported since the last wait, to re-arm before the next one.
    rearm: Vec<usize>,
    /// Tokens of events not yet looked at, oldest first.
    ready: VecDeque<Token>,
    /// The buffer of the selecting thread's own waits.
    events: Events,
    /// Makes tests take the path of a helper that cannot be started.
    #[cfg(test)]
    pub(super) helper_forbidden: bool,
}

impl Sockets {
    /// A poller with no socket yet.
    pub(super) fn new() -> io::Result<Sockets> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Waker::new(&registry, WAKE)?;
        Ok(Sockets {
            registry,
            waker,
            waiter: Some(Waiter::Here(poll)),
            slots: Vec::new(),
            watched: 0,
            rearm: Vec::new(),
            ready: VecDeque::new(),
            events: Events::with_capacity(EVENTS),
            #[cfg(test)]
            helper_forbidden: false,
        })
    }

    /// Whether no socket is watched.
    pub(super) fn is_empty(&self) -> bool {
        self.watched == 0
    }

    /// How many sockets are watched.
    pub(super) fn len(&self) -> usize {
        self.watched
    }

    /// Whether the selecting thread waits on the poller itself.
    pub(super) fn is_here(&self) -> bool {
        matches!(self.waiter, Some(Waiter::Here(_)))
    }

    /// Starts watching `fd` for `interest` under `index` (a free index of the selection).
    pub(super) fn watch(&mut self, index: usize, fd: RawFd, interest: Interest) -> io::Result<()> {
        if self.slots.len() <= index {
            self.slots
                .resize_with(index + 1, || Slot::Unused { generation: 0 });
        }
        let Slot::Unused { generation } = self.slots[index] else {
            unreachable!("invariant: the selection watches a socket only at a free index")
        };
        let generation = generation.wrapping_add(1);
        let registered =
            self.registry
                .register(&mut SourceFd(&fd), token(index, generation), interest);
        self.slots[index] = match registered {
            Ok(()) => {
                self.watched += 1;
                Slot::Watched(Watched {
                    fd,
                    interest,
                    generation,
                    armed: true,
                })
            }
            Err(_) => Slot::Unused { generation },
        };
        registered
    }

    /// Stops watching the socket at `index`; returns whether there was one.
    pub(super) fn unwatch(&mut self, index: usize) -> bool {
        let Some(slot) = self.slots.get_mut(index) else {
            return false;
        };
        let Slot::Watched(watched) = slot else {
            return false;
        };
        // An error means the socket was closed before it was removed: epoll has already
        // forgotten it, which is all that removing asks.
        let _ = self.registry.deregister(&mut SourceFd(&watched.fd));
        *slot = Slot::Unused {
            generation: watched.generation,
        };
        self.watched -= 1;
        true
    }

    /// Re-arms every socket reported since the last wait (see the module docs).
    ///
    /// A socket whose re-arm fails is reported ready again: its own read or write then
    /// says what is wrong, where a silent drop could leave its owner waiting forever.
    pub(super) fn rearm(&mut self) {
        for index in self.rearm.drain(..) {
            let Some(Slot::Watched(watched)) = self.slots.get_mut(index) else {
                continue; // Removed since it was reported.
            };
            watched.generation = watched.generation.wrapping_add(1);
            watched.armed = true;
            let token = token(index, watched.generation);
            let fd = watched.fd;
            if self
                .registry
                .reregister(&mut SourceFd(&fd), token, watched.interest)
                .is_err()
            {
                self.ready.push_back(token);
            }
        }
    }

    /// The index of the oldest current event, now reported; stale events are dropped.
    pub(super) fn take_ready(&mut self) -> Option<usize> {
        while let Some(event) = self.ready.pop_front() {
            let index = index_of(event);
            let Some(Slot::Watched(watched)) = self.slots.get_mut(index) else {
                continue;
            };
            if watched.armed && token(index, watched.generation) == event {
                watched.armed = false;
                self.rearm.push(index);
                return Some(index);
            }
        }
        None
    }

    /// Waits on the poller on this thread, at most `timeout` (`None`: no limit), and queues
    /// what it reports.
    ///
    /// Call only when [`is_here`](Sockets::is_here). If the wait fails (it cannot on a
    /// valid poller, except when interrupted by a signal, which just ends the wait early),
    /// every armed socket is reported ready: their own reads and writes tell what is wrong.
    pub(super) fn poll_here(&mut self, timeout: Option<Duration>) {
        let Some(Waiter::Here(poll)) = &mut self.waiter else {
            return;
        };
        match poll.poll(&mut self.events, timeout) {
            Ok(()) => {
                let events = self.events.iter().map(|event| event.token());
                self.ready.extend(events.filter(|&token| token != WAKE));
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => self.report_all(),
        }
    }

    /// Starts the helper thread if the selecting thread still waits on the poller itself.
    /// When no thread can be started, the poller stays here (and the selecting thread
    /// waits on both kinds of sources in turns until a later wait starts the helper).
    pub(super) fn start_helper(&mut self) {
        #[cfg(test)]
        if self.helper_forbidden {
            return;
        }
        if self.is_here()
            && let Some(Waiter::Here(poll)) = self.waiter.take()
        {
            self.waiter = Some(match Helper::start(poll) {
                Ok(helper) => Waiter::Helper(helper),
                Err(poll) => Waiter::Here(poll),
            });
        }
    }

    /// The channel the helper thread forwards tokens through, if it runs.
    pub(super) fn forwarded(&self) -> Option<&Receiver<Token>> {
        match &self.waiter {
            Some(Waiter::Helper(helper)) => Some(helper.forwarded()),
            _ => None,
        }
    }

    /// Queues the tokens the helper thread has forwarded. If the helper has ended (its wait
    /// on the poller failed), takes the poller back and reports every armed socket ready,
    /// as [`poll_here`](Sockets::poll_here) does.
    pub(super) fn take_forwarded(&mut self) {
        let Some(Waiter::Helper(helper)) = &self.waiter else {
            return;
        };
        loop {
            match helper.forwarded().try_recv() {
                Ok(token) => self.ready.push_back(token),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => break,
            }
        }
        if let Some(Waiter::Helper(helper)) = self.waiter.take() {
            self.waiter = helper.join(&self.waker).map(Waiter::Here);
        }
        self.report_all();
    }

    /// Queues a current event for every armed socket.
    fn report_all(&mut self) {
        for (index, slot) in self.slots.iter().enumerate() {
            if let Slot::Watched(watched) = slot
                && watched.armed
            {
                self.ready.push_back(token(index, watched.generation));
            }
        }
    }
}

impl Drop for Sockets {
    fn drop(&mut self) {
        if let Some(Waiter::Helper(helper)) = self.waiter.take() {
            // The poller it gives back is closed with it.
            drop(helper.join(&self.waker));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_index_and_generation() {
        let t = token(5, 7);
        assert_eq!(index_of(t), 5);
        assert_ne!(t, token(5, 8));
        assert_ne!(t, token(6, 7));
        assert_eq!(index_of(token(MAX_INDEX, usize::MAX)), MAX_INDEX);
        assert_ne!(token(MAX_INDEX, GENERATION_MASK), WAKE);
    }
}
