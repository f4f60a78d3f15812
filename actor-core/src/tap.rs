//! Ready-made diagnostic subscribers: attach one to any exchange (or pattern, like
//! `system.>`) to see what flows.
//!
//! - [`Printer`]: prints each message, numbered (`msg[1]: ...`).
//! - [`Counter`]: counts messages.
//! - [`TracingTap`]: one `tracing` event per message, with the exchange name.
//! - [`Recorder`]: keeps the latest messages, bounded, and lets a test wait for them.

use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::exchange::{Delivery, Subscriber};

/// Formats messages with `Debug` for a [`Printer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DebugFormat;

/// Formats messages with `Display` for a [`Printer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DisplayFormat;

/// Prints each message it gets to standard output, numbered from 1: `msg[1]: ...`.
///
/// # Examples
///
/// ```
/// use actor_core::{System, tap::Printer};
///
/// let system = System::new();
/// let greetings = system.exchange::<String>("greetings")?;
/// let printer = Printer::debug();
/// greetings.attach(printer.clone());
/// greetings.publish("hello".to_string()); // prints: msg[1]: "hello"
/// assert_eq!(printer.printed(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Printer<F = DebugFormat> {
    count: Arc<AtomicU64>,
    format: PhantomData<fn() -> F>,
}

impl Printer<DebugFormat> {
    /// A printer that shows each message with `{:?}`.
    ///
    /// # Examples
    ///
    /// See [`Printer`].
    #[must_use]
    pub fn debug() -> Printer<DebugFormat> {
        Printer {
            count: Arc::new(AtomicU64::new(0)),
            format: PhantomData,
        }
    }
}

impl Printer<DisplayFormat> {
    /// A printer that shows each message with `{}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{System, SystemEvent, tap::Printer};
    /// let system = System::new();
    /// system.attach_pattern::<SystemEvent>("system.>", Printer::display())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn display() -> Printer<DisplayFormat> {
        Printer {
            count: Arc::new(AtomicU64::new(0)),
            format: PhantomData,
        }
    }
}

impl<F> Printer<F> {
    /// How many messages this printer (and its clones) printed.
    ///
    /// # Examples
    ///
    /// See [`Printer`].
    #[must_use]
    pub fn printed(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn print(&self, line: fmt::Arguments<'_>) {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        // A closed stdout must not turn into a panic on the publisher's thread.
        let _ = writeln!(std::io::stdout().lock(), "msg[{n}]: {line}");
    }
}

impl<F> Clone for Printer<F> {
    fn clone(&self) -> Self {
        Printer {
            count: Arc::clone(&self.count),
            format: PhantomData,
        }
    }
}

impl<F> fmt::Debug for Printer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Printer")
            .field("printed", &self.printed())
            .finish()
    }
}

impl<M: fmt::Debug> Subscriber<M> for Printer<DebugFormat> {
    fn deliver(&self, _exchange: &str, msg: M) -> Delivery {
        self.print(format_args!("{msg:?}"));
        Delivery::Delivered
    }

    fn label(&self) -> String {
        "printer".to_string()
    }
}

impl<M: fmt::Display> Subscriber<M> for Printer<DisplayFormat> {
    fn deliver(&self, _exchange: &str, msg: M) -> Delivery {
        self.print(format_args!("{msg}"));
        Delivery::Delivered
    }

    fn label(&self) -> String {
        "printer".to_string()
    }
}

/// Counts the messages it gets.
///
/// # Examples
///
/// ```
/// use actor_core::{System, tap::Counter};
///
/// let system = System::new();
/// let clicks = system.exchange::<()>("clicks")?;
/// let counter = Counter::new();
/// clicks.attach(counter.clone());
/// clicks.publish(());
/// clicks.publish(());
/// assert_eq!(counter.count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Counter {
    count: Arc<AtomicU64>,
}

impl Counter {
    /// A counter at zero.
    ///
    /// # Examples
    ///
    /// See [`Counter`].
    #[must_use]
    pub fn new() -> Counter {
        Counter::default()
    }

    /// Messages counted so far by this counter and its clones.
    ///
    /// # Examples
    ///
    /// See [`Counter`].
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl<M> Subscriber<M> for Counter {
    fn deliver(&self, _exchange: &str, _msg: M) -> Delivery {
        self.count.fetch_add(1, Ordering::Relaxed);
        Delivery::Delivered
    }

    fn label(&self) -> String {
        "counter".to_string()
    }
}

/// Emits one `tracing` event (level INFO, target `actor::tap`) per message, with the
/// exchange name and the message's `Debug` form.
///
/// # Examples
///
/// ```
/// use actor_core::{System, tap::TracingTap};
///
/// let system = System::new();
/// let orders = system.exchange::<u32>("orders")?;
/// orders.attach(TracingTap);
/// orders.publish(42); // event: exchange="orders" message=42
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingTap;

impl<M: fmt::Debug> Subscriber<M> for TracingTap {
    fn deliver(&self, exchange: &str, msg: M) -> Delivery {
        tracing::info!(target: "actor::tap", exchange, message = ?msg, "published");
        Delivery::Delivered
    }

    fn label(&self) -> String {
        "tracing tap".to_string()
    }
}

/// Keeps the latest `capacity` messages it gets (older ones are let go and counted), for
/// tests and post-mortems; [`wait_for`](Recorder::wait_for) waits until enough arrived.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{System, tap::Recorder};
///
/// let system = System::new();
/// let log = system.exchange::<u32>("log")?;
/// let recorder = Recorder::new(2);
/// log.attach(recorder.clone());
/// for n in 1..=3 {
///     log.publish(n);
/// }
/// assert!(recorder.wait_for(3, Duration::from_secs(1)));
/// assert_eq!(recorder.messages(), [2, 3]);
/// assert_eq!(recorder.overwritten(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Recorder<M> {
    shared: Arc<RecorderShared<M>>,
}

struct RecorderShared<M> {
    state: Mutex<Recorded<M>>,
    arrived: Condvar,
    capacity: usize,
}

struct Recorded<M> {
    messages: VecDeque<M>,
    received: u64,
    overwritten: u64,
}

impl<M> Recorder<M> {
    /// A recorder keeping at most `capacity` messages (at least 1).
    ///
    /// # Examples
    ///
    /// See [`Recorder`].
    #[must_use]
    pub fn new(capacity: usize) -> Recorder<M> {
        let capacity = capacity.max(1);
        Recorder {
            shared: Arc::new(RecorderShared {
                state: Mutex::new(Recorded {
                    messages: VecDeque::with_capacity(capacity.min(1024)),
                    received: 0,
                    overwritten: 0,
                }),
                arrived: Condvar::new(),
                capacity,
            }),
        }
    }

    /// The messages kept, oldest first.
    ///
    /// # Examples
    ///
    /// See [`Recorder`].
    #[must_use]
    pub fn messages(&self) -> Vec<M>
    where
        M: Clone,
    {
        self.shared.state.lock().messages.iter().cloned().collect()
    }

    /// Messages received in all, kept or not.
    ///
    /// # Examples
    ///
    /// See [`Recorder`].
    #[must_use]
    pub fn received(&self) -> u64 {
        self.shared.state.lock().received
    }

    /// Messages let go to stay within the capacity.
    ///
    /// # Examples
    ///
    /// See [`Recorder`].
    #[must_use]
    pub fn overwritten(&self) -> u64 {
        self.shared.state.lock().overwritten
    }

    /// Waits until `count` messages have been received in all, or `timeout` passes;
    /// returns whether they were.
    ///
    /// # Examples
    ///
    /// See [`Recorder`].
    #[must_use]
    pub fn wait_for(&self, count: u64, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.shared.state.lock();
        while state.received < count {
            match deadline {
                Some(deadline) => {
                    if self
                        .shared
                        .arrived
                        .wait_until(&mut state, deadline)
                        .timed_out()
                    {
                        return state.received >= count;
                    }
                }
                None => self.shared.arrived.wait(&mut state),
            }
        }
        true
    }
}

impl<M> Clone for Recorder<M> {
    fn clone(&self) -> Self {
        Recorder {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> fmt::Debug for Recorder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("Recorder")
            .field("kept", &state.messages.len())
            .field("received", &state.received)
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

impl<M: Send + 'static> Subscriber<M> for Recorder<M> {
    fn deliver(&self, _exchange: &str, msg: M) -> Delivery {
        let mut state = self.shared.state.lock();
        if state.messages.len() == self.shared.capacity {
            state.messages.pop_front();
            state.overwritten += 1;
        }
        state.messages.push_back(msg);
        state.received += 1;
        drop(state);
        self.shared.arrived.notify_all();
        Delivery::Delivered
    }

    fn label(&self) -> String {
        "recorder".to_string()
    }
}
