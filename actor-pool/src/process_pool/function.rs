//! [`Function`]: the typed handle of a registered function, which calls go through.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::signature::Signature;

/// A function registered in a [`Functions`](crate::Functions) registry, taking an `A` and
/// returning an `R`: what [`ProcessPool::submit`](crate::ProcessPool::submit) and
/// [`ProcessPool::map`](crate::ProcessPool::map) call.
///
/// [`Functions::register`](crate::Functions::register) returns it. The types travel with the
/// handle, so a call with another argument type, or a result used as another type, does not
/// compile; the name travels only on the wire, to tell the worker which function to run.
///
/// A handle is cheap to clone and can be sent to other threads.
///
/// # Examples
///
/// ```no_run
/// use actor_pool::{Function, Functions, ProcessPool};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let mut functions = Functions::new();
///     let square: Function<u64, u64> = functions.register("square", |x: u64| x * x);
///     functions.serve_if_worker();
///
///     let pool = ProcessPool::builder(&functions).workers(2).build()?;
///     assert_eq!(pool.submit(&square, 12)?.wait()?, 144);
///     Ok(())
/// }
/// ```
///
/// A call with an argument of another type does not compile:
///
/// ```compile_fail
/// # use actor_pool::{Functions, ProcessPool};
/// let mut functions = Functions::new();
/// let square = functions.register("square", |x: u64| x * x);
/// let pool = ProcessPool::builder(&functions).build()?;
/// let answer = pool.submit(&square, "12"); // `square` takes a u64, not a &str
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Function<A, R> {
    name: Arc<str>,
    /// `fn(A) -> R`: the handle holds no `A` nor `R`, so it is `Send + Sync` whatever they are.
    types: PhantomData<fn(A) -> R>,
}

impl<A: 'static, R: 'static> Function<A, R> {
    pub(crate) fn new(name: Arc<str>) -> Function<A, R> {
        Function {
            name,
            types: PhantomData,
        }
    }

    /// The name the function is registered under, which is what travels to the worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut functions = actor_pool::Functions::new();
    /// let negate = functions.register("negate", |x: i8| -x);
    /// assert_eq!(negate.name(), "negate");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The argument and result types, `A` and `R`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut functions = actor_pool::Functions::new();
    /// let len = functions.register("len", |text: String| text.len() as u64);
    /// assert_eq!(len.signature().to_string(), "fn(alloc::string::String) -> u64");
    /// ```
    #[must_use]
    pub fn signature(&self) -> Signature {
        Signature::of::<A, R>()
    }

    /// The name, shared with the calls that carry it.
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }
}

// Written out rather than derived: a derive would require `A: Clone` and `R: Clone`.
impl<A, R> Clone for Function<A, R> {
    fn clone(&self) -> Self {
        Function {
            name: Arc::clone(&self.name),
            types: PhantomData,
        }
    }
}

impl<A: 'static, R: 'static> fmt::Debug for Function<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("signature", &self.signature())
            .finish()
    }
}
