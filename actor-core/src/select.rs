//! [`Select`]: wait on several inboxes, work queues, channels and sockets at once, taking
//! whichever is ready first.
//!
//! Inboxes, work queues and channels are waited on with a crossbeam select: a queue under a
//! lock (a priority inbox or work queue) through its doorbell channel, a work queue in
//! arrival order through its items' channel and the one disconnected when it is sealed, both
//! under the one index of the selection. Sockets (Unix only) are
//! watched by a mio poller, in `select/sockets.rs`, which says how readiness is made
//! level-triggered; a selection that holds both kinds has one helper thread
//! (`select/helper.rs`). A selection without sockets has neither poller nor thread.

#[cfg(unix)]
mod helper;
#[cfg(unix)]
mod sockets;

use std::fmt;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;
#[cfg(unix)]
use std::time::Instant;

use crossbeam_channel::Receiver;

use crate::inbox::{self, Inbox};
use crate::work_queue::{self, WorkQueue};

/// Waits on several [`Inbox`]es, [`WorkQueue`]s, crossbeam channels and sockets at once and
/// says which one is ready, without busy-waiting: the waiting thread sleeps until one of
/// them is ready.
///
/// Add each source (its index is returned), then call [`ready`](Select::ready),
/// [`try_ready`](Select::try_ready) or [`ready_timeout`](Select::ready_timeout) and take
/// the message from the source with that index (`Inbox::try_recv`, `WorkQueue::try_get`,
/// `Receiver::try_recv`).
/// Another thread reading the same source may have taken the message in between, so a
/// `try_recv` that finds nothing just means "wait again". A channel whose senders are all gone
/// counts as ready forever: [`remove`](Select::remove) it.
///
/// # Sockets
///
/// On Unix, [`readable`](Select::readable) and [`writable`](Select::writable) add a socket
/// (a `TcpListener`, `TcpStream`, `UdpSocket`, `UnixStream`: anything with a file
/// descriptor that epoll accepts), so that one thread serves many sockets and its queues
/// at once, with no thread per socket and no read timeouts to stop it.
///
/// Readiness is *level-triggered*: a socket is reported whenever a wait finds it ready,
/// again and again until its data is read (or, for [`writable`](Select::writable), as long
/// as a write would not block), and a socket that was drained is not reported again until
/// new data comes. "Ready" is a hint, as with `poll(2)`: a read may still fail with
/// [`WouldBlock`](std::io::ErrorKind::WouldBlock), so set the socket non-blocking
/// (`set_nonblocking(true)`), and read until `WouldBlock` or just once, either is fine. A
/// socket with an error, or whose peer has closed, is ready too: its read says which.
///
/// A selection with sockets only waits on them in the calling thread. One with sockets and
/// channels starts one helper thread at its first wait (never one per socket) and joins it
/// when dropped. A selection with no socket works exactly as it would without this
/// feature.
///
/// # Examples
///
/// Queues only:
///
/// ```
/// use actor_core::{Inbox, Select};
///
/// let orders: Inbox<String> = Inbox::new();
/// let (ticks_tx, ticks) = crossbeam_channel::unbounded::<u32>();
///
/// orders.actor_ref().tell("book".to_string())?;
/// ticks_tx.send(1)?;
///
/// let mut select = Select::new();
/// let order_index = select.inbox(&orders);
/// let tick_index = select.channel(&ticks);
/// let mut seen = Vec::new();
/// while seen.len() < 2 {
///     let index = select.ready();
///     if index == order_index {
///         seen.extend(orders.try_recv());
///     } else if index == tick_index {
///         seen.extend(ticks.try_recv().ok().map(|t| format!("tick {t}")));
///     }
/// }
/// seen.sort();
/// assert_eq!(seen, ["book", "tick 1"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A UDP socket and an inbox, served by one thread:
///
/// ```
/// # #[cfg(unix)] {
/// use std::net::UdpSocket;
/// use std::time::Duration;
/// use actor_core::{Inbox, Select};
///
/// let socket = UdpSocket::bind("127.0.0.1:0")?;
/// socket.set_nonblocking(true)?;
/// let stop: Inbox<()> = Inbox::new();
///
/// let mut select = Select::new();
/// let socket_index = select.readable(&socket)?;
/// let stop_index = select.inbox(&stop);
///
/// let client = UdpSocket::bind("127.0.0.1:0")?;
/// client.send_to(b"hello", socket.local_addr()?)?;
/// stop.actor_ref().tell(())?;
///
/// let (mut datagrams, mut stopped) = (Vec::new(), false);
/// while !stopped || datagrams.is_empty() {
///     let index = select.ready_timeout(Duration::from_secs(10)).ok_or("nothing came")?;
///     if index == socket_index {
///         let mut buffer = [0; 64];
///         match socket.recv(&mut buffer) {
///             Ok(n) => datagrams.push(buffer[..n].to_vec()),
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
///             Err(e) => return Err(e.into()),
///         }
///     } else if index == stop_index {
///         stopped = stop.try_recv().is_ok() || stopped;
///     }
/// }
/// assert_eq!(datagrams, [b"hello".to_vec()]);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Select<'a> {
    inner: crossbeam_channel::Select<'a>,
    /// What each index holds; indexes freed by `remove` are given out again.
    entries: Vec<Entry>,
    free: Vec<usize>,
    /// The selection's index of each crossbeam operation, by crossbeam's index.
    by_crossbeam: Vec<usize>,
    /// How many inboxes and channels.
    channels: usize,
    /// Made with the first socket.
    #[cfg(unix)]
    sockets: Option<sockets::Sockets>,
}

/// What an index of a [`Select`] holds.
#[derive(Clone, Copy)]
enum Entry {
    Free,
    /// An inbox, a work queue or a channel, with its index in the crossbeam select, and
    /// the index of a second operation for a source waited on through two.
    Channel(usize, Option<usize>),
    #[cfg(unix)]
    Socket,
}

/// When a wait gives up.
#[cfg(unix)]
#[derive(Clone, Copy)]
enum Deadline {
    Now,
    At(Instant),
    Never,
}

#[cfg(unix)]
impl Deadline {
    fn after(timeout: Duration) -> Deadline {
        Instant::now()
            .checked_add(timeout)
            .map_or(Deadline::Never, Deadline::At)
    }

    /// How long there is left to wait; `None` for no limit.
    fn remaining(self) -> Option<Duration> {
        match self {
            Deadline::Now => Some(Duration::ZERO),
            Deadline::At(at) => Some(at.saturating_duration_since(Instant::now())),
            Deadline::Never => None,
        }
    }

    fn has_passed(self) -> bool {
        match self {
            Deadline::Now => true,
            Deadline::At(at) => Instant::now() >= at,
            Deadline::Never => false,
        }
    }

    /// Waits on `select` until this deadline; the crossbeam index of the ready operation.
    fn wait(self, select: &mut crossbeam_channel::Select<'_>) -> Option<usize> {
        match self {
            Deadline::Now => select.try_ready().ok(),
            Deadline::At(at) => select.ready_deadline(at).ok(),
            Deadline::Never => Some(select.ready()),
        }
    }
}

/// A socket could not be added to a [`Select`].
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::net::UdpSocket;
/// use actor_core::{Select, SelectError};
///
/// let socket = UdpSocket::bind("127.0.0.1:0")?;
/// let mut select = Select::new();
/// select.readable(&socket)?;
/// // The same socket twice: add a `try_clone` of it to wait for two things.
/// assert!(matches!(select.readable(&socket), Err(SelectError::Watch(_))));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// The operating system could not make the poller that watches sockets (for instance,
    /// the process has no file descriptor left).
    #[error("cannot make the poller that watches sockets")]
    Poller(#[source] std::io::Error),
    /// The operating system refused to watch this socket: its descriptor is already in this
    /// selection, is closed, or is not one that can be waited on (a regular file).
    #[error("cannot watch this socket")]
    Watch(#[source] std::io::Error),
    /// The selection has as many sources as its indexes can tell apart.
    #[error("the selection is full")]
    Full,
}

impl<'a> Select<'a> {
    /// An empty selection.
    ///
    /// # Examples
    ///
    /// See [`Select`].
    #[must_use]
    pub fn new() -> Select<'a> {
        Select {
            inner: crossbeam_channel::Select::new(),
            entries: Vec::new(),
            free: Vec::new(),
            by_crossbeam: Vec::new(),
            channels: 0,
            #[cfg(unix)]
            sockets: None,
        }
    }

    /// Adds an inbox; returns its index.
    ///
    /// # Examples
    ///
    /// See [`Select`].
    pub fn inbox<M: Send + 'static>(&mut self, inbox: &'a Inbox<M>) -> usize {
        let crossbeam = match inbox.readiness() {
            inbox::Readiness::Channel(rx) => self.inner.recv(rx),
            inbox::Readiness::Bell(bell) => self.inner.recv(bell),
        };
        self.add_channel(crossbeam, None)
    }

    /// Adds a work queue; returns its index. It is ready when a
    /// [`try_get`](WorkQueue::try_get) would find an item, or the end of a closed queue
    /// (which then counts as ready until [`remove`](Select::remove)d, like a closed inbox).
    ///
    /// # Examples
    ///
    /// A consumer that also listens for orders of its own:
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Inbox, RecvError, Select, WorkQueue};
    ///
    /// let jobs = WorkQueue::new();
    /// let control: Inbox<&str> = Inbox::new();
    /// let mut select = Select::new();
    /// let jobs_index = select.work_queue(&jobs);
    /// let control_index = select.inbox(&control);
    ///
    /// jobs.put(21)?;
    /// control.actor_ref().tell("report")?;
    /// jobs.close();
    /// let mut results = Vec::new();
    /// loop {
    ///     let index = select.ready_timeout(Duration::from_secs(10)).expect("a source is ready");
    ///     if index == jobs_index {
    ///         match jobs.try_get() {
    ///             Ok(job) => results.push(*job * 2),
    ///             Err(RecvError::Closed) => break,
    ///             Err(_) => {} // another consumer took it
    ///         }
    ///     } else if index == control_index {
    ///         assert_eq!(control.try_recv(), Ok("report"));
    ///         select.remove(control_index);
    ///     }
    /// }
    /// assert_eq!(results, [42]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn work_queue<T: Send + 'static>(&mut self, queue: &'a WorkQueue<T>) -> usize {
        match queue.readiness() {
            work_queue::Readiness::Channel { items, sealed } => {
                let crossbeam = self.inner.recv(items);
                let also = self.inner.recv(sealed);
                self.add_channel(crossbeam, Some(also))
            }
            work_queue::Readiness::Bell(bell) => {
                let crossbeam = self.inner.recv(bell);
                self.add_channel(crossbeam, None)
            }
        }
    }

    /// Adds a channel's receiving end; returns its index.
    ///
    /// # Examples
    ///
    /// See [`Select`].
    pub fn channel<T>(&mut self, receiver: &'a Receiver<T>) -> usize {
        let crossbeam = self.inner.recv(receiver);
        self.add_channel(crossbeam, None)
    }

    /// Adds a socket to wait for until it is readable (it has data, a pending connection
    /// for a listener, an error, or its peer has closed); returns its index.
    ///
    /// The socket is watched until [`remove`](Select::remove)d, and must stay open until
    /// then: remove it before dropping it. (The selection keeps its descriptor number, not
    /// the socket; were the number reused by a new socket, the two could be confused.) See
    /// [`Select`] for what "ready" promises.
    ///
    /// # Errors
    ///
    /// [`SelectError::Poller`] when this is the selection's first socket and the poller
    /// cannot be made; [`SelectError::Watch`] when the operating system refuses the socket,
    /// for instance because it is already in this selection (to wait for both reading and
    /// writing, add a `try_clone` of the socket for the other); [`SelectError::Full`].
    ///
    /// # Examples
    ///
    /// A listener is readable when a connection waits to be accepted:
    ///
    /// ```
    /// use std::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    /// use actor_core::Select;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// listener.set_nonblocking(true)?;
    /// let mut select = Select::new();
    /// let index = select.readable(&listener)?;
    /// assert_eq!(select.try_ready(), None);
    ///
    /// let _client = TcpStream::connect(listener.local_addr()?)?;
    /// assert_eq!(select.ready_timeout(Duration::from_secs(10)), Some(index));
    /// let (connection, _) = listener.accept()?;
    /// # drop(connection);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    pub fn readable<S: AsFd + ?Sized>(&mut self, socket: &S) -> Result<usize, SelectError> {
        self.add_socket(socket.as_fd().as_raw_fd(), mio::Interest::READABLE)
    }

    /// Adds a socket to wait for until it is writable (a write would not block: there is
    /// room in its send buffer, a connection in progress has completed, or it has an
    /// error); returns its index.
    ///
    /// A connected socket is writable almost always, so waiting for it is useful only while
    /// there is something to write that did not fit: add it then, and
    /// [`remove`](Select::remove) it once all is written, or every wait reports it. As for
    /// [`readable`](Select::readable), remove the socket before dropping it.
    ///
    /// # Errors
    ///
    /// As for [`readable`](Select::readable).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use std::time::Duration;
    /// use actor_core::Select;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0")?;
    /// let mut select = Select::new();
    /// let index = select.writable(&socket)?;
    /// assert_eq!(select.ready_timeout(Duration::from_secs(10)), Some(index));
    /// select.remove(index);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    pub fn writable<S: AsFd + ?Sized>(&mut self, socket: &S) -> Result<usize, SelectError> {
        self.add_socket(socket.as_fd().as_raw_fd(), mio::Interest::WRITABLE)
    }

    /// Removes the source with this index (for instance a channel whose senders are gone, or
    /// a socket about to be closed). The index may be given to a source added later.
    ///
    /// # Panics
    ///
    /// When no source has this index (it was never added, or was already removed).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Inbox, Select};
    /// let (tx, closed) = crossbeam_channel::unbounded::<()>();
    /// drop(tx);
    /// let open: Inbox<u8> = Inbox::new();
    /// open.actor_ref().tell(7)?;
    /// let mut select = Select::new();
    /// let closed_index = select.channel(&closed);
    /// let open_index = select.inbox(&open);
    /// select.remove(closed_index);
    /// assert_eq!(select.ready(), open_index);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&mut self, index: usize) {
        let entry = self.entries.get(index).copied().unwrap_or(Entry::Free);
        match entry {
            Entry::Free => panic!("Select::remove: no source has index {index}"),
            Entry::Channel(crossbeam, also) => {
                self.inner.remove(crossbeam);
                if let Some(also) = also {
                    self.inner.remove(also);
                }
                self.channels -= 1;
            }
            #[cfg(unix)]
            Entry::Socket => {
                if let Some(sockets) = &mut self.sockets {
                    sockets.unwatch(index);
                }
            }
        }
        self.entries[index] = Entry::Free;
        self.free.push(index);
    }

    /// Blocks until a source is ready and returns its index.
    ///
    /// # Panics
    ///
    /// When there is no source: the wait could never end.
    ///
    /// # Examples
    ///
    /// See [`Select`].
    pub fn ready(&mut self) -> usize {
        assert!(
            self.channels > 0 || self.socket_count() > 0,
            "Select::ready with no source would wait forever"
        );
        #[cfg(unix)]
        if self.has_sockets()
            && let Some(index) = self.wait_with_sockets(Deadline::Never)
        {
            return index;
        }
        let crossbeam = self.inner.ready();
        self.by_crossbeam[crossbeam]
    }

    /// The index of a ready source, if one is ready now.
    ///
    /// A socket is ready now if the last wait found it ready and it was not reported yet,
    /// or if the calling thread itself can find out without waiting; in a selection with
    /// channels too, a socket that has just become ready may show only at the next wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Inbox, Select};
    /// let inbox: Inbox<u8> = Inbox::new();
    /// let mut select = Select::new();
    /// let index = select.inbox(&inbox);
    /// assert_eq!(select.try_ready(), None);
    /// inbox.actor_ref().tell(1)?;
    /// assert_eq!(select.try_ready(), Some(index));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_ready(&mut self) -> Option<usize> {
        #[cfg(unix)]
        if self.has_sockets() {
            return self.wait_with_sockets(Deadline::Now);
        }
        let crossbeam = self.inner.try_ready().ok()?;
        Some(self.by_crossbeam[crossbeam])
    }

    /// Blocks until a source is ready or `timeout` passes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use actor_core::{Inbox, Select};
    /// let inbox: Inbox<u8> = Inbox::new();
    /// let mut select = Select::new();
    /// select.inbox(&inbox);
    /// assert_eq!(select.ready_timeout(Duration::from_millis(10)), None);
    /// ```
    pub fn ready_timeout(&mut self, timeout: Duration) -> Option<usize> {
        #[cfg(unix)]
        if self.has_sockets() {
            return self.wait_with_sockets(Deadline::after(timeout));
        }
        let crossbeam = self.inner.ready_timeout(timeout).ok()?;
        Some(self.by_crossbeam[crossbeam])
    }

    /// Gives the source waited on through crossbeam index `crossbeam` (and `also`) an
    /// index of the selection.
    fn add_channel(&mut self, crossbeam: usize, also: Option<usize>) -> usize {
        let index = self.take_index();
        self.entries[index] = Entry::Channel(crossbeam, also);
        for operation in std::iter::once(crossbeam).chain(also) {
            if self.by_crossbeam.len() <= operation {
                self.by_crossbeam.resize(operation + 1, usize::MAX);
            }
            self.by_crossbeam[operation] = index;
        }
        self.channels += 1;
        index
    }

    /// A free index, its entry still `Free`.
    fn take_index(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.entries.push(Entry::Free);
            self.entries.len() - 1
        })
    }

    fn socket_count(&self) -> usize {
        #[cfg(unix)]
        if let Some(sockets) = &self.sockets {
            return sockets.len();
        }
        0
    }
}

#[cfg(unix)]
impl Select<'_> {
    fn add_socket(
        &mut self,
        fd: std::os::fd::RawFd,
        interest: mio::Interest,
    ) -> Result<usize, SelectError> {
        if self.sockets.is_none() {
            self.sockets = Some(sockets::Sockets::new().map_err(SelectError::Poller)?);
        }
        let index = self.take_index();
        let watched = match &mut self.sockets {
            Some(sockets) if index <= sockets::MAX_INDEX => sockets
                .watch(index, fd, interest)
                .map_err(SelectError::Watch),
            _ => Err(SelectError::Full),
        };
        match watched {
            Ok(()) => {
                self.entries[index] = Entry::Socket;
                Ok(index)
            }
            Err(error) => {
                self.free.push(index);
                Err(error)
            }
        }
    }

    fn has_sockets(&self) -> bool {
        self.sockets
            .as_ref()
            .is_some_and(|sockets| !sockets.is_empty())
    }

    /// Waits until `deadline` on the sockets and channels of a selection that has sockets.
    fn wait_with_sockets(&mut self, deadline: Deadline) -> Option<usize> {
        /// How long one turn waits on the channels when no helper thread can be started.
        const TURN: Duration = Duration::from_millis(10);
        let sockets = self.sockets.as_mut()?;
        if self.channels > 0 {
            sockets.start_helper();
        }
        sockets.rearm();
        loop {
            if let Some(index) = sockets.take_ready() {
                return Some(index);
            }
            if self.channels == 0 && sockets.is_here() {
                sockets.poll_here(deadline.remaining());
            } else if let Some(forwarded) = sockets.forwarded() {
                // The crossbeam select cannot keep the helper's channel, which lives in the
                // selection itself: a copy of it takes the channel for this wait.
                let mut select = self.inner.clone();
                let forwarded_index = select.recv(forwarded);
                let crossbeam = deadline.wait(&mut select)?;
                if crossbeam != forwarded_index {
                    return Some(self.by_crossbeam[crossbeam]);
                }
                sockets.take_forwarded();
                continue;
            } else {
                // No helper thread: the channels and the sockets in turns.
                let turn = deadline.remaining().map_or(TURN, |left| left.min(TURN));
                if let Ok(crossbeam) = self.inner.ready_timeout(turn) {
                    return Some(self.by_crossbeam[crossbeam]);
                }
                sockets.poll_here(Some(Duration::ZERO));
            }
            if deadline.has_passed() {
                return sockets.take_ready();
            }
        }
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("channels", &self.channels)
            .field("sockets", &self.socket_count())
            .finish()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::net::UdpSocket;

    use super::*;

    const WAIT: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_millis(50);

    /// Without a helper thread, sockets and channels are waited on in turns: both are
    /// still reported, and a drained socket is not.
    #[test]
    fn sockets_and_channels_without_a_helper_take_turns() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_nonblocking(true).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (tx, rx) = crossbeam_channel::unbounded::<u8>();
        let mut select = Select::new();
        let socket_index = select.readable(&server).unwrap();
        let channel_index = select.channel(&rx);
        select.sockets.as_mut().unwrap().helper_forbidden = true;

        assert_eq!(select.ready_timeout(IDLE), None);
        assert_eq!(select.try_ready(), None);
        client.send_to(b"x", server.local_addr().unwrap()).unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(socket_index));
        assert_eq!(
            select.ready_timeout(WAIT),
            Some(socket_index),
            "not drained"
        );
        server.recv(&mut [0; 8]).unwrap();
        assert_eq!(select.ready_timeout(IDLE), None, "drained");
        tx.send(1).unwrap();
        assert_eq!(select.ready_timeout(WAIT), Some(channel_index));
        assert!(
            select.sockets.as_ref().unwrap().is_here(),
            "no helper started"
        );
    }
}
