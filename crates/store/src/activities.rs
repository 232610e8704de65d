//! Activity imports: one transaction per file, streamed in batches.

use crate::{Result, Store, StoreError, corrupt, now};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

/// Columns of `activities` written per row; rows per multi-row INSERT.
const COLUMNS: usize = 14;
const ROWS_PER_INSERT: usize = 2000;

/// The multi-row INSERT for `rows` activities. SQLite gets anonymous `?` placeholders: with
/// numbered ones, binding looks each name up in a list as long as the statement, which made
/// large batches quadratic (measured: 8,500 rows/s at 500 rows per statement).
fn insert_sql(rows: usize, sqlite: bool) -> String {
    let mut sql = String::with_capacity(200 + rows * COLUMNS * 6);
    sql.push_str(
        "INSERT INTO activities (import_id, row_number, organisation, site, period_start, period_end, year, activity, quantity, unit, edition, category, market_factor, notes) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for k in 1..=COLUMNS {
            if k > 1 {
                sql.push(',');
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(i * COLUMNS + k).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// An import in progress: rows go into an open transaction, which is committed only by
/// [`ActivityImport::commit`]. Dropping it (an error, a crash) rolls everything back.
pub struct ActivityImport {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) import_id: i64,
    rows: u64,
    buffer: Vec<Activity>,
    sqlite: bool,
    pub(crate) actor: String,
    sha256: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub import_id: i64,
    pub file: String,
    pub rows: u64,
}

impl Store {
    /// An earlier import of a file with these exact contents, if any.
    pub async fn import_with_sha(&self, sha256: &str) -> Result<Option<(i64, i64)>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, imported_at FROM activity_imports WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(self.pool())
                .await?;
        Ok(row)
    }

    /// Starts an import of one file by `actor` (a user's email, or `cli:NAME`).
    pub async fn begin_activity_import(
        &self,
        actor: &str,
        file: &str,
        sha256: &str,
    ) -> Result<ActivityImport> {
        let mut tx = self.begin_write().await?;
        let (import_id,): (i64,) =
            sqlx::query_as("INSERT INTO activity_imports (file, sha256, row_count, imported_at) VALUES ($1, $2, 0, $3) RETURNING id")
                .bind(file)
                .bind(sha256)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?;
        Ok(ActivityImport {
            tx,
            import_id,
            rows: 0,
            buffer: Vec::with_capacity(ROWS_PER_INSERT),
            sqlite: self.backend() == crate::Backend::Sqlite,
            actor: actor.to_string(),
            sha256: sha256.to_string(),
        })
    }

    /// Streams stored activities (optionally of one financial year and organisation) to `f`,
    /// oldest first, without holding them all in memory.
    pub async fn for_each_activity(
        &self,
        year: Option<FinancialYear>,
        organisation: Option<&OdsCode>,
        mut f: impl FnMut(Activity) -> Result<()>,
    ) -> Result<u64> {
        let sql = "SELECT a.row_number, i.file, a.organisation, a.site, a.period_start, a.period_end, a.activity, a.quantity, a.unit, \
                   a.edition, a.category, a.market_factor, a.notes \
                   FROM activities a JOIN activity_imports i ON i.id = a.import_id \
                   WHERE ($1 < 0 OR a.year = $1) AND ($2 = '' OR a.organisation = $2) ORDER BY a.id";
        let mut rows = sqlx::query(sql)
            .bind(year.map_or(-1, |y| i64::from(y.0)))
            .bind(organisation.map_or(String::new(), |o| o.to_string()))
            .fetch(self.pool());
        let mut n = 0;
        while let Some(r) = rows.try_next().await? {
            f(activity_from_row(&r)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Number of stored activity rows (for checks and benchmarks).
    pub async fn activity_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM activities")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

impl ActivityImport {
    /// Adds one validated, resolved activity.
    pub async fn add(&mut self, a: Activity) -> Result<()> {
        self.buffer.push(a);
        if self.buffer.len() == ROWS_PER_INSERT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let sql = insert_sql(self.buffer.len(), self.sqlite);
        // Only placeholders are generated here; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in self.buffer.drain(..) {
            q = q
                .bind(self.import_id)
                .bind(a.origin.row as i64)
                .bind(a.organisation.to_string())
                .bind(a.site)
                .bind(a.period_start.to_string())
                .bind(a.period_end.to_string())
                .bind(i64::from(FinancialYear::containing(a.period_start).0))
                .bind(a.activity)
                .bind(a.quantity.to_string())
                .bind(a.unit.to_string())
                .bind(a.edition)
                .bind(a.category.map(|c| c.slug().to_string()))
                .bind(a.market_factor)
                .bind(a.notes);
            self.rows += 1;
        }
        q.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Makes the import permanent.
    pub async fn commit(mut self, file: &str) -> Result<ImportSummary> {
        self.flush().await?;
        if self.rows == 0 {
            return Err(StoreError::Rejected(format!(
                "{file}: the file has no data rows: nothing was stored"
            )));
        }
        sqlx::query("UPDATE activity_imports SET row_count = $1 WHERE id = $2")
            .bind(self.rows as i64)
            .bind(self.import_id)
            .execute(&mut *self.tx)
            .await?;
        let after = serde_json::json!({"file": file, "rows": self.rows, "sha256": self.sha256});
        crate::audit::record(
            &mut self.tx,
            &self.actor,
            "import",
            "activity-import",
            &self.import_id.to_string(),
            None,
            None,
            Some(&after),
        )
        .await?;
        self.tx.commit().await?;
        Ok(ImportSummary {
            import_id: self.import_id,
            file: file.to_string(),
            rows: self.rows,
        })
    }

    /// Abandons the import: nothing of it is stored.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

fn activity_from_row(r: &sqlx::any::AnyRow) -> Result<Activity> {
    let date = |col: &str| -> Result<NaiveDate> {
        let s: String = r.try_get(col)?;
        s.parse().map_err(|e| corrupt("activity date", e))
    };
    let org: String = r.try_get("organisation")?;
    let quantity: String = r.try_get("quantity")?;
    let unit: String = r.try_get("unit")?;
    Ok(Activity {
        origin: RowRef {
            source: r.try_get::<String, _>("file")?.into(),
            row: r.try_get::<i64, _>("row_number")? as u64,
        },
        organisation: OdsCode::parse(&org).map_err(|e| corrupt("activity organisation", e))?,
        site: r.try_get("site")?,
        period_start: date("period_start")?,
        period_end: date("period_end")?,
        activity: r.try_get("activity")?,
        quantity: quantity
            .parse()
            .map_err(|e| corrupt("activity quantity", e))?,
        unit: unit.parse().map_err(|e| corrupt("activity unit", e))?,
        edition: r.try_get("edition")?,
        category: r
            .try_get::<Option<String>, _>("category")?
            .map(|c| c.parse().map_err(|e| corrupt("activity category", e)))
            .transpose()?,
        market_factor: r.try_get("market_factor")?,
        notes: r.try_get("notes")?,
    })
}

/// An uploaded file held until its sender confirms it.
#[derive(Debug, Clone)]
pub struct StagedUpload {
    pub file_name: String,
    pub contents: Vec<u8>,
}

/// Uploads older than this are dropped when a new one is staged.
const STAGED_UPLOAD_SECONDS: i64 = 24 * 60 * 60;

impl Store {
    /// Holds an uploaded file for `user_id` and returns the token that confirms it.
    pub async fn stage_upload(
        &self,
        user_id: i64,
        file_name: &str,
        contents: &[u8],
    ) -> Result<String> {
        let token = crate::people::new_token()?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM staged_uploads WHERE created_at < $1")
            .bind(now() - STAGED_UPLOAD_SECONDS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO staged_uploads (token_hash, user_id, file_name, contents, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(crate::people::digest(&token))
            .bind(user_id)
            .bind(file_name)
            .bind(contents.to_vec())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Takes a staged upload back (only by the user who staged it), removing it.
    pub async fn take_staged_upload(
        &self,
        user_id: i64,
        token: &str,
    ) -> Result<Option<StagedUpload>> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT file_name, contents FROM staged_uploads WHERE token_hash = $1 AND user_id = $2",
        )
        .bind(crate::people::digest(token))
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM staged_uploads WHERE token_hash = $1 AND user_id = $2")
            .bind(crate::people::digest(token))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row.map(|(file_name, contents)| StagedUpload {
            file_name,
            contents,
        }))
    }
}
