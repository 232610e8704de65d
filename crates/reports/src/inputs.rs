//! What a report is computed from: plain data the caller gathers (see [`crate::gather`] for
//! the store), so composing a report is a pure function that tests can feed directly.

use chrono::{NaiveDate, NaiveDateTime};
use greenplan_core::Decimal;
use greenplan_core::category::NhsCategory;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_core::plan::Plan;
use greenplan_store::{ActionUpdate, EditionInfo};

/// The period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPeriod {
    Quarter(Quarter),
    Year(FinancialYear),
}

impl ReportPeriod {
    pub fn start(self) -> NaiveDate {
        match self {
            Self::Quarter(q) => q.start(),
            Self::Year(y) => y.start(),
        }
    }

    pub fn end(self) -> NaiveDate {
        match self {
            Self::Quarter(q) => q.end(),
            Self::Year(y) => y.end(),
        }
    }

    pub fn year(self) -> FinancialYear {
        match self {
            Self::Quarter(q) => q.year,
            Self::Year(y) => y,
        }
    }
}

impl std::fmt::Display for ReportPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Quarter(q) => write!(f, "{q}"),
            Self::Year(y) => write!(f, "{y}"),
        }
    }
}

/// One organisation's data return for the reporting period, as the quarterly pack shows it.
/// The caller fills it from wherever returns are recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnsStatus {
    pub organisation: OdsCode,
    /// When the return was first received (Unix seconds), `None` when it is missing.
    pub submitted_at: Option<i64>,
    /// Activity rows received for the period.
    pub rows: u64,
    /// Approved by the organisation's sign-off, where approval is recorded; `None` when the
    /// deployment does not record approval.
    pub approved: Option<bool>,
    /// Received after the due date (or still missing after it).
    pub late: bool,
}

/// The footprint of stored activity, summed by year, organisation and NHS category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FootprintData {
    /// (financial year, organisation, category, location-based kgCO2e).
    pub lines: Vec<(FinancialYear, OdsCode, NhsCategory, Decimal)>,
    /// Stored activity rows read.
    pub rows: u64,
    /// Rows that could not be converted with the loaded factors (left out of every figure).
    pub unconverted: Vec<String>,
    /// The factor editions the rows were converted with.
    pub editions_used: Vec<String>,
    /// Lines counted with a caveat (spend against factors at another year's prices).
    pub notes: Vec<String>,
}

/// A saved care pathway scenario, computed with the current care-activity library (as its
/// page shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioSaving {
    pub name: String,
    pub organisation: OdsCode,
    /// Priority actions it supports.
    pub actions: Vec<String>,
    /// `None` when the scenario cannot be computed with the current library.
    pub kgco2e_saved: Option<Decimal>,
    /// "= 4,075.4 GP home visits", or why it cannot be computed.
    pub note: String,
}

/// Everything a report is computed from.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub plan: Plan,
    /// Every progress update of every action (any order).
    pub updates: Vec<ActionUpdate>,
    pub footprint: FootprintData,
    pub editions: Vec<EditionInfo>,
    /// One line per organisation expected to make a return for the period.
    pub returns: Vec<ReturnsStatus>,
    /// When returns for the period are due, if a due date applies.
    pub returns_due: Option<NaiveDate>,
    /// Limit the report to one organisation.
    pub organisation: Option<OdsCode>,
    /// Saved care pathway scenarios.
    pub scenarios: Vec<ScenarioSaving>,
    /// Now, local time: the report shows the state as at the earlier of now and the period end.
    pub now: NaiveDateTime,
}
