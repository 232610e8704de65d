//! English Prescribing Dataset files: CSV, or CSV inside .gz or .zip (the first byte of the
//! input chooses the name the file is given; the reader also sniffs the first bytes).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn table() -> &'static greenplan_core::inhaler::InhalerTable {
    static TABLE: OnceLock<greenplan_core::inhaler::InhalerTable> = OnceLock::new();
    TABLE.get_or_init(|| greenplan_ingest::prescribing::inhaler_table(&[]).expect("built-in table"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let extension = ["csv", "csv.gz", "zip"][usize::from(choice % 3)];
    let file = greenplan_fuzz::upload(bytes, extension);
    let options = greenplan_ingest::prescribing::EpdOptions {
        icb: None,
        table: table(),
    };
    let _ = greenplan_ingest::prescribing::read_epd(&file.path, options);
});
