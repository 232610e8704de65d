//! Plan files (TOML): parsing, every cross-reference check and the delivery-date reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = greenplan_ingest::plan_file::parse_plan("fuzz.toml", text);
    }
});
