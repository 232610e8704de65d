//! A fresh database for each test: a SQLite file in a temporary folder, or — when
//! `GREENPLAN_TEST_POSTGRES` names a PostgreSQL server (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) — a new database created on it and dropped
//! afterwards. CI runs the whole test suite once each way.
//!
//! Every test database is a copy of a template made once per test process: migrated (for
//! [`TestDatabase::new`]) or migrated and filled by the caller (for
//! [`TestDatabase::from_template`], e.g. the built-in plan and the test's people). Copying a
//! SQLite file, or `CREATE DATABASE … TEMPLATE` on PostgreSQL, costs a fraction of running the
//! migrations and loading the plan again for each of the suite's hundreds of tests.

use crate::Store;
use sqlx::any::install_default_drivers;
use sqlx::{Executor, Row};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A test database; dropped (PostgreSQL) or deleted (SQLite) when this goes out of scope.
pub struct TestDatabase {
    pub url: String,
    /// The template this database is a copy of.
    pub template: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// What fills a template: given the migrated template's store, loads what every test of a
/// kind starts from.
pub type Fill = Box<dyn FnOnce(Store) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The PostgreSQL server tests run against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("GREENPLAN_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A template made in this process: the SQLite file to copy, or the PostgreSQL database to
/// copy from.
enum Template {
    Sqlite {
        file: std::path::PathBuf,
        _dir: tempfile::TempDir,
    },
    Postgres {
        name: String,
    },
}

type Templates = Mutex<HashMap<String, Arc<OnceLock<Template>>>>;

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(Templates::default)
}

impl TestDatabase {
    /// Creates a fresh, migrated, empty database. Blocking: callable from sync and async tests
    /// alike.
    pub fn new() -> Self {
        Self::from_template("migrated", Box::new(|_| Box::pin(async {})))
    }

    /// Creates a fresh database as a copy of the template `key`, which is made (migrated, then
    /// `fill`ed) by the first test of this process that asks for it; later callers' `fill` is
    /// not run. One key must always be filled the same way.
    pub fn from_template(key: &str, fill: Fill) -> Self {
        let cell = {
            let mut all = templates().lock().unwrap_or_else(|e| e.into_inner());
            all.entry(key.to_string()).or_default().clone()
        };
        let template = cell.get_or_init(|| make_template(key, fill));
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        match template {
            Template::Postgres { name: from } => {
                let server = postgres_server().expect("a PostgreSQL template needs the server");
                let name = format!(
                    "gp_test_{}_{n}_{}",
                    std::process::id(),
                    chrono::Utc::now().timestamp_subsec_nanos()
                );
                copy_database(&server, from, &name);
                let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                Self {
                    url: format!("{base}/{name}"),
                    template: key.to_string(),
                    admin: Some((server.clone(), name)),
                    _dir: None,
                }
            }
            Template::Sqlite { file, .. } => {
                let dir = tempfile::tempdir().expect("a temporary folder for the test database");
                let path = dir.path().join("greenplan.db");
                std::fs::copy(file, &path).expect("a copy of the template database");
                Self {
                    url: path.display().to_string(),
                    template: key.to_string(),
                    admin: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.admin.is_some()
    }
}

/// Makes a template on its own thread and runtime (the caller may be inside a runtime).
fn make_template(key: &str, fill: Fill) -> Template {
    let key: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            match postgres_server() {
                Some(server) => {
                    let name = format!(
                        "gp_tpl_{}_{key}_{}",
                        std::process::id(),
                        chrono::Utc::now().timestamp_subsec_nanos()
                    );
                    drop_abandoned_templates(&server).await;
                    execute(&server, vec![format!("CREATE DATABASE {name}")]).await;
                    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                    let store = Store::connect(&format!("{base}/{name}"))
                        .await
                        .expect("the template database migrates");
                    fill(store.clone()).await;
                    // A template may have no other session while it is copied.
                    store.close().await;
                    Template::Postgres { name }
                }
                None => {
                    let dir = tempfile::tempdir().expect("a temporary folder for the template");
                    let file = dir.path().join(format!("template-{key}.db"));
                    let store = Store::connect(&file.display().to_string())
                        .await
                        .expect("the template database migrates");
                    fill(store.clone()).await;
                    // Closing the last connection checkpoints the write-ahead log into the
                    // file, so the file alone is the whole database.
                    store.close().await;
                    Template::Sqlite { file, _dir: dir }
                }
            }
        })
    })
    .join()
    .expect("test template thread")
}

/// Templates outlive their process (a static is never dropped): each run drops those whose
/// process has ended, so the server does not fill up with them.
async fn drop_abandoned_templates(server: &str) {
    install_default_drivers();
    let Ok(pool) = sqlx::AnyPool::connect(server).await else {
        return;
    };
    let names: Vec<String> = sqlx::query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'gp\\_tpl\\_%' OR datname LIKE 'gp\\_test\\_%'",
    )
    .fetch_all(&pool)
    .await
    .map(|rows| rows.iter().filter_map(|r| r.try_get(0).ok()).collect())
    .unwrap_or_default();
    pool.close().await;
    let abandoned: Vec<String> = names
        .into_iter()
        .filter(|name| {
            let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
            pid.is_some_and(|pid| {
                pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            })
        })
        .map(|name| format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .collect();
    if !abandoned.is_empty() {
        execute(server, abandoned).await;
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.admin.take() {
            run_blocking(
                &server,
                vec![format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
            );
        }
    }
}

async fn execute(server: &str, statements: Vec<String>) {
    install_default_drivers();
    let pool = sqlx::AnyPool::connect(server)
        .await
        .expect("the PostgreSQL test server is reachable");
    for sql in statements {
        pool.execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("test database statement");
    }
    pool.close().await;
}

/// `CREATE DATABASE … TEMPLATE`, which PostgreSQL refuses while another session is still
/// connected to the template: a closed pool's sessions can take a moment to end.
fn copy_database(server: &str, from: &str, to: &str) {
    let (server, sql) = (
        server.to_string(),
        format!("CREATE DATABASE {to} TEMPLATE {from}"),
    );
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            install_default_drivers();
            let pool = sqlx::AnyPool::connect(&server)
                .await
                .expect("the PostgreSQL test server is reachable");
            let mut tries = 0;
            loop {
                match pool.execute(sqlx::AssertSqlSafe(sql.clone())).await {
                    Ok(_) => break,
                    Err(e) if tries < 100 && e.to_string().contains("accessed by other users") => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    Err(e) => panic!("{sql}: {e}"),
                }
            }
            pool.close().await;
        });
    })
    .join()
    .expect("test database thread");
}

/// Runs statements on a separate thread with its own runtime, so it works inside and outside
/// async tests.
fn run_blocking(server: &str, statements: Vec<String>) {
    let server = server.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(execute(&server, statements));
    })
    .join()
    .expect("test database thread");
}

/// SQLite only: sets `PRAGMA max_page_count` on every connection of `store`'s pool (the limit
/// belongs to a connection, not to the file), so that a test can fill the database as a full
/// disk would and free it again. Asking for fewer pages than the file holds caps it at its
/// current size. Connections the pool opens later have no limit.
pub async fn limit_sqlite_pages(store: &crate::Store, pages: u64) -> crate::Result<()> {
    let pool = store.pool();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await?);
    }
    for conn in &mut held {
        conn.execute(sqlx::AssertSqlSafe(format!(
            "PRAGMA max_page_count = {pages}"
        )))
        .await?;
    }
    Ok(())
}

impl crate::Store {
    /// Runs one SQL statement straight on the database, bypassing every rule of the store:
    /// for tests that need rows the store would never write (old data, a hand edit).
    pub async fn execute_raw_for_tests(&self, sql: &str) -> crate::Result<u64> {
        let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
