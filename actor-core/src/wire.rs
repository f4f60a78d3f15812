//! How a [`Reply`] crosses a process boundary: the seam between messages and transports.
//!
//! A message sent to a remote actor may carry a `Reply<T>`. When a transport encodes such a
//! message inside [`with_replies`], each `Reply<T>` in it is registered with the
//! transport's [`ReplyRegistry`] and travels as a number (a correlation id); the sender's
//! [`Pending`](crate::Pending) is completed when the transport later hands the encoded
//! answer to the registered [`ReplyCompleter`]. On the receiving side, decoding a message
//! inside [`with_replies`] turns each id back into a `Reply<T>` whose answer is encoded and
//! handed to the transport's [`ReplyResponder`], which sends it back.
//!
//! [`encode_with_replies`] also returns the ids that an encode registered, for a transport
//! that lists them in its message header.
//!
//! Encoding or decoding a `Reply` outside [`with_replies`] is a serde error, never a
//! panic. Answers are encoded with the wire codec ([`Bincode`]).

use std::cell::RefCell;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::{Bincode, Codec};
use crate::reply::{Reply, ReplyError};

/// Completes a sender's `Pending` with an answer that came back over the wire: the encoded
/// value, or why there is none.
pub type ReplyCompleter = Box<dyn FnOnce(Result<&[u8], ReplyError>) + Send>;

/// Sends an answer back over the wire: the encoded value, or why there is none.
pub type ReplyResponder = Box<dyn FnOnce(Result<Vec<u8>, ReplyError>) + Send>;

/// What a transport provides while it encodes or decodes messages that may carry replies.
///
/// # Examples
///
/// See [`with_replies`].
pub trait ReplyRegistry {
    /// A `Reply` is being encoded: remember how to complete it, and return the id that
    /// travels in its place.
    fn register(&self, complete: ReplyCompleter) -> u64;

    /// A reply id was decoded: return what sends the answer for it back to its asker.
    fn responder(&self, id: u64) -> ReplyResponder;
}

/// A registry shared with the transport's threads.
pub type SharedRegistry = Arc<dyn ReplyRegistry + Send + Sync>;

/// The replies scope of the encode or decode running on this thread.
struct Scope {
    registry: SharedRegistry,
    /// The ids registered by encoding, in order.
    registered: Vec<u64>,
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}
/// Runs `f` (which encodes or decodes messages) with `registry` handling the replies in
/// them. Calls nest: the previous registry is restored afterwards, also on unwind.
///
/// # Examples
///
/// A reply that crosses a (simulated) wire and comes back:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use parking_lot::Mutex;
/// use actor_core::codec::{Bincode, Codec};
/// use actor_core::wire::{ReplyCompleter, ReplyRegistry, ReplyResponder, with_replies};
/// use actor_core::Reply;
///
/// /// Both ends in one registry: a responder completes the registered reply directly.
/// #[derive(Default)]
/// struct Loop(Mutex<(u64, HashMap<u64, ReplyCompleter>)>);
///
/// impl ReplyRegistry for Loop {
///     fn register(&self, complete: ReplyCompleter) -> u64 {
///         let mut state = self.0.lock();
///         state.0 += 1;
///         let id = state.0;
///         state.1.insert(id, complete);
///         id
///     }
///     fn responder(&self, id: u64) -> ReplyResponder {
///         let complete = self.0.lock().1.remove(&id);
///         Box::new(move |answer| {
///             if let Some(complete) = complete {
///                 match answer {
///                     Ok(bytes) => complete(Ok(&bytes)),
///                     Err(e) => complete(Err(e)),
///                 }
///             }
///         })
///     }
/// }
///
/// let registry: Arc<dyn ReplyRegistry + Send + Sync> = Arc::new(Loop::default());
/// let codec = Bincode::new();
/// let (reply, pending) = Reply::<String>::pair();
///
/// // The asker encodes its request: the reply becomes an id.
/// let mut wire = Vec::new();
/// with_replies(&registry, || codec.encode(&("name?", reply), &mut wire))?;
///
/// // The other side decodes it and answers through the reply it got.
/// let (_question, answer): (String, Reply<String>) =
///     with_replies(&registry, || codec.decode(&wire))?;
/// answer.send("actor".to_string());
///
/// assert_eq!(pending.wait()?, "actor");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn with_replies<R>(registry: &SharedRegistry, f: impl FnOnce() -> R) -> R {
    in_scope(registry, f).0
}

/// Runs `f` (which encodes messages) as [`with_replies`] does, and returns with its result
/// the ids of the replies that the encoding registered, in the order they were encoded: what
/// a transport puts in the message's header so that the receiving side can answer requests
/// that do not decode.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use actor_core::codec::{Bincode, Codec};
/// use actor_core::wire::{
///     ReplyCompleter, ReplyRegistry, ReplyResponder, SharedRegistry, encode_with_replies,
/// };
/// use actor_core::Reply;
///
/// /// Numbers the replies it is given, and forgets them.
/// #[derive(Default)]
/// struct Numbering(AtomicU64);
///
/// impl ReplyRegistry for Numbering {
///     fn register(&self, _complete: ReplyCompleter) -> u64 {
///         self.0.fetch_add(1, Ordering::Relaxed) + 100
///     }
///     fn responder(&self, _id: u64) -> ReplyResponder {
///         Box::new(|_| {})
///     }
/// }
///
/// let registry: SharedRegistry = Arc::new(Numbering::default());
/// let (first, _) = Reply::<u8>::pair();
/// let (second, _) = Reply::<u8>::pair();
/// let mut wire = Vec::new();
/// let (encoded, ids) =
///     encode_with_replies(&registry, || Bincode::new().encode(&(first, second), &mut wire));
/// encoded?;
/// assert_eq!(ids, [100, 101]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_with_replies<R>(registry: &SharedRegistry, f: impl FnOnce() -> R) -> (R, Vec<u64>) {
    in_scope(registry, f)
}

/// Runs `f` in a scope of its own, restoring the enclosing one afterwards (also on unwind).
fn in_scope<R>(registry: &SharedRegistry, f: impl FnOnce() -> R) -> (R, Vec<u64>) {
    /// Holds the enclosing scope until it is put back.
    struct Restore(Option<Option<Scope>>);
    impl Restore {
        /// Puts the enclosing scope back; returns the ids our scope collected.
        fn finish(&mut self) -> Vec<u64> {
            let Some(enclosing) = self.0.take() else {
                return Vec::new();
            };
            let ours = SCOPE.with(|s| std::mem::replace(&mut *s.borrow_mut(), enclosing));
            ours.map(|scope| scope.registered).unwrap_or_default()
        }
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            self.finish();
        }
    }
    let ours = Scope {
        registry: Arc::clone(registry),
        registered: Vec::new(),
    };
    let mut restore = Restore(Some(SCOPE.with(|s| s.borrow_mut().replace(ours))));
    let result = f();
    let ids = restore.finish();
    (result, ids)
}

fn current() -> Option<SharedRegistry> {
    SCOPE.with(|s| s.borrow().as_ref().map(|scope| Arc::clone(&scope.registry)))
}

/// Notes that the encode running on this thread registered reply `id`.
fn registered(id: u64) {
    SCOPE.with(|s| {
        if let Some(scope) = s.borrow_mut().as_mut() {
            scope.registered.push(id);
        }
    });
}

const OUTSIDE: &str = "a Reply can cross the wire only inside wire::with_replies";

impl<T: DeserializeOwned + Send + 'static> Serialize for Reply<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let registry = current().ok_or_else(|| S::Error::custom(OUTSIDE))?;
        let slot = self
            .hand_over()
            .ok_or_else(|| S::Error::custom("this Reply was already sent over the wire"))?;
        let id = registry.register(Box::new(move |answer: Result<&[u8], ReplyError>| {
            let value = answer.and_then(|bytes| {
                Bincode::new()
                    .decode::<T>(bytes)
                    .map_err(|e| ReplyError::Remote(format!("the answer does not decode: {e}")))
            });
            slot.complete(value);
        }));
        registered(id);
        serializer.serialize_u64(id)
    }
}

impl<'de, T: Serialize + Send + 'static> Deserialize<'de> for Reply<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Reply<T>, D::Error> {
        use serde::de::Error;
        let id = u64::deserialize(deserializer)?;
        let registry = current().ok_or_else(|| D::Error::custom(OUTSIDE))?;
        let respond = registry.responder(id);
        let (reply, pending) = Reply::pair();
        pending.on_complete(move |answer: Result<T, ReplyError>| {
            respond(answer.and_then(|value| {
                let mut bytes = Vec::new();
                Bincode::new()
                    .encode(&value, &mut bytes)
                    .map(|()| bytes)
                    .map_err(|e| ReplyError::Remote(format!("the answer does not encode: {e}")))
            }));
        });
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use parking_lot::Mutex;

    use super::*;
    use crate::reply::Pending;

    type Answers = Arc<Mutex<Vec<(u64, Result<Vec<u8>, ReplyError>)>>>;

    #[derive(Default)]
    struct Recorder {
        completers: Mutex<HashMap<u64, ReplyCompleter>>,
        answers: Answers,
    }

    impl ReplyRegistry for Recorder {
        fn register(&self, complete: ReplyCompleter) -> u64 {
            let mut completers = self.completers.lock();
            let id = completers.len() as u64 + 7;
            completers.insert(id, complete);
            id
        }

        fn responder(&self, id: u64) -> ReplyResponder {
            let answers = Arc::clone(&self.answers);
            Box::new(move |answer| answers.lock().push((id, answer)))
        }
    }

    #[test]
    fn a_reply_outside_with_replies_is_an_error_not_a_panic() {
        let codec = Bincode::new();
        let (reply, pending) = Reply::<u8>::pair();
        let mut out = Vec::new();
        assert!(codec.encode(&reply, &mut out).is_err());
        drop(reply);
        assert_eq!(
            pending.wait(),
            Err(ReplyError::Dropped),
            "still armed: fails on drop"
        );
        assert!(codec.decode::<Reply<u8>>(&[5]).is_err());
    }

    #[test]
    fn a_handed_over_reply_is_completed_by_the_transport_only() {
        let recorder = Arc::new(Recorder::default());
        let registry: SharedRegistry = recorder.clone();
        let codec = Bincode::new();
        let (reply, mut pending): (Reply<String>, Pending<String>) = Reply::pair();
        let mut out = Vec::new();
        with_replies(&registry, || codec.encode(&reply, &mut out)).unwrap();
        // A second encode of the same reply cannot hand it over twice.
        assert!(with_replies(&registry, || codec.encode(&reply, &mut Vec::new())).is_err());
        drop(reply);
        assert_eq!(
            pending.try_get(),
            None,
            "dropping a handed-over reply does not fail it"
        );
        let id: u64 = codec.decode(&out).unwrap();
        let complete = recorder.completers.lock().remove(&id).unwrap();
        complete(Ok(b"\x02hi"));
        assert_eq!(pending.wait(), Ok("hi".to_string()));
    }

    #[test]
    fn a_decoded_reply_sends_its_answer_back_or_fails_when_dropped() {
        let recorder = Arc::new(Recorder::default());
        let registry: SharedRegistry = recorder.clone();
        let codec = Bincode::new();
        let mut wire = Vec::new();
        codec.encode(&(41_u64, 42_u64), &mut wire).unwrap();
        let (answered, forgotten): (Reply<u32>, Reply<u32>) =
            with_replies(&registry, || codec.decode(&wire)).unwrap();
        answered.send(5);
        drop(forgotten);
        let answers = recorder.answers.lock();
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0].0, 41);
        assert_eq!(
            codec.decode::<u32>(answers[0].1.as_ref().unwrap()).unwrap(),
            5
        );
        assert_eq!(answers[1], (42, Err(ReplyError::Dropped)));
    }

    #[test]
    fn each_encode_returns_only_the_ids_it_registered() {
        let recorder = Arc::new(Recorder::default());
        let registry: SharedRegistry = recorder.clone();
        let codec = Bincode::new();
        let (outer_reply, _outer) = Reply::<u8>::pair();
        let (inner_reply, _inner) = Reply::<u8>::pair();
        let mut out = Vec::new();
        let ((encoded, inner_ids), outer_ids) = encode_with_replies(&registry, || {
            codec.encode(&outer_reply, &mut out).unwrap();
            let inner =
                encode_with_replies(&registry, || codec.encode(&inner_reply, &mut Vec::new()));
            (inner.0.is_ok(), inner.1)
        });
        assert!(encoded);
        assert_eq!(outer_ids, [7]);
        assert_eq!(inner_ids, [8]);
        // Nothing is left behind for the next encode on this thread.
        let (_, none) = encode_with_replies(&registry, || codec.encode(&1_u8, &mut Vec::new()));
        assert!(none.is_empty());
        assert!(current().is_none());
    }

    #[test]
    fn an_answer_that_does_not_decode_is_a_remote_error() {
        let recorder = Arc::new(Recorder::default());
        let registry: SharedRegistry = recorder.clone();
        let (reply, pending) = Reply::<u64>::pair();
        let mut out = Vec::new();
        with_replies(&registry, || Bincode::new().encode(&reply, &mut out)).unwrap();
        let complete = recorder.completers.lock().drain().next().unwrap().1;
        complete(Ok(b"\xff\xff"));
        assert!(matches!(pending.wait(), Err(ReplyError::Remote(_))));
    }
}
