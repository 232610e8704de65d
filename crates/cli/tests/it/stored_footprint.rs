//! The footprint of stored activity reads sum lines (issue 18): rows of one import alike in
//! all but quantity and period are converted once, as their sum. These tests hold it to the
//! figures of every row read one by one, and to the footprint of the same rows from the file,
//! to the last digit, including the rows that must still be read one by one: quantities whose
//! products would round, factors that no longer resolve, and sums made anew on restore.

use crate::common;
use common::Env;
use greenplan_core::Decimal;
use greenplan_service::footprint::{FootprintQuery, FootprintRun, for_each_emission};
use greenplan_store::Store;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const HEADER: &str = "organisation,site,period_start,period_end,activity,quantity,unit,notes\n";

/// Round test figures, not published ones: two editions, one per financial year.
const FACTORS: &str = "\
edition,activity,unit,scope,category,kgco2e
test-2023,boiler-gas,kWh,1,building-energy,0.18292892617449666
test-2023,grid-power,kWh,2,building-energy,0.207074288
test-2023,mains-water,m3,3,water,0.1766845
test-2024,boiler-gas,kWh,1,building-energy,0.1829
test-2024,grid-power,kWh,2,building-energy,0.20705
test-2024,mains-water,m3,3,water,0.177
";

/// A deterministic mix of monthly rows over two financial years: two organisations, sites
/// with and without a name, quantities with 0 to 3 decimals, and corrections (negative).
fn rows(seed: u64, count: usize) -> String {
    let mut x = seed;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut out = String::new();
    for _ in 0..count {
        let org = ["RTG", "RFS"][(next() % 2) as usize];
        let site = ["", "Royal Derby", "Chesterfield"][(next() % 3) as usize];
        let month = next() % 24;
        let (year, m) = (2023 + (month + 3) / 12, (month + 3) % 12 + 1);
        let end = chrono::NaiveDate::from_ymd_opt(year as i32, m as u32, 1)
            .unwrap()
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap();
        let (activity, unit) = [
            ("boiler-gas", "kWh"),
            ("grid-power", "kWh"),
            ("mains-water", "m3"),
        ][(next() % 3) as usize];
        let scale = (next() % 4) as u32;
        let mut quantity = Decimal::new((next() % 5_000_000) as i64, scale);
        let mut notes = "";
        if next() % 10 == 0 {
            quantity = -quantity;
            notes = "correction of an earlier month";
        }
        writeln!(
            out,
            "{org},{site},{year}-{m:02}-01,{end},{activity},{quantity},{unit},{notes}"
        )
        .unwrap();
    }
    out
}

/// kgCO2e, market-based kgCO2e and the gas split, at full precision, by organisation, site,
/// year, scope and category; the number of emissions handed over; and what the run noted.
type Sums = BTreeMap<(String, String, String, String, String), [Decimal; 6]>;

fn footprint(env: &Env, query: FootprintQuery) -> (Sums, usize, FootprintRun) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::connect(&env.db.url).await.unwrap();
        let mut sums = Sums::new();
        let mut emissions = 0;
        let run = for_each_emission(&store, &query, |e| {
            emissions += 1;
            let key = (
                e.organisation.to_string(),
                e.site.clone().unwrap_or_default(),
                e.year.to_string(),
                e.scope.to_string(),
                e.category.slug().to_string(),
            );
            let line = sums.entry(key).or_default();
            for (sum, v) in line.iter_mut().zip([
                e.kgco2e,
                e.market_kgco2e,
                e.gases.co2,
                e.gases.ch4,
                e.gases.n2o,
                e.gases.other,
            ]) {
                *sum += v;
            }
        })
        .await
        .unwrap();
        store.close().await;
        (sums, emissions, run)
    })
}

fn both(
    env: &Env,
    query: FootprintQuery,
) -> ((Sums, usize, FootprintRun), (Sums, usize, FootprintRun)) {
    let summed = footprint(env, query.clone());
    let rows = footprint(
        env,
        FootprintQuery {
            each_row: true,
            ..query
        },
    );
    (summed, rows)
}

fn with_factors() -> Env {
    let env = Env::new();
    env.ok(&["init"]);
    let factors = env.file("factors.csv", FACTORS.as_bytes());
    env.ok(&["factors", "import", &factors]);
    env
}

#[test]
fn sums_give_the_figures_of_every_row_and_of_the_file() {
    let env = with_factors();
    let (first, second) = (rows(7, 1500), rows(11, 900));
    // A group whose quantities have 18 decimals: against a factor of 17 its products would
    // be rounded (a decimal keeps 28), so its rows must be converted one by one.
    let fine = "RTG,Ilkeston,2023-07-01,2023-07-31,boiler-gas,0.123456789012345678,kWh,\n\
                RTG,Ilkeston,2023-08-01,2023-08-31,boiler-gas,2.000000000000000001,kWh,\n";
    let a = env.file("first.csv", format!("{HEADER}{first}{fine}").as_bytes());
    let b = env.file("second.csv", format!("{HEADER}{second}").as_bytes());
    env.ok(&["activity", "import", &a]);
    env.ok(&["activity", "import", &b]);

    let ((sums, emissions, run), (by_row, row_emissions, row_run)) =
        both(&env, FootprintQuery::default());
    assert_eq!(sums, by_row);
    assert_eq!(run.rows, 1500 + 2 + 900);
    assert_eq!(run.rows, row_run.rows);
    assert_eq!(row_emissions, 2402);
    // 2 organisations × 3 sites × 2 years × 3 activities × 2 files at most, plus the two
    // rows read one by one: the sums were used.
    assert!(emissions <= 74, "{emissions} emissions");
    assert!(emissions > 2, "{emissions} emissions");
    assert_eq!(run.editions_used, row_run.editions_used);
    assert!(run.unconverted.is_empty() && row_run.unconverted.is_empty());

    // The command line reads the sums; `--from` the file; `--explain` every row.
    let by = "organisation,site,scope,category,period";
    let stored = env.ok(&["footprint", "--by", by, "--format", "csv"]);
    let whole = env.file(
        "whole.csv",
        format!("{HEADER}{first}{fine}{second}").as_bytes(),
    );
    let from = env.ok(&["footprint", "--from", &whole, "--by", by, "--format", "csv"]);
    assert_eq!(stored, from);
    assert!(stored.lines().count() > 20, "{stored}");
    let explain = env.ok(&["footprint", "--explain", "--format", "csv"]);
    assert!(explain.lines().count() > 2402, "every row is listed");
    assert!(explain.contains("first.csv,1502,"), "{explain}");
}

#[test]
fn rows_that_cannot_be_converted_are_each_named_as_before() {
    let env = with_factors();
    let rows = rows(3, 400);
    let a = env.file("returns.csv", format!("{HEADER}{rows}").as_bytes());
    env.ok(&["activity", "import", &a]);
    let widgets = env.file(
        "widgets.csv",
        b"edition,activity,unit,scope,category,kgco2e\nwidgets-2023,mains-water,m3,3,water,0.2\n",
    );
    env.ok(&["factors", "import", &widgets]);
    // Pinned to an edition with water only: every gas and power row is refused, by row.
    let pinned = FootprintQuery {
        edition: Some("widgets-2023".into()),
        ..FootprintQuery::default()
    };
    let ((sums, _, run), (by_row, _, row_run)) = both(&env, pinned);
    assert_eq!(sums, by_row);
    assert_eq!(run.unconverted, row_run.unconverted);
    let water = rows.lines().filter(|l| l.contains("mains-water")).count();
    assert_eq!(run.unconverted.len(), 400 - water);
    assert!(
        run.unconverted[0].starts_with("returns.csv row "),
        "{:?}",
        run.unconverted[0]
    );
    // Of one organisation and year, too.
    let one = FootprintQuery {
        organisation: Some(greenplan_core::ods::OdsCode::parse("RFS").unwrap()),
        year: Some(greenplan_core::period::FinancialYear(2024)),
        ..FootprintQuery::default()
    };
    let ((sums, _, run), (by_row, _, row_run)) = both(&env, one);
    assert_eq!(sums, by_row);
    assert_eq!(run.rows, row_run.rows);
    assert!(
        sums.keys().all(|k| k.0 == "RFS" && k.2 == "2024/25"),
        "{sums:?}"
    );
    assert!(!sums.is_empty());
}

#[test]
fn a_restore_makes_the_sums_anew() {
    let env = with_factors();
    let a = env.file(
        "returns.csv",
        format!("{HEADER}{}", rows(5, 300)).as_bytes(),
    );
    env.ok(&["activity", "import", &a]);
    let before = env.ok(&[
        "footprint",
        "--by",
        "organisation,site,period",
        "--format",
        "csv",
    ]);
    let backup = env.path("backup.jsonl");
    env.ok(&["backup", &backup]);
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(
        !text.contains("\"table\":\"activity_sums\""),
        "derived data is left out"
    );

    let restored = Env::new();
    restored.ok(&["restore", &backup]);
    let after = restored.ok(&[
        "footprint",
        "--by",
        "organisation,site,period",
        "--format",
        "csv",
    ]);
    assert_eq!(before, after);
    let ((sums, emissions, run), (by_row, _, _)) = both(&restored, FootprintQuery::default());
    assert_eq!(sums, by_row);
    assert_eq!(run.rows, 300);
    assert!(emissions < 300, "the restored rows are summed: {emissions}");
}
