//! Codec cost: encode and decode of one [`Record`], through the framework's
//! [`Bincode`] codec and through bincode directly (same standard configuration, no limit).

use std::hint::black_box;
use std::time::Instant;

use actor_core::codec::{Bincode, Codec};

use crate::error::{BenchError, BenchResult};
use crate::record::{NAME, Record};
use crate::report::Sample;

/// Default number of encode + decode operations.
pub(crate) const N: u64 = 5_000_000;

/// The framework: `actor_core::codec::Bincode`.
pub(crate) fn actor(n: u64) -> BenchResult<Vec<Sample>> {
    let codec = Bincode::new();
    measure(n, |record, buf| {
        codec.encode(record, buf)?;
        Ok(codec.decode(buf)?)
    })
}

/// The baseline: `bincode::serde` with `config::standard()`.
pub(crate) fn raw(n: u64) -> BenchResult<Vec<Sample>> {
    let config = bincode::config::standard();
    measure(n, |record, buf| {
        bincode::serde::encode_into_std_write(record, buf, config)?;
        let (decoded, used) = bincode::serde::decode_from_slice(buf, config)?;
        if used != buf.len() {
            return Err(BenchError::check("decoding left bytes over"));
        }
        Ok(decoded)
    })
}

/// Times `n` round trips of a record through `round_trip` (which encodes into the cleared
/// buffer and decodes from it), after a warm-up, and checks every decoded record.
fn measure(
    n: u64,
    mut round_trip: impl FnMut(&Record, &mut Vec<u8>) -> BenchResult<Record>,
) -> BenchResult<Vec<Sample>> {
    let mut record = Record::new(0);
    let mut buf = Vec::with_capacity(64);
    let mut run = |ops: u64| -> BenchResult<()> {
        for id in 0..ops {
            record.id = id;
            buf.clear();
            let decoded = round_trip(black_box(&record), &mut buf)?;
            if decoded.id != id || decoded.name != NAME {
                return Err(BenchError::check(format!(
                    "record {id} came back as {decoded:?}"
                )));
            }
        }
        Ok(())
    };
    run(super::warm_up(n))?;
    let start = Instant::now();
    run(n)?;
    Ok(vec![Sample::cost_ns(n, start.elapsed())])
}
