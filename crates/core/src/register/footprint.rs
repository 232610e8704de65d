//! Activity rows derived from register records, for the footprint: fleet mileage and fuel,
//! waste tonnes and collection miles, spend by category. Each row's origin names the register
//! and the record (`register fleet-mileage record 12`, row = the record id), so a total traces
//! back to the record it came from.

use super::{Record, Register, fleet, procurement, waste};
use crate::activity::{Activity, RowProblem, RowRef};
use crate::category::NhsCategory;
use crate::footprint::Emission;
use crate::period::FinancialYear;
use crate::unit::{Unit, UnitKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::sync::Arc;

struct Row<'a> {
    register: &'static Register,
    id: i64,
    record: &'a Record,
    start: NaiveDate,
    end: NaiveDate,
}

impl Row<'_> {
    fn activity(
        &self,
        activity: String,
        quantity: Decimal,
        unit: UnitKind,
        category: NhsCategory,
        notes: Option<String>,
    ) -> Option<Activity> {
        Some(Activity {
            origin: RowRef {
                source: Arc::from(format!(
                    "register {} record {}",
                    self.register.slug, self.id
                )),
                row: u64::try_from(self.id).unwrap_or_default(),
            },
            organisation: self.record.organisation()?,
            site: self.record.text("site").map(str::to_string),
            period_start: self.start,
            period_end: self.end,
            activity,
            quantity,
            unit: Unit::new(unit),
            edition: None,
            category: Some(category),
            market_factor: None,
            notes,
        })
    }
}

fn dated<'a>(register: &'static Register, id: i64, record: &'a Record) -> Option<Row<'a>> {
    Some(Row {
        register,
        id,
        record,
        start: record.date("period_start")?,
        end: record.date("period_end")?,
    })
}

/// Fleet mileage and fuel rows: miles through the vehicle's type and powertrain factor,
/// litres through the fuel's. A vehicle missing from the vehicles register is counted as an
/// average car of unknown fuel (or diesel, for litres), and the row says so.
pub fn fleet(vehicles: &[Record], mileage: &[(i64, Record)]) -> Vec<Activity> {
    mileage
        .iter()
        .filter_map(|(id, record)| {
            let row = dated(&fleet::MILEAGE, *id, record)?;
            let vehicle = vehicles
                .iter()
                .find(|v| v.name() == record.name() && v.organisation() == record.organisation())
                .map(fleet::Vehicle::of);
            let missing = vehicle.is_none().then(|| {
                format!(
                    "vehicle {} is not in the vehicles register: counted as an average car",
                    record.name()
                )
            });
            let category = NhsCategory::FleetAndBusinessTravel;
            if let Some(litres) = record.decimal("fuel_litres") {
                let alias = fleet::fuel_alias(vehicle.as_ref().map_or("diesel", |v| v.powertrain));
                return row.activity(
                    alias.to_string(),
                    litres,
                    UnitKind::Litre,
                    category,
                    missing,
                );
            }
            let miles = record.decimal("miles")?;
            let path = vehicle.as_ref().map_or_else(
                || "Passenger vehicles > Cars (by size) > Average car > Unknown".to_string(),
                |v| fleet::mileage_factor(v.vehicle_type, v.powertrain),
            );
            row.activity(path, miles, UnitKind::Mile, category, missing)
        })
        .collect()
}

/// Waste rows: tonnes through the route's factor, and collection miles through the HGV factor,
/// both in the waste category.
pub fn waste(streams: &[(i64, Record)]) -> Vec<Activity> {
    streams
        .iter()
        .filter_map(|(id, record)| dated(&waste::STREAMS, *id, record).map(|row| (row, record)))
        .flat_map(|(row, record)| {
            let route = record.choice("route").unwrap_or("");
            let tonnes = record.decimal("tonnes").and_then(|t| {
                row.activity(
                    waste::route_factor(route),
                    t,
                    UnitKind::Tonne,
                    NhsCategory::Waste,
                    None,
                )
            });
            let miles = record.decimal("transport_miles").and_then(|m| {
                row.activity(
                    waste::TRANSPORT_FACTOR.to_string(),
                    m,
                    UnitKind::Mile,
                    NhsCategory::Waste,
                    Some("collection mileage".into()),
                )
            });
            tonnes.into_iter().chain(miles)
        })
        .collect()
}

/// Spend rows: £ through the spend factor of the category, in the factor set (edition) the
/// row names, into the Carbon Footprint Plus category.
pub fn spend(lines: &[(i64, Record)]) -> Vec<Activity> {
    lines
        .iter()
        .filter_map(|(id, record)| {
            let year: FinancialYear = record.year("financial_year")?;
            let category = record.choice("category")?;
            let row = Row {
                register: &procurement::SPEND,
                id: *id,
                record,
                start: year.start(),
                end: year.end(),
            };
            let mut activity = row.activity(
                procurement::spend_factor_name(category),
                record.decimal("spend")?,
                UnitKind::Pound,
                procurement::nhs_category(category)?,
                None,
            )?;
            activity.edition = record.text("factor_edition").map(str::to_string);
            Some(activity)
        })
        .collect()
}

/// The registers whose records carry activity into the footprint.
pub const CARRYING_ACTIVITY: [&Register; 3] =
    [&fleet::MILEAGE, &waste::STREAMS, &procurement::SPEND];

/// A register's activity rows, each with what the conversion factors made of it.
pub type Converted = (Activity, Result<Emission, RowProblem>);

/// What a register's activity comes to, for its page: the emissions of each financial year
/// and, for waste, each disposal route's tonnes and carbon per tonne.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterCarbon {
    /// Latest year first.
    pub years: Vec<YearCarbon>,
    /// Waste only: one line per year and route, latest year first.
    pub routes: Vec<RouteCarbon>,
    /// Rows the factors could not convert, as `register … record N (column): why`.
    pub not_converted: Vec<String>,
    /// Data-quality notes on rows that are counted (spend of one year against factors at
    /// another year's prices), added by whoever knows the factor sets' price years.
    pub notes: Vec<String>,
}

/// One financial year of a register's emissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCarbon {
    pub year: FinancialYear,
    /// Location-based kgCO2e of the rows that converted.
    pub kgco2e: Decimal,
    pub rows: usize,
    pub not_converted: usize,
    /// Waste: the tonnes of the year, and tCO2e per tonne (disposal and collection together)
    /// when every row of the year converted: a partial figure per tonne would flatter.
    pub tonnes: Option<Decimal>,
    pub tco2e_per_tonne: Option<Decimal>,
}

/// One waste disposal route in one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteCarbon {
    pub year: FinancialYear,
    pub route: &'static str,
    pub tonnes: Decimal,
    /// Disposal kgCO2e; `None` while the route has no factor for some of its tonnes.
    pub kgco2e: Option<Decimal>,
    /// The factor the route resolves against (to import, when it is missing).
    pub factor: String,
}

impl RouteCarbon {
    /// tCO2e per tonne of the route's disposal (kgCO2e per kg, the same number).
    pub fn tco2e_per_tonne(&self) -> Option<Decimal> {
        let kg = self.kgco2e?;
        (!self.tonnes.is_zero()).then(|| kg / Decimal::ONE_THOUSAND / self.tonnes)
    }
}

/// Sums converted register rows by financial year (and, for waste tonnes, by route).
pub fn summarise(lines: &[Converted]) -> RegisterCarbon {
    use std::collections::BTreeMap;
    let mut years: BTreeMap<FinancialYear, YearCarbon> = BTreeMap::new();
    let mut routes: BTreeMap<(FinancialYear, &'static str), RouteCarbon> = BTreeMap::new();
    let mut not_converted = Vec::new();
    for (activity, outcome) in lines {
        let year = activity.financial_year();
        let entry = years.entry(year).or_insert_with(|| YearCarbon {
            year,
            kgco2e: Decimal::ZERO,
            rows: 0,
            not_converted: 0,
            tonnes: None,
            tco2e_per_tonne: None,
        });
        entry.rows += 1;
        match outcome {
            Ok(e) => entry.kgco2e += e.kgco2e,
            Err(p) => {
                entry.not_converted += 1;
                not_converted.push(format!(
                    "{} ({}): {}",
                    activity.origin.source, p.column, p.message
                ));
            }
        }
        let Some(route) = waste_route(activity) else {
            continue;
        };
        *entry.tonnes.get_or_insert(Decimal::ZERO) += activity.quantity;
        let line = routes
            .entry((year, route.label))
            .or_insert_with(|| RouteCarbon {
                year,
                route: route.label,
                tonnes: Decimal::ZERO,
                kgco2e: Some(Decimal::ZERO),
                factor: activity.activity.clone(),
            });
        line.tonnes += activity.quantity;
        line.kgco2e = match (line.kgco2e, outcome) {
            (Some(kg), Ok(e)) => Some(kg + e.kgco2e),
            _ => None,
        };
    }
    for y in years.values_mut() {
        y.tco2e_per_tonne = y
            .tonnes
            .filter(|t| !t.is_zero() && y.not_converted == 0)
            .map(|t| y.kgco2e / Decimal::ONE_THOUSAND / t);
    }
    RegisterCarbon {
        years: years.into_values().rev().collect(),
        routes: routes.into_values().rev().collect(),
        not_converted,
        notes: Vec::new(),
    }
}

/// The disposal route of a waste register's tonnes row: a row in tonnes through a route's
/// factor (collection miles, fleet and spend rows have none).
fn waste_route(activity: &Activity) -> Option<&'static super::Choice> {
    if activity.unit.kind != UnitKind::Tonne {
        return None;
    }
    waste::ROUTES
        .iter()
        .find(|r| waste::route_factor(r.slug) == activity.activity)
}
