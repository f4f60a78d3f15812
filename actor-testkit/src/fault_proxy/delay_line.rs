//! [`DelayLine`]: what one direction of a connection or flow holds back until it is due, in
//! arrival order, within a byte bound.
//!
//! | state                 | `push`               | `try_push`       | `pop`                      |
//! |-----------------------|----------------------|------------------|----------------------------|
//! | open, room            | queues               | queues           | waits for the front's due time |
//! | open, full            | waits for room       | `Full`           | as above                   |
//! | closed                | `Err` (value back)   | `Closed`         | `None` at once             |
//!
//! "Room" means the line is empty or the new item fits within the bound, so that an item
//! larger than the bound still passes, alone. Closing discards what is queued and wakes
//! every waiter; it is final.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// A FIFO whose items each become available at a due time, never before the item ahead of
/// them, so that a shrinking delay cannot reorder them.
#[derive(Debug)]
pub(crate) struct DelayLine<T> {
    state: Mutex<Line<T>>,
    /// Signalled when an item is queued (for `pop`), taken (for `push`), or the line closes.
    /// Both sides wait on it, hence `notify_all`.
    changed: Condvar,
    max_bytes: usize,
}

#[derive(Debug)]
struct Line<T> {
    items: VecDeque<Item<T>>,
    bytes: usize,
    closed: bool,
}

#[derive(Debug)]
struct Item<T> {
    due: Instant,
    bytes: usize,
    value: T,
}

/// Why [`DelayLine::try_push`] gave its value back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused<T> {
    /// The line holds too many bytes for this item.
    Full(T),
    /// The line is closed.
    Closed(T),
}

impl<T> DelayLine<T> {
    /// An open, empty line that holds at most `max_bytes` (and any single item).
    pub(crate) fn new(max_bytes: usize) -> DelayLine<T> {
        DelayLine {
            state: Mutex::new(Line {
                items: VecDeque::new(),
                bytes: 0,
                closed: false,
            }),
            changed: Condvar::new(),
            max_bytes,
        }
    }

    /// Queues `value` (`bytes` long) to be due after `delay`, or hands it back if the line is
    /// full or closed.
    pub(crate) fn try_push(
        &self,
        value: T,
        bytes: usize,
        delay: Duration,
    ) -> Result<(), Refused<T>> {
        let mut line = self.state.lock();
        if line.closed {
            return Err(Refused::Closed(value));
        }
        if !self.has_room(&line, bytes) {
            return Err(Refused::Full(value));
        }
        self.queue(&mut line, value, bytes, delay);
        Ok(())
    }

    /// Queues `value` (`bytes` long) to be due after `delay`, waiting for room; hands it back
    /// if the line is closed.
    ///
    /// The delay counts from when the item is queued, after any wait for room.
    pub(crate) fn push(&self, value: T, bytes: usize, delay: Duration) -> Result<(), T> {
        let mut line = self.state.lock();
        loop {
            if line.closed {
                return Err(value);
            }
            if self.has_room(&line, bytes) {
                self.queue(&mut line, value, bytes, delay);
                return Ok(());
            }
            self.changed.wait(&mut line);
        }
    }

    /// Waits until the item at the front is due and takes it; `None` once the line is closed.
    pub(crate) fn pop(&self) -> Option<T> {
        let mut line = self.state.lock();
        loop {
            if line.closed {
                return None;
            }
            let Some(front) = line.items.front() else {
                self.changed.wait(&mut line);
                continue;
            };
            let due = front.due;
            if due > Instant::now() {
                // Wakes at the due time, or earlier when the line closes.
                self.changed.wait_until(&mut line, due);
                continue;
            }
            let item = line.items.pop_front()?;
            line.bytes -= item.bytes;
            self.changed.notify_all();
            return Some(item.value);
        }
    }

    /// Closes the line: what is queued is discarded, and every waiter returns.
    pub(crate) fn close(&self) {
        let mut line = self.state.lock();
        line.closed = true;
        line.items.clear();
        line.bytes = 0;
        self.changed.notify_all();
    }

    fn has_room(&self, line: &Line<T>, bytes: usize) -> bool {
        line.items.is_empty() || line.bytes.saturating_add(bytes) <= self.max_bytes
    }

    fn queue(&self, line: &mut Line<T>, value: T, bytes: usize, delay: Duration) {
        let now = Instant::now();
        let mut due = now.checked_add(delay).unwrap_or(now);
        // Never due before the item ahead: order is kept when the delay shrinks.
        if let Some(last) = line.items.back() {
            due = due.max(last.due);
        }
        line.items.push_back(Item { due, bytes, value });
        line.bytes += bytes;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc;

    use super::*;

    const WAIT: Duration = Duration::from_secs(10);

    #[test]
    fn an_item_is_not_taken_before_its_delay() {
        let line = DelayLine::new(100);
        let pushed = Instant::now();
        line.try_push("a", 1, Duration::from_millis(30)).unwrap();
        assert_eq!(line.pop(), Some("a"));
        assert!(pushed.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_shrinking_delay_does_not_reorder() {
        let line = DelayLine::new(100);
        line.try_push(1, 1, Duration::from_millis(40)).unwrap();
        line.try_push(2, 1, Duration::ZERO).unwrap();
        line.try_push(3, 1, Duration::from_millis(5)).unwrap();
        assert_eq!(
            [line.pop(), line.pop(), line.pop()],
            [Some(1), Some(2), Some(3)]
        );
    }

    #[test]
    fn a_full_line_refuses_but_a_lone_large_item_passes() {
        let line = DelayLine::new(10);
        line.try_push("big", 50, Duration::ZERO).unwrap();
        assert_eq!(
            line.try_push("small", 1, Duration::ZERO),
            Err(Refused::Full("small"))
        );
        assert_eq!(line.pop(), Some("big"));
        line.try_push("small", 1, Duration::ZERO).unwrap();
        line.try_push("fits", 9, Duration::ZERO).unwrap();
        assert_eq!(
            line.try_push("over", 1, Duration::ZERO),
            Err(Refused::Full("over"))
        );
    }

    #[test]
    fn push_waits_for_room() {
        let line = Arc::new(DelayLine::new(10));
        line.try_push(1, 10, Duration::ZERO).unwrap();
        let (done_tx, done_rx) = mpsc::channel();
        let pusher = {
            let line = Arc::clone(&line);
            std::thread::spawn(move || {
                let pushed = line.push(2, 10, Duration::ZERO);
                let _ = done_tx.send(());
                pushed
            })
        };
        // The line is full until the first item is taken.
        assert!(done_rx.recv_timeout(Duration::from_millis(50)).is_err());
        assert_eq!(line.pop(), Some(1));
        done_rx.recv_timeout(WAIT).unwrap();
        assert_eq!(pusher.join().unwrap(), Ok(()));
        assert_eq!(line.pop(), Some(2));
    }

    #[test]
    fn close_discards_and_wakes_every_waiter() {
        let line = Arc::new(DelayLine::new(10));
        line.try_push(1, 10, Duration::from_secs(3600)).unwrap();
        let popper = {
            let line = Arc::clone(&line);
            std::thread::spawn(move || line.pop())
        };
        let pusher = {
            let line = Arc::clone(&line);
            std::thread::spawn(move || line.push(2, 10, Duration::ZERO))
        };
        line.close();
        assert_eq!(popper.join().unwrap(), None);
        assert_eq!(pusher.join().unwrap(), Err(2));
        assert_eq!(line.try_push(3, 1, Duration::ZERO), Err(Refused::Closed(3)));
        assert_eq!(line.pop(), None);
    }
}
