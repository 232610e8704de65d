//! The green plan as data: organisations, places, areas of focus, priority actions, metrics and
//! the figures the plan quotes, visions and case studies, and the frameworks actions link to.
//!
//! These are the validated forms; `greenplan-ingest` reads them from a plan file and checks
//! every cross-reference before a plan is accepted.

use crate::ods::OdsCode;
use crate::period::{DeliveryDate, Period};
use crate::target::{Baseline, Direction, Target};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub info: PlanInfo,
    pub organisations: Vec<Organisation>,
    pub places: Vec<Place>,
    pub shifts: Vec<Framework>,
    pub guiding_policies: Vec<Framework>,
    pub sdgs: Vec<Sdg>,
    pub areas: Vec<Area>,
    pub actions: Vec<Action>,
    pub metrics: Vec<Metric>,
    pub data_points: Vec<DataPoint>,
    pub case_studies: Vec<CaseStudy>,
    pub visions: Vec<Vision>,
}

/// What the plan is and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInfo {
    pub id: String,
    pub title: String,
    pub system: String,
    pub icb: OdsCode,
    pub first_year: crate::period::FinancialYear,
    pub last_year: crate::period::FinancialYear,
    pub source: Option<String>,
    pub foreword: Option<String>,
    pub introduction: Option<String>,
    pub governance: Option<String>,
}

/// The kinds of organisation in an ICS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrganisationKind {
    Icb,
    Acute,
    Community,
    MentalHealth,
    Ambulance,
    GpPractice,
    Partner,
}

impl OrganisationKind {
    pub const ALL: [Self; 7] = [
        Self::Icb,
        Self::Acute,
        Self::Community,
        Self::MentalHealth,
        Self::Ambulance,
        Self::GpPractice,
        Self::Partner,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Icb => "icb",
            Self::Acute => "acute",
            Self::Community => "community",
            Self::MentalHealth => "mental-health",
            Self::Ambulance => "ambulance",
            Self::GpPractice => "gp-practice",
            Self::Partner => "partner",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Icb => "Integrated care board",
            Self::Acute => "Acute trust",
            Self::Community => "Community trust",
            Self::MentalHealth => "Mental health trust",
            Self::Ambulance => "Ambulance trust",
            Self::GpPractice => "GP practice",
            Self::Partner => "Partner",
        }
    }
}

impl FromStr for OrganisationKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.slug() == s.trim())
            .ok_or_else(|| format!("unknown organisation kind `{s}`: use icb, acute, community, mental-health, ambulance, gp-practice or partner"))
    }
}

impl fmt::Display for OrganisationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub code: OdsCode,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganisationKind,
    pub description: Option<String>,
    pub reference: Option<String>,
}

impl Organisation {
    /// The name people use in meetings: the short name if there is one.
    pub fn display_name(&self) -> &str {
        self.short_name.as_deref().unwrap_or(&self.name)
    }
}

/// A Place Alliance and its population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    pub population: Decimal,
    pub reference: Option<String>,
}

/// A shift of the NHS Ten Year Plan or a JFP guiding policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub reference: Option<String>,
}

/// A UN Sustainable Development Goal the plan commits to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sdg {
    pub number: u8,
    pub name: String,
    pub commitment: Option<String>,
    pub reference: Option<String>,
}

/// An area of focus from NHS England's green plan guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub why: Option<String>,
    pub where_we_are: Option<String>,
    pub system_priorities: Option<String>,
    pub no_actions_reason: Option<String>,
    pub reference: Option<String>,
}

/// Delivery status of an action, as action leads report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    NotStarted,
    OnTrack,
    AtRisk,
    OffTrack,
    Complete,
}

impl ActionStatus {
    pub const ALL: [Self; 5] = [
        Self::NotStarted,
        Self::OnTrack,
        Self::AtRisk,
        Self::OffTrack,
        Self::Complete,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::OnTrack => "on-track",
            Self::AtRisk => "at-risk",
            Self::OffTrack => "off-track",
            Self::Complete => "complete",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Not started",
            Self::OnTrack => "On track",
            Self::AtRisk => "At risk",
            Self::OffTrack => "Off track",
            Self::Complete => "Complete",
        }
    }

    /// Red, amber, green (or grey for not started, blue for complete).
    pub fn rag(self) -> &'static str {
        match self {
            Self::NotStarted => "grey",
            Self::OnTrack => "green",
            Self::AtRisk => "amber",
            Self::OffTrack => "red",
            Self::Complete => "blue",
        }
    }
}

impl FromStr for ActionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.slug() == s.trim())
            .ok_or_else(|| format!("unknown status `{s}`: use not-started, on-track, at-risk, off-track or complete"))
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A further delivery line of an action (some actions have two dates and measures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: Option<String>,
    pub delivery: DeliveryDate,
    pub success_measure: Option<String>,
}

/// A priority action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub id: String,
    pub area: String,
    pub title: String,
    pub leads: Vec<String>,
    pub lead_organisations: Vec<OdsCode>,
    pub delivery: DeliveryDate,
    pub success_measure: String,
    pub milestones: Vec<Milestone>,
    pub shifts: Vec<String>,
    pub guiding_policies: Vec<String>,
    pub sdgs: Vec<u8>,
    pub metrics: Vec<String>,
    pub status: ActionStatus,
    pub reference: Option<String>,
}

/// Something measured, with its unit, direction, baseline and targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub direction: Direction,
    pub area: Option<String>,
    pub organisation: Option<OdsCode>,
    pub description: Option<String>,
    pub baseline: Option<Baseline>,
    pub targets: Vec<MetricTarget>,
    pub reference: Option<String>,
}

/// A target with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricTarget {
    pub target: Target,
    pub source: Option<String>,
    pub reference: Option<String>,
}

/// A figure: a value of a metric for an organisation (or the system) in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPoint {
    pub metric: String,
    pub organisation: Option<OdsCode>,
    pub period: Period,
    pub value: Decimal,
    /// The figure verbatim as the source prints it.
    pub as_written: Option<String>,
    pub note: Option<String>,
    pub reference: Option<String>,
}

impl DataPoint {
    /// A register's quarterly figure: part of the metric's history, but not rated or drawn
    /// against its trajectory, whose targets are yearly. A quarter's count (training sessions,
    /// new lease cars) is not comparable with a year's target; the register's figure for the
    /// financial year is, and it is there beside the quarters.
    pub fn is_register_quarter(&self) -> bool {
        matches!(self.period, crate::period::Period::Quarter { .. })
            && self
                .reference
                .as_deref()
                .is_some_and(|r| r.starts_with(crate::register::POINT_REFERENCE))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStudy {
    pub id: String,
    pub title: String,
    pub area: Option<String>,
    pub organisations: Vec<OdsCode>,
    pub text: String,
    pub reference: Option<String>,
}

/// A vision of the previous plan with its objective and progress (Appendix 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vision {
    pub id: String,
    pub vision: String,
    pub area_as_written: Option<String>,
    pub areas: Vec<String>,
    pub objective: String,
    pub progress: Vec<String>,
    pub reference: Option<String>,
}

impl Plan {
    pub fn organisation(&self, code: &OdsCode) -> Option<&Organisation> {
        self.organisations.iter().find(|o| &o.code == code)
    }

    pub fn metric(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    /// The actions a person may post updates on: those their organisations lead (and, for
    /// the ICB's contributors, the system actions), in plan order.
    pub fn actions_for(&self, access: &crate::access::Access) -> Vec<&Action> {
        self.actions
            .iter()
            .filter(|a| access.can_update_action(a, self))
            .collect()
    }
}
