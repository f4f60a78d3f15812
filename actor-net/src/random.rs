//! The operating system's random source, whose failures are reported as [`io::Error`]s.

use std::io;

/// Fills `buf` from the operating system's cryptographically secure random source.
///
/// A failure with an operating system error code becomes that code's `io::Error`; any other
/// keeps `getrandom`'s message (without its `std` feature, its error is no `std::error::Error`).
pub(crate) fn fill(buf: &mut [u8]) -> io::Result<()> {
    getrandom::fill(buf).map_err(|err| match err.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::other(RandomFailure(err)),
    })
}

/// A failure of the random source that carries no operating system error code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RandomFailure(getrandom::Error);
