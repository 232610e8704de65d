//! The care pathway carbon calculator: how much carbon a change to a care pathway saves,
//! from counts of care activities before and after (or avoided) and a library of
//! care-activity factors (kgCO2e per ambulance conveyance, GP home visit, bed day, …), with an
//! equivalence ("= N GP home visits") and, where a factor's range is known, the range of the
//! saving. Figures a document printed can be set beside the computed ones; where they differ,
//! the calculator says how the document's arithmetic got its number.
//!
//! Factors are data with a source and a year (see `data/care-activities.csv`), never
//! constants here.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The carbon of one unit of a care activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CareActivityFactor {
    /// e.g. `ambulance-conveyance`
    pub id: String,
    pub name: String,
    /// What one is: "conveyance", "visit", "bed day".
    pub unit: String,
    pub kgco2e: Decimal,
    /// A published range, where one is known.
    pub low: Option<Decimal>,
    pub high: Option<Decimal>,
    pub source: String,
    pub year: Option<i32>,
    /// False where the figure is quoted but its source could not be checked.
    pub verified: bool,
}

/// What is wrong with a care-activity factor someone entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactorProblem {
    #[error("give the care activity a name")]
    NoName,
    #[error("say what one unit is (for example: conveyance, bed day)")]
    NoUnit,
    #[error("say where the figure comes from (a paper, a report, a plan)")]
    NoSource,
    #[error("kgCO2e per unit cannot be negative")]
    Negative,
    #[error("the range {low} to {high} should hold the factor {kgco2e}")]
    OutsideRange {
        kgco2e: Decimal,
        low: Decimal,
        high: Decimal,
    },
    #[error("give both ends of the range, or neither")]
    HalfRange,
}

impl CareActivityFactor {
    /// Checks a factor before it is stored: the library is data people edit, so every figure
    /// keeps a source and a range that holds it.
    pub fn check(&self) -> Result<(), FactorProblem> {
        if self.name.trim().is_empty() {
            return Err(FactorProblem::NoName);
        }
        if self.unit.trim().is_empty() {
            return Err(FactorProblem::NoUnit);
        }
        if self.source.trim().is_empty() {
            return Err(FactorProblem::NoSource);
        }
        if self.kgco2e.is_sign_negative() && !self.kgco2e.is_zero() {
            return Err(FactorProblem::Negative);
        }
        match (self.low, self.high) {
            (Some(low), Some(high)) if !(low <= self.kgco2e && self.kgco2e <= high) => {
                Err(FactorProblem::OutsideRange {
                    kgco2e: self.kgco2e,
                    low,
                    high,
                })
            }
            (Some(_), None) | (None, Some(_)) => Err(FactorProblem::HalfRange),
            _ => Ok(()),
        }
    }
}

/// How a care activity's count changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    /// So many fewer (e.g. conveyances avoided).
    Avoided { count: Decimal },
    /// Counts before and after the change (after may be higher: new home visits).
    BeforeAfter { before: Decimal, after: Decimal },
}

impl Change {
    /// How many fewer: negative when the change adds activity.
    pub fn fewer(&self) -> Decimal {
        match self {
            Change::Avoided { count } => *count,
            Change::BeforeAfter { before, after } => before - after,
        }
    }
}

/// A figure a document printed for one line, to set beside the computed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub kgco2e: Option<Decimal>,
    pub equivalents: Option<Decimal>,
}

/// One line of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioLine {
    pub activity: String,
    pub change: Change,
    pub published: Option<Published>,
}

/// A pathway change to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// Priority actions this scenario supports (e.g. `CT2`).
    pub actions: Vec<String>,
    /// The plan's case study it reproduces, if any (e.g. `team-up`).
    pub case_study: Option<String>,
    /// The activity savings are expressed in (e.g. `gp-home-visit`); the result names it by
    /// its unit ("GP home visit").
    pub equivalent: Option<String>,
    pub lines: Vec<ScenarioLine>,
}

/// A computed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineResult {
    pub activity: String,
    pub name: String,
    pub unit: String,
    pub fewer: Decimal,
    pub kgco2e_per_unit: Decimal,
    pub kgco2e_saved: Decimal,
    /// The saving at the factor's low and high ends, where its range is known.
    pub range: Option<(Decimal, Decimal)>,
    /// The saving in units of the scenario's equivalent activity, to one decimal place.
    pub equivalents: Option<Decimal>,
    pub source: String,
    pub verified: bool,
    /// How a published figure compares, in words (empty when none was given).
    pub published_note: Option<String>,
}

/// The result of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub actions: Vec<String>,
    pub equivalent: Option<String>,
    pub lines: Vec<LineResult>,
    pub total_kgco2e_saved: Decimal,
    pub total_range: Option<(Decimal, Decimal)>,
    pub total_equivalents: Option<Decimal>,
}

/// Why a scenario cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathwayError {
    #[error(
        "no care-activity factor `{0}`: use one of the library's ids (`greenplan pathway --list-factors`) or add it with --factors"
    )]
    UnknownActivity(String),
    #[error("the equivalent activity `{0}` has a factor of zero")]
    ZeroEquivalent(String),
}

fn one_place(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// Computes a scenario against a factor library.
pub fn evaluate(
    scenario: &Scenario,
    factors: &[CareActivityFactor],
) -> Result<ScenarioResult, PathwayError> {
    let find = |id: &str| {
        factors
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| PathwayError::UnknownActivity(id.to_string()))
    };
    let equivalent = match &scenario.equivalent {
        Some(id) => {
            let f = find(id)?;
            if f.kgco2e.is_zero() {
                return Err(PathwayError::ZeroEquivalent(id.clone()));
            }
            Some(f)
        }
        None => None,
    };
    let mut lines = Vec::new();
    for line in &scenario.lines {
        let f = find(&line.activity)?;
        let fewer = line.change.fewer();
        let saved = fewer * f.kgco2e;
        let range = match (f.low, f.high) {
            (Some(lo), Some(hi)) => {
                let (a, b) = (fewer * lo, fewer * hi);
                Some((a.min(b), a.max(b)))
            }
            _ => None,
        };
        let equivalents = equivalent.map(|e| one_place(saved / e.kgco2e));
        let published_note = match (&line.published, equivalent) {
            (Some(p), e) => Some(compare_published(p, fewer, f, e, saved)),
            _ => None,
        };
        lines.push(LineResult {
            activity: f.id.clone(),
            name: f.name.clone(),
            unit: f.unit.clone(),
            fewer,
            kgco2e_per_unit: f.kgco2e,
            kgco2e_saved: saved,
            range,
            equivalents,
            source: f.source.clone(),
            verified: f.verified,
            published_note,
        });
    }
    let total: Decimal = lines.iter().map(|l| l.kgco2e_saved).sum();
    let total_range = lines
        .iter()
        .map(|l| l.range.unwrap_or((l.kgco2e_saved, l.kgco2e_saved)))
        .fold(None::<(Decimal, Decimal)>, |acc, (a, b)| {
            Some(acc.map_or((a, b), |(x, y)| (x + a, y + b)))
        })
        .filter(|_| lines.iter().any(|l| l.range.is_some()));
    Ok(ScenarioResult {
        name: scenario.name.clone(),
        actions: scenario.actions.clone(),
        equivalent: equivalent.map(|e| e.unit.clone()),
        total_equivalents: equivalent.map(|e| one_place(total / e.kgco2e)),
        lines,
        total_kgco2e_saved: total,
        total_range,
    })
}

/// Says how a published figure compares with the computed one, and, where it differs, which
/// common shortcut gives the published number: rounding the ratio of the two factors before
/// multiplying, or cutting the last digits off instead of rounding.
fn compare_published(
    published: &Published,
    fewer: Decimal,
    factor: &CareActivityFactor,
    equivalent: Option<&CareActivityFactor>,
    saved: Decimal,
) -> String {
    let mut notes = Vec::new();
    if let Some(kg) = published.kgco2e {
        if kg == saved {
            notes.push(format!("the published {} kgCO2e agrees", Figure(kg)));
        } else {
            notes.push(format!(
                "the published {} kgCO2e differs from {} × {} = {}",
                Figure(kg),
                Figure(fewer),
                Figure(factor.kgco2e),
                Figure(saved)
            ));
        }
    }
    if let (Some(printed), Some(e)) = (published.equivalents, equivalent) {
        let exact = saved / e.kgco2e;
        let places = printed.scale();
        let rounded = exact.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
        let cut = exact.round_dp_with_strategy(places, RoundingStrategy::ToZero);
        if printed == rounded {
            notes.push(format!(
                "the published {} {}s agrees",
                Figure(printed),
                e.unit
            ));
        } else {
            let ratio = factor.kgco2e / e.kgco2e;
            let why = (0..=2)
                .map(|dp| ratio.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
                .find(|r| fewer * r == printed)
                .map(|r| {
                    format!(
                        "it rounds {} / {} = {} to {} before multiplying by {}",
                        Figure(factor.kgco2e),
                        Figure(e.kgco2e),
                        Figure(ratio.round_dp(4)),
                        Figure(r),
                        Figure(fewer)
                    )
                })
                .or_else(|| {
                    (printed == cut).then(|| {
                        format!(
                            "it truncates {} to {} instead of rounding it to {}",
                            Figure(exact.round_dp(4)),
                            Figure(printed),
                            Figure(rounded)
                        )
                    })
                })
                .unwrap_or_else(|| "no common rounding gives it".to_string());
            notes.push(format!(
                "the published {} {}s differs from {} / {} = {}: {why}",
                Figure(printed),
                e.unit,
                Figure(saved),
                Figure(e.kgco2e),
                Figure(rounded)
            ));
        }
    }
    notes.join("; ")
}

/// A decimal as people write it, with thousands separators.
struct Figure(Decimal);

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0.normalize();
        f.write_str(&crate::quantity::with_thousands(v, v.scale()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn factor(id: &str, unit: &str, kg: &str) -> CareActivityFactor {
        CareActivityFactor {
            id: id.into(),
            name: id.replace('-', " "),
            unit: unit.into(),
            kgco2e: d(kg),
            low: None,
            high: None,
            source: "test".into(),
            year: None,
            verified: true,
        }
    }

    fn library() -> Vec<CareActivityFactor> {
        vec![
            factor("ambulance-conveyance", "conveyance", "56"),
            factor("gp-home-visit", "GP home visit", "9"),
            factor("inpatient-bed-day-low", "bed day", "37.9"),
        ]
    }

    /// The Derbyshire plan's Team Up falls case, by hand: 188 × 56 = 10,528 kgCO2e =
    /// 1,169.8 GP home visits (the plan: 1,165.6, from 56 / 9 rounded to 6.2); 690 × 37.9 =
    /// 26,151 kgCO2e = 2,905.7 visits (the plan: 2,905.6, cut instead of rounded).
    #[test]
    fn team_up_falls_case() {
        let scenario = Scenario {
            name: "Team Up".into(),
            description: None,
            actions: vec![],
            case_study: Some("team-up".into()),
            equivalent: Some("gp-home-visit".into()),
            lines: vec![
                ScenarioLine {
                    activity: "ambulance-conveyance".into(),
                    change: Change::Avoided { count: d("188") },
                    published: Some(Published {
                        kgco2e: None,
                        equivalents: Some(d("1165.6")),
                    }),
                },
                ScenarioLine {
                    activity: "inpatient-bed-day-low".into(),
                    change: Change::Avoided { count: d("690") },
                    published: Some(Published {
                        kgco2e: Some(d("26151")),
                        equivalents: Some(d("2905.6")),
                    }),
                },
            ],
        };
        let r = evaluate(&scenario, &library()).unwrap();
        assert_eq!(r.lines[0].kgco2e_saved, d("10528"));
        assert_eq!(r.lines[0].equivalents, Some(d("1169.8")));
        assert_eq!(r.lines[1].kgco2e_saved, d("26151.0"));
        assert_eq!(r.lines[1].equivalents, Some(d("2905.7")));
        assert_eq!(r.total_kgco2e_saved, d("36679"));
        assert_eq!(r.total_equivalents, Some(d("4075.4")));
        let first = r.lines[0].published_note.as_deref().unwrap();
        assert!(
            first.contains("rounds 56 / 9 = 6.2222 to 6.2 before multiplying by 188"),
            "{first}"
        );
        let second = r.lines[1].published_note.as_deref().unwrap();
        assert!(
            second.contains("the published 26,151 kgCO2e agrees"),
            "{second}"
        );
        assert!(
            second.contains("truncates 2,905.6667 to 2,905.6 instead of rounding it to 2,905.7"),
            "{second}"
        );
    }

    #[test]
    fn before_and_after_counts_and_ranges() {
        let mut lib = library();
        lib[0].low = Some(d("40"));
        lib[0].high = Some(d("70"));
        let scenario = Scenario {
            name: "x".into(),
            description: None,
            actions: vec![],
            case_study: None,
            equivalent: None,
            lines: vec![
                ScenarioLine {
                    activity: "ambulance-conveyance".into(),
                    change: Change::BeforeAfter {
                        before: d("100"),
                        after: d("60"),
                    },
                    published: None,
                },
                // The new pathway adds home visits: a negative saving.
                ScenarioLine {
                    activity: "gp-home-visit".into(),
                    change: Change::BeforeAfter {
                        before: d("0"),
                        after: d("50"),
                    },
                    published: None,
                },
            ],
        };
        let r = evaluate(&scenario, &lib).unwrap();
        assert_eq!(r.lines[0].kgco2e_saved, d("2240"));
        assert_eq!(r.lines[0].range, Some((d("1600"), d("2800"))));
        assert_eq!(r.lines[1].kgco2e_saved, d("-450"));
        assert_eq!(r.total_kgco2e_saved, d("1790"));
        assert_eq!(r.total_range, Some((d("1150"), d("2350"))));
        assert_eq!(r.total_equivalents, None);
        let unknown = Scenario {
            equivalent: Some("helicopter".into()),
            ..scenario
        };
        assert_eq!(
            evaluate(&unknown, &lib).unwrap_err(),
            PathwayError::UnknownActivity("helicopter".into())
        );
    }
}
