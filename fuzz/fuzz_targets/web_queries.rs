//! Query strings, deserialized into the very types the page handlers take (`Query<T>`), as
//! axum does (serde_urlencoded). The first byte picks the page.
#![no_main]
use greenplan_web::forms::*;
use libfuzzer_sys::fuzz_target;

fn query<T: serde::de::DeserializeOwned>(q: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes(q).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, q)) = data.split_first() else {
        return;
    };
    match choice % 4 {
        0 => drop(query::<ActionFilter>(q)),
        1 => drop(query::<LeagueQuery>(q)),
        2 => drop(query::<ReportsQuery>(q)),
        _ => drop(query::<ReportQuery>(q)),
    }
});
