//! Governance outputs of a green plan: the Greener ICS Delivery Group's quarterly pack and the
//! ICB Board's annual report, each as PDF, HTML or XLSX, and published snapshots of them.
//!
//! A report is computed once into a plain-data [`Report`] (`gather` reads the store,
//! `compose` applies `greenplan-core`'s rules), then rendered three ways: `pdf` (typst),
//! `html` (askama) and `xlsx` (rust_xlsxwriter). Publishing stores the model's JSON, so a
//! published report is re-rendered from exactly the figures it was published with, and
//! `diff` shows what has changed since. The SVG charts (`charts`) are shared with the web app.

#![forbid(unsafe_code)]

pub mod charts;
pub mod compose;
pub mod diff;
pub mod gather;
pub mod html;
pub mod inputs;
pub mod model;
pub mod pdf;
pub mod register_files;
pub mod xlsx;

pub use diff::Change;
pub use inputs::{Inputs, ReportPeriod, ReturnsStatus};
pub use model::{Report, ReportKind};

use chrono::NaiveDateTime;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_store::{NewPublishedReport, PublishedReport, Store, StoreError};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the footprint could not be computed: {0}")]
    Footprint(#[from] greenplan_service::footprint::FootprintError),
    #[error("no plan is loaded: run `greenplan init` first")]
    NoPlan,
    #[error(
        "`{0}` is not an organisation of the plan: `greenplan` lists them on the organisations page"
    )]
    UnknownOrganisation(String),
    #[error("{0}")]
    Period(#[from] greenplan_core::period::PeriodError),
    #[error("`{0}` is not a report format: the file name must end in .pdf, .html or .xlsx")]
    UnknownFormat(String),
    #[error("there is no published report {0}: `greenplan report list` shows them")]
    NotPublished(i64),
    #[error("typesetting the PDF failed: {0}")]
    Typeset(String),
    #[error("drawing the HTML failed: {0}")]
    Html(#[from] askama::Error),
    #[error("writing the workbook failed: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("the report model could not be read or written: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Organisation(#[from] greenplan_core::ods::InvalidOdsCode),
}

/// The formats a report is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Html,
    Xlsx,
}

impl Format {
    /// The format a file name asks for, by its extension.
    pub fn of_path(path: &str) -> Result<Self, ReportError> {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some(e) => Self::parse(e),
            None => Err(ReportError::UnknownFormat(path.to_string())),
        }
    }

    /// `pdf`, `html` or `xlsx`.
    pub fn parse(ext: &str) -> Result<Self, ReportError> {
        match ext.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(Self::Pdf),
            "html" | "htm" => Ok(Self::Html),
            "xlsx" => Ok(Self::Xlsx),
            other => Err(ReportError::UnknownFormat(other.to_string())),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Html => "html",
            Self::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Html => "text/html; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Renders a report in one format.
pub fn render(report: &Report, format: Format) -> Result<Vec<u8>, ReportError> {
    match format {
        Format::Pdf => pdf::render(report),
        Format::Html => html::render(report).map(String::into_bytes),
        Format::Xlsx => xlsx::render(report),
    }
}

/// Which report: its kind, period and (optionally) organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub period: ReportPeriod,
    pub organisation: Option<OdsCode>,
}

impl ReportRequest {
    /// Reads a request as typed: `Q3 2025/26` for a quarterly pack, `2025/26` for an annual
    /// report, an ODS code or nothing for the organisation.
    pub fn parse(
        kind: ReportKind,
        period: &str,
        organisation: Option<&str>,
    ) -> Result<Self, ReportError> {
        let period = match kind {
            ReportKind::Quarterly => ReportPeriod::Quarter(Quarter::parse(period)?),
            ReportKind::Annual => ReportPeriod::Year(FinancialYear::parse(period)?),
        };
        let organisation = organisation
            .filter(|o| !o.trim().is_empty())
            .map(OdsCode::parse)
            .transpose()?;
        Ok(Self {
            kind,
            period,
            organisation,
        })
    }
}

/// Computes a report from the store as it is now.
pub async fn build(
    store: &Store,
    request: &ReportRequest,
    now: NaiveDateTime,
) -> Result<Report, ReportError> {
    let inputs = gather::gather(store, request.period, request.organisation.clone(), now).await?;
    Ok(match request.period {
        ReportPeriod::Quarter(q) => compose::quarterly(&inputs, q),
        ReportPeriod::Year(y) => compose::annual(&inputs, y),
    })
}

/// Publishes a report: freezes its model in the store (audited). Returns its id.
pub async fn publish(store: &Store, actor: &str, report: &Report) -> Result<i64, ReportError> {
    let id = store
        .publish_report(
            actor,
            &NewPublishedReport {
                kind: report.kind.slug().into(),
                period: report.period.clone(),
                organisation: report.organisation.as_ref().map(|o| o.code.clone()),
                title: report.title.clone(),
                model_json: serde_json::to_string(report)?,
            },
        )
        .await?;
    Ok(id)
}

/// A published report, as it was published.
pub async fn published(store: &Store, id: i64) -> Result<(PublishedReport, Report), ReportError> {
    let stored = store
        .published_report(id)
        .await?
        .ok_or(ReportError::NotPublished(id))?;
    let report = serde_json::from_str(&stored.model_json)?;
    Ok((stored, report))
}

/// What has changed since a report was published: the same report computed now, compared.
pub async fn changes_since(
    store: &Store,
    id: i64,
    now: NaiveDateTime,
) -> Result<(Report, Vec<Change>), ReportError> {
    let (_, then) = published(store, id).await?;
    let request = ReportRequest::parse(
        then.kind,
        &then.period,
        then.organisation.as_ref().map(|o| o.code.as_str()),
    )?;
    let current = build(store, &request, now).await?;
    let changes = diff::changes(&then, &current);
    Ok((then, changes))
}
