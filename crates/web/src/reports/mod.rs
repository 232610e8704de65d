//! Reports in the browser: the quarterly pack and the annual report for the system or one
//! organisation as PDF, HTML or XLSX downloads; published reports, re-downloadable exactly as
//! published, with what has changed since; publishing (system administrators, CSRF-checked,
//! audited by the store).

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::{Chrome, PageError, PageResult, html, long_date, plan, when};
use crate::kit::{Routes, Write};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_reports::{Change, Format, ReportError, ReportKind, ReportRequest};
use serde::Deserialize;

struct PublishedRow {
    id: i64,
    title: String,
    period: String,
    organisation: String,
    when: String,
    by: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    title: String,
    chrome: Chrome,
    message: String,
    quarter: String,
    year: String,
    organisations: Vec<(String, String)>,
    published: Vec<PublishedRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportsQuery {
    #[serde(default)]
    published: Option<i64>,
}

pub async fn reports(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(q): Query<ReportsQuery>,
) -> PageResult {
    let plan = plan(&state).await?;
    let today = chrono::Local::now().date_naive();
    let published = state
        .store
        .published_reports()
        .await?
        .into_iter()
        .map(|p| PublishedRow {
            id: p.id,
            title: p.title,
            period: p.period,
            organisation: p.organisation.unwrap_or_else(|| "Whole system".into()),
            when: when(p.published_at),
            by: p.published_by,
        })
        .collect();
    html(ReportsPage {
        title: "Reports".into(),
        chrome: Chrome::of(&viewer),
        message: q
            .published
            .map(|id| format!("Published as report {id}."))
            .unwrap_or_default(),
        quarter: Quarter::containing(today).to_string(),
        year: FinancialYear::containing(today).to_string(),
        organisations: plan
            .organisations
            .iter()
            .filter(|o| greenplan_reports::gather::makes_returns(o.kind))
            .map(|o| (o.code.to_string(), o.name.clone()))
            .collect(),
        published,
    })
}

fn report_error(e: ReportError) -> PageError {
    match e {
        ReportError::Store(e) => e.into(),
        ReportError::NotPublished(_) => crate::kit::not_found_error("published report"),
        e @ (ReportError::Period(_)
        | ReportError::UnknownFormat(_)
        | ReportError::UnknownOrganisation(_)
        | ReportError::Organisation(_)
        | ReportError::NoPlan) => PageError::BadRequest(e.to_string()),
        e => {
            tracing::error!(error = %e, "report failed");
            PageError::Internal("The report could not be produced.".into())
        }
    }
}

/// Renders off the async threads (typesetting a PDF is CPU work), a few at a time.
async fn download(report: greenplan_reports::Report, format: Format) -> PageResult {
    let name = format!("{}.{}", report.file_stem(), format.extension());
    let bytes = crate::kit::bounded_work::REPORTS
        .run(move || greenplan_reports::render(&report, format))
        .await
        .ok_or_else(|| {
            tracing::error!("report task failed");
            PageError::Internal("The report could not be produced.".into())
        })?
        .map_err(report_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    period: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    org: String,
    #[serde(default = "pdf")]
    format: String,
}

fn pdf() -> String {
    "pdf".into()
}

async fn make(state: &AppState, kind: ReportKind, period: &str, q: &ReportQuery) -> PageResult {
    let format = Format::parse(&q.format).map_err(report_error)?;
    let request = ReportRequest::parse(kind, period, Some(&q.org)).map_err(report_error)?;
    let report =
        greenplan_reports::build(&state.store, &request, chrono::Local::now().naive_local())
            .await
            .map_err(report_error)?;
    download(report, format).await
}

pub async fn quarterly(State(state): State<AppState>, Query(q): Query<ReportQuery>) -> PageResult {
    make(&state, ReportKind::Quarterly, &q.period, &q).await
}

pub async fn annual(State(state): State<AppState>, Query(q): Query<ReportQuery>) -> PageResult {
    make(&state, ReportKind::Annual, &q.year, &q).await
}

pub async fn published(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let format = Format::parse(&q.format).map_err(report_error)?;
    let (_, report) = greenplan_reports::published(&state.store, id)
        .await
        .map_err(report_error)?;
    download(report, format).await
}

#[derive(Template)]
#[template(path = "report_changes.html")]
struct ChangesPage {
    title: String,
    chrome: Chrome,
    report_title: String,
    published: String,
    changes: Vec<Change>,
}

pub async fn changes(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let stored = state
        .store
        .published_report(id)
        .await?
        .ok_or_else(|| crate::kit::not_found_error("published report"))?;
    let (then, changes) =
        greenplan_reports::changes_since(&state.store, id, chrono::Local::now().naive_local())
            .await
            .map_err(report_error)?;
    html(ChangesPage {
        title: "What has changed since publication".into(),
        chrome: Chrome::of(&viewer),
        report_title: then.title,
        published: format!("{} by {}", when(stored.published_at), stored.published_by),
        changes,
    })
}

#[derive(Debug, Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf_token: String,
    kind: String,
    period: String,
    #[serde(default)]
    org: String,
}

/// Publishes a report: system administrators only, whatever the page offered.
pub async fn publish(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<PublishForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "publish a report")?;
    if !user.access.is_system_admin() {
        return Err(PageError::Forbidden(
            "Only a system administrator can publish a report.".into(),
        ));
    }
    let kind: ReportKind = form
        .kind
        .parse()
        .map_err(|e: String| PageError::BadRequest(e))?;
    let request =
        ReportRequest::parse(kind, &form.period, Some(&form.org)).map_err(report_error)?;
    let report =
        greenplan_reports::build(&state.store, &request, chrono::Local::now().naive_local())
            .await
            .map_err(report_error)?;
    let id = greenplan_reports::publish(&state.store, &user.email, &report)
        .await
        .map_err(report_error)?;
    tracing::info!(id, as_at = %long_date(report.as_at), "report published");
    Ok(Redirect::to(&format!("/reports?published={id}")).into_response())
}

/// The quarterly pack and the annual report: drafts, publishing, published copies.
pub fn routes() -> Routes {
    Routes::new()
        .get("/reports", reports)
        .get("/reports/quarterly", quarterly)
        .get("/reports/annual", annual)
        .post("/reports/publish", Write::SystemAdmins, publish)
        .get("/reports/published/{id}", published)
        .get("/reports/published/{id}/changes", changes)
}
