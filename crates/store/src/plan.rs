//! Storing and loading the plan, and the values recorded against its metrics.

use crate::{Result, Store, StoreError, corrupt, now};
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::Period;
use greenplan_core::plan::*;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{Any, Row, Transaction};

/// What `init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitOutcome {
    /// The plan was loaded.
    Loaded {
        actions: usize,
        metrics: usize,
        values: usize,
    },
    /// This plan was already there; nothing changed.
    AlreadyLoaded,
}

/// The plan's records that are shown but not queried by column live in `plan_records`.
const PLACES: &str = "place";
const SHIFTS: &str = "shift";
const POLICIES: &str = "guiding-policy";
const SDGS: &str = "sdg";
const CASE_STUDIES: &str = "case-study";
const VISIONS: &str = "vision";

/// A stored value of a metric, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricValue {
    pub metric: String,
    pub organisation: Option<OdsCode>,
    pub period: Period,
    pub value: Decimal,
    pub as_written: Option<String>,
    pub note: Option<String>,
    pub reference: Option<String>,
    /// `plan` for figures quoted by the plan document, otherwise who or what recorded it.
    pub origin: String,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt("json", e))
}

fn from_json<T: DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

impl Store {
    /// Loads a plan into the database. Idempotent: loading the plan that is already there
    /// changes nothing. A database holds one plan.
    pub async fn init_plan(&self, plan: &Plan) -> Result<InitOutcome> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(String,)> = sqlx::query_as("SELECT id FROM plans")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((id,)) = existing {
            return if id == plan.info.id {
                Ok(InitOutcome::AlreadyLoaded)
            } else {
                Err(StoreError::OtherPlanLoaded {
                    existing: id,
                    wanted: plan.info.id.clone(),
                })
            };
        }
        sqlx::query("INSERT INTO plans (id, title, system_name, icb, first_year, last_year, body, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&plan.info.id)
            .bind(&plan.info.title)
            .bind(&plan.info.system)
            .bind(plan.info.icb.as_str())
            .bind(i64::from(plan.info.first_year.0))
            .bind(i64::from(plan.info.last_year.0))
            .bind(json(&plan.info)?)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        for (i, o) in plan.organisations.iter().enumerate() {
            insert_organisation(&mut tx, o, i).await?;
        }
        for (i, a) in plan.areas.iter().enumerate() {
            sqlx::query("INSERT INTO areas (code, position, body) VALUES ($1, $2, $3)")
                .bind(&a.code)
                .bind(i as i64)
                .bind(json(a)?)
                .execute(&mut *tx)
                .await?;
        }
        for (i, m) in plan.metrics.iter().enumerate() {
            sqlx::query("INSERT INTO metrics (id, area, organisation, position, body) VALUES ($1, $2, $3, $4, $5)")
                .bind(&m.id)
                .bind(m.area.clone())
                .bind(m.organisation.as_ref().map(|o| o.to_string()))
                .bind(i as i64)
                .bind(json(m)?)
                .execute(&mut *tx)
                .await?;
        }
        for (i, a) in plan.actions.iter().enumerate() {
            sqlx::query("INSERT INTO actions (id, area, status, due_end, position, body) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&a.id)
                .bind(&a.area)
                .bind(a.status.slug())
                .bind(a.delivery.period.end().map(|d| d.to_string()))
                .bind(i as i64)
                .bind(json(a)?)
                .execute(&mut *tx)
                .await?;
        }
        insert_records(
            &mut tx,
            PLACES,
            plan.places.iter().map(|p| (p.name.clone(), p)),
        )
        .await?;
        insert_records(
            &mut tx,
            SHIFTS,
            plan.shifts.iter().map(|p| (p.code.clone(), p)),
        )
        .await?;
        insert_records(
            &mut tx,
            POLICIES,
            plan.guiding_policies.iter().map(|p| (p.code.clone(), p)),
        )
        .await?;
        insert_records(
            &mut tx,
            SDGS,
            plan.sdgs.iter().map(|p| (p.number.to_string(), p)),
        )
        .await?;
        insert_records(
            &mut tx,
            CASE_STUDIES,
            plan.case_studies.iter().map(|p| (p.id.clone(), p)),
        )
        .await?;
        insert_records(
            &mut tx,
            VISIONS,
            plan.visions.iter().map(|p| (p.id.clone(), p)),
        )
        .await?;
        for d in &plan.data_points {
            let value = MetricValue {
                metric: d.metric.clone(),
                organisation: d.organisation.clone(),
                period: d.period,
                value: d.value,
                as_written: d.as_written.clone(),
                note: d.note.clone(),
                reference: d.reference.clone(),
                origin: "plan".into(),
            };
            insert_value(&mut tx, &value).await?;
        }
        crate::bump_revision(&mut tx).await?;
        tx.commit().await?;
        Ok(InitOutcome::Loaded {
            actions: plan.actions.len(),
            metrics: plan.metrics.len(),
            values: plan.data_points.len(),
        })
    }

    /// The ICB of the stored plan, without loading the plan (the footprint needs only this).
    pub async fn plan_icb(&self) -> Result<Option<OdsCode>> {
        let Some(row) = sqlx::query("SELECT icb FROM plans")
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        OdsCode::parse(&row.try_get::<String, _>("icb")?)
            .map(Some)
            .map_err(|e| crate::corrupt("plan ICB code", e))
    }

    /// The stored plan, or `None` in an empty database. Metric values recorded since the plan
    /// was loaded are returned as the plan's data points too.
    pub async fn load_plan(&self) -> Result<Option<Plan>> {
        let Some(row) = sqlx::query("SELECT body FROM plans")
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let info: PlanInfo = from_json("plan", &row.try_get::<String, _>("body")?)?;
        let organisations = self
            .bodies(
                "organisations",
                "SELECT code AS key, body FROM organisations ORDER BY position",
                "organisation",
            )
            .await?;
        let areas = self
            .bodies(
                "areas",
                "SELECT code AS key, body FROM areas ORDER BY position",
                "area",
            )
            .await?;
        let actions = self
            .bodies(
                "actions",
                "SELECT id AS key, body FROM actions WHERE archived_at IS NULL ORDER BY position",
                "action",
            )
            .await?;
        let metrics = self
            .bodies(
                "metrics",
                "SELECT id AS key, body FROM metrics ORDER BY position",
                "metric",
            )
            .await?;
        let values = self.metric_values(None).await?;
        // Figures computed from registers join the recorded ones (issue 5).
        let metric_ids: Vec<&str> = metrics
            .iter()
            .map(|m: &greenplan_core::plan::Metric| m.id.as_str())
            .collect();
        let register_points = self.register_data_points(&metric_ids).await?;
        Ok(Some(Plan {
            info,
            organisations,
            places: self.records(PLACES).await?,
            shifts: self.records(SHIFTS).await?,
            guiding_policies: self.records(POLICIES).await?,
            sdgs: self.records(SDGS).await?,
            areas,
            actions,
            metrics,
            data_points: values
                .into_iter()
                .map(|v| DataPoint {
                    metric: v.metric,
                    organisation: v.organisation,
                    period: v.period,
                    value: v.value,
                    as_written: v.as_written,
                    note: v.note,
                    reference: v.reference,
                })
                .chain(register_points)
                .collect(),
            case_studies: self.records(CASE_STUDIES).await?,
            visions: self.records(VISIONS).await?,
        }))
    }

    /// Values of one metric (or all), oldest period first. A stored value that cannot be read
    /// back is left out (and listed for system admins), never a failure of every page.
    pub async fn metric_values(&self, metric: Option<&str>) -> Result<Vec<MetricValue>> {
        let sql = "SELECT id, metric, organisation, period, value, as_written, note, reference, origin FROM metric_values \
                   WHERE ($1 = '' OR metric = $1) ORDER BY period_end, id";
        let rows = sqlx::query(sql)
            .bind(metric.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        let mut decoded = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            decoded.push((id.to_string(), metric_value_from_row(r)));
        }
        self.keep_all("metric_values", decoded)
    }

    /// Records a value of a metric, with its audit entry. Permission is the caller's to check
    /// (`greenplan_core::access::Access::can_record_value`).
    pub async fn record_metric_value(&self, actor: &str, value: &MetricValue) -> Result<()> {
        let known: Option<(String,)> = sqlx::query_as("SELECT id FROM metrics WHERE id = $1")
            .bind(&value.metric)
            .fetch_optional(self.pool())
            .await?;
        if known.is_none() {
            return Err(StoreError::Rejected(format!(
                "unknown metric `{}`: `greenplan metrics list` shows the metric ids",
                value.metric
            )));
        }
        let mut tx = self.begin_write().await?;
        insert_value(&mut tx, value).await?;
        let after = serde_json::to_value(value).map_err(|e| corrupt("metric value", e))?;
        let org = value.organisation.as_ref().map(|o| o.to_string());
        crate::audit::record(
            &mut tx,
            actor,
            "record-value",
            "metric",
            &value.metric,
            org.as_deref(),
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The bodies of a table's rows (`sql` selects `key` and `body`), leaving out those that
    /// cannot be read back.
    async fn bodies<T: DeserializeOwned>(
        &self,
        table: &str,
        sql: &'static str,
        what: &str,
    ) -> Result<Vec<T>> {
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        let mut decoded = Vec::with_capacity(rows.len());
        for r in &rows {
            let key: String = r.try_get("key")?;
            decoded.push((key, from_json(what, &r.try_get::<String, _>("body")?)));
        }
        self.keep_all(table, decoded)
    }

    async fn records<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>> {
        let rows =
            sqlx::query("SELECT id, body FROM plan_records WHERE kind = $1 ORDER BY position")
                .bind(kind)
                .fetch_all(self.pool())
                .await?;
        let mut decoded = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            decoded.push((
                format!("{kind} {id}"),
                from_json(kind, &r.try_get::<String, _>("body")?),
            ));
        }
        self.keep_all("plan_records", decoded)
    }
}

async fn insert_organisation(
    tx: &mut Transaction<'_, Any>,
    o: &Organisation,
    position: usize,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO organisations (code, kind, name, position, body) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(o.code.as_str())
    .bind(o.kind.slug())
    .bind(&o.name)
    .bind(position as i64)
    .bind(json(o)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_records<'a, T: Serialize + 'a>(
    tx: &mut Transaction<'_, Any>,
    kind: &str,
    records: impl Iterator<Item = (String, &'a T)>,
) -> Result<()> {
    for (i, (id, r)) in records.enumerate() {
        sqlx::query("INSERT INTO plan_records (kind, id, position, body) VALUES ($1, $2, $3, $4)")
            .bind(kind)
            .bind(id)
            .bind(i as i64)
            .bind(json(r)?)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn metric_value_from_row(r: &sqlx::any::AnyRow) -> Result<MetricValue> {
    let org: String = r.try_get("organisation")?;
    let period: String = r.try_get("period")?;
    let value: String = r.try_get("value")?;
    Ok(MetricValue {
        metric: r.try_get("metric")?,
        organisation: if org.is_empty() {
            None
        } else {
            Some(OdsCode::parse(&org).map_err(|e| corrupt("metric value organisation", e))?)
        },
        period: Period::parse(&period).map_err(|e| corrupt("metric value period", e))?,
        value: value
            .parse()
            .map_err(|e| corrupt("metric value", format!("`{value}`: {e}")))?,
        as_written: r.try_get("as_written")?,
        note: r.try_get("note")?,
        reference: r.try_get("reference")?,
        origin: r.try_get("origin")?,
    })
}

pub(crate) async fn insert_value(tx: &mut Transaction<'_, Any>, v: &MetricValue) -> Result<()> {
    sqlx::query(
        "INSERT INTO metric_values (metric, organisation, period, period_end, value, as_written, note, reference, origin, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&v.metric)
    .bind(v.organisation.as_ref().map_or(String::new(), |o| o.to_string()))
    .bind(v.period.code())
    .bind(v.period.end().map_or_else(|| "9999-12-31".to_string(), |d| d.to_string()))
    .bind(v.value.normalize().to_string())
    .bind(v.as_written.clone())
    .bind(v.note.clone())
    .bind(v.reference.clone())
    .bind(&v.origin)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
