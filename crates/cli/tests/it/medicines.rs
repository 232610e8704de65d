//! `greenplan prescribing …` and `greenplan anaesthetic-gases …` driven as a user drives them:
//! real binary, real files, a fresh database per test (SQLite, or PostgreSQL when
//! GREENPLAN_TEST_POSTGRES is set).

#![allow(clippy::unwrap_used)]

use greenplan_store::testing::TestDatabase;
use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_greenplan");

const HEADER: &str = "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,STP_NAME,STP_CODE,PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,ADDRESS_1,POSTCODE,BNF_CODE,BNF_DESCRIPTION,QUANTITY,ITEMS,TOTAL_QUANTITY,SNOMED_CODE";

fn row(month: &str, practice: &str, code: &str, descr: &str, q: u32, items: u32) -> String {
    format!(
        "{month},MIDLANDS,Y60,NHS DERBY AND DERBYSHIRE ICB,QJ2,DERBY 15M,15M,SURGERY {practice},{practice},HIGH STREET,DE1 1AA,{code},{descr},{q},{items},{},3295011000001106",
        q * items
    )
}

struct Env {
    db: TestDatabase,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            db: TestDatabase::new(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("GREENPLAN_DB", &self.db.url)
            .output()
            .expect("run greenplan")
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "greenplan {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let p: PathBuf = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p.display().to_string()
    }
}

/// A month of QJ2: C81001 `ventolin` Ventolin (28.26) and 4 items of 120 doses of Clenil 100 (200 a
/// pack: 2.4 inhalers of 18.34); C81002 6 Relvar (0.805).
fn april(env: &Env, ventolin: u32) -> String {
    let rows = [
        HEADER.to_string(),
        row(
            "202504",
            "C81001",
            "0301011R0BEAIAP",
            "Ventolin 100micrograms/dose Evohaler",
            1,
            ventolin,
        ),
        row(
            "202504",
            "C81001",
            "0302000C0BPABBF",
            "Clenil Modulite 100micrograms/dose inhaler",
            120,
            4,
        ),
        row(
            "202504",
            "C81002",
            "0302000V0BBABAB",
            "Relvar Ellipta 92micrograms/dose / 22micrograms/dose dry powder inhaler",
            1,
            6,
        ),
        row(
            "202504",
            "C81002",
            "0401010Z0AAAAAA",
            "Zopiclone 7.5mg tablets",
            28,
            3,
        ),
    ];
    env.file(&format!("epd-{ventolin}.csv"), &(rows.join("\n") + "\n"))
}

#[test]
fn measures_from_a_file_in_the_documented_columns() {
    let env = Env::new();
    let file = april(&env, 10);
    let (out, _) = env.ok(&[
        "prescribing",
        "measures",
        "--from-file",
        &file,
        "--level",
        "icb,practice",
        "--format",
        "csv",
    ]);
    // ICB: 10 + 4 + 6 = 20 items; inhalers 10 + 480/200 + 6 = 18.4;
    // kg 282.6 + 2.4 × 18.34 + 6 × 0.805 = 282.6 + 44.016 + 4.83 = 331.446.
    assert_eq!(
        out,
        "year_month,level,org_code,org_name,inhaler_items,mdi_items,dpi_items,smi_items,other_items,inhalers,tco2e,mdi_share_excl_salbutamol,salbutamol_inhalers,salbutamol_kgco2e_per_inhaler\n\
         202504,icb,QJ2,NHS DERBY AND DERBYSHIRE ICB,20,14,6,0,0,18.4,0.331446,0.4,10,28.26\n\
         202504,practice,C81001,SURGERY C81001,14,14,0,0,0,12.4,0.326616,1,10,28.26\n\
         202504,practice,C81002,SURGERY C81002,6,0,6,0,0,6,0.00483,0,0,\n"
    );
}

#[test]
fn a_reimported_month_is_replaced_and_feeds_nothing_until_the_year_is_complete() {
    let env = Env::new();
    env.ok(&["init"]);
    let (out, _) = env.ok(&["prescribing", "import", &april(&env, 10), "--icb", "QJ2"]);
    assert!(out.contains("for April 2025"), "{out}");
    env.ok(&["prescribing", "import", &april(&env, 20), "--icb", "QJ2"]);
    let (out, _) = env.ok(&["prescribing", "measures", "--format", "csv"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    // 20 Ventolin now, not 30.
    assert!(
        lines[1].starts_with("202504,icb,QJ2,NHS DERBY AND DERBYSHIRE ICB,30,24,6,0,0,28.4,"),
        "{out}"
    );
    let (out, _) = env.ok(&["prescribing", "league", "--format", "csv"]);
    assert!(out.starts_with("org_code,org_name,inhaler_items,tco2e,mdi_share_excl_salbutamol,percentile,saving_tco2e_a_year\nC81001,"), "{out}");
    // A part year is not recorded as the metric's value for the year.
    let (out, _) = env.ok(&["metrics", "show", "inhaler-carbon", "--format", "json"]);
    assert!(!out.contains("prescribing"), "{out}");
}

#[test]
fn malformed_rows_store_nothing() {
    let env = Env::new();
    let text = [
        HEADER.to_string(),
        row("202504", "C81001", "0301011R0BEAIAP", "Ventolin", 1, 2),
        row("202504", "C81001", "0301011R0BEAIAP", "Ventolin", 1, 2)
            .replace(",1,2,2,", ",1,lots,2,"),
    ]
    .join("\n");
    let file = env.file("bad.csv", &text);
    let out = env.run(&["prescribing", "import", &file]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv: row 3, column `ITEMS`"), "{err}");
    let out = env.run(&["prescribing", "measures"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no prescribing is stored"));
}

#[test]
fn anaesthetic_gases_by_hand() {
    let env = Env::new();
    let file = env.file(
        "gases.csv",
        "organisation,month,agent,quantity,unit,supply,basis\n\
         RTG,2025-04,desflurane,100,ml,,\n\
         RTG,2025-04,sevoflurane,2,bottles,,\n\
         RTG,2025-04,nitrous-oxide,1,cylinder-J,piped,purchased\n\
         RTG,2025-04,nitrous-oxide,10000,litres,piped,clinical-use\n",
    );
    let (out, _) = env.ok(&["anaesthetic-gases", "import", &file]);
    assert!(out.contains("4 lines for 1 trust-month"), "{out}");
    // AoA: desflurane 0.1465 kg × 2540 = 372.11; sevoflurane 0.76 kg × 130 = 98.8;
    // N2O 35.586 kg × 298 = 10,604.628; lost 35.586 − 19.77 = 15.816 kg.
    let (out, _) = env.ok(&["anaesthetic-gases", "report", "--format", "csv"]);
    assert_eq!(
        out,
        "organisation,month,desflurane_kgco2e,sevoflurane_kgco2e,isoflurane_kgco2e,nitrous-oxide_kgco2e,total_kgco2e,gwp_set,piped_n2o_loss_kg,piped_n2o_loss_share\n\
         RTG,2025-04,372.11,98.8,0,10604.628,11075.538,aoa,15.816,0.444444\n"
    );
    // The RCoA set: 0.1465 × 2720 + 0.76 × 205 + 35.586 × 265 = 398.48 + 155.8 + 9430.29.
    let (out, _) = env.ok(&[
        "anaesthetic-gases",
        "report",
        "--gwp",
        "rcoa",
        "--format",
        "csv",
    ]);
    assert!(
        out.contains("RTG,2025-04,398.48,155.8,0,9430.29,9984.57,rcoa,"),
        "{out}"
    );
    // Importing the month again replaces it.
    env.ok(&["anaesthetic-gases", "import", &file]);
    let (out, _) = env.ok(&["anaesthetic-gases", "report", "--format", "csv"]);
    assert!(out.contains("11075.538,aoa"), "{out}");
    let bad = env.file(
        "bad-gases.csv",
        "organisation,month,agent,quantity,unit\nRTG,2025-04,halothane,1,ml\n",
    );
    let out = env.run(&["anaesthetic-gases", "import", &bad]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad-gases.csv: row 2, column `agent`"));
}

#[test]
fn medicines_are_in_the_footprint_with_the_ics_s_own_inhaler_figures() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["prescribing", "import", &april(&env, 10), "--icb", "QJ2"]);
    let gases = env.file(
        "gases.csv",
        "organisation,month,agent,quantity,unit,supply,basis\n\
         RTG,2025-04,desflurane,100,ml,,\n\
         RTG,2025-04,nitrous-oxide,10000,litres,piped,clinical-use\n",
    );
    env.ok(&["anaesthetic-gases", "import", &gases]);
    let by = ["--by", "organisation,scope,category", "--format", "csv"];
    let (csv, _) = env.ok(&[&["footprint"][..], &by[..]].concat());
    // QJ2: 331.446 kg, the ICB measure of the same month (see the first test); RTG:
    // 0.1465 kg of desflurane × 2,540 = 372.11 kg; gas in clinical use is not a second emission.
    assert_eq!(
        csv,
        "organisation,scope,category,tco2e\n\
         QJ2,Scope 3,inhalers,0.331446\n\
         RTG,Scope 1,anaesthetic-gases,0.37211\n"
    );
    let (explain, _) = env.ok(&["footprint", "--explain", "--format", "csv"]);
    assert!(explain.contains("English Prescribing Dataset"), "{explain}");
    assert!(explain.contains("Ventolin"), "{explain}");
    assert!(
        explain.contains("Association of Anaesthetists"),
        "{explain}"
    );

    // The ICS's own figure for Ventolin Evohaler (10 kg) is stored and counts everywhere.
    let mine = env.file(
        "mine.csv",
        "bnf_code,description,device,kgco2e_per_inhaler,doses_per_inhaler,source\n\
         0301011R0BEAIAP,Ventolin 100micrograms/dose Evohaler,MDI,10,200,our own audit 2025\n",
    );
    let (out, _) = env.ok(&["prescribing", "import-products", &mine]);
    assert!(out.contains("Stored 1 inhaler product"), "{out}");
    let (listing, _) = env.ok(&["prescribing", "products", "--format", "csv"]);
    assert!(listing.contains("our own audit 2025"), "{listing}");
    // 10 × 10 + 44.016 + 4.83 = 148.846 kg.
    let (csv, _) = env.ok(&[&["footprint"][..], &by[..]].concat());
    assert!(csv.contains("QJ2,Scope 3,inhalers,0.148846\n"), "{csv}");
    let (out, _) = env.ok(&["prescribing", "measures", "--format", "csv"]);
    assert!(out.contains(",0.148846,"), "{out}");
}
