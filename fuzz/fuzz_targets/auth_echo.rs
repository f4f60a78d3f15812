//! libFuzzer's entry point for `actor_fuzz_targets::auth_echo`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| actor_fuzz_targets::auth_echo(data));
