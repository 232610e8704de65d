//! A fresh, empty database for each test: a SQLite file in a temporary folder, or — when
//! `GREENPLAN_TEST_POSTGRES` names a PostgreSQL server (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) — a new database created on it and dropped
//! afterwards. CI runs the whole test suite once each way.

use sqlx::Executor;
use sqlx::any::install_default_drivers;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A test database; dropped (PostgreSQL) or deleted (SQLite) when this goes out of scope.
pub struct TestDatabase {
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server tests run against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("GREENPLAN_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

impl TestDatabase {
    /// Creates a fresh database. Blocking: callable from sync and async tests alike.
    pub fn new() -> Self {
        match postgres_server() {
            Some(server) => {
                let name = format!(
                    "gp_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_subsec_nanos()
                );
                run_blocking(&server, &format!("CREATE DATABASE {name}"));
                let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                Self {
                    url: format!("{base}/{name}"),
                    admin: Some((server.clone(), name)),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("a temporary folder for the test database");
                let url = dir.path().join("greenplan.db").display().to_string();
                Self {
                    url,
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
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// Runs one statement on a separate thread with its own runtime, so it works inside and
/// outside async tests.
fn run_blocking(server: &str, sql: &str) {
    let (server, sql) = (server.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            install_default_drivers();
            let pool = sqlx::AnyPool::connect(&server)
                .await
                .expect("the PostgreSQL test server is reachable");
            pool.execute(sqlx::AssertSqlSafe(sql))
                .await
                .expect("test database statement");
            pool.close().await;
        });
    })
    .join()
    .expect("test database thread");
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
