//! Anaesthetic gas returns (CSV or XLSX: the first byte of the input chooses).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let file = greenplan_fuzz::upload(bytes, if choice % 2 == 0 { "csv" } else { "xlsx" });
    let _ = greenplan_ingest::anaesthetic::read_gas_returns(&file.path);
});
