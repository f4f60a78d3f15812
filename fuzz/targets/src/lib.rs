//! The fuzz targets of the workspace: one function per target, each taking the fuzzer's bytes.
//!
//! Each target feeds its input to one decoder that faces a peer's bytes, and checks what came
//! out against a model of what the protocol allows, so a target fails on a wrong answer as
//! well as on a panic. The same functions serve two callers:
//!
//! - the cargo-fuzz project in `fuzz/`, whose `fuzz_targets/<name>.rs` hand each input to the
//!   target of that name (see `fuzz/README.md` for the commands);
//! - the test `tests/replay.rs`, which runs every file of `fuzz/corpus/<name>/` through the
//!   target, so that CI replays the saved corpus without a fuzzer.
//!
//! | Target | What it decodes |
//! |---|---|
//! | [`frame_decoder`] | a byte stream of length-prefixed frames, read in pieces |
//! | [`handshake_client`] | a server's handshake frames, as the client |
//! | [`handshake_server`] | a client's handshake frames, as the server |
//! | [`session_decoder`] | session frames after a valid handshake: open, then parse the batch |
//! | [`tag_router`] | tag and payload pairs dispatched to typed handlers |
//! | [`auth_echo`] | the authenticated echo's first read: the digest that answers the challenge |
//!
//! [`TARGETS`] lists them by name. Every target accepts any input: a target never panics
//! unless the code under test misbehaves.
//!
//! # Examples
//!
//! ```
//! // Payloads of up to 4096 bytes, read whole: a frame of two bytes, then a clean end.
//! actor_fuzz_targets::frame_decoder(b"\x07\x00\x00\x00\x00\x02hi");
//!
//! for (name, target) in actor_fuzz_targets::TARGETS {
//!     target(name.as_bytes());
//! }
//! ```

mod auth_echo;
mod frame_decoder;
mod handshake;
mod input;
mod session;
mod tag_router;
mod vectors;

pub use auth_echo::auth_echo;
pub use frame_decoder::frame_decoder;
pub use handshake::{handshake_client, handshake_server};
pub use session::session_decoder;
pub use tag_router::tag_router;

/// A fuzz target: it takes the fuzzer's bytes, and panics only if the code under test
/// misbehaves.
///
/// # Examples
///
/// ```
/// let target: actor_fuzz_targets::Target = actor_fuzz_targets::auth_echo;
/// target(b"");
/// ```
pub type Target = fn(&[u8]);

/// Every target, by the name of its fuzzer binary and of its corpus directory.
///
/// # Examples
///
/// ```
/// let names: Vec<&str> = actor_fuzz_targets::TARGETS.iter().map(|(name, _)| *name).collect();
/// assert!(names.contains(&"session_decoder"));
/// ```
pub const TARGETS: &[(&str, Target)] = &[
    ("frame_decoder", frame_decoder),
    ("handshake_client", handshake_client),
    ("handshake_server", handshake_server),
    ("session_decoder", session_decoder),
    ("tag_router", tag_router),
    ("auth_echo", auth_echo),
];
