//! The internals that the fuzz targets in `fuzz/` drive directly, with the `fuzzing` feature
//! (off by default): the messages inside session frames, and the authenticated echo's state
//! machine. Not part of the API: they change without notice, whatever the version says.
//!
//! The other decoders the targets drive, [`frame`](crate::frame),
//! [`handshake`](crate::handshake) and [`session`](crate::session), are public anyway.
//!
//! # Examples
//!
//! ```
//! use actor_net::fuzzing::message::{Message, Reader, Writer};
//!
//! let mut body = Vec::new();
//! let mut writer = Writer::new(&mut body);
//! writer.ping(7);
//! writer.goodbye();
//! let parsed: Vec<Message<'_>> = Reader::new(&body).collect::<Result<_, _>>()?;
//! assert_eq!(parsed, [Message::Ping(7), Message::Goodbye]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod message {
    //! The messages inside session frames: a batch body is written with [`Writer`] and
    //! walked with [`Reader`], as `PROTOCOL.md` lays it out.
    //!
    //! # Examples
    //!
    //! See the [parent module](super).

    pub use crate::message::{
        DownReason, LookupFailure, MAX_NAME, MAX_REPLIES, Malformed, Message, Reader, Rejection,
        ReplyStatus, Writer, reply_ids,
    };
}

pub mod auth_echo {
    //! The authenticated echo's first read, as a pure state machine: [`Phase`] takes what the
    //! client sends after the challenge and says, as a [`Step`], what the connection does.
    //!
    //! # Examples
    //!
    //! ```
    //! use actor_net::Secret;
    //! use actor_net::fuzzing::auth_echo::{CHALLENGE_LEN, Phase, Step};
    //!
    //! let key = Secret::generate()?;
    //! let mut phase = Phase::challenged([0; CHALLENGE_LEN]);
    //! assert_eq!(phase.step(&key, &[0; 16]), Step::Read);
    //! assert_eq!(phase.missing(), 16);
    //! // Not the HMAC of the challenge: refused.
    //! assert_eq!(phase.step(&key, &[0; 16]), Step::Close);
    //! # Ok::<(), Box<dyn std::error::Error>>(())
    //! ```

    pub use crate::services::auth_echo::{CHALLENGE_LEN, Phase, Step};
}
