//! [`Entry`]: one registered function, with its types erased, as both sides of a process
//! pool hold it.
//!
//! It lives below both of its users: [`Functions`](crate::Functions) registers entries, and
//! the worker's serving loop (`serve.rs`) calls them.

use std::collections::BTreeMap;
use std::sync::Arc;

use actor_core::codec::{Bincode, Codec, CodecError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::signature::Signature;

/// The registered functions by name.
pub(crate) type Entries = BTreeMap<Arc<str>, Entry>;

/// Decodes an argument, runs the function, and appends the encoded result.
type Call = dyn Fn(&[u8], &mut Vec<u8>) -> Result<(), CallFailure> + Send + Sync;

/// Why a registered function could not be run or answered, in the worker.
#[derive(Debug)]
pub(crate) enum CallFailure {
    Argument(CodecError),
    Result(CodecError),
}

/// A registered function: its types, and how to call it on encoded bytes.
#[derive(Clone)]
pub(crate) struct Entry {
    signature: Signature,
    call: Arc<Call>,
}

impl Entry {
    /// Wraps `function` so that it takes and gives encoded values.
    pub(crate) fn new<A, R, F>(function: F) -> Entry
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let call = move |argument: &[u8], result: &mut Vec<u8>| {
            let codec = Bincode::new();
            let argument: A = codec.decode(argument).map_err(CallFailure::Argument)?;
            codec
                .encode(&function(argument), result)
                .map_err(CallFailure::Result)
        };
        Entry {
            signature: Signature::of::<A, R>(),
            call: Arc::new(call),
        }
    }

    /// The types the function was registered with.
    pub(crate) fn signature(&self) -> Signature {
        self.signature
    }

    /// Decodes `argument`, runs the function on it, and appends the encoded result to
    /// `result`.
    pub(crate) fn call(&self, argument: &[u8], result: &mut Vec<u8>) -> Result<(), CallFailure> {
        (self.call)(argument, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_function_decodes_calls_and_encodes_results() {
        let square = Entry::new(|x: u64| x * x);
        let codec = Bincode::new();
        let mut argument = Vec::new();
        codec.encode(&12_u64, &mut argument).unwrap();
        let mut result = Vec::new();
        square.call(&argument, &mut result).unwrap();
        assert_eq!(codec.decode::<u64>(&result).unwrap(), 144);
    }

    #[test]
    fn an_argument_of_the_wrong_shape_is_a_typed_failure() {
        let len = Entry::new(|s: String| s.len());
        let mut result = Vec::new();
        let failure = len.call(&[5, b'a'], &mut result).unwrap_err();
        assert!(matches!(failure, CallFailure::Argument(_)), "{failure:?}");
        assert!(result.is_empty());
    }
}
