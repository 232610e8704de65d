//! Activity rows derived from register records, for the footprint: fleet mileage and fuel,
//! waste tonnes and collection miles, spend by category. Each row's origin names the register
//! and the record (`register fleet-mileage record 12`, row = the record id), so a total traces
//! back to the record it came from.

use super::{Record, Register, fleet, procurement, waste};
use crate::activity::{Activity, RowRef};
use crate::category::NhsCategory;
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
