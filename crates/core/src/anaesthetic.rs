//! Anaesthetic gases: a trust's monthly use of desflurane, sevoflurane, isoflurane and nitrous
//! oxide turned into kgCO2e with a chosen set of global warming potentials, recorded on every
//! figure, and the loss of piped nitrous oxide (bought but not given to patients) that
//! capping pipework removes.
//!
//! The GWP sets differ by source (DOMAIN.md): the choice changes the figure, so it is never
//! implicit. Physical constants (liquid densities, gas density, cylinder sizes) are below with
//! their sources.

use crate::period::{FinancialYear, YearMonth};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An anaesthetic agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agent {
    Desflurane,
    Sevoflurane,
    Isoflurane,
    NitrousOxide,
    /// 50% nitrous oxide, 50% oxygen: counted as half its volume of nitrous oxide.
    Entonox,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::Desflurane,
        Agent::Sevoflurane,
        Agent::Isoflurane,
        Agent::NitrousOxide,
        Agent::Entonox,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Desflurane => "desflurane",
            Self::Sevoflurane => "sevoflurane",
            Self::Isoflurane => "isoflurane",
            Self::NitrousOxide => "nitrous-oxide",
            Self::Entonox => "entonox",
        }
    }

    /// Volatile agents are liquids bought in bottles; the others are gases.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            Self::Desflurane | Self::Sevoflurane | Self::Isoflurane
        )
    }

    /// Liquid density in kg per ml at 20 °C (manufacturers' safety data sheets:
    /// desflurane 1.465, sevoflurane 1.52, isoflurane 1.496 g/ml).
    fn kg_per_ml(self) -> Option<Decimal> {
        match self {
            Self::Desflurane => Some(Decimal::new(1465, 6)),
            Self::Sevoflurane => Some(Decimal::new(1520, 6)),
            Self::Isoflurane => Some(Decimal::new(1496, 6)),
            _ => None,
        }
    }

    /// Millilitres in the bottle trusts buy (desflurane 240 ml, sevoflurane and isoflurane
    /// 250 ml: the common UK packs).
    fn bottle_ml(self) -> Option<Decimal> {
        match self {
            Self::Desflurane => Some(Decimal::from(240)),
            Self::Sevoflurane | Self::Isoflurane => Some(Decimal::from(250)),
            _ => None,
        }
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GasError {
    #[error(
        "`{0}` is not an agent: write desflurane, sevoflurane, isoflurane, nitrous-oxide or entonox"
    )]
    Agent(String),
    #[error(
        "`{0}` is not a unit for anaesthetic gases: write ml, bottles, litres, kg, or a cylinder size (cylinder-C, -D, -E, -F, -G, -J)"
    )]
    Unit(String),
    #[error("{agent} cannot be measured in {unit}: {hint}")]
    UnitForAgent {
        agent: Agent,
        unit: GasUnit,
        hint: &'static str,
    },
    #[error("`{0}` is not a GWP set: write ar5, aoa or rcoa")]
    GwpSet(String),
    #[error(
        "`{quantity} {unit}` of {agent} is more than one return can hold: the largest is 1,000,000,000,000 kg; check the figure and its unit"
    )]
    TooLarge {
        agent: Agent,
        quantity: Decimal,
        unit: GasUnit,
    },
}

impl FromStr for Agent {
    type Err = GasError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        Self::ALL
            .into_iter()
            .find(|a| a.slug() == t)
            .or(match t.as_str() {
                "n2o" => Some(Self::NitrousOxide),
                _ => None,
            })
            .ok_or_else(|| GasError::Agent(s.trim().to_string()))
    }
}

/// Units trusts return gases in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GasUnit {
    Ml,
    Bottles,
    Litres,
    Kg,
    /// A gas cylinder by its size letter.
    Cylinder(char),
}

impl fmt::Display for GasUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ml => f.write_str("ml"),
            Self::Bottles => f.write_str("bottles"),
            Self::Litres => f.write_str("litres"),
            Self::Kg => f.write_str("kg"),
            Self::Cylinder(c) => write!(f, "cylinder-{c}"),
        }
    }
}

impl FromStr for GasUnit {
    type Err = GasError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "ml" | "millilitres" => Ok(Self::Ml),
            "bottle" | "bottles" => Ok(Self::Bottles),
            "l" | "litre" | "litres" | "liters" => Ok(Self::Litres),
            "kg" => Ok(Self::Kg),
            _ => {
                let size = t
                    .strip_prefix("cylinder-")
                    .or_else(|| t.strip_prefix("cylinder "))
                    .or_else(|| t.strip_prefix("size "))
                    .map(|s| s.trim().to_ascii_uppercase());
                match size.as_deref() {
                    Some(c @ ("C" | "D" | "E" | "F" | "G" | "J")) => {
                        Ok(Self::Cylinder(c.chars().next().unwrap_or('E')))
                    }
                    _ => Err(GasError::Unit(s.trim().to_string())),
                }
            }
        }
    }
}

/// Litres of gas in a full nitrous oxide cylinder of each size (BOC medical gas data:
/// C 450, D 900, E 1,800, F 3,600, G 9,000, J 18,000 litres; *unverified*, check against
/// the supplier's current sheet).
fn cylinder_litres(size: char) -> Option<Decimal> {
    Some(Decimal::from(match size {
        'C' => 450,
        'D' => 900,
        'E' => 1800,
        'F' => 3600,
        'G' => 9000,
        'J' => 18000,
        _ => return None,
    }))
}

/// Density of nitrous oxide gas at 0 °C and 1 atm: 1.977 g/l, i.e. 0.001977 kg per litre.
const N2O_KG_PER_LITRE: Decimal = Decimal::from_parts(1977, 0, 0, false, 6);

/// A set of global warming potentials (100 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GwpSet {
    /// IPCC AR5 (WG1 Table 8.A.1): desflurane 2,540, isoflurane 491, sevoflurane 216,
    /// nitrous oxide 265.
    Ar5,
    /// Association of Anaesthetists: desflurane 2,540, isoflurane 510, sevoflurane 130,
    /// nitrous oxide 298.
    #[default]
    Aoa,
    /// Royal College of Anaesthetists' calculator: 2,720 / 565 / 205 / 265.
    Rcoa,
}

impl GwpSet {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Ar5 => "ar5",
            Self::Aoa => "aoa",
            Self::Rcoa => "rcoa",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Ar5 => "IPCC AR5 GWP100",
            Self::Aoa => "Association of Anaesthetists GWP100",
            Self::Rcoa => "RCoA calculator GWP100",
        }
    }

    /// kgCO2e per kg of the agent (Entonox is counted through its nitrous oxide).
    pub fn gwp(self, agent: Agent) -> Decimal {
        let (des, iso, sevo, n2o) = match self {
            Self::Ar5 => (2540, 491, 216, 265),
            Self::Aoa => (2540, 510, 130, 298),
            Self::Rcoa => (2720, 565, 205, 265),
        };
        Decimal::from(match agent {
            Agent::Desflurane => des,
            Agent::Isoflurane => iso,
            Agent::Sevoflurane => sevo,
            Agent::NitrousOxide | Agent::Entonox => n2o,
        })
    }
}

impl FromStr for GwpSet {
    type Err = GasError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ar5" => Ok(Self::Ar5),
            "aoa" | "association-of-anaesthetists" => Ok(Self::Aoa),
            "rcoa" => Ok(Self::Rcoa),
            _ => Err(GasError::GwpSet(s.trim().to_string())),
        }
    }
}

impl fmt::Display for GwpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// How nitrous oxide reached the trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Supply {
    Piped,
    Portable,
}

/// What a returned quantity measures: bought (all of it ends up in the air) or given to
/// patients (what the clinical record shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    Purchased,
    ClinicalUse,
}

/// One line of a trust's monthly return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasUse {
    pub organisation: String,
    pub month: YearMonth,
    pub agent: Agent,
    pub quantity: Decimal,
    pub unit: GasUnit,
    pub supply: Option<Supply>,
    pub basis: Basis,
}

impl GasUse {
    /// The kilograms of the agent itself (Entonox: of its nitrous oxide).
    pub fn kg(&self) -> Result<Decimal, GasError> {
        let wrong = |hint| GasError::UnitForAgent {
            agent: self.agent,
            unit: self.unit,
            hint,
        };
        let too_large = || GasError::TooLarge {
            agent: self.agent,
            quantity: self.quantity.normalize(),
            unit: self.unit,
        };
        let times = |a: Decimal, b: Decimal| a.checked_mul(b).ok_or_else(too_large);
        let kg = match (self.unit, self.agent.kg_per_ml()) {
            (GasUnit::Kg, _) => self.quantity,
            (GasUnit::Ml, Some(density)) => times(self.quantity, density)?,
            (GasUnit::Bottles, Some(density)) => times(
                times(self.quantity, self.agent.bottle_ml().unwrap_or_default())?,
                density,
            )?,
            (GasUnit::Litres, None) => times(self.quantity, N2O_KG_PER_LITRE)?,
            (GasUnit::Cylinder(c), None) => times(
                times(
                    self.quantity,
                    cylinder_litres(c).ok_or_else(|| wrong("unknown cylinder size"))?,
                )?,
                N2O_KG_PER_LITRE,
            )?,
            (GasUnit::Ml | GasUnit::Bottles, None) => {
                return Err(wrong("a gas is returned in litres, kg or cylinders"));
            }
            (GasUnit::Litres | GasUnit::Cylinder(_), Some(_)) => {
                return Err(wrong("a volatile agent is returned in ml, bottles or kg"));
            }
        };
        // The bound of every mass (10^12 kg, `quantity::largest`): the NHS buys a few thousand
        // tonnes of anaesthetic gases a year.
        crate::quantity::check_bound(kg, &crate::unit::Unit::new(crate::unit::UnitKind::Kilogram))
            .map_err(|_| too_large())?;
        Ok(if self.agent == Agent::Entonox {
            kg / Decimal::TWO
        } else {
            kg
        })
    }

    /// kgCO2e of the quantity with `set`'s GWP.
    pub fn kgco2e(&self, set: GwpSet) -> Result<Decimal, GasError> {
        // At most 10^12 kg times a GWP in the thousands: cannot overflow, but checked anyway.
        self.kg()?
            .checked_mul(set.gwp(self.agent))
            .ok_or(GasError::TooLarge {
                agent: self.agent,
                quantity: self.quantity.normalize(),
                unit: self.unit,
            })
    }
}

/// Carbon of one trust's month, by agent, with the GWP set used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GasMonth {
    pub organisation: String,
    pub month: YearMonth,
    pub gwp_set: GwpSet,
    /// kgCO2e of purchased gas by agent (Entonox counted with nitrous oxide).
    pub kgco2e: BTreeMap<Agent, Decimal>,
    pub total_kgco2e: Decimal,
    /// Piped nitrous oxide bought and given to patients, kg (when returned).
    pub piped_n2o_purchased_kg: Option<Decimal>,
    pub piped_n2o_clinical_kg: Option<Decimal>,
}

impl GasMonth {
    /// Piped nitrous oxide lost (bought but not given), kg and share of what was bought.
    pub fn piped_loss(&self) -> Option<(Decimal, Option<Decimal>)> {
        let (bought, used) = (self.piped_n2o_purchased_kg?, self.piped_n2o_clinical_kg?);
        let loss = bought.saturating_sub(used);
        Some((loss, crate::prescribing::ratio(loss, bought)))
    }

    /// kgCO2e of nitrous oxide (including Entonox's).
    pub fn nitrous_oxide_kgco2e(&self) -> Decimal {
        self.kgco2e
            .get(&Agent::NitrousOxide)
            .copied()
            .unwrap_or_default()
    }
}

/// Sums returns per trust and month with `set`. Only purchased quantities are emissions.
pub fn gas_months(uses: &[GasUse], set: GwpSet) -> Result<Vec<GasMonth>, GasError> {
    let mut out: BTreeMap<(String, YearMonth), GasMonth> = BTreeMap::new();
    for u in uses {
        let m = out
            .entry((u.organisation.clone(), u.month))
            .or_insert_with(|| GasMonth {
                organisation: u.organisation.clone(),
                month: u.month,
                gwp_set: set,
                kgco2e: BTreeMap::new(),
                total_kgco2e: Decimal::ZERO,
                piped_n2o_purchased_kg: None,
                piped_n2o_clinical_kg: None,
            });
        let kg = u.kg()?;
        if u.supply == Some(Supply::Piped) && u.agent == Agent::NitrousOxide {
            let slot = match u.basis {
                Basis::Purchased => &mut m.piped_n2o_purchased_kg,
                Basis::ClinicalUse => &mut m.piped_n2o_clinical_kg,
            };
            *slot = Some(slot.unwrap_or_default().saturating_add(kg));
        }
        if u.basis == Basis::Purchased {
            let agent = if u.agent == Agent::Entonox {
                Agent::NitrousOxide
            } else {
                u.agent
            };
            let too_large = || GasError::TooLarge {
                agent: u.agent,
                quantity: u.quantity.normalize(),
                unit: u.unit,
            };
            let co2e = kg.checked_mul(set.gwp(u.agent)).ok_or_else(too_large)?;
            let slot = m.kgco2e.entry(agent).or_default();
            *slot = slot.checked_add(co2e).ok_or_else(too_large)?;
            m.total_kgco2e = m.total_kgco2e.checked_add(co2e).ok_or_else(too_large)?;
        }
    }
    Ok(out.into_values().collect())
}

/// One trust's financial year of gas returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustYear {
    pub organisation: String,
    pub year: FinancialYear,
    /// Months with a return.
    pub months: u32,
    pub total_kgco2e: Decimal,
    pub nitrous_oxide_kgco2e: Decimal,
    /// Piped nitrous oxide bought but not given to patients, kg, over the months that
    /// returned both.
    pub piped_n2o_loss_kg: Option<Decimal>,
    /// Percentage fall in nitrous oxide kgCO2e on the trust's year before (one decimal place,
    /// half to even); `None` for a trust's first year or after a year without any.
    pub nitrous_oxide_reduction: Option<Decimal>,
}

impl TrustYear {
    /// Whether the fall in nitrous oxide meets a target reduction (a percentage).
    pub fn meets(&self, target_reduction: Decimal) -> Option<bool> {
        self.nitrous_oxide_reduction.map(|r| r >= target_reduction)
    }
}

/// Sums each trust's months per financial year, with the fall in nitrous oxide on the year
/// before (the national target is a percentage reduction).
pub fn trust_years(months: &[GasMonth]) -> Vec<TrustYear> {
    let mut years: BTreeMap<(String, FinancialYear), TrustYear> = BTreeMap::new();
    for m in months {
        let year = FinancialYear::containing(m.month.start());
        let y = years
            .entry((m.organisation.clone(), year))
            .or_insert_with(|| TrustYear {
                organisation: m.organisation.clone(),
                year,
                months: 0,
                total_kgco2e: Decimal::ZERO,
                nitrous_oxide_kgco2e: Decimal::ZERO,
                piped_n2o_loss_kg: None,
                nitrous_oxide_reduction: None,
            });
        y.months += 1;
        // Months are bounded (`gas_months`); saturating keeps a year's sum from panicking.
        y.total_kgco2e = y.total_kgco2e.saturating_add(m.total_kgco2e);
        y.nitrous_oxide_kgco2e = y
            .nitrous_oxide_kgco2e
            .saturating_add(m.nitrous_oxide_kgco2e());
        if let Some((loss, _)) = m.piped_loss() {
            y.piped_n2o_loss_kg =
                Some(y.piped_n2o_loss_kg.unwrap_or_default().saturating_add(loss));
        }
    }
    let mut out: Vec<TrustYear> = years.into_values().collect();
    for i in 1..out.len() {
        let (before, after) = out.split_at_mut(i);
        let (p, y) = (&before[i - 1], &mut after[0]);
        if p.organisation == y.organisation
            && p.year.0 + 1 == y.year.0
            && !p.nitrous_oxide_kgco2e.is_zero()
        {
            y.nitrous_oxide_reduction = Some(
                ((p.nitrous_oxide_kgco2e - y.nitrous_oxide_kgco2e) / p.nitrous_oxide_kgco2e
                    * Decimal::ONE_HUNDRED)
                    .round_dp(1),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn use_of(agent: &str, q: &str, unit: &str, supply: Option<Supply>, basis: Basis) -> GasUse {
        GasUse {
            organisation: "RTG".into(),
            month: YearMonth::new(2025, 4).unwrap(),
            agent: agent.parse().unwrap(),
            quantity: d(q),
            unit: unit.parse().unwrap(),
            supply,
            basis,
        }
    }

    #[test]
    fn gases_by_hand() {
        let uses = [
            // 2 bottles of sevoflurane: 500 ml × 1.52 g/ml = 0.76 kg; × 130 = 98.8 kgCO2e.
            use_of("sevoflurane", "2", "bottles", None, Basis::Purchased),
            // 100 ml desflurane: 0.1465 kg × 2540 = 372.11 kgCO2e.
            use_of("desflurane", "100", "ml", None, Basis::Purchased),
            // One piped J cylinder: 18,000 l × 0.001977 = 35.586 kg × 298 = 10,604.628.
            use_of(
                "nitrous-oxide",
                "1",
                "cylinder-J",
                Some(Supply::Piped),
                Basis::Purchased,
            ),
            // 10,000 litres given to patients: 19.77 kg; lost 15.816 kg (44.44%).
            use_of(
                "nitrous-oxide",
                "10000",
                "litres",
                Some(Supply::Piped),
                Basis::ClinicalUse,
            ),
            // 1,000 litres of Entonox: 500 l of N2O = 0.9885 kg × 298 = 294.573.
            use_of(
                "entonox",
                "1000",
                "litres",
                Some(Supply::Portable),
                Basis::Purchased,
            ),
        ];
        let months = gas_months(&uses, GwpSet::Aoa).unwrap();
        assert_eq!(months.len(), 1);
        let m = &months[0];
        assert_eq!(m.kgco2e[&Agent::Sevoflurane], d("98.8"));
        assert_eq!(m.kgco2e[&Agent::Desflurane], d("372.11"));
        assert_eq!(m.nitrous_oxide_kgco2e(), d("10899.201"));
        assert_eq!(m.total_kgco2e, d("11370.111"));
        let (loss, share) = m.piped_loss().unwrap();
        assert_eq!(loss, d("15.816"));
        assert_eq!(share, Some(d("0.444444")));
        // The set changes the figure: RCoA sevoflurane is 205.
        let rcoa = gas_months(&uses[..1], GwpSet::Rcoa).unwrap();
        assert_eq!(rcoa[0].total_kgco2e, d("155.8"));
        assert_eq!(rcoa[0].gwp_set, GwpSet::Rcoa);
    }

    #[test]
    fn trust_years_and_the_fall_in_nitrous_oxide() {
        let at = |month: u32, year: i32, kg: &str| GasUse {
            month: YearMonth::new(year, month).unwrap(),
            ..use_of("nitrous-oxide", kg, "kg", None, Basis::Purchased)
        };
        // 2024/25: 10 + 30 kg = 40 kg × 298 = 11,920 kgCO2e over 2 months (April, March);
        // 2025/26: 30 kg = 8,940 kgCO2e, down (11,920 − 8,940) ÷ 11,920 = 25.0%.
        let months = gas_months(
            &[at(4, 2024, "10"), at(3, 2025, "30"), at(4, 2025, "30")],
            GwpSet::Aoa,
        )
        .unwrap();
        let years = trust_years(&months);
        assert_eq!(years.len(), 2);
        assert_eq!(years[0].year, FinancialYear(2024));
        assert_eq!(years[0].months, 2);
        assert_eq!(years[0].nitrous_oxide_kgco2e, d("11920"));
        assert_eq!(years[0].nitrous_oxide_reduction, None);
        assert_eq!(years[1].nitrous_oxide_kgco2e, d("8940"));
        assert_eq!(years[1].nitrous_oxide_reduction, Some(d("25.0")));
        assert_eq!(years[1].meets(d("25")), Some(true));
        assert_eq!(years[1].meets(d("25.1")), Some(false));
        assert_eq!(years[0].meets(d("1")), None);
    }

    #[test]
    fn units_must_suit_the_agent() {
        let u = use_of("desflurane", "1", "cylinder-E", None, Basis::Purchased);
        assert!(matches!(u.kg(), Err(GasError::UnitForAgent { .. })));
        let u = use_of("nitrous-oxide", "1", "bottles", None, Basis::Purchased);
        assert!(u.kg().is_err());
        assert!("cylinder-Z".parse::<GasUnit>().is_err());
        assert_eq!("Cylinder-e".parse::<GasUnit>(), Ok(GasUnit::Cylinder('E')));
        assert!("halothane".parse::<Agent>().is_err());
    }
}
