//! Care pathway scenarios (TOML).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = greenplan_fuzz::upload(data, "toml");
    let _ = greenplan_ingest::pathway_file::read_scenario(&file.path);
});
