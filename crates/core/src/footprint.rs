//! The footprint: activity × factor, summed by whatever the reader asks for.
//!
//! Each activity row becomes one [`Emission`] that remembers the row and the factor it came
//! from, so every total can be explained. Amounts are exact decimals in kgCO2e; tonnes are
//! kg ÷ 1000, also exact.
//!
//! Scope 2 is reported two ways (GHG Protocol): *location-based* with the grid-average factor,
//! and *market-based* with the supplier's factor where the row names one (a zero-carbon tariff
//! is 0) and the grid average otherwise, as no UK residual-mix factor is published in the
//! conversion factor files.

use crate::activity::{Activity, RowProblem, RowRef};
use crate::category::{NhsCategory, Scope};
use crate::factor::Factor;
use crate::factor::{FactorSet, ResolveError};
use crate::ods::OdsCode;
use crate::period::FinancialYear;
use crate::unit::Unit;
use crate::unit::UnitError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// The emission of one activity row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emission {
    pub origin: RowRef,
    pub organisation: OdsCode,
    pub site: Option<String>,
    pub year: FinancialYear,
    pub scope: Scope,
    pub category: NhsCategory,
    /// Index of the factor in the factor set used.
    pub factor: usize,
    /// The quantity converted to the factor's unit.
    pub quantity_in_factor_unit: Decimal,
    /// Location-based kgCO2e.
    pub kgco2e: Decimal,
    /// Market-based kgCO2e (equal to location-based outside Scope 2).
    pub market_kgco2e: Decimal,
    pub gases: GasSplit,
}

/// kgCO2e of one emission by gas; `other` holds what the published parts do not add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasSplit {
    pub co2: Decimal,
    pub ch4: Decimal,
    pub n2o: Decimal,
    pub other: Decimal,
}

/// Converts one activity with its factor (and market-based factor, if any).
pub fn emission(
    activity: &Activity,
    factor_index: usize,
    factor: &Factor,
    market: Option<&Factor>,
) -> Result<Emission, UnitError> {
    let quantity =
        activity.quantity * basis_of(&activity.unit, factor).conversion_to(&factor.unit)?;
    let kgco2e = quantity * factor.kgco2e;
    let market_kgco2e = match market {
        Some(m) if factor.scope == Scope::Scope2 => {
            activity.quantity * basis_of(&activity.unit, m).conversion_to(&m.unit)? * m.kgco2e
        }
        _ => kgco2e,
    };
    let part = |p: Option<Decimal>| p.map_or(Decimal::ZERO, |v| v * quantity);
    let (co2, ch4, n2o) = (
        part(factor.gases.co2),
        part(factor.gases.ch4),
        part(factor.gases.n2o),
    );
    let gases =
        if factor.gases.co2.is_none() && factor.gases.ch4.is_none() && factor.gases.n2o.is_none() {
            GasSplit {
                other: kgco2e,
                ..GasSplit::default()
            }
        } else {
            GasSplit {
                co2,
                ch4,
                n2o,
                other: kgco2e - co2 - ch4 - n2o,
            }
        };
    Ok(Emission {
        origin: activity.origin.clone(),
        organisation: activity.organisation.clone(),
        site: activity.site.clone(),
        year: activity.financial_year(),
        scope: factor.scope,
        category: activity.category.unwrap_or_else(|| factor.category()),
        factor: factor_index,
        quantity_in_factor_unit: quantity,
        kgco2e,
        market_kgco2e,
        gases,
    })
}

/// A unit given without a calorific-value basis takes the basis of the factor it was resolved
/// to: resolution only picks such a factor when the choice is unambiguous (one row, or an
/// alias's documented default such as natural gas in kWh (Gross CV)).
fn basis_of(unit: &Unit, factor: &Factor) -> Unit {
    match (&unit.qualifier, &factor.unit.qualifier) {
        (None, Some(q)) => Unit {
            kind: unit.kind,
            qualifier: Some(q.clone()),
        },
        _ => unit.clone(),
    }
}

/// A dimension a footprint can be broken down by (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupBy {
    Organisation,
    Site,
    Scope,
    Category,
    Gas,
    Period,
}

impl GroupBy {
    pub fn column(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Site => "site",
            Self::Scope => "scope",
            Self::Category => "category",
            Self::Gas => "gas",
            Self::Period => "period",
        }
    }
}

/// Why a `--by` key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot break a footprint down by `{0}`: use organisation, site, scope, category, gas or period"
)]
pub struct UnknownGroupBy(pub String);

impl FromStr for GroupBy {
    type Err = UnknownGroupBy;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(match raw.trim().to_lowercase().as_str() {
            "organisation" | "org" | "organization" => Self::Organisation,
            "site" => Self::Site,
            "scope" => Self::Scope,
            "category" => Self::Category,
            "gas" => Self::Gas,
            "period" | "year" => Self::Period,
            _ => return Err(UnknownGroupBy(raw.to_string())),
        })
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

/// One line of a footprint table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootprintLine {
    /// One value per `--by` key, in order.
    pub key: Vec<String>,
    pub kgco2e: Decimal,
    pub market_kgco2e: Decimal,
    /// Indices of the emissions that make up this line.
    pub emissions: Vec<usize>,
}

impl FootprintLine {
    pub fn tco2e(&self) -> Decimal {
        self.kgco2e / Decimal::ONE_THOUSAND
    }
    pub fn market_tco2e(&self) -> Decimal {
        self.market_kgco2e / Decimal::ONE_THOUSAND
    }
}

/// A footprint broken down by some keys, lines sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootprintTable {
    pub by: Vec<GroupBy>,
    pub lines: Vec<FootprintLine>,
}

impl FootprintTable {
    pub fn total_kgco2e(&self) -> Decimal {
        self.lines.iter().map(|l| l.kgco2e).sum()
    }
}

/// Sums emissions by the given keys. Biogenic (outside of scopes) emissions stay in the table
/// under their own category and scope, so they are visible, but callers that report the NHS
/// footprints leave them out (see [`in_footprint`]).
pub fn aggregate(emissions: &[Emission], by: &[GroupBy]) -> FootprintTable {
    let mut agg = Aggregator::new(by, true);
    for (i, e) in emissions.iter().enumerate() {
        agg.add(i, e);
    }
    agg.finish()
}

/// Sums emissions one at a time, so a footprint of millions of rows never holds them all.
#[derive(Debug, Clone)]
pub struct Aggregator {
    by: Vec<GroupBy>,
    keep_indices: bool,
    lines: BTreeMap<Vec<String>, FootprintLine>,
}

impl Aggregator {
    /// `keep_indices` records which emissions make up each line (for `--explain`).
    pub fn new(by: &[GroupBy], keep_indices: bool) -> Self {
        Self {
            by: by.to_vec(),
            keep_indices,
            lines: BTreeMap::new(),
        }
    }

    /// Adds emission number `i`.
    pub fn add(&mut self, i: usize, e: &Emission) {
        let split_by_gas = self.by.contains(&GroupBy::Gas);
        let parts: Vec<(&str, Decimal, Decimal)> = if split_by_gas {
            let share = |v: Decimal| {
                if e.kgco2e.is_zero() {
                    Decimal::ZERO
                } else {
                    e.market_kgco2e * v / e.kgco2e
                }
            };
            [
                ("CO2", e.gases.co2),
                ("CH4", e.gases.ch4),
                ("N2O", e.gases.n2o),
                ("other", e.gases.other),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(g, v)| (g, v, share(v)))
            .collect()
        } else {
            vec![("", e.kgco2e, e.market_kgco2e)]
        };
        for (gas, kg, market) in parts {
            let key: Vec<String> = self.by.iter().map(|k| key_value(e, *k, gas)).collect();
            let line = self
                .lines
                .entry(key)
                .or_insert_with_key(|key| FootprintLine {
                    key: key.clone(),
                    kgco2e: Decimal::ZERO,
                    market_kgco2e: Decimal::ZERO,
                    emissions: Vec::new(),
                });
            line.kgco2e += kg;
            line.market_kgco2e += market;
            if self.keep_indices && line.emissions.last() != Some(&i) {
                line.emissions.push(i);
            }
        }
    }

    /// Adds another aggregator's sums (from a parallel batch).
    pub fn merge(&mut self, other: Aggregator) {
        for (key, line) in other.lines {
            match self.lines.get_mut(&key) {
                Some(mine) => {
                    mine.kgco2e += line.kgco2e;
                    mine.market_kgco2e += line.market_kgco2e;
                    mine.emissions.extend(line.emissions);
                }
                None => {
                    self.lines.insert(key, line);
                }
            }
        }
    }

    pub fn finish(self) -> FootprintTable {
        FootprintTable {
            by: self.by,
            lines: self.lines.into_values().collect(),
        }
    }
}

/// True for emissions that count towards the NHS footprints (not biogenic CO2).
pub fn in_footprint(e: &Emission) -> bool {
    e.scope != Scope::OutsideOfScopes
}

fn key_value(e: &Emission, key: GroupBy, gas: &str) -> String {
    match key {
        GroupBy::Organisation => e.organisation.to_string(),
        GroupBy::Site => e.site.clone().unwrap_or_default(),
        GroupBy::Scope => e.scope.label().to_string(),
        GroupBy::Category => e.category.slug().to_string(),
        GroupBy::Gas => gas.to_string(),
        GroupBy::Period => e.year.to_string(),
    }
}

/// Picks the factor edition for each activity and resolves its factor, caching by
/// (activity, unit, edition): a file names only a few distinct activities.
pub struct Resolver<'a> {
    factors: &'a FactorSet,
    /// `(edition name, year)` of every edition, for choosing by period.
    editions: Vec<(String, i32)>,
    pinned: Option<String>,
    cache: HashMap<(String, Unit, String), Result<usize, ResolveError>>,
}

impl<'a> Resolver<'a> {
    pub fn new(factors: &'a FactorSet, editions: Vec<(String, i32)>) -> Self {
        Self {
            factors,
            editions,
            pinned: None,
            cache: HashMap::new(),
        }
    }

    /// Uses `edition` for every activity, whatever the row or its period says
    /// (`greenplan footprint --edition`), to compare years like for like.
    pub fn pin(mut self, edition: Option<String>) -> Self {
        self.pinned = edition;
        self
    }

    /// The edition an activity uses: the one it pins, else the one for its financial year.
    pub fn edition_for(&self, a: &Activity) -> Option<String> {
        self.pinned
            .clone()
            .or_else(|| a.edition.clone())
            .or_else(|| {
                crate::factor::edition_for_year(
                    &self.editions,
                    FinancialYear::containing(a.period_start).0,
                )
                .map(str::to_string)
            })
    }

    /// Computes the emission of one activity, or says why it cannot.
    pub fn emission(&mut self, a: &Activity) -> Result<Emission, RowProblem> {
        let row_error = |column: &'static str, message: String| RowProblem { column, message };
        let edition = self.edition_for(a).ok_or_else(|| {
            row_error(
                "edition",
                "no conversion factors are loaded: run `greenplan factors import FILE` first"
                    .into(),
            )
        })?;
        let index = self
            .resolve(&a.activity, &a.unit, &edition)
            .map_err(|e| row_error("activity", e.to_string()))?;
        let market = match &a.market_factor {
            Some(m) => Some(
                self.resolve(m, &a.unit, &edition)
                    .map_err(|e| row_error("market_factor", e.to_string()))?,
            ),
            None => None,
        };
        let factor = &self.factors.factors()[index];
        emission(a, index, factor, market.map(|i| &self.factors.factors()[i]))
            .map_err(|e| row_error("unit", e.to_string()))
    }

    fn resolve(
        &mut self,
        activity: &str,
        unit: &Unit,
        edition: &str,
    ) -> Result<usize, ResolveError> {
        let key = (activity.to_string(), unit.clone(), edition.to_string());
        if let Some(hit) = self.cache.get(&key) {
            return hit.clone();
        }
        let result = self.factors.resolve(activity, unit, edition);
        self.cache.insert(key, result.clone());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::GasParts;
    use chrono::NaiveDate;

    fn activity(org: &str, qty: &str, unit: &str) -> Activity {
        Activity {
            origin: RowRef {
                source: "t.csv".into(),
                row: 2,
            },
            organisation: OdsCode::parse(org).unwrap(),
            site: Some("Main".into()),
            period_start: NaiveDate::from_ymd_opt(2023, 4, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2023, 4, 30).unwrap(),
            activity: "natural-gas".into(),
            quantity: qty.parse().unwrap(),
            unit: unit.parse().unwrap(),
            edition: None,
            category: None,
            market_factor: None,
            notes: None,
        }
    }

    fn gas_factor() -> Factor {
        Factor {
            edition: "uk-2023".into(),
            scope: Scope::Scope1,
            levels: vec!["Fuels".into(), "Gaseous fuels".into(), "Natural gas".into()],
            column_text: None,
            unit_text: "kWh (Gross CV)".into(),
            unit: "kWh (Gross CV)".parse().unwrap(),
            kgco2e: "0.18293".parse().unwrap(),
            gases: GasParts {
                co2: Some("0.18256".parse().unwrap()),
                ch4: Some("0.00028".parse().unwrap()),
                n2o: Some("0.00009".parse().unwrap()),
            },
            activity: None,
            category: None,
            source: "test".into(),
        }
    }

    #[test]
    fn converts_units_then_multiplies_exactly() {
        let f = gas_factor();
        let e = emission(&activity("RTG", "2.5", "MWh (Gross CV)"), 0, &f, None).unwrap();
        assert_eq!(e.kgco2e, "457.325".parse().unwrap());
        assert_eq!(
            e.gases.co2 + e.gases.ch4 + e.gases.n2o + e.gases.other,
            e.kgco2e
        );
        assert_eq!(e.category, NhsCategory::BuildingEnergy);
        assert_eq!(e.year, FinancialYear(2023));
    }

    #[test]
    fn aggregates_by_keys_in_order() {
        let f = gas_factor();
        let es = vec![
            emission(&activity("RTG", "1000", "kWh (Gross CV)"), 0, &f, None).unwrap(),
            emission(&activity("RTG", "2000", "kWh (Gross CV)"), 0, &f, None).unwrap(),
            emission(&activity("RFS", "1000", "kWh (Gross CV)"), 0, &f, None).unwrap(),
        ];
        let t = aggregate(&es, &[GroupBy::Organisation]);
        assert_eq!(t.lines.len(), 2);
        assert_eq!(t.lines[0].key, vec!["RFS"]);
        assert_eq!(t.lines[1].kgco2e, "548.79".parse().unwrap());
        assert_eq!(t.lines[1].emissions, vec![0, 1]);
        assert_eq!(t.total_kgco2e(), "731.72".parse().unwrap());
        let by_gas = aggregate(&es, &[GroupBy::Gas]);
        assert_eq!(by_gas.total_kgco2e(), t.total_kgco2e());
        assert_eq!(
            by_gas
                .lines
                .iter()
                .find(|l| l.key[0] == "CO2")
                .unwrap()
                .kgco2e,
            "730.24".parse().unwrap()
        );
    }

    #[test]
    fn market_based_uses_the_tariff_for_scope_2_only() {
        let mut grid = gas_factor();
        grid.scope = Scope::Scope2;
        grid.unit = "kWh".parse().unwrap();
        grid.kgco2e = "0.20707".parse().unwrap();
        let mut tariff = grid.clone();
        tariff.kgco2e = Decimal::ZERO;
        let e = emission(&activity("RFS", "1000", "kWh"), 0, &grid, Some(&tariff)).unwrap();
        assert_eq!(e.kgco2e, "207.07".parse().unwrap());
        assert_eq!(e.market_kgco2e, Decimal::ZERO);
    }
}
