//! The registers shipped with the built-in plan reproduce the figures the Derbyshire plan
//! quotes; their activity rows resolve against the official 2023 factors; register files are
//! read all-or-nothing with every bad row named.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use greenplan_core::Decimal;
use greenplan_core::factor::FactorSet;
use greenplan_core::footprint::Resolver;
use greenplan_core::period::FinancialYear;
use greenplan_core::register::{self, Figure, MetricPeriod, Record, Register, waste};
use greenplan_ingest::IngestError;
use greenplan_ingest::factors::read_flat_file;
use greenplan_ingest::register_file::{built_in_registers, read_register_file, read_register_text};
use std::io::Write;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn shipped(register: &Register) -> Vec<Record> {
    built_in_registers()
        .unwrap()
        .into_iter()
        .find(|(r, _)| r.slug == register.slug)
        .unwrap()
        .1
}

fn value(figures: &[Figure], key: &str, org: Option<&str>, year: i32) -> Decimal {
    figures
        .iter()
        .find(|f| {
            f.key == key
                && f.organisation.as_ref().map(|o| o.as_str()) == org
                && f.period == MetricPeriod::Year(FinancialYear(year))
        })
        .unwrap_or_else(|| panic!("no {key} for {org:?} in {year}"))
        .value
}

#[test]
fn the_derbyshire_figures_come_out_of_the_shipped_registers() {
    // "44.6% of the estate has LED lighting" and "13% ... Heat Decarbonisation Plans"
    // (ERIC 2023/24).
    let sites = register::estates::SITES.figures(&shipped(&register::estates::SITES));
    assert_eq!(value(&sites, "led-share", None, 2023), dec("44.6"));
    assert_eq!(value(&sites, "hdp-share", None, 2023), dec("13.0"));
    // "90% of all NHS fleet being low or ultra-low zero emission".
    let fleet = register::fleet::VEHICLES.figures(&shipped(&register::fleet::VEHICLES));
    assert_eq!(value(&fleet, "low-or-zero-share", None, 2024), dec("90.0"));
    // DCHS: "82 new lease cars ... 45 of them (55%) were fully electric, with another 19 (23%)
    // ultra-low emission. The average ... now around 30g/km".
    let lease = register::fleet::LEASE_CARS.figures(&shipped(&register::fleet::LEASE_CARS));
    let dchs = Some("RY8");
    assert_eq!(value(&lease, "new-lease-cars", dchs, 2024), dec("82"));
    assert_eq!(
        value(&lease, "new-lease-cars-electric", dchs, 2024),
        dec("45")
    );
    assert_eq!(value(&lease, "new-lease-cars-ulev", dchs, 2024), dec("19"));
    // 45/82 = 54.9% and 19/82 = 23.2%: the plan prints them rounded to 55% and 23%.
    assert_eq!(
        value(&lease, "new-lease-cars-electric-share", dchs, 2024),
        dec("54.9")
    );
    assert_eq!(
        value(&lease, "new-lease-cars-ulev-share", dchs, 2024),
        dec("23.2")
    );
    // (45 × 0 + 19 × 30 + 18 × 105) / 82 = 2,460 / 82 = 30.
    assert_eq!(
        value(&lease, "new-lease-cars-average", dchs, 2024),
        dec("30.0")
    );
    // EMAS: "106 EV charging sockets" and "almost 50,000kWh of EV charging during 2024/25".
    let charging =
        register::fleet::CHARGE_POINTS.figures(&shipped(&register::fleet::CHARGE_POINTS));
    assert_eq!(value(&charging, "sockets", Some("RX9"), 2024), dec("106"));
    assert_eq!(
        value(&charging, "kwh-delivered", Some("RX9"), 2024),
        dec("49850")
    );
    // CRHFT: clinical waste mileage "reduced from 28,276 to 4117 per year".
    let waste_figures = waste::STREAMS.figures(&shipped(&waste::STREAMS));
    assert_eq!(
        value(&waste_figures, "collection-miles", Some("RFS"), 2022),
        dec("28276")
    );
    assert_eq!(
        value(&waste_figures, "collection-miles", Some("RFS"), 2024),
        dec("4117")
    );
}

#[test]
fn shipped_figures_feed_the_plan_metrics_they_belong_to() {
    let plan = greenplan_ingest::plan_file::built_in_plan().unwrap();
    for (register, records) in built_in_registers().unwrap() {
        for f in register.figures(&records) {
            if let Some(id) = f.plan_metric {
                let metric = plan.metrics.iter().find(|m| m.id == id);
                assert!(
                    metric.is_some(),
                    "{} feeds unknown metric {id}",
                    register.slug
                );
                // An organisation's own metric takes that organisation's figure.
                let owner = metric.unwrap().organisation.as_ref().map(|o| o.as_str());
                assert_eq!(owner, f.organisation.as_ref().map(|o| o.as_str()), "{id}");
            }
        }
    }
}

fn factors_2023() -> FactorSet {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx"
    );
    FactorSet::new(
        read_flat_file(std::path::Path::new(path), None)
            .unwrap()
            .factors,
    )
}

fn with_ids(records: Vec<Record>) -> Vec<(i64, Record)> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as i64 + 1, r))
        .collect()
}

#[test]
fn register_activity_resolves_against_the_2023_factors() {
    let set = factors_2023();
    let mut resolver = Resolver::new(&set, vec![("uk-2023".to_string(), 2023)]);
    let vehicles = shipped(&register::fleet::VEHICLES);
    let fleet =
        register::footprint::fleet(&vehicles, &with_ids(shipped(&register::fleet::MILEAGE)));
    assert_eq!(fleet.len(), 2);
    assert_eq!(&*fleet[0].origin.source, "register fleet-mileage record 1");
    // EMAS-D01, a diesel ambulance: 4,200 litres × 2.51206 kgCO2e/litre (the file holds more
    // places: 2.5120638846) = 10,550.67 kg.
    let diesel = resolver.emission(&fleet[0]).unwrap();
    assert_eq!(
        set.get(diesel.factor).unwrap().kgco2e.round_dp(5),
        dec("2.51206")
    );
    assert_eq!(diesel.kgco2e.round_dp(2), dec("10550.67"));
    assert_eq!(
        diesel.category,
        greenplan_core::category::NhsCategory::FleetAndBusinessTravel
    );
    // DCHS-C01, a plug-in hybrid car: 9,000 miles × the 2023 factor per mile.
    let phev = resolver.emission(&fleet[1]).unwrap();
    let per_mile = set.get(phev.factor).unwrap().kgco2e;
    assert_eq!(phev.kgco2e, dec("9000") * per_mile);
    assert_eq!(
        set.get(phev.factor).unwrap().path(),
        "Passenger vehicles > Cars (by size) > Average car > Plug-in Hybrid Electric Vehicle"
    );

    let waste_rows = register::footprint::waste(&with_ids(shipped(&waste::STREAMS)));
    // Four streams, two with collection miles.
    assert_eq!(waste_rows.len(), 6);
    let combustion = waste_rows
        .iter()
        .find(|a| a.activity == "waste-combustion" && a.quantity == dec("410"))
        .unwrap();
    let e = resolver.emission(combustion).unwrap();
    assert_eq!(e.kgco2e, dec("410") * set.get(e.factor).unwrap().kgco2e);
    // The official files have no factor for high-temperature incineration: it stays visibly
    // unresolved until the user imports one.
    let hti = waste_rows
        .iter()
        .find(|a| a.activity == "waste-high-temperature-incineration")
        .unwrap();
    assert!(resolver.emission(hti).is_err());
}

#[test]
fn the_clinical_waste_case_with_the_official_hgv_factor() {
    let set = factors_2023();
    let mile: greenplan_core::unit::Unit = "miles".parse().unwrap();
    let i = set
        .resolve(waste::TRANSPORT_FACTOR, &mile, "uk-2023")
        .unwrap();
    let per_mile = set.get(i).unwrap().kgco2e;
    let case = waste::ClinicalWasteCase::with_factor(dec("28276"), dec("4117"), per_mile);
    // 24,159 miles saved × 1.40341 kgCO2e a mile (average laden diesel HGV, 2023) = 33.9 t:
    // the mileage explains only that much of the 198 t stated; 164.1 t is the change of route.
    assert_eq!(per_mile.round_dp(5), dec("1.40341"));
    assert_eq!(case.mileage_saving_t, dec("33.9"));
    assert_eq!(case.unexplained_t, dec("164.1"));
    assert_eq!(case.mileage_saving_t + case.unexplained_t, dec("198"));
    // The mileage alone would need 8.196 kgCO2e a mile, several times any HGV's.
    assert_eq!(case.implied_kg_per_mile(), dec("8.196"));
    assert!(case.implied_kg_per_mile() > per_mile * dec("3"));
}

#[test]
fn a_file_with_bad_rows_yields_nothing_and_names_each_problem() {
    let text = "organisation,identifier,vehicle_type,powertrain,gco2_km,ownership,in_service\n\
                RX9,EMAS-1,ambulance,diesel,210,owned,2020-01-01\n\
                RX9,EMAS-2,tractor,diesel,210,owned,2020-01-01\n\
                \n\
                RX9,EMAS-3,car,battery-electric,12,owned,31/12/2024\n\
                RTG,UHDB-1,car,petrol,120,leased,not a date\n";
    let check = |r: &Record| {
        (r.organisation().unwrap().as_str() == "RTG")
            .then(|| ("organisation", "not yours".to_string()))
    };
    let err =
        read_register_text(&register::fleet::VEHICLES, "fleet.csv", text, &check).unwrap_err();
    let IngestError::Rows { errors, total } = err else {
        panic!("{err}")
    };
    assert_eq!(total, 3);
    let found: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e.row, e.column.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [(3, "vehicle_type"), (5, "gco2_km"), (6, "in_service")]
    );
    assert!(errors[0].message.contains("use one of car, van, ambulance"));
    assert_eq!(errors[0].file, "fleet.csv");
}

#[test]
fn a_missing_column_is_named_before_any_row() {
    let text = "organisation,identifier\nRX9,A\n";
    let err =
        read_register_text(&register::fleet::VEHICLES, "fleet.csv", text, &|_| None).unwrap_err();
    assert!(
        err.to_string()
            .contains("the header is missing `vehicle_type`"),
        "{err}"
    );
}

#[test]
fn a_csv_file_on_disk_is_read_with_its_row_numbers() {
    let mut csv = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    csv.write_all(b"organisation,agreement,scheme,start_date,powertrain,gco2_km\r\nRY8,L1,lease,2024-04-01,battery electric,0\r\n").unwrap();
    let rows = read_register_file(
        &register::fleet::LEASE_CARS,
        csv.path(),
        "lease.csv",
        &|_| None,
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, 2);
    assert_eq!(rows[0].1.choice("powertrain"), Some("battery-electric"));
}
