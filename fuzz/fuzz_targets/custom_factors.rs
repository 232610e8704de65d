//! Custom conversion factors (CSV).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = greenplan_fuzz::upload(data, "csv");
    let _ = greenplan_ingest::factors::read_custom_factors(&file.path);
});
