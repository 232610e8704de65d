//! Reporting periods and the returns received for them. A return is recorded in the same
//! transaction as the import that carries it, so a return never points at data that is not
//! there; approving one is audited like any other change.

use crate::{ActivityImport, Result, Store, StoreError, audit, corrupt, now};
use chrono::NaiveDate;
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::Quarter;
use greenplan_core::returns::{ReportingPeriod, Submission};
use serde::Serialize;
use sqlx::Row;

/// A return as stored: which import carried an organisation's data for a quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnRecord {
    pub id: i64,
    pub quarter: Quarter,
    pub organisation: OdsCode,
    pub import_id: i64,
    pub file: String,
    pub row_count: i64,
    pub kgco2e: Decimal,
    pub submitted_by: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

impl ReturnRecord {
    pub fn submission(&self) -> Submission {
        Submission {
            id: self.id,
            organisation: self.organisation.clone(),
            submitted_on: day_of(self.submitted_at),
            approved: self.approved_at.is_some(),
        }
    }
}

/// The UTC day of a Unix time.
pub fn day_of(seconds: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

impl ActivityImport {
    /// Records, inside this import's transaction, that it is `organisation`'s return for
    /// `quarter` (`rows` of its rows, adding `kgco2e`). The period must be open.
    pub async fn record_return(
        &mut self,
        quarter: Quarter,
        organisation: &OdsCode,
        rows: u64,
        kgco2e: Decimal,
    ) -> Result<()> {
        let open: Option<(String,)> =
            sqlx::query_as("SELECT quarter FROM reporting_periods WHERE quarter = $1")
                .bind(quarter.to_string())
                .fetch_optional(&mut *self.tx)
                .await?;
        if open.is_none() {
            return Err(StoreError::Rejected(format!(
                "{quarter} is not open for returns: the ICB opens reporting periods"
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO returns (quarter, organisation, import_id, row_count, kgco2e, submitted_by, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(quarter.to_string())
        .bind(organisation.as_str())
        .bind(self.import_id)
        .bind(rows as i64)
        .bind(kgco2e.normalize().to_string())
        .bind(self.actor.clone())
        .bind(now())
        .fetch_one(&mut *self.tx)
        .await?;
        let after = serde_json::json!({
            "quarter": quarter.to_string(), "import": self.import_id, "rows": rows,
            "kgco2e": kgco2e.normalize().to_string(),
        });
        let actor = self.actor.clone();
        audit::record(
            &mut self.tx,
            &actor,
            "submit",
            "return",
            &id.to_string(),
            Some(organisation.as_str()),
            None,
            Some(&after),
        )
        .await
    }
}

const RETURN_COLUMNS: &str = "r.id, r.quarter, r.organisation, r.import_id, i.file, r.row_count, r.kgco2e, r.submitted_by, r.submitted_at, r.approved_by, r.approved_at";

impl Store {
    /// Opens `period` for returns.
    pub async fn open_reporting_period(&self, actor: &str, period: &ReportingPeriod) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let quarter = period.quarter.to_string();
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT quarter FROM reporting_periods WHERE quarter = $1")
                .bind(&quarter)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() {
            return Err(StoreError::Rejected(format!("{quarter} is already open")));
        }
        sqlx::query(
            "INSERT INTO reporting_periods (quarter, due_on, opened_by, opened_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&quarter)
        .bind(period.due_on.to_string())
        .bind(actor)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({"quarter": quarter, "due_on": period.due_on.to_string()});
        audit::record(
            &mut tx,
            actor,
            "open",
            "reporting-period",
            &quarter,
            None,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every reporting period, the latest quarter first.
    pub async fn reporting_periods(&self) -> Result<Vec<ReportingPeriod>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT quarter, due_on FROM reporting_periods")
                .fetch_all(self.pool())
                .await?;
        let decoded = rows.into_iter().map(|(q, due)| {
            let period = (|| -> Result<ReportingPeriod> {
                Ok(ReportingPeriod {
                    quarter: Quarter::parse(&q).map_err(|e| corrupt("reporting period", e))?,
                    due_on: greenplan_core::period::parse_date(&due)
                        .map_err(|e| corrupt("reporting period due date", e))?,
                })
            })();
            (q, period)
        });
        let mut periods = self.keep_all("reporting_periods", decoded)?;
        periods.sort_by_key(|p| std::cmp::Reverse(p.quarter));
        Ok(periods)
    }

    /// The returns received for `quarter`, oldest first.
    pub async fn returns_for(&self, quarter: Quarter) -> Result<Vec<ReturnRecord>> {
        let sql = format!(
            "SELECT {RETURN_COLUMNS} FROM returns r JOIN activity_imports i ON i.id = r.import_id WHERE r.quarter = $1 ORDER BY r.submitted_at, r.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(quarter.to_string())
            .fetch_all(self.pool())
            .await?;
        let mut decoded = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            decoded.push((id.to_string(), return_from_row(r)));
        }
        self.keep_all("returns", decoded)
    }

    /// One return.
    pub async fn return_record(&self, id: i64) -> Result<Option<ReturnRecord>> {
        let sql = format!(
            "SELECT {RETURN_COLUMNS} FROM returns r JOIN activity_imports i ON i.id = r.import_id WHERE r.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(return_from_row).transpose()
    }

    /// Approves a return. Permission is checked by the caller (`Access::can_run_the_plan`).
    pub async fn approve_return(&self, actor: &str, id: i64) -> Result<ReturnRecord> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT organisation, approved_at FROM returns WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (organisation, approved_at) =
            row.ok_or_else(|| StoreError::Rejected(format!("there is no return {id}")))?;
        if approved_at.is_some() {
            return Err(StoreError::Rejected(format!(
                "return {id} is already approved"
            )));
        }
        let at = now();
        sqlx::query("UPDATE returns SET approved_by = $1, approved_at = $2 WHERE id = $3")
            .bind(actor)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "approve",
            "return",
            &id.to_string(),
            Some(&organisation),
            Some(&serde_json::json!({"approved": false})),
            Some(&serde_json::json!({"approved": true})),
        )
        .await?;
        tx.commit().await?;
        self.return_record(id)
            .await?
            .ok_or_else(|| StoreError::Rejected(format!("there is no return {id}")))
    }
}

fn return_from_row(r: &sqlx::any::AnyRow) -> Result<ReturnRecord> {
    let quarter: String = r.try_get("quarter")?;
    let organisation: String = r.try_get("organisation")?;
    let kgco2e: String = r.try_get("kgco2e")?;
    Ok(ReturnRecord {
        id: r.try_get("id")?,
        quarter: Quarter::parse(&quarter).map_err(|e| corrupt("return", e))?,
        organisation: OdsCode::parse(&organisation).map_err(|e| corrupt("return", e))?,
        import_id: r.try_get("import_id")?,
        file: r.try_get("file")?,
        row_count: r.try_get("row_count")?,
        kgco2e: kgco2e.parse().map_err(|e| corrupt("return", e))?,
        submitted_by: r.try_get("submitted_by")?,
        submitted_at: r.try_get("submitted_at")?,
        approved_by: r.try_get("approved_by")?,
        approved_at: r.try_get("approved_at")?,
    })
}
