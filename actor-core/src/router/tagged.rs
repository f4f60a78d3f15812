//! [`Tagged`]: a message addressed by name, which crosses the wire; and
//! [`ActorRef::ask_tagged`], a typed request to the actor that takes it.

use std::any::type_name;
use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::route_error::RouteError;
use crate::actor_ref::ActorRef;
use crate::codec::{Bincode, Codec, CodecError};
use crate::error::AskError;
use crate::reply::Reply;

/// The answer to a tagged request: the handler's result, encoded, or why there is none.
pub type TaggedReply = Reply<Result<Vec<u8>, RouteError>>;

/// A message addressed by name: a tag, a payload encoded with the wire codec, and, for a
/// request, the reply that takes the encoded answer.
///
/// It is [`Serialize`] and [`Deserialize`] (its reply crosses the wire as other replies do,
/// see [`wire`](crate::wire)), so a [`RouterActor`](crate::RouterActor) can be exported to
/// other processes: `actor-net` declares it as `actor.tagged`, version 1. On the wire it is
/// the tag (a string), the payload (a byte sequence) and the reply (an `Option`), in that
/// order; the answer is a `Result<Vec<u8>, RouteError>`.
///
/// # Examples
///
/// See [`Router`](crate::Router).
#[derive(Serialize, Deserialize)]
pub struct Tagged {
    /// Names the handler.
    pub tag: String,
    /// The handler's argument, encoded with [`Bincode`].
    pub payload: Vec<u8>,
    /// Where the encoded answer (or the error) goes, for a request.
    pub reply: Option<TaggedReply>,
}

impl Tagged {
    /// A tagged message carrying `value`, encoded with the wire codec.
    ///
    /// # Errors
    ///
    /// When `value` does not encode (for instance, it is over the codec's size limit).
    ///
    /// # Examples
    ///
    /// ```
    /// let msg = actor_core::Tagged::encode("B", &(2, 3))?;
    /// assert_eq!(msg.tag, "B");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode<T: Serialize + ?Sized>(tag: &str, value: &T) -> Result<Tagged, CodecError> {
        let mut payload = Vec::new();
        Bincode::new().encode(value, &mut payload)?;
        Ok(Tagged {
            tag: tag.to_string(),
            payload,
            reply: None,
        })
    }

    /// Turns the message into a request whose answer goes to `reply`.
    ///
    /// # Examples
    ///
    /// See [`Router`](crate::Router).
    #[must_use]
    pub fn with_reply(mut self, reply: TaggedReply) -> Tagged {
        self.reply = Some(reply);
        self
    }
}

impl fmt::Debug for Tagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tagged")
            .field("tag", &self.tag)
            .field("payload_len", &self.payload.len())
            .field("request", &self.reply.is_some())
            .finish()
    }
}

impl ActorRef<Tagged> {
    /// Asks the actor (a [`RouterActor`](crate::RouterActor), here or in another process) to
    /// handle `argument` under `tag`, and decodes its answer as an `R`; waits at most
    /// `timeout`, as [`ask`](ActorRef::ask) does.
    ///
    /// The types are the caller's word: they must be those of the tag's handler, which only
    /// the actor knows. A wrong argument type shows as [`RouteError::Decode`], a wrong answer
    /// type as [`AskTaggedError::Decode`].
    ///
    /// # Errors
    ///
    /// - [`AskTaggedError::Encode`] when `argument` does not encode (nothing is sent).
    /// - [`AskTaggedError::Ask`] when the request was not delivered or not answered in time.
    /// - [`AskTaggedError::Route`] when the actor did not handle it: unknown tag, argument
    ///   that does not decode, handler error, answer that does not encode.
    /// - [`AskTaggedError::Decode`] when the answer does not decode as an `R`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{AskTaggedError, RouteError, Router, RouterActor, System};
    ///
    /// let router = Router::new().on("mul", |_: &mut (), (a, b): (i64, i64)| Ok(a * b));
    /// let system = System::new();
    /// let calc = system.spawn(RouterActor::new((), router))?;
    /// let wait = Duration::from_secs(5);
    ///
    /// let product: i64 = calc.ask_tagged("mul", &(6_i64, 7_i64), wait)?;
    /// assert_eq!(product, 42);
    /// match calc.ask_tagged::<_, i64>("div", &(6_i64, 7_i64), wait) {
    ///     Err(AskTaggedError::Route(RouteError::UnknownTag(tag))) => assert_eq!(tag, "div"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ask_tagged<T, R>(
        &self,
        tag: &str,
        argument: &T,
        timeout: Duration,
    ) -> Result<R, AskTaggedError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let request = Tagged::encode(tag, argument).map_err(|source| AskTaggedError::Encode {
            tag: tag.to_string(),
            source,
        })?;
        let answer = self.ask(|reply| request.with_reply(reply), timeout)??;
        Bincode::new()
            .decode(&answer)
            .map_err(|source| AskTaggedError::Decode {
                tag: tag.to_string(),
                expected: type_name::<R>(),
                source,
            })
    }
}

/// Why [`ActorRef::ask_tagged`] got no answer of the type asked for.
///
/// # Examples
///
/// ```
/// use actor_core::{AskError, AskTaggedError};
///
/// let error = AskTaggedError::from(AskError::Timeout);
/// assert_eq!(error.to_string(), "no answer before the timeout");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AskTaggedError {
    /// The argument does not encode; nothing was sent.
    #[error("the argument of tag {tag:?} does not encode: {source}")]
    Encode {
        /// The tag.
        tag: String,
        /// What the codec found.
        #[source]
        source: CodecError,
    },
    /// The request was not delivered, or not answered in time.
    #[error(transparent)]
    Ask(#[from] AskError),
    /// The actor did not handle the request, and said why.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The answer does not decode as the type asked for.
    #[error("the answer of tag {tag:?} does not decode as {expected}: {source}")]
    Decode {
        /// The tag.
        tag: String,
        /// The type asked for.
        expected: &'static str,
        /// What the codec found.
        #[source]
        source: CodecError,
    },
}
