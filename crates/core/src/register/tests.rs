//! Registers: validation and metrics, with figures worked out by hand.

use super::*;
use crate::ods::OdsCode;
use crate::period::FinancialYear;
use rust_decimal_macros_free::dec;

/// Builds a record from `key=value` pairs, panicking on a bad one (fixtures only).
fn record(register: &'static Register, pairs: &[(&str, &str)]) -> Record {
    register
        .parse(|k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
        .unwrap_or_else(|e| panic!("fixture does not validate: {e:?}"))
}

fn figure(figures: &[Figure], key: &str, org: Option<&str>, period: MetricPeriod) -> Decimal {
    figures
        .iter()
        .find(|f| {
            f.key == key
                && f.organisation.as_ref().map(OdsCode::as_str) == org
                && f.period == period
        })
        .unwrap_or_else(|| panic!("no figure {key} for {org:?} {period}"))
        .value
}

const Y2324: MetricPeriod = MetricPeriod::Year(FinancialYear(2023));
const Y2425: MetricPeriod = MetricPeriod::Year(FinancialYear(2024));
const Y2526: MetricPeriod = MetricPeriod::Year(FinancialYear(2025));

mod rust_decimal_macros_free {
    /// `dec("44.6")`: a decimal literal in a test.
    pub fn dec(s: &str) -> rust_decimal::Decimal {
        s.parse().unwrap()
    }
}

fn site(org: &str, name: &str, area: &str, heating: &str, hdp: &str, led: &str) -> Record {
    record(
        &estates::SITES,
        &[
            ("organisation", org),
            ("site", name),
            ("site_type", "Community hospital"),
            ("as_at", "2023/24"),
            ("floor_area", area),
            ("primary_heating", heating),
            ("hdp_status", hdp),
            ("led_coverage", led),
            ("tenure", "freehold"),
        ],
    )
}

#[test]
fn estate_shares_are_by_floor_area() {
    let sites = vec![
        site("RY8", "A", "10,000", "gas", "in-place", "50"),
        site("RY8", "B", "5000", "Oil", "none", "20%"),
        site("RXM", "C", "5000", "heat pump", "In place", "100"),
    ];
    let f = estates::SITES.figures(&sites);
    // HDP: A + C = 15,000 of 20,000 m².
    assert_eq!(figure(&f, "hdp-share", None, Y2324), dec("75.0"));
    // LED: 5,000 + 1,000 + 5,000 = 11,000 of 20,000 m².
    assert_eq!(figure(&f, "led-share", None, Y2324), dec("55.0"));
    assert_eq!(figure(&f, "led-share", Some("RY8"), Y2324), dec("40.0"));
    assert_eq!(figure(&f, "fossil-heated-sites", None, Y2324), dec("2"));
    assert_eq!(figure(&f, "fossil-heated-area", None, Y2324), dec("15000"));
    assert_eq!(figure(&f, "oil-heated-sites", None, Y2324), dec("1"));
    assert_eq!(figure(&f, "oil-heated-area", Some("RXM"), Y2324), dec("0"));
    let oil = |org: Option<&str>| {
        f.iter()
            .find(|x| {
                x.key == "oil-heated-sites" && x.organisation.as_ref().map(OdsCode::as_str) == org
            })
            .unwrap()
            .working
            .clone()
    };
    assert_eq!(
        oil(None),
        "B (5,000 m²): to end by 2028, 4 financial years left"
    );
    assert_eq!(oil(Some("RXM")), "none: the 2028 deadline is met");
    assert_eq!(
        estates::DeadlineRating::of(2, FinancialYear(2028), 2028).to_string(),
        "the 2028 deadline is missed"
    );
    let led = f
        .iter()
        .find(|x| x.key == "led-share" && x.organisation.is_none())
        .unwrap();
    assert_eq!(led.plan_metric, Some("estate-led-lighting"));
    assert!(
        f.iter()
            .filter(|x| x.organisation.is_some())
            .all(|x| x.plan_metric.is_none())
    );
}

#[test]
fn every_bad_field_is_named_with_its_fix() {
    let errors = estates::SITES
        .parse(|k| match k {
            "organisation" => Some("RY8"),
            "floor_area" => Some("lots"),
            "primary_heating" => Some("peat"),
            "led_coverage" => Some("140"),
            _ => None,
        })
        .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "site",
            "site_type",
            "as_at",
            "floor_area",
            "primary_heating",
            "hdp_status",
            "led_coverage",
            "tenure"
        ]
    );
    assert!(errors[3].message.contains("`lots` is not a number"));
    assert!(errors[4].message.contains("use one of gas, oil, lpg"));
    assert!(errors[6].message.contains("from 0 to 100"));
}

fn vehicle(id: &str, powertrain: &str, g: &str, from: &str, to: Option<&str>) -> Record {
    let mut pairs = vec![
        ("organisation", "RX9"),
        ("identifier", id),
        ("vehicle_type", "ambulance"),
        ("powertrain", powertrain),
        ("gco2_km", g),
        ("ownership", "owned"),
        ("in_service", from),
    ];
    if let Some(to) = to {
        pairs.push(("out_of_service", to));
    }
    record(&fleet::VEHICLES, &pairs)
}

#[test]
fn fleet_shares_count_vehicles_in_service_at_the_period_end() {
    let vehicles = vec![
        vehicle("V1", "battery-electric", "0", "2024-05-01", None),
        vehicle("V2", "diesel", "150", "2020-01-01", None),
        vehicle("V3", "plug-in-hybrid", "30", "2024-06-01", None),
        vehicle("V4", "hybrid", "110", "2021-04-01", None),
        vehicle("V5", "diesel", "160", "2019-05-01", Some("2024-07-01")),
    ];
    let f = fleet::VEHICLES.figures(&vehicles);
    // On 31 March 2025: V1 (zero), V2 (other), V3 (ultra-low), V4 (low: a hybrid).
    assert_eq!(figure(&f, "low-or-zero-share", None, Y2425), dec("75.0"));
    assert_eq!(figure(&f, "ultra-low-share", None, Y2425), dec("50.0"));
    assert_eq!(figure(&f, "zero-share", None, Y2425), dec("25.0"));
    // New in 2024/25: V1 and V3, one zero emission.
    assert_eq!(figure(&f, "new-zero-share", None, Y2425), dec("50.0"));
    // Q1 2024/25 (April-June): V1 and V3 entered; on 30 June V5 is still in service.
    let q1 = MetricPeriod::Quarter(crate::period::Quarter {
        year: FinancialYear(2024),
        number: 1,
    });
    assert_eq!(figure(&f, "low-or-zero-share", None, q1), dec("60.0"));
}

#[test]
fn a_battery_electric_vehicle_with_tailpipe_emissions_is_refused() {
    let errors = fleet::VEHICLES
        .parse(|k| match k {
            "organisation" => Some("RX9"),
            "identifier" => Some("YX71 ABC"),
            "vehicle_type" => Some("car"),
            "powertrain" => Some("battery-electric"),
            "gco2_km" => Some("95"),
            "ownership" => Some("leased"),
            "in_service" => Some("2024-01-01"),
            "out_of_service" => Some("2023-01-01"),
            _ => None,
        })
        .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["out_of_service", "gco2_km"]);
}

fn lease(n: &str, powertrain: &str, g: &str, start: &str) -> Record {
    record(
        &fleet::LEASE_CARS,
        &[
            ("organisation", "RY8"),
            ("agreement", n),
            ("scheme", "salary-sacrifice"),
            ("start_date", start),
            ("powertrain", powertrain),
            ("gco2_km", g),
        ],
    )
}

#[test]
fn lease_cars_count_electric_and_other_ultra_low_apart() {
    let cars = vec![
        lease("L1", "battery-electric", "0", "2024-04-10"),
        lease("L2", "battery-electric", "0", "2024-09-01"),
        lease("L3", "plug-in-hybrid", "30", "2025-01-15"),
        lease("L4", "petrol", "110", "2025-03-31"),
        lease("L5", "petrol", "120", "2025-04-01"),
    ];
    let f = fleet::LEASE_CARS.figures(&cars);
    assert_eq!(figure(&f, "new-lease-cars", Some("RY8"), Y2425), dec("4"));
    assert_eq!(
        figure(&f, "new-lease-cars-electric", Some("RY8"), Y2425),
        dec("2")
    );
    assert_eq!(
        figure(&f, "new-lease-cars-ulev", Some("RY8"), Y2425),
        dec("1")
    );
    assert_eq!(
        figure(&f, "new-lease-cars-electric-share", Some("RY8"), Y2425),
        dec("50.0")
    );
    assert_eq!(
        figure(&f, "new-lease-cars-ulev-share", Some("RY8"), Y2425),
        dec("25.0")
    );
    // (0 + 0 + 30 + 110) / 4 = 35.
    assert_eq!(
        figure(&f, "new-lease-cars-average", Some("RY8"), Y2425),
        dec("35.0")
    );
    let avg = f
        .iter()
        .find(|x| {
            x.key == "new-lease-cars-average" && x.organisation.is_some() && x.period == Y2425
        })
        .unwrap();
    assert_eq!(
        avg.plan_metric,
        Some("dchs-new-lease-car-average-emissions")
    );
}

fn contract(
    name: &str,
    value: &str,
    applied: &str,
    weighting: &str,
    crp: &str,
    kpis: &str,
) -> Record {
    let mut pairs = vec![
        ("organisation", "RTG"),
        ("contract", name),
        ("supplier", "Supplier Ltd"),
        ("category", "medical-equipment"),
        ("annual_value", value),
        ("start_date", "2025-06-01"),
        ("ppn_0620_applied", applied),
        ("crp_received", crp),
        ("sustainability_kpis", kpis),
        ("evergreen_level", "level-1"),
    ];
    if !weighting.is_empty() {
        pairs.push(("ppn_0620_weighting", weighting));
    }
    record(&procurement::CONTRACTS, &pairs)
}

#[test]
fn ppn_compliance_counts_new_contracts_and_derives_the_5m_test() {
    let contracts = vec![
        contract("C1", "6000000", "yes", "10", "yes", "yes"),
        contract("C2", "1000000", "yes", "5", "no", "no"),
        contract("C3", "8000000", "no", "", "no", "no"),
        // Exactly £5m a year is not "over £5m": no plan required.
        contract("C4", "5000000", "yes", "15", "no", "yes"),
    ];
    let f = procurement::CONTRACTS.figures(&contracts);
    // PPN 06/20: C1 and C4 of four.
    assert_eq!(figure(&f, "ppn-06-20-compliance", None, Y2526), dec("50.0"));
    // PPN 06/21: C1 and C3 are over £5m; C1 has its plan.
    assert_eq!(figure(&f, "ppn-06-21-compliance", None, Y2526), dec("50.0"));
    assert_eq!(figure(&f, "contracts-with-kpis", None, Y2526), dec("2"));
}

#[test]
fn a_weighting_without_applied_is_refused() {
    let errors = procurement::CONTRACTS
        .parse(|k| match k {
            "organisation" => Some("RTG"),
            "contract" => Some("X"),
            "supplier" => Some("S"),
            "category" => Some("ict"),
            "annual_value" => Some("100"),
            "start_date" => Some("2025-06-01"),
            "ppn_0620_applied" => Some("no"),
            "ppn_0620_weighting" => Some("10"),
            "crp_received" => Some("no"),
            "sustainability_kpis" => Some("maybe"),
            "evergreen_level" => Some("level-2"),
            _ => None,
        })
        .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "sustainability_kpis");
}

#[test]
fn waste_shares_by_route_and_the_clinical_waste_case() {
    let row = |route: &str, tonnes: &str, miles: &str| {
        record(
            &waste::STREAMS,
            &[
                ("organisation", "RFS"),
                ("period_start", "2025-04-01"),
                ("period_end", "2026-03-31"),
                ("stream", "clinical-infectious"),
                ("route", route),
                ("tonnes", tonnes),
                ("transport_miles", miles),
            ],
        )
    };
    let rows = vec![
        row("energy-from-waste", "300", "3000"),
        row("alternative-treatment", "100", "1117"),
    ];
    let f = waste::STREAMS.figures(&rows);
    assert_eq!(figure(&f, "tonnes", None, Y2526), dec("400"));
    assert_eq!(
        figure(&f, "share-energy-from-waste", None, Y2526),
        dec("75.0")
    );
    assert_eq!(
        figure(&f, "collection-miles", Some("RFS"), Y2526),
        dec("4117")
    );
    // 24,159 miles saved at 1.5 kg/mile = 36.2 t; the rest of the stated 198 t is the route.
    let case = waste::ClinicalWasteCase::with_factor(dec("28276"), dec("4117"), dec("1.5"));
    assert_eq!(case.mileage_saving_t, dec("36.2"));
    assert_eq!(case.unexplained_t, dec("161.8"));
    assert_eq!(case.implied_kg_per_mile(), dec("8.196"));
}

#[test]
fn every_register_starts_with_the_organisation_and_names_real_fields() {
    for r in ALL {
        assert_eq!(r.fields[0].key, "organisation", "{}", r.slug);
        assert!(r.field(r.name_field).is_some(), "{}", r.slug);
        if let Some(f) = r.filter_field {
            assert!(
                matches!(r.field(f).unwrap().kind, FieldKind::Choice(_)),
                "{}",
                r.slug
            );
        }
        assert_eq!(find(r.slug).unwrap().slug, r.slug);
    }
}

/// Waste carbon per tonne: by route where the route has a factor, and for the year only when
/// every row of the year converted.
#[test]
fn waste_carbon_is_summed_by_year_and_route() {
    use crate::activity::RowProblem;
    use crate::category::{NhsCategory, Scope};
    use crate::footprint::Emission;
    let row = |start: &str, end: &str, route: &str, tonnes: &str, miles: &str| {
        record(
            &waste::STREAMS,
            &[
                ("organisation", "RFS"),
                ("period_start", start),
                ("period_end", end),
                ("stream", "clinical-infectious"),
                ("route", route),
                ("tonnes", tonnes),
                ("transport_miles", miles),
            ],
        )
    };
    let streams = vec![
        (
            1,
            row(
                "2024-04-01",
                "2025-03-31",
                "energy-from-waste",
                "300",
                "3000",
            ),
        ),
        (
            2,
            row("2024-04-01", "2025-03-31", "landfill", "100", "1000"),
        ),
        (
            3,
            row(
                "2025-04-01",
                "2026-03-31",
                "energy-from-waste",
                "200",
                "2000",
            ),
        ),
        (
            4,
            row(
                "2025-04-01",
                "2026-03-31",
                "high-temperature-incineration",
                "50",
                "500",
            ),
        ),
    ];
    let activities = footprint::waste(&streams);
    assert_eq!(activities.len(), 8, "tonnes and miles of each record");
    // kg per unit: combustion 21.3 /t, landfill 500 /t, HGV 1.0 /mile; no incineration factor.
    let per_unit = |a: &crate::activity::Activity| match a.activity.as_str() {
        "waste-combustion" => Some(dec("21.3")),
        "waste-landfill" => Some(dec("500")),
        "waste-high-temperature-incineration" => None,
        _ => Some(dec("1.0")),
    };
    let lines: Vec<footprint::Converted> = activities
        .into_iter()
        .map(|a| {
            let outcome = per_unit(&a)
                .map(|k| Emission {
                    origin: a.origin.clone(),
                    organisation: a.organisation.clone(),
                    site: None,
                    year: a.financial_year(),
                    scope: Scope::Scope3,
                    category: NhsCategory::Waste,
                    factor: 0,
                    quantity_in_factor_unit: a.quantity,
                    kgco2e: a.quantity * k,
                    market_kgco2e: a.quantity * k,
                    gases: Default::default(),
                })
                .ok_or_else(|| RowProblem {
                    column: "activity",
                    message: "no factor `waste-high-temperature-incineration`".into(),
                });
            (a, outcome)
        })
        .collect();
    let carbon = footprint::summarise(&lines);
    let [y2526, y2425] = &carbon.years[..] else {
        panic!("{:?}", carbon.years)
    };
    // 2024/25: 300 × 21.3 + 100 × 500 + 4,000 miles × 1.0 = 6,390 + 50,000 + 4,000 kg.
    assert_eq!(y2425.kgco2e, dec("60390"));
    assert_eq!(y2425.tonnes, Some(dec("400")));
    assert_eq!(y2425.tco2e_per_tonne, Some(dec("0.150975")));
    // 2025/26: the incinerated 50 t have no factor, so the year has no figure per tonne.
    assert_eq!(y2526.not_converted, 1);
    assert_eq!(y2526.kgco2e, dec("6760"), "4,260 + 2,500 miles");
    assert_eq!(y2526.tco2e_per_tonne, None);
    assert_eq!(carbon.not_converted.len(), 1);
    assert!(
        carbon.not_converted[0].starts_with("register waste-streams record 4 (activity)"),
        "{:?}",
        carbon.not_converted
    );
    let route = |year: i32, label: &str| {
        carbon
            .routes
            .iter()
            .find(|r| r.year == FinancialYear(year) && r.route == label)
            .unwrap_or_else(|| panic!("no {label} in {year}"))
    };
    assert_eq!(route(2024, "Landfill").tco2e_per_tonne(), Some(dec("0.5")));
    assert_eq!(
        route(2025, "Energy from waste").tco2e_per_tonne(),
        Some(dec("0.0213"))
    );
    let missing = route(2025, "High-temperature incineration");
    assert_eq!((missing.tonnes, missing.kgco2e), (dec("50"), None));
    assert_eq!(missing.factor, "waste-high-temperature-incineration");
}

/// The pipeline against the gap: 10,000 t in 2019/20 allows 2,000 t by 2031/32 (80% less);
/// 8,000 t in 2024/25 leaves 6,000 t a year to cut. Counted: a funded project due in 2026 and
/// a project completed after the latest year; not: one complete within it (already in the
/// footprint), a cancelled one and one due after the milestone.
#[test]
fn the_pipeline_is_set_against_the_gap_to_the_national_trajectory() {
    let project = |name: &str, status: &str, due: &str, saving: &str| {
        record(
            &estates::PIPELINE,
            &[
                ("organisation", "RTG"),
                ("project", name),
                ("measure", "heat-pump"),
                ("capital_cost", "1000000"),
                ("annual_tco2e_saving", saving),
                ("funding_route", "psds"),
                ("status", status),
                ("target_date", due),
            ],
        )
    };
    let projects = vec![
        project("A", "funded", "2026-09-30", "1200"),
        project("B", "complete", "2024-06-01", "500"),
        project("C", "cancelled", "2026-01-01", "300"),
        project("D", "idea", "2033-01-01", "400"),
        project("E", "complete", "2025-09-01", "800"),
    ];
    let footprint = [
        (FinancialYear(2019), dec("10000")),
        (FinancialYear(2024), dec("8000")),
    ];
    let p = estates::pipeline_against_gap(&projects, &footprint).unwrap();
    assert_eq!(p.milestone, (FinancialYear(2031), dec("2000")));
    assert_eq!(p.gap, dec("6000"));
    assert_eq!((p.pipeline, p.projects), (dec("2000"), 2));
    assert_eq!(p.share_of_gap(), Some(dec("33.3")));
    // Below the milestone already: no gap, no share.
    let low = [
        (FinancialYear(2019), dec("10000")),
        (FinancialYear(2024), dec("1500")),
    ];
    let p = estates::pipeline_against_gap(&projects, &low).unwrap();
    assert_eq!((p.gap, p.share_of_gap()), (dec("0"), None));
    assert!(estates::pipeline_against_gap(&projects, &[]).is_none());
}
