//! The wire codec: length-prefixed frames and the serde codec inside them.
//!
//! Every byte stream in the framework (connections between nodes, pipes to worker processes)
//! carries frames, and every frame's payload is produced by a [`Codec`]. Nothing else frames
//! bytes by hand, so the limits below hold on every path.
//!
//! # Frames
//!
//! A frame is a payload length as a big-endian `u32`, then that many payload bytes:
//!
//! ```text
//! +----------------+---------------------+
//! | length: u32 BE | payload: length B   |
//! +----------------+---------------------+
//! ```
//!
//! An empty payload is a valid frame. [`FrameReader`] and [`FrameWriter`] read and write frames
//! over any [`Read`](std::io::Read) and [`Write`](std::io::Write); [`FrameConfig::append_frame`]
//! appends one to a buffer so that a writer can send a batch in one write. A length over
//! [`FrameConfig::max_payload`] is rejected as soon as its header is read, before any memory is
//! reserved for it. A stream that ends at a frame boundary has ended cleanly
//! (`Ok(None)`); one that ends inside a frame is an error.
//!
//! # Values
//!
//! [`Bincode`] encodes serde values with bincode 2 (standard configuration: little-endian,
//! variable-length integers). Its limit bounds both an encoding's length and what decoding may
//! allocate, so a hostile length inside a payload cannot exhaust memory, and decoding rejects
//! bytes left over after the value.
//!
//! # Examples
//!
//! A message sent through a pipe and read back:
//!
//! ```
//! use actor_core::codec::{Bincode, Codec, FrameReader, FrameWriter};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! enum Job {
//!     Square(u64),
//!     Stop,
//! }
//!
//! let codec = Bincode::new();
//! let mut writer = FrameWriter::new(Vec::new());
//! let mut payload = Vec::new();
//! for job in [Job::Square(12), Job::Stop] {
//!     payload.clear();
//!     codec.encode(&job, &mut payload)?;
//!     writer.write_frame(&payload)?;
//! }
//! let wire = writer.into_inner();
//!
//! let mut reader = FrameReader::new(wire.as_slice());
//! let mut jobs = Vec::new();
//! while let Some(frame) = reader.read_frame()? {
//!     jobs.push(codec.decode::<Job>(frame)?);
//! }
//! assert_eq!(jobs, [Job::Square(12), Job::Stop]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod frame;
mod serde_codec;

pub use frame::{FrameConfig, FrameError, FrameReader, FrameWriter};
pub use serde_codec::{Bincode, Codec, CodecError, FormatError};
