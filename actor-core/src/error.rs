//! The error types of actor-core's operations.

use std::fmt;

use crate::reply::ReplyError;

/// A message could not be put in an actor's mailbox; the message is given back.
///
/// # Examples
///
/// ```
/// use actor_core::{Actor, Context, HandlerResult, SendError, System};
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = String;
///     fn handle(&mut self, _: String, _: &mut Context<String>) -> HandlerResult { Ok(()) }
/// }
///
/// let system = System::new();
/// let sink = system.spawn(Sink)?;
/// sink.stop();
/// sink.join()?;
/// match sink.tell("late".to_string()) {
///     Err(SendError::Closed(msg)) => assert_eq!(msg, "late"),
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
#[non_exhaustive]
pub enum SendError<M> {
    /// The actor has stopped or is stopping; it takes no more messages.
    Closed(M),
    /// The bounded mailbox is full (overflow policy `Fail`, or `try_tell`).
    Full(M),
    /// The bounded mailbox stayed full until the timeout passed.
    Timeout(M),
    /// The actor lives on another node that cannot be reached now (its connection was lost
    /// and has not been restored yet). Unlike [`Closed`](SendError::Closed), the actor is not
    /// known to be gone: a later send may reach it again.
    ///
    /// Only a remote actor's ref (see [`RemoteTarget`](crate::RemoteTarget)) fails this way.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::SendError;
    ///
    /// let e = SendError::Unreachable("ping");
    /// assert!(e.is_unreachable() && !e.is_closed());
    /// assert_eq!(e.into_inner(), "ping");
    /// ```
    Unreachable(M),
}

impl<M> SendError<M> {
    /// Gives back the message that was not delivered.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = actor_core::SendError::Full(5);
    /// assert_eq!(e.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> M {
        match self {
            SendError::Closed(m)
            | SendError::Full(m)
            | SendError::Timeout(m)
            | SendError::Unreachable(m) => m,
        }
    }

    /// Returns `true` when the actor takes no more messages (as opposed to a full mailbox).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actor_core::SendError::Closed(()).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, SendError::Closed(_))
    }

    /// Returns `true` when the actor's node cannot be reached now (as opposed to an actor
    /// known to be gone): trying again later may succeed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actor_core::SendError::Unreachable(()).is_unreachable());
    /// ```
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SendError::Unreachable(_))
    }

    fn describe(&self) -> &'static str {
        match self {
            SendError::Closed(_) => "the actor has stopped",
            SendError::Full(_) => "the mailbox is full",
            SendError::Timeout(_) => "timed out waiting for room in the mailbox",
            SendError::Unreachable(_) => "the actor's node cannot be reached now",
        }
    }
}

// Like crossbeam's errors, these do not require `M: Debug`: messages are often not.
impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SendError::Closed(_) => "Closed",
            SendError::Full(_) => "Full",
            SendError::Timeout(_) => "Timeout",
            SendError::Unreachable(_) => "Unreachable",
        };
        write!(f, "{name}(..)")
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message not delivered: {}", self.describe())
    }
}

impl<M> std::error::Error for SendError<M> {}

/// An `ask` got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// The request was not delivered: the actor has stopped or is stopping.
    #[error("request not delivered: the actor has stopped")]
    Closed,
    /// The request was not delivered: the bounded mailbox is full.
    #[error("request not delivered: the mailbox is full")]
    Full,
    /// No answer came before the timeout.
    #[error("no answer before the timeout")]
    Timeout,
    /// The request was not delivered: the actor's node cannot be reached now (see
    /// [`SendError::Unreachable`]). A later request may reach it again.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{AskError, SendError};
    ///
    /// let refused: AskError = SendError::Unreachable("request").into();
    /// assert_eq!(refused, AskError::Unreachable);
    /// ```
    #[error("request not delivered: the actor's node cannot be reached now")]
    Unreachable,
    /// The actor dropped the request unanswered (it stopped, was killed or failed).
    #[error("the actor dropped the request unanswered")]
    Dropped,
    /// The code producing the answer panicked.
    #[error("the request's handler panicked: {0}")]
    Panicked(String),
    /// The process that was to answer ended first.
    #[error("the answering process ended: {0}")]
    Crashed(String),
    /// The connection carrying the request was lost before the answer came.
    #[error("the connection was lost before the answer came")]
    Disconnected,
    /// The answer came from another process but could not be used.
    #[error("the remote answer is unusable: {0}")]
    Remote(String),
    /// An actor asked itself, from its own handler: the answer could only come from the
    /// handler that is waiting for it, so the ask fails at once instead of waiting out its
    /// timeout. Send the message with `tell` (or handle it directly) instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::AskError;
    /// assert_eq!(
    ///     AskError::AskedItself.to_string(),
    ///     "an actor asked itself: only the handler that waits could answer"
    /// );
    /// ```
    #[error("an actor asked itself: only the handler that waits could answer")]
    AskedItself,
}

impl<M> From<SendError<M>> for AskError {
    fn from(e: SendError<M>) -> AskError {
        match e {
            SendError::Closed(_) => AskError::Closed,
            SendError::Full(_) => AskError::Full,
            SendError::Timeout(_) => AskError::Timeout,
            SendError::Unreachable(_) => AskError::Unreachable,
        }
    }
}

impl From<ReplyError> for AskError {
    fn from(e: ReplyError) -> AskError {
        match e {
            ReplyError::Timeout => AskError::Timeout,
            ReplyError::Panicked(msg) => AskError::Panicked(msg),
            ReplyError::Crashed(how) => AskError::Crashed(how),
            ReplyError::Disconnected => AskError::Disconnected,
            ReplyError::Remote(why) => AskError::Remote(why),
            ReplyError::Dropped | ReplyError::Taken => AskError::Dropped,
        }
    }
}

/// Why a receive from a queue ([`Inbox`](crate::Inbox), [`WorkQueue`](crate::WorkQueue))
/// returned nothing.
///
/// Each receive says which of these it can return: `recv`/`get` only
/// [`Closed`](RecvError::Closed), `try_recv`/`try_get` also [`Empty`](RecvError::Empty),
/// `recv_timeout`/`get_timeout` also [`Timeout`](RecvError::Timeout).
///
/// # Examples
///
/// ```
/// use actor_core::{Inbox, RecvError};
///
/// let inbox = Inbox::new();
/// assert_eq!(inbox.try_recv(), Err(RecvError::Empty));
/// inbox.actor_ref().tell("last")?;
/// inbox.close();
/// // What was queued before the close is still handed out; then the end.
/// assert_eq!(inbox.recv(), Ok("last"));
/// assert_eq!(inbox.recv(), Err(RecvError::Closed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecvError {
    /// Nothing is queued now (a non-blocking receive).
    #[error("the queue is empty")]
    Empty,
    /// Nothing came before the timeout.
    #[error("nothing came before the timeout")]
    Timeout,
    /// The queue was closed and everything queued before has been taken: nothing more will
    /// come.
    #[error("the queue is closed and drained")]
    Closed,
}

/// An actor could not be spawned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// Another live actor is registered under this name.
    #[error("the name {0:?} is taken by a live actor")]
    NameTaken(String),
    /// The system is shutting down and accepts no new actors.
    #[error("the system is shutting down")]
    ShuttingDown,
    /// A bounded mailbox needs a capacity of at least 1.
    #[error("a bounded mailbox needs a capacity of at least 1")]
    ZeroCapacity,
    /// The restart policy needs a factory: build the actor with `System::actor`, not from an
    /// instance.
    #[error("the restart policy needs a factory (System::actor), not an instance")]
    RestartNeedsFactory,
    /// The operating system refused to start the actor's thread.
    #[error("could not start the actor's thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A typed lookup by name failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No live actor is registered under this name.
    #[error("no actor is registered as {0:?}")]
    NotFound(String),
    /// The actor registered under this name takes another message type.
    #[error("the actor {name:?} takes messages of type {actual}, not {requested}")]
    WrongType {
        /// The name looked up.
        name: String,
        /// The message type asked for.
        requested: &'static str,
        /// The message type the actor takes.
        actual: &'static str,
    },
}

/// Waiting for an actor to end, or for a [`WorkQueue`](crate::WorkQueue)'s items to be done,
/// failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The actor would wait for itself to end, which can never happen.
    #[error("an actor cannot join itself")]
    OwnActor,
    /// The actor was still running (or the queue's items were not all done) when the
    /// timeout passed.
    #[error("timed out: the actor was still running, or the queue's items were not all done")]
    Timeout,
}

/// An exchange or a pattern could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// An exchange name must be non-empty segments separated by dots, without `*` or `>`.
    #[error("invalid exchange name {0:?}: use non-empty dot-separated segments")]
    InvalidName(String),
    /// A pattern must be non-empty segments separated by dots; `*` stands for one segment
    /// and a final `>` for one or more.
    #[error("invalid pattern {0:?}")]
    InvalidPattern(String),
    /// The exchange exists with another message type.
    #[error("the exchange {name:?} carries messages of type {actual}, not {requested}")]
    WrongType {
        /// The exchange's name.
        name: String,
        /// The message type asked for.
        requested: &'static str,
        /// The message type it carries.
        actual: &'static str,
    },
}

/// Shows an error followed by its sources, joined with `": "`: the whole story in one line,
/// for a log or a message that travels as text. A source whose message already ends the
/// message before it (as the errors of this workspace show their cause) is not repeated.
///
/// # Examples
///
/// ```
/// use std::fmt;
/// use actor_core::ErrorChain;
///
/// #[derive(Debug)]
/// struct ConfigError(std::io::Error);
/// impl fmt::Display for ConfigError {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str("cannot read the key file")
///     }
/// }
/// impl std::error::Error for ConfigError {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let error = ConfigError(std::io::Error::other("permission denied"));
/// assert_eq!(
///     ErrorChain(&error).to_string(),
///     "cannot read the key file: permission denied"
/// );
///
/// // An error that shows its cause in its own message: the cause is not repeated.
/// let error = actor_core::SpawnError::Thread(std::io::Error::other("out of memory"));
/// assert_eq!(
///     ErrorChain(&error).to_string(),
///     "could not start the actor's thread: out of memory"
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            // Most errors of this workspace end their message with their cause's: not twice.
            let message = error.to_string();
            if !shown.ends_with(&message) {
                write!(f, ": {message}")?;
            }
            shown = message;
            source = error.source();
        }
        Ok(())
    }
}
