//! The scheme register: list with filters, add, edit, archive, the "Greener NHS" tag (a
//! reviewed SIA tags a scheme when it is reviewed; a recorded reason here), CSV import (all or
//! nothing, through `greenplan_service::tools`) and CSV/XLSX export. Contributors of a
//! scheme's organisation change it; everyone else reads.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::stale::{StaleNotice, revision_of, shown_stale, stale_of};
use crate::kit::{
    Chrome, HistoryRow, PageError, PageResult, csv_bytes, csv_response, history_of, html,
    not_found_error, plan, when,
};
use crate::tools::{
    action_ids, can_edit, field, form_pairs, organisation_choices, organisation_name, refused,
    require_contributor, see_other, sentence, shown_again, signed_in, writer,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::plan::Plan;
use greenplan_core::scheme::{Consideration, Scheme, SchemeDetails, Stage};
use greenplan_service::ImportError;

mod files;
mod form;
mod list;
mod show;
pub use files::*;
pub use form::*;
pub use list::*;
pub use show::*;

/// Largest register CSV accepted.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

/// The register's columns, in export order (an export can be imported again: the import
/// ignores `id`, `greener_nhs` and `considered`).
const COLUMNS: [&str; 11] = [
    "id",
    "name",
    "owner",
    "organisation",
    "stage",
    "start",
    "end",
    "actions",
    "description",
    "greener_nhs",
    "considered",
];

/// How a scheme's impact was considered, in words.
fn considered_text(c: &Option<Consideration>) -> String {
    match c {
        Some(Consideration::Assessed { sia }) => format!("Reviewed SIA {sia}"),
        Some(Consideration::Reason { by, at, why }) => {
            format!("Reason recorded by {by} on {}: {why}", when(*at))
        }
        None => String::new(),
    }
}

/// A scheme as a row of the register.
pub struct SchemeRow {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub owner: String,
    pub stage: String,
    pub dates: String,
    pub actions: Vec<String>,
    pub greener: bool,
}

fn dates_text(start: Option<NaiveDate>, end: Option<NaiveDate>) -> String {
    let d = |x: Option<NaiveDate>| x.map_or_else(|| "not set".to_string(), crate::kit::long_date);
    match (start, end) {
        (None, None) => String::new(),
        _ => format!("{} to {}", d(start), d(end)),
    }
}
