//! The audit trail for system administrators, as a page and as CSV.
//!
//! The page shows the trail a page at a time, newest first, narrowed by record, person,
//! organisation, kind of change and date range. Pages are keyset pages (`before` = the id
//! of the last entry shown), so entries written while someone reads never shift a page, and
//! any page costs one indexed read however long the trail. The CSV has every entry that
//! matches the same filters, read from the database in batches and streamed as it is
//! written: the server holds one batch at a time, never the whole trail.

use crate::AppState;
use crate::kit::Routes;
use crate::kit::auth::Viewer;
use crate::kit::{Chrome, PageError, PageResult, html, when};
use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use greenplan_store::{AuditEntry, AuditFilter, Store};

/// Entries shown on a page.
pub const PAGE_ENTRIES: i64 = 100;

/// Entries read from the database at a time for the CSV.
const CSV_BATCH: i64 = 500;

/// The filters and the page, as the address carries them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    action: String,
    /// A date, `YYYY-MM-DD` (UTC), inclusive.
    #[serde(default)]
    from: String,
    /// A date, `YYYY-MM-DD` (UTC), inclusive.
    #[serde(default)]
    to: String,
    /// Show entries older than this id (the next page).
    #[serde(default)]
    before: String,
}

/// A date of the filter as Unix seconds at the start of that UTC day.
fn day_start(field: &str, raw: &str) -> Result<Option<i64>, PageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc().timestamp()))
        .ok_or_else(|| {
            PageError::Unprocessable(format!(
                "{field}: `{}` is not a date: write it as YYYY-MM-DD, e.g. 2025-06-03",
                greenplan_core::travel::shown(raw)
            ))
        })
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, PageError> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            entity_kind: text(&self.kind),
            entity_id: text(&self.id),
            actor: text(&self.actor),
            organisation: text(&self.organisation).map(|o| o.to_uppercase()),
            action: text(&self.action),
            from_at: day_start("From", &self.from)?,
            // The whole of the last day: until the start of the next.
            until_at: day_start("To", &self.to)?.map(|t| t + 86_400),
        })
    }

    fn before(&self) -> Result<Option<i64>, PageError> {
        match self.before.trim() {
            "" => Ok(None),
            b => b.parse().map(Some).map_err(|_| {
                PageError::Unprocessable(format!(
                    "`{}` is not a place in the trail: follow the page's own links",
                    greenplan_core::travel::shown(b)
                ))
            }),
        }
    }

    /// The filters as a query string (without `before`), for the next page and the CSV.
    fn query_string(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("kind", &self.kind),
            ("id", &self.id),
            ("actor", &self.actor),
            ("organisation", &self.organisation),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    title: String,
    chrome: Chrome,
    entries: Vec<(String, String, String, String, String, String)>,
    q: AuditQuery,
    /// (value, selected) of the filters' lists.
    actions: Vec<(String, bool)>,
    kinds: Vec<(String, bool)>,
    /// The next (older) page, or empty on the last.
    older: String,
    /// The first page with the same filters, or empty when this is it.
    newest: String,
    csv: String,
    filtered: bool,
    per_page: i64,
}

fn require_admin(viewer: &Viewer) -> Result<(), PageError> {
    match &viewer.user {
        None => Err(PageError::SignInNeeded("Sign in as a system administrator to see the audit trail.".into())),
        Some(u) if !u.access.is_system_admin() => {
            Err(PageError::Forbidden("Only system administrators can see the whole audit trail; each record's page shows its own history.".into()))
        }
        Some(_) => Ok(()),
    }
}

pub async fn audit(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    require_admin(&viewer)?;
    let filter = q.filter()?;
    let before = q.before()?;
    // One more than a page tells whether there is an older page.
    let mut entries = state
        .store
        .audit_entries(&filter, before, PAGE_ENTRIES + 1)
        .await?;
    let more = entries.len() as i64 > PAGE_ENTRIES;
    entries.truncate(PAGE_ENTRIES as usize);
    let (actions, kinds) = state.store.audit_kinds().await?;
    let query = q.query_string();
    let with = |extra: String| {
        let joined = [query.as_str(), extra.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("&");
        if joined.is_empty() {
            String::new()
        } else {
            format!("?{joined}")
        }
    };
    let older = match (more, entries.last()) {
        (true, Some(last)) => format!("/audit{}", with(format!("before={}", last.id))),
        _ => String::new(),
    };
    let newest = if before.is_some() {
        format!("/audit{}", with(String::new()))
    } else {
        String::new()
    };
    let csv = format!("/audit.csv{}", with(String::new()));
    let selected = |list: Vec<String>, chosen: &str| {
        list.into_iter()
            .map(|v| {
                let on = v == chosen.trim();
                (v, on)
            })
            .collect()
    };
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
        actions: selected(actions, &q.action),
        kinds: selected(kinds, &q.kind),
        filtered: !query.is_empty(),
        q,
        older,
        newest,
        csv,
        per_page: PAGE_ENTRIES,
    })
}

/// One entry as a CSV line.
fn csv_line(e: AuditEntry) -> Result<Vec<u8>, csv::Error> {
    let at = chrono::DateTime::from_timestamp(e.at, 0)
        .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
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
    // Formulas neutralised like every other CSV download (core::csv_cell).
    w.write_record(
        cells
            .iter()
            .map(|c| greenplan_core::csv_cell::neutralise(c)),
    )?;
    w.into_inner().map_err(|e| e.into_error().into())
}

const CSV_HEADER: &str = "at_utc,actor,action,entity_kind,entity_id,organisation,before,after\n";

/// Where the CSV stream stands: the next batch starts below `before`.
struct CsvCursor {
    store: Store,
    filter: AuditFilter,
    before: Option<i64>,
    done: bool,
}

/// One batch of the CSV, and where the next starts; `None` when the trail is done.
async fn next_batch(mut c: CsvCursor) -> Option<(Result<Bytes, std::io::Error>, CsvCursor)> {
    if c.done {
        return None;
    }
    let entries = match c.store.audit_entries(&c.filter, c.before, CSV_BATCH).await {
        Ok(e) => e,
        Err(e) => {
            // The status line has gone: ending the body with an error makes the download
            // fail visibly rather than look complete.
            tracing::error!(error = %e, "audit trail CSV: reading a batch failed");
            c.done = true;
            return Some((Err(std::io::Error::other("audit trail read failed")), c));
        }
    };
    if entries.is_empty() {
        return None;
    }
    c.done = (entries.len() as i64) < CSV_BATCH;
    c.before = entries.last().map(|e| e.id);
    let mut chunk = Vec::new();
    for e in entries {
        match csv_line(e) {
            Ok(line) => chunk.extend_from_slice(&line),
            Err(e) => {
                tracing::error!(error = %e, "audit trail CSV: writing a line failed");
                c.done = true;
                return Some((Err(std::io::Error::other("audit trail CSV failed")), c));
            }
        }
    }
    Some((Ok(Bytes::from(chunk)), c))
}

pub async fn audit_csv(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    require_admin(&viewer)?;
    let filter = q.filter()?;
    let cursor = CsvCursor {
        store: state.store.clone(),
        filter,
        before: q.before()?,
        done: false,
    };
    let header_line = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(Bytes::from_static(CSV_HEADER.as_bytes()))
    });
    let rows = futures_util::stream::unfold(cursor, next_batch);
    let body = Body::from_stream(futures_util::StreamExt::chain(header_line, rows));
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

/// The audit trail, as a page and a CSV download.
pub fn routes() -> Routes {
    Routes::new()
        .get("/audit", audit)
        .get("/audit.csv", audit_csv)
}
