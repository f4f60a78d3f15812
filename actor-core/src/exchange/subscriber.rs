//! What can be attached to an exchange: the [`Subscriber`] trait and its implementations for
//! actor refs, channels and closures.

use std::fmt;

// An actor ref is a subscriber (the one import from exchanges back to actors): publishing to
// it is a tell.
use crate::actor_ref::ActorRef;
use crate::error::SendError;
use crate::mailbox::Sent;
use crate::send_wait::SendWait;

/// What became of one message handed to a [`Subscriber`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The subscriber took the message.
    Delivered,
    /// The subscriber is alive but could not take it (a full bounded mailbox); the exchange
    /// counts the drop against the subscription.
    Dropped,
    /// The subscriber is gone for good (actor ended, channel closed); the exchange detaches
    /// it and reports it.
    Gone,
}

/// Anything that can take messages published on an exchange.
///
/// Implemented for [`ActorRef<M>`] (the message is told to the actor, under its mailbox's
/// overflow policy), for `crossbeam_channel::Sender<M>` (a bounded channel blocks the
/// publisher when full), for closures through [`from_fn`], and by the diagnostic taps in
/// [`tap`](crate::tap). Implement it for your own subscribers; keep `deliver` quick, since
/// it runs on the publisher's thread.
///
/// # Examples
///
/// ```
/// use actor_core::{Delivery, Subscriber, System};
///
/// /// Keeps only the even numbers.
/// struct Evens(crossbeam_channel::Sender<u64>);
///
/// impl Subscriber<u64> for Evens {
///     fn deliver(&self, _exchange: &str, n: u64) -> Delivery {
///         if n % 2 == 1 {
///             return Delivery::Delivered; // taken, and ignored
///         }
///         match self.0.send(n) {
///             Ok(()) => Delivery::Delivered,
///             Err(_) => Delivery::Gone,
///         }
///     }
/// }
///
/// let system = System::new();
/// let numbers = system.exchange::<u64>("numbers")?;
/// let (tx, rx) = crossbeam_channel::unbounded();
/// numbers.attach(Evens(tx));
/// for n in 0..5 {
///     numbers.publish(n);
/// }
/// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 2, 4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Subscriber<M>: Send + Sync + 'static {
    /// Takes one message published on the exchange named `exchange`.
    fn deliver(&self, exchange: &str, msg: M) -> Delivery;

    /// A short description for reports (for instance when the subscriber is gone). By
    /// default, the subscriber's type name.
    fn label(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}

impl<M: Send + 'static> Subscriber<M> for ActorRef<M> {
    fn deliver(&self, _exchange: &str, msg: M) -> Delivery {
        match self.offer(msg, SendWait::Forever) {
            Ok(Sent::Queued) => Delivery::Delivered,
            // An unreachable remote subscriber may be reached again: not gone.
            Ok(Sent::Dropped)
            | Err(SendError::Full(_) | SendError::Timeout(_) | SendError::Unreachable(_)) => {
                Delivery::Dropped
            }
            Err(SendError::Closed(_)) => Delivery::Gone,
        }
    }

    fn label(&self) -> String {
        match self.name() {
            Some(name) => format!("actor {} ({name})", self.id()),
            None => format!("actor {}", self.id()),
        }
    }
}

/// A shared subscriber: one subscriber attached in several places (to several exchanges, or
/// to the exchanges of several nodes) behind one `Arc`, `Arc<dyn Subscriber<M>>` included.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use actor_core::{System, tap::Counter};
///
/// let system = System::new();
/// let counter = Arc::new(Counter::new());
/// let _a = system.exchange::<u8>("a")?.subscribe(Arc::clone(&counter));
/// let _b = system.exchange::<u8>("b")?.subscribe(Arc::clone(&counter));
/// system.exchange::<u8>("a")?.publish(1);
/// system.exchange::<u8>("b")?.publish(2);
/// assert_eq!(counter.count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<M, S> Subscriber<M> for std::sync::Arc<S>
where
    S: Subscriber<M> + ?Sized,
{
    fn deliver(&self, exchange: &str, msg: M) -> Delivery {
        (**self).deliver(exchange, msg)
    }

    fn label(&self) -> String {
        (**self).label()
    }
}

impl<M: Send + 'static> Subscriber<M> for crossbeam_channel::Sender<M> {
    fn deliver(&self, _exchange: &str, msg: M) -> Delivery {
        match self.send(msg) {
            Ok(()) => Delivery::Delivered,
            Err(_) => Delivery::Gone,
        }
    }

    fn label(&self) -> String {
        "channel".to_string()
    }
}

/// A closure as a subscriber: see [`from_fn`].
pub struct FnSubscriber<F>(F);

/// Makes a subscriber of a closure, called with the exchange name and each message.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use actor_core::{System, from_fn};
///
/// let system = System::new();
/// let prices = system.exchange::<u64>("prices")?;
/// let total = Arc::new(AtomicU64::new(0));
/// let sum = Arc::clone(&total);
/// prices.attach(from_fn(move |_exchange: &str, price: u64| {
///     sum.fetch_add(price, Ordering::Relaxed);
/// }));
/// prices.publish(3);
/// prices.publish(4);
/// assert_eq!(total.load(Ordering::Relaxed), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_fn<M, F>(f: F) -> FnSubscriber<F>
where
    F: Fn(&str, M) + Send + Sync + 'static,
{
    FnSubscriber(f)
}

impl<M, F> Subscriber<M> for FnSubscriber<F>
where
    F: Fn(&str, M) + Send + Sync + 'static,
{
    fn deliver(&self, exchange: &str, msg: M) -> Delivery {
        (self.0)(exchange, msg);
        Delivery::Delivered
    }

    fn label(&self) -> String {
        "closure".to_string()
    }
}

impl<F> fmt::Debug for FnSubscriber<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnSubscriber")
    }
}
