//! The green digital benefits framework (priority action DT1): for a digital scheme, the
//! carbon its benefits avoid a year (journeys, letters, bed days) against the carbon it costs
//! (devices' embodied carbon spread over their life, hosting energy, data transfer), giving
//! net tCO2e a year and the years until the devices' embodied carbon is repaid.
//!
//! Every line is an activity times a factor, and the factor is shown with its source:
//! conversion factors (travel, paper, electricity) come from the UK Government files,
//! bed days from the care-activity library (`data/care-activities.csv`), a device's embodied
//! carbon and the energy of a gigabyte as the user entered them with their source. This
//! module only does the arithmetic; the caller looks the factors up ([`FactorNeed`]).

use crate::travel::Mode;
use crate::unit::UnitKind;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Grams of an A4 sheet of 80 g/m² office paper (0.06237 m² × 80 g/m² = 4.99 g), the
/// weight a letter avoided is counted at per sheet.
pub const GRAMS_PER_SHEET: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// The conversion factor row paper avoided is counted with (virgin office paper).
pub const PAPER_PATH: &str =
    "Material use > Paper > Paper and board: paper > Primary material production";

/// The conversion factor of electricity (location-based UK grid average), an alias of
/// [`crate::factor::ALIASES`].
pub const ELECTRICITY: &str = "grid-electricity";

/// Why a scheme's line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigitalError {
    #[error("{what}: `{value}` is not a number; write a number of 0 or more, e.g. 1200")]
    Number { what: &'static str, value: String },
    #[error("{0} must be more than 0")]
    NotPositive(&'static str),
    #[error(
        "{0}: say where the figure comes from (a manufacturer's product carbon footprint, a study), so it can be checked"
    )]
    NoSource(&'static str),
    #[error(
        "{0} journeys avoided save no carbon in the conversion factors (walking and cycling emit none): choose a motorised mode"
    )]
    NoTravelFactor(Mode),
    #[error("the factor for {what} could not be found: {message}")]
    Factor { what: String, message: String },
}

/// Which side of the balance a line is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Benefit,
    Cost,
}

/// One line of a scheme's assessment, a year's worth unless said otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DigitalLine {
    /// Journeys no longer made (a video appointment instead of a clinic visit), each of
    /// `km_each` km there and back.
    AvoidedJourneys {
        mode: Mode,
        journeys: Decimal,
        km_each: Decimal,
    },
    /// Letters no longer printed and posted, of `sheets_each` A4 sheets.
    LettersAvoided {
        letters: Decimal,
        sheets_each: Decimal,
    },
    /// Inpatient bed days avoided, counted with a care-activity factor (by its id).
    BedDaysAvoided {
        days: Decimal,
        care_activity: String,
    },
    /// Devices bought for the scheme: embodied carbon each, spread over their life.
    Devices {
        count: Decimal,
        kgco2e_each: Decimal,
        life_years: Decimal,
        source: String,
    },
    /// Electricity of hosting (servers, cloud) a year.
    Hosting { kwh: Decimal },
    /// Data sent a year, at an energy intensity per gigabyte the user states with its source.
    DataTransfer {
        gb: Decimal,
        kwh_per_gb: Decimal,
        source: String,
    },
}

/// The factor a line needs, for the caller to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorNeed {
    /// A UK Government conversion factor: a path or alias, per `unit`.
    Conversion {
        activity: &'static str,
        unit: UnitKind,
    },
    /// A care-activity factor of the library, by id.
    CareActivity(String),
    /// A figure the user entered with its source (a device's embodied carbon).
    Entered {
        kgco2e_per_unit: Decimal,
        source: String,
    },
}

/// A factor as found: kgCO2e per unit, and where it came from (path, edition, source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsedFactor {
    pub kgco2e_per_unit: Decimal,
    pub source: String,
}

impl DigitalLine {
    pub fn side(&self) -> Side {
        match self {
            Self::AvoidedJourneys { .. }
            | Self::LettersAvoided { .. }
            | Self::BedDaysAvoided { .. } => Side::Benefit,
            Self::Devices { .. } | Self::Hosting { .. } | Self::DataTransfer { .. } => Side::Cost,
        }
    }

    /// What the line is, in words.
    pub fn describe(&self) -> String {
        match self {
            Self::AvoidedJourneys {
                mode,
                journeys,
                km_each,
            } => format!(
                "{} journeys avoided by {} ({} km each, there and back)",
                journeys.normalize(),
                mode.label().to_lowercase(),
                km_each.normalize()
            ),
            Self::LettersAvoided {
                letters,
                sheets_each,
            } => format!(
                "{} letters avoided ({} A4 sheets each, {GRAMS_PER_SHEET} g a sheet)",
                letters.normalize(),
                sheets_each.normalize()
            ),
            Self::BedDaysAvoided {
                days,
                care_activity,
            } => format!("{} bed days avoided ({care_activity})", days.normalize()),
            Self::Devices {
                count,
                kgco2e_each,
                life_years,
                ..
            } => format!(
                "{} devices, {} kgCO2e embodied each, over {} years",
                count.normalize(),
                kgco2e_each.normalize(),
                life_years.normalize()
            ),
            Self::Hosting { kwh } => format!("Hosting, {} kWh a year", kwh.normalize()),
            Self::DataTransfer { gb, kwh_per_gb, .. } => format!(
                "Data transfer, {} GB a year at {} kWh per GB",
                gb.normalize(),
                kwh_per_gb.normalize()
            ),
        }
    }

    /// Checks the figures: counts and amounts of 0 or more, a device life above 0, and a
    /// source for every figure the user supplies instead of a published factor.
    pub fn check(&self) -> Result<(), DigitalError> {
        let non_negative = |v: &Decimal, what: &'static str| {
            if v.is_sign_negative() && !v.is_zero() {
                Err(DigitalError::Number {
                    what,
                    value: v.to_string(),
                })
            } else {
                Ok(())
            }
        };
        match self {
            Self::AvoidedJourneys {
                mode,
                journeys,
                km_each,
            } => {
                if mode.factor_path().is_none() {
                    return Err(DigitalError::NoTravelFactor(*mode));
                }
                non_negative(journeys, "Journeys avoided")?;
                non_negative(km_each, "Distance of each journey")
            }
            Self::LettersAvoided {
                letters,
                sheets_each,
            } => {
                non_negative(letters, "Letters avoided")?;
                non_negative(sheets_each, "Sheets in each letter")
            }
            Self::BedDaysAvoided { days, .. } => non_negative(days, "Bed days avoided"),
            Self::Devices {
                count,
                kgco2e_each,
                life_years,
                source,
            } => {
                non_negative(count, "Number of devices")?;
                non_negative(kgco2e_each, "Embodied carbon of each device")?;
                if *life_years <= Decimal::ZERO {
                    return Err(DigitalError::NotPositive(
                        "The life of the devices in years",
                    ));
                }
                if source.trim().is_empty() {
                    return Err(DigitalError::NoSource("Embodied carbon of each device"));
                }
                Ok(())
            }
            Self::Hosting { kwh } => non_negative(kwh, "Hosting energy"),
            Self::DataTransfer {
                gb,
                kwh_per_gb,
                source,
            } => {
                non_negative(gb, "Data transfer")?;
                non_negative(kwh_per_gb, "Energy per gigabyte")?;
                if source.trim().is_empty() {
                    return Err(DigitalError::NoSource("Energy per gigabyte"));
                }
                Ok(())
            }
        }
    }

    /// The factor the line needs. Walking and cycling have none: [`DigitalLine::check`]
    /// refuses them first.
    pub fn factor_need(&self) -> Option<FactorNeed> {
        match self {
            Self::AvoidedJourneys { mode, .. } => {
                mode.factor_path().map(|activity| FactorNeed::Conversion {
                    activity,
                    unit: mode.factor_unit(),
                })
            }
            Self::LettersAvoided { .. } => Some(FactorNeed::Conversion {
                activity: PAPER_PATH,
                unit: UnitKind::Tonne,
            }),
            Self::BedDaysAvoided { care_activity, .. } => {
                Some(FactorNeed::CareActivity(care_activity.clone()))
            }
            Self::Devices {
                kgco2e_each,
                source,
                ..
            } => Some(FactorNeed::Entered {
                kgco2e_per_unit: *kgco2e_each,
                source: source.clone(),
            }),
            Self::Hosting { .. } | Self::DataTransfer { .. } => Some(FactorNeed::Conversion {
                activity: ELECTRICITY,
                unit: UnitKind::KilowattHour,
            }),
        }
    }

    /// The activity a year in the factor's unit: km (or passenger-km), tonnes of paper, bed
    /// days, device-years, kWh.
    pub fn quantity(&self) -> (Decimal, &'static str) {
        match self {
            Self::AvoidedJourneys {
                mode,
                journeys,
                km_each,
            } => (
                journeys * km_each / mode.occupancy(),
                mode.factor_unit().symbol(),
            ),
            Self::LettersAvoided {
                letters,
                sheets_each,
            } => (
                letters * sheets_each * GRAMS_PER_SHEET / Decimal::from(1_000_000),
                "tonnes",
            ),
            Self::BedDaysAvoided { days, .. } => (*days, "bed days"),
            Self::Devices {
                count, life_years, ..
            } => (count / life_years, "device-years"),
            Self::Hosting { kwh } => (*kwh, "kWh"),
            Self::DataTransfer { gb, kwh_per_gb, .. } => (gb * kwh_per_gb, "kWh"),
        }
    }

    /// Embodied carbon paid once, up front (devices only).
    pub fn embodied_kgco2e(&self) -> Decimal {
        match self {
            Self::Devices {
                count, kgco2e_each, ..
            } => count * kgco2e_each,
            _ => Decimal::ZERO,
        }
    }
}

/// A line with its factor and carbon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineResult {
    pub side: Side,
    pub description: String,
    pub quantity: Decimal,
    pub unit: &'static str,
    pub factor: UsedFactor,
    pub kgco2e_a_year: Decimal,
}

/// When the devices' embodied carbon is repaid by the scheme's running net benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "years", rename_all = "kebab-case")]
pub enum Payback {
    /// No devices: nothing to repay.
    NothingToRepay,
    /// Years, to one decimal place.
    Years(Decimal),
    /// The running benefit does not exceed the running costs.
    Never,
}

/// A scheme's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub lines: Vec<LineResult>,
    pub benefits_kgco2e: Decimal,
    /// Costs a year, devices' embodied carbon spread over their life included.
    pub costs_kgco2e: Decimal,
    /// Benefits − costs, kgCO2e a year (negative: the scheme adds carbon).
    pub net_kgco2e: Decimal,
    /// Embodied carbon of the devices, paid up front.
    pub embodied_kgco2e: Decimal,
    pub payback: Payback,
}

impl Assessment {
    pub fn net_tco2e(&self) -> Decimal {
        self.net_kgco2e / Decimal::ONE_THOUSAND
    }
}

/// Computes a scheme from its lines; `lookup` finds each published factor.
pub fn assess(
    lines: &[DigitalLine],
    mut lookup: impl FnMut(&FactorNeed) -> Result<UsedFactor, String>,
) -> Result<Assessment, DigitalError> {
    let mut results = Vec::with_capacity(lines.len());
    for line in lines {
        line.check()?;
        let factor = match line.factor_need() {
            Some(FactorNeed::Entered {
                kgco2e_per_unit,
                source,
            }) => UsedFactor {
                kgco2e_per_unit,
                source: format!("as entered: {source}"),
            },
            Some(need) => {
                let mut f = lookup(&need).map_err(|message| DigitalError::Factor {
                    what: line.describe(),
                    message,
                })?;
                if let DigitalLine::DataTransfer { source, .. } = line {
                    f.source = format!("{}; kWh per GB as entered: {source}", f.source);
                }
                f
            }
            None => return Err(DigitalError::NoTravelFactor(travel_mode(line))),
        };
        let (quantity, unit) = line.quantity();
        results.push(LineResult {
            side: line.side(),
            description: line.describe(),
            quantity,
            unit,
            kgco2e_a_year: quantity * factor.kgco2e_per_unit,
            factor,
        });
    }
    Ok(summarise(lines, results))
}

/// The mode of a journey line (the only kind that can lack a factor).
fn travel_mode(line: &DigitalLine) -> Mode {
    match line {
        DigitalLine::AvoidedJourneys { mode, .. } => *mode,
        _ => Mode::Walk,
    }
}

fn summarise(lines: &[DigitalLine], results: Vec<LineResult>) -> Assessment {
    let sum = |side: Side| -> Decimal {
        results
            .iter()
            .filter(|r| r.side == side)
            .map(|r| r.kgco2e_a_year)
            .sum()
    };
    let benefits = sum(Side::Benefit);
    let costs = sum(Side::Cost);
    let embodied: Decimal = lines.iter().map(DigitalLine::embodied_kgco2e).sum();
    let annualised_embodied: Decimal = lines
        .iter()
        .zip(&results)
        .filter(|(l, _)| matches!(l, DigitalLine::Devices { .. }))
        .map(|(_, r)| r.kgco2e_a_year)
        .sum();
    // Payback compares the up-front carbon with what the scheme saves each year once running.
    let running_net = benefits - (costs - annualised_embodied);
    let payback = if embodied.is_zero() {
        Payback::NothingToRepay
    } else if running_net <= Decimal::ZERO {
        Payback::Never
    } else {
        Payback::Years(
            (embodied / running_net)
                .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero),
        )
    };
    Assessment {
        lines: results,
        benefits_kgco2e: benefits,
        costs_kgco2e: costs,
        net_kgco2e: benefits - costs,
        embodied_kgco2e: embodied,
        payback,
    }
}

/// A scheme's place in the portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortfolioLine {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub benefits_kgco2e: Decimal,
    pub costs_kgco2e: Decimal,
    pub net_kgco2e: Decimal,
    pub payback: Payback,
}

/// Every digital scheme, largest net saving first, with totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Portfolio {
    pub lines: Vec<PortfolioLine>,
    pub benefits_kgco2e: Decimal,
    pub costs_kgco2e: Decimal,
    pub net_kgco2e: Decimal,
}

/// Sorts schemes by net saving (largest first; ties by name) and adds them up.
pub fn portfolio(mut lines: Vec<PortfolioLine>) -> Portfolio {
    lines.sort_by(|a, b| {
        b.net_kgco2e
            .cmp(&a.net_kgco2e)
            .then_with(|| a.name.cmp(&b.name))
    });
    Portfolio {
        benefits_kgco2e: lines.iter().map(|l| l.benefits_kgco2e).sum(),
        costs_kgco2e: lines.iter().map(|l| l.costs_kgco2e).sum(),
        net_kgco2e: lines.iter().map(|l| l.net_kgco2e).sum(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn lookup(need: &FactorNeed) -> Result<UsedFactor, String> {
        let (kg, source) = match need {
            FactorNeed::Conversion { activity, .. } if activity.contains("Average car") => {
                ("0.17", "car")
            }
            FactorNeed::Conversion { activity, .. } if *activity == PAPER_PATH => ("910", "paper"),
            FactorNeed::Conversion { activity, .. } if *activity == ELECTRICITY => ("0.2", "grid"),
            FactorNeed::CareActivity(id) if id == "inpatient-bed-day-low" => ("37.9", "JUCD"),
            other => return Err(format!("no factor for {other:?}")),
        };
        Ok(UsedFactor {
            kgco2e_per_unit: dec(kg),
            source: source.into(),
        })
    }

    fn scheme() -> Vec<DigitalLine> {
        vec![
            DigitalLine::AvoidedJourneys {
                mode: Mode::Car,
                journeys: dec("2000"),
                km_each: dec("20"),
            },
            DigitalLine::LettersAvoided {
                letters: dec("10000"),
                sheets_each: dec("2"),
            },
            DigitalLine::BedDaysAvoided {
                days: dec("50"),
                care_activity: "inpatient-bed-day-low".into(),
            },
            DigitalLine::Devices {
                count: dec("100"),
                kgco2e_each: dec("150"),
                life_years: dec("4"),
                source: "Manufacturer PCF".into(),
            },
            DigitalLine::Hosting { kwh: dec("5000") },
            DigitalLine::DataTransfer {
                gb: dec("20000"),
                kwh_per_gb: dec("0.06"),
                source: "Aslan et al. 2018".into(),
            },
        ]
    }

    #[test]
    fn net_is_benefits_less_costs_and_payback_repays_embodied_carbon() {
        let a = assess(&scheme(), lookup).unwrap();
        let kg: Vec<Decimal> = a
            .lines
            .iter()
            .map(|l| l.kgco2e_a_year.normalize())
            .collect();
        // 2,000 × 20 km × 0.17 = 6,800; 10,000 × 2 sheets × 5 g = 0.1 t × 910 = 91;
        // 50 × 37.9 = 1,895; 100 × 150 ÷ 4 = 3,750; 5,000 × 0.2 = 1,000;
        // 20,000 GB × 0.06 = 1,200 kWh × 0.2 = 240.
        assert_eq!(
            kg,
            ["6800", "91", "1895", "3750", "1000", "240"]
                .map(dec)
                .to_vec()
        );
        assert_eq!(a.benefits_kgco2e, dec("8786"));
        assert_eq!(a.costs_kgco2e, dec("4990"));
        assert_eq!(a.net_kgco2e, dec("3796"));
        assert_eq!(a.net_tco2e(), dec("3.796"));
        assert_eq!(a.embodied_kgco2e, dec("15000"));
        // 15,000 ÷ (8,786 − 1,000 − 240) = 15,000 ÷ 7,546 = 1.98 → 2.0 years.
        assert_eq!(a.payback, Payback::Years(dec("2.0")));
        assert!(a.lines[5].factor.source.contains("Aslan"));
        assert!(
            a.lines[3]
                .factor
                .source
                .contains("as entered: Manufacturer PCF")
        );
    }

    #[test]
    fn payback_never_and_nothing_to_repay() {
        let costly = vec![
            DigitalLine::Devices {
                count: dec("10"),
                kgco2e_each: dec("300"),
                life_years: dec("5"),
                source: "PCF".into(),
            },
            DigitalLine::Hosting { kwh: dec("1000") },
        ];
        let a = assess(&costly, lookup).unwrap();
        // 10 × 300 ÷ 5 = 600; 1,000 × 0.2 = 200: net −800 a year, never repaid.
        assert_eq!(a.net_kgco2e, dec("-800"));
        assert_eq!(a.payback, Payback::Never);
        let light = vec![DigitalLine::Hosting { kwh: dec("10") }];
        assert_eq!(
            assess(&light, lookup).unwrap().payback,
            Payback::NothingToRepay
        );
    }

    #[test]
    fn bad_lines_are_refused_with_the_fix() {
        let no_source = vec![DigitalLine::Devices {
            count: dec("1"),
            kgco2e_each: dec("1"),
            life_years: dec("3"),
            source: " ".into(),
        }];
        assert!(matches!(
            assess(&no_source, lookup),
            Err(DigitalError::NoSource(_))
        ));
        let walk = vec![DigitalLine::AvoidedJourneys {
            mode: Mode::Walk,
            journeys: dec("1"),
            km_each: dec("1"),
        }];
        assert!(matches!(
            assess(&walk, lookup),
            Err(DigitalError::NoTravelFactor(Mode::Walk))
        ));
        let unknown = vec![DigitalLine::BedDaysAvoided {
            days: dec("1"),
            care_activity: "spa-day".into(),
        }];
        let e = assess(&unknown, lookup).unwrap_err().to_string();
        assert!(e.contains("spa-day"), "{e}");
    }

    #[test]
    fn portfolio_sorts_by_net_and_totals() {
        let line = |id, name: &str, b: &str, c: &str| PortfolioLine {
            id,
            name: name.into(),
            organisation: "RTG".into(),
            benefits_kgco2e: dec(b),
            costs_kgco2e: dec(c),
            net_kgco2e: dec(b) - dec(c),
            payback: Payback::NothingToRepay,
        };
        let p = portfolio(vec![
            line(1, "Patient portal", "1000", "400"),
            line(2, "Virtual wards", "5000", "1000"),
            line(3, "Tablets", "100", "700"),
        ]);
        let names: Vec<&str> = p.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Virtual wards", "Patient portal", "Tablets"]);
        assert_eq!(p.benefits_kgco2e, dec("6100"));
        assert_eq!(p.costs_kgco2e, dec("2100"));
        assert_eq!(p.net_kgco2e, dec("4000"));
    }
}
