//! The handshake: a version check, then mutual HMAC challenge-response over a shared key.
//!
//! Before two nodes exchange anything else, each proves to the other that it holds the same
//! [`Secret`](crate::Secret), without sending it:
//!
//! ```text
//! client                                               server
//!   HELLO      version, nonce_c, client name    ->
//!             <-  CHALLENGE  version, nonce_s, server name, proof_s
//!   PROOF      proof_c                          ->
//!             <-  WELCOME    first session frame (seq 0)
//! ```
//!
//! Each nonce is 32 fresh bytes from the operating system; each proof is an HMAC-SHA256 under the
//! shared key over a direction label, both nonces and both names, and is checked in constant
//! time. Both sides then derive one session key per direction from the key and the nonces, and
//! the server's WELCOME, sealed under its key, tells the client it was accepted. A side that
//! refuses a frame sends an ERROR frame saying why (authentication, version, malformed) and
//! closes. `PROTOCOL.md` describes every byte, with test vectors.
//!
//! The protocol lives in two pure state machines, [`ClientHandshake`] and [`ServerHandshake`],
//! which take frame payloads and append frames to send; [`client_handshake`] and
//! [`server_handshake`] run them over a [`TimedStream`](crate::frame::TimedStream) within a timeout. The MACs are the
//! pure functions [`server_proof`], [`client_proof`] and [`session_keys`].
//!
//! # Examples
//!
//! A handshake over TCP, then one authenticated message each way:
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use actor_core::codec::FrameReader;
//! use actor_net::{Secret, frame};
//! use actor_net::handshake::{self, HandshakeConfig};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! // Both sides hold the same key: one made for this example, and a copy.
//! let key = Secret::generate()?;
//! let server_key = key.clone();
//! let server = std::thread::spawn(move || -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let config = HandshakeConfig::builder().name("server").build()?;
//!     let (mut stream, peer) = listener.accept()?;
//!     let mut session = handshake::server_handshake(&mut stream, &server_key, &config, peer)?;
//!
//!     let mut reader = FrameReader::with_config(stream.try_clone()?, frame::session_frames());
//!     let request = session.opener.open(frame::read_frame(&mut reader)?)?.to_vec();
//!     let mut out = Vec::new();
//!     session.sealer.seal(&[&request[..], b" back"].concat(), &mut out)?;
//!     frame::write_frames(&mut stream, &out)?;
//!     Ok(())
//! });
//!
//! let config = HandshakeConfig::builder().name("client").build()?;
//! let mut stream = TcpStream::connect(addr)?;
//! let mut session = handshake::client_handshake(&mut stream, &key, &config)?;
//! assert_eq!(session.peer_name, "server");
//!
//! let mut out = Vec::new();
//! session.sealer.seal(b"hello", &mut out)?;
//! frame::write_frames(&mut stream, &out)?;
//! let mut reader = FrameReader::with_config(stream, frame::session_frames());
//! assert_eq!(session.opener.open(frame::read_frame(&mut reader)?)?, b"hello back");
//! server.join().unwrap().unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// This file only gathers the parts. What several of them share (configuration, errors, the
// step's result, the protocol's numbers) has a file of its own below them, so that the state
// machines, the MACs, the wire format and the driver import downwards and never from here.
mod client;
mod config;
mod constants;
mod driver;
mod error;
mod mac;
mod server;
mod step;
mod wire;

pub use client::ClientHandshake;
pub use config::{
    Encryption, HandshakeConfig, HandshakeConfigBuilder, HandshakeConfigError, ParseEncryptionError,
};
pub use constants::{MAX_NAME_LEN, NONCE_LEN, VERSION};
pub use driver::{client_handshake, refuse_busy, server_handshake};
pub use error::{HandshakeError, Side};
pub use mac::{Transcript, cipher_keys, client_proof, server_proof, session_keys};
pub use server::ServerHandshake;
pub use step::{Handshaken, Step};
