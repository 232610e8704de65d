//! Activity imports: one transaction per file, streamed in batches.

use crate::{Result, Store, StoreError, corrupt, now};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use greenplan_core::Decimal;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::category::NhsCategory;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

/// Columns of `activities` written per row; rows per multi-row INSERT.
const COLUMNS: &str = "import_id, row_number, organisation, site, period_start, period_end, year, activity, quantity, unit, edition, category, market_factor, notes";
const ROWS_PER_INSERT: usize = 2000;
/// Columns of `activity_sums` written per line; lines per multi-row INSERT.
const SUM_COLUMNS: &str = "import_id, organisation, site, year, period_start, period_end, activity, unit, edition, category, market_factor, quantity, largest, row_count, first_row";
const SUMS_PER_INSERT: usize = 500;

/// The multi-row INSERT of `rows` rows into `table` (`columns` comma-separated). SQLite gets
/// anonymous `?` placeholders: with numbered ones, binding looks each name up in a list as
/// long as the statement, which made large batches quadratic (measured: 8,500 rows/s at 500
/// rows per statement).
fn insert_sql(table: &str, columns: &str, rows: usize, sqlite: bool) -> String {
    let width = columns.split(',').count();
    let mut sql = String::with_capacity(200 + rows * width * 6);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(columns);
    sql.push_str(") VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for k in 1..=width {
            if k > 1 {
                sql.push(',');
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(i * width + k).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// What a stored row's emission depends on besides its quantity and its period within the
/// financial year: the rows of one import alike in all of these are kept as one line of
/// `activity_sums`, and the footprint converts the line once instead of every row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActivityGroup {
    pub import_id: i64,
    organisation: String,
    site: Option<String>,
    year: i32,
    activity: String,
    unit: String,
    edition: Option<String>,
    category: Option<&'static str>,
    market_factor: Option<String>,
}

impl ActivityGroup {
    /// The group of `a`, a row of import `import_id`.
    pub fn of(import_id: i64, a: &Activity) -> Self {
        Self {
            import_id,
            organisation: a.organisation.to_string(),
            site: a.site.clone(),
            year: a.financial_year().0,
            activity: a.activity.clone(),
            unit: a.unit.to_string(),
            edition: a.edition.clone(),
            category: a.category.map(|c| c.slug()),
            market_factor: a.market_factor.clone(),
        }
    }
}

/// The running sum of one group's rows.
struct SumLine {
    /// `None` once the exact sum no longer fits in a decimal.
    quantity: Option<Decimal>,
    /// The quantity largest in size, and the largest scale among the rows.
    largest: Decimal,
    scale: u32,
    rows: u64,
    first_row: u64,
    period_start: NaiveDate,
    period_end: NaiveDate,
}

/// Sum lines being built, one per group, in the order their first rows came.
#[derive(Default)]
pub(crate) struct Sums {
    lines: HashMap<ActivityGroup, usize>,
    ordered: Vec<(ActivityGroup, SumLine)>,
}

impl Sums {
    pub(crate) fn add(&mut self, import_id: i64, a: &Activity) {
        let group = ActivityGroup::of(import_id, a);
        let q = a.quantity;
        match self.lines.get(&group) {
            Some(&i) => {
                let line = &mut self.ordered[i].1;
                // An exact sum keeps the larger scale of its operands; a smaller one means
                // the decimal had to round, and the rows are then read one by one.
                let scale = line.scale.max(q.scale());
                line.quantity = line
                    .quantity
                    .and_then(|s| s.checked_add(q))
                    .filter(|s| s.scale() == scale);
                line.scale = scale;
                if q.abs() > line.largest {
                    line.largest = q.abs();
                }
                line.rows += 1;
                line.first_row = line.first_row.min(a.origin.row);
                line.period_start = line.period_start.min(a.period_start);
                line.period_end = line.period_end.max(a.period_end);
            }
            None => {
                self.lines.insert(group.clone(), self.ordered.len());
                self.ordered.push((
                    group,
                    SumLine {
                        quantity: Some(q),
                        largest: q.abs(),
                        scale: q.scale(),
                        rows: 1,
                        first_row: a.origin.row,
                        period_start: a.period_start,
                        period_end: a.period_end,
                    },
                ));
            }
        }
    }

    /// Writes the lines in `tx`.
    pub(crate) async fn write(
        self,
        tx: &mut Transaction<'static, Any>,
        sqlite: bool,
    ) -> Result<()> {
        let mut lines = self.ordered.into_iter().peekable();
        while lines.peek().is_some() {
            let batch: Vec<_> = lines.by_ref().take(SUMS_PER_INSERT).collect();
            let sql = insert_sql("activity_sums", SUM_COLUMNS, batch.len(), sqlite);
            // Only placeholders are generated here; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (g, line) in batch {
                let largest = at_scale(line.largest, line.scale);
                // Without the largest quantity at the rows' scale the line cannot promise
                // exactness: it is kept without a sum, so its rows are read.
                let quantity = line.quantity.filter(|_| largest.is_some());
                q = q
                    .bind(g.import_id)
                    .bind(g.organisation)
                    .bind(g.site)
                    .bind(i64::from(g.year))
                    .bind(line.period_start.to_string())
                    .bind(line.period_end.to_string())
                    .bind(g.activity)
                    .bind(g.unit)
                    .bind(g.edition)
                    .bind(g.category)
                    .bind(g.market_factor)
                    .bind(quantity.map(|d| d.to_string()))
                    .bind(largest.unwrap_or(line.largest).to_string())
                    .bind(line.rows as i64)
                    .bind(line.first_row as i64);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// `d` written with `scale` decimals (`5` at scale 3 is `5.000`), if that fits in a decimal.
fn at_scale(d: Decimal, scale: u32) -> Option<Decimal> {
    let up = scale.checked_sub(d.scale())?;
    let mantissa = d.mantissa().checked_mul(10i128.checked_pow(up)?)?;
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

/// Builds `activity_sums` anew from every stored row, in `tx`: when the table is created
/// (databases with rows from before it) and after a restore (backups leave derived data out).
pub(crate) async fn rebuild_sums(tx: &mut Transaction<'static, Any>, sqlite: bool) -> Result<()> {
    sqlx::query("DELETE FROM activity_sums")
        .execute(&mut **tx)
        .await?;
    let mut sums = Sums::default();
    {
        let mut rows = sqlx::query(ROWS_SQL)
            .bind(-1i64)
            .bind(String::new())
            .fetch(&mut **tx);
        while let Some(r) = rows.try_next().await? {
            let import_id: i64 = r.try_get("import_id")?;
            sums.add(import_id, &activity_from_row(&r)?);
        }
    }
    sums.write(tx, sqlite).await
}

/// Stored rows with their import's file, optionally of one financial year (`$1`, -1 for all)
/// and organisation (`$2`, '' for all), oldest first.
const ROWS_SQL: &str = "SELECT a.import_id, a.row_number, i.file, a.organisation, a.site, a.period_start, a.period_end, a.activity, a.quantity, a.unit, \
                   a.edition, a.category, a.market_factor, a.notes \
                   FROM activities a JOIN activity_imports i ON i.id = a.import_id \
                   WHERE ($1 < 0 OR a.year = $1) AND ($2 = '' OR a.organisation = $2) ORDER BY a.id";

/// One line of `activity_sums` as the footprint reads it.
#[derive(Debug, Clone)]
pub struct ActivitySum {
    pub group: ActivityGroup,
    /// The line as one row whose quantity is the sum of its rows' (its origin is the first
    /// of them, its period spans theirs); `None` when the exact sum did not fit in a decimal.
    pub sum: Option<Activity>,
    /// The quantity largest in size among the rows, at the largest scale among them.
    pub largest: Decimal,
    /// How many stored rows the line stands for.
    pub rows: u64,
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
    sums: Sums,
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
            sums: Sums::default(),
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
        self.for_each_activity_of_import(year, organisation, |_, a| f(a))
            .await
    }

    /// As [`Store::for_each_activity`], with each row's import (for its [`ActivityGroup`]).
    pub async fn for_each_activity_of_import(
        &self,
        year: Option<FinancialYear>,
        organisation: Option<&OdsCode>,
        mut f: impl FnMut(i64, Activity) -> Result<()>,
    ) -> Result<u64> {
        let mut rows = sqlx::query(ROWS_SQL)
            .bind(year.map_or(-1, |y| i64::from(y.0)))
            .bind(organisation.map_or(String::new(), |o| o.to_string()))
            .fetch(self.pool());
        let mut n = 0;
        while let Some(r) = rows.try_next().await? {
            f(r.try_get("import_id")?, activity_from_row(&r)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Streams the sum lines of stored activity (optionally of one financial year and
    /// organisation) to `f`, in the order of their imports and first rows; returns how many
    /// rows they stand for. A few thousand lines stand for a million rows of monthly returns,
    /// which is what makes the stored footprint as fast as the footprint of a file.
    pub async fn for_each_activity_sum(
        &self,
        year: Option<FinancialYear>,
        organisation: Option<&OdsCode>,
        mut f: impl FnMut(ActivitySum) -> Result<()>,
    ) -> Result<u64> {
        let sql = "SELECT s.import_id, i.file, s.first_row, s.organisation, s.site, s.year, s.period_start, s.period_end, s.activity, \
                   s.unit, s.edition, s.category, s.market_factor, s.quantity, s.largest, s.row_count \
                   FROM activity_sums s JOIN activity_imports i ON i.id = s.import_id \
                   WHERE ($1 < 0 OR s.year = $1) AND ($2 = '' OR s.organisation = $2) ORDER BY s.id";
        let mut lines = sqlx::query(sql)
            .bind(year.map_or(-1, |y| i64::from(y.0)))
            .bind(organisation.map_or(String::new(), |o| o.to_string()))
            .fetch(self.pool());
        let mut rows = 0;
        let mut file: Option<(i64, std::sync::Arc<str>)> = None;
        while let Some(r) = lines.try_next().await? {
            let import_id: i64 = r.try_get("import_id")?;
            let source = match &file {
                Some((id, name)) if *id == import_id => name.clone(),
                _ => {
                    let name: std::sync::Arc<str> = r.try_get::<String, _>("file")?.into();
                    file = Some((import_id, name.clone()));
                    name
                }
            };
            let line = sum_from_row(&r, import_id, source)?;
            rows += line.rows;
            f(line)?;
        }
        Ok(rows)
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
        self.sums.add(self.import_id, &a);
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
        let sql = insert_sql("activities", COLUMNS, self.buffer.len(), self.sqlite);
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
        std::mem::take(&mut self.sums)
            .write(&mut self.tx, self.sqlite)
            .await?;
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

fn sum_from_row(
    r: &sqlx::any::AnyRow,
    import_id: i64,
    source: std::sync::Arc<str>,
) -> Result<ActivitySum> {
    let text = |col: &str| -> Result<String> { Ok(r.try_get::<String, _>(col)?) };
    let optional = |col: &str| -> Result<Option<String>> { Ok(r.try_get(col)?) };
    let date = |col: &str| -> Result<NaiveDate> {
        text(col)?
            .parse()
            .map_err(|e| corrupt("activity sum date", e))
    };
    let decimal = |s: String| -> Result<Decimal> {
        s.parse().map_err(|e| corrupt("activity sum quantity", e))
    };
    let (organisation, unit) = (text("organisation")?, text("unit")?);
    let category: Option<NhsCategory> = optional("category")?
        .map(|c| c.parse().map_err(|e| corrupt("activity sum category", e)))
        .transpose()?;
    let activity = Activity {
        origin: RowRef {
            source,
            row: r.try_get::<i64, _>("first_row")? as u64,
        },
        organisation: OdsCode::parse(&organisation)
            .map_err(|e| corrupt("activity sum organisation", e))?,
        site: optional("site")?,
        period_start: date("period_start")?,
        period_end: date("period_end")?,
        activity: text("activity")?,
        quantity: Decimal::ZERO,
        unit: unit.parse().map_err(|e| corrupt("activity sum unit", e))?,
        edition: optional("edition")?,
        category,
        market_factor: optional("market_factor")?,
        notes: None,
    };
    let group = ActivityGroup::of(import_id, &activity);
    let sum = optional("quantity")?
        .map(decimal)
        .transpose()?
        .map(|quantity| Activity {
            quantity,
            ..activity
        });
    Ok(ActivitySum {
        group,
        sum,
        largest: decimal(text("largest")?)?,
        rows: r.try_get::<i64, _>("row_count")? as u64,
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
