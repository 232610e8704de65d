//! The audit trail for system administrators, as a page and as CSV.

use crate::AppState;
use crate::auth::Viewer;
use crate::pages::{Chrome, PageError, PageResult, html, when};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use greenplan_store::AuditEntry;

/// Entries shown on the page; the CSV has the whole trail.
const PAGE_ENTRIES: i64 = 500;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    title: String,
    chrome: Chrome,
    entries: Vec<(String, String, String, String, String, String)>,
}

fn require_admin(viewer: &Viewer) -> Result<(), PageError> {
    match &viewer.user {
        None => Err(PageError(StatusCode::UNAUTHORIZED, "Sign in as a system administrator to see the audit trail.".into())),
        Some(u) if !u.access.is_system_admin() => {
            Err(PageError(StatusCode::FORBIDDEN, "Only system administrators can see the whole audit trail; each record's page shows its own history.".into()))
        }
        Some(_) => Ok(()),
    }
}

pub async fn audit(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    require_admin(&viewer)?;
    let entries = state.store.audit_trail(None, PAGE_ENTRIES).await?;
    html(AuditPage {
        title: "Audit trail".into(),
        chrome: Chrome::of(&viewer),
        entries: entries
            .into_iter()
            .map(|e| {
                (
                    when(e.at),
                    e.actor,
                    e.action,
                    format!("{} {}", e.entity_kind, e.entity_id),
                    e.before.unwrap_or_default(),
                    e.after.unwrap_or_default(),
                )
            })
            .collect(),
    })
}

pub async fn audit_csv(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    require_admin(&viewer)?;
    let entries: Vec<AuditEntry> = state.store.audit_trail(None, i64::MAX).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |_| {
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The CSV could not be written.".into(),
        )
    };
    w.write_record([
        "at_utc",
        "actor",
        "action",
        "entity_kind",
        "entity_id",
        "organisation",
        "before",
        "after",
    ])
    .map_err(fail)?;
    for e in entries {
        let at = chrono::DateTime::from_timestamp(e.at, 0)
            .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let cells = [
            at,
            e.actor,
            e.action,
            e.entity_kind,
            e.entity_id,
            e.organisation.unwrap_or_default(),
            e.before.unwrap_or_default(),
            e.after.unwrap_or_default(),
        ];
        w.write_record(
            cells
                .iter()
                .map(|c| greenplan_core::csv_cell::neutralise(c)),
        )
        .map_err(fail)?;
    }
    let body = w.into_inner().map_err(|_| {
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The CSV could not be written.".into(),
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"greenplan-audit-trail.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
