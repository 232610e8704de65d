//! What handlers answer with besides errors: pages (with the header every page shares), a
//! redirect after a write, downloads (CSV with the formula rule, XLSX), and a record's history.

use super::error::{PageError, PageResult};
use crate::AppState;
use crate::kit::auth::Viewer;
use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// What every page's header needs: who is signed in and the token their forms carry.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub signed_in: Option<String>,
    pub csrf: String,
    pub is_admin: bool,
}

impl Chrome {
    pub fn of(viewer: &Viewer) -> Self {
        Self {
            signed_in: viewer.user.as_ref().map(|u| u.name.clone()),
            csrf: viewer.csrf(),
            is_admin: viewer
                .user
                .as_ref()
                .is_some_and(|u| u.access.is_system_admin()),
        }
    }
}

pub fn html<T: Template>(t: T) -> PageResult {
    t.render().map(|s| Html(s).into_response()).map_err(|e| {
        tracing::error!(error = %e, "template error");
        PageError::Internal("The page could not be drawn.".into())
    })
}

/// 303 to `to`: the answer to a form that was accepted.
pub fn see_other(to: &str) -> PageResult {
    Ok(Redirect::to(to).into_response())
}

pub fn csv_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub fn xlsx_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A CSV file from a header and rows, every cell through the service's formula rule
/// ([`greenplan_core::csv_cell`]): people's text beginning `=`, `+`, `-`, `@`, TAB or CR is
/// written with a quote in front, so a spreadsheet never runs it.
pub fn csv_bytes(
    header_row: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>, PageError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |_| PageError::Internal("The CSV could not be written.".into());
    w.write_record(header_row).map_err(fail)?;
    for r in rows {
        w.write_record(r.iter().map(|c| greenplan_core::csv_cell::neutralise(c)))
            .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|_| PageError::Internal("The CSV could not be written.".into()))
}

/// The latest changes to a record, from the audit trail, for its page.
pub async fn history_of(
    state: &AppState,
    kind: &str,
    id: &str,
) -> Result<Vec<HistoryRow>, PageError> {
    Ok(state
        .store
        .audit_trail(Some((kind, id)), 50)
        .await?
        .into_iter()
        .map(|e| HistoryRow {
            when: super::format::when(e.at),
            actor: e.actor,
            action: e.action,
            before: e.before.unwrap_or_default(),
            after: e.after.unwrap_or_default(),
        })
        .collect())
}

/// One line of a record's history (the audit trail).
pub struct HistoryRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub before: String,
    pub after: String,
}
