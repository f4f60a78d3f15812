//! [`Select`]: wait on several inboxes and channels at once, taking whichever is ready first.

use std::fmt;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::inbox::Inbox;

/// Waits on several [`Inbox`]es and crossbeam channels at once and says which one has a
/// message, without busy-waiting: the waiting thread sleeps until one of them is ready.
///
/// Add each source (its index is returned), then call [`ready`](Select::ready),
/// [`try_ready`](Select::try_ready) or [`ready_timeout`](Select::ready_timeout) and take
/// the message from the source with that index (`Inbox::try_recv`, `Receiver::try_recv`).
/// Another thread reading the same source may have taken the message in between, so a
/// `None` from `try_recv` just means "wait again". A channel whose senders are all gone
/// counts as ready forever: [`remove`](Select::remove) it.
///
/// # Examples
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
pub struct Select<'a> {
    inner: crossbeam_channel::Select<'a>,
    sources: usize,
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
            sources: 0,
        }
    }

    /// Adds an inbox; returns its index.
    ///
    /// # Examples
    ///
    /// See [`Select`].
    pub fn inbox<M: Send + 'static>(&mut self, inbox: &'a Inbox<M>) -> usize {
        self.sources += 1;
        self.inner.recv(inbox.receiver())
    }

    /// Adds a channel's receiving end; returns its index.
    ///
    /// # Examples
    ///
    /// See [`Select`].
    pub fn channel<T>(&mut self, receiver: &'a Receiver<T>) -> usize {
        self.sources += 1;
        self.inner.recv(receiver)
    }

    /// Removes the source with this index (for instance a channel whose senders are gone).
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
        self.inner.remove(index);
        self.sources -= 1;
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
            self.sources > 0,
            "Select::ready with no source would wait forever"
        );
        self.inner.ready()
    }

    /// The index of a ready source, if one is ready now.
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
        self.inner.try_ready().ok()
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
        self.inner.ready_timeout(timeout).ok()
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
            .field("sources", &self.sources)
            .finish()
    }
}
