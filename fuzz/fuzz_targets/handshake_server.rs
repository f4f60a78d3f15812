//! libFuzzer's entry point for `actor_fuzz_targets::handshake_server`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| actor_fuzz_targets::handshake_server(data));
