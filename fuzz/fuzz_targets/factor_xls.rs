//! The official GHG conversion factor flat files (.xls bytes): header row and columns found by
//! name, per-gas rows grouped, values kept as exact decimal text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = greenplan_fuzz::upload(data, "xls");
    let _ = greenplan_ingest::factors::read_flat_file(&file.path, Some("fuzz-2025"));
});
