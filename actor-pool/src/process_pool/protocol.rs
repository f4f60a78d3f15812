//! The conversation between a process pool and one of its workers.
//!
//! The pool starts the worker with the environment variable [`WORKER_ENV`] set and one end
//! of a Unix socket pair as its standard input; the worker's standard output and error are the
//! pool's own. Every message is a frame of the wire codec (`actor_core::codec`: a big-endian
//! `u32` length, then the payload) whose payload is a bincode value:
//!
//! | direction       | frames                                                             |
//! |-----------------|--------------------------------------------------------------------|
//! | worker → pool   | `FromWorker::Ready { version, pid }`, once, first                  |
//! | pool → worker   | `ToWorker::Call { id, function }`, then the encoded argument       |
//! | worker → pool   | `FromWorker::Done { id, outcome }`, then, if the outcome is `Returned`, the encoded result |
//!
//! A worker has at most one call at a time: the pool sends the next call only after the
//! answer to the previous one. When the pool closes its end, the worker exits at once (even in
//! the middle of a call, which then has nobody to answer to); so does it when the pool's
//! process ends, since the kernel closes that end then.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The environment variable that makes a process a worker (see
/// [`Functions::serve_if_worker`](crate::Functions::serve_if_worker)).
pub(crate) const WORKER_ENV: &str = "ACTOR_POOL_WORKER";

/// The version of this conversation; the worker announces it in its greeting.
pub(crate) const VERSION: u32 = 1;

/// A message from the pool to a worker.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ToWorker<'a> {
    /// Run `function` on the argument in the next frame, and answer with the same `id`.
    Call { id: u64, function: Cow<'a, str> },
}

/// A message from a worker to the pool.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// The worker is ready for calls.
    Ready { version: u32, pid: u32 },
    /// The answer to call `id`; a `Returned` outcome is followed by a frame with the result.
    Done { id: u64, outcome: Outcome },
}

/// How a call ended in the worker.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// The function returned; the result follows.
    Returned,
    /// The function panicked, with this message.
    Panicked(String),
    /// The worker has no function of that name (it runs another program than the pool's).
    UnknownFunction,
    /// The argument did not decode as the function's argument type; why.
    BadArgument(String),
    /// The result could not be encoded; why.
    BadResult(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use actor_core::codec::{Bincode, Codec, FrameConfig};

    #[test]
    fn messages_round_trip() {
        let codec = Bincode::new();
        let call = ToWorker::Call {
            id: 7,
            function: Cow::Borrowed("square"),
        };
        let mut bytes = Vec::new();
        codec.encode(&call, &mut bytes).unwrap();
        assert_eq!(codec.decode::<ToWorker<'static>>(&bytes).unwrap(), call);

        for message in [
            FromWorker::Ready {
                version: VERSION,
                pid: 42,
            },
            FromWorker::Done {
                id: u64::MAX,
                outcome: Outcome::Panicked("boom".into()),
            },
        ] {
            bytes.clear();
            codec.encode(&message, &mut bytes).unwrap();
            assert_eq!(codec.decode::<FromWorker>(&bytes).unwrap(), message);
        }
    }

    #[test]
    fn any_encodable_value_fits_in_a_frame() {
        // The pool frames arguments and results that the codec accepted without checking
        // their length again; this holds while the frame limit is no smaller.
        assert!(Bincode::new().limit() <= FrameConfig::new().max_payload() as usize);
    }
}
