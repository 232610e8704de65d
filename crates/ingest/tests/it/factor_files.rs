//! Reads the official UK Government GHG conversion factor flat files (2019, 2020, 2021 and
//! 2023, kept unmodified in the shared data folder, never copied into the repository) and
//! custom factor files, and checks figures against the published values.

#![allow(clippy::unwrap_used)]

use greenplan_core::category::{NhsCategory, Scope};
use greenplan_core::factor::{ALIASES, Factor, FactorSet, ResolveError};
use greenplan_core::unit::{Unit, UnitKind};
use greenplan_ingest::IngestError;
use greenplan_ingest::factors::{
    FactorFile, edition_name_from_file, read_custom_factors, read_flat_file,
};
use rust_decimal::{Decimal, RoundingStrategy};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/ghg-conversion-factors/"
);

fn path(year: i32) -> PathBuf {
    let ext = if year == 2020 || year == 2023 {
        "xlsx"
    } else {
        "xls"
    };
    Path::new(DATA).join(format!("uk-ghg-conversion-factors-{year}-flat-file.{ext}"))
}

/// Each file is read once per test binary: the 2019 workbook alone is 2.8 MB.
fn file(year: i32) -> &'static FactorFile {
    static FILES: OnceLock<Vec<(i32, FactorFile)>> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        [2019, 2020, 2021, 2023]
            .into_iter()
            .map(|y| {
                (
                    y,
                    read_flat_file(&path(y), None).unwrap_or_else(|e| panic!("{y}: {e}")),
                )
            })
            .collect()
    });
    &files.iter().find(|(y, _)| *y == year).unwrap().1
}

fn set(year: i32) -> FactorSet {
    FactorSet::new(file(year).factors.clone())
}

fn unit(s: &str) -> Unit {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn dp5(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero)
}

/// The factor `activity` resolves to in `unit`, in the file of `year`.
fn resolved(year: i32, activity: &str, u: &str) -> Factor {
    let s = set(year);
    let edition = format!("uk-{year}");
    let i = s
        .resolve(activity, &unit(u), &edition)
        .unwrap_or_else(|e| panic!("{year} {activity} {u}: {e}"));
    s.factors()[i].clone()
}

#[test]
fn every_file_is_read_with_its_edition_and_year() {
    for (year, low, high) in [
        (2019, 2300, 2600),
        (2020, 2300, 2600),
        (2021, 2350, 2700),
        (2023, 2500, 2900),
    ] {
        let f = file(year);
        assert_eq!(f.edition, format!("uk-{year}"));
        assert_eq!(f.year, Some(year));
        assert_eq!(
            Some(f.source.as_str()),
            path(year).file_name().and_then(|n| n.to_str())
        );
        let n = f.factors.len();
        assert!((low..=high).contains(&n), "{year}: {n} factors");
        assert!(
            f.factors
                .iter()
                .all(|x| x.edition == f.edition && !x.levels.is_empty())
        );
        // Keys are unique: the resolver can always name the factor it picked.
        let mut keys: Vec<String> = f.factors.iter().map(Factor::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "{year}: duplicate keys");
        eprintln!(
            "{year}: {n} factors, {} rows skipped:\n  {}",
            f.skipped_rows(),
            f.skipped.join("\n  ")
        );
    }
}

#[test]
fn natural_gas_per_kwh_gross() {
    for (year, kg) in [
        (2019, "0.18385"),
        (2020, "0.18387"),
        (2021, "0.18316"),
        (2023, "0.18293"),
    ] {
        let f = resolved(year, "natural-gas", "kWh (Gross CV)");
        assert_eq!(f.levels[..3], ["Fuels", "Gaseous fuels", "Natural gas"]);
        assert_eq!(f.unit_text, "kWh (Gross CV)");
        assert_eq!(
            f.unit,
            Unit::with_qualifier(UnitKind::KilowattHour, "Gross CV")
        );
        assert_eq!(f.scope, Scope::Scope1);
        assert_eq!(dp5(f.kgco2e), dec(kg), "{year}");
        assert_eq!(f.category(), NhsCategory::BuildingEnergy);
        // A gas bill's kWh, without a basis, is read as Gross CV.
        assert_eq!(resolved(year, "natural-gas", "kWh").key(), f.key());
    }
}

#[test]
fn figures_keep_every_published_digit() {
    // The 2023 file publishes unrounded figures; nothing may be lost to binary floating point.
    let f = resolved(2023, "natural-gas", "kWh (Gross CV)");
    assert_eq!(f.kgco2e.to_string(), "0.18292892617449666");
    assert!(
        f.source
            .starts_with("uk-ghg-conversion-factors-2023-flat-file.xlsx, row "),
        "{}",
        f.source
    );
}

#[test]
fn gas_parts_are_kept() {
    let g2023 = resolved(2023, "natural-gas", "kWh (Gross CV)");
    let (co2, ch4, n2o) = (
        g2023.gases.co2.unwrap(),
        g2023.gases.ch4.unwrap(),
        g2023.gases.n2o.unwrap(),
    );
    assert!(co2 > ch4 && co2 > n2o && co2 < g2023.kgco2e);
    let rest = g2023.kgco2e - co2 - ch4 - n2o;
    assert!(
        rest.abs() < dec("0.00001"),
        "parts of 2023 gas do not add up: {rest}"
    );

    let g2019 = resolved(2019, "natural-gas", "kWh (Gross CV)");
    assert_eq!(g2019.gases.co2, Some(dec("0.18351")));
    assert!(g2019.gases.ch4.is_some() && g2019.gases.n2o.is_some());
    assert_eq!(g2019.column_text.as_deref(), Some("Energy - Gross CV"));
}

#[test]
fn electricity_and_diesel_2023() {
    let e = resolved(2023, "grid-electricity", "kWh");
    assert_eq!(dp5(e.kgco2e), dec("0.20707"));
    assert_eq!(e.scope, Scope::Scope2);
    let d = resolved(2023, "diesel", "litres");
    assert_eq!(dp5(d.kgco2e), dec("2.51206"));
    assert_eq!(
        d.levels,
        ["Fuels", "Liquid fuels", "Diesel (average biofuel blend)"]
    );
    // A full path works as well as the alias.
    let p = resolved(
        2023,
        "Fuels > Liquid fuels > Diesel (average biofuel blend)",
        "litres",
    );
    assert_eq!(p.key(), d.key());
    // Gross and net bases are different factors.
    let net = resolved(2023, "natural-gas", "kWh (Net CV)");
    assert!(net.kgco2e > resolved(2023, "natural-gas", "kWh (Gross CV)").kgco2e);
}

#[test]
fn biogenic_co2_is_outside_of_scopes() {
    let f = &file(2023).factors;
    let bio: Vec<&Factor> = f
        .iter()
        .filter(|x| x.scope == Scope::OutsideOfScopes)
        .collect();
    assert!(bio.len() > 40, "{}", bio.len());
    for b in &bio {
        assert_eq!(b.gases.co2, Some(b.kgco2e), "{}", b.key());
        assert_eq!(b.category(), NhsCategory::BiogenicOutsideOfScopes);
    }
    let diesel_bio = bio
        .iter()
        .find(|b| b.key() == "Outside of scopes > Forecourt fuels containing biofuel > Diesel (average biofuel blend) [litres]")
        .unwrap();
    assert_eq!(diesel_bio.kgco2e, dec("0.14"));
}

#[test]
fn what_is_skipped_is_reported() {
    let f = file(2023);
    // The SECR tables give kWh per km, not kg CO2e: not emission factors.
    assert!(
        f.skipped
            .iter()
            .any(|s| s.contains("SECR kWh pass & delivery vehs")
                && s.contains("not emission factors")),
        "{:?}",
        f.skipped
    );
    assert!(f.factors.iter().all(|x| !x.levels[0].starts_with("SECR")));
    // 2019-2021 publish two refrigerants' GWP as `< 1`.
    let f = file(2019);
    assert!(
        f.skipped
            .iter()
            .any(|s| s.contains("R1234yf") && s.contains("`< 1`")),
        "{:?}",
        f.skipped
    );
    // Every unit in the four files is one greenplan knows (incl. `per FTE Working Hour`).
    for y in [2019, 2020, 2021, 2023] {
        assert!(
            !file(y)
                .skipped
                .iter()
                .any(|s| s.contains("is not one greenplan knows")),
            "{y}: {:?}",
            file(y).skipped
        );
    }
    let home = file(2023)
        .factors
        .iter()
        .find(|x| x.unit_text == "per FTE Working Hour")
        .unwrap();
    assert_eq!(home.unit.kind, UnitKind::FteHour);
}

#[test]
fn stray_zero_headings_do_not_split_an_activity() {
    // 2019-2021 carry a `0` in Level 4 on some managed-car rows; the gas rows still form one
    // factor with its parts.
    for year in [2019, 2020, 2021] {
        let f = &file(year).factors;
        assert!(
            f.iter().all(|x| x.levels.iter().all(|l| l != "0")),
            "{year}"
        );
        let car = f
            .iter()
            .find(|x| {
                x.key()
                    == "Managed assets- vehicles > Managed cars (by size) > Small car > Diesel [km]"
            })
            .unwrap_or_else(|| panic!("{year}"));
        assert!(car.gases.co2.is_some() && car.gases.n2o.is_some(), "{year}");
    }
}

/// Unit each alias is resolved in, and the dimension that must come back.
const ALIAS_UNITS: &[(&str, &str)] = &[
    ("natural-gas", "kWh"),
    ("grid-electricity", "kWh"),
    ("electricity-td-losses", "kWh"),
    ("diesel", "litres"),
    ("petrol", "litres"),
    ("burning-oil", "litres"),
    ("gas-oil", "litres"),
    ("lpg", "litres"),
    ("business-car", "km"),
    ("business-car-diesel", "km"),
    ("business-car-petrol", "miles"),
    ("business-car-electric", "km"),
    ("rail", "passenger.km"),
    ("waste-landfill", "tonnes"),
    ("waste-combustion", "tonnes"),
    ("water-supply", "cubic metres"),
    ("water-treatment", "cubic metres"),
];

/// Aliases with no factor in the files. (There is deliberately no recycling alias:
/// `Waste disposal > Refuse > Commercial and industrial waste > Open-loop` is a row in every
/// edition, but its value cell is blank, i.e. not applicable.)
const UNRESOLVABLE: &[&str] = &[];

fn alias_failures(year: i32) -> Vec<(String, ResolveError)> {
    let s = set(year);
    let mut failures = Vec::new();
    for (name, u) in ALIAS_UNITS {
        match s.resolve(name, &unit(u), &format!("uk-{year}")) {
            Ok(i) => {
                let f = &s.factors()[i];
                assert_eq!(
                    f.unit.dimension(),
                    unit(u).dimension(),
                    "{year} {name}: {}",
                    f.key()
                );
                assert_eq!(f.unit.kind, unit(u).kind, "{year} {name}: {}", f.key());
            }
            Err(e) => failures.push((name.to_string(), e)),
        }
    }
    failures
}

#[test]
fn every_alias_is_tested() {
    for a in ALIASES {
        assert!(
            ALIAS_UNITS.iter().any(|(n, _)| *n == a.name),
            "add a unit for alias {}",
            a.name
        );
    }
}

#[test]
fn aliases_resolve_in_2023() {
    let failures = alias_failures(2023);
    for (name, e) in &failures {
        eprintln!("uk-2023: {name}: {e}");
    }
    let names: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().all(|n| UNRESOLVABLE.contains(n)),
        "{failures:?}"
    );
    let s = set(2023);
    let gas = &s.factors()[s.resolve("natural-gas", &unit("kWh"), "uk-2023").unwrap()];
    assert_eq!(gas.unit_text, "kWh (Gross CV)");
    let water = &s.factors()[s.resolve("water-supply", &unit("m3"), "uk-2023").unwrap()];
    assert_eq!(water.unit_text, "cubic metres");
    let car = &s.factors()[s
        .resolve("business-car", &unit("miles"), "uk-2023")
        .unwrap()];
    assert_eq!(car.category(), NhsCategory::FleetAndBusinessTravel);
    let landfill = &s.factors()[s
        .resolve("waste-landfill", &unit("tonnes"), "uk-2023")
        .unwrap()];
    assert_eq!(landfill.category(), NhsCategory::Waste);
}

#[test]
fn aliases_resolve_in_earlier_editions() {
    for year in [2019, 2020, 2021] {
        let failures = alias_failures(year);
        for (name, e) in &failures {
            eprintln!("uk-{year}: {name}: {e}");
        }
        let names: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.iter().all(|n| UNRESOLVABLE.contains(n)),
            "{year}: {failures:?}"
        );
    }
}

#[test]
fn edition_names_from_file_names() {
    assert_eq!(
        edition_name_from_file(&path(2021)).as_deref(),
        Some("uk-2021")
    );
    assert_eq!(
        edition_name_from_file(Path::new("conversion-factors.xlsx")),
        None
    );
}

#[test]
fn a_given_edition_name_is_used() {
    let f = read_flat_file(&path(2023), Some("uk-2023-v2")).unwrap();
    assert_eq!(f.edition, "uk-2023-v2");
    assert_eq!(f.year, Some(2023));
    assert!(f.factors.iter().all(|x| x.edition == "uk-2023-v2"));
}

#[test]
fn files_that_are_not_flat_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope-2023.xlsx");
    assert!(matches!(
        read_flat_file(&missing, None),
        Err(IngestError::Io { .. })
    ));
    let bogus = dir.path().join("bogus-2023.xlsx");
    std::fs::write(&bogus, b"not a workbook").unwrap();
    let err = read_flat_file(&bogus, None).unwrap_err();
    assert!(matches!(err, IngestError::Workbook { .. }), "{err}");
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    p
}

#[test]
fn custom_factors_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "custom.csv",
        "edition,activity,unit,scope,category,kgco2e,kgco2,kgch4,kgn2o,source\n\
         uk-2023,supplier-tariff-edf-nuclear,kWh,2,building-energy,0,,,,EDF fuel mix disclosure 2023\n\
         uk-2023,Ambulance conveyance,count,Scope 3,commissioned-health-services,56,,,,\n\
         custom,hospital-laundry,kg,3,business-services,0.000097818791946308,0.00009,0.000001,0.000002,\n\
         \n\
         ,,,,,,,,,\n",
    );
    let factors = read_custom_factors(&p).unwrap();
    assert_eq!(factors.len(), 3);
    let edf = &factors[0];
    assert_eq!(edf.activity.as_deref(), Some("supplier-tariff-edf-nuclear"));
    assert_eq!(edf.levels, ["supplier-tariff-edf-nuclear"]);
    assert_eq!(edf.kgco2e, Decimal::ZERO);
    assert_eq!(edf.scope, Scope::Scope2);
    assert_eq!(edf.category, Some(NhsCategory::BuildingEnergy));
    assert_eq!(edf.source, "EDF fuel mix disclosure 2023");
    assert_eq!(factors[1].source, "custom.csv, row 3");
    assert_eq!(factors[1].unit.kind, UnitKind::Count);
    let laundry = &factors[2];
    assert_eq!(laundry.edition, "custom");
    assert_eq!(laundry.kgco2e.to_string(), "0.000097818791946308");
    assert_eq!(laundry.gases.co2, Some(dec("0.00009")));
    assert_eq!(laundry.source, "custom.csv, row 4");
    // Blank lines and rows of empty cells are passed over. (Row numbers after a blank line are
    // off by one: csv's `Position::line` bug, BurntSushi/rust-csv#208, in `table::open`.)

    // Custom factors resolve by their activity name, beside the official edition.
    let mut all = file(2023).factors.clone();
    all.extend(factors);
    let s = FactorSet::new(all);
    let i = s
        .resolve("Ambulance Conveyance", &unit("count"), "uk-2023")
        .unwrap();
    assert_eq!(s.factors()[i].kgco2e, dec("56"));
}

#[test]
fn every_bad_custom_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "bad.csv",
        "edition,activity,unit,scope,category,kgco2e,kgco2\n\
         uk-2023,good,kWh,2,building-energy,0.1,\n\
         uk-2023,furlong-trips,furlongs,3,fleet-and-business-travel,1,\n\
         uk-2023,odd-scope,kWh,4,building-energy,1,\n\
         uk-2023,odd-category,kWh,1,spaceflight,1,\n\
         uk-2023,words,kWh,1,building-energy,about two,\n\
         uk-2023,,kWh,1,building-energy,1,\n\
         uk-2023,Good,kwh,2,building-energy,0.2,\n\
         uk-2023,bad-part,kWh,1,building-energy,1,lots\n\
         ,no-edition,kWh,1,building-energy,,\n",
    );
    let err = read_custom_factors(&p).unwrap_err();
    let rows = err.row_errors();
    let has = |row: u64, column: &str, text: &str| {
        rows.iter().any(|e| {
            e.row == row
                && e.column.as_deref() == Some(column)
                && e.message.contains(text)
                && e.file == "bad.csv"
        })
    };
    assert!(has(3, "unit", "furlongs"), "{err}");
    assert!(has(4, "scope", "`4`"), "{err}");
    assert!(has(5, "category", "spaceflight"), "{err}");
    assert!(has(6, "kgco2e", "`about two` is not a number"), "{err}");
    assert!(has(7, "activity", "is empty"), "{err}");
    assert!(has(8, "activity", "row 2"), "{err}");
    assert!(has(9, "kgco2", "`lots`"), "{err}");
    assert!(has(10, "edition", "is empty"), "{err}");
    assert!(has(10, "kgco2e", "is empty"), "{err}");
    assert_eq!(rows.len(), 9, "{err}");
    assert!(!rows.iter().any(|e| e.row == 2), "{err}");
    let text = err.to_string();
    assert!(text.starts_with("9 rows could not be used"), "{text}");
}

#[test]
fn custom_file_header_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "hdr.csv",
        "edition,activity,unit,scope,kgco2e\nuk-2023,a,kWh,1,1\n",
    );
    let err = read_custom_factors(&p).unwrap_err();
    assert!(matches!(err, IngestError::Header { .. }), "{err}");
    assert!(err.to_string().contains("`category`"), "{err}");
}
