//! Backup and restore in a portable format, so a database can be saved, moved between SQLite
//! and PostgreSQL, and restored with every table (the audit trail included) as it was.
//!
//! The format is JSON Lines, one value per line, readable by anything:
//!
//! ```text
//! {"format":"greenplan-backup","version":1,"schema":5,"backend":"sqlite","created_at":…}
//! {"table":"plans","columns":[["id","text"],["title","text"],…],"rows":N}
//! ["jucd-2025-28","Green Plan",…]          ← N rows, values in column order
//! {"table":"organisations",…}
//! ```
//!
//! Integers are JSON integers, text JSON strings, bytes base64 strings, NULL null. Decimals
//! are already text in the schema, so nothing is rounded on the way. Tables are written in
//! the order they were created, which is an order their foreign keys allow on restore. A
//! backup is read row by row and written in one transaction: a restore is whole or nothing,
//! and only into a database holding no data yet.

use crate::{Backend, Result, Store, StoreError};
use base64::Engine;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use std::io::{BufRead, Write};

/// The kinds of column the schema uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Integer,
    Real,
    Text,
    Blob,
}

impl ColumnKind {
    /// From a declared type (SQLite) or data type (PostgreSQL).
    fn of(declared: &str) -> Self {
        let t = declared.to_ascii_lowercase();
        if t.contains("int") || t == "serial" || t == "bigserial" {
            Self::Integer
        } else if t.contains("blob") || t.contains("bytea") {
            Self::Blob
        } else if t.contains("real")
            || t.contains("double")
            || t.contains("float")
            || t.contains("numeric")
        {
            Self::Real
        } else {
            Self::Text
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Head {
    format: String,
    version: u32,
    schema: i64,
    backend: String,
    created_at: i64,
}

/// The last line: a backup without it was cut short.
#[derive(Debug, Serialize, Deserialize)]
struct End {
    end: bool,
    tables: usize,
    rows: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableHead {
    table: String,
    columns: Vec<(String, ColumnKind)>,
    rows: u64,
}

/// What a backup or restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSummary {
    pub tables: usize,
    pub rows: u64,
}

const FORMAT: &str = "greenplan-backup";

/// Tables that describe the database rather than hold data (the target has its own), or that
/// hold only what is derived from other tables (made anew on restore).
const NOT_DATA: &[&str] = &[
    "schema_migrations",
    "health_probe",
    "activity_sums",
    "reminder_lease",
];

fn corrupt_backup(line: usize, message: impl std::fmt::Display) -> StoreError {
    StoreError::Rejected(format!("the backup is damaged at line {line}: {message}"))
}

impl Store {
    /// The tables of the schema, each after the tables its foreign keys refer to (otherwise in
    /// the order they were created), so rows can be restored in this order.
    async fn tables(&self) -> Result<Vec<String>> {
        let created = self.tables_as_created().await?;
        let mut refers = Vec::new();
        for t in &created {
            refers.push(self.referenced_tables(t).await?);
        }
        let mut ordered: Vec<String> = Vec::new();
        while ordered.len() < created.len() {
            let before = ordered.len();
            for (t, deps) in created.iter().zip(&refers) {
                if !ordered.contains(t)
                    && deps
                        .iter()
                        .all(|d| d == t || ordered.contains(d) || !created.contains(d))
                {
                    ordered.push(t.clone());
                }
            }
            if ordered.len() == before {
                return Err(StoreError::Rejected(
                    "the tables' foreign keys form a cycle".into(),
                ));
            }
        }
        Ok(ordered)
    }

    async fn referenced_tables(&self, table: &str) -> Result<Vec<String>> {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)",
            Backend::Postgres => {
                "SELECT DISTINCT ccu.table_name::text FROM information_schema.table_constraints tc \
                 JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema \
                 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1"
            }
        };
        let rows: Vec<(String,)> = sqlx::query_as(sql)
            .bind(table)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// The tables of the schema, in the order they were created.
    async fn tables_as_created(&self) -> Result<Vec<String>> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            }
            Backend::Postgres => {
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY c.oid"
            }
        };
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(t,)| t)
            .filter(|t| !NOT_DATA.contains(&t.as_str()))
            .collect())
    }

    /// A table's columns, in order, with their kinds.
    async fn columns(&self, table: &str) -> Result<Vec<(String, ColumnKind)>> {
        let rows: Vec<(String, String)> = match self.backend() {
            Backend::Sqlite => {
                sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                    .bind(table)
                    .fetch_all(self.pool())
                    .await?
            }
            Backend::Postgres => {
                sqlx::query_as("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position")
                    .bind(table)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(n, t)| (n, ColumnKind::of(&t)))
            .collect())
    }

    async fn schema_version(&self) -> Result<i64> {
        let (v,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(self.pool())
                .await?;
        Ok(v)
    }

    /// Writes every table to `out`, streaming rows (memory stays flat however large the
    /// database). Reads in one transaction, so the backup is a consistent picture.
    pub async fn backup(&self, out: &mut impl Write) -> Result<BackupSummary> {
        let io = |e: std::io::Error| StoreError::Rejected(format!("cannot write the backup: {e}"));
        let head = Head {
            format: FORMAT.into(),
            version: 1,
            schema: self.schema_version().await?,
            backend: match self.backend() {
                Backend::Sqlite => "sqlite".into(),
                Backend::Postgres => "postgres".into(),
            },
            created_at: crate::now(),
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string(&head).map_err(|e| crate::corrupt("backup", e))?
        )
        .map_err(io)?;
        let tables = self.tables().await?;
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let mut total = 0;
        for table in &tables {
            let columns = self.columns(table).await?;
            let (rows,): (i64,) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&mut *tx)
                    .await?;
            let th = TableHead {
                table: table.clone(),
                columns: columns.clone(),
                rows: rows as u64,
            };
            writeln!(
                out,
                "{}",
                serde_json::to_string(&th).map_err(|e| crate::corrupt("backup", e))?
            )
            .map_err(io)?;
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            let order = if names.contains(&"id") {
                " ORDER BY id"
            } else {
                ""
            };
            let sql = format!("SELECT {} FROM {table}{order}", names.join(", "));
            let mut stream = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
            let mut written = 0u64;
            while let Some(row) = stream.try_next().await? {
                let values = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| value_of(&row, i, *kind))
                    .collect::<Result<Vec<_>>>()?;
                writeln!(out, "{}", serde_json::Value::Array(values)).map_err(io)?;
                written += 1;
            }
            if written != rows as u64 {
                return Err(StoreError::Rejected(format!(
                    "{table} changed while it was read"
                )));
            }
            total += written;
        }
        drop(tx);
        let end = End {
            end: true,
            tables: tables.len(),
            rows: total,
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string(&end).map_err(|e| crate::corrupt("backup", e))?
        )
        .map_err(io)?;
        out.flush().map_err(io)?;
        Ok(BackupSummary {
            tables: tables.len(),
            rows: total,
        })
    }

    /// Restores a backup into this database, which must hold no data yet (a new database:
    /// `greenplan --db NEW restore FILE`). All or nothing.
    pub async fn restore(&self, input: impl BufRead) -> Result<BackupSummary> {
        let mut lines = input.lines().enumerate().map(|(i, l)| (i + 1, l));
        let mut next_line = || -> Result<Option<(usize, String)>> {
            match lines.next() {
                None => Ok(None),
                Some((n, Ok(text))) => Ok(Some((n, text))),
                Some((n, Err(e))) => Err(corrupt_backup(n, e)),
            }
        };
        let (n, first) = next_line()?.ok_or_else(|| corrupt_backup(1, "the file is empty"))?;
        let head: Head = serde_json::from_str(&first).map_err(|_| {
            StoreError::Rejected(
                "this is not a greenplan backup (made by `greenplan backup FILE`)".into(),
            )
        })?;
        if head.format != FORMAT || head.version != 1 {
            return Err(corrupt_backup(n, "not a greenplan backup of version 1"));
        }
        let schema = self.schema_version().await?;
        if head.schema > schema {
            return Err(StoreError::Rejected(format!(
                "the backup comes from a newer greenplan (schema {}, this one has {schema}): restore it with that version or later",
                head.schema
            )));
        }
        if head.schema < schema {
            return Err(StoreError::Rejected(format!(
                "the backup has schema {} and this database {schema}: restore it with the greenplan that made it, then upgrade",
                head.schema
            )));
        }
        let own_tables = self.tables().await?;
        self.refuse_if_holding_data(&own_tables).await?;
        let mut tx = self.begin_write().await?;
        let mut summary = BackupSummary { tables: 0, rows: 0 };
        let mut last = n;
        loop {
            let Some((n, line)) = next_line()? else {
                return Err(corrupt_backup(
                    last + 1,
                    "it ends before its last line: it was cut short",
                ));
            };
            if let Ok(end) = serde_json::from_str::<End>(&line) {
                if end.tables != summary.tables || end.rows != summary.rows {
                    return Err(corrupt_backup(
                        n,
                        format!(
                            "it should hold {} rows of {} tables but holds {} of {}",
                            end.rows, end.tables, summary.rows, summary.tables
                        ),
                    ));
                }
                break;
            }
            let th: TableHead = serde_json::from_str(&line).map_err(|e| corrupt_backup(n, e))?;
            if !own_tables.contains(&th.table) {
                return Err(corrupt_backup(
                    n,
                    format!("no table `{}` in this database", th.table),
                ));
            }
            let own = self.columns(&th.table).await?;
            let names: Vec<&str> = th.columns.iter().map(|(c, _)| c.as_str()).collect();
            for c in &names {
                if !own.iter().any(|(o, _)| o == c) {
                    return Err(corrupt_backup(
                        n,
                        format!("no column `{}.{c}` in this database", th.table),
                    ));
                }
            }
            // Rows replace what migrations put in (the data revision counter's row).
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {}", th.table)))
                .execute(&mut *tx)
                .await?;
            let insert = insert_sql(self.backend(), &th.table, &names);
            last = n;
            for _ in 0..th.rows {
                let (n, line) = next_line()?.ok_or_else(|| {
                    corrupt_backup(
                        last + 1,
                        format!("{} ends early: it was cut short", th.table),
                    )
                })?;
                last = n;
                let values: Vec<serde_json::Value> =
                    serde_json::from_str(&line).map_err(|e| corrupt_backup(n, e))?;
                if values.len() != th.columns.len() {
                    return Err(corrupt_backup(
                        n,
                        format!("{} values for {} columns", values.len(), th.columns.len()),
                    ));
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
                for (v, (_, kind)) in values.iter().zip(&th.columns) {
                    q = bind(q, v, *kind).map_err(|m| corrupt_backup(n, m))?;
                }
                q.execute(&mut *tx).await?;
                summary.rows += 1;
            }
            if self.backend() == Backend::Postgres && names.contains(&"id") {
                reset_identity(&mut tx, &th.table).await?;
            }
            summary.tables += 1;
        }
        // Derived data is not in a backup: the footprint's sums are made anew from the rows.
        crate::activities::rebuild_sums(&mut tx, self.backend() == Backend::Sqlite).await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn refuse_if_holding_data(&self, tables: &[String]) -> Result<()> {
        for t in tables.iter().filter(|t| t.as_str() != "data_revision") {
            let (n,): (i64,) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                    .fetch_one(self.pool())
                    .await?;
            if n > 0 {
                return Err(StoreError::Rejected(format!(
                    "this database already holds data (table {t}): restore into a new, empty database"
                )));
            }
        }
        Ok(())
    }
}

fn insert_sql(backend: Backend, table: &str, columns: &[&str]) -> String {
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    // Identity columns take the backed-up ids as they are.
    let overriding = if backend == Backend::Postgres && columns.contains(&"id") {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    format!(
        "INSERT INTO {table} ({}){overriding} VALUES ({})",
        columns.join(", "),
        marks.join(", ")
    )
}

/// After ids were inserted as they were, the identity goes on from the highest.
async fn reset_identity(tx: &mut Transaction<'_, Any>, table: &str) -> Result<()> {
    let (is_identity,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id' AND is_identity = 'YES'",
    )
    .bind(table)
    .fetch_one(&mut **tx)
    .await?;
    if is_identity > 0 {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn value_of(row: &sqlx::any::AnyRow, i: usize, kind: ColumnKind) -> Result<serde_json::Value> {
    use serde_json::Value;
    Ok(match kind {
        ColumnKind::Integer => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnKind::Real => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnKind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnKind::Blob => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, |b| {
                Value::from(base64::engine::general_purpose::STANDARD.encode(b))
            }),
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn bind<'q>(
    q: AnyQuery<'q>,
    v: &serde_json::Value,
    kind: ColumnKind,
) -> Result<AnyQuery<'q>, String> {
    use serde_json::Value;
    Ok(match (kind, v) {
        (ColumnKind::Integer, Value::Null) => q.bind(None::<i64>),
        (ColumnKind::Integer, Value::Number(n)) => {
            q.bind(n.as_i64().ok_or("an integer column holds a fraction")?)
        }
        (ColumnKind::Real, Value::Null) => q.bind(None::<f64>),
        (ColumnKind::Real, Value::Number(n)) => q.bind(n.as_f64().ok_or("not a number")?),
        (ColumnKind::Text, Value::Null) => q.bind(None::<String>),
        (ColumnKind::Text, Value::String(s)) => q.bind(s.clone()),
        (ColumnKind::Blob, Value::Null) => q.bind(None::<Vec<u8>>),
        (ColumnKind::Blob, Value::String(s)) => q.bind(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("bytes that are not base64: {e}"))?,
        ),
        (kind, other) => return Err(format!("a {kind:?} column holds {other}")),
    })
}
