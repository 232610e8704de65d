//! The scheme register: the system ePMO's list of transformation schemes, and the "Greener
//! NHS" tag the plan's action CT1 asks for ("Use the system ePMO to include Greener NHS tag to
//! highlight how schemes contribute to net zero/sustainability").
//!
//! A scheme carries the tag only once its sustainability impact has been *duly considered*:
//! a reviewed Sustainability Impact Assessment of that scheme, or a recorded reason (who,
//! when, why) where an assessment is not proportionate. [`consider_by_assessment`] and
//! [`consider_by_reason`] are the only ways to build a [`Consideration`], so the rule holds
//! wherever a tag is set. The metric is the share of *new* schemes (started in a period) that
//! have been duly considered ([`due_consideration`]).

use crate::ods::OdsCode;
use crate::period::{FinancialYear, Quarter};
use crate::sia::{Assessment, SiaStatus};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a scheme stands in the ePMO's life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Idea,
    BusinessCase,
    Approved,
    Delivery,
    Closed,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Idea,
        Stage::BusinessCase,
        Stage::Approved,
        Stage::Delivery,
        Stage::Closed,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Stage::Idea => "idea",
            Stage::BusinessCase => "business-case",
            Stage::Approved => "approved",
            Stage::Delivery => "delivery",
            Stage::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Idea => "Idea",
            Stage::BusinessCase => "Business case",
            Stage::Approved => "Approved",
            Stage::Delivery => "In delivery",
            Stage::Closed => "Closed",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a stage could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage `{0}`: use idea, business-case, approved, delivery or closed")]
pub struct UnknownStage(pub String);

impl FromStr for Stage {
    type Err = UnknownStage;
    /// Reads a slug or a label, in any case ("Business case", "business-case").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_lowercase().replace(' ', "-");
        Stage::ALL
            .into_iter()
            .find(|st| st.slug() == key || st.label().to_lowercase().replace(' ', "-") == key)
            .ok_or_else(|| UnknownStage(s.to_string()))
    }
}

/// How a scheme's sustainability impact was duly considered: what the "Greener NHS" tag
/// rests on. Built only by [`consider_by_assessment`] or [`consider_by_reason`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Consideration {
    /// A reviewed Sustainability Impact Assessment of this scheme.
    Assessed { sia: i64 },
    /// A recorded reason, where an assessment is not proportionate.
    Reason { by: String, at: i64, why: String },
}

/// Why a scheme cannot be tagged "Greener NHS".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error(
        "SIA {sia} is {status}: only a reviewed Sustainability Impact Assessment tags a scheme; ask a reviewer to review it, or record a reason instead"
    )]
    NotReviewed { sia: i64, status: SiaStatus },
    #[error("SIA {sia} assesses another scheme (or none): link it to this scheme first")]
    OtherScheme { sia: i64 },
    #[error(
        "say why the scheme's sustainability impact needs no assessment (for example: a contract extension with no change to the service)"
    )]
    NoReason,
    #[error("the reason must say who recorded it")]
    NoAuthor,
}

/// Tags scheme `scheme` on the strength of an assessment: it must assess this scheme and be
/// reviewed.
pub fn consider_by_assessment(
    scheme: i64,
    assessment: &Assessment,
) -> Result<Consideration, TagError> {
    if assessment.scheme != Some(scheme) {
        return Err(TagError::OtherScheme { sia: assessment.id });
    }
    if assessment.status != SiaStatus::Reviewed {
        return Err(TagError::NotReviewed {
            sia: assessment.id,
            status: assessment.status,
        });
    }
    Ok(Consideration::Assessed { sia: assessment.id })
}

/// Tags a scheme on a recorded reason: who, when (Unix seconds) and why, none of them empty.
pub fn consider_by_reason(by: &str, at: i64, why: &str) -> Result<Consideration, TagError> {
    if by.trim().is_empty() {
        return Err(TagError::NoAuthor);
    }
    if why.trim().is_empty() {
        return Err(TagError::NoReason);
    }
    Ok(Consideration::Reason {
        by: by.trim().to_string(),
        at,
        why: why.trim().to_string(),
    })
}

/// A scheme on the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    pub id: i64,
    pub details: SchemeDetails,
    pub consideration: Option<Consideration>,
    pub archived: bool,
}

impl Scheme {
    /// Tagged "Greener NHS": its sustainability impact has been duly considered.
    pub fn is_greener_nhs(&self) -> bool {
        self.consideration.is_some()
    }
}

/// What a person enters about a scheme (the register's columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeDetails {
    pub name: String,
    /// The person (or role) who owns the scheme.
    pub owner: String,
    pub organisation: OdsCode,
    pub stage: Stage,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// Priority actions the scheme delivers (e.g. `CT1`).
    pub actions: Vec<String>,
    pub description: String,
}

/// What is wrong with a scheme's details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("give the scheme a name")]
    NoName,
    #[error("say who owns the scheme (a person or a role)")]
    NoOwner,
    #[error("the end date {end} is before the start date {start}")]
    EndsBeforeStart { start: NaiveDate, end: NaiveDate },
}

impl SchemeDetails {
    /// Trims the text and checks the details.
    pub fn checked(mut self) -> Result<Self, SchemeError> {
        self.name = self.name.trim().to_string();
        self.owner = self.owner.trim().to_string();
        self.description = self.description.trim().replace("\r\n", "\n");
        if self.name.is_empty() {
            return Err(SchemeError::NoName);
        }
        if self.owner.is_empty() {
            return Err(SchemeError::NoOwner);
        }
        if let (Some(start), Some(end)) = (self.start, self.end)
            && end < start
        {
            return Err(SchemeError::EndsBeforeStart { start, end });
        }
        Ok(self)
    }
}

/// The plan's metric for schemes: of the schemes started in a period, how many were duly
/// considered (tagged), and how many of those by an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsiderationFigures {
    /// "Q1 2025/26" or "2025/26".
    pub period: String,
    pub new_schemes: u32,
    pub considered: u32,
    /// Considered by a reviewed SIA (the plan's "schemes using SIA to inform development").
    pub by_assessment: u32,
    /// `considered / new_schemes` as a percentage to one decimal place; `None` when no
    /// scheme started in the period.
    pub share: Option<Decimal>,
}

/// The share of schemes started between `from` and `to` (inclusive) that were duly
/// considered. Archived schemes (withdrawn from the register) and schemes with no start date
/// are left out: neither is a new scheme of the period.
pub fn due_consideration(
    schemes: &[Scheme],
    period: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> ConsiderationFigures {
    let new: Vec<&Scheme> = schemes
        .iter()
        .filter(|s| !s.archived)
        .filter(|s| s.details.start.is_some_and(|d| from <= d && d <= to))
        .collect();
    let considered = new.iter().filter(|s| s.is_greener_nhs()).count() as u32;
    let by_assessment = new
        .iter()
        .filter(|s| matches!(s.consideration, Some(Consideration::Assessed { .. })))
        .count() as u32;
    let new_schemes = new.len() as u32;
    ConsiderationFigures {
        period: period.to_string(),
        new_schemes,
        considered,
        by_assessment,
        share: percent(considered, new_schemes),
    }
}

/// `part / whole` as a percentage to one decimal place, or `None` when `whole` is zero.
pub fn percent(part: u32, whole: u32) -> Option<Decimal> {
    (whole > 0).then(|| {
        (Decimal::from(part) * Decimal::from(100) / Decimal::from(whole))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    })
}

/// The metric for each quarter of `year` and then the year itself.
pub fn due_consideration_in_year(
    schemes: &[Scheme],
    year: FinancialYear,
) -> Vec<ConsiderationFigures> {
    let mut rows: Vec<ConsiderationFigures> = (1..=4)
        .map(|number| Quarter { year, number })
        .map(|q| due_consideration(schemes, &q.to_string(), q.start(), q.end()))
        .collect();
    rows.push(due_consideration(
        schemes,
        &year.to_string(),
        year.start(),
        year.end(),
    ));
    rows
}

/// True for the plan metric the register's figures belong on: one about schemes and the
/// Sustainability Impact Assessment (the built-in plan's `sia-schemes`, CT2's "Number of
/// schemes using SIA to inform development"). Found by its words, not an id, so another
/// ICS's plan with such a metric gets the figures too.
pub fn is_scheme_metric(name: &str) -> bool {
    let n = name.to_lowercase();
    n.contains("scheme") && (n.contains("sustainability impact assessment") || n.contains("sia"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sia::{Assessment, SiaStatus};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn scheme(id: i64, start: Option<&str>, consideration: Option<Consideration>) -> Scheme {
        Scheme {
            id,
            details: SchemeDetails {
                name: format!("scheme {id}"),
                owner: "Transformation lead".into(),
                organisation: OdsCode::parse("RTG").unwrap(),
                stage: Stage::Delivery,
                start: start.map(day),
                end: None,
                actions: vec!["CT1".into()],
                description: String::new(),
            },
            consideration,
            archived: false,
        }
    }

    fn assessment(id: i64, scheme: Option<i64>, status: SiaStatus) -> Assessment {
        let mut a = Assessment::blank(OdsCode::parse("RTG").unwrap(), "x", "someone", 0);
        a.id = id;
        a.scheme = scheme;
        a.status = status;
        a
    }

    #[test]
    fn only_a_reviewed_assessment_of_the_scheme_tags_it() {
        assert_eq!(
            consider_by_assessment(7, &assessment(3, Some(7), SiaStatus::Reviewed)),
            Ok(Consideration::Assessed { sia: 3 })
        );
        for status in [SiaStatus::Draft, SiaStatus::Submitted, SiaStatus::Returned] {
            assert_eq!(
                consider_by_assessment(7, &assessment(3, Some(7), status)),
                Err(TagError::NotReviewed { sia: 3, status })
            );
        }
        assert_eq!(
            consider_by_assessment(7, &assessment(3, Some(8), SiaStatus::Reviewed)),
            Err(TagError::OtherScheme { sia: 3 })
        );
        assert_eq!(
            consider_by_assessment(7, &assessment(3, None, SiaStatus::Reviewed)),
            Err(TagError::OtherScheme { sia: 3 })
        );
    }

    #[test]
    fn a_reason_needs_who_and_why() {
        assert_eq!(
            consider_by_reason("lead@nhs.net", 10, "  "),
            Err(TagError::NoReason)
        );
        assert_eq!(consider_by_reason(" ", 10, "why"), Err(TagError::NoAuthor));
        assert_eq!(
            consider_by_reason(" lead@nhs.net ", 10, " Contract extension only "),
            Ok(Consideration::Reason {
                by: "lead@nhs.net".into(),
                at: 10,
                why: "Contract extension only".into()
            })
        );
    }

    #[test]
    fn details_are_checked() {
        let d = scheme(1, Some("2025-05-01"), None).details;
        assert_eq!(
            SchemeDetails {
                end: Some(day("2025-04-30")),
                ..d.clone()
            }
            .checked(),
            Err(SchemeError::EndsBeforeStart {
                start: day("2025-05-01"),
                end: day("2025-04-30")
            })
        );
        assert_eq!(
            SchemeDetails {
                name: " ".into(),
                ..d.clone()
            }
            .checked(),
            Err(SchemeError::NoName)
        );
        assert!(d.checked().is_ok());
        assert_eq!("Business case".parse::<Stage>(), Ok(Stage::BusinessCase));
        assert_eq!("delivery".parse::<Stage>(), Ok(Stage::Delivery));
        assert!("done".parse::<Stage>().is_err());
    }

    /// Three schemes start in Q1 2025/26 (one tagged by an SIA, one by a reason), one in Q3
    /// (untagged), one before the year, one archived and one with no start: Q1 is 2 of 3 =
    /// 66.7%, Q3 0 of 1 = 0%, Q2 and Q4 have none, the year 2 of 4 = 50%.
    #[test]
    fn share_of_new_schemes_with_due_consideration() {
        let reason = consider_by_reason("a", 1, "b").unwrap();
        let mut archived = scheme(6, Some("2025-06-01"), None);
        archived.archived = true;
        let schemes = vec![
            scheme(
                1,
                Some("2025-04-01"),
                Some(Consideration::Assessed { sia: 9 }),
            ),
            scheme(2, Some("2025-06-30"), Some(reason)),
            scheme(3, Some("2025-05-15"), None),
            scheme(4, Some("2025-12-01"), None),
            scheme(5, Some("2025-03-31"), None),
            archived,
            scheme(7, None, None),
        ];
        let rows = due_consideration_in_year(&schemes, FinancialYear(2025));
        let summary: Vec<(&str, u32, u32, u32, Option<Decimal>)> = rows
            .iter()
            .map(|r| {
                (
                    r.period.as_str(),
                    r.new_schemes,
                    r.considered,
                    r.by_assessment,
                    r.share,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Q1 2025/26", 3, 2, 1, Some("66.7".parse().unwrap())),
                ("Q2 2025/26", 0, 0, 0, None),
                ("Q3 2025/26", 1, 0, 0, Some(Decimal::ZERO)),
                ("Q4 2025/26", 0, 0, 0, None),
                ("2025/26", 4, 2, 1, Some(Decimal::from(50))),
            ]
        );
    }

    #[test]
    fn the_plans_scheme_metric_is_found_by_its_words() {
        assert!(is_scheme_metric(
            "Schemes using the Sustainability Impact Assessment to inform development"
        ));
        assert!(!is_scheme_metric(
            "EMAS Sustainability Impact Assessments produced"
        ));
    }
}
