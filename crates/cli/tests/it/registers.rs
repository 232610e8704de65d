//! `greenplan registers …` driven as a user drives it: real binary, real files, a fresh
//! database per test (SQLite, or PostgreSQL when GREENPLAN_TEST_POSTGRES is set).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use common::Env;
use serde_json::Value;

/// Contracts an acute trust (RTG) and the ambulance service (RX9) let in 2023/24, as a
/// procurement team keeps them: a quoted comma, an accent, a blank end date and weighting.
const CONTRACTS: &str = "\
organisation,contract,supplier,category,annual_value,start_date,end_date,ppn_0620_applied,ppn_0620_weighting,crp_received,sustainability_kpis,evergreen_level
RTG,\"Linen and laundry, all sites\",Elis UK,business-services,2400000,2023-05-01,2028-04-30,yes,10,no,yes,level-2
RTG,Pathology managed service,Synlab,medical-equipment,8200000,01/07/2023,2033-06-30,yes,15,yes,yes,level-3
RTG,Staff restaurant,Café Royal Ltd,food-and-catering,650000,2023-11-01,,no,,no,no,not-assessed
RTG,Estates maintenance,Mitie,business-services,5600000,2024-01-15,2026-01-14,yes,5,no,no,level-1
RX9,Vehicle maintenance,Fleet Services Ltd,business-services,300000,2024-02-01,2027-01-31,yes,10,no,yes,level-1
";

/// The records of a register, oldest first, as `registers show --format json` gives them.
fn records(env: &Env, slug: &str) -> Vec<Value> {
    let out = env.ok(&["registers", "show", slug, "--format", "json"]);
    let all: Vec<Value> = serde_json::from_str(&out).unwrap();
    all.into_iter().map(|r| r["values"].clone()).collect()
}

/// Imports `file` into a fresh database (with the built-in plan and its example records) and
/// returns the records the file added.
fn imported_into_fresh(slug: &str, file: &str) -> Vec<Value> {
    let env = Env::new();
    env.ok(&["init"]);
    let before = records(&env, slug).len();
    env.ok(&["registers", "import", slug, file]);
    records(&env, slug).split_off(before)
}

#[test]
fn an_export_imports_back_as_the_same_records() {
    let env = Env::new();
    env.ok(&["init"]);
    let file = env.file("contracts.csv", CONTRACTS.as_bytes());
    let before = records(&env, "procurement-contracts").len();
    env.ok(&["registers", "import", "procurement-contracts", &file]);
    let all = records(&env, "procurement-contracts");
    assert_eq!(all.len(), before + 5);
    // Stored as canonical text: the UK date read as ISO, the blank weighting left out.
    let pathology = &all[before + 1];
    assert_eq!(pathology["start_date"], "2023-07-01");
    assert_eq!(all[before]["contract"], "Linen and laundry, all sites");
    assert!(all[before + 2].get("ppn_0620_weighting").is_none());

    let listing = env.ok(&["registers", "list", "--format", "csv"]);
    assert!(
        listing.contains(&format!(
            "procurement-contracts,Procurement: contracts,procurement-and-supply-chain,{}",
            before + 5
        )),
        "{listing}"
    );

    let csv = env.path("export.csv");
    let xlsx = env.path("export.xlsx");
    env.ok(&[
        "registers",
        "export",
        "procurement-contracts",
        "--out",
        &csv,
    ]);
    env.ok(&[
        "registers",
        "export",
        "procurement-contracts",
        "--out",
        &xlsx,
    ]);
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("organisation,contract,supplier,category,annual_value,")
    );
    // Every live record, the example ones too, comes back with the same values either way.
    assert_eq!(imported_into_fresh("procurement-contracts", &csv), all);
    assert_eq!(imported_into_fresh("procurement-contracts", &xlsx), all);

    // The template is the header alone: importing it stores nothing and says so.
    let template = env.path("template.xlsx");
    env.ok(&[
        "registers",
        "template",
        "procurement-contracts",
        "--out",
        &template,
    ]);
    let error = env.fails(&["registers", "import", "procurement-contracts", &template]);
    assert!(error.contains("template.xlsx"), "{error}");
    assert_eq!(records(&env, "procurement-contracts").len(), before + 5);
}

#[test]
fn a_bad_file_names_row_and_column_and_stores_nothing() {
    let env = Env::new();
    env.ok(&["init"]);
    let before = records(&env, "procurement-contracts").len();
    // Row 3: an unknown category and a weighting over 100; row 4: an organisation outside the
    // plan. Row 2 is good but must not be stored either.
    let bad = CONTRACTS
        .lines()
        .take(2)
        .chain([
            "RTG,Cleaning,Clean Co,cleaning,100000,2023-06-01,,yes,110,no,no,level-1",
            "ZZ1,Porters,Porter Co,business-services,100000,2023-06-01,,no,,no,no,level-1",
        ])
        .collect::<Vec<_>>()
        .join("\n");
    let file = env.file("bad contracts.csv", bad.as_bytes());
    let error = env.fails(&["registers", "import", "procurement-contracts", &file]);
    for wanted in [
        "bad contracts.csv: row 3, column `category`",
        "use one of medicines-and-chemicals",
        "bad contracts.csv: row 3, column `ppn_0620_weighting`",
        "a number from 0 to 100",
        "bad contracts.csv: row 4, column `organisation`",
        "nothing was stored",
    ] {
        assert!(error.contains(wanted), "missing {wanted:?} in:\n{error}");
    }
    assert!(!error.contains("row 2,"), "{error}");
    assert_eq!(records(&env, "procurement-contracts").len(), before);

    let error = env.fails(&["registers", "import", "no-such-register", &file]);
    assert!(error.contains("procurement-contracts"), "{error}");
}

/// A figure from `registers figures --format csv`: (period, figure label) → (value, unit,
/// plan metric, working).
fn figure<'a>(csv: &'a str, period: &str, label: &str) -> Vec<&'a str> {
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{period},")) && l.contains(label))
        .unwrap_or_else(|| panic!("no {period} {label} in\n{csv}"));
    // The labels hold no commas or quotes; the working is the last column.
    let cells: Vec<&str> = line.split(',').collect();
    cells[3..].to_vec()
}

#[test]
fn figures_match_the_hand_checked_values() {
    let env = Env::new();
    env.ok(&["init"]);
    let file = env.file("contracts.csv", CONTRACTS.as_bytes());
    env.ok(&["registers", "import", "procurement-contracts", &file]);

    // RTG's four new contracts in 2023/24: weightings of 10 and 15 meet PPN 06/20, 5 and none
    // do not (2 of 4); of the two over £5m a year (£8.2m, £5.6m) one has its Carbon Reduction
    // Plan (1 of 2); two have sustainability KPIs.
    let rtg = env.ok(&[
        "registers",
        "figures",
        "procurement-contracts",
        "--organisation",
        "RTG",
        "--format",
        "csv",
    ]);
    let ppn_0620 = "weighting of 10% or more (PPN 06/20)";
    let ppn_0621 = "with a Carbon Reduction Plan (PPN 06/21)";
    let kpis = "sustainability KPIs from inception";
    assert_eq!(
        figure(&rtg, "2023/24", ppn_0620),
        ["50", "%", "", "2 of 4 new contracts"],
        "an organisation's figure is not the plan metric's value"
    );
    assert_eq!(
        figure(&rtg, "2023/24", ppn_0621),
        ["50", "%", "", "1 of 2 new contracts over £5m a year"]
    );
    assert_eq!(
        figure(&rtg, "2023/24", kpis),
        ["2", "contracts", "", "2 of 4 new contracts"]
    );
    // Q4 (January to March 2024): the £5.6m contract alone.
    assert_eq!(
        figure(&rtg, "Q4 2023/24", ppn_0621),
        ["0", "%", "", "0 of 1 new contracts over £5m a year"]
    );

    // The system adds RX9's contract (10%, KPIs): 3 of 5, and it feeds the plan's metrics.
    let system = env.ok(&[
        "registers",
        "figures",
        "procurement-contracts",
        "--format",
        "csv",
    ]);
    assert_eq!(
        figure(&system, "2023/24", ppn_0620),
        ["60", "%", "ppn-06-20-compliance", "3 of 5 new contracts"]
    );
    assert_eq!(
        figure(&system, "2023/24", kpis),
        [
            "3",
            "contracts",
            "contracts-with-sustainability-kpis",
            "3 of 5 new contracts"
        ]
    );
    // Latest year first.
    let first = system.lines().nth(1).unwrap();
    assert!(first.starts_with("2025/26,system,"), "{system}");

    // Spend: £250,000 and £1,200,000.50 in 2024/25.
    let spend = env.file(
        "spend.csv",
        b"organisation,financial_year,category,spend,factor_edition\n\
          RTG,2024/25,ict,250000,spend-test\n\
          RTG,2024/25,medicines-and-chemicals,\"1,200,000.50\",spend-test\n",
    );
    env.ok(&["registers", "import", "procurement-spend", &spend]);
    let json: Value = serde_json::from_str(&env.ok(&[
        "registers",
        "figures",
        "procurement-spend",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json[0]["period"], "2024/25");
    assert_eq!(json[0]["value"], "1450000.5");
    assert_eq!(json[0]["unit"], "£");
    assert_eq!(json[0]["working"], "2 category lines");
}
