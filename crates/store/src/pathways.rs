//! The care pathway carbon calculator's data: the care-activity factor library (seeded from
//! the built-in CSV, edited by a system administrator, each change audited with the value
//! before and after) and saved pathway scenarios (kept as `greenplan_core::pathway::Scenario`
//! JSON; the saving is computed on read by `greenplan_core::pathway::evaluate`, as the CLI
//! does, so there is one arithmetic).

use crate::revisions::{self, Revised};
use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::pathway::{CareActivityFactor, Scenario, evaluate};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

/// A scenario saved in the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedScenario {
    pub id: i64,
    /// The organisation whose contributors may change it.
    pub organisation: OdsCode,
    /// The scheme on the register it evaluates, if any.
    pub scheme: Option<i64>,
    pub scenario: Scenario,
    /// The id of a scenario shipped with greenplan (`team-up`).
    pub example: Option<String>,
    pub updated_by: String,
    /// Unix seconds.
    pub updated_at: i64,
    /// The scenario's revision (`crate::revisions`): an edit drawn from this copy sends it back.
    #[serde(skip)]
    pub revision: i64,
}

/// What seeding added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedOutcome {
    pub factors: usize,
    pub examples: usize,
}

fn decimal(what: &str, text: Option<String>) -> Result<Option<Decimal>> {
    text.map(|t| t.parse::<Decimal>().map_err(|e| corrupt(what, e)))
        .transpose()
}

fn factor_of_row(r: &sqlx::any::AnyRow) -> Result<CareActivityFactor> {
    let kg: String = r.try_get("kgco2e")?;
    Ok(CareActivityFactor {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        unit: r.try_get("unit")?,
        kgco2e: kg.parse().map_err(|e| corrupt("care-activity factor", e))?,
        low: decimal("care-activity factor", r.try_get("low")?)?,
        high: decimal("care-activity factor", r.try_get("high")?)?,
        source: r.try_get("source")?,
        year: r.try_get::<Option<i64>, _>("year")?.map(|y| y as i32),
        verified: r.try_get::<i64, _>("verified")? != 0,
    })
}

const FACTOR_COLUMNS: &str = "id, name, unit, kgco2e, low, high, source, year, verified";
const SCENARIO_COLUMNS: &str =
    "id, organisation, scheme_id, body, example, updated_by, updated_at, revision";

fn scenario_of_row(r: &sqlx::any::AnyRow) -> Result<SavedScenario> {
    let org: String = r.try_get("organisation")?;
    let body: String = r.try_get("body")?;
    Ok(SavedScenario {
        id: r.try_get("id")?,
        organisation: OdsCode::parse(&org).map_err(|e| corrupt("pathway scenario", e))?,
        scheme: r.try_get("scheme_id")?,
        scenario: serde_json::from_str(&body).map_err(|e| corrupt("pathway scenario", e))?,
        example: r.try_get("example")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
        revision: r.try_get("revision")?,
    })
}

fn json<T: Serialize>(what: &str, v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| corrupt(what, e))
}

async fn insert_factor(
    tx: &mut Transaction<'_, Any>,
    f: &CareActivityFactor,
    position: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO care_activity_factors (id, position, name, unit, kgco2e, low, high, source, year, verified) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&f.id)
    .bind(position)
    .bind(&f.name)
    .bind(&f.unit)
    .bind(f.kgco2e.normalize().to_string())
    .bind(f.low.map(|v| v.normalize().to_string()))
    .bind(f.high.map(|v| v.normalize().to_string()))
    .bind(&f.source)
    .bind(f.year.map(i64::from))
    .bind(i64::from(f.verified))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The care-activity factor library, in the order it was loaded.
    pub async fn care_activity_factors(&self) -> Result<Vec<CareActivityFactor>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FACTOR_COLUMNS} FROM care_activity_factors ORDER BY position"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(factor_of_row).collect()
    }

    /// Fills an empty factor library with `factors`, and saves each example scenario not yet
    /// saved (owned by the plan's ICB, keeping only the actions the plan has). Run on `init`
    /// and at every start; a library someone has edited is never overwritten.
    pub async fn seed_care_pathways(
        &self,
        factors: &[CareActivityFactor],
        examples: &[(String, Scenario)],
    ) -> Result<SeedOutcome> {
        let mut tx = self.begin_write().await?;
        let mut outcome = SeedOutcome::default();
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM care_activity_factors")
            .fetch_one(&mut *tx)
            .await?;
        if count == 0 {
            for (i, f) in factors.iter().enumerate() {
                insert_factor(&mut tx, f, i as i64).await?;
            }
            outcome.factors = factors.len();
        }
        let icb: Option<(String,)> = sqlx::query_as("SELECT icb FROM plans")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((icb,)) = icb {
            let actions: Vec<(String,)> = sqlx::query_as("SELECT id FROM actions")
                .fetch_all(&mut *tx)
                .await?;
            for (id, scenario) in examples {
                let saved: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM pathway_scenarios WHERE example = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if saved.is_some() {
                    continue;
                }
                let mut scenario = scenario.clone();
                scenario
                    .actions
                    .retain(|a| actions.iter().any(|(x,)| x == a));
                sqlx::query(
                    "INSERT INTO pathway_scenarios (organisation, name, body, example, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&icb)
                .bind(&scenario.name)
                .bind(json("pathway scenario", &scenario)?.to_string())
                .bind(id)
                .bind("greenplan")
                .bind(now())
                .execute(&mut *tx)
                .await?;
                outcome.examples += 1;
            }
        }
        if outcome != SeedOutcome::default() {
            crate::bump_revision(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Changes one factor of the library (its id stays), auditing it before and after.
    /// `revision` is the one the edit was drawn from ([`Store::revision`]): when the factor has
    /// changed since, nothing is written ([`StoreError::Stale`]).
    pub async fn update_care_activity_factor(
        &self,
        actor: &str,
        factor: &CareActivityFactor,
        revision: i64,
    ) -> Result<()> {
        factor
            .check()
            .map_err(|e| StoreError::Rejected(format!("{}: {e}", factor.id)))?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FACTOR_COLUMNS} FROM care_activity_factors WHERE id = $1"
        )))
        .bind(&factor.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Rejected(format!("there is no care-activity factor `{}`", factor.id))
        })?;
        let before = factor_of_row(&row)?;
        revisions::check(&mut tx, Revised::CareActivityFactor, &factor.id, revision).await?;
        sqlx::query(
            "UPDATE care_activity_factors SET name = $1, unit = $2, kgco2e = $3, low = $4, high = $5, source = $6, year = $7, verified = $8 WHERE id = $9",
        )
        .bind(factor.name.trim())
        .bind(factor.unit.trim())
        .bind(factor.kgco2e.normalize().to_string())
        .bind(factor.low.map(|v| v.normalize().to_string()))
        .bind(factor.high.map(|v| v.normalize().to_string()))
        .bind(factor.source.trim())
        .bind(factor.year.map(i64::from))
        .bind(i64::from(factor.verified))
        .bind(&factor.id)
        .execute(&mut *tx)
        .await?;
        revisions::audited_change(
            &mut tx,
            Revised::CareActivityFactor,
            &factor.id,
            revision,
            actor,
            "edit",
            None,
            Some(&json("care-activity factor", &before)?),
            Some(&json("care-activity factor", factor)?),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saved scenarios (not archived), oldest first.
    pub async fn pathway_scenarios(&self) -> Result<Vec<SavedScenario>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCENARIO_COLUMNS} FROM pathway_scenarios WHERE archived_at IS NULL ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scenario_of_row).collect()
    }

    /// One saved scenario.
    pub async fn pathway_scenario(&self, id: i64) -> Result<Option<SavedScenario>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCENARIO_COLUMNS} FROM pathway_scenarios WHERE id = $1 AND archived_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(scenario_of_row).transpose()
    }

    /// Saves a new scenario (`id` `None`) for `organisation`, or changes one (its organisation
    /// stays). The scenario must compute against the library, name actions of the plan and,
    /// if it names a scheme, one of the same organisation. Permission is checked by the
    /// caller with `greenplan_core::access`. A change carries the revision it was drawn from
    /// (`id` `Some((id, revision))`): when the scenario has changed since, nothing is written
    /// ([`StoreError::Stale`]). Returns the id.
    pub async fn save_pathway_scenario(
        &self,
        actor: &str,
        id: Option<(i64, i64)>,
        organisation: &OdsCode,
        scheme: Option<i64>,
        scenario: &Scenario,
    ) -> Result<i64> {
        if scenario.name.trim().is_empty() {
            return Err(StoreError::Rejected("give the scenario a name".into()));
        }
        if scenario.lines.is_empty() {
            return Err(StoreError::Rejected(
                "add at least one care activity that changes".into(),
            ));
        }
        let library = self.care_activity_factors().await?;
        evaluate(scenario, &library).map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        check_actions(&mut tx, &scenario.actions).await?;
        let revision = id.map(|(_, r)| r);
        let id = id.map(|(id, _)| id);
        let before = match id {
            Some(id) => Some(
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {SCENARIO_COLUMNS} FROM pathway_scenarios WHERE id = $1 AND archived_at IS NULL"
                )))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(scenario_of_row)
                .transpose()?
                .ok_or_else(|| StoreError::Rejected(format!("there is no scenario {id}")))?,
            ),
            None => None,
        };
        if let (Some(id), Some(revision)) = (id, revision) {
            revisions::check(&mut tx, Revised::PathwayScenario, &id.to_string(), revision).await?;
        }
        let organisation = before
            .as_ref()
            .map_or_else(|| organisation.clone(), |b| b.organisation.clone());
        if let Some(s) = scheme {
            crate::schemes::check_scheme_of(&mut tx, s, &organisation).await?;
        }
        let body = json("pathway scenario", scenario)?;
        let id = match id {
            Some(id) => {
                sqlx::query("UPDATE pathway_scenarios SET scheme_id = $1, name = $2, body = $3, updated_by = $4, updated_at = $5 WHERE id = $6")
                    .bind(scheme)
                    .bind(scenario.name.trim())
                    .bind(body.to_string())
                    .bind(actor)
                    .bind(now())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO pathway_scenarios (organisation, scheme_id, name, body, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(organisation.as_str())
                .bind(scheme)
                .bind(scenario.name.trim())
                .bind(body.to_string())
                .bind(actor)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let after = serde_json::json!({"scheme": scheme, "scenario": body});
        let before =
            before.map(|b| serde_json::json!({"scheme": b.scheme, "scenario": b.scenario}));
        let entry = audit::record_returning_id(
            &mut tx,
            actor,
            if before.is_some() { "edit" } else { "create" },
            "pathway-scenario",
            &id.to_string(),
            Some(organisation.as_str()),
            before.as_ref(),
            Some(&after),
        )
        .await?;
        let key = id.to_string();
        match revision {
            Some(expected) => {
                revisions::claim(&mut tx, Revised::PathwayScenario, &key, expected, entry).await?
            }
            None => revisions::set(&mut tx, Revised::PathwayScenario, &key, entry).await?,
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// Refuses action ids the plan does not have (or has archived).
pub(crate) async fn check_actions(tx: &mut Transaction<'_, Any>, actions: &[String]) -> Result<()> {
    for a in actions {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM actions WHERE id = $1 AND archived_at IS NULL")
                .bind(a)
                .fetch_optional(&mut **tx)
                .await?;
        if found.is_none() {
            return Err(StoreError::Rejected(format!(
                "{a} is not a priority action of the plan: use action ids such as CT1"
            )));
        }
    }
    Ok(())
}
