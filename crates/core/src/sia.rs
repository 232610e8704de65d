//! Sustainability Impact Assessment (SIA): a short form for any policy, project or service
//! change (the plan's action CT2, after EMAS's form of September 2024). Each facet of
//! sustainability is rated positive, neutral, negative or unknown with a reason, and every
//! negative needs a mitigation before the form can be submitted.
//!
//! Workflow: draft → submitted → reviewed, or returned with a comment (and then edited and
//! submitted again). Contributors of the organisation draft and submit; an organisation admin
//! of that organisation or a system admin reviews, never the person who submitted it.
//!
//! Statistics as the Derbyshire plan reports EMAS's ("60 SIAs have been produced and 80% of
//! those with sustainability impacts have identified mitigations"): [`statistics`].

use crate::access::Access;
use crate::ods::OdsCode;
use crate::scheme::percent;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A facet of sustainability the form asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Facet {
    EnergyAndCarbon,
    TravelAndTransport,
    WasteAndResources,
    AirQuality,
    SocialValueAndInequalities,
    AdaptationAndResilience,
    Procurement,
    Digital,
}

impl Facet {
    pub const ALL: [Facet; 8] = [
        Facet::EnergyAndCarbon,
        Facet::TravelAndTransport,
        Facet::WasteAndResources,
        Facet::AirQuality,
        Facet::SocialValueAndInequalities,
        Facet::AdaptationAndResilience,
        Facet::Procurement,
        Facet::Digital,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Facet::EnergyAndCarbon => "energy-and-carbon",
            Facet::TravelAndTransport => "travel-and-transport",
            Facet::WasteAndResources => "waste-and-resources",
            Facet::AirQuality => "air-quality",
            Facet::SocialValueAndInequalities => "social-value-and-inequalities",
            Facet::AdaptationAndResilience => "adaptation-and-resilience",
            Facet::Procurement => "procurement",
            Facet::Digital => "digital",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Facet::EnergyAndCarbon => "Energy and carbon",
            Facet::TravelAndTransport => "Travel and transport",
            Facet::WasteAndResources => "Waste and resources",
            Facet::AirQuality => "Air quality",
            Facet::SocialValueAndInequalities => "Social value and inequalities",
            Facet::AdaptationAndResilience => "Adaptation and resilience",
            Facet::Procurement => "Procurement",
            Facet::Digital => "Digital",
        }
    }

    /// The question the form asks, in plain words.
    pub fn question(self) -> &'static str {
        match self {
            Facet::EnergyAndCarbon => {
                "Will the change use more or less energy (buildings, equipment), or change carbon emissions in other ways?"
            }
            Facet::TravelAndTransport => {
                "Will staff, patients or visitors travel more or less, or differently (by car, public transport, walking or cycling)?"
            }
            Facet::WasteAndResources => {
                "Will the change create more or less waste, or use more or fewer single-use items, water or materials?"
            }
            Facet::AirQuality => {
                "Will the change affect air pollution near our sites or in the communities we serve?"
            }
            Facet::SocialValueAndInequalities => {
                "Will the change affect health inequalities, local employment or social value?"
            }
            Facet::AdaptationAndResilience => {
                "Will the service cope with heatwaves, flooding and other severe weather?"
            }
            Facet::Procurement => {
                "Does the change buy goods or services, and do they meet net zero and social value requirements (PPN 06/20, 06/21)?"
            }
            Facet::Digital => {
                "Will the change use digital services or devices, and their energy, data and equipment?"
            }
        }
    }
}

/// How a change affects a facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    Positive,
    Neutral,
    Negative,
    Unknown,
}

impl Impact {
    pub const ALL: [Impact; 4] = [
        Impact::Positive,
        Impact::Neutral,
        Impact::Negative,
        Impact::Unknown,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Impact::Positive => "positive",
            Impact::Neutral => "neutral",
            Impact::Negative => "negative",
            Impact::Unknown => "unknown",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Impact::Positive => "Positive",
            Impact::Neutral => "Neutral",
            Impact::Negative => "Negative",
            Impact::Unknown => "Not known yet",
        }
    }

    /// The NHS tag colour it is shown with.
    pub fn colour(self) -> &'static str {
        match self {
            Impact::Positive => "green",
            Impact::Neutral => "grey",
            Impact::Negative => "red",
            Impact::Unknown => "yellow",
        }
    }
}

impl FromStr for Impact {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Impact::ALL
            .into_iter()
            .find(|i| i.slug() == s.trim())
            .ok_or_else(|| {
                format!("unknown impact `{s}`: use positive, neutral, negative or unknown")
            })
    }
}

/// One facet of a form, as filled in so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetAssessment {
    pub facet: Facet,
    pub impact: Option<Impact>,
    pub reason: String,
    /// What will be done to reduce a negative impact.
    pub mitigation: String,
}

impl FacetAssessment {
    fn is_mitigated_negative(&self) -> bool {
        self.impact == Some(Impact::Negative) && !self.mitigation.trim().is_empty()
    }
}

/// Where an assessment is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiaStatus {
    Draft,
    Submitted,
    Reviewed,
    Returned,
}

impl SiaStatus {
    pub const ALL: [SiaStatus; 4] = [
        SiaStatus::Draft,
        SiaStatus::Submitted,
        SiaStatus::Reviewed,
        SiaStatus::Returned,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            SiaStatus::Draft => "draft",
            SiaStatus::Submitted => "submitted",
            SiaStatus::Reviewed => "reviewed",
            SiaStatus::Returned => "returned",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SiaStatus::Draft => "Draft",
            SiaStatus::Submitted => "Submitted for review",
            SiaStatus::Reviewed => "Reviewed",
            SiaStatus::Returned => "Returned for changes",
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            SiaStatus::Draft => "grey",
            SiaStatus::Submitted => "blue",
            SiaStatus::Reviewed => "green",
            SiaStatus::Returned => "orange",
        }
    }

    /// The form can still be changed by its organisation's contributors.
    pub fn is_editable(self) -> bool {
        matches!(self, SiaStatus::Draft | SiaStatus::Returned)
    }
}

impl fmt::Display for SiaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for SiaStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SiaStatus::ALL
            .into_iter()
            .find(|x| x.slug() == s.trim())
            .ok_or_else(|| format!("unknown SIA status `{s}`"))
    }
}

/// A Sustainability Impact Assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: i64,
    /// The policy, project or service change assessed.
    pub title: String,
    pub organisation: OdsCode,
    /// The scheme on the register it assesses, if any.
    pub scheme: Option<i64>,
    pub description: String,
    /// One per facet, in [`Facet::ALL`] order.
    pub facets: Vec<FacetAssessment>,
    pub status: SiaStatus,
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<i64>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    /// The reviewer's comment (required when returning the form).
    pub review_comment: Option<String>,
}

impl Assessment {
    /// A new draft with every facet unrated.
    pub fn blank(organisation: OdsCode, title: &str, created_by: &str, created_at: i64) -> Self {
        Self {
            id: 0,
            title: title.to_string(),
            organisation,
            scheme: None,
            description: String::new(),
            facets: Facet::ALL
                .into_iter()
                .map(|facet| FacetAssessment {
                    facet,
                    impact: None,
                    reason: String::new(),
                    mitigation: String::new(),
                })
                .collect(),
            status: SiaStatus::Draft,
            created_by: created_by.to_string(),
            created_at,
            submitted_by: None,
            submitted_at: None,
            reviewed_by: None,
            reviewed_at: None,
            review_comment: None,
        }
    }

    /// Rates at least one facet negative.
    pub fn has_negative(&self) -> bool {
        self.facets
            .iter()
            .any(|f| f.impact == Some(Impact::Negative))
    }

    /// Has a negative facet, and a mitigation for every one.
    pub fn negatives_all_mitigated(&self) -> bool {
        self.has_negative()
            && self
                .facets
                .iter()
                .filter(|f| f.impact == Some(Impact::Negative))
                .all(FacetAssessment::is_mitigated_negative)
    }
}

/// Something to fix before a form can be submitted. `field` names the form field, so the
/// page's error summary can link to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiaProblem {
    #[error("Say what policy, project or service change is being assessed")]
    NoTitle,
    #[error("{}: choose positive, neutral, negative or not known yet", .0.label())]
    NotRated(Facet),
    #[error("{}: give the reason for the rating", .0.label())]
    NoReason(Facet),
    #[error("{}: the impact is negative, so say how it will be mitigated", .0.label())]
    NoMitigation(Facet),
}

impl SiaProblem {
    /// The form field to correct.
    pub fn field(&self) -> String {
        match self {
            SiaProblem::NoTitle => "title".into(),
            SiaProblem::NotRated(f) => format!("impact-{}", f.slug()),
            SiaProblem::NoReason(f) => format!("reason-{}", f.slug()),
            SiaProblem::NoMitigation(f) => format!("mitigation-{}", f.slug()),
        }
    }
}

/// Everything that stops `assessment` being submitted (empty: it may be).
pub fn problems_before_submission(assessment: &Assessment) -> Vec<SiaProblem> {
    let mut problems = Vec::new();
    if assessment.title.trim().is_empty() {
        problems.push(SiaProblem::NoTitle);
    }
    for facet in Facet::ALL {
        let Some(f) = assessment.facets.iter().find(|f| f.facet == facet) else {
            problems.push(SiaProblem::NotRated(facet));
            continue;
        };
        match f.impact {
            None => problems.push(SiaProblem::NotRated(facet)),
            Some(impact) => {
                if f.reason.trim().is_empty() {
                    problems.push(SiaProblem::NoReason(facet));
                }
                if impact == Impact::Negative && f.mitigation.trim().is_empty() {
                    problems.push(SiaProblem::NoMitigation(facet));
                }
            }
        }
    }
    problems
}

/// A move in the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Submit,
    Review { comment: String },
    Return { comment: String },
}

impl Step {
    /// The audit trail's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Review { .. } => "review",
            Step::Return { .. } => "return",
        }
    }
}

/// Why a workflow step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("only contributors of the organisation that owns this assessment can submit it")]
    CannotSubmit,
    #[error(
        "only an organisation admin of the organisation that owns this assessment, or a system admin, can review it"
    )]
    CannotReview,
    #[error("you submitted this assessment, so someone else must review it")]
    OwnSubmission,
    #[error("the assessment is {status}: it cannot be {step}ed now")]
    WrongStatus {
        status: SiaStatus,
        step: &'static str,
    },
    #[error("the assessment is not complete: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<SiaProblem>),
    #[error("say what needs to change before the assessment is submitted again")]
    NoComment,
}

/// May `access` change the form's answers (a draft or a returned form, by its organisation's
/// contributors)?
pub fn may_edit(assessment: &Assessment, access: &Access) -> bool {
    assessment.status.is_editable() && access.can_contribute_for(&assessment.organisation)
}

/// Checks a workflow step by `who` (with `access`) and gives the status it leads to.
pub fn check_step(
    assessment: &Assessment,
    step: &Step,
    who: &str,
    access: &Access,
) -> Result<SiaStatus, WorkflowError> {
    let wrong = || WorkflowError::WrongStatus {
        status: assessment.status,
        step: step.name(),
    };
    match step {
        Step::Submit => {
            if !access.can_contribute_for(&assessment.organisation) {
                return Err(WorkflowError::CannotSubmit);
            }
            if !assessment.status.is_editable() {
                return Err(wrong());
            }
            let problems = problems_before_submission(assessment);
            if !problems.is_empty() {
                return Err(WorkflowError::Incomplete(problems));
            }
            Ok(SiaStatus::Submitted)
        }
        Step::Review { .. } | Step::Return { .. } => {
            if !access.can_review_for(&assessment.organisation) {
                return Err(WorkflowError::CannotReview);
            }
            if assessment.status != SiaStatus::Submitted {
                return Err(wrong());
            }
            if assessment.submitted_by.as_deref() == Some(who) {
                return Err(WorkflowError::OwnSubmission);
            }
            match step {
                Step::Return { comment } if comment.trim().is_empty() => {
                    Err(WorkflowError::NoComment)
                }
                Step::Return { .. } => Ok(SiaStatus::Returned),
                _ => Ok(SiaStatus::Reviewed),
            }
        }
    }
}

/// The SIA statistics for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiaStatistics {
    pub period: String,
    /// Assessments started in the period (drafts included: a form in progress is an SIA
    /// being produced).
    pub started: u32,
    /// Of those, submitted or reviewed.
    pub completed: u32,
    /// Of those started, rating at least one facet negative.
    pub with_negative: u32,
    /// Of those with a negative, identifying a mitigation for every negative.
    pub mitigated: u32,
    /// `mitigated / with_negative` as a percentage to one decimal place.
    pub mitigated_share: Option<Decimal>,
}

/// Statistics of the assessments started between `from` and `to` inclusive (dates of
/// `created_at` in UTC). A submitted form has mitigations for every negative by rule, so the
/// share falls below 100% only for drafts and returned forms still missing them: the figure
/// shows how much assessment is still to be finished.
pub fn statistics(
    assessments: &[Assessment],
    period: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> SiaStatistics {
    let started: Vec<&Assessment> = assessments
        .iter()
        .filter(|a| {
            chrono::DateTime::from_timestamp(a.created_at, 0)
                .is_some_and(|t| from <= t.date_naive() && t.date_naive() <= to)
        })
        .collect();
    let completed = started
        .iter()
        .filter(|a| matches!(a.status, SiaStatus::Submitted | SiaStatus::Reviewed))
        .count() as u32;
    let with_negative = started.iter().filter(|a| a.has_negative()).count() as u32;
    let mitigated = started
        .iter()
        .filter(|a| a.negatives_all_mitigated())
        .count() as u32;
    SiaStatistics {
        period: period.to_string(),
        started: started.len() as u32,
        completed,
        with_negative,
        mitigated,
        mitigated_share: percent(mitigated, with_negative),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Membership, Role};

    fn rtg() -> OdsCode {
        OdsCode::parse("RTG").unwrap()
    }

    fn access(org: &str, role: Role) -> Access {
        Access::new(vec![Membership {
            organisation: OdsCode::parse(org).unwrap(),
            role,
        }])
    }

    /// Every facet rated neutral with a reason, then `negative` facets rated negative.
    fn filled(negative: &[(Facet, &str)]) -> Assessment {
        let mut a = Assessment::blank(rtg(), "Virtual ward for frailty", "c@nhs.net", 0);
        for f in &mut a.facets {
            f.impact = Some(Impact::Neutral);
            f.reason = "No change".into();
            if let Some((_, m)) = negative.iter().find(|(n, _)| *n == f.facet) {
                f.impact = Some(Impact::Negative);
                f.mitigation = m.to_string();
            }
        }
        a
    }

    #[test]
    fn a_form_needs_every_facet_rated_with_a_reason_and_negatives_mitigated() {
        let blank = Assessment::blank(rtg(), " ", "c", 0);
        let problems = problems_before_submission(&blank);
        assert_eq!(problems.len(), 9, "no title and eight unrated facets");
        assert_eq!(problems[0], SiaProblem::NoTitle);
        assert_eq!(problems[1].field(), "impact-energy-and-carbon");

        let mut a = filled(&[(Facet::TravelAndTransport, "  ")]);
        a.facets[7].reason = String::new();
        assert_eq!(
            problems_before_submission(&a),
            vec![
                SiaProblem::NoMitigation(Facet::TravelAndTransport),
                SiaProblem::NoReason(Facet::Digital)
            ]
        );
        assert_eq!(
            SiaProblem::NoMitigation(Facet::TravelAndTransport).to_string(),
            "Travel and transport: the impact is negative, so say how it will be mitigated"
        );
        assert!(
            problems_before_submission(&filled(&[(Facet::TravelAndTransport, "Pool cars")]))
                .is_empty()
        );
    }

    #[test]
    fn workflow_by_role() {
        let contributor = access("RTG", Role::Contributor);
        let other_trust = access("RFS", Role::Contributor);
        let org_admin = access("RTG", Role::OrganisationAdmin);
        let other_admin = access("RFS", Role::OrganisationAdmin);
        let system = access("QJ2", Role::SystemAdmin);
        let viewer = access("RTG", Role::Viewer);

        let mut a = filled(&[]);
        assert_eq!(
            check_step(&a, &Step::Submit, "c@nhs.net", &contributor),
            Ok(SiaStatus::Submitted)
        );
        assert_eq!(
            check_step(&a, &Step::Submit, "x", &other_trust),
            Err(WorkflowError::CannotSubmit)
        );
        assert_eq!(
            check_step(&a, &Step::Submit, "v", &viewer),
            Err(WorkflowError::CannotSubmit)
        );
        let review = Step::Review {
            comment: String::new(),
        };
        assert_eq!(
            check_step(&a, &review, "admin", &org_admin),
            Err(WorkflowError::WrongStatus {
                status: SiaStatus::Draft,
                step: "review"
            })
        );
        a.status = SiaStatus::Submitted;
        a.submitted_by = Some("admin@nhs.net".into());
        assert!(!may_edit(&a, &contributor), "a submitted form is frozen");
        assert_eq!(
            check_step(&a, &review, "admin@nhs.net", &org_admin),
            Err(WorkflowError::OwnSubmission)
        );
        assert_eq!(
            check_step(&a, &review, "c@nhs.net", &contributor),
            Err(WorkflowError::CannotReview)
        );
        assert_eq!(
            check_step(&a, &review, "o", &other_admin),
            Err(WorkflowError::CannotReview)
        );
        assert_eq!(
            check_step(&a, &review, "lead", &system),
            Ok(SiaStatus::Reviewed)
        );
        assert_eq!(
            check_step(
                &a,
                &Step::Return {
                    comment: " ".into()
                },
                "o",
                &org_admin
            ),
            Err(WorkflowError::NoComment)
        );
        assert_eq!(
            check_step(
                &a,
                &Step::Return {
                    comment: "Travel needs more".into()
                },
                "o",
                &org_admin
            ),
            Ok(SiaStatus::Returned)
        );
        a.status = SiaStatus::Returned;
        assert!(may_edit(&a, &contributor));
        assert!(!may_edit(&a, &other_trust));
        a.facets[0].impact = None;
        assert_eq!(
            check_step(&a, &Step::Submit, "c@nhs.net", &contributor),
            Err(WorkflowError::Incomplete(vec![SiaProblem::NotRated(
                Facet::EnergyAndCarbon
            )]))
        );
    }

    /// Five forms started in Q1 2025/26 (1 April 2025 is 1743465600): two with no negative,
    /// two with every negative mitigated, one draft with a negative not yet mitigated; one
    /// started the day before. 5 started, 3 completed, 3 with negatives, 2 mitigated = 66.7%.
    #[test]
    fn statistics_as_the_plan_reports_them() {
        let april = 1_743_465_600;
        let at = |a: Assessment, t: i64, status: SiaStatus| Assessment {
            created_at: t,
            status,
            ..a
        };
        let mut unmitigated = filled(&[(Facet::Procurement, "")]);
        unmitigated.facets[6].mitigation.clear();
        let assessments = vec![
            at(filled(&[]), april, SiaStatus::Reviewed),
            at(filled(&[]), april + 86_400 * 30, SiaStatus::Draft),
            at(
                filled(&[(Facet::AirQuality, "Electric vans")]),
                april + 3600,
                SiaStatus::Submitted,
            ),
            at(
                filled(&[
                    (Facet::AirQuality, "Electric vans"),
                    (Facet::Digital, "Reuse laptops"),
                ]),
                april + 86_400 * 90,
                SiaStatus::Reviewed,
            ),
            at(unmitigated, april + 86_400 * 60, SiaStatus::Draft),
            at(filled(&[]), april - 1, SiaStatus::Reviewed),
        ];
        let q1 = crate::period::Quarter::parse("Q1 2025/26").unwrap();
        let s = statistics(&assessments, "Q1 2025/26", q1.start(), q1.end());
        assert_eq!(
            (s.started, s.completed, s.with_negative, s.mitigated),
            (5, 3, 3, 2)
        );
        assert_eq!(s.mitigated_share, Some("66.7".parse().unwrap()));
        let none = statistics(&[], "x", q1.start(), q1.end());
        assert_eq!(none.mitigated_share, None);
    }
}
