//! Crash safety: the real binary is killed (SIGKILL, no chance to clean up) at random points
//! while it imports activity files or register files, or serves a stream of action updates
//! and metric values,
//! many times over, and after each kill the database must be consistent and hold exactly
//! the committed writes:
//!
//! - SQLite passes `PRAGMA integrity_check` and `foreign_key_check`;
//! - every import is wholly present (its rows all there, its row count and audit entry
//!   agreeing) or wholly absent; every import the command reported done is present;
//! - every register import is wholly present (each record with its audit entry) or absent;
//! - every update and value the server acknowledged is stored, once, with its audit entry;
//!   nothing is stored that was not sent, and no audit entry lacks its change or the reverse.
//!
//! Runs `GREENPLAN_CRASH_RUNS` kills (default 20) on the test database (PostgreSQL when
//! `GREENPLAN_TEST_POSTGRES` is set). `GREENPLAN_CRASH_SEED` repeats a run's random delays.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use common::*;
use greenplan_store::testing::TestDatabase;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small random number generator (xorshift64*): the test needs repeatable delays, not
/// cryptography, and no extra dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

const HEADER: &str = "organisation,site,period_start,period_end,activity,quantity,unit\n";
const IMPORT_ROWS: u64 = 20_000;

/// An activity file of `IMPORT_ROWS` widget rows; `run` makes each file's content distinct
/// (an identical file would be recognised as already imported).
fn activity_file(dir: &std::path::Path, run: usize) -> String {
    let path = dir.join(format!("activity-{run}.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(HEADER.as_bytes()).unwrap();
    for i in 0..IMPORT_ROWS {
        writeln!(
            f,
            "RTG,Site {run},2025-{:02}-01,2025-{:02}-28,widget,{}.{run},count",
            4 + i % 9,
            4 + i % 9,
            i % 1000
        )
        .unwrap();
    }
    path.display().to_string()
}

/// Waste register records in one file, each naming the run in its site, so a kill can be
/// checked as all or nothing.
const REGISTER_ROWS: usize = 10_000;

fn register_file(dir: &std::path::Path, run: usize) -> String {
    let path = dir.join(format!("waste-{run}.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(
        f,
        "organisation,site,period_start,period_end,stream,route,tonnes"
    )
    .unwrap();
    for i in 0..REGISTER_ROWS {
        writeln!(
            f,
            "RTG,crash-register-{run},2025-04-01,2025-06-30,domestic,energy-from-waste,{i}.5"
        )
        .unwrap();
    }
    path.display().to_string()
}

/// What the clients saw acknowledged.
#[derive(Default, Clone)]
struct Acknowledged {
    imports: usize,
    /// Runs whose register import the command reported done.
    register_imports: BTreeSet<usize>,
    /// Runs that started a register import.
    register_runs: BTreeSet<usize>,
    /// Notes of acknowledged action updates, and of all that were sent.
    updates: BTreeSet<String>,
    updates_sent: BTreeSet<String>,
    /// Notes of acknowledged metric values, and of all that were sent.
    values: BTreeSet<String>,
    values_sent: BTreeSet<String>,
}

struct Database {
    url: String,
    pool: sqlx::AnyPool,
}

impl Database {
    async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pool)
            .await
            .unwrap();
        n
    }

    async fn texts(&self, sql: &str) -> Vec<String> {
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&self.pool)
            .await
            .unwrap();
        rows.into_iter().map(|(t,)| t).collect()
    }

    /// Every check of the module doc, after a kill.
    async fn check(&self, acked: &Acknowledged, when: &str) {
        if self.url.starts_with("sqlite") {
            let ok = self.texts("PRAGMA integrity_check").await;
            assert_eq!(ok, ["ok"], "{when}: integrity check");
            let broken: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                    .fetch_all(&self.pool)
                    .await
                    .unwrap();
            assert!(
                broken.is_empty(),
                "{when}: foreign keys broken in {broken:?}"
            );
        }
        // Imports: whole or absent, each with its audit entry, the acknowledged all there.
        let imports: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT i.id, i.row_count, (SELECT COUNT(*) FROM activities a WHERE a.import_id = i.id) \
             FROM activity_imports i ORDER BY i.id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        for (id, declared, stored) in &imports {
            assert_eq!(
                (*declared, *stored),
                (IMPORT_ROWS as i64, IMPORT_ROWS as i64),
                "{when}: import {id} is not whole"
            );
            let audited = self
                .count(&format!(
                    "SELECT COUNT(*) FROM audit_log WHERE entity_kind = 'activity-import' AND entity_id = '{id}'"
                ))
                .await;
            assert_eq!(
                audited, 1,
                "{when}: import {id} has {audited} audit entries"
            );
        }
        let audited_imports = self
            .count("SELECT COUNT(*) FROM audit_log WHERE entity_kind = 'activity-import'")
            .await;
        assert_eq!(
            audited_imports,
            imports.len() as i64,
            "{when}: audit entries for imports that are not stored"
        );
        assert!(
            imports.len() >= acked.imports,
            "{when}: {} imports reported done, {} stored",
            acked.imports,
            imports.len()
        );
        // Register imports: each run's records all there (each audited) or none.
        for run in &acked.register_runs {
            let records = self
                .count(&format!(
                    "SELECT COUNT(*) FROM register_records WHERE body LIKE '%\"crash-register-{run}\"%'"
                ))
                .await;
            let audited = self
                .count(&format!(
                    "SELECT COUNT(*) FROM audit_log WHERE entity_kind = 'register-record' AND after_json LIKE '%\"crash-register-{run}\"%'"
                ))
                .await;
            assert!(
                records == 0 || records == REGISTER_ROWS as i64,
                "{when}: register import {run} is not whole ({records} records)"
            );
            assert_eq!(
                audited, records,
                "{when}: register import {run} audit entries"
            );
            if acked.register_imports.contains(run) {
                assert_eq!(
                    records, REGISTER_ROWS as i64,
                    "{when}: register import {run} reported done but not stored"
                );
            }
        }
        // Updates and values: acknowledged ⊆ stored ⊆ sent, each stored once, audited once.
        let updates = self
            .texts("SELECT note FROM action_updates WHERE note LIKE 'crash-%'")
            .await;
        let audited_updates = self
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'post-update' AND after_json LIKE '%crash-%'")
            .await;
        same_writes(
            "update",
            when,
            &updates,
            audited_updates,
            &acked.updates,
            &acked.updates_sent,
        );
        let values = self
            .texts("SELECT note FROM metric_values WHERE note LIKE 'crash-%'")
            .await;
        let audited_values = self
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'record-value' AND after_json LIKE '%crash-%'")
            .await;
        same_writes(
            "value",
            when,
            &values,
            audited_values,
            &acked.values,
            &acked.values_sent,
        );
    }
}

fn same_writes(
    what: &str,
    when: &str,
    stored: &[String],
    audited: i64,
    acked: &BTreeSet<String>,
    sent: &BTreeSet<String>,
) {
    let unique: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "{when}: a {what} stored twice");
    assert_eq!(
        audited,
        stored.len() as i64,
        "{when}: {audited} audit entries for {} stored {what}s",
        stored.len()
    );
    let lost: Vec<&String> = acked.difference(&unique).collect();
    assert!(
        lost.is_empty(),
        "{when}: acknowledged {what}s lost: {lost:?}"
    );
    let invented: Vec<&String> = unique.difference(sent).collect();
    assert!(
        invented.is_empty(),
        "{when}: {what}s never sent: {invented:?}"
    );
}

/// Kills `child` (SIGKILL) after `delay`; returns whether it had already finished, and how.
fn kill_after(child: &mut std::process::Child, delay: Duration) -> Option<bool> {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.success());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

/// Runs a command and kills it part-way; true if it finished, successfully, first.
fn finished_before_the_kill(db: &str, args: &[&str], delay: Duration) -> bool {
    let mut child = std::process::Command::new(BIN)
        .args(args)
        .env("GREENPLAN_DB", db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    kill_after(&mut child, delay) == Some(true)
}

/// Starts an import and kills it part-way (or lets it finish, if it is quicker).
fn killed_import(db: &str, file: &str, delay: Duration, acked: &Mutex<Acknowledged>) {
    if finished_before_the_kill(db, &["activity", "import", file], delay) {
        acked.lock().unwrap().imports += 1;
    }
}

/// Starts a register import and kills it part-way (or lets it finish).
fn killed_register_import(
    db: &str,
    file: &str,
    run: usize,
    delay: Duration,
    acked: &Mutex<Acknowledged>,
) {
    acked.lock().unwrap().register_runs.insert(run);
    let args = ["registers", "import", "waste-streams", file];
    if finished_before_the_kill(db, &args, delay) {
        acked.lock().unwrap().register_imports.insert(run);
    }
}

/// Serves, with two clients posting updates and values as fast as they are answered, and
/// kills the server part-way.
fn killed_server(
    db: &str,
    cookie: &str,
    run: usize,
    delay: Duration,
    acked: &Arc<Mutex<Acknowledged>>,
) {
    let mut server = serve(db);
    let port = server.port;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|client| {
            let (cookie, acked, stop) = (cookie.to_string(), Arc::clone(acked), Arc::clone(&stop));
            std::thread::spawn(move || {
                post_until_stopped(port, &cookie, run, client, &acked, &stop)
            })
        })
        .collect();
    std::thread::sleep(delay);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
}

fn post_until_stopped(
    port: u16,
    cookie: &str,
    run: usize,
    client: usize,
    acked: &Mutex<Acknowledged>,
    stop: &std::sync::atomic::AtomicBool,
) {
    let page = match http(port, "GET", "/account", Some(cookie), None, "") {
        Ok(p) if p.status == 200 => p,
        _ => return,
    };
    let csrf = page.csrf();
    for i in 0.. {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let note = format!("crash-{run}-{client}-{i}");
        let value = i % 2 == 1;
        let (path, form) = if value {
            (
                "/metrics/inhaler-carbon/values".to_string(),
                format!(
                    "csrf_token={csrf}&organisation=system&period=2025-{:02}&value={i}&note={note}",
                    4 + i % 9
                ),
            )
        } else {
            (
                "/actions/WL1/updates".to_string(),
                format!("csrf_token={csrf}&status=on-track&note={note}"),
            )
        };
        {
            let mut a = acked.lock().unwrap();
            if value {
                &mut a.values_sent
            } else {
                &mut a.updates_sent
            }
            .insert(note.clone());
        }
        match http(
            port,
            "POST",
            &path,
            Some(cookie),
            Some("application/x-www-form-urlencoded"),
            &form,
        ) {
            Ok(reply) if reply.status == 303 => {
                let mut a = acked.lock().unwrap();
                if value { &mut a.values } else { &mut a.updates }.insert(note);
            }
            Ok(reply) if reply.status == 0 => return, // cut off mid-answer: not acknowledged
            Ok(reply) => panic!("{path}: {} {}", reply.status, reply.body),
            Err(_) => return, // the server is gone
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_the_database_holds_exactly_the_committed_writes() {
    let runs: usize = std::env::var("GREENPLAN_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("GREENPLAN_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash safety: {runs} kills, GREENPLAN_CRASH_SEED={seed}");
    let mut random = Random(seed);
    let test_db = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let url = test_db.url.clone();
    let factors = dir.path().join("widget.csv");
    std::fs::write(
        &factors,
        "edition,activity,unit,scope,category,kgco2e\ntest-2025,widget,count,3,medical-equipment,2.5\n",
    )
    .unwrap();
    greenplan(&url, &["init"], None);
    greenplan(
        &url,
        &["factors", "import", factors.to_str().unwrap()],
        None,
    );
    greenplan(
        &url,
        &[
            "user",
            "add",
            "lead@derbyshire.nhs.uk",
            "--org",
            "QJ2",
            "--role",
            "system-admin",
            "--name",
            "Lead",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let cookie = {
        let server = serve(&url);
        let login = server.post(
            "/login",
            None,
            &format!(
                "email=lead%40derbyshire.nhs.uk&password={}",
                PASSWORD.replace(' ', "+")
            ),
        );
        assert_eq!(login.status, 303, "{}", login.body);
        login
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    sqlx::any::install_default_drivers();
    // On SQLite the test database is a file path; sqlx wants a URL.
    let sqlx_url = if url.contains("://") {
        url.clone()
    } else {
        format!("sqlite://{url}")
    };
    let db = Database {
        pool: sqlx::AnyPool::connect(&sqlx_url).await.unwrap(),
        url: sqlx_url,
    };
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    for run in 0..runs {
        let delay = Duration::from_millis(50 + random.below(1500));
        if run % 4 == 0 {
            let file = activity_file(dir.path(), run);
            killed_import(&url, &file, delay, &acked);
        } else if run % 4 == 2 {
            let file = register_file(dir.path(), run);
            killed_register_import(&url, &file, run, delay, &acked);
        } else {
            killed_server(&url, &cookie, run, delay, &acked);
        }
        let when = format!("after kill {run} at {} ms (seed {seed})", delay.as_millis());
        let seen = acked.lock().unwrap().clone(); // not held while the check awaits
        db.check(&seen, &when).await;
    }
    let a = acked.lock().unwrap();
    eprintln!(
        "crash safety: {} imports, {} of {} register imports, {} updates and {} values acknowledged before kills",
        a.imports,
        a.register_imports.len(),
        a.register_runs.len(),
        a.updates.len(),
        a.values.len()
    );
    assert!(
        !a.updates.is_empty() && !a.values.is_empty(),
        "the clients had time to write something"
    );
}
