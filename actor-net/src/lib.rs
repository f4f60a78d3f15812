//! Remote actors for the `actor` framework.
//!
//! This crate will hold the network layers described in the workspace design (frames,
//! the HMAC handshake, authenticated sessions, nodes and remote refs). It exports nothing
//! yet: the remote layer has not been built.
