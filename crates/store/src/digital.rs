//! Digital schemes of the green digital benefits framework: a scheme and its benefit and cost
//! lines, kept whole (the lines as JSON, decimals as text) and assessed on read by
//! `greenplan_core::digital`, so a new factor edition changes every scheme's figures at once.
//! Every change is audited with the scheme before and after.

use crate::revisions::{self, Revised};
use crate::{Result, Store, StoreError, audit, corrupt, now};
use chrono::NaiveDate;
use greenplan_core::digital::DigitalLine;
use greenplan_core::ods::OdsCode;
use serde::Serialize;
use sqlx::Row;

/// A digital scheme as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewDigitalScheme {
    pub organisation: OdsCode,
    pub name: String,
    pub description: String,
    pub start_date: NaiveDate,
    pub lines: Vec<DigitalLine>,
}

/// A stored digital scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigitalScheme {
    pub id: i64,
    pub organisation: OdsCode,
    pub name: String,
    pub description: String,
    pub start_date: NaiveDate,
    pub lines: Vec<DigitalLine>,
    pub created_by: String,
    pub updated_at: i64,
    /// The scheme's revision (`crate::revisions`); not part of what the audit trail shows.
    #[serde(skip)]
    pub revision: i64,
}

fn scheme_from_row(r: &sqlx::any::AnyRow) -> Result<DigitalScheme> {
    let lines: String = r.try_get("lines")?;
    let start: String = r.try_get("start_date")?;
    Ok(DigitalScheme {
        id: r.try_get("id")?,
        organisation: OdsCode::parse(&r.try_get::<String, _>("organisation")?)
            .map_err(|e| corrupt("digital scheme organisation", e))?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        start_date: start
            .parse()
            .map_err(|e| corrupt("digital scheme start date", e))?,
        lines: serde_json::from_str(&lines).map_err(|e| corrupt("digital scheme lines", e))?,
        created_by: r.try_get("created_by")?,
        updated_at: r.try_get("updated_at")?,
        revision: r.try_get("revision")?,
    })
}

fn check(new: &NewDigitalScheme) -> Result<()> {
    if new.name.trim().is_empty() {
        return Err(StoreError::Rejected("Give the scheme a name.".into()));
    }
    for line in &new.lines {
        line.check()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
    }
    Ok(())
}

const COLUMNS: &str =
    "id, organisation, name, description, start_date, lines, created_by, updated_at, revision";

impl Store {
    /// Adds a digital scheme, audited.
    pub async fn add_digital_scheme(&self, actor: &str, new: &NewDigitalScheme) -> Result<i64> {
        check(new)?;
        let lines = serde_json::to_string(&new.lines).map_err(|e| corrupt("scheme lines", e))?;
        let mut tx = self.begin_write().await?;
        let at = now();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO digital_schemes (organisation, name, description, start_date, lines, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(new.organisation.as_str())
        .bind(new.name.trim())
        .bind(new.description.trim())
        .bind(new.start_date.to_string())
        .bind(lines)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let after = serde_json::to_value(new).map_err(|e| corrupt("scheme", e))?;
        let revision = audit::record_returning_id(
            &mut tx,
            actor,
            "add digital scheme",
            "digital-scheme",
            &id.to_string(),
            Some(new.organisation.as_str()),
            None,
            Some(&after),
        )
        .await?;
        revisions::set(&mut tx, Revised::DigitalScheme, &id.to_string(), revision).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a scheme's details and lines whole, audited with before and after. The
    /// organisation does not change. `revision` is the one the edit was drawn from: when the
    /// scheme has changed since, nothing is written ([`StoreError::Stale`]).
    pub async fn update_digital_scheme(
        &self,
        actor: &str,
        id: i64,
        revision: i64,
        new: &NewDigitalScheme,
    ) -> Result<()> {
        check(new)?;
        let before = self
            .digital_scheme(id)
            .await?
            .ok_or_else(|| StoreError::Rejected(format!("There is no digital scheme {id}.")))?;
        if before.organisation != new.organisation {
            return Err(StoreError::Rejected(
                "A scheme stays with its organisation: add a new scheme for another.".into(),
            ));
        }
        let lines = serde_json::to_string(&new.lines).map_err(|e| corrupt("scheme lines", e))?;
        let mut tx = self.begin_write().await?;
        revisions::check(&mut tx, Revised::DigitalScheme, &id.to_string(), revision).await?;
        sqlx::query(
            "UPDATE digital_schemes SET name = $1, description = $2, start_date = $3, lines = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(new.name.trim())
        .bind(new.description.trim())
        .bind(new.start_date.to_string())
        .bind(lines)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let before_json = serde_json::to_value(&before).map_err(|e| corrupt("scheme", e))?;
        let after = serde_json::to_value(new).map_err(|e| corrupt("scheme", e))?;
        revisions::audited_change(
            &mut tx,
            Revised::DigitalScheme,
            &id.to_string(),
            revision,
            actor,
            "edit digital scheme",
            Some(new.organisation.as_str()),
            Some(&before_json),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One scheme.
    pub async fn digital_scheme(&self, id: i64) -> Result<Option<DigitalScheme>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM digital_schemes WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(scheme_from_row).transpose()
    }

    /// Every scheme, by name.
    pub async fn digital_schemes(&self) -> Result<Vec<DigitalScheme>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM digital_schemes ORDER BY name, id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scheme_from_row).collect()
    }
}
