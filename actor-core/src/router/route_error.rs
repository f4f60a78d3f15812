//! [`RouteError`]: why a tagged message was not handled, in a form that crosses the wire; and
//! [`ErrorText`], the text of an error and its causes that it carries.

use std::error::Error;
use std::fmt;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// Why a tagged message was not handled.
///
/// It is what the asker of a [`Tagged`](crate::Tagged) request gets back, in the same
/// process or from another one: it is [`Serialize`] and [`Deserialize`], so it keeps its
/// kind (the variant), the tag, and the messages of its causes (as [`ErrorText`]) across
/// the wire.
///
/// # Examples
///
/// ```
/// use actor_core::{RouteError, Router};
///
/// let mut router = Router::<()>::new().on("ping", |_, ()| Ok("pong"));
/// let error = router.dispatch(&mut (), "pong", &[]).unwrap_err();
/// assert_eq!(error, RouteError::UnknownTag("pong".into()));
/// assert_eq!(error.to_string(), r#"unknown tag "pong""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RouteError {
    /// No handler is registered for this tag.
    #[error("unknown tag {0:?}")]
    UnknownTag(String),
    /// The payload does not decode as the type the tag's handler takes.
    #[error("the payload of tag {tag:?} does not decode as {expected}: {source}")]
    Decode {
        /// The tag.
        tag: String,
        /// The type the handler takes, as [`std::any::type_name`] spells it.
        expected: String,
        /// What the codec found.
        #[source]
        source: ErrorText,
    },
    /// The handler returned an error.
    #[error("the handler of tag {tag:?} failed: {source}")]
    Handler {
        /// The tag.
        tag: String,
        /// The handler's error.
        #[source]
        source: ErrorText,
    },
    /// The handler's answer could not be encoded.
    #[error("the answer of tag {tag:?} does not encode: {source}")]
    Encode {
        /// The tag.
        tag: String,
        /// What the codec found.
        #[source]
        source: ErrorText,
    },
}

/// The text of an error and of its causes: what of an error crosses the wire.
///
/// It displays the error's own message, and its [`source`](Error::source) is the text of the
/// first cause, and so on down the chain, so that the chain prints as the original error's
/// did. At most [`ErrorText::MAX_DEPTH`] messages are kept, the error's and its first causes'.
///
/// On the wire it is the sequence of the messages, the error's first (bincode: the number of
/// messages as a varint, then each message as a string).
///
/// # Examples
///
/// ```
/// use actor_core::ErrorText;
///
/// let error = "twelve".parse::<u8>().unwrap_err();
/// let text = ErrorText::new(&error);
/// assert_eq!(text.message(), "invalid digit found in string");
/// assert!(std::error::Error::source(&text).is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorText {
    message: String,
    source: Option<Box<ErrorText>>,
}

impl ErrorText {
    /// The most messages an `ErrorText` keeps: the error's own and those of its first causes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_core::ErrorText::MAX_DEPTH, 16);
    /// ```
    pub const MAX_DEPTH: usize = 16;

    /// The text of `error` and of its causes (at most [`MAX_DEPTH`](ErrorText::MAX_DEPTH)).
    ///
    /// # Examples
    ///
    /// See [`ErrorText`].
    #[must_use]
    pub fn new(error: &(dyn Error + 'static)) -> ErrorText {
        let messages = std::iter::successors(Some(error), |&error| error.source())
            .map(ToString::to_string)
            .take(Self::MAX_DEPTH)
            .collect();
        // The chain holds `error` itself, so there is a message; the fallback is never taken.
        ErrorText::from_messages(messages).unwrap_or_else(|| ErrorText {
            message: error.to_string(),
            source: None,
        })
    }

    /// The error's own message (its causes' are those of [`source`](Error::source)).
    ///
    /// # Examples
    ///
    /// ```
    /// let text = actor_core::ErrorText::new(&std::fmt::Error);
    /// assert_eq!(text.message(), "an error occurred when formatting an argument");
    /// ```
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The messages of the error and its causes, in order.
    fn messages(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(Some(self), |text| text.source.as_deref())
            .map(|text| text.message.as_str())
    }

    /// Chains `messages` (the error's first), keeping at most `MAX_DEPTH`; `None` if there
    /// are none. Built from the last cause up, without recursion.
    fn from_messages(mut messages: Vec<String>) -> Option<ErrorText> {
        messages.truncate(Self::MAX_DEPTH);
        messages.into_iter().rev().fold(None, |source, message| {
            Some(ErrorText {
                message,
                source: source.map(Box::new),
            })
        })
    }
}

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ErrorText")
            .field(&self.messages().collect::<Vec<_>>())
            .finish()
    }
}

impl Error for ErrorText {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|text| text as &(dyn Error + 'static))
    }
}

impl Serialize for ErrorText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Collected first: bincode writes a sequence's length before its elements.
        serializer.collect_seq(self.messages().collect::<Vec<_>>())
    }
}

impl<'de> Deserialize<'de> for ErrorText {
    /// Takes the first [`MAX_DEPTH`](ErrorText::MAX_DEPTH) messages of a longer chain, and
    /// refuses an empty one.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ErrorText, D::Error> {
        let messages = Vec::<String>::deserialize(deserializer)?;
        ErrorText::from_messages(messages)
            .ok_or_else(|| serde::de::Error::invalid_length(0, &"at least one message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorChain;
    use crate::codec::{Bincode, Codec};

    #[derive(Debug, thiserror::Error)]
    #[error("level {0}")]
    struct Level(usize, #[source] Option<Box<Level>>);

    fn chain(depth: usize) -> Level {
        (1..depth).fold(Level(depth - 1, None), |inner, _| {
            Level(inner.0 - 1, Some(Box::new(inner)))
        })
    }

    fn round_trip(text: &ErrorText) -> ErrorText {
        let mut bytes = Vec::new();
        Bincode::new().encode(text, &mut bytes).unwrap();
        Bincode::new().decode(&bytes).unwrap()
    }

    #[test]
    fn the_chain_prints_as_the_original_did_and_crosses_the_wire() {
        let error = chain(3);
        let text = ErrorText::new(&error);
        assert_eq!(ErrorChain(&text).to_string(), "level 0: level 1: level 2");
        assert_eq!(round_trip(&text), text);
        assert_eq!(
            format!("{text:?}"),
            r#"ErrorText(["level 0", "level 1", "level 2"])"#
        );
    }

    #[test]
    fn a_deep_chain_keeps_its_first_messages() {
        let text = ErrorText::new(&chain(40));
        assert_eq!(text.messages().count(), ErrorText::MAX_DEPTH);
        assert_eq!(text.messages().last(), Some("level 15"));
        let many: Vec<String> = (0..1000).map(|n| n.to_string()).collect();
        let mut bytes = Vec::new();
        Bincode::new().encode(&many, &mut bytes).unwrap();
        let decoded: ErrorText = Bincode::new().decode(&bytes).unwrap();
        assert_eq!(decoded.messages().count(), ErrorText::MAX_DEPTH);
    }

    #[test]
    fn an_empty_chain_does_not_decode() {
        assert!(Bincode::new().decode::<ErrorText>(&[0]).is_err());
    }

    #[test]
    fn a_route_error_crosses_the_wire_with_its_kind() {
        let error = RouteError::Handler {
            tag: "div".into(),
            source: ErrorText::new(&chain(2)),
        };
        let mut bytes = Vec::new();
        Bincode::new().encode(&error, &mut bytes).unwrap();
        // Variant 2, the tag, then the two messages.
        assert_eq!(bytes[..5], [2, 3, b'd', b'i', b'v']);
        assert_eq!(Bincode::new().decode::<RouteError>(&bytes).unwrap(), error);
    }
}
