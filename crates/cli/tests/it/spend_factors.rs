//! Spend factor sets (`greenplan factors import-spend`) with their price year, end to end:
//! imported through the command line with spend register records, then the footprint computed
//! through `greenplan_service::footprint::for_each_emission` and checked by hand. A fresh
//! database per test (SQLite, or PostgreSQL when GREENPLAN_TEST_POSTGRES is set).
//!
//! The factor values here are round test figures, not published ones.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use common::Env;
use greenplan_core::Decimal;
use greenplan_core::category::{NhsCategory, Scope};
use greenplan_service::footprint::{FootprintQuery, FootprintRun, for_each_emission};
use greenplan_store::Store;
use serde_json::Value;
use std::collections::BTreeMap;

const FACTORS: &str = "\
category,kgco2e_per_gbp,source
ict,0.45,test figure (not published)
Medicines and chemicals,0.3,
";

/// RTG's ICT spend in 2021/22 (the factor set's price year) and medicines in 2024/25 (not).
const SPEND: &str = "\
organisation,financial_year,category,spend,factor_edition
RTG,2021/22,ict,\"250,000\",spend-2021-prices
RTG,2024/25,medicines-and-chemicals,100000,spend-2021-prices
";

fn with_spend() -> Env {
    let env = Env::new();
    env.ok(&["init"]);
    let factors = env.file("spend-factors.csv", FACTORS.as_bytes());
    env.ok(&[
        "factors",
        "import-spend",
        &factors,
        "--edition",
        "spend-2021-prices",
        "--price-year",
        "2021",
        "--source",
        "greenplan tests",
    ]);
    let spend = env.file("spend.csv", SPEND.as_bytes());
    env.ok(&["registers", "import", "procurement-spend", &spend]);
    env
}

/// kgCO2e by (financial year, scope, category), and what the run noted.
async fn footprint(
    env: &Env,
) -> (
    BTreeMap<(String, Scope, NhsCategory), Decimal>,
    FootprintRun,
) {
    let store = Store::connect(&env.db.url).await.unwrap();
    let mut sums = BTreeMap::new();
    let run = for_each_emission(&store, &FootprintQuery::default(), |e| {
        *sums
            .entry((e.year.to_string(), e.scope, e.category))
            .or_default() += e.kgco2e;
    })
    .await
    .unwrap();
    store.close().await;
    (sums, run)
}

/// The item of a JSON list whose `key` is `value`.
fn item<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i[key] == value)
        .unwrap_or_else(|| panic!("no {key} {value} in {list}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn spend_is_converted_with_the_imported_set_and_its_price_year_noted() {
    let env = with_spend();
    let (sums, run) = footprint(&env).await;
    // £250,000 × 0.45 kgCO2e/£ = 112,500 kg = 112.5 tCO2e; £100,000 × 0.3 = 30 tCO2e.
    let expected: BTreeMap<_, _> = [
        (
            ("2021/22".to_string(), Scope::Scope3, NhsCategory::Ict),
            Decimal::from(112_500),
        ),
        (
            (
                "2024/25".to_string(),
                Scope::Scope3,
                NhsCategory::MedicinesAndChemicals,
            ),
            Decimal::from(30_000),
        ),
    ]
    .into();
    assert_eq!(sums, expected);
    assert!(run.not_counted.is_empty(), "{:?}", run.not_counted);
    assert_eq!(run.editions_used, ["spend-2021-prices"]);
    // 2024/25 spend against 2021 prices is counted, and noted; 2021/22 is not.
    assert_eq!(run.notes.len(), 1, "{:?}", run.notes);
    assert!(
        run.notes[0].starts_with(
            "Spend in 2024/25 against factors at 2021 prices (factor set spend-2021-prices): register procurement-spend record"
        ),
        "{}",
        run.notes[0]
    );

    // The spend register's page works out the same, with the same note.
    let store = Store::connect(&env.db.url).await.unwrap();
    let in_force = greenplan_service::footprint::FactorsInForce::load(&store, [])
        .await
        .unwrap();
    let carbon = greenplan_service::registers::register_carbon(
        &store,
        &in_force,
        &greenplan_core::register::procurement::SPEND,
        None,
    )
    .await
    .unwrap()
    .unwrap();
    store.close().await;
    let by_year: Vec<(String, Decimal)> = carbon
        .years
        .iter()
        .map(|y| (y.year.to_string(), y.kgco2e))
        .collect();
    assert_eq!(
        by_year,
        [
            ("2024/25".to_string(), Decimal::from(30_000)),
            ("2021/22".to_string(), Decimal::from(112_500))
        ]
    );
    assert_eq!(carbon.notes, run.notes);

    // The command line shows the same: the note, the price year beside the edition.
    let out = env.run(&["footprint", "--by", "category", "--format", "csv"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ict,112.5"), "{stdout}");
    assert!(stdout.contains("medicines-and-chemicals,30"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("note: Spend in 2024/25"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let explain: Value = serde_json::from_str(&env.ok(&[
        "footprint",
        "--explain",
        "--by",
        "category",
        "--format",
        "json",
    ]))
    .unwrap();
    let from = &explain["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"][0] == "ict")
        .unwrap()["from"][0];
    assert_eq!(from["edition"], "spend-2021-prices");
    assert_eq!(from["price_year"], 2021);
    assert_eq!(from["factor"], "spend-ict");
    assert_eq!(from["kgco2e_per_unit"], "0.45");
    assert_eq!(from["factor_source"], "test figure (not published)");
    let table = env.ok(&[
        "footprint",
        "--explain",
        "--by",
        "category",
        "--format",
        "csv",
    ]);
    assert!(table.contains("spend-2021-prices (2021 prices)"), "{table}");

    let editions = env.ok(&["factors", "editions", "--format", "csv"]);
    assert!(
        editions.contains("spend-2021-prices,,2,spend-factors.csv,2021"),
        "{editions}"
    );
    let factors: Value = serde_json::from_str(&env.ok(&[
        "factors",
        "list",
        "--edition",
        "spend-2021-prices",
        "--format",
        "json",
    ]))
    .unwrap();
    let medicines = item(&factors, "activity", "spend-medicines-and-chemicals");
    assert_eq!(medicines["source"], "greenplan tests");
    assert_eq!(medicines["unit_text"], "GBP");
}

#[tokio::test(flavor = "multi_thread")]
async fn importing_a_set_again_replaces_it_and_the_backup_keeps_its_price_year() {
    let env = with_spend();
    let again = env.file("again.csv", b"category,kgco2e_per_gbp\nict,0.5\n");
    env.ok(&[
        "factors",
        "import-spend",
        &again,
        "--edition",
        "spend-2021-prices",
        "--price-year",
        "2024",
    ]);
    let (sums, run) = footprint(&env).await;
    // ICT now £250,000 × 0.5; medicines has no factor in the set any more: left out, said so.
    assert_eq!(
        sums.values().copied().sum::<Decimal>(),
        Decimal::from(125_000)
    );
    assert_eq!(run.not_counted.len(), 1, "{:?}", run.not_counted);
    assert!(run.not_counted[0].contains("spend-medicines-and-chemicals"));
    // The ICT line is 2021/22, the set now at 2024 prices.
    assert!(run.notes[0].starts_with("Spend in 2021/22 against factors at 2024 prices"));

    let backup = env.path("greenplan.backup");
    env.ok(&["backup", &backup]);
    let restored = Env::new();
    restored.ok(&["restore", &backup]);
    let editions: Value =
        serde_json::from_str(&restored.ok(&["factors", "editions", "--format", "json"])).unwrap();
    let set = item(&editions, "name", "spend-2021-prices");
    assert_eq!(set["price_year"], 2024);
    assert_eq!(set["year"], Value::Null);
    assert_eq!(footprint(&restored).await.0, sums);
}

#[test]
fn a_bad_factor_file_names_row_and_column_and_stores_nothing() {
    let env = Env::new();
    env.ok(&["init"]);
    let bad = env.file(
        "bad-spend.csv",
        b"category,kgco2e_per_gbp\nict,0.45\nwidgets,0.2\nfreight,-1\nict,0.5\nconstruction,\n",
    );
    let error = env.fails(&[
        "factors",
        "import-spend",
        &bad,
        "--edition",
        "spend-2021-prices",
        "--price-year",
        "2021",
    ]);
    for wanted in [
        "bad-spend.csv: row 3, column `category`",
        "use one of medicines-and-chemicals, medical-equipment",
        "bad-spend.csv: row 4, column `kgco2e_per_gbp`: `-1` is not a positive number",
        "bad-spend.csv: row 5, column `category`: `ict` already has a factor (row 2)",
        "bad-spend.csv: row 6, column `kgco2e_per_gbp`",
    ] {
        assert!(error.contains(wanted), "missing {wanted:?} in:\n{error}");
    }
    assert!(!error.contains("row 2,"), "{error}");
    let editions = env.ok(&["factors", "editions", "--format", "csv"]);
    assert!(!editions.contains("spend-2021-prices"), "{editions}");

    let error = env.fails(&[
        "factors",
        "import-spend",
        &bad,
        "--edition",
        "spend",
        "--price-year",
        "21",
    ]);
    assert!(error.contains("--price-year"), "{error}");
}
