//! Issue 21, classes 0, 2 and 11, through the real binary: importers refuse what is not a
//! regular file of a sensible size (devices, links to them, FIFOs, folders) at once, with a
//! message naming the file; a quantity too large is a row error and a non-zero exit, never a
//! panic; stored rows that cannot be read back or summed never stop the commands that read.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common;
use common::Env;

/// Every importer, with the file it is given.
fn importers(file: &str) -> Vec<Vec<String>> {
    [
        vec!["init", "--plan", file],
        vec!["factors", "import", file],
        vec!["activity", "import", file],
        vec!["activity", "import", "--dry-run", file],
        vec!["registers", "import", "waste-streams", file],
        vec!["prescribing", "import", file],
        vec!["anaesthetic-gases", "import", file],
        vec!["pathway", file],
        vec!["restore", file],
        vec!["footprint", "--from", file],
    ]
    .into_iter()
    // The register importer refuses a name without .csv or .xlsx before opening anything.
    .filter(|a| a[0] != "registers" || file.ends_with(".csv") || file.ends_with(".xlsx"))
    .map(|a| a.into_iter().map(str::to_string).collect())
    .collect()
}

fn assert_refused(env: &Env, file: &str, what: &str) {
    for args in importers(file) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            err.contains(file) && err.contains(what) && err.contains("not a regular file"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn devices_links_to_them_and_fifos_are_refused_at_once() {
    let env = Env::new();
    env.ok(&["init"]);
    assert_refused(&env, "/dev/zero", "character device");
    for (name, target) in [
        ("plan.toml", "/dev/zero"),
        ("factors.xlsx", "/dev/urandom"),
        ("returns.csv", "/dev/zero"),
        ("returns.xlsx", "/dev/urandom"),
    ] {
        let link = env.path(name);
        std::os::unix::fs::symlink(target, &link).unwrap();
        assert_refused(&env, &link, &format!("it leads to {target}"));
    }
    let fifo = env.path("dropped.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    assert_refused(&env, &fifo, "named pipe");
    assert_refused(&env, &env.dir.path().display().to_string(), "a folder");
}

#[test]
fn a_file_larger_than_its_kind_is_refused_naming_the_bound() {
    let env = Env::new();
    let plan = env.path("huge.toml");
    let f = std::fs::File::create(&plan).unwrap();
    f.set_len(17 * 1024 * 1024).unwrap(); // sparse: no disk used
    let err = env.fails(&["init", "--plan", &plan]);
    assert!(
        err.contains("huge.toml") && err.contains("16 MB") && err.contains("a plan file"),
        "{err}"
    );
}

const HEADER: &str = "organisation,site,period_start,period_end,activity,quantity,unit\n";
const FACTOR: &str =
    "edition,activity,unit,scope,category,kgco2e\ntest-2025,boiler-gas,kWh,1,building-energy,0.2\n";

#[test]
fn the_largest_decimal_is_a_row_error_in_kwh_and_mwh_never_a_panic() {
    let env = Env::new();
    env.ok(&["init"]);
    let factors = env.file("factors.csv", FACTOR.as_bytes());
    env.ok(&["factors", "import", &factors]);
    for unit in ["kWh", "MWh"] {
        let file = env.file(
            &format!("{unit}.csv"),
            format!(
                "{HEADER}RTG,,2025-04-01,2025-04-30,boiler-gas,79228162514264337593543950335,{unit}\n"
            )
            .as_bytes(),
        );
        for args in [
            vec!["activity", "import", file.as_str()],
            vec!["footprint", "--from", file.as_str()],
        ] {
            let out = env.run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}");
            assert!(
                err.contains("row 2")
                    && err.contains("79228162514264337593543950335")
                    && err.contains("1,000,000,000,000 kWh"),
                "{args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
    let fine = env.file(
        "fine.csv",
        format!("{HEADER}RTG,,2025-04-01,2025-04-30,boiler-gas,1000,MWh\n").as_bytes(),
    );
    env.ok(&["activity", "import", &fine]);
}

fn raw(env: &Env, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = greenplan_store::Store::connect(&env.db.url).await.unwrap();
        store.execute_raw_for_tests(sql).await.unwrap();
        store.close().await;
    });
}

#[test]
fn unreadable_and_unsummable_stored_rows_never_stop_the_commands() {
    let env = Env::new();
    env.ok(&["init"]);
    let factors = env.file("factors.csv", FACTOR.as_bytes());
    env.ok(&["factors", "import", &factors]);
    let file = env.file(
        "returns.csv",
        format!(
            "{HEADER}RTG,,2025-04-01,2025-04-30,boiler-gas,1000,kWh\nRFS,,2025-04-01,2025-04-30,boiler-gas,500,kWh\n"
        )
        .as_bytes(),
    );
    env.ok(&["activity", "import", &file]);
    raw(
        &env,
        "INSERT INTO metric_values (metric, organisation, period, period_end, value, origin, recorded_at) \
         VALUES ('inhaler-carbon', 'RTG', '2262-01', '2262-01-31', '5', 'test', 0)",
    );
    let list = env.ok(&["metrics", "list", "--format", "csv"]);
    assert!(list.contains("inhaler-carbon"), "{list}");
    env.ok(&["actions", "list"]);
    raw(
        &env,
        "UPDATE activities SET quantity = '79228162514264337593543950335' WHERE organisation = 'RTG'",
    );
    // As the sums made from such rows when `activity_sums` was created (migration 20) hold
    // them: the footprint, which reads sums, must still find and name the row.
    raw(
        &env,
        "UPDATE activity_sums SET quantity = '79228162514264337593543950335', largest = '79228162514264337593543950335' WHERE organisation = 'RTG'",
    );
    let out = env.run(&["footprint"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("RTG's row cannot be summed") && err.contains("79228162514264337593543950335"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    env.ok(&["metrics", "list"]);
}
