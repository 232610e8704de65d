//! What the governance reports read and keep: which organisations have made their data
//! return for a period, and published reports, stored once and never changed.
//!
//! The store does not know the report model: a published report is its JSON, with the
//! figures it was computed from frozen inside, a SHA-256 of that JSON to show it is intact,
//! and the data revision it was published at.

use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::ods::OdsCode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Activity received from one organisation for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnReceived {
    pub organisation: OdsCode,
    /// When the first file with rows for the period was imported (Unix seconds).
    pub first_imported_at: i64,
    pub rows: u64,
}

/// A report to publish.
#[derive(Debug, Clone)]
pub struct NewPublishedReport {
    pub kind: String,
    pub period: String,
    pub organisation: Option<String>,
    pub title: String,
    pub model_json: String,
}

/// A published report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedReport {
    pub id: i64,
    pub kind: String,
    pub period: String,
    pub organisation: Option<String>,
    pub title: String,
    pub sha256: String,
    pub published_by: String,
    /// Unix seconds.
    pub published_at: i64,
    pub data_revision: i64,
    /// Empty in listings; the frozen model when one report is read.
    #[serde(skip)]
    pub model_json: String,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// Organisations with activity rows for any part of `from..=to` (dates `YYYY-MM-DD`),
    /// with when their first such file was imported.
    pub async fn returns_received(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ReturnReceived>> {
        let rows = sqlx::query(
            "SELECT a.organisation, MIN(i.imported_at) AS first_at, COUNT(*) AS n \
             FROM activities a JOIN activity_imports i ON i.id = a.import_id \
             WHERE a.period_start <= $1 AND a.period_end >= $2 \
             GROUP BY a.organisation ORDER BY a.organisation",
        )
        .bind(to.to_string())
        .bind(from.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let org: String = r.try_get("organisation")?;
                Ok(ReturnReceived {
                    organisation: OdsCode::parse(&org).map_err(|e| corrupt("return", e))?,
                    first_imported_at: r.try_get("first_at")?,
                    rows: r.try_get::<i64, _>("n")? as u64,
                })
            })
            .collect()
    }

    /// Publishes a report: stores its model, audited, in one transaction. Returns its id.
    pub async fn publish_report(&self, actor: &str, report: &NewPublishedReport) -> Result<i64> {
        if serde_json::from_str::<serde_json::Value>(&report.model_json).is_err() {
            return Err(StoreError::Rejected(
                "the report model is not valid JSON".into(),
            ));
        }
        let sha = sha256_hex(&report.model_json);
        let mut tx = self.begin_write().await?;
        let (revision,): (i64,) = sqlx::query_as("SELECT value FROM data_revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO published_reports (kind, period, organisation, title, model_json, sha256, published_by, published_at, data_revision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&report.kind)
        .bind(&report.period)
        .bind(report.organisation.clone())
        .bind(&report.title)
        .bind(&report.model_json)
        .bind(&sha)
        .bind(actor)
        .bind(now())
        .bind(revision)
        .fetch_one(&mut *tx)
        .await?;
        let after = serde_json::json!({
            "kind": report.kind, "period": report.period, "organisation": report.organisation,
            "title": report.title, "sha256": sha, "data_revision": revision,
        });
        audit::record(
            &mut tx,
            actor,
            "publish",
            "report",
            &id.to_string(),
            report.organisation.as_deref(),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Published reports, newest first, without their models.
    pub async fn published_reports(&self) -> Result<Vec<PublishedReport>> {
        let rows = sqlx::query(
            "SELECT id, kind, period, organisation, title, sha256, published_by, published_at, data_revision, '' AS model_json \
             FROM published_reports ORDER BY id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(published_from_row).collect()
    }

    /// One published report with its frozen model; checks the model is as published.
    pub async fn published_report(&self, id: i64) -> Result<Option<PublishedReport>> {
        let row = sqlx::query(
            "SELECT id, kind, period, organisation, title, sha256, published_by, published_at, data_revision, model_json \
             FROM published_reports WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(report) = row.as_ref().map(published_from_row).transpose()? else {
            return Ok(None);
        };
        if sha256_hex(&report.model_json) != report.sha256 {
            return Err(corrupt(
                "published report",
                format!("report {id} does not match the checksum it was published with"),
            ));
        }
        Ok(Some(report))
    }
}

fn published_from_row(r: &sqlx::any::AnyRow) -> Result<PublishedReport> {
    Ok(PublishedReport {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        period: r.try_get("period")?,
        organisation: r.try_get("organisation")?,
        title: r.try_get("title")?,
        sha256: r.try_get("sha256")?,
        published_by: r.try_get("published_by")?,
        published_at: r.try_get("published_at")?,
        data_revision: r.try_get("data_revision")?,
        model_json: r.try_get("model_json")?,
    })
}
