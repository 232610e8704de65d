//! Conversion factors: the UK Government GHG conversion factors (one *edition* a year) and
//! users' own factors, and how an activity names the factor that converts it to CO2e.
//!
//! An activity names its factor in one of three ways, tried in this order:
//! 1. the `activity` name of a custom factor (`supplier-tariff-edf-nuclear`);
//! 2. a short alias from [`ALIASES`] (`natural-gas`, `grid-electricity`, `diesel`…);
//! 3. the factor's path, Level 1 to Level 4 then the column text, joined by `>`
//!    (`Fuels > Gaseous fuels > Natural gas`). A path may stop early; the unit then picks the
//!    row (the files hold one row per unit: kWh (Gross CV), kWh (Net CV), cubic metres…).
//!
//! The unit decides between rows of the same path. A unit in another dimension than every row
//! is an error; a unit without a calorific-value basis where the factor needs one is an error
//! too (unless the alias documents a default), because guessing would mis-state gas use by
//! about 10%.

use crate::category::{NhsCategory, Scope, default_category};
use crate::unit::{Dimension, Unit};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The parts of a CO2e factor by gas, each itself in kgCO2e per unit, as the files publish
/// them. Any remainder (other gases, rounding in the file) is `total - co2 - ch4 - n2o`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasParts {
    pub co2: Option<Decimal>,
    pub ch4: Option<Decimal>,
    pub n2o: Option<Decimal>,
}

/// One conversion factor: kgCO2e per unit of one activity, from one edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub edition: String,
    pub scope: Scope,
    /// Level 1 to Level 4 of the official files, empty levels left out.
    pub levels: Vec<String>,
    pub column_text: Option<String>,
    /// The unit as published (`kWh (Gross CV)`).
    pub unit_text: String,
    pub unit: Unit,
    pub kgco2e: Decimal,
    pub gases: GasParts,
    /// For custom factors: the name activity rows use.
    pub activity: Option<String>,
    /// For custom factors: the NHS category they belong to.
    pub category: Option<NhsCategory>,
    /// Where the figure comes from: file and row, or the user's source text.
    pub source: String,
}

impl Factor {
    /// Level 1..4 and the column text, the segments a path is matched against.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.levels
            .iter()
            .map(String::as_str)
            .chain(self.column_text.as_deref())
    }

    /// The path, `Fuels > Gaseous fuels > Natural gas`.
    pub fn path(&self) -> String {
        if let Some(a) = &self.activity {
            return a.clone();
        }
        self.segments().collect::<Vec<_>>().join(" > ")
    }

    /// The path with the unit, unique within an edition: `Fuels > … > Natural gas [kWh (Gross CV)]`.
    pub fn key(&self) -> String {
        format!("{} [{}]", self.path(), self.unit_text)
    }

    /// The NHS category of this factor's emissions, before any per-activity override.
    pub fn category(&self) -> NhsCategory {
        self.category.unwrap_or_else(|| {
            default_category(self.scope, self.levels.first().map_or("", String::as_str))
        })
    }
}

/// A named shortcut to a factor path, documented for users.
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    pub name: &'static str,
    pub description: &'static str,
    /// Paths tried in order (the files rename headings between years).
    pub paths: &'static [&'static str],
    /// Basis assumed for energy given without one. Gas bills are in kWh (Gross CV).
    pub default_qualifier: Option<&'static str>,
}

/// The short aliases activity files may use instead of a full path. Each is checked against
/// the 2019-2023 editions by a test. There is no recycling alias: the files publish no
/// figure for commercial and industrial waste recycled (the cell is empty in every edition).
pub const ALIASES: &[Alias] = &[
    Alias {
        name: "natural-gas",
        description: "Natural gas (mains); kWh without a basis are read as kWh (Gross CV), as on gas bills",
        paths: &["Fuels > Gaseous fuels > Natural gas"],
        default_qualifier: Some("Gross CV"),
    },
    Alias {
        name: "grid-electricity",
        description: "UK grid electricity generated (location-based Scope 2)",
        paths: &["UK electricity > Electricity generated > Electricity: UK"],
        default_qualifier: None,
    },
    Alias {
        name: "electricity-td-losses",
        description: "Transmission and distribution losses of UK grid electricity (Scope 3)",
        paths: &["Transmission and distribution > T&D- UK electricity"],
        default_qualifier: None,
    },
    Alias {
        name: "diesel",
        description: "Diesel (average biofuel blend), e.g. litres",
        paths: &["Fuels > Liquid fuels > Diesel (average biofuel blend)"],
        default_qualifier: Some("Gross CV"),
    },
    Alias {
        name: "petrol",
        description: "Petrol (average biofuel blend), e.g. litres",
        paths: &["Fuels > Liquid fuels > Petrol (average biofuel blend)"],
        default_qualifier: Some("Gross CV"),
    },
    Alias {
        name: "burning-oil",
        description: "Burning oil (kerosene heating oil)",
        paths: &["Fuels > Liquid fuels > Burning oil"],
        default_qualifier: Some("Gross CV"),
    },
    Alias {
        name: "gas-oil",
        description: "Gas oil (red diesel), e.g. for standby generators",
        paths: &["Fuels > Liquid fuels > Gas oil"],
        default_qualifier: Some("Gross CV"),
    },
    Alias {
        name: "lpg",
        description: "Liquefied petroleum gas",
        paths: &["Fuels > Liquid fuels > LPG", "Fuels > Gaseous fuels > LPG"],
        default_qualifier: Some("Gross CV"),
    },
    Alias {
        name: "business-car",
        description: "Business travel in an average car of unknown fuel (grey fleet), km or miles",
        paths: &["Business travel- land > Cars (by size) > Average car > Unknown"],
        default_qualifier: None,
    },
    Alias {
        name: "business-car-diesel",
        description: "Business travel in an average diesel car, km or miles",
        paths: &["Business travel- land > Cars (by size) > Average car > Diesel"],
        default_qualifier: None,
    },
    Alias {
        name: "business-car-petrol",
        description: "Business travel in an average petrol car, km or miles",
        paths: &["Business travel- land > Cars (by size) > Average car > Petrol"],
        default_qualifier: None,
    },
    Alias {
        name: "business-car-electric",
        description: "Business travel in an average battery electric car, km or miles",
        paths: &["Business travel- land > Cars (by size) > Average car > Battery Electric Vehicle"],
        default_qualifier: None,
    },
    Alias {
        name: "rail",
        description: "National rail travel, passenger.km",
        paths: &["Business travel- land > Rail > National rail"],
        default_qualifier: None,
    },
    Alias {
        name: "waste-landfill",
        description: "Commercial and industrial waste to landfill, tonnes",
        paths: &["Waste disposal > Refuse > Commercial and industrial waste > Landfill"],
        default_qualifier: None,
    },
    Alias {
        name: "waste-combustion",
        description: "Commercial and industrial waste to energy from waste (combustion), tonnes",
        paths: &["Waste disposal > Refuse > Commercial and industrial waste > Combustion"],
        default_qualifier: None,
    },
    Alias {
        name: "water-supply",
        description: "Mains water supplied, cubic metres",
        paths: &["Water supply > Water supply > Water supply"],
        default_qualifier: None,
    },
    Alias {
        name: "water-treatment",
        description: "Waste water treated, cubic metres",
        paths: &["Water treatment > Water treatment > Water treatment"],
        default_qualifier: None,
    },
];

/// Why no single factor could be found for an activity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no factor edition `{0}` is loaded: import one with `greenplan factors import FILE`")]
    UnknownEdition(String),
    #[error(
        "unknown activity `{activity}` in edition {edition}: use a factor path such as `Fuels > Gaseous fuels > Natural gas`, a custom factor's activity name, or an alias ({aliases}); `greenplan factors list --search TEXT` finds paths"
    )]
    UnknownActivity {
        activity: String,
        edition: String,
        aliases: String,
    },
    #[error(
        "`{activity}` has no factor per {unit} ({dimension}) in edition {edition}; it has factors per {available}"
    )]
    NoFactorForUnit {
        activity: String,
        unit: String,
        dimension: Dimension,
        edition: String,
        available: String,
    },
    #[error(
        "`{activity}` in {unit} is ambiguous in edition {edition}: it could be {candidates}; name the full path or add the basis to the unit, e.g. `kWh (Gross CV)`"
    )]
    Ambiguous {
        activity: String,
        unit: String,
        edition: String,
        candidates: String,
    },
}

/// All loaded factors, indexed for lookup by edition.
#[derive(Debug, Clone, Default)]
pub struct FactorSet {
    factors: Vec<Factor>,
    by_edition: HashMap<String, Vec<usize>>,
}

impl FactorSet {
    pub fn new(factors: Vec<Factor>) -> Self {
        let mut by_edition: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in factors.iter().enumerate() {
            by_edition.entry(f.edition.clone()).or_default().push(i);
        }
        Self {
            factors,
            by_edition,
        }
    }

    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    pub fn get(&self, index: usize) -> Option<&Factor> {
        self.factors.get(index)
    }

    pub fn has_edition(&self, edition: &str) -> bool {
        self.by_edition.contains_key(edition)
    }

    pub fn editions(&self) -> Vec<&str> {
        let mut e: Vec<&str> = self.by_edition.keys().map(String::as_str).collect();
        e.sort();
        e
    }

    /// Finds the one factor that converts `activity` measured in `unit`, in `edition`.
    /// Returns its index in [`FactorSet::factors`].
    pub fn resolve(
        &self,
        activity: &str,
        unit: &Unit,
        edition: &str,
    ) -> Result<usize, ResolveError> {
        let indices = self
            .by_edition
            .get(edition)
            .ok_or_else(|| ResolveError::UnknownEdition(edition.to_string()))?;
        let wanted = normalise(activity);

        // 1. A custom factor's activity name.
        let custom: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| {
                self.factors[i]
                    .activity
                    .as_deref()
                    .map(normalise)
                    .as_deref()
                    == Some(wanted.as_str())
            })
            .collect();
        if !custom.is_empty() {
            return self.pick_by_unit(activity, unit, edition, custom, None);
        }

        // 2. An alias, 3. a path.
        let (paths, default_qualifier): (Vec<Vec<String>>, Option<&str>) = match ALIASES
            .iter()
            .find(|a| a.name == wanted || normalise(a.name) == wanted)
        {
            Some(alias) => (
                alias.paths.iter().map(|p| split_path(p)).collect(),
                alias.default_qualifier,
            ),
            None => (vec![split_path(activity)], None),
        };
        let candidates: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| {
                let f = &self.factors[i];
                f.activity.is_none() && paths.iter().any(|p| path_matches(f, p))
            })
            .collect();
        if candidates.is_empty() {
            return Err(ResolveError::UnknownActivity {
                activity: activity.to_string(),
                edition: edition.to_string(),
                aliases: ALIASES
                    .iter()
                    .map(|a| a.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        self.pick_by_unit(activity, unit, edition, candidates, default_qualifier)
    }

    fn pick_by_unit(
        &self,
        activity: &str,
        unit: &Unit,
        edition: &str,
        candidates: Vec<usize>,
        default_qualifier: Option<&str>,
    ) -> Result<usize, ResolveError> {
        let same_dimension: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| self.factors[i].unit.dimension() == unit.dimension())
            .collect();
        if same_dimension.is_empty() {
            let mut available: Vec<String> = candidates
                .iter()
                .map(|&i| self.factors[i].unit_text.clone())
                .collect();
            available.sort();
            available.dedup();
            return Err(ResolveError::NoFactorForUnit {
                activity: activity.to_string(),
                unit: unit.to_string(),
                dimension: unit.dimension(),
                edition: edition.to_string(),
                available: available.join(", "),
            });
        }
        // Match the calorific-value basis: exactly, or by the alias's documented default.
        let qualifier = unit.qualifier.as_deref().or(default_qualifier);
        let mut matching: Vec<usize> = same_dimension
            .iter()
            .copied()
            .filter(|&i| {
                let fq = self.factors[i].unit.qualifier.as_deref();
                fq.is_none() || fq == qualifier
            })
            .collect();
        if matching.is_empty() {
            matching = same_dimension.clone();
        }
        // Prefer a row in the very unit given (no conversion needed).
        let exact: Vec<usize> = matching
            .iter()
            .copied()
            .filter(|&i| self.factors[i].unit.kind == unit.kind)
            .collect();
        let chosen = if exact.is_empty() { matching } else { exact };
        match chosen.as_slice() {
            [one] => Ok(*one),
            many => {
                let mut keys: Vec<String> = many.iter().map(|&i| self.factors[i].key()).collect();
                keys.sort();
                keys.dedup();
                if keys.len() == 1 {
                    return Ok(many[0]);
                }
                Err(ResolveError::Ambiguous {
                    activity: activity.to_string(),
                    unit: unit.to_string(),
                    edition: edition.to_string(),
                    candidates: keys.into_iter().take(6).collect::<Vec<_>>().join("; "),
                })
            }
        }
    }

    /// Factors whose path, unit or activity name contains `text` (case-insensitive).
    pub fn search<'a>(
        &'a self,
        edition: Option<&'a str>,
        text: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Factor> + 'a {
        let needle = text.map(str::to_lowercase);
        self.factors.iter().filter(move |f| {
            edition.is_none_or(|e| f.edition == e)
                && needle
                    .as_ref()
                    .is_none_or(|n| f.key().to_lowercase().contains(n))
        })
    }
}

/// The edition used for an activity in a period: the edition published for the year the
/// period's financial year starts in (2023/24 uses `uk-2023`), else the latest earlier edition,
/// else the earliest edition there is. `editions` are `(name, year)` pairs.
pub fn edition_for_year(editions: &[(String, i32)], financial_year_start: i32) -> Option<&str> {
    let exact = editions.iter().find(|(_, y)| *y == financial_year_start);
    let earlier = editions
        .iter()
        .filter(|(_, y)| *y < financial_year_start)
        .max_by_key(|(_, y)| *y);
    let earliest = editions.iter().min_by_key(|(_, y)| *y);
    exact.or(earlier).or(earliest).map(|(n, _)| n.as_str())
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn split_path(path: &str) -> Vec<String> {
    path.split('>')
        .map(normalise)
        .filter(|s| !s.is_empty())
        .collect()
}

fn path_matches(f: &Factor, wanted: &[String]) -> bool {
    let mut segments = f.segments();
    wanted
        .iter()
        .all(|w| segments.next().is_some_and(|s| normalise(s) == *w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn factor(levels: &[&str], column: Option<&str>, unit: &str, kg: &str) -> Factor {
        Factor {
            edition: "uk-2023".into(),
            scope: Scope::Scope1,
            levels: levels.iter().map(|s| s.to_string()).collect(),
            column_text: column.map(str::to_string),
            unit_text: unit.into(),
            unit: unit.parse().unwrap(),
            kgco2e: Decimal::from_str(kg).unwrap(),
            gases: GasParts::default(),
            activity: None,
            category: None,
            source: "test".into(),
        }
    }

    fn gas_set() -> FactorSet {
        let gas = ["Fuels", "Gaseous fuels", "Natural gas"];
        FactorSet::new(vec![
            factor(&gas, None, "kWh (Gross CV)", "0.18293"),
            factor(&gas, None, "kWh (Net CV)", "0.20267"),
            factor(&gas, None, "cubic metres", "2.03839"),
        ])
    }

    #[test]
    fn unit_picks_the_row() {
        let set = gas_set();
        let path = "Fuels > Gaseous fuels > Natural gas";
        let i = set
            .resolve(path, &"m3".parse().unwrap(), "uk-2023")
            .unwrap();
        assert_eq!(set.factors()[i].unit_text, "cubic metres");
        let i = set
            .resolve(path, &"MWh (Net CV)".parse().unwrap(), "uk-2023")
            .unwrap();
        assert_eq!(set.factors()[i].unit_text, "kWh (Net CV)");
    }

    #[test]
    fn energy_without_a_basis_is_ambiguous_by_path_but_not_by_alias() {
        let set = gas_set();
        let err = set
            .resolve(
                "fuels>gaseous fuels>natural gas",
                &"kWh".parse().unwrap(),
                "uk-2023",
            )
            .unwrap_err();
        assert!(matches!(err, ResolveError::Ambiguous { .. }), "{err}");
        let i = set
            .resolve("natural-gas", &"kWh".parse().unwrap(), "uk-2023")
            .unwrap();
        assert_eq!(set.factors()[i].unit_text, "kWh (Gross CV)");
    }

    #[test]
    fn wrong_dimension_names_what_is_available() {
        let set = gas_set();
        let err = set
            .resolve("natural-gas", &"km".parse().unwrap(), "uk-2023")
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("cubic metres") && text.contains("kWh (Gross CV)"),
            "{text}"
        );
    }

    #[test]
    fn unknown_activity_and_edition() {
        let set = gas_set();
        assert!(matches!(
            set.resolve("unobtainium", &"kg".parse().unwrap(), "uk-2023"),
            Err(ResolveError::UnknownActivity { .. })
        ));
        assert!(matches!(
            set.resolve("natural-gas", &"kWh".parse().unwrap(), "uk-1999"),
            Err(ResolveError::UnknownEdition(_))
        ));
    }

    #[test]
    fn edition_follows_the_financial_year() {
        let eds = vec![("uk-2019".to_string(), 2019), ("uk-2023".to_string(), 2023)];
        assert_eq!(edition_for_year(&eds, 2023), Some("uk-2023"));
        assert_eq!(edition_for_year(&eds, 2025), Some("uk-2023"));
        assert_eq!(edition_for_year(&eds, 2021), Some("uk-2019"));
        assert_eq!(edition_for_year(&eds, 2010), Some("uk-2019"));
        assert_eq!(edition_for_year(&[], 2010), None);
    }
}
