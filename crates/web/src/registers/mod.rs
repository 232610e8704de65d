//! Register pages, all driven by the register descriptions in `greenplan_core::register`:
//! the index, a list with filters and the register's metrics, add and edit forms, archive,
//! import (CSV or XLSX, all-or-nothing), exports and the XLSX template.
//!
//! Every write is checked against `greenplan_core::access`: contributors and admins of the
//! record's organisation (before and after an edit), or a system admin; CSRF-checked by
//! `Viewer::form_writer`; the store audits it in the same transaction.

mod heat_map;
use crate::AppState;
use crate::kit::auth::{Viewer, same_origin};
use crate::kit::stale::{self, StaleNotice, revision_of, stale_of};
use crate::kit::{Chrome, PageError, PageResult, html, not_found_error, number};
use crate::kit::{Routes, Write};
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
use std::io::Write as _;

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

/// The registers (estates, fleet, waste, procurement, climate risks): lists, forms, imports,
/// exports and the climate risks' heat map.
pub fn routes() -> Routes {
    Routes::new()
        .get("/registers", index)
        .get("/registers/{slug}", list)
        .get("/registers/{slug}/new", new_page)
        .post("/registers/{slug}/new", Write::Contributors, add)
        .get("/registers/{slug}/import", import_page)
        .post_up_to(
            "/registers/{slug}/import",
            Write::Contributors,
            MAX_IMPORT_BYTES,
            import,
        )
        .get("/registers/{slug}/export.csv", export_csv)
        .get("/registers/{slug}/export.xlsx", export_xlsx)
        .get("/registers/{slug}/template.xlsx", template)
        .get("/registers/{slug}/heat-map", heat_map::heat_map_page)
        .get("/registers/{slug}/{id}/edit", edit_page)
        .post("/registers/{slug}/{id}/edit", Write::Contributors, edit)
        .post(
            "/registers/{slug}/{id}/archive",
            Write::Contributors,
            archive,
        )
}
