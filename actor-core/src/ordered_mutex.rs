//! [`OrderedMutex`]: mutexes taken in one global order, so that code holding several at once
//! cannot deadlock, with a check of that order in debug builds.
//!
//! Two threads deadlock when each holds a lock the other waits for; that needs two locks taken
//! in opposite orders. Every `OrderedMutex` gets a rank when it is made (ranks grow in the
//! order the mutexes are made), and [`OrderedMutex::lock_all`] takes a set of them by rising
//! rank whatever the order they are given in. In debug builds each thread also keeps the list
//! of ordered mutexes it holds, and taking one whose rank is not above every rank held panics
//! at once, naming both acquisitions' source locations: the mistake shows the first time the
//! code runs, not on the rare day two threads interleave badly. Release builds keep no list.

#[cfg(debug_assertions)]
use std::cell::RefCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The rank of the next mutex made. Only uniqueness and growth matter: `Relaxed` suffices.
static NEXT_RANK: AtomicU64 = AtomicU64::new(1);

/// A [`parking_lot::Mutex`] with a place in a global lock order.
///
/// Take one with [`lock`](OrderedMutex::lock) as usual; take several at once with
/// [`lock_all`](OrderedMutex::lock_all), which takes them by rising rank (their order of
/// creation) and hands the guards back in the order asked for. In debug builds, taking a
/// mutex while holding one of a higher rank (or the same one) panics with both source
/// locations, so an order that could deadlock is caught on its first run.
///
/// # Examples
///
/// Two accounts, and transfers in both directions on two threads: taking both locks through
/// `lock_all` means neither thread can hold one while waiting for the other.
///
/// ```
/// use std::sync::Arc;
/// use actor_core::OrderedMutex;
///
/// let a = Arc::new(OrderedMutex::new(100_i64));
/// let b = Arc::new(OrderedMutex::new(100_i64));
///
/// let transfer = |from: Arc<OrderedMutex<i64>>, to: Arc<OrderedMutex<i64>>| {
///     std::thread::spawn(move || {
///         for _ in 0..1000 {
///             let [mut from, mut to] = OrderedMutex::lock_all([&*from, &*to]);
///             *from -= 1;
///             *to += 1;
///         }
///     })
/// };
/// let one = transfer(Arc::clone(&a), Arc::clone(&b));
/// let other = transfer(Arc::clone(&b), Arc::clone(&a));
/// one.join().unwrap();
/// other.join().unwrap();
/// assert_eq!((*a.lock(), *b.lock()), (100, 100));
/// ```
pub struct OrderedMutex<T: ?Sized> {
    rank: u64,
    inner: parking_lot::Mutex<T>,
}

impl<T> OrderedMutex<T> {
    /// A mutex holding `value`, ranked after every ordered mutex made before it.
    ///
    /// # Examples
    ///
    /// ```
    /// let first = actor_core::OrderedMutex::new(());
    /// let second = actor_core::OrderedMutex::new(());
    /// assert!(first.rank() < second.rank());
    /// ```
    pub fn new(value: T) -> OrderedMutex<T> {
        OrderedMutex {
            rank: NEXT_RANK.fetch_add(1, Ordering::Relaxed),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// The value, taken out of the mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = actor_core::OrderedMutex::new(5);
    /// *mutex.lock() += 1;
    /// assert_eq!(mutex.into_inner(), 6);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> OrderedMutex<T> {
    /// The mutex's place in the global order: several mutexes are taken by rising rank.
    ///
    /// # Examples
    ///
    /// See [`new`](OrderedMutex::new).
    #[must_use]
    pub fn rank(&self) -> u64 {
        self.rank
    }

    /// Takes the mutex, waiting as long as another thread holds it.
    ///
    /// # Panics
    ///
    /// In debug builds, when the calling thread holds an ordered mutex of a higher rank, or
    /// this one (the wait would never end): the message names where each was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let counter = actor_core::OrderedMutex::new(0);
    /// *counter.lock() += 1;
    /// assert_eq!(*counter.lock(), 1);
    /// ```
    #[track_caller]
    pub fn lock(&self) -> OrderedMutexGuard<'_, T> {
        self.lock_at(Location::caller())
    }

    /// Takes the mutex if no other thread holds it, without waiting.
    ///
    /// Never waiting, it cannot deadlock, so it is not checked against the locks held; the
    /// guard counts as held for the checks of later acquisitions.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = actor_core::OrderedMutex::new(0);
    /// let guard = mutex.try_lock();
    /// assert!(guard.is_some());
    /// let busy = std::thread::scope(|s| s.spawn(|| mutex.try_lock().is_none()).join().unwrap());
    /// assert!(busy);
    /// ```
    #[track_caller]
    pub fn try_lock(&self) -> Option<OrderedMutexGuard<'_, T>> {
        let guard = self.inner.try_lock()?;
        Some(OrderedMutexGuard::held(
            self.rank,
            guard,
            Location::caller(),
        ))
    }

    /// Takes the mutex, waiting at most `timeout` for another thread to release it.
    ///
    /// # Panics
    ///
    /// As [`lock`](OrderedMutex::lock): an out-of-order acquisition is a mistake even when
    /// it happens to time out instead of deadlocking.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mutex = actor_core::OrderedMutex::new(0);
    /// let _held = mutex.lock();
    /// let waited = std::thread::scope(|s| {
    ///     s.spawn(|| mutex.lock_timeout(Duration::from_millis(10)).is_none()).join().unwrap()
    /// });
    /// assert!(waited);
    /// ```
    #[track_caller]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<OrderedMutexGuard<'_, T>> {
        let site = Location::caller();
        order::check(self.rank, site);
        let guard = self.inner.try_lock_for(timeout)?;
        Some(OrderedMutexGuard::held(self.rank, guard, site))
    }

    /// The value, through a unique borrow: no lock is needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut mutex = actor_core::OrderedMutex::new(1);
    /// *mutex.get_mut() = 2;
    /// assert_eq!(*mutex.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Takes every mutex of `locks` in the global order (by rising rank), and returns their
    /// guards in the order of `locks`.
    ///
    /// # Panics
    ///
    /// When the same mutex appears twice in `locks` (taking it twice would never end); in
    /// debug builds also as [`lock`](OrderedMutex::lock), when the calling thread already
    /// holds an ordered mutex ranked above one of `locks`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::OrderedMutex;
    ///
    /// let left = OrderedMutex::new("left fork");
    /// let right = OrderedMutex::new("right fork");
    /// // The order asked for does not matter: right is taken after left all the same.
    /// let [r, l] = OrderedMutex::lock_all([&right, &left]);
    /// assert_eq!((*l, *r), ("left fork", "right fork"));
    /// ```
    #[track_caller]
    pub fn lock_all<'a, const N: usize>(
        locks: [&'a OrderedMutex<T>; N],
    ) -> [OrderedMutexGuard<'a, T>; N] {
        let site = Location::caller();
        let mut by_rank: [usize; N] = std::array::from_fn(|i| i);
        by_rank.sort_unstable_by_key(|&i| locks[i].rank);
        if let Some(pair) = by_rank
            .windows(2)
            .find(|pair| locks[pair[0]].rank == locks[pair[1]].rank)
        {
            panic!(
                "OrderedMutex::lock_all at {site}: the mutex of rank {} is asked for twice \
                 (positions {} and {}); taking it twice would wait forever",
                locks[pair[0]].rank, pair[0], pair[1]
            );
        }
        let mut guards: [Option<OrderedMutexGuard<'a, T>>; N] = std::array::from_fn(|_| None);
        for i in by_rank {
            guards[i] = Some(locks[i].lock_at(site));
        }
        guards.map(|guard| guard.expect("invariant: every position was locked above"))
    }

    fn lock_at(&self, site: &'static Location<'static>) -> OrderedMutexGuard<'_, T> {
        order::check(self.rank, site);
        OrderedMutexGuard::held(self.rank, self.inner.lock(), site)
    }
}

impl<T: Default> Default for OrderedMutex<T> {
    fn default() -> Self {
        OrderedMutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OrderedMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("OrderedMutex");
        out.field("rank", &self.rank);
        match self.inner.try_lock() {
            Some(value) => out.field("value", &&*value),
            None => out.field("value", &format_args!("<locked>")),
        };
        out.finish()
    }
}

/// Holds an [`OrderedMutex`] until dropped; gives access to its value.
///
/// # Examples
///
/// See [`OrderedMutex`].
#[must_use = "the mutex is released at once if the guard is not kept"]
pub struct OrderedMutexGuard<'a, T: ?Sized> {
    guard: parking_lot::MutexGuard<'a, T>,
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    rank: u64,
}

impl<'a, T: ?Sized> OrderedMutexGuard<'a, T> {
    fn held(
        rank: u64,
        guard: parking_lot::MutexGuard<'a, T>,
        site: &'static Location<'static>,
    ) -> OrderedMutexGuard<'a, T> {
        order::push(rank, site);
        OrderedMutexGuard { guard, rank }
    }
}

impl<T: ?Sized> Deref for OrderedMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for OrderedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: ?Sized> Drop for OrderedMutexGuard<'_, T> {
    fn drop(&mut self) {
        order::pop(self.rank);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OrderedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.guard, f)
    }
}

/// The debug builds' record of the ordered mutexes each thread holds, and the check.
#[cfg(debug_assertions)]
mod order {
    use super::{Location, RefCell};

    /// A mutex held by this thread: its rank, and where it was taken.
    struct Held {
        rank: u64,
        site: &'static Location<'static>,
    }

    thread_local! {
        static HELD: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
    }

    /// Panics if taking the mutex of rank `rank` at `site` breaks the order.
    pub(super) fn check(rank: u64, site: &'static Location<'static>) {
        // The message is made with the list borrowed, and the panic raised once it is not:
        // the guards dropped while unwinding borrow it again.
        let violation = HELD.with(|held| {
            held.borrow()
                .iter()
                .filter(|held| held.rank >= rank)
                .max_by_key(|held| held.rank)
                .map(|held| {
                    if held.rank == rank {
                        format!(
                            "OrderedMutex of rank {rank} taken at {site} while this thread \
                             already holds it (taken at {}): the wait would never end",
                            held.site
                        )
                    } else {
                        format!(
                            "lock order violated: OrderedMutex of rank {rank} taken at {site} \
                             while this thread holds rank {} (taken at {}); take mutexes by \
                             rising rank, or several at once with OrderedMutex::lock_all",
                            held.rank, held.site
                        )
                    }
                })
        });
        if let Some(message) = violation {
            panic!("{message}");
        }
    }

    pub(super) fn push(rank: u64, site: &'static Location<'static>) {
        HELD.with(|held| held.borrow_mut().push(Held { rank, site }));
    }

    pub(super) fn pop(rank: u64) {
        // Guards may be dropped in any order: remove the latest entry of this rank.
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some(at) = held.iter().rposition(|held| held.rank == rank) {
                held.remove(at);
            }
        });
    }
}

/// Release builds keep no record: the order is the caller's to respect.
#[cfg(not(debug_assertions))]
mod order {
    use super::Location;

    pub(super) fn check(_rank: u64, _site: &'static Location<'static>) {}

    pub(super) fn push(_rank: u64, _site: &'static Location<'static>) {}

    pub(super) fn pop(_rank: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_dropped_out_of_order_leave_the_record_empty() {
        let a = OrderedMutex::new(1);
        let b = OrderedMutex::new(2);
        let ga = a.lock();
        let gb = b.lock();
        drop(ga);
        drop(gb);
        // Would panic if a's entry had been left behind with b's rank above it.
        let _again = a.lock();
    }
}
