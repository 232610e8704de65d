//! The kit every feature is built from, and the only module of this crate a feature may use
//! (besides the application's state): one error, who is asking, the cache, answers
//! (pages, redirects, downloads), formatting, the route builder and the protections around
//! every route. A feature never imports another feature; what two features share moves down
//! into here, or into `greenplan-core` or `greenplan-service` (the tidy test
//! `features_import_only_the_kit` enforces it).

pub mod assets;
pub mod auth;
pub mod bounded_work;
pub mod cache;
pub mod charts;
pub mod error;
pub mod format;
pub mod links;
pub mod protection;
pub mod responses;
pub mod routes;
pub mod stale;
pub mod text_input;

pub use crate::{AppState, WebConfig};
pub use auth::Viewer;
pub use cache::{factors, footprint, plan, unsummed_notice};
pub use error::{
    PageError, PageResult, STORAGE_FULL, forbidden, forbidden_form, not_found, not_found_error,
};
pub use format::{
    TokenRow, long_date, number, organisation_full_name, organisation_name, quarter_of_slug,
    quarter_slug, when,
};
pub use responses::{
    Chrome, HistoryRow, csv_bytes, csv_response, history_of, html, see_other, xlsx_response,
};
pub use routes::{Routes, Write};

/// Today, in the server's time zone: what "overdue" and "this quarter" are measured from.
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
