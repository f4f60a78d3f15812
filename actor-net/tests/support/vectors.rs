//! The test vectors of `PROTOCOL.md`, read from the document itself (its lines
//! `vector NAME = HEX`), so that the document and the code cannot drift apart: a changed byte
//! on either side fails the tests that check them.
//!
//! Included with `#[path]` by `protocol_vectors.rs` and `membership_vectors.rs`.
#![allow(dead_code)]

use std::collections::BTreeMap;

pub(crate) const PROTOCOL: &str = include_str!("../../PROTOCOL.md");

pub(crate) fn decode_hex(hex: &str) -> Vec<u8> {
    assert!(
        hex.len().is_multiple_of(2),
        "odd number of hex digits: {hex}"
    );
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the `vector NAME = HEX` lines of the document.
pub(crate) fn vectors() -> BTreeMap<String, Vec<u8>> {
    let mut vectors = BTreeMap::new();
    for line in PROTOCOL.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("vector ") else {
            continue;
        };
        let (name, hex) = rest.split_once(" = ").expect("`vector NAME = HEX`");
        let previous = vectors.insert(name.to_owned(), decode_hex(hex));
        assert!(previous.is_none(), "vector {name} appears twice");
    }
    vectors
}
