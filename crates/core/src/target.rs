//! Targets, trajectories and ratings.
//!
//! A metric has a baseline and one or more targets. Together they give a *trajectory*: the
//! value expected in each financial year. The latest actual value is rated against the
//! trajectory for its year:
//!
//! - **on track**: at or better than the trajectory;
//! - **at risk**: worse, but by no more than 5% of the trajectory value (the tolerance NHS
//!   delivery boards commonly use for amber);
//! - **off track**: worse by more than that.
//!
//! Between a baseline and a target, and between consecutive targets, the trajectory is a
//! straight line; a compound target (e.g. "10% more practices each year") multiplies year on
//! year; after the last target the trajectory holds its last value.

use crate::period::{FinancialYear, Period};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    LowerIsBetter,
    HigherIsBetter,
}

/// A value at a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub period: Period,
    pub value: Decimal,
}

/// A target as a plan states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// Reach `value` by the end of `period`.
    Absolute { period: Period, value: Decimal },
    /// Change by `percent` against the baseline by `period` (-50 = halve).
    PercentVsBaseline { period: Period, percent: Decimal },
    /// Change by `percent` each year from `from` to `to`.
    CompoundPercentPerYear {
        from: FinancialYear,
        to: FinancialYear,
        percent: Decimal,
    },
}

/// Why a trajectory cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "a percentage target needs a baseline: add `baseline = {{ period = \"2019/20\", value = ... }}`"
    )]
    NoBaseline,
    #[error("the target period {0} has no financial year")]
    NoYear(String),
}

/// The expected value in each financial year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trajectory {
    pub points: Vec<(FinancialYear, Decimal)>,
}

impl Trajectory {
    pub fn at(&self, year: FinancialYear) -> Option<Decimal> {
        self.points
            .iter()
            .find(|(y, _)| *y == year)
            .map(|(_, v)| *v)
    }
}

/// Draws the trajectory from the baseline through every target, year by year.
pub fn trajectory(
    baseline: Option<&Baseline>,
    targets: &[Target],
) -> Result<Trajectory, TargetError> {
    // Milestones: (year, value), starting at the baseline.
    let mut milestones: Vec<(FinancialYear, Decimal)> = Vec::new();
    let base = match baseline {
        Some(b) => Some((year_of(&b.period)?, b.value)),
        None => None,
    };
    if let Some(b) = base {
        milestones.push(b);
    }
    let mut compound: Vec<(FinancialYear, FinancialYear, Decimal)> = Vec::new();
    for t in targets {
        match t {
            Target::Absolute { period, value } => milestones.push((year_of(period)?, *value)),
            Target::PercentVsBaseline { period, percent } => {
                let (_, b) = base.ok_or(TargetError::NoBaseline)?;
                milestones.push((
                    year_of(period)?,
                    b * (Decimal::ONE_HUNDRED + percent) / Decimal::ONE_HUNDRED,
                ));
            }
            Target::CompoundPercentPerYear { from, to, percent } => {
                compound.push((*from, *to, *percent))
            }
        }
    }
    milestones.sort_by_key(|(y, _)| *y);
    milestones.dedup_by_key(|(y, _)| *y);

    let mut points: Vec<(FinancialYear, Decimal)> = Vec::new();
    for pair in milestones.windows(2) {
        let ((y0, v0), (y1, v1)) = (pair[0], pair[1]);
        let span = Decimal::from(y1.0 - y0.0);
        for y in y0.0..y1.0 {
            let step = Decimal::from(y - y0.0);
            points.push((FinancialYear(y), v0 + (v1 - v0) * step / span));
        }
    }
    if let Some(last) = milestones.last() {
        points.push(*last);
    }
    for (from, to, percent) in compound {
        let start = points
            .iter()
            .rev()
            .find(|(y, _)| *y < from)
            .map(|(_, v)| *v)
            .or(base.map(|(_, v)| v))
            .ok_or(TargetError::NoBaseline)?;
        let mut value = start;
        for y in from.0..=to.0 {
            value = value * (Decimal::ONE_HUNDRED + percent) / Decimal::ONE_HUNDRED;
            points.retain(|(py, _)| py.0 != y);
            points.push((FinancialYear(y), value));
        }
    }
    points.sort_by_key(|(y, _)| *y);
    Ok(Trajectory {
        points: points
            .into_iter()
            .map(|(y, v)| (y, v.round_dp(6).normalize()))
            .collect(),
    })
}

fn year_of(period: &Period) -> Result<FinancialYear, TargetError> {
    period
        .financial_year()
        .ok_or_else(|| TargetError::NoYear(period.to_string()))
}

/// How a metric stands against its trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rating {
    OnTrack,
    AtRisk,
    OffTrack,
    /// No value yet, or no trajectory for the value's year.
    NotRated,
}

impl Rating {
    pub fn label(self) -> &'static str {
        match self {
            Self::OnTrack => "On track",
            Self::AtRisk => "At risk",
            Self::OffTrack => "Off track",
            Self::NotRated => "Not rated",
        }
    }

    /// The RAG colour a board pack uses.
    pub fn rag(self) -> &'static str {
        match self {
            Self::OnTrack => "green",
            Self::AtRisk => "amber",
            Self::OffTrack => "red",
            Self::NotRated => "grey",
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The amber band: 5% of the trajectory value.
const TOLERANCE_PERCENT: i64 = 5;

/// Rates an actual value for a year against the trajectory (rule in the module docs).
pub fn rate(
    direction: Direction,
    trajectory: &Trajectory,
    year: FinancialYear,
    actual: Decimal,
) -> Rating {
    let Some(expected) = trajectory.at(year) else {
        return Rating::NotRated;
    };
    let tolerance = (expected * Decimal::from(TOLERANCE_PERCENT) / Decimal::ONE_HUNDRED).abs();
    let shortfall = match direction {
        Direction::LowerIsBetter => actual - expected,
        Direction::HigherIsBetter => expected - actual,
    };
    if shortfall <= Decimal::ZERO {
        Rating::OnTrack
    } else if shortfall <= tolerance {
        Rating::AtRisk
    } else {
        Rating::OffTrack
    }
}

/// The NHS's national targets (Delivering a Net Zero NHS, 2020) for one footprint, against a
/// baseline: the NHS Carbon Footprint falls 80% by 2028-2032 (taken at the end of the range,
/// 2032) and reaches net zero by 2040; the Carbon Footprint Plus falls 80% by 2036-2039 (2039)
/// and reaches net zero by 2045. Other (outside) emissions have none.
pub fn national_targets(footprint: crate::category::Footprint) -> Vec<Target> {
    use crate::category::Footprint;
    let at = |year: i32, percent: i64| Target::PercentVsBaseline {
        period: Period::CalendarYear { year },
        percent: Decimal::from(percent),
    };
    match footprint {
        Footprint::CarbonFootprint => vec![at(2032, -80), at(2040, -100)],
        Footprint::CarbonFootprintPlus => vec![at(2039, -80), at(2045, -100)],
        Footprint::Outside => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn fy(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn inhaler_target_from_the_derbyshire_plan() {
        // 14,399 tCO2e in 2024/25; 13,247 in 2025/26 (-8%); half by 2028 (end of 2027/28).
        let base = Baseline {
            period: fy("2024/25"),
            value: d("14399"),
        };
        let targets = [
            Target::Absolute {
                period: fy("2025/26"),
                value: d("13247"),
            },
            Target::PercentVsBaseline {
                period: fy("2028"),
                percent: d("-50"),
            },
        ];
        let t = trajectory(Some(&base), &targets).unwrap();
        assert_eq!(t.at(FinancialYear(2024)), Some(d("14399")));
        assert_eq!(t.at(FinancialYear(2025)), Some(d("13247")));
        // 13,247 → 7,199.5 over two years: 10,223.25 in 2026/27.
        assert_eq!(t.at(FinancialYear(2026)), Some(d("10223.25")));
        assert_eq!(t.at(FinancialYear(2027)), Some(d("7199.5")));
    }

    #[test]
    fn national_carbon_footprint_trajectory() {
        use crate::category::Footprint;
        let base = Baseline {
            period: fy("2019/20"),
            value: d("1000"),
        };
        let t = trajectory(Some(&base), &national_targets(Footprint::CarbonFootprint)).unwrap();
        // 1000 → 200 over 2019/20..2031/32 (12 years), then → 0 by 2039/40.
        assert_eq!(t.at(FinancialYear(2019)), Some(d("1000")));
        assert_eq!(t.at(FinancialYear(2025)), Some(d("600")));
        assert_eq!(t.at(FinancialYear(2031)), Some(d("200")));
        assert_eq!(t.at(FinancialYear(2035)), Some(d("100")));
        assert_eq!(t.at(FinancialYear(2039)), Some(d("0")));
        let plus = trajectory(
            Some(&base),
            &national_targets(Footprint::CarbonFootprintPlus),
        )
        .unwrap();
        assert_eq!(plus.at(FinancialYear(2044)), Some(d("0")));
    }

    #[test]
    fn compound_growth_per_year() {
        let base = Baseline {
            period: fy("2025/26"),
            value: d("100"),
        };
        let targets = [Target::CompoundPercentPerYear {
            from: FinancialYear(2026),
            to: FinancialYear(2027),
            percent: d("10"),
        }];
        let t = trajectory(Some(&base), &targets).unwrap();
        assert_eq!(t.at(FinancialYear(2026)), Some(d("110")));
        assert_eq!(t.at(FinancialYear(2027)), Some(d("121")));
    }

    #[test]
    fn percent_without_baseline_is_an_error() {
        let targets = [Target::PercentVsBaseline {
            period: fy("2040"),
            percent: d("-100"),
        }];
        assert_eq!(trajectory(None, &targets), Err(TargetError::NoBaseline));
    }

    #[test]
    fn ratings_with_the_amber_band() {
        let t = Trajectory {
            points: vec![(FinancialYear(2025), d("1000"))],
        };
        let y = FinancialYear(2025);
        assert_eq!(
            rate(Direction::LowerIsBetter, &t, y, d("990")),
            Rating::OnTrack
        );
        assert_eq!(
            rate(Direction::LowerIsBetter, &t, y, d("1050")),
            Rating::AtRisk
        );
        assert_eq!(
            rate(Direction::LowerIsBetter, &t, y, d("1050.01")),
            Rating::OffTrack
        );
        assert_eq!(
            rate(Direction::HigherIsBetter, &t, y, d("960")),
            Rating::AtRisk
        );
        assert_eq!(
            rate(Direction::HigherIsBetter, &t, y, d("900")),
            Rating::OffTrack
        );
        assert_eq!(
            rate(Direction::HigherIsBetter, &t, FinancialYear(2030), d("900")),
            Rating::NotRated
        );
    }
}

/// Targets written one to a line, as the plan editor takes them:
///
/// - `2027/28: 13247`: reach 13,247 by the end of 2027/28;
/// - `2027/28: -50%`: halve against the baseline by the end of 2027/28;
/// - `2025/26-2027/28: -8% a year`: fall 8% a year from 2025/26 to 2027/28.
///
/// The period before the colon may be any period greenplan reads (`Q4 2027/28`, `2028-03`).
impl Target {
    pub fn parse_line(line: &str) -> Result<Self, String> {
        let (period, value) = line.split_once(':').ok_or_else(|| {
            format!("`{line}`: write the period, a colon, then the target, e.g. `2027/28: -50%`")
        })?;
        let (period, value) = (period.trim(), value.trim());
        let number = |text: &str| {
            crate::quantity::parse_decimal(text.trim())
                .ok_or_else(|| format!("`{line}`: `{}` is not a number", text.trim()))
        };
        if let Some(rate) = value
            .strip_suffix("a year")
            .or_else(|| value.strip_suffix("per year"))
        {
            let percent = number(rate.trim().trim_end_matches('%'))?;
            let (from, to) = period
                .split_once('-')
                .filter(|(a, _)| a.contains('/'))
                .ok_or_else(|| {
                    format!(
                        "`{line}`: a yearly rate needs a range of years, e.g. `2025/26-2027/28`"
                    )
                })?;
            let year =
                |y: &str| FinancialYear::parse(y.trim()).map_err(|e| format!("`{line}`: {e}"));
            return Ok(Target::CompoundPercentPerYear {
                from: year(from)?,
                to: year(to)?,
                percent,
            });
        }
        let period = Period::parse(period).map_err(|e| format!("`{line}`: {e}"))?;
        Ok(match value.strip_suffix('%') {
            Some(percent) => Target::PercentVsBaseline {
                period,
                percent: number(percent)?,
            },
            None => Target::Absolute {
                period,
                value: number(value)?,
            },
        })
    }

    /// The target as [`Target::parse_line`] reads it.
    pub fn to_line(&self) -> String {
        match self {
            Target::Absolute { period, value } => format!("{period}: {}", value.normalize()),
            Target::PercentVsBaseline { period, percent } => {
                format!("{period}: {}%", percent.normalize())
            }
            Target::CompoundPercentPerYear { from, to, percent } => {
                format!("{from}-{to}: {}% a year", percent.normalize())
            }
        }
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn targets_read_and_write_one_to_a_line() {
        for line in [
            "2027/28: 13247",
            "2027/28: -50%",
            "2025/26-2027/28: -8% a year",
            "Q4 2027/28: 90%",
        ] {
            let t = Target::parse_line(line).unwrap();
            assert_eq!(Target::parse_line(&t.to_line()).unwrap(), t, "{line}");
        }
        assert_eq!(
            Target::parse_line("2025/26-2027/28: -8% a year").unwrap(),
            Target::CompoundPercentPerYear {
                from: FinancialYear(2025),
                to: FinancialYear(2027),
                percent: Decimal::from(-8),
            }
        );
        assert!(
            Target::parse_line("2027/28 13247")
                .unwrap_err()
                .contains("colon")
        );
        assert!(
            Target::parse_line("2027/28: lots")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            Target::parse_line("2027/28: -8% a year")
                .unwrap_err()
                .contains("range")
        );
    }
}
