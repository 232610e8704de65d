//! Persistence for greenplan: one [`Store`] over SQLite (embedded, the default) or
//! PostgreSQL (a shared deployment), with the same behaviour on both.
//!
//! Both backends go through sqlx's `Any` driver with a portable schema: decimals as canonical
//! text (sums are done exactly in Rust, never in SQL floating point), timestamps as Unix
//! seconds, `$1` placeholders. Each backend has its own migration folder with the same
//! versions, embedded in the binary and applied on connect.
//!
//! Every import runs in one transaction: a file is stored whole or not at all, and a process
//! killed half-way leaves the database as it was.

#![forbid(unsafe_code)]

mod activities;
mod admin;
mod audit;
mod backup;
mod digital;
mod factors;
mod medicines;
mod pathways;
mod people;
mod plan;
mod registers;
mod reminders;
mod reports;
mod returns;
mod revisions;
mod schemes;
#[cfg(feature = "testing")]
pub mod testing;
mod travel;
mod unreadable;
mod updates;

pub use activities::{ActivityGroup, ActivityImport, ActivitySum, ImportSummary, StagedUpload};
pub use admin::MilestoneDone;
pub use audit::{AuditEntry, AuditFilter, MAX_AUDIT_BATCH};
pub use backup::BackupSummary;
pub use digital::{DigitalScheme, NewDigitalScheme};
pub use factors::EditionInfo;
pub use medicines::{PrescribingMonth, month_code};
pub use pathways::{SavedScenario, SeedOutcome};
pub use people::{
    ApiTokenSummary, DEFAULT_TOKEN_DAYS, Invitation, LOGIN_WINDOW_SECONDS, MAX_LOGIN_FAILURES,
    MAX_TOKEN_DAYS, SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS, SignedIn, UserSummary,
    check_password_strength, hash_password, new_token, normalise_email, verify_password,
};
pub use plan::{InitOutcome, MetricValue};
pub use registers::{EXAMPLE_DATA_ACTOR, StoredRecord, register_points};
pub use reminders::{DigestSent, LEASE_SECONDS, Recipient};
pub use reports::{NewPublishedReport, PublishedReport, ReturnReceived};
pub use returns::{ReturnRecord, day_of};
pub use revisions::{Change, FieldChange, Revised, StaleEdit, field_changes};
pub use travel::{
    AnswersInHour, MAX_TOKENS_PER_BATCH, NewTravelSurvey, RateLimit, RateLimited,
    ResponseExclusion, ResponseRefused, SurveyStatus, TravelResponse, TravelSurvey,
    survey_activities,
};
pub use unreadable::UnreadableRecord;
pub use updates::{ActionUpdate, EvidenceFile, MAX_EVIDENCE_BYTES, NewActionUpdate};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};
use std::time::Duration;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the store. Database errors keep their cause for the log; the message says what
/// the user can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The disk (SQLite) or the database server's storage (PostgreSQL) has no room left: the
    /// write was rolled back whole, and writes succeed again once space is freed.
    #[error("storage is full, nothing was changed")]
    StorageFull(#[source] sqlx::Error),
    #[error("stored data could not be read back ({what}): {message}")]
    Corrupt { what: String, message: String },
    #[error(
        "the database already holds the plan `{existing}`; load `{wanted}` into a new database (--db) or start from an empty one"
    )]
    OtherPlanLoaded { existing: String, wanted: String },
    #[error("{0}")]
    Rejected(String),
    /// A save from a stale copy of a record: someone changed it since the copy was drawn.
    /// Nothing was written; the error holds who changed what since.
    #[error("{0}")]
    Stale(Box<StaleEdit>),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Database errors, sorted by what the person can do about them: storage full (free space,
/// try again) and text the database cannot hold (PostgreSQL refuses NUL in text) are told in
/// words; anything else stays a database error, logged with its cause.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let code = match &e {
            sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
            _ => None,
        };
        match classify(code.as_deref()) {
            Some(Classified::StorageFull) => StoreError::StorageFull(e),
            Some(Classified::NulInText) => StoreError::Rejected(
                "the text holds a NUL character (\\0), which cannot be stored: remove it and try again"
                    .into(),
            ),
            None => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// True when the database could not be reached at all (no connection in time, the pool
    /// closed, the network), as opposed to a query that failed: worth trying again shortly.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            )
        )
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Classified {
    StorageFull,
    NulInText,
}

/// Sorts a database error code: SQLite's result code (a number; the low byte is the primary
/// code, 13 = SQLITE_FULL) or PostgreSQL's SQLSTATE (53100 disk_full, 22021
/// character_not_in_repertoire, which is what PostgreSQL answers for a NUL in text).
fn classify(code: Option<&str>) -> Option<Classified> {
    let code = code?;
    if let Ok(sqlite) = code.parse::<i64>()
        && code.len() != 5
    {
        return (sqlite & 0xff == 13).then_some(Classified::StorageFull);
    }
    match code {
        "53100" => Some(Classified::StorageFull),
        "22021" => Some(Classified::NulInText),
        _ => None,
    }
}

/// The migrations, in order: (version, SQLite SQL, PostgreSQL SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_people_and_audit.sql"),
        include_str!("../migrations/postgres/0002_people_and_audit.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_staged_uploads.sql"),
        include_str!("../migrations/postgres/0003_staged_uploads.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_revision.sql"),
        include_str!("../migrations/postgres/0004_revision.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_returns_and_admin.sql"),
        include_str!("../migrations/postgres/0005_returns_and_admin.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_medicines.sql"),
        include_str!("../migrations/postgres/0006_medicines.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_reports.sql"),
        include_str!("../migrations/postgres/0007_reports.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_schemes_and_pathways.sql"),
        include_str!("../migrations/postgres/0008_schemes_and_pathways.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_travel_and_digital.sql"),
        include_str!("../migrations/postgres/0009_travel_and_digital.sql"),
    ),
    (
        10,
        include_str!("../migrations/sqlite/0010_registers.sql"),
        include_str!("../migrations/postgres/0010_registers.sql"),
    ),
    (
        11,
        include_str!("../migrations/sqlite/0011_spend_price_year.sql"),
        include_str!("../migrations/postgres/0011_spend_price_year.sql"),
    ),
    (
        13,
        include_str!("../migrations/sqlite/0013_inhaler_products.sql"),
        include_str!("../migrations/postgres/0013_inhaler_products.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_accounts.sql"),
        include_str!("../migrations/postgres/0015_accounts.sql"),
    ),
    (
        17,
        include_str!("../migrations/sqlite/0017_survey_limits.sql"),
        include_str!("../migrations/postgres/0017_survey_limits.sql"),
    ),
    (
        18,
        include_str!("../migrations/sqlite/0018_record_revisions.sql"),
        include_str!("../migrations/postgres/0018_record_revisions.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_health_probe.sql"),
        include_str!("../migrations/postgres/0019_health_probe.sql"),
    ),
    (
        20,
        include_str!("../migrations/sqlite/0020_activity_sums.sql"),
        include_str!("../migrations/postgres/0020_activity_sums.sql"),
    ),
    (
        21,
        include_str!("../migrations/sqlite/0021_reminders.sql"),
        include_str!("../migrations/postgres/0021_reminders.sql"),
    ),
];

/// The migration that creates `activity_sums`, which must then be filled from the rows
/// already stored (exact decimal sums are made in Rust, not in SQL).
const ACTIVITY_SUMS_MIGRATION: i64 = 20;

/// A connection pool to the greenplan database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Stored rows the readers could not read back and left out (see `unreadable`).
    left_out: unreadable::LeftOut,
}

impl Store {
    /// Opens (creating if needed) the database at `url`: a `postgres://` URL, a `sqlite:` URL,
    /// or a plain file path for SQLite. Applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let (url, backend) = normalise_url(url);
        let sqlite = backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(30))
            // A connection whose commit or rollback failed (a full disk makes SQLite roll the
            // transaction back itself, so sqlx's own ROLLBACK then fails) still counts itself
            // inside a transaction: pooled again, every later `BEGIN` on it failed ("attempted
            // to call begin_with at non-zero transaction depth"), one write in four until a
            // restart. Every connection coming back is checked here, whichever code used it:
            // the ping first runs any rollback a dropped transaction queued; one still in a
            // transaction after that is closed, and the pool opens a fresh one.
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    conn.ping().await?;
                    let clean = !conn.is_in_transaction();
                    if !clean {
                        tracing::warn!("closing a database connection left inside a failed transaction");
                    }
                    Ok(clean)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        // WAL lets readers go on while an import writes; a busy timeout makes
                        // writers queue instead of failing; foreign keys are off by default.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| StoreError::Connect { url: url.clone(), source })?;
        let store = Self {
            pool,
            backend,
            left_out: unreadable::LeftOut::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`) so that the busy timeout applies: a deferred transaction that reads first
    /// and writes later fails at once with "database is locked" when another connection has
    /// written in between (found by `bench/soak.sh`: a fifth of concurrent action updates were
    /// 500s). PostgreSQL's row locks need nothing more.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// True when the database answers a trivial query (for `/healthz`).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Whether the database can take a write now (for `/healthz`): in one transaction a row
    /// of some 16 KB goes into `health_probe` and out again, then the transaction commits. That
    /// needs new pages (SQLite's page limit and the disk's free space are checked as a real
    /// write would check them) and a log write at commit, yet leaves nothing behind and does
    /// not change the data revision. `Ok(false)` when the probe waited longer than `wait` for
    /// the write lock (another writer, e.g. a long import, holds it: the database is busy,
    /// not broken).
    pub async fn can_write(&self, wait: Duration) -> Result<bool> {
        // Distinct ids so that probes from two servers never wait on each other's row.
        let id = i64::from(chrono::Utc::now().timestamp_subsec_nanos()) + 1;
        let filler = "x".repeat(16 * 1024);
        let probe = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO health_probe (id, filler) VALUES ($1, $2)")
                .bind(id)
                .bind(&filler)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM health_probe WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        };
        match tokio::time::timeout(wait, probe).await {
            Ok(result) => result.map(|()| true),
            Err(_elapsed) => Ok(false),
        }
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .await?;
        // Serialise concurrent migrators on PostgreSQL (two servers starting together).
        if self.backend == Backend::Postgres {
            tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                .await?;
        }
        for (version, sqlite, postgres) in MIGRATIONS {
            let done: Option<(i64,)> =
                sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                continue;
            }
            let sql = if self.backend == Backend::Sqlite {
                sqlite
            } else {
                postgres
            };
            tx.execute(*sql).await?;
            if *version == ACTIVITY_SUMS_MIGRATION {
                activities::rebuild_sums(&mut tx, self.backend == Backend::Sqlite).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The data revision: it changes whenever anything is written, by any server.
    pub async fn data_revision(&self) -> Result<i64> {
        let (v,): (i64,) = sqlx::query_as("SELECT value FROM data_revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(v)
    }

    /// Closes the pool, waiting for connections to finish (flushes SQLite's WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Marks the data as changed, inside the transaction that changes it.
pub(crate) async fn bump_revision(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<()> {
    sqlx::query("UPDATE data_revision SET value = value + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Unix seconds now. The store stamps records; the domain never reads the clock.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn normalise_url(url: &str) -> (String, Backend) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (url.to_string(), Backend::Postgres)
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.trim_start_matches("//");
        let sep = if rest.contains('?') { '&' } else { '?' };
        let url = if rest.contains("mode=") {
            format!("sqlite://{rest}")
        } else {
            format!("sqlite://{rest}{sep}mode=rwc")
        };
        (url, Backend::Sqlite)
    } else {
        (format!("sqlite://{url}?mode=rwc"), Backend::Sqlite)
    }
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalise_url("greenplan.db"),
            ("sqlite://greenplan.db?mode=rwc".into(), Backend::Sqlite)
        );
        assert_eq!(
            normalise_url("sqlite:x.db"),
            ("sqlite://x.db?mode=rwc".into(), Backend::Sqlite)
        );
        assert_eq!(normalise_url("postgres://h/db").1, Backend::Postgres);
    }

    #[test]
    fn storage_full_and_nul_in_text_are_recognised_on_both_backends() {
        assert_eq!(classify(Some("13")), Some(Classified::StorageFull)); // SQLITE_FULL
        assert_eq!(classify(Some("53100")), Some(Classified::StorageFull)); // disk_full
        assert_eq!(classify(Some("22021")), Some(Classified::NulInText));
        assert_eq!(classify(Some("2067")), None); // SQLITE_CONSTRAINT_UNIQUE
        assert_eq!(classify(Some("23505")), None); // unique_violation
        assert_eq!(classify(None), None);
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |dir: &str| {
            let mut v: Vec<String> =
                std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"));
        assert_eq!(names("sqlite").len(), MIGRATIONS.len());
    }
}
