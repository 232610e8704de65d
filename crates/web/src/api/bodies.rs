//! The API's request and response bodies (the OpenAPI document is generated from them).

use super::*;

/// A priority action.
#[derive(Serialize, ToSchema)]
pub struct ActionDto {
    pub id: String,
    pub area: String,
    pub title: String,
    pub leads: Vec<String>,
    pub lead_organisations: Vec<String>,
    /// The delivery date as the plan writes it.
    pub delivery: String,
    /// The period it names, e.g. `Q3 2025/26`, `2027-08..2028-03`, `ongoing`.
    pub due: String,
    /// The last day of that period (ISO date), if it has one.
    pub due_by: Option<String>,
    pub ongoing: bool,
    pub success_measure: String,
    /// not-started, on-track, at-risk, off-track or complete.
    pub status: String,
}

impl From<&Action> for ActionDto {
    fn from(a: &Action) -> Self {
        Self {
            id: a.id.clone(),
            area: a.area.clone(),
            title: a.title.clone(),
            leads: a.leads.clone(),
            lead_organisations: a.lead_organisations.iter().map(|o| o.to_string()).collect(),
            delivery: a.delivery.written.clone(),
            due: a.delivery.period.code(),
            due_by: a.delivery.period.end().map(|d| d.to_string()),
            ongoing: a.delivery.ongoing,
            success_measure: a.success_measure.clone(),
            status: a.status.slug().into(),
        }
    }
}

/// An action with its progress updates, newest first.
#[derive(Serialize, ToSchema)]
pub struct ActionDetailDto {
    pub action: ActionDto,
    pub updates: Vec<UpdateDto>,
}

/// A progress update.
#[derive(Serialize, ToSchema)]
pub struct UpdateDto {
    pub posted_by: String,
    /// RFC 3339, UTC.
    pub posted_at: String,
    pub status: String,
    pub note: String,
    pub evidence_url: Option<String>,
    pub revised_due: Option<String>,
}

impl From<greenplan_store::ActionUpdate> for UpdateDto {
    fn from(u: greenplan_store::ActionUpdate) -> Self {
        Self {
            posted_by: u.posted_by,
            posted_at: chrono::DateTime::from_timestamp(u.posted_at, 0)
                .map_or_else(String::new, |t| t.to_rfc3339()),
            status: u.status.slug().into(),
            note: u.note,
            evidence_url: u.evidence_url,
            revised_due: u.revised_due.map(|p| p.code()),
        }
    }
}

/// A new progress update.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdateDto {
    /// not-started, on-track, at-risk, off-track or complete (the document lists them).
    pub status: String,
    /// What has happened since the last update: at least one character that is not a space,
    /// at most 10,000 characters, no control characters other than TAB, LF and CR.
    pub note: String,
    /// A web address starting with `https://` (or `http://`).
    pub evidence_url: Option<String>,
    /// A financial year `2026/27` (2000/01 to 2098/99), a quarter `Q4 2026/27` or a month
    /// `2026-11` (1990 to 2099); the document's pattern lists them.
    pub revised_due: Option<String>,
}

/// A metric and where it stands.
#[derive(Serialize, ToSchema)]
pub struct MetricDto {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub organisation: Option<String>,
    pub area: Option<String>,
    pub latest_period: Option<String>,
    /// Exact decimal, as text.
    pub latest_value: Option<String>,
    /// The trajectory's value for the latest value's year.
    pub expected: Option<String>,
    /// on-track, at-risk, off-track or not-rated.
    pub rating: String,
}

/// A value of a metric.
#[derive(Serialize, ToSchema)]
pub struct ValueDto {
    pub organisation: Option<String>,
    pub period: String,
    /// Exact decimal, as text.
    pub value: String,
    pub as_written: Option<String>,
    pub note: Option<String>,
    pub reference: Option<String>,
}

/// A new value of a metric.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewValueDto {
    /// ODS code; omit for a system-wide value.
    pub organisation: Option<String>,
    /// A financial year `2025/26` (2000/01 to 2098/99), a quarter `Q3 2025/26` or a month
    /// `2025-12` (1990 to 2099); the document's pattern lists them.
    pub period: String,
    /// Exact decimal, as text, in the metric's unit: up to 15 digits, a point and up to 6.
    pub value: String,
    /// At most 10,000 characters, no control characters other than TAB, LF and CR.
    pub note: Option<String>,
}

/// One line of the footprint.
#[derive(Serialize, ToSchema)]
pub struct FootprintLineDto {
    pub organisation: String,
    pub category: String,
    pub tco2e: String,
    pub tco2e_market_based: String,
}
