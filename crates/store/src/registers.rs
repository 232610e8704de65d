//! Register records (estates sites, fleet vehicles, contracts…): added, edited, archived and
//! imported, each change in one transaction with its audit entry. A file is imported whole or
//! not at all. Values are kept as a JSON object of canonical text and read back through the
//! register's own parser, so a stored record is always a valid one.
//!
//! Register figures that feed plan metrics are computed on read ([`Store::register_data_points`]),
//! like footprints: an edit changes the metric's history at once. Permission is checked by
//! the caller with `greenplan_core::access`.

use crate::revisions::{self, Revised};
use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::activity::Activity;
use greenplan_core::period::{FinancialYear, Period};
use greenplan_core::plan::DataPoint;
use greenplan_core::register::{self, MetricPeriod, Record, Register};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

/// Who the example records shipped with the built-in plan are stored by.
pub const EXAMPLE_DATA_ACTOR: &str = "greenplan (example data)";

/// A stored record with its history stamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: i64,
    pub record: Record,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub archived_at: Option<i64>,
    /// The record's revision (`crate::revisions`): an edit drawn from this copy sends it back.
    pub revision: i64,
}

/// What the audit trail shows of a record.
#[derive(Serialize)]
struct Audited<'a> {
    register: &'a str,
    values: BTreeMap<&'a str, &'a str>,
}

fn body(record: &Record) -> serde_json::Value {
    let values: BTreeMap<&str, &str> = record.values().collect();
    serde_json::to_value(&values).unwrap_or_default()
}

fn audited(record: &Record) -> serde_json::Value {
    serde_json::to_value(Audited {
        register: record.register.slug,
        values: record.values().collect(),
    })
    .unwrap_or_default()
}

/// Reads a stored body back through the register's parser.
fn parse_body(register: &'static Register, text: &str) -> Result<Record> {
    let values: BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|e| corrupt("register record", e))?;
    register
        .parse(|k| values.get(k).map(String::as_str))
        .map_err(|errors| {
            corrupt(
                "register record",
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
}

fn organisation_of(record: &Record) -> Result<String> {
    record
        .organisation()
        .map(|o| o.to_string())
        .ok_or_else(|| StoreError::Rejected("the record names no organisation".into()))
}

/// A query of whole records: the columns [`stored`] reads, then `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, body, created_at, created_by, updated_at, updated_by, archived_at, revision FROM register_records ",
            $rest
        )
    };
}

fn stored(register: &'static Register, r: &sqlx::any::AnyRow) -> Result<StoredRecord> {
    Ok(StoredRecord {
        id: r.try_get("id")?,
        record: parse_body(register, &r.try_get::<String, _>("body")?)?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
        archived_at: r.try_get("archived_at")?,
        revision: r.try_get("revision")?,
    })
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    record: &Record,
) -> Result<i64> {
    let organisation = organisation_of(record)?;
    let at = now();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO register_records (register, organisation, body, created_at, created_by, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $4, $5) RETURNING id",
    )
    .bind(record.register.slug)
    .bind(&organisation)
    .bind(body(record).to_string())
    .bind(at)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| unknown_organisation(e, &organisation))?;
    let revision = audit::record_returning_id(
        tx,
        actor,
        action,
        "register-record",
        &id.to_string(),
        Some(&organisation),
        None,
        Some(&audited(record)),
    )
    .await?;
    revisions::set(tx, Revised::RegisterRecord, &id.to_string(), revision).await?;
    Ok(id)
}

/// A foreign-key failure on the organisation, said in words.
fn unknown_organisation(e: sqlx::Error, organisation: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.message().to_lowercase().contains("foreign key") => {
            StoreError::Rejected(format!(
                "there is no organisation `{organisation}` in the plan: use the ODS code of one of the plan's organisations"
            ))
        }
        _ => e.into(),
    }
}

impl Store {
    /// The records of a register, oldest first; archived ones only when asked for.
    pub async fn register_records(
        &self,
        register: &'static Register,
        include_archived: bool,
    ) -> Result<Vec<StoredRecord>> {
        let rows = sqlx::query(select!(
            "WHERE register = $1 AND ($2 = 1 OR archived_at IS NULL) ORDER BY id"
        ))
        .bind(register.slug)
        .bind(i64::from(include_archived))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| stored(register, r)).collect()
    }

    /// One record of a register (archived or not).
    pub async fn register_record(
        &self,
        register: &'static Register,
        id: i64,
    ) -> Result<Option<StoredRecord>> {
        let row = sqlx::query(select!("WHERE register = $1 AND id = $2"))
            .bind(register.slug)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| stored(register, &r)).transpose()
    }

    /// Adds a record; returns its id.
    pub async fn add_register_record(&self, actor: &str, record: &Record) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert(&mut tx, actor, "add", record).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a live record's values (its register stays), keeping the before and after in
    /// the audit trail. `revision` is the one the edit was drawn from
    /// ([`Store::revision`]): when the record has changed since, nothing is written and the
    /// answer is [`StoreError::Stale`] with the changes made since.
    pub async fn update_register_record(
        &self,
        actor: &str,
        id: i64,
        revision: i64,
        record: &Record,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = live_record(&mut tx, record.register, id).await?;
        revisions::check(&mut tx, Revised::RegisterRecord, &id.to_string(), revision).await?;
        let organisation = organisation_of(record)?;
        sqlx::query("UPDATE register_records SET organisation = $1, body = $2, updated_at = $3, updated_by = $4 WHERE id = $5")
            .bind(&organisation)
            .bind(body(record).to_string())
            .bind(now())
            .bind(actor)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unknown_organisation(e, &organisation))?;
        revisions::audited_change(
            &mut tx,
            Revised::RegisterRecord,
            &id.to_string(),
            revision,
            actor,
            "edit",
            Some(&organisation),
            Some(&audited(&before)),
            Some(&audited(record)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Archives a record: it leaves lists and metrics but stays in the database and the trail.
    /// `revision` as for [`Store::update_register_record`].
    pub async fn archive_register_record(
        &self,
        actor: &str,
        register: &'static Register,
        id: i64,
        revision: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = live_record(&mut tx, register, id).await?;
        revisions::check(&mut tx, Revised::RegisterRecord, &id.to_string(), revision).await?;
        sqlx::query("UPDATE register_records SET archived_at = $1, archived_by = $2 WHERE id = $3")
            .bind(now())
            .bind(actor)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let organisation = organisation_of(&before)?;
        revisions::audited_change(
            &mut tx,
            Revised::RegisterRecord,
            &id.to_string(),
            revision,
            actor,
            "archive",
            Some(&organisation),
            Some(&audited(&before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds every record of a file in one transaction, each with its audit entry: all are
    /// stored or none.
    pub async fn import_register_records(
        &self,
        actor: &str,
        records: &[Record],
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(records.len());
        for record in records {
            ids.push(insert(&mut tx, actor, "import", record).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// True when no register holds a record yet (the example data is loaded only then).
    pub async fn registers_are_empty(&self) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM register_records")
            .fetch_one(self.pool())
            .await?;
        Ok(n == 0)
    }

    /// Live records of every register, by register.
    pub async fn live_register_records(&self) -> Result<Vec<(&'static Register, Vec<Record>)>> {
        let mut out = Vec::new();
        for register in register::ALL.iter().copied() {
            let records = self
                .register_records(register, false)
                .await?
                .into_iter()
                .map(|s| s.record)
                .collect();
            out.push((register, records));
        }
        Ok(out)
    }

    /// The financial-year figures of every register that feed a metric of the plan, as the
    /// plan's data points (each noting the register and how it was worked out).
    pub async fn register_data_points(&self, metric_ids: &[&str]) -> Result<Vec<DataPoint>> {
        let mut points = Vec::new();
        for (register, records) in self.live_register_records().await? {
            points.extend(register_points(register, &records, metric_ids));
        }
        Ok(points)
    }

    /// Activity rows derived from register records (fleet mileage and fuel, waste tonnes and
    /// collection miles, spend by category), for the footprint; `year` keeps one financial
    /// year. Each row's origin names the register and record, so `--explain` traces a figure
    /// back to it.
    pub async fn register_footprint_activities(
        &self,
        year: Option<FinancialYear>,
    ) -> Result<Vec<Activity>> {
        let mut activities = Vec::new();
        for register in register::footprint::CARRYING_ACTIVITY {
            // The example records shipped with the built-in plan show what the registers
            // compute; they are illustrative, so they never count in a footprint a board
            // signs off.
            activities.extend(self.register_activities(register, false).await?);
        }
        activities.retain(|a| year.is_none_or(|y| a.financial_year() == y));
        Ok(activities)
    }

    /// The activity rows of one register's live records (none for a register that carries
    /// no activity); with `examples`, the example records' too (the register's own page
    /// shows what every record it lists comes to).
    pub async fn register_activities(
        &self,
        register: &'static Register,
        examples: bool,
    ) -> Result<Vec<Activity>> {
        let rows = |register: &'static Register| async move {
            Ok::<_, StoreError>(
                self.register_records(register, false)
                    .await?
                    .into_iter()
                    .filter(|s| examples || s.created_by != EXAMPLE_DATA_ACTOR)
                    .map(|s| (s.id, s.record))
                    .collect::<Vec<_>>(),
            )
        };
        use register::{fleet, footprint, procurement, waste};
        Ok(if std::ptr::eq(register, &fleet::MILEAGE) {
            let vehicles: Vec<Record> = rows(&fleet::VEHICLES)
                .await?
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            footprint::fleet(&vehicles, &rows(register).await?)
        } else if std::ptr::eq(register, &waste::STREAMS) {
            footprint::waste(&rows(register).await?)
        } else if std::ptr::eq(register, &procurement::SPEND) {
            footprint::spend(&rows(register).await?)
        } else {
            Vec::new()
        })
    }
}

/// A register's figures (financial years and quarters) that feed one of `metric_ids`.
pub fn register_points(
    register: &'static Register,
    records: &[Record],
    metric_ids: &[&str],
) -> Vec<DataPoint> {
    register
        .figures(records)
        .into_iter()
        .filter_map(|f| {
            let metric = f.plan_metric.filter(|m| metric_ids.contains(m))?;
            // Quarters join the history; only years are rated (DataPoint::is_register_quarter).
            let period = match f.period {
                MetricPeriod::Year(year) => Period::FinancialYear { year },
                MetricPeriod::Quarter(quarter) => Period::Quarter { quarter },
            };
            Some(DataPoint {
                metric: metric.to_string(),
                organisation: f.organisation.clone(),
                period,
                value: f.value,
                as_written: None,
                note: Some(format!(
                    "From the register \"{}\": {}.",
                    register.title, f.working
                )),
                reference: Some(format!(
                    "{}{}:{}",
                    register::POINT_REFERENCE,
                    register.slug,
                    f.key
                )),
            })
        })
        .collect()
}

async fn live_record(
    tx: &mut Transaction<'_, Any>,
    register: &'static Register,
    id: i64,
) -> Result<Record> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT body FROM register_records WHERE register = $1 AND id = $2 AND archived_at IS NULL",
    )
    .bind(register.slug)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let (text,) = row.ok_or_else(|| {
        StoreError::Rejected(format!(
            "there is no live record {id} in the register \"{}\"",
            register.title
        ))
    })?;
    parse_body(register, &text)
}
