//! Where a metric stands: its latest value, the trajectory its targets draw, and the rating.

use crate::Decimal;
use crate::period::{FinancialYear, Period};
use crate::plan::{DataPoint, Metric};
use crate::target::{Baseline, Rating, Target, TargetError, Trajectory, rate, trajectory};
use serde::Serialize;

/// A metric's progress against its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricProgress {
    /// The latest value for the metric's own organisation (or the system), with its period.
    pub latest: Option<(Period, Decimal)>,
    pub trajectory: Option<Trajectory>,
    /// Why there is no trajectory, when there is none.
    pub no_trajectory: Option<String>,
    /// The trajectory's value for the latest value's year.
    pub expected: Option<Decimal>,
    pub rating: Rating,
}

/// Rates a metric from its values (any order). Only values for the metric's own scope count:
/// its organisation's, or system-wide ones for a system metric.
pub fn metric_progress<'a>(
    metric: &Metric,
    values: impl IntoIterator<Item = &'a DataPoint>,
) -> MetricProgress {
    let own: Vec<&DataPoint> = values
        .into_iter()
        .filter(|v| v.metric == metric.id && v.organisation == metric.organisation)
        .filter(|v| !v.is_register_quarter())
        .collect();
    let latest = own
        .iter()
        .filter_map(|v| v.period.end().map(|end| (end, v.period, v.value)))
        .max_by_key(|(end, _, _)| *end)
        .map(|(_, p, v)| (p, v));
    let baseline = metric
        .baseline
        .clone()
        .or_else(|| measured_baseline(metric, &own));
    let targets: Vec<_> = metric.targets.iter().map(|t| t.target.clone()).collect();
    let (trajectory, no_trajectory) = if targets.is_empty() {
        (None, Some("no target set".to_string()))
    } else {
        match trajectory(baseline.as_ref(), &targets) {
            Ok(t) => (Some(t), None),
            Err(TargetError::NoBaseline) => (
                None,
                Some("a percentage target needs a baseline value".to_string()),
            ),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    let (expected, rating) = match (&latest, &trajectory) {
        (Some((period, value)), Some(t)) => match period.financial_year() {
            Some(year) => (t.at(year), rate(metric.direction, t, year, *value)),
            None => (None, Rating::NotRated),
        },
        _ => (None, Rating::NotRated),
    };
    MetricProgress {
        latest,
        trajectory,
        no_trajectory,
        expected,
        rating,
    }
}

/// A metric's trajectory drawn year by year beside its actual values: what the metric page
/// and the reports' chart both draw, so the two can never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrajectorySeries {
    /// The financial years drawn: every year of the trajectory and every year with a value.
    pub years: Vec<FinancialYear>,
    /// The trajectory's value for each year (none outside it).
    pub expected: Vec<Option<Decimal>>,
    /// The latest value recorded within each year, for the metric's own scope.
    pub actual: Vec<Option<Decimal>>,
}

/// The series behind a metric's trajectory chart. Only the metric's own scope counts, and a
/// register's quarterly figures are left out (`DataPoint::is_register_quarter`): a quarter's
/// count drawn as a year's actual value would be compared with a yearly target.
pub fn trajectory_series<'a>(
    metric: &Metric,
    trajectory: &Trajectory,
    values: impl IntoIterator<Item = &'a DataPoint>,
) -> TrajectorySeries {
    let own: Vec<&DataPoint> = values
        .into_iter()
        .filter(|v| v.metric == metric.id && v.organisation == metric.organisation)
        .filter(|v| !v.is_register_quarter())
        .collect();
    let mut years: Vec<FinancialYear> = trajectory.points.iter().map(|(y, _)| *y).collect();
    years.extend(own.iter().filter_map(|v| v.period.financial_year()));
    years.sort();
    years.dedup();
    let actual = years
        .iter()
        .map(|y| {
            own.iter()
                .filter(|v| v.period.financial_year() == Some(*y))
                .max_by_key(|v| v.period.end())
                .map(|v| v.value)
        })
        .collect();
    let expected = years.iter().map(|y| trajectory.at(*y)).collect();
    TrajectorySeries {
        years,
        expected,
        actual,
    }
}

/// The baseline a plan leaves "to be established" ("baseline year 2025/26, 10% increase per
/// year from 26/27"): the value recorded for the year before a yearly-percentage target starts
/// (the latest within that year), once there is one.
fn measured_baseline(metric: &Metric, own: &[&DataPoint]) -> Option<Baseline> {
    let from = metric.targets.iter().find_map(|t| match t.target {
        Target::CompoundPercentPerYear { from, .. } => Some(from),
        _ => None,
    })?;
    let year = FinancialYear(from.0 - 1);
    own.iter()
        .filter(|v| v.period.financial_year() == Some(year))
        .filter_map(|v| v.period.end().map(|end| (end, v.value)))
        .max_by_key(|(end, _)| *end)
        .map(|(_, value)| Baseline {
            period: Period::FinancialYear { year },
            value,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MetricTarget;
    use crate::target::Direction;

    /// A system-wide value of `metric` for a period.
    fn point(metric: &str, period: &str, value: i64) -> DataPoint {
        DataPoint {
            metric: metric.into(),
            organisation: None,
            period: Period::parse(period).unwrap(),
            value: Decimal::from(value),
            as_written: None,
            note: None,
            reference: None,
        }
    }

    #[test]
    fn inhaler_carbon_rated_against_the_plan() {
        let metric = Metric {
            id: "inhaler-carbon".into(),
            name: "Inhaler carbon".into(),
            unit: "tCO2e".into(),
            direction: Direction::LowerIsBetter,
            area: None,
            organisation: None,
            description: None,
            baseline: Some(Baseline {
                period: Period::parse("2024/25").unwrap(),
                value: Decimal::from(14399),
            }),
            targets: vec![MetricTarget {
                target: Target::Absolute {
                    period: Period::parse("2025/26").unwrap(),
                    value: Decimal::from(13247),
                },
                source: None,
                reference: None,
            }],
            reference: None,
        };
        let point = |p, v| point("inhaler-carbon", p, v);
        let values = [point("2024/25", 14399), point("2025/26", 13800)];
        let p = metric_progress(&metric, &values);
        assert_eq!(
            p.latest,
            Some((Period::parse("2025/26").unwrap(), Decimal::from(13800)))
        );
        assert_eq!(p.expected, Some(Decimal::from(13247)));
        // 13,800 is 553 over 13,247; the amber band is 662.35.
        assert_eq!(p.rating, Rating::AtRisk);
    }

    #[test]
    fn a_baseline_to_be_established_is_taken_from_the_baseline_year() {
        // EF4: "Baseline year 2025/2026, 10% increase per year from 26/27", no value given.
        let metric = Metric {
            id: "greener-practice-network-practices".into(),
            name: "Practices".into(),
            unit: "count".into(),
            direction: Direction::HigherIsBetter,
            area: None,
            organisation: None,
            description: None,
            baseline: None,
            targets: vec![MetricTarget {
                target: Target::CompoundPercentPerYear {
                    from: FinancialYear(2026),
                    to: FinancialYear(2027),
                    percent: Decimal::from(10),
                },
                source: None,
                reference: None,
            }],
            reference: None,
        };
        let point = |p, v| point(&metric.id, p, v);
        assert_eq!(metric_progress(&metric, &[]).rating, Rating::NotRated);
        // The quarter ending 31 March 2026 is the latest in 2025/26: baseline 20, so 2026/27
        // asks for 22 and 21 is 1 short, within the 5% band (1.1): at risk.
        let values = [
            point("Q3 2025/26", 18),
            point("Q4 2025/26", 20),
            point("2026/27", 21),
        ];
        let p = metric_progress(&metric, &values);
        assert_eq!(p.expected, Some(Decimal::from(22)));
        assert_eq!(p.rating, Rating::AtRisk);
    }
    #[test]
    fn the_trajectory_series_leaves_out_register_quarters() {
        let metric = Metric {
            id: "lease-cars".into(),
            name: "Low-emission lease cars".into(),
            unit: "count".into(),
            direction: Direction::HigherIsBetter,
            area: None,
            organisation: None,
            description: None,
            baseline: Some(Baseline {
                period: Period::parse("2024/25").unwrap(),
                value: Decimal::from(100),
            }),
            targets: vec![MetricTarget {
                target: Target::Absolute {
                    period: Period::parse("2026/27").unwrap(),
                    value: Decimal::from(300),
                },
                source: None,
                reference: None,
            }],
            reference: None,
        };
        let t = metric_progress(&metric, &[]).trajectory.unwrap();
        let year = point(&metric.id, "2025/26", 180);
        // A register's figure for the quarter ending 31 March 2026 ends later than the year's
        // own figure would if it were recorded as of 31 December; it must still not be drawn.
        let mut quarter = point(&metric.id, "Q4 2025/26", 40);
        quarter.reference = Some(format!("{}fleet", crate::register::POINT_REFERENCE));
        let other_scope = DataPoint {
            organisation: Some(crate::ods::OdsCode::parse("RTG").unwrap()),
            ..point(&metric.id, "2026/27", 999)
        };
        let s = trajectory_series(&metric, &t, [&quarter, &year, &other_scope]);
        let y2025 = s
            .years
            .iter()
            .position(|y| *y == FinancialYear(2025))
            .unwrap();
        assert_eq!(s.actual[y2025], Some(Decimal::from(180)));
        assert_eq!(s.years.len(), s.expected.len());
        assert_eq!(s.years.len(), s.actual.len());
        assert!(!s.actual.contains(&Some(Decimal::from(999))));
        // A year with only a register quarter draws no actual value.
        let s = trajectory_series(&metric, &t, [&quarter]);
        assert!(s.actual.iter().all(Option::is_none));
    }
}
