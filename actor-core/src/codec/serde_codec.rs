//! The serde codec: the [`Codec`] seam and its bincode implementation.

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use bincode::enc::write::Writer;
use bincode::error::{DecodeError, EncodeError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Turns serde values into bytes and back.
///
/// The rest of the framework encodes messages only through this trait, so the format can change
/// in one place. [`Bincode`] is the implementation it uses.
///
/// # Examples
///
/// Code that moves values is written against the trait:
///
/// ```
/// use actor_core::codec::{Bincode, Codec, CodecError};
///
/// fn round_trip<C: Codec>(codec: &C, value: &Vec<String>) -> Result<Vec<String>, CodecError> {
///     let mut bytes = Vec::new();
///     codec.encode(value, &mut bytes)?;
///     codec.decode(&bytes)
/// }
///
/// let words = vec!["tell".to_string(), "ask".to_string()];
/// assert_eq!(round_trip(&Bincode::new(), &words)?, words);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Codec {
    /// Appends the encoding of `value` to `out`.
    ///
    /// Appending lets a caller put a header before the value or batch several values in one
    /// buffer; when `out` has the capacity, encoding allocates nothing. On error `out` is left as
    /// it was.
    ///
    /// # Errors
    ///
    /// [`CodecError::LimitExceeded`] if the encoding is longer than the codec's limit, or
    /// [`CodecError::Encode`] if the value cannot be expressed in the format (for example a
    /// `Serialize` impl that fails, or a sequence of unknown length).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{Bincode, Codec};
    ///
    /// let mut out = vec![0xAA];
    /// Bincode::new().encode(&7_u64, &mut out)?;
    /// assert_eq!(out, [0xAA, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>)
    -> Result<(), CodecError>;

    /// Decodes one value that must fill `bytes` exactly.
    ///
    /// # Errors
    ///
    /// [`CodecError::LimitExceeded`] if `bytes` or what decoding would allocate exceeds the
    /// codec's limit, [`CodecError::TrailingBytes`] if bytes remain after the value, or
    /// [`CodecError::Decode`] if `bytes` is not an encoding of a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{Bincode, Codec, CodecError};
    ///
    /// let codec = Bincode::new();
    /// assert_eq!(codec.decode::<u64>(&[7])?, 7);
    /// assert!(matches!(
    ///     codec.decode::<u64>(&[7, 8]),
    ///     Err(CodecError::TrailingBytes { trailing: 1 })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

/// The bincode 2 codec, with a limit of `LIMIT` bytes.
///
/// The format is bincode's standard configuration: little-endian, with variable-length integers
/// (values below 251 take one byte) and lengths, and enum variants by index.
///
/// The limit applies twice. The encoded length must not exceed it, in either direction; and
/// decoding may not allocate more than it, as bincode counts allocation: the in-memory size of
/// each value decoded (eight bytes for a `u64` however short its encoding) plus the bytes of each
/// string. So a length inside hostile input that claims gigabytes fails with
/// [`CodecError::LimitExceeded`] before anything is allocated for it. (A sequence is a separate
/// case: serde itself never reserves more than 1 MiB ahead of the elements that actually arrive.)
///
/// The limit is a const parameter because bincode's own limit is a type-level constant that its
/// decoder checks; a runtime value could not reach that check.
///
/// # Examples
///
/// ```
/// use actor_core::codec::{Bincode, Codec, CodecError};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Greeting {
///     id: u64,
///     name: String,
/// }
///
/// let codec = Bincode::new();
/// let mut bytes = Vec::new();
/// codec.encode(&Greeting { id: 1, name: "ada".into() }, &mut bytes)?;
/// assert_eq!(bytes, [1, 3, b'a', b'd', b'a']);
/// assert_eq!(codec.decode::<Greeting>(&bytes)?, Greeting { id: 1, name: "ada".into() });
///
/// // A smaller limit for a channel that only carries small messages.
/// let small = Bincode::new().with_limit::<4>();
/// assert!(matches!(
///     small.decode::<Greeting>(&bytes),
///     Err(CodecError::LimitExceeded { limit: 4 })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Bincode<const LIMIT: usize = { 16 * 1024 * 1024 }>;

impl Bincode {
    /// Creates a codec with the default limit of 16 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::Bincode;
    ///
    /// assert_eq!(Bincode::new().limit(), 16 * 1024 * 1024);
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Bincode
    }
}

impl<const LIMIT: usize> Bincode<LIMIT> {
    /// Sets the limit, in bytes, on an encoding's length and on what decoding may allocate.
    ///
    /// By default, 16 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::{Bincode, Codec, CodecError};
    ///
    /// let codec = Bincode::new().with_limit::<8>();
    /// assert_eq!(codec.limit(), 8);
    /// let mut out = Vec::new();
    /// assert!(matches!(
    ///     codec.encode("nine char", &mut out),
    ///     Err(CodecError::LimitExceeded { limit: 8 })
    /// ));
    /// ```
    #[must_use]
    pub const fn with_limit<const N: usize>(self) -> Bincode<N> {
        Bincode
    }

    /// Returns the limit, in bytes, on an encoding's length and on what decoding may allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::codec::Bincode;
    ///
    /// assert_eq!(Bincode::new().with_limit::<1024>().limit(), 1024);
    /// ```
    #[must_use]
    pub const fn limit(&self) -> usize {
        LIMIT
    }

    const fn config() -> Configuration<LittleEndian, Varint, Limit<LIMIT>> {
        config::standard().with_limit::<LIMIT>()
    }

    const fn limit_exceeded() -> CodecError {
        CodecError::LimitExceeded { limit: LIMIT }
    }
}

impl<const LIMIT: usize> Codec for Bincode<LIMIT> {
    fn encode<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let start = out.len();
        let mut writer = LimitedWriter {
            out,
            room: LIMIT,
            exceeded: false,
        };
        let result = bincode::serde::encode_into_writer(value, &mut writer, Self::config());
        let error = match result {
            // Checked first, even on success: a `Serialize` impl may swallow the writer's error
            // and go on.
            _ if writer.exceeded => Self::limit_exceeded(),
            Ok(()) => return Ok(()),
            Err(err) => CodecError::Encode(FormatError(Repr::Encode(err))),
        };
        writer.out.truncate(start);
        Err(error)
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        // An encoder with the same limit would never have produced this, and refusing it here
        // bounds the work hostile input can cause before bincode's own count begins.
        if bytes.len() > LIMIT {
            return Err(Self::limit_exceeded());
        }
        let (value, used) =
            bincode::serde::decode_from_slice(bytes, Self::config()).map_err(|err| match err {
                DecodeError::LimitExceeded => Self::limit_exceeded(),
                err => CodecError::Decode(FormatError(Repr::Decode(err))),
            })?;
        match bytes.len().saturating_sub(used) {
            0 => Ok(value),
            trailing => Err(CodecError::TrailingBytes { trailing }),
        }
    }
}

/// Appends to a `Vec` until `room` runs out, so that encoding a value far over the limit stops at
/// the limit instead of first growing the buffer to the value's full size.
struct LimitedWriter<'a> {
    out: &'a mut Vec<u8>,
    room: usize,
    exceeded: bool,
}

impl Writer for LimitedWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let Some(room) = self.room.checked_sub(bytes.len()) else {
            self.exceeded = true;
            return Err(EncodeError::Other("encoded value exceeds the codec limit"));
        };
        self.room = room;
        self.out.extend_from_slice(bytes);
        Ok(())
    }
}

/// Why a value could not be encoded or decoded.
///
/// # Examples
///
/// ```
/// use actor_core::codec::{Bincode, Codec, CodecError};
///
/// // 251 announces a two-byte integer, and none follows.
/// let err = Bincode::new().decode::<u64>(&[251]).unwrap_err();
/// assert!(matches!(err, CodecError::Decode(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The encoding, the input, or what decoding would allocate exceeds the codec's limit.
    #[error("value exceeds the codec limit of {limit} bytes")]
    LimitExceeded {
        /// The codec's limit, in bytes.
        limit: usize,
    },
    /// Bytes remained after the decoded value, which a well-formed message never has.
    #[error("{trailing} unexpected bytes after the encoded value")]
    TrailingBytes {
        /// How many bytes remained.
        trailing: usize,
    },
    /// The value cannot be expressed in the format.
    #[error("value could not be encoded: {0}")]
    Encode(#[source] FormatError),
    /// The input is not an encoding of the requested type.
    #[error("input is not a valid encoding of the requested type: {0}")]
    Decode(#[source] FormatError),
}

/// The format's own account of what went wrong, behind [`CodecError::Encode`] and
/// [`CodecError::Decode`].
///
/// It is opaque so that the format's error types do not become part of this crate's API.
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use actor_core::codec::{Bincode, Codec, CodecError};
///
/// // A string of one byte, 0xFF, which is not UTF-8.
/// let err = Bincode::new().decode::<String>(&[1, 0xFF]).unwrap_err();
/// let CodecError::Decode(format) = &err else { panic!("{err}") };
/// assert!(format.source().is_some());
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct FormatError(Repr);

#[derive(Debug, thiserror::Error)]
enum Repr {
    #[error(transparent)]
    Encode(EncodeError),
    #[error(transparent)]
    Decode(DecodeError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_writer_stops_at_the_limit() {
        let mut out = Vec::new();
        let mut writer = LimitedWriter {
            out: &mut out,
            room: 3,
            exceeded: false,
        };
        writer.write(b"ab").unwrap();
        assert!(writer.write(b"cd").is_err());
        assert!(writer.exceeded);
        writer.write(b"c").unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn failed_encode_leaves_buffer_as_it_was() {
        let codec = Bincode::new().with_limit::<4>();
        let mut out = vec![1, 2];
        let err = codec.encode("too long", &mut out).unwrap_err();
        assert!(matches!(err, CodecError::LimitExceeded { limit: 4 }));
        assert_eq!(out, [1, 2]);
    }

    /// Serializes as a sequence of unknown length, which bincode cannot express.
    struct UnsizedSeq;

    impl Serialize for UnsizedSeq {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(None)?;
            seq.serialize_element(&1_u8)?;
            seq.end()
        }
    }

    #[test]
    fn format_errors_are_encode_errors() {
        let mut out = vec![9];
        let err = Bincode::new().encode(&UnsizedSeq, &mut out).unwrap_err();
        assert!(matches!(err, CodecError::Encode(_)), "{err:?}");
        assert_eq!(out, [9]);
    }

    /// Hides the writer's error from bincode and carries on writing.
    struct Stubborn;

    impl Serialize for Stubborn {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeTuple;
            let mut tuple = serializer.serialize_tuple(3)?;
            for _ in 0..2 {
                let _ignored = tuple.serialize_element(&[0_u8; 8]);
            }
            tuple.end()
        }
    }

    #[test]
    fn limit_holds_even_if_serialize_ignores_errors() {
        let mut out = Vec::new();
        let err = Bincode::new()
            .with_limit::<10>()
            .encode(&Stubborn, &mut out)
            .unwrap_err();
        assert!(matches!(err, CodecError::LimitExceeded { limit: 10 }));
        assert!(out.is_empty());
    }
}
