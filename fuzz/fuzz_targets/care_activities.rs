//! The care-activity factor library (CSV).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = greenplan_fuzz::upload(data, "csv");
    let _ = greenplan_ingest::pathway_file::read_factors(&file.path);
});
