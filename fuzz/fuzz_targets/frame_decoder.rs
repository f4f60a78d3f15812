//! libFuzzer's entry point for `actor_fuzz_targets::frame_decoder`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| actor_fuzz_targets::frame_decoder(data));
