//! [`Record`]: the message of W4 and of the codec micro-cost.

use serde::{Deserialize, Serialize};

/// The name every record carries: 16 bytes, as BENCH-WORKLOADS.md fixes it.
pub(crate) const NAME: &str = "actor-name-16byt";

/// `{ id: u64, name: String }`, with `name` always [`NAME`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Varies per message, so that nothing can be hoisted out of a loop.
    pub(crate) id: u64,
    /// Always [`NAME`].
    pub(crate) name: String,
}

impl Record {
    /// A record with the fixed name.
    pub(crate) fn new(id: u64) -> Record {
        Record {
            id,
            name: NAME.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_sixteen_bytes() {
        assert_eq!(Record::new(0).name.len(), 16);
    }
}
