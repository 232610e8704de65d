//! The official GHG conversion factor flat files (.xls bytes): header row and columns found by
//! name, per-gas rows grouped, values kept as exact decimal text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Once;

static DEFAULT_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // The reader turns calamine's panics on damaged .xls files into errors (catch_unwind in
    // greenplan-ingest). libfuzzer-sys's panic hook aborts before any unwinding, which would
    // report those caught panics as crashes; the default hook lets them unwind to the reader.
    // A panic that escapes the reader still reaches libfuzzer-sys's own catch_unwind, which
    // aborts: it is still found.
    DEFAULT_HOOK.call_once(|| drop(std::panic::take_hook()));
    let file = greenplan_fuzz::upload(data, "xls");
    let _ = greenplan_ingest::factors::read_flat_file(&file.path, Some("fuzz-2025"));
});
