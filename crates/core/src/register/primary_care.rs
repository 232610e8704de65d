//! Primary care: GP practices with their list size and surgeries, their membership of the
//! Greener Practice Network and of Green Impact for Health (dates joined and left), and their
//! travel plans.
//!
//! The plan's measure (EF4) is the number of practices signed up to the Greener Practice
//! Network, 2025/26 being the baseline year and a 10% increase a year asked from 2026/27. A
//! practice counts for a period when it is a member on the period's last day: one that joined
//! and left within a year does not count for it. The baseline is the register's own count at
//! the end of 2025/26 ([`network_progress`]), so the rating follows once the practices are in.

use super::{
    Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, Record, Register,
    end_not_before_start,
};
use crate::ods::OdsCode;
use crate::period::{FinancialYear, Period, Quarter};
use crate::target::{Baseline, Direction, Rating, Target, TargetError, rate, trajectory};
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub const PRACTICES: Register = Register {
    slug: "gp-practices",
    title: "Primary care: GP practices",
    area: "estates-and-facilities",
    summary: "GP practices: list size and surgeries, when each joined (or left) the Greener Practice Network and Green Impact for Health, and whether it has a travel plan.",
    fields: &[
        Field::new("organisation", "Organisation", FieldKind::Organisation).hint(
            "Who keeps the record: the ICB (QJ2), or the trust that runs the practice, e.g. RFS",
        ),
        Field::new("practice", "Practice code", FieldKind::Text)
            .hint("The practice's ODS code, e.g. C81001"),
        Field::new("name", "Practice name", FieldKind::Text),
        Field::new("place", "Place", FieldKind::Text).hint("e.g. Chesterfield"),
        Field::new("list_size", "List size", FieldKind::Whole).hint("Registered patients"),
        Field::new("surgeries", "Surgeries", FieldKind::Whole)
            .hint("Main and branch surgeries the practice runs from"),
        Field::new(
            "gpn_joined",
            "Joined the Greener Practice Network",
            FieldKind::Date,
        )
        .optional(),
        Field::new(
            "gpn_left",
            "Left the Greener Practice Network",
            FieldKind::Date,
        )
        .optional(),
        Field::new(
            "gifh_joined",
            "Joined Green Impact for Health",
            FieldKind::Date,
        )
        .optional(),
        Field::new("gifh_left", "Left Green Impact for Health", FieldKind::Date).optional(),
        Field::new("travel_plan", "Travel plan produced", FieldKind::Date)
            .optional()
            .hint("When the practice's travel plan was produced; blank if it has none"),
    ],
    name_field: "name",
    filter_field: None,
    cross_check: Some(practice_check),
    metrics: practice_metrics,
    periods: practice_periods,
};

/// The two networks: (joined field, left field).
pub const GPN: (&str, &str) = ("gpn_joined", "gpn_left");
pub const GIFH: (&str, &str) = ("gifh_joined", "gifh_left");

fn practice_check(r: &Record) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(code) = r.text("practice")
        && let Err(e) = OdsCode::parse(code)
    {
        errors.push(FieldError {
            field: "practice",
            message: format!("Practice code: {e}"),
        });
    }
    if r.whole("surgeries") == Some(0) {
        errors.push(FieldError {
            field: "surgeries",
            message: "Surgeries: a practice runs from at least 1 surgery".into(),
        });
    }
    for (joined, left) in [GPN, GIFH] {
        if r.date(joined).is_none() && r.date(left).is_some() {
            errors.push(FieldError {
                field: left,
                message: "a practice cannot leave a network it never joined: give the date it joined, or clear the date it left".into(),
            });
        }
        errors.extend(end_not_before_start(r, joined, left));
    }
    errors
}

/// Whether a practice is a member of a network on `date` (it stops on the day it left).
pub fn member_on(r: &Record, (joined, left): (&str, &str), date: NaiveDate) -> bool {
    r.date(joined).is_some_and(|j| j <= date) && r.date(left).is_none_or(|l| l > date)
}

/// Members of a network on the last day of `period`.
pub fn members(rs: &[&Record], network: (&str, &str), period: MetricPeriod) -> u64 {
    rs.iter()
        .filter(|r| member_on(r, network, period.end()))
        .count() as u64
}

const DATES: [&str; 5] = [
    "gpn_joined",
    "gpn_left",
    "gifh_joined",
    "gifh_left",
    "travel_plan",
];

/// Every financial year from the first date recorded to the last, each followed by its
/// quarters up to the last date's quarter: membership is a standing count, so years with no
/// joining or leaving still have a figure.
fn practice_periods(records: &[Record]) -> Vec<MetricPeriod> {
    let dates = records
        .iter()
        .flat_map(|r| DATES.iter().filter_map(|k| r.date(k)));
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
        return Vec::new();
    };
    let last_quarter = Quarter::containing(last);
    (FinancialYear::containing(first).0..=last_quarter.year.0)
        .flat_map(|y| {
            let year = FinancialYear(y);
            std::iter::once(MetricPeriod::Year(year)).chain(
                (1..=4)
                    .map(move |number| Quarter { year, number })
                    .filter(move |q| *q <= last_quarter)
                    .map(MetricPeriod::Quarter),
            )
        })
        .collect()
}

const GPN_MEMBERS: FigureMaker = FigureMaker::new(
    "greener-practice-network",
    "Practices in the Greener Practice Network",
    "count",
)
.feeds("greener-practice-network-practices");
const GIFH_MEMBERS: FigureMaker = FigureMaker::new(
    "green-impact-for-health",
    "Practices in Green Impact for Health",
    "count",
);
const TRAVEL_PLANS: FigureMaker = FigureMaker::new(
    "practice-travel-plans",
    "Practices with a travel plan",
    "count",
);
const PRACTICE_COUNT: FigureMaker = FigureMaker::new("practices", "GP practices", "count");
const SURGERIES: FigureMaker = FigureMaker::new("surgeries", "Surgeries", "count");

fn practice_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let all: Vec<&Record> = records.iter().collect();
    let end = period.end();
    let of = |n: u64, rs: &[&Record]| format!("{n} of {} practices on {end}", rs.len());
    let mut out = GPN_MEMBERS.each_scope(&all, period, |rs| {
        let n = members(rs, GPN, period);
        Some((n.into(), of(n, rs)))
    });
    out.extend(GIFH_MEMBERS.each_scope(&all, period, |rs| {
        let n = members(rs, GIFH, period);
        Some((n.into(), of(n, rs)))
    }));
    out.extend(TRAVEL_PLANS.each_scope(&all, period, |rs| {
        let n = rs
            .iter()
            .filter(|r| r.date("travel_plan").is_some_and(|d| d <= end))
            .count() as u64;
        Some((n.into(), of(n, rs)))
    }));
    out.extend(PRACTICE_COUNT.each_scope(&all, period, |rs| {
        Some((rs.len().into(), "practices recorded".into()))
    }));
    out.extend(SURGERIES.each_scope(&all, period, |rs| {
        let n: u64 = rs.iter().filter_map(|r| r.whole("surgeries")).sum();
        Some((n.into(), format!("surgeries of {} practices", rs.len())))
    }));
    out
}

/// The baseline year of the Greener Practice Network measure (EF4).
pub const BASELINE_YEAR: FinancialYear = FinancialYear(2025);

/// The Greener Practice Network measure for a year against its trajectory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkProgress {
    /// Members at the end of the baseline year.
    pub baseline: u64,
    /// Members at the end of `year`.
    pub members: u64,
    /// What the targets ask for in `year`.
    pub expected: Option<Decimal>,
    pub rating: Rating,
}

/// Rates the Greener Practice Network members at the end of `year` against `targets` (the
/// plan's: 10% a year from 2026/27), from the register's own count at the end of
/// [`BASELINE_YEAR`].
pub fn network_progress(
    records: &[Record],
    year: FinancialYear,
    targets: &[Target],
) -> Result<NetworkProgress, TargetError> {
    let all: Vec<&Record> = records.iter().collect();
    let baseline = members(&all, GPN, MetricPeriod::Year(BASELINE_YEAR));
    let line = trajectory(
        Some(&Baseline {
            period: Period::FinancialYear {
                year: BASELINE_YEAR,
            },
            value: baseline.into(),
        }),
        targets,
    )?;
    let members = members(&all, GPN, MetricPeriod::Year(year));
    Ok(NetworkProgress {
        baseline,
        members,
        expected: line.at(year),
        rating: rate(Direction::HigherIsBetter, &line, year, members.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn practice(
        code: &str,
        gpn: (&str, &str),
        travel_plan: &str,
    ) -> Result<Record, Vec<FieldError>> {
        let row = [
            ("organisation", "QJ2"),
            ("practice", code),
            ("name", "A practice"),
            ("place", "Chesterfield"),
            ("list_size", "9000"),
            ("surgeries", "1"),
            ("gpn_joined", gpn.0),
            ("gpn_left", gpn.1),
            ("travel_plan", travel_plan),
        ];
        PRACTICES.parse(|k| row.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    /// Ten members on 31 March 2026 (one more joined and left within the year), eleven on
    /// 31 March 2027, and one practice that never joined.
    fn practices() -> Vec<Record> {
        let mut v: Vec<Record> = (0..10)
            .map(|i| practice(&format!("C8100{i}"), ("2025-05-01", ""), "").unwrap())
            .collect();
        v.push(practice("C81010", ("2025-06-01", "2026-01-31"), "").unwrap());
        v.push(practice("C81011", ("2026-09-01", ""), "").unwrap());
        v.push(practice("C81012", ("", ""), "2026-02-10").unwrap());
        v
    }

    fn count(figures: &[Figure], key: &str) -> Option<Decimal> {
        figures
            .iter()
            .find(|f| f.key == key && f.organisation.is_none())
            .map(|f| f.value)
    }

    #[test]
    fn members_are_counted_on_the_last_day_of_the_period() {
        let p = practices();
        let year = |y| MetricPeriod::Year(FinancialYear(y));
        let quarter = |raw| MetricPeriod::Quarter(Quarter::parse(raw).unwrap());
        assert_eq!(
            count(
                &practice_metrics(&p, year(2025)),
                "greener-practice-network"
            ),
            Some(10.into())
        );
        assert_eq!(
            count(
                &practice_metrics(&p, year(2026)),
                "greener-practice-network"
            ),
            Some(11.into())
        );
        // In Q3 2025/26 the practice that left on 31 January still counts.
        let q3 = practice_metrics(&p, quarter("Q3 2025/26"));
        assert_eq!(count(&q3, "greener-practice-network"), Some(11.into()));
        assert_eq!(count(&q3, "practice-travel-plans"), Some(0.into()));
        assert_eq!(
            count(&practice_metrics(&p, year(2025)), "practice-travel-plans"),
            Some(1.into())
        );
        assert_eq!(count(&q3, "green-impact-for-health"), Some(0.into()));
    }

    #[test]
    fn periods_run_from_the_first_date_to_the_last_quarter() {
        let periods = practice_periods(&practices());
        assert_eq!(
            periods.first(),
            Some(&MetricPeriod::Year(FinancialYear(2025)))
        );
        // The last date is 1 September 2026: Q2 2026/27 is the last quarter.
        assert_eq!(
            periods.last(),
            Some(&MetricPeriod::Quarter(
                Quarter::parse("Q2 2026/27").unwrap()
            ))
        );
        assert_eq!(periods.len(), 5 + 3);
    }

    fn plan_target() -> Vec<Target> {
        vec![Target::CompoundPercentPerYear {
            from: FinancialYear(2026),
            to: FinancialYear(2027),
            percent: 10.into(),
        }]
    }

    #[test]
    fn ten_percent_a_year_from_the_baseline_is_rated() {
        let p = practices();
        // Baseline 10; 2026/27 asks for 11.0 and has 11: on track.
        let r = network_progress(&p, FinancialYear(2026), &plan_target()).unwrap();
        assert_eq!((r.baseline, r.members), (10, 11));
        assert_eq!(r.expected, Some(11.into()));
        assert_eq!(r.rating, Rating::OnTrack);
        // 2027/28 asks for 12.1 and still has 11: short by 1.1, more than 5% of 12.1 (0.605).
        let r = network_progress(&p, FinancialYear(2027), &plan_target()).unwrap();
        assert_eq!(r.expected, Some(Decimal::new(121, 1)));
        assert_eq!(r.rating, Rating::OffTrack);
    }

    #[test]
    fn leaving_before_joining_and_bad_codes_are_refused() {
        let errors = practice("C81001", ("2025-05-01", "2025-04-01"), "").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "gpn_left");
        let errors = practice("C81 001", ("", "2025-04-01"), "").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["practice", "gpn_left"]);
    }
}
