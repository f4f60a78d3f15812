//! Dynamic tag dispatch: messages that arrive by name, as a tag and encoded bytes.
//!
//! A message from outside the type system (another process, another version, another
//! language) is a [`Tagged`] pair: a tag naming what it is, and a payload encoded with the
//! wire codec. A [`Router`] maps each tag to a typed handler, decodes the payload into the
//! handler's argument type and calls it. [`RouterActor`] makes a router the handler of an
//! actor.
//!
//! A tagged message crosses the wire (`tagged.rs`), and so does the error that answers a
//! request that was not handled (`route_error.rs`): a router actor can serve other
//! processes.

mod route_error;
mod tagged;

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::actor::{Actor, BoxError, Context, HandlerResult};
use crate::codec::{Bincode, Codec};
use crate::event::DeadLetterReason;
pub use route_error::{ErrorText, RouteError};
pub use tagged::{AskTaggedError, Tagged, TaggedReply};

/// Decodes a tag's payload, calls its handler and, when asked, encodes the answer.
type Route<S> =
    Box<dyn FnMut(&mut S, &str, &[u8], Option<&mut Vec<u8>>) -> Result<(), RouteError> + Send>;

/// Maps tags to typed handlers over a state `S`.
///
/// Each handler takes the state and its decoded argument, and returns a value (encoded for
/// the asker, if any) or an error. Dispatching never panics on bad input: an unknown tag, a
/// payload that does not decode, and a failing handler are each a [`RouteError`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::codec::{Bincode, Codec};
/// use actor_core::{RouteError, Router, RouterActor, System, Tagged};
///
/// let router = Router::new()
///     .on("A", |log: &mut Vec<String>, x: i32| {
///         log.push(format!("A {x}"));
///         Ok(())
///     })
///     .on("B", |log: &mut Vec<String>, (x, y): (i32, i32)| {
///         log.push(format!("B {x} {y}"));
///         Ok(x * y)
///     });
///
/// let system = System::new();
/// let actor = system.spawn(RouterActor::new(Vec::new(), router))?;
/// actor.tell(Tagged::encode("A", &1)?)?;
///
/// let request = Tagged::encode("B", &(2, 3))?;
/// let answer = actor.ask(|reply| request.with_reply(reply), Duration::from_secs(1))??;
/// assert_eq!(Bincode::new().decode::<i32>(&answer)?, 6);
///
/// let unknown = Tagged::encode("C", &())?;
/// let error = actor.ask(|reply| unknown.with_reply(reply), Duration::from_secs(1))?;
/// assert!(matches!(error, Err(RouteError::UnknownTag(tag)) if tag == "C"));
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Router<S> {
    routes: HashMap<String, Route<S>>,
}

impl<S: 'static> Router<S> {
    /// A router with no routes.
    ///
    /// # Examples
    ///
    /// See [`Router`].
    #[must_use]
    pub fn new() -> Router<S> {
        Router {
            routes: HashMap::new(),
        }
    }

    /// Routes `tag` to `handler`, whose argument is decoded from the payload and whose
    /// answer is encoded for the asker. The handler's error (any error converts with `?`)
    /// becomes [`RouteError::Handler`]. A later route for the same tag replaces this one.
    ///
    /// # Examples
    ///
    /// See [`Router`].
    #[must_use]
    pub fn on<T, R, F>(mut self, tag: &str, mut handler: F) -> Router<S>
    where
        T: DeserializeOwned,
        R: Serialize,
        F: FnMut(&mut S, T) -> Result<R, BoxError> + Send + 'static,
    {
        let route = move |state: &mut S,
                          tag: &str,
                          payload: &[u8],
                          answer: Option<&mut Vec<u8>>|
              -> Result<(), RouteError> {
            let codec = Bincode::new();
            let arg: T = codec.decode(payload).map_err(|source| RouteError::Decode {
                tag: tag.to_string(),
                expected: std::any::type_name::<T>().to_string(),
                source: ErrorText::new(&source),
            })?;
            let value = handler(state, arg).map_err(|error| RouteError::Handler {
                tag: tag.to_string(),
                source: ErrorText::new(&*error),
            })?;
            if let Some(out) = answer {
                codec
                    .encode(&value, out)
                    .map_err(|source| RouteError::Encode {
                        tag: tag.to_string(),
                        source: ErrorText::new(&source),
                    })?;
            }
            Ok(())
        };
        self.routes.insert(tag.to_string(), Box::new(route));
        self
    }

    /// The tags this router handles.
    ///
    /// # Examples
    ///
    /// ```
    /// let router = actor_core::Router::<()>::new().on("ping", |_, ()| Ok(()));
    /// assert_eq!(router.tags().collect::<Vec<_>>(), ["ping"]);
    /// ```
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// Decodes `payload` for the handler of `tag`, calls it with `state`, and returns the
    /// encoded answer.
    ///
    /// # Errors
    ///
    /// [`RouteError::UnknownTag`], [`RouteError::Decode`], [`RouteError::Handler`],
    /// [`RouteError::Encode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{Bincode, Codec};
    /// use actor_core::{RouteError, Router};
    ///
    /// let mut router = Router::new().on("add", |total: &mut i64, n: i64| {
    ///     *total += n;
    ///     Ok(*total)
    /// });
    /// let mut total = 0;
    /// let payload = Tagged::encode("add", &5_i64)?.payload;
    /// # use actor_core::Tagged;
    /// let answer = router.dispatch(&mut total, "add", &payload)?;
    /// assert_eq!(Bincode::new().decode::<i64>(&answer)?, 5);
    /// assert!(matches!(router.dispatch(&mut total, "add", b"\xff"), Err(RouteError::Decode { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dispatch(
        &mut self,
        state: &mut S,
        tag: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, RouteError> {
        let mut answer = Vec::new();
        self.route(state, tag, payload, Some(&mut answer))?;
        Ok(answer)
    }

    /// Like [`dispatch`](Router::dispatch), without encoding an answer (for a message
    /// that is told, not asked).
    ///
    /// # Errors
    ///
    /// As [`dispatch`](Router::dispatch), except [`RouteError::Encode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{RouteError, Router};
    /// let mut router = Router::<()>::new();
    /// assert!(matches!(router.dispatch_tell(&mut (), "nothing", &[]), Err(RouteError::UnknownTag(_))));
    /// ```
    pub fn dispatch_tell(
        &mut self,
        state: &mut S,
        tag: &str,
        payload: &[u8],
    ) -> Result<(), RouteError> {
        self.route(state, tag, payload, None)
    }

    fn route(
        &mut self,
        state: &mut S,
        tag: &str,
        payload: &[u8],
        answer: Option<&mut Vec<u8>>,
    ) -> Result<(), RouteError> {
        match self.routes.get_mut(tag) {
            Some(route) => route(state, tag, payload, answer),
            None => Err(RouteError::UnknownTag(tag.to_string())),
        }
    }
}

impl<S: 'static> Default for Router<S> {
    fn default() -> Self {
        Router::new()
    }
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("tags", &self.routes.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// An actor whose handler is a [`Router`] over its state: it takes [`Tagged`] messages.
///
/// - A request (with a reply) always gets an answer: the encoded result, or the
///   [`RouteError`]; the actor lives on.
/// - An unknown tag or an undecodable payload is also published on `system.dead_letters`.
/// - A handler error on a message that nobody asked about is a failure of the actor, for
///   its supervision policy.
///
/// Exported with `actor-net` (where [`Tagged`] declares `actor.tagged`), it takes tagged
/// messages from other processes too, and its answers and errors go back to them.
///
/// # Examples
///
/// See [`Router`].
pub struct RouterActor<S> {
    state: S,
    router: Router<S>,
}

impl<S: Send + 'static> RouterActor<S> {
    /// An actor dispatching through `router` over `state`.
    ///
    /// # Examples
    ///
    /// See [`Router`].
    pub fn new(state: S, router: Router<S>) -> RouterActor<S> {
        RouterActor { state, router }
    }
}

impl<S: Send + 'static> Actor for RouterActor<S> {
    type Msg = Tagged;

    fn handle(&mut self, msg: Tagged, ctx: &mut Context<Tagged>) -> HandlerResult {
        let Tagged {
            tag,
            payload,
            reply,
        } = msg;
        let result = match &reply {
            Some(_) => self.router.dispatch(&mut self.state, &tag, &payload),
            None => self
                .router
                .dispatch_tell(&mut self.state, &tag, &payload)
                .map(|()| Vec::new()),
        };
        if let Err(error) = &result {
            let dead = match error {
                RouteError::UnknownTag(tag) => Some(DeadLetterReason::UnknownTag(tag.clone())),
                RouteError::Decode { tag, .. } => Some(DeadLetterReason::Undecodable(tag.clone())),
                RouteError::Handler { .. } | RouteError::Encode { .. } => None,
            };
            if let Some(reason) = dead {
                tracing::debug!(actor = %ctx.id(), %error, "tagged message not handled");
                ctx.cell()
                    .report_dead_letter(std::any::type_name::<Tagged>(), reason);
            }
        }
        match (reply, result) {
            (Some(reply), result) => reply.send(result),
            (None, Err(error @ (RouteError::Handler { .. } | RouteError::Encode { .. }))) => {
                return Err(error.into());
            }
            (None, _) => {}
        }
        Ok(())
    }
}

impl<S> fmt::Debug for RouterActor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterActor")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}
