//! The internals that the fuzz targets in `fuzz/` drive directly, with the `fuzzing` feature
//! (off by default): the messages inside session frames, the authenticated echo's state
//! machine, and the membership protocol's datagrams and encoding (which the tests of
//! `PROTOCOL.md`'s membership vectors also drive). Not part of the API: they change without
//! notice, whatever the version says.
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
        ReplyStatus, SubscribeStatus, Writer, reply_ids,
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

pub mod cluster {
    //! The membership protocol's pieces, as `PROTOCOL.md` ("Cluster membership") lays them
    //! out: the datagram wrapper ([`PacketKey`], [`ReplayGuard`]), the encoding of identities,
    //! headers and member updates ([`Codec`]), the LEFT broadcast, and the protocol as a
    //! member runs it ([`swim`]).
    //!
    //! # Examples
    //!
    //! ```
    //! use std::time::Instant;
    //! use actor_net::fuzzing::cluster::{PacketError, PacketKey, ReplayGuard};
    //! use actor_net::{NodeId, Secret};
    //!
    //! let key = PacketKey::derive(&Secret::generate()?);
    //! let mut datagram = Vec::new();
    //! key.seal(NodeId::from_u64(7), 1, b"payload", &mut datagram);
    //! let (sender, seq, payload) = key.open(&datagram)?;
    //! assert_eq!(payload, b"payload");
    //! let mut guard = ReplayGuard::default();
    //! assert_eq!(guard.accept(sender, seq, Instant::now()), Ok(()));
    //! assert_eq!(guard.accept(sender, seq, Instant::now()), Err(PacketError::Replayed));
    //! # Ok::<(), Box<dyn std::error::Error>>(())
    //! ```

    use std::sync::Arc;

    use foca::{BroadcastHandler, Foca};
    use rand::rngs::StdRng;

    use crate::ClusterSettings;

    pub use crate::cluster::codec::{Codec, CodecError, get_identity, put_identity};
    pub use crate::cluster::identity::Identity;
    pub use crate::cluster::membership::{LEFT, left_item};
    pub use crate::cluster::names::{
        Claim, NamesError, decode as decode_names, encode as encode_names,
    };
    pub use crate::cluster::packet::{
        HEADER_LEN, MAGIC, MAX_SENDERS, NAMES_MAGIC, Opened, PacketError, PacketKey, REPLAY_WINDOW,
        ReplayGuard, TAG_LEN, VERSION,
    };
    pub use crate::cluster::settings::MAX_PAYLOAD;

    /// The protocol as a member with `identity` and `settings` runs it, its RNG seeded with
    /// `seed`: foca with this crate's codec, configuration and LEFT broadcasts.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::fuzzing::cluster::{Identity, swim};
    /// use actor_net::{ClusterSettings, NodeId};
    ///
    /// let identity = Identity {
    ///     id: NodeId::from_u64(1),
    ///     addr: "127.0.0.1:7700".parse()?,
    ///     started_ms: 0,
    ///     rejoins: 0,
    /// };
    /// let member = swim(identity, ClusterSettings::default(), [0; 32]);
    /// assert_eq!(member.num_members(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn swim(
        identity: Identity,
        settings: ClusterSettings,
        seed: [u8; 32],
    ) -> Foca<Identity, Codec, StdRng, impl BroadcastHandler<Identity>> {
        crate::cluster::membership::swim(identity, &settings, seed, Arc::default())
    }
}
