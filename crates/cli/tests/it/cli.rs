//! The `greenplan` command, driven as a user drives it: real binary, real files, a fresh
//! database per test (SQLite, or PostgreSQL when GREENPLAN_TEST_POSTGRES is set).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use common::{BIN, Env};

fn factors_2023() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx"
    ))
}

impl Env {
    fn with_factors() -> Self {
        let env = Self::new();
        env.ok(&["init"]);
        env.ok(&["factors", "import", factors_2023().to_str().unwrap()]);
        env
    }

    fn activity_rows(&self) -> usize {
        let csv = self.ok(&["footprint", "--by", "organisation", "--format", "csv"]);
        csv.lines().count() - 1
    }
}

const HEADER: &str = "organisation,site,period_start,period_end,activity,quantity,unit,notes\n";

#[test]
fn init_is_idempotent_and_lists_the_plan() {
    let env = Env::new();
    let out = env.run(&["init"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("24 priority actions"));
    let again = env.run(&["init"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already loaded; nothing changed"));
    let medicines = env.ok(&["actions", "list", "--area", "medicines", "--format", "csv"]);
    assert_eq!(medicines.lines().count(), 4, "{medicines}");
    assert!(medicines.contains("MED1"));
    let due = env.ok(&["actions", "list", "--due", "Q3 2025/26", "--format", "csv"]);
    assert!(due.contains("WL1") && due.lines().count() == 2, "{due}");
    let json = env.ok(&["metrics", "show", "inhaler-carbon", "--format", "json"]);
    assert!(
        json.contains("\"trajectory\"") && json.contains("13247"),
        "{json}"
    );
    let quality = env.ok(&["metrics", "quality", "--format", "csv"]);
    assert!(
        quality.contains("inhaler-carbon,2024/25,system,14.399kgCO ₂ e,14399 tCO2e,0.014399 tCO2e"),
        "{quality}"
    );
    let err = env.fails(&["actions", "list", "--area", "food"]);
    assert!(err.contains("unknown area `food`"), "{err}");
}

#[test]
fn a_bad_plan_file_names_file_line_and_field_and_loads_nothing() {
    let env = Env::new();
    let plan = env.file(
        "plan.toml",
        b"[plan]\nid = \"x\"\ntitle = \"X\"\nsystem = \"S\"\nicb = \"QJ2\"\nfirst_year = \"2025/26\"\nlast_year = \"2027/28\"\n\n[[organisation]]\ncode = \"QJ2\"\nname = \"ICB\"\nkind = \"icb\"\n\n[[area]]\ncode = \"medicines\"\nname = \"Medicines\"\n\n[[action]]\nid = \"M1\"\narea = \"medicine\"\ntitle = \"T\"\nleads = [\"L\"]\ndelivery = \"2026/27\"\nsuccess_measure = \"S\"\n",
    );
    let err = env.fails(&["init", "--plan", &plan]);
    assert!(
        err.contains("plan.toml:18: field `action.area`: unknown area of focus `medicine`"),
        "{err}"
    );
    let listed = env.fails(&["actions", "list"]);
    assert!(listed.contains("no plan is loaded"), "{listed}");
}

#[test]
fn official_factors_import_with_exact_values() {
    let env = Env::with_factors();
    let csv = env.ok(&[
        "factors",
        "list",
        "--edition",
        "uk-2023",
        "--search",
        "natural gas [kwh (gross cv)]",
        "--format",
        "csv",
    ]);
    let line = csv
        .lines()
        .find(|l| l.contains(",Fuels > Gaseous fuels > Natural gas,"))
        .expect(&csv);
    assert!(line.contains("0.18292892617449666"), "{line}");
    let editions = env.ok(&["factors", "editions", "--format", "csv"]);
    assert!(editions.contains("uk-2023,2023,2643"), "{editions}");
}

#[test]
fn footprint_matches_hand_computed_totals() {
    let env = Env::with_factors();
    let file = env.file(
        "return.csv",
        format!(
            "{HEADER}RTG,Royal Derby,2023-04-01,2023-04-30,natural-gas,1000,kWh,\n\
             RTG,Royal Derby,2023-05-01,2023-05-31,grid-electricity,2,MWh,\n\
             RFS,,01/06/2023,30/06/2023,Fuels > Liquid fuels > Diesel (average biofuel blend),100,litres,fleet\n\
             RFS,,2023-06-01,2023-06-30,water-supply,\"1,000\",m3,\n"
        )
        .as_bytes(),
    );
    env.ok(&["activity", "import", &file]);
    let csv = env.ok(&[
        "footprint",
        "--by",
        "organisation,scope,category",
        "--format",
        "csv",
    ]);
    // 1000 × 0.18292892617449666 = 182.92892617449666 kg; 2000 × 0.20707428859060403 =
    // 414.14857718120806 kg; 100 × 2.5120638845637586 = 251.20638845637586 kg;
    // 1000 × 0.1766845465790137 = 176.6845465790137 kg.
    assert_eq!(
        csv,
        "organisation,scope,category,tco2e\n\
         RFS,Scope 1,building-energy,0.251206\n\
         RFS,Scope 3,water,0.176685\n\
         RTG,Scope 1,building-energy,0.182929\n\
         RTG,Scope 2,building-energy,0.414149\n"
    );
    let by_year = env.ok(&[
        "footprint",
        "--year",
        "2023/24",
        "--by",
        "period",
        "--format",
        "csv",
    ]);
    assert_eq!(by_year, "period,tco2e\n2023/24,1.024968\n");
    let none = env.ok(&["footprint", "--year", "2024/25", "--format", "csv"]);
    assert_eq!(none, "organisation,category,tco2e\n");
    let explain = env.ok(&[
        "footprint",
        "--by",
        "organisation",
        "--explain",
        "--format",
        "csv",
    ]);
    assert!(explain.contains("RTG,0.597078,return.csv,3,2000,kWh,uk-2023,UK electricity > Electricity generated > Electricity: UK > kWh,0.20707428859060403,414.148577"), "{explain}");
    // Re-importing the same file stores nothing twice.
    let again = env.run(&["activity", "import", &file]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already imported"));
    assert_eq!(env.activity_rows(), 2);
}

#[test]
fn market_based_scope_2_uses_the_tariff() {
    let env = Env::with_factors();
    let tariff = env.file("tariff.csv", b"edition,activity,unit,scope,category,kgco2e,source\nuk-2023,edf-nuclear-tariff,kWh,2,building-energy,0,Supplier fuel mix disclosure\n");
    env.ok(&["factors", "import", &tariff]);
    let file = env.file("e.csv", b"organisation,site,period_start,period_end,activity,quantity,unit,market_factor\nRFS,,2023-04-01,2023-04-30,grid-electricity,1000,kWh,edf-nuclear-tariff\n");
    env.ok(&["activity", "import", &file]);
    let location = env.ok(&["footprint", "--by", "scope", "--format", "csv"]);
    let market = env.ok(&[
        "footprint",
        "--by",
        "scope",
        "--format",
        "csv",
        "--basis",
        "market",
    ]);
    assert_eq!(location, "scope,tco2e\nScope 2,0.207074\n");
    assert_eq!(market, "scope,tco2e\nScope 2,0\n");
}

#[test]
fn footprint_from_files_stores_nothing() {
    let env = Env::new();
    env.ok(&["init", "--empty"]);
    let factors = env.file("f.csv", b"edition,activity,unit,scope,category,kgco2e\ntest-2023,widget,count,3,medical-equipment,2.5\n");
    let acts = env.file("a.csv", format!("{HEADER}RTG,,2023-04-01,2023-04-30,widget,4,count,\nRTG,,2023-05-01,2023-05-31,widget,0.5,count,\n").as_bytes());
    let csv = env.ok(&[
        "footprint",
        "--from",
        &acts,
        "--factors",
        &factors,
        "--by",
        "organisation,category",
        "--format",
        "csv",
    ]);
    assert_eq!(
        csv,
        "organisation,category,tco2e\nRTG,medical-equipment,0.01125\n"
    );
    assert_eq!(env.activity_rows(), 0);
}

/// Each bad input gets a message naming the file, row, column and the fix, and stores nothing.
#[test]
fn bad_activity_files_are_refused_with_the_row_and_the_fix() {
    let env = Env::with_factors();
    let good = "RTG,,2023-04-01,2023-04-30,natural-gas,10,kWh,\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("unit.csv", format!("{HEADER}{good}RTG,,2023-04-01,2023-04-30,natural-gas,10,furlongs,\n").into_bytes(), "unit.csv: row 3, column `unit`: unknown unit `furlongs`"),
        ("activity.csv", format!("{HEADER}RTG,,2023-04-01,2023-04-30,unobtainium,10,kg,\n").into_bytes(), "activity.csv: row 2, column `activity`: unknown activity `unobtainium`"),
        ("number.csv", format!("{HEADER}RTG,,2023-04-01,2023-04-30,natural-gas,lots,kWh,\n").into_bytes(), "number.csv: row 2, column `quantity`: `lots` is not a number"),
        ("negative.csv", format!("{HEADER}RTG,,2023-04-01,2023-04-30,natural-gas,-5,kWh,\n").into_bytes(), "negative.csv: row 2, column `quantity`: negative quantity -5: a correction must say so"),
        ("backwards.csv", format!("{HEADER}RTG,,2023-04-30,2023-04-01,natural-gas,5,kWh,\n").into_bytes(), "backwards.csv: row 2, column `period_end`: the period ends (2023-04-01) before it starts (2023-04-30)"),
        ("dimension.csv", format!("{HEADER}RTG,,2023-04-01,2023-04-30,natural-gas,5,km,\n").into_bytes(), "no factor per km (distance)"),
        ("duplicate.csv", b"organisation,site,period_start,period_end,activity,quantity,unit,unit\n".to_vec(), "the column `unit` appears twice in the header"),
        ("missing.csv", b"organisation,site,period_start,activity,quantity,unit\nRTG,,2023-04-01,natural-gas,5,kWh\n".to_vec(), "the header is missing `period_end`"),
        ("encoding.csv", [HEADER.as_bytes(), b"RTG,Caf\xe9,2023-04-01,2023-04-30,natural-gas,5,kWh,\n"].concat(), "is not UTF-8 text (row 2): save it as \"CSV UTF-8\""),
        ("empty.csv", Vec::new(), "empty.csv: the file is empty"),
        ("org.csv", format!("{HEADER},,2023-04-01,2023-04-30,natural-gas,5,kWh,\n").into_bytes(), "column `organisation`: is empty"),
        // Saved by Excel on Windows: every line ends \r\n; the bad row is the file's third line.
        ("windows.csv", format!("{HEADER}{good}RTG,,2023-04-01,2023-04-30,natural-gas,10,furlongs,\n").replace('\n', "\r\n").into_bytes(), "windows.csv: row 3, column `unit`: unknown unit `furlongs`"),
        // Empty lines count: the bad row is on line 5, as an editor shows it.
        ("gaps.csv", format!("{HEADER}{good}\n\nRTG,,2023-04-01,2023-04-30,natural-gas,ten,kWh,\n").into_bytes(), "gaps.csv: row 5, column `quantity`"),
        ("gaps-windows.csv", format!("{HEADER}{good}\n\nRTG,,2023-04-01,2023-04-30,natural-gas,ten,kWh,\n").replace('\n', "\r\n").into_bytes(), "gaps-windows.csv: row 5, column `quantity`"),
        ("quoted-windows.csv", format!("{HEADER}RTG,\"Royal\nDerby\",2023-04-01,2023-04-30,natural-gas,10,kWh,\nRTG,,2023-04-01,2023-04-30,natural-gas,ten,kWh,\n").replace('\n', "\r\n").into_bytes(), "quoted-windows.csv: row 4, column `quantity`"),
    ];
    for (name, contents, expected) in cases {
        let path = env.file(name, &contents);
        let err = env.fails(&["activity", "import", &path]);
        assert!(
            err.contains(expected),
            "{name}: expected `{expected}` in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    // A correction is allowed when marked.
    let ok = env.file(
        "correction.csv",
        format!(
            "{HEADER}RTG,,2023-04-01,2023-04-30,natural-gas,-5,kWh,Correction: meter re-read\n"
        )
        .as_bytes(),
    );
    env.ok(&["activity", "import", &ok]);
    assert_eq!(env.activity_rows(), 1);
}

#[test]
fn every_bad_row_is_listed_and_nothing_is_stored() {
    let env = Env::with_factors();
    let file = env.file(
        "many.csv",
        format!(
            "{HEADER}RTG,,2023-04-01,2023-04-30,natural-gas,10,kWh,\n\
             RTG,,2023-04-01,2023-04-30,natural-gas,ten,kWh,\n\
             RTG,,2023-04-01,2023-04-30,natural-gas,10,kWh,\n\
             RTG,,2023-04-01,2024-04-30,natural-gas,10,kWh,\n"
        )
        .as_bytes(),
    );
    let err = env.fails(&["activity", "import", &file]);
    assert!(
        err.contains("2 rows could not be used, so nothing was stored"),
        "{err}"
    );
    assert!(err.contains("row 3, column `quantity`"), "{err}");
    assert!(err.contains("row 5, column `period_end`: the period 2023-04-01 to 2024-04-30 crosses the end of a financial year"), "{err}");
    assert_eq!(env.activity_rows(), 0);
}

fn big_file(path: &Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(HEADER.as_bytes()).unwrap();
    for i in 0..rows {
        writeln!(
            f,
            "RTG,Site {},2023-{:02}-01,2023-{:02}-28,natural-gas,{}.5,kWh,",
            i % 7,
            4 + i % 9,
            4 + i % 9,
            i % 1000
        )
        .unwrap();
    }
}

/// Killing the process part-way through an import leaves the database as it was.
#[test]
fn killed_imports_leave_the_database_unchanged() {
    let env = Env::with_factors();
    let path = env.dir.path().join("big.csv");
    big_file(&path, 150_000);
    for delay_ms in [150, 400, 900] {
        let mut child = Command::new(BIN)
            .args(["activity", "import", path.to_str().unwrap()])
            .env("GREENPLAN_DB", &env.db.url)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // SIGKILL: no chance to clean up.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.success() {
            // The import finished before the kill: then all of it must be there.
            assert_eq!(env.activity_rows(), 1);
            return;
        }
        let csv = env.ok(&["footprint", "--by", "organisation", "--format", "csv"]);
        assert_eq!(csv, "organisation,tco2e\n", "after a kill at {delay_ms} ms");
    }
    env.ok(&["activity", "import", path.to_str().unwrap()]);
    let csv = env.ok(&["footprint", "--by", "period", "--format", "csv"]);
    assert!(csv.starts_with("period,tco2e\n2023/24,"), "{csv}");
}

/// The same return as a workbook, as trusts keep it: real dates and numbers in cells.
#[test]
fn an_xlsx_return_imports_like_its_csv() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let env = Env::with_factors();
    let path = env.dir.path().join("return.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, h) in [
        "organisation",
        "site",
        "period_start",
        "period_end",
        "activity",
        "quantity",
        "unit",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        (
            "RTG",
            "2023-04-01",
            "2023-04-30",
            "natural-gas",
            1000.0,
            "kWh",
        ),
        (
            "RFS",
            "2023-05-01",
            "2023-05-31",
            "grid-electricity",
            2.5,
            "MWh",
        ),
    ];
    for (r, (org, start, end, activity, qty, unit)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *org).unwrap();
        sheet.write_string(r, 1, "Main site").unwrap();
        sheet
            .write_datetime_with_format(r, 2, ExcelDateTime::parse_from_str(start).unwrap(), &date)
            .unwrap();
        sheet
            .write_datetime_with_format(r, 3, ExcelDateTime::parse_from_str(end).unwrap(), &date)
            .unwrap();
        sheet.write_string(r, 4, *activity).unwrap();
        sheet.write_number(r, 5, *qty).unwrap();
        sheet.write_string(r, 6, *unit).unwrap();
    }
    book.save(&path).unwrap();
    env.ok(&["activity", "import", path.to_str().unwrap()]);
    let csv = env.ok(&[
        "footprint",
        "--by",
        "organisation,period",
        "--format",
        "csv",
    ]);
    // 2500 × 0.20707428859060403 = 517.685721 kg; 1000 × 0.18292892617449666 = 182.928926 kg.
    assert_eq!(
        csv,
        "organisation,period,tco2e\nRFS,2023/24,0.517686\nRTG,2023/24,0.182929\n"
    );
    let explain = env.ok(&[
        "footprint",
        "--by",
        "organisation",
        "--explain",
        "--format",
        "csv",
    ]);
    assert!(
        explain.contains("return.xlsx,3,2500,kWh"),
        "row numbers as Excel shows them: {explain}"
    );
}

#[test]
fn footprint_against_the_national_trajectories() {
    let env = Env::new();
    env.ok(&["init", "--empty"]);
    let factors = env.file(
        "f.csv",
        b"edition,activity,unit,scope,category,kgco2e\nt-2019,boiler-gas,kWh,1,building-energy,1\nt-2019,supplies,GBP,3,non-medical-equipment,0.5\n",
    );
    let acts = env.file(
        "a.csv",
        format!(
            "{HEADER}RTG,,2019-04-01,2019-04-30,boiler-gas,1000000,kWh,\n\
             RTG,,2019-04-01,2019-04-30,supplies,2000000,GBP,\n\
             RTG,,2025-04-01,2025-04-30,boiler-gas,700000,kWh,\n\
             RTG,,2025-04-01,2025-04-30,supplies,1000000,GBP,\n"
        )
        .as_bytes(),
    );
    let csv = env.ok(&[
        "footprint",
        "--from",
        &acts,
        "--factors",
        &factors,
        "--against-targets",
        "--format",
        "csv",
    ]);
    // Carbon Footprint: 1,000 t in 2019/20 → 200 t by 2031/32: 600 t expected in 2025/26;
    // 700 t is 100 t over, beyond the 5% band: off track. Plus: 2,000 t → 400 t by 2038/39:
    // 2000 - 1600 × 6/19 = 1494.736842 t expected; 1,200 t is on track.
    assert_eq!(
        csv,
        "footprint,year,tco2e,trajectory_tco2e,rating\n\
         NHS Carbon Footprint,2019/20,\"1,000.0\",\"1,000.0\",On track\n\
         NHS Carbon Footprint,2025/26,700.0,600.0,Off track\n\
         NHS Carbon Footprint Plus,2019/20,\"2,000.0\",\"2,000.0\",On track\n\
         NHS Carbon Footprint Plus,2025/26,\"1,200.0\",\"1,494.7\",On track\n"
    );
    let err = env.fails(&[
        "footprint",
        "--from",
        &acts,
        "--factors",
        &factors,
        "--against-targets",
        "--baseline",
        "2018/19",
    ]);
    assert!(
        err.contains("no NHS Carbon Footprint data for the baseline year 2018/19"),
        "{err}"
    );
}

/// An operator opens a quarter, imports a trust's file as its return, and sees where every
/// organisation stands; a closed quarter or a bad date is refused with the fix.
#[test]
fn quarterly_returns_from_the_command_line() {
    let env = Env::with_factors();
    let err = env.fails(&["returns", "status", "Q3 2025/26"]);
    assert!(err.contains("has not been opened"), "{err}");
    let err = env.fails(&["returns", "open", "Q3 2025/26", "--due", "2025-11-30"]);
    assert!(
        err.contains("cannot be due before Q3 2025/26 ends"),
        "{err}"
    );
    let out = env.ok(&["returns", "open", "Q3 2025/26"]);
    assert!(out.contains("due by 2026-01-31"), "{out}");
    let err = env.fails(&["returns", "open", "Q3 2025/26"]);
    assert!(err.contains("already open"), "{err}");

    let file = env.file(
        "rtg-q3.csv",
        format!("{HEADER}RTG,,2025-10-01,2025-12-31,natural-gas,100000,kWh,\n").as_bytes(),
    );
    let err = env.fails(&["activity", "import", &file, "--period", "Q4 2025/26"]);
    assert!(err.contains("Q4 2025/26 is not open for returns"), "{err}");
    assert_eq!(env.activity_rows(), 0, "a refused return stores nothing");
    env.ok(&["activity", "import", &file, "--period", "Q3 2025/26"]);

    let csv = env.ok(&["returns", "status", "Q3 2025/26", "--format", "csv"]);
    let rtg = csv.lines().find(|l| l.starts_with("RTG,")).unwrap();
    // The due date (31 January 2026) has passed by the time these tests run: the return
    // came in late, and the rest are late.
    assert!(rtg.contains(",Submitted late,rtg-q3.csv"), "{csv}");
    let rfs = csv.lines().find(|l| l.starts_with("RFS,")).unwrap();
    assert!(rfs.contains(",Late,"), "{csv}");
    assert!(!csv.contains("DERBY-CC"), "partners make no returns: {csv}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["returns", "status", "Q3 2025/26", "--format", "json"]))
            .unwrap();
    assert_eq!(json["due_on"], "2026-01-31");
}

/// The care pathway calculator on the plan's Team Up case: exact figures, the plan's own
/// arithmetic explained, a user's factor overriding the library, bad input named.
#[test]
fn the_pathway_calculator_reproduces_the_team_up_case() {
    let env = Env::new();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/pathways/team-up-falls.toml"
    );
    let csv = env.ok(&["pathway", example, "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "activity,fewer,unit,kgco2e_per_unit,kgco2e_saved,range_kgco2e,equivalents (GP home visits),published"
    );
    assert!(
        lines[1].starts_with("ambulance-conveyance,188,conveyance,56,10528,,1169.8,"),
        "{csv}"
    );
    assert!(
        lines[1].contains("it rounds 56 / 9 = 6.2222 to 6.2 before multiplying by 188"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("inpatient-bed-day-low,690,bed day,37.9,26151,,2905.7,"),
        "{csv}"
    );
    assert!(lines[3].starts_with("total,,,,36679,,4075.4"), "{csv}");
    let table = env.ok(&["pathway", example]);
    assert!(
        table.contains("10,528") && table.contains("1,169.8"),
        "{table}"
    );
    // A local factor with a range replaces the library's.
    let factors = env.file(
        "local.csv",
        b"id,name,unit,kgco2e,low,high,source\nambulance-conveyance,Ambulance conveyance,conveyance,60,50,70,EMAS 2025 fleet data\n",
    );
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "pathway",
        example,
        "--factors",
        &factors,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["lines"][0]["kgco2e_saved"], "11280");
    assert_eq!(
        json["lines"][0]["range"],
        serde_json::json!(["9400", "13160"])
    );
    let list = env.ok(&[
        "pathway",
        "--list-factors",
        "--factors",
        &factors,
        "--format",
        "csv",
    ]);
    assert!(
        list.contains("EMAS 2025 fleet data") && list.contains("gp-home-visit"),
        "{list}"
    );
    let bad = env.file(
        "bad.toml",
        b"name = \"x\"\n[[line]]\nactivity = \"helicopter-ride\"\navoided = 3\n",
    );
    let err = env.fails(&["pathway", &bad]);
    assert!(
        err.contains("no care-activity factor `helicopter-ride`"),
        "{err}"
    );
}

/// `greenplan backup` and `restore`: a new database gets everything back; the file is never
/// left half-written; a database holding data is not overwritten.
#[test]
fn backup_and_restore_from_the_command_line() {
    let env = Env::with_factors();
    let file = env.file(
        "rtg.csv",
        format!("{HEADER}RTG,,2023-04-01,2023-04-30,natural-gas,1000,kWh,\n").as_bytes(),
    );
    env.ok(&["activity", "import", &file]);
    let backup = env.dir.path().join("greenplan.backup");
    let out = env.ok(&["backup", backup.to_str().unwrap()]);
    assert!(out.contains("Saved"), "{out}");
    let footprint = env.ok(&["footprint", "--by", "organisation", "--format", "csv"]);
    let audit = env.ok(&["audit", "--format", "csv"]);

    let other = Env::new();
    let out = other.ok(&["restore", backup.to_str().unwrap()]);
    assert!(out.contains("Restored"), "{out}");
    assert_eq!(
        other.ok(&["footprint", "--by", "organisation", "--format", "csv"]),
        footprint
    );
    assert_eq!(other.ok(&["audit", "--format", "csv"]), audit);
    let err = other.fails(&["restore", backup.to_str().unwrap()]);
    assert!(err.contains("already holds data"), "{err}");
}

#[test]
fn reports_are_written_published_shown_and_compared() {
    let env = Env::with_factors();
    let csv = env.file(
        "q3.csv",
        format!("{HEADER}RTG,,2025-10-01,2025-12-31,natural-gas,1000000,kWh,\n").as_bytes(),
    );
    env.ok(&["activity", "import", &csv]);
    let pdf = env.dir.path().join("board.pdf");
    env.ok(&[
        "report",
        "annual",
        "--year",
        "2025/26",
        "--out",
        pdf.to_str().unwrap(),
        "--publish",
    ]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let xlsx = env.dir.path().join("pack.xlsx");
    env.ok(&[
        "report",
        "quarterly",
        "--period",
        "Q3 2025/26",
        "--org",
        "RTG",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));

    let list = env.ok(&["report", "list", "--format", "csv"]);
    assert!(list.contains("Green Plan annual report 2025/26"), "{list}");
    let again = env.dir.path().join("again.html");
    env.ok(&["report", "show", "1", "--out", again.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&again).unwrap().contains("182.9"));

    let more = env.file(
        "more.csv",
        format!("{HEADER}RFS,,2025-10-01,2025-12-31,natural-gas,500000,kWh,\n").as_bytes(),
    );
    env.ok(&["activity", "import", &more]);
    let changes = env.ok(&["report", "changes", "1", "--format", "csv"]);
    assert!(changes.contains("CRHFT"), "{changes}");

    let err = env.fails(&["report", "annual", "--year", "2025/26", "--out", "x.docx"]);
    assert!(err.contains(".pdf, .html or .xlsx"), "{err}");
    let err = env.fails(&["report", "show", "9", "--out", "x.pdf"]);
    assert!(err.contains("no published report 9"), "{err}");
}

/// API tokens from the command line: made with a life in days (bounded), listed without their
/// secrets, revoked by id.
#[test]
fn tokens_are_made_with_an_expiry_listed_and_revoked() {
    let env = Env::new();
    env.ok(&["init"]);
    common::greenplan(
        &env.db.url,
        &[
            "user",
            "add",
            "pat@uhdb.nhs.uk",
            "--org",
            "RTG",
            "--role",
            "contributor",
            "--password-stdin",
        ],
        Some("a long test pass phrase"),
    );
    let token = env.ok(&[
        "token",
        "create",
        "pat@uhdb.nhs.uk",
        "--label",
        "energy upload",
        "--expires-in-days",
        "30",
    ]);
    assert!(token.trim().starts_with("gp_"), "{token}");
    let err = env.fails(&[
        "token",
        "create",
        "pat@uhdb.nhs.uk",
        "--expires-in-days",
        "0",
    ]);
    assert!(err.contains("365"), "{err}");
    let list = env.ok(&["token", "list", "--format", "csv"]);
    assert!(
        list.contains("energy upload") && list.contains("live"),
        "{list}"
    );
    assert!(!list.contains(token.trim()), "the secret is never listed");
    let id = list
        .lines()
        .find(|l| l.contains("energy upload"))
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    env.ok(&["token", "revoke", &id]);
    let list = env.ok(&[
        "token",
        "list",
        "--email",
        "pat@uhdb.nhs.uk",
        "--format",
        "csv",
    ]);
    assert!(list.contains("revoked"), "{list}");
    let err = env.fails(&["token", "revoke", "999999"]);
    assert!(err.contains("no API token 999999"), "{err}");
}
