//! Adaptation: the climate risk register (per site and service), emergency-planning exercises
//! and what they found, extreme-weather admissions, and the heat-map of risks by site and
//! hazard.
//!
//! A risk is scored as NHS risk registers score on the 5×5 matrix: likelihood (1 rare … 5
//! almost certain) times impact (1 negligible … 5 catastrophic), banded low (1-3), moderate
//! (4-6), high (8-12) and extreme (15-25). A risk whose review date has passed is overdue;
//! "today" is passed in, as everywhere in core. A risk register is a standing list rather than
//! a flow, so its period figures count the reviews that fall due in the period.

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, end_not_before_start, years_and_quarters,
};
use chrono::NaiveDate;
use std::collections::BTreeMap;

pub const HAZARDS: &[Choice] = &[
    Choice {
        slug: "flooding",
        label: "Flooding",
    },
    Choice {
        slug: "heatwave",
        label: "Heatwave",
    },
    Choice {
        slug: "cold",
        label: "Cold weather",
    },
    Choice {
        slug: "storm",
        label: "Storm",
    },
    Choice {
        slug: "supply-chain",
        label: "Supply chain disruption",
    },
    Choice {
        slug: "other",
        label: "Other",
    },
];

pub const RISKS: Register = Register {
    slug: "climate-risks",
    title: "Adaptation: climate risk register",
    area: "adaptation",
    summary: "Climate-related risks to each site and service: the hazard, likelihood and impact on the 5×5 matrix, the owner, the controls and mitigations, and when the risk is next reviewed.",
    fields: &[
        ORGANISATION,
        Field::new("site", "Site", FieldKind::Text).hint("e.g. Royal Derby Hospital"),
        Field::new("service", "Service", FieldKind::Text).hint("e.g. Outpatients"),
        Field::new("hazard", "Hazard", FieldKind::Choice(HAZARDS)),
        Field::new("description", "Risk", FieldKind::Text).hint("What could happen, and to whom"),
        Field::new("likelihood", "Likelihood", FieldKind::Whole)
            .hint("1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain"),
        Field::new("impact", "Impact", FieldKind::Whole)
            .hint("1 negligible, 2 minor, 3 moderate, 4 major, 5 catastrophic"),
        Field::new("owner", "Owner", FieldKind::Text)
            .hint("The role that owns the risk, e.g. Head of EPRR"),
        Field::new("controls", "Controls and mitigations", FieldKind::Text).optional(),
        Field::new("review_date", "Review date", FieldKind::Date),
    ],
    name_field: "description",
    filter_field: Some("hazard"),
    cross_check: Some(risk_check),
    metrics: risk_metrics,
    periods: risk_periods,
};

fn risk_check(r: &Record) -> Vec<FieldError> {
    [
        (
            "likelihood",
            "Likelihood",
            "1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain",
        ),
        (
            "impact",
            "Impact",
            "1 negligible, 2 minor, 3 moderate, 4 major, 5 catastrophic",
        ),
    ]
    .into_iter()
    .filter_map(|(field, label, scale)| {
        let value = r.whole(field)?;
        (!(1..=5).contains(&value)).then(|| FieldError {
            field,
            message: format!(
                "{label}: {value} is not on the scale; give a whole number from 1 to 5 ({scale})"
            ),
        })
    })
    .collect()
}

/// The band of a score on the 5×5 matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    Low,
    Moderate,
    High,
    Extreme,
}

impl Band {
    /// The band of a score from 1 to 25.
    pub fn of(score: u64) -> Self {
        match score {
            0..=3 => Self::Low,
            4..=6 => Self::Moderate,
            7..=12 => Self::High,
            _ => Self::Extreme,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Moderate => "Moderate",
            Self::High => "High",
            Self::Extreme => "Extreme",
        }
    }

    /// The stable name a stylesheet class is built from (`risk-band--high`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Moderate => "moderate",
            Self::High => "high",
            Self::Extreme => "extreme",
        }
    }
}

/// A climate risk, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk<'r> {
    pub site: &'r str,
    pub hazard: &'r str,
    pub likelihood: u64,
    pub impact: u64,
    pub review_date: NaiveDate,
}

impl<'r> Risk<'r> {
    pub fn of(r: &'r Record) -> Option<Self> {
        Some(Self {
            site: r.text("site")?,
            hazard: r.choice("hazard")?,
            likelihood: r.whole("likelihood")?,
            impact: r.whole("impact")?,
            review_date: r.date("review_date")?,
        })
    }

    pub fn score(&self) -> u64 {
        self.likelihood * self.impact
    }

    pub fn band(&self) -> Band {
        Band::of(self.score())
    }

    /// Whether the review date has passed (a review due today is not yet overdue).
    pub fn review_overdue(&self, today: NaiveDate) -> bool {
        self.review_date < today
    }
}

fn risk_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "review_date")
}

const REVIEWS_DUE: FigureMaker =
    FigureMaker::new("risk-reviews-due", "Climate risk reviews due", "count");
const SERIOUS_DUE: FigureMaker = FigureMaker::new(
    "serious-risk-reviews-due",
    "Reviews due of high and extreme climate risks (score 8 or more)",
    "count",
);

fn risk_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let due: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("review_date").is_some_and(|d| period.contains(d)))
        .collect();
    let mut out = REVIEWS_DUE.each_scope(&due, period, |rs| {
        Some((
            rs.len().into(),
            format!("risks whose review falls in {period}"),
        ))
    });
    out.extend(SERIOUS_DUE.each_scope(&due, period, |rs| {
        let serious = rs
            .iter()
            .filter_map(|r| Risk::of(r))
            .filter(|r| r.band() >= Band::High)
            .count();
        Some((
            serious.into(),
            format!("{serious} of {} reviews due", rs.len()),
        ))
    }));
    out
}

/// Risks by band, and how many are overdue for review on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RiskSummary {
    pub low: u64,
    pub moderate: u64,
    pub high: u64,
    pub extreme: u64,
    pub overdue_reviews: u64,
}

pub fn risk_summary(risks: &[Risk<'_>], today: NaiveDate) -> RiskSummary {
    let mut s = RiskSummary::default();
    for r in risks {
        *match r.band() {
            Band::Low => &mut s.low,
            Band::Moderate => &mut s.moderate,
            Band::High => &mut s.high,
            Band::Extreme => &mut s.extreme,
        } += 1;
        s.overdue_reviews += u64::from(r.review_overdue(today));
    }
    s
}

/// One cell of the heat-map: the highest score of a site's risks from one hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatCell {
    pub score: u64,
    pub band: Band,
    /// Risks recorded for this site and hazard.
    pub risks: u64,
}

/// A site's row of the heat-map: one cell per hazard, in [`HAZARDS`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatRow {
    pub site: String,
    pub cells: Vec<Option<HeatCell>>,
}

/// Risks by site (rows, alphabetical) and hazard (columns): the highest score in each cell.
pub fn heat_map(risks: &[Risk<'_>]) -> Vec<HeatRow> {
    let mut sites: BTreeMap<&str, Vec<Option<HeatCell>>> = BTreeMap::new();
    for r in risks {
        let Some(column) = HAZARDS.iter().position(|h| h.slug == r.hazard) else {
            continue;
        };
        let row = sites
            .entry(r.site.trim())
            .or_insert_with(|| vec![None; HAZARDS.len()]);
        let cell = row[column].get_or_insert(HeatCell {
            score: 0,
            band: Band::Low,
            risks: 0,
        });
        cell.risks += 1;
        if r.score() > cell.score {
            cell.score = r.score();
            cell.band = r.band();
        }
    }
    sites
        .into_iter()
        .map(|(site, cells)| HeatRow {
            site: site.to_string(),
            cells,
        })
        .collect()
}

pub const EXERCISES: Register = Register {
    slug: "emergency-exercises",
    title: "Adaptation: emergency-planning exercises",
    area: "adaptation",
    summary: "Emergency-planning exercises on the impacts of climate change: the scenario, who took part, what was found and the actions agreed.",
    fields: &[
        ORGANISATION,
        Field::new("date", "Date", FieldKind::Date),
        Field::new("name", "Exercise", FieldKind::Text).hint("e.g. Exercise Hot Summer"),
        Field::new("scenario", "Scenario", FieldKind::Choice(HAZARDS)),
        Field::new("participants", "Participants", FieldKind::Text)
            .hint("The organisations and teams that took part"),
        Field::new("findings", "Findings", FieldKind::Text).optional(),
        Field::new("actions", "Actions", FieldKind::Text).optional(),
    ],
    name_field: "name",
    filter_field: Some("scenario"),
    cross_check: None,
    metrics: exercise_metrics,
    periods: exercise_periods,
};

fn exercise_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "date")
}

const EXERCISES_HELD: FigureMaker = FigureMaker::new(
    "exercises-held",
    "Emergency-planning exercises on climate change",
    "count",
);

fn exercise_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let held: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("date").is_some_and(|d| period.contains(d)))
        .collect();
    EXERCISES_HELD.each_scope(&held, period, |rs| {
        let names: Vec<&str> = rs.iter().map(|r| r.name()).collect();
        Some((rs.len().into(), names.join("; ")))
    })
}

pub const ADMISSIONS: Register = Register {
    slug: "weather-admissions",
    title: "Adaptation: extreme-weather admissions",
    area: "adaptation",
    summary: "Hospital admissions during extreme-weather events (heatwaves, cold snaps, floods), by place or site, to inform planning.",
    fields: &[
        ORGANISATION,
        Field::new("period_start", "First day", FieldKind::Date),
        Field::new("period_end", "Last day", FieldKind::Date),
        Field::new("place", "Place or site", FieldKind::Text).hint("e.g. Derby City"),
        Field::new("hazard", "Hazard", FieldKind::Choice(HAZARDS)),
        Field::new("admissions", "Admissions", FieldKind::Whole),
    ],
    name_field: "place",
    filter_field: Some("hazard"),
    cross_check: Some(admissions_check),
    metrics: admissions_metrics,
    periods: admissions_periods,
};

fn admissions_check(r: &Record) -> Vec<FieldError> {
    end_not_before_start(r, "period_start", "period_end")
        .into_iter()
        .collect()
}

fn admissions_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "period_end")
}

/// One figure per hazard, in [`HAZARDS`] order.
const ADMISSION_FIGURES: [FigureMaker; 6] = [
    FigureMaker::new(
        "admissions-flooding",
        "Admissions during flooding",
        "admissions",
    ),
    FigureMaker::new(
        "admissions-heatwave",
        "Admissions during heatwaves",
        "admissions",
    ),
    FigureMaker::new(
        "admissions-cold",
        "Admissions during cold weather",
        "admissions",
    ),
    FigureMaker::new("admissions-storm", "Admissions during storms", "admissions"),
    FigureMaker::new(
        "admissions-supply-chain",
        "Admissions during supply chain disruption",
        "admissions",
    ),
    FigureMaker::new(
        "admissions-other",
        "Admissions during other extreme weather",
        "admissions",
    ),
];

fn admissions_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let mut out = Vec::new();
    for (hazard, maker) in HAZARDS.iter().zip(&ADMISSION_FIGURES) {
        let of_hazard: Vec<&Record> = records
            .iter()
            .filter(|r| r.choice("hazard") == Some(hazard.slug))
            .filter(|r| r.date("period_end").is_some_and(|d| period.contains(d)))
            .collect();
        out.extend(maker.each_scope(&of_hazard, period, |rs| {
            if rs.is_empty() {
                return None;
            }
            let n: u64 = rs.iter().filter_map(|r| r.whole("admissions")).sum();
            Some((n.into(), format!("{} events", rs.len())))
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::FinancialYear;
    use rust_decimal::Decimal;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn risk(
        site: &str,
        hazard: &str,
        likelihood: &str,
        impact: &str,
        review: &str,
    ) -> Result<Record, Vec<FieldError>> {
        let row = [
            ("organisation", "RTG"),
            ("site", site),
            ("service", "Outpatients"),
            ("hazard", hazard),
            ("description", "Clinics cancelled"),
            ("likelihood", likelihood),
            ("impact", impact),
            ("owner", "Head of EPRR"),
            ("review_date", review),
        ];
        RISKS.parse(|k| row.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    #[test]
    fn scores_fall_in_the_five_by_five_bands() {
        use Band::*;
        let bands: Vec<_> = [1, 3, 4, 6, 8, 12, 15, 25]
            .into_iter()
            .map(Band::of)
            .collect();
        assert_eq!(
            bands,
            [Low, Low, Moderate, Moderate, High, High, Extreme, Extreme]
        );
    }

    #[test]
    fn heat_map_keeps_the_highest_score_per_site_and_hazard() {
        let records: Vec<Record> = [
            ("Royal Derby Hospital", "heatwave", "4", "3"),
            ("Royal Derby Hospital", "Heatwave", "5", "4"),
            ("Royal Derby Hospital", "flooding", "2", "3"),
            ("Florence Nightingale", "cold", "1", "2"),
        ]
        .iter()
        .map(|(s, h, l, i)| risk(s, h, l, i, "2026-06-01").unwrap())
        .collect();
        let risks: Vec<Risk<'_>> = records.iter().filter_map(Risk::of).collect();
        let map = heat_map(&risks);
        assert_eq!(map.len(), 2);
        assert_eq!(map[0].site, "Florence Nightingale");
        let derby = &map[1].cells;
        // Columns: flooding, heatwave, cold, storm, supply chain, other.
        assert_eq!(
            derby[1],
            Some(HeatCell {
                score: 20,
                band: Band::Extreme,
                risks: 2
            })
        );
        assert_eq!(
            derby[0],
            Some(HeatCell {
                score: 6,
                band: Band::Moderate,
                risks: 1
            })
        );
        assert_eq!(derby[2], None);
        assert_eq!(map[0].cells[2].map(|c| c.band), Some(Band::Low));
    }

    #[test]
    fn summary_counts_bands_and_overdue_reviews() {
        let records = [
            risk("A", "heatwave", "5", "4", "2025-12-31").unwrap(),
            risk("A", "flooding", "2", "3", "2026-03-31").unwrap(),
            risk("B", "storm", "3", "3", "2026-01-15").unwrap(),
        ];
        let risks: Vec<Risk<'_>> = records.iter().filter_map(Risk::of).collect();
        let s = risk_summary(&risks, day(2026, 1, 15));
        // 20 extreme, 6 moderate, 9 high; only the review due 31 December has passed.
        assert_eq!((s.low, s.moderate, s.high, s.extreme), (0, 1, 1, 1));
        assert_eq!(s.overdue_reviews, 1);
        let q4 = risk_metrics(
            &records,
            MetricPeriod::Quarter(crate::period::Quarter::parse("Q4 2025/26").unwrap()),
        );
        let system = |key| {
            q4.iter()
                .find(|f| f.key == key && f.organisation.is_none())
                .map(|f| f.value)
        };
        assert_eq!(system("risk-reviews-due"), Some(Decimal::from(2)));
        assert_eq!(system("serious-risk-reviews-due"), Some(Decimal::from(1)));
    }

    #[test]
    fn a_likelihood_off_the_scale_is_refused_with_the_scale() {
        let errors = risk("A", "heatwave", "6", "0", "2026-01-01").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "likelihood");
        assert!(errors[0].message.contains("5 almost certain"));
        assert_eq!(errors[1].field, "impact");
    }

    #[test]
    fn admissions_sum_by_hazard_within_the_period() {
        let a = |start: &str, end: &str, hazard: &str, n: &str| {
            let row = [
                ("organisation", "RTG"),
                ("period_start", start),
                ("period_end", end),
                ("place", "Derby City"),
                ("hazard", hazard),
                ("admissions", n),
            ];
            ADMISSIONS.parse(|k| row.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
        };
        let records = vec![
            a("2025-07-10", "2025-07-16", "heatwave", "40").unwrap(),
            a("2025-08-11", "2025-08-15", "heatwave", "25").unwrap(),
            a("2026-01-05", "2026-01-12", "cold", "60").unwrap(),
            a("2026-07-01", "2026-07-05", "heatwave", "99").unwrap(),
        ];
        let year = admissions_metrics(&records, MetricPeriod::Year(FinancialYear(2025)));
        let system = |key| {
            year.iter()
                .find(|f| f.key == key && f.organisation.is_none())
                .map(|f| f.value)
        };
        assert_eq!(system("admissions-heatwave"), Some(Decimal::from(65)));
        assert_eq!(system("admissions-cold"), Some(Decimal::from(60)));
        assert_eq!(system("admissions-flooding"), None);
        assert_eq!(
            a("2026-01-12", "2026-01-05", "cold", "1").unwrap_err()[0].field,
            "period_end"
        );
    }
}
