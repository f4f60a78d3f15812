//! HMAC cost: HMAC-SHA256 of a 64-byte frame from a pre-keyed state, cloned per operation
//! (so the key schedule is paid once, as a session pays it). Raw only: the framework's
//! authenticated frames come with actor-net.

use std::hint::black_box;
use std::time::Instant;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{BenchError, BenchResult};
use crate::report::Sample;

/// Default number of tags computed.
pub(crate) const N: u64 = 5_000_000;

/// Bytes per frame.
const FRAME: usize = 64;

/// The raw cost: `Hmac<Sha256>` cloned from a keyed state, updated with one frame and
/// finalized.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let key = [0x5a_u8; 32];
    let keyed = Hmac::<Sha256>::new_from_slice(&key)?;
    let mut frame = [0xa5_u8; FRAME];

    // The cloned state must give the tag a freshly keyed one gives.
    let tag = |frame: &[u8]| {
        let mut mac = keyed.clone();
        mac.update(frame);
        mac.finalize().into_bytes()
    };
    let mut fresh = Hmac::<Sha256>::new_from_slice(&key)?;
    fresh.update(&frame);
    if fresh.finalize().into_bytes() != tag(&frame) {
        return Err(BenchError::check("a cloned keyed state gave another tag"));
    }

    let mut run = |ops: u64| {
        let mut folded = 0_u8;
        for op in 0..ops {
            // A different frame each time, so that nothing can be hoisted out of the loop.
            frame[..8].copy_from_slice(&op.to_le_bytes());
            folded ^= tag(black_box(&frame))[0];
        }
        black_box(folded);
    };
    run(super::warm_up(n));
    let start = Instant::now();
    run(n);
    Ok(vec![Sample::cost_ns(n, start.elapsed())])
}
