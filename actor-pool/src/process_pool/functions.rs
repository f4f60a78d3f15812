//! [`Functions`]: the registry of what a process pool's workers can run, by name.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use actor_core::ErrorChain;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::entry::{Entries, Entry};
use super::function::Function;
use super::protocol::WORKER_ENV;
use super::serve;
use super::signature::Signature;

/// The functions a [`ProcessPool`](crate::ProcessPool) can call, each under a name, with typed
/// arguments and results.
///
/// One registry serves both sides of the pool. The program builds it at the start of `main`
/// and calls [`serve_if_worker`](Functions::serve_if_worker): in a worker process that call
/// serves calls and never returns; in the program proper it returns at once, and the program
/// goes on to build a pool from the same registry.
///
/// [`register`](Functions::register) returns a typed handle, a [`Function`], which is what the
/// pool's calls take: the types of every call are checked when the program compiles, and the
/// name is only what travels to the worker.
///
/// A function takes one argument (a tuple or a struct for several) that is
/// [`DeserializeOwned`] and returns one value that is [`Serialize`]. An error meant for the
/// caller is best returned as data (`Result<T, E>` with a serializable `E`).
///
/// # Examples
///
/// ```no_run
/// use actor_pool::{Functions, ProcessPool};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let mut functions = Functions::new();
///     let square = functions.register("square", |x: u64| x * x);
///     let add = functions.register("add", |(a, b): (i32, i32)| a + b);
///     functions.serve_if_worker(); // a worker process serves here and exits
///
///     let pool = ProcessPool::builder(&functions).workers(2).build()?;
///     assert_eq!(pool.submit(&square, 12)?.wait()?, 144);
///     assert_eq!(pool.submit(&add, (2, 3))?.wait()?, 5);
///     Ok(())
/// }
/// ```
#[derive(Clone, Default)]
pub struct Functions {
    entries: Entries,
}

impl Functions {
    /// Creates an empty registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let functions = actor_pool::Functions::new();
    /// assert_eq!(functions.names().count(), 0);
    /// ```
    #[must_use]
    pub fn new() -> Functions {
        Functions::default()
    }

    /// Registers `function` under `name`, and returns the handle that calls it.
    ///
    /// Register every function before [`serve_if_worker`](Functions::serve_if_worker) and
    /// before building a pool: a worker serves, and a pool knows, the functions registered
    /// when it starts.
    ///
    /// # Panics
    ///
    /// If `name` is already registered: two functions under one name is a mistake in the
    /// program, and the registry is built once at the start of `main`, where it shows at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::{Functions, Signature};
    ///
    /// let mut functions = Functions::new();
    /// let len = functions.register("len", |text: String| text.len() as u64);
    /// assert_eq!(len.name(), "len");
    /// assert_eq!(functions.signature("len"), Some(Signature::of::<String, u64>()));
    /// ```
    pub fn register<A, R, F>(&mut self, name: impl Into<String>, function: F) -> Function<A, R>
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let name: Arc<str> = Arc::from(name.into());
        if self
            .entries
            .insert(Arc::clone(&name), Entry::new(function))
            .is_some()
        {
            panic!("a function named {name:?} is already registered");
        }
        Function::new(name)
    }

    /// Serves calls and exits if this process was started as a worker of a
    /// [`ProcessPool`](crate::ProcessPool); returns at once otherwise.
    ///
    /// Call it first thing in `main`, before anything that reads arguments, standard input or
    /// has effects, since a worker runs the same program. A worker serves calls until the pool
    /// closes the connection (at its shutdown, or because the pool's process ended, however it
    /// ended) and then exits with status 0; if the connection breaks the protocol, it prints
    /// why on standard error and exits with status 2.
    ///
    /// A process is a worker when the environment variable `ACTOR_POOL_WORKER` is set, as the
    /// pool sets it for the processes it starts. A worker's standard output and error are the
    /// pool's, so what a function prints shows as the pool's program would print it; its
    /// standard input is the connection to the pool, which functions must leave alone.
    /// Processes a function starts inherit the variable: one that runs this same program
    /// should remove it.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::Functions;
    ///
    /// let mut functions = Functions::new();
    /// functions.register("double", |x: i64| 2 * x);
    /// functions.serve_if_worker(); // not a worker: returns
    /// ```
    pub fn serve_if_worker(&self) {
        if std::env::var_os(WORKER_ENV).is_none() {
            return;
        }
        let status = match serve::serve_stdin(&self.entries) {
            Ok(()) => 0,
            Err(error) => {
                // A worker has no caller to return an error to; its standard error is the
                // pool's, where the message is seen.
                eprintln!(
                    "actor-pool worker (pid {}): {}",
                    std::process::id(),
                    ErrorChain(&error)
                );
                2
            }
        };
        std::process::exit(status)
    }

    /// The types `name` was registered with, or `None` if no function has that name.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::Functions;
    ///
    /// let mut functions = Functions::new();
    /// functions.register("neg", |x: i8| -x);
    /// assert_eq!(functions.signature("neg").unwrap().to_string(), "fn(i8) -> i8");
    /// assert!(functions.signature("abs").is_none());
    /// ```
    pub fn signature(&self, name: &str) -> Option<Signature> {
        self.entries.get(name).map(Entry::signature)
    }

    /// The registered names, in sorted order.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_pool::Functions;
    ///
    /// let mut functions = Functions::new();
    /// functions.register("b", |x: u8| x);
    /// functions.register("a", |x: u8| x);
    /// assert_eq!(functions.names().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(|name| &**name)
    }

    /// The names and types, which is all a pool needs of the registry.
    pub(crate) fn signatures(&self) -> BTreeMap<Arc<str>, Signature> {
        self.entries
            .iter()
            .map(|(name, entry)| (Arc::clone(name), entry.signature()))
            .collect()
    }
}

impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(name, entry)| (name, entry.signature())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "already registered")]
    fn a_name_registered_twice_panics() {
        let mut functions = Functions::new();
        functions.register("f", |x: u8| x);
        functions.register("f", |x: u16| x);
    }

    #[test]
    fn debug_lists_names_and_signatures() {
        let mut functions = Functions::new();
        functions.register("id", |x: u8| x);
        assert_eq!(
            format!("{functions:?}"),
            r#"{"id": Signature(fn(u8) -> u8)}"#
        );
    }
}
