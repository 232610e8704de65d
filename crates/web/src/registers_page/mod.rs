//! Register pages, all driven by the register descriptions in `greenplan_core::register`:
//! the index, a list with filters and the register's metrics, add and edit forms, archive,
//! import (CSV or XLSX, all-or-nothing), exports and the XLSX template.
//!
//! Every write is checked against `greenplan_core::access`: contributors and admins of the
//! record's organisation (before and after an edit), or a system admin; CSRF-checked by
//! `Viewer::form_writer`; the store audits it in the same transaction.

use crate::AppState;
use crate::auth::{Viewer, same_origin};
use crate::pages::{Chrome, PageError, PageResult, html, not_found_error, number};
use crate::stale::{self, StaleNotice, revision_of, stale_of};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::access::Access;
use greenplan_core::ods::OdsCode;
use greenplan_core::plan::Plan;
use greenplan_core::quantity::with_thousands;
use greenplan_core::register::estates::PipelineAgainstGap;
use greenplan_core::register::footprint::RegisterCarbon;
use greenplan_core::register::{self, FieldKind, Record, Register};
use greenplan_ingest::{IngestError, RowError};
use greenplan_reports::register_files;
use greenplan_service::ImportError;
use greenplan_service::registers::{
    estate_pipeline_against_gap, import_register_file, register_carbon,
};
use greenplan_store::{EXAMPLE_DATA_ACTOR, StoredRecord};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Write;

mod import;
mod list;
mod records;
pub use import::*;
pub use list::*;
pub use records::*;

/// Largest import accepted.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

fn find(slug: &str) -> Result<&'static Register, PageError> {
    register::find(slug).ok_or_else(|| not_found_error("register"))
}
