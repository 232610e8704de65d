//! Activity files (.xlsx), read both ways the app reads them: row by row (imports and returns)
//! and by the parallel footprint reader (`greenplan footprint FILE`), which must agree.
#![no_main]
use greenplan_core::factor::FactorSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = greenplan_fuzz::upload(data, "xlsx");
    if let Ok(rows) = greenplan_ingest::activity::ActivityFile::open(&file.path) {
        for row in rows {
            if row.is_err() {
                break;
            }
        }
    }
    let factors = FactorSet::new(Vec::new());
    let _ = greenplan_ingest::activity::footprint_table_of_file(
        &file.path,
        &factors,
        &[],
        None,
        &[greenplan_core::footprint::GroupBy::Organisation],
        |_| true,
    );
});
