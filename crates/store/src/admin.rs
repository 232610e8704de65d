//! Changes to the plan and its organisations by the ICB's sustainability lead: edit areas,
//! actions and metrics, add actions and organisations, archive what is no longer wanted
//! (nothing is deleted), and mark milestones done. Each change is one transaction with its
//! audit entry, holding the record before and after. Permission is checked by the caller
//! with `greenplan_core::access`. Every change of an existing record carries the revision
//! it was drawn from and is refused, changing nothing, when the record has changed since
//! (`crate::revisions`).

use crate::revisions::{self, Revised};
use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::ods::OdsCode;
use greenplan_core::plan::{Action, ActionStatus, Area, Metric, Organisation, OrganisationKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{Any, Transaction};

/// A milestone marked done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MilestoneDone {
    /// Position of the milestone in the action's list, from 0.
    pub milestone: i64,
    pub done_by: String,
    /// Unix seconds.
    pub done_at: i64,
}

async fn body_of<T: DeserializeOwned>(
    tx: &mut Transaction<'_, Any>,
    sql: &'static str,
    id: &str,
    what: &str,
) -> Result<T> {
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let (body,) = row.ok_or_else(|| StoreError::Rejected(format!("there is no {what} `{id}`")))?;
    serde_json::from_str(&body).map_err(|e| corrupt(what, e))
}

fn json<T: Serialize>(what: &str, v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| corrupt(what, e))
}

/// Plan tables whose records are edited whole.
#[derive(Clone, Copy)]
enum PlanTable {
    Areas,
    Metrics,
}

impl PlanTable {
    fn revised(self) -> Revised {
        match self {
            Self::Areas => Revised::Area,
            Self::Metrics => Revised::Metric,
        }
    }

    /// (select the body, update the body, what the record is called)
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Areas => (
                "SELECT body FROM areas WHERE code = $1",
                "UPDATE areas SET body = $1 WHERE code = $2",
                "area",
            ),
            Self::Metrics => (
                "SELECT body FROM metrics WHERE id = $1",
                "UPDATE metrics SET body = $1 WHERE id = $2",
                "metric",
            ),
        }
    }
}

impl Store {
    /// Replaces an area's text (its code stays). `revision` is the one the edit was drawn
    /// from ([`Store::revision`]): when the area has changed since, nothing is written
    /// ([`StoreError::Stale`]).
    pub async fn update_area(&self, actor: &str, area: &Area, revision: i64) -> Result<()> {
        self.replace_record(actor, PlanTable::Areas, &area.code, area, None, revision)
            .await
    }

    /// Replaces an action (its id and area stay; its status is set by progress updates).
    /// `revision` as for [`Store::update_area`].
    pub async fn update_action(&self, actor: &str, action: &Action, revision: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before: Action = body_of(
            &mut tx,
            "SELECT body FROM actions WHERE id = $1 AND archived_at IS NULL",
            &action.id,
            "action",
        )
        .await?;
        revisions::check(&mut tx, Revised::Action, &action.id, revision).await?;
        let mut action = action.clone();
        action.area = before.area.clone();
        action.status = before.status;
        let after = json("action", &action)?;
        sqlx::query("UPDATE actions SET body = $1, due_end = $2 WHERE id = $3")
            .bind(after.to_string())
            .bind(action.delivery.period.end().map(|d| d.to_string()))
            .bind(&action.id)
            .execute(&mut *tx)
            .await?;
        let org = action.lead_organisations.first().map(|o| o.to_string());
        let before = json("action", &before)?;
        revisions::audited_change(
            &mut tx,
            Revised::Action,
            &action.id,
            revision,
            actor,
            "edit",
            org.as_deref(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds an action to an area, with the next free id of the area's prefix (`WL3` after
    /// `WL2`). Returns the id.
    pub async fn add_action(&self, actor: &str, action: &Action) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let area: Area = body_of(
            &mut tx,
            "SELECT body FROM areas WHERE code = $1",
            &action.area,
            "area",
        )
        .await?;
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM actions")
            .fetch_all(&mut *tx)
            .await?;
        let in_area: Vec<(String,)> = sqlx::query_as("SELECT id FROM actions WHERE area = $1")
            .bind(&area.code)
            .fetch_all(&mut *tx)
            .await?;
        let id = next_action_id(
            &area,
            in_area.iter().map(|(i,)| i.as_str()),
            ids.iter().map(|(i,)| i.as_str()),
        );
        let (position,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(position), 0) + 1 FROM actions")
                .fetch_one(&mut *tx)
                .await?;
        let mut action = action.clone();
        action.id = id.clone();
        action.status = ActionStatus::NotStarted;
        let after = json("action", &action)?;
        sqlx::query("INSERT INTO actions (id, area, status, due_end, position, body) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(&action.area)
            .bind(action.status.slug())
            .bind(action.delivery.period.end().map(|d| d.to_string()))
            .bind(position)
            .bind(after.to_string())
            .execute(&mut *tx)
            .await?;
        let org = action.lead_organisations.first().map(|o| o.to_string());
        let revision = audit::record_returning_id(
            &mut tx,
            actor,
            "create",
            "action",
            &id,
            org.as_deref(),
            None,
            Some(&after),
        )
        .await?;
        revisions::set(&mut tx, Revised::Action, &id, revision).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Archives an action: it leaves the plan's lists but keeps its updates and history.
    /// `revision` as for [`Store::update_area`].
    pub async fn archive_action(
        &self,
        actor: &str,
        id: &str,
        revision: i64,
        reason: &str,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(StoreError::Rejected(
                "say why the action is being archived".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let before: Action = body_of(
            &mut tx,
            "SELECT body FROM actions WHERE id = $1 AND archived_at IS NULL",
            id,
            "action",
        )
        .await?;
        revisions::check(&mut tx, Revised::Action, id, revision).await?;
        sqlx::query("UPDATE actions SET archived_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let org = before.lead_organisations.first().map(|o| o.to_string());
        revisions::audited_change(
            &mut tx,
            Revised::Action,
            id,
            revision,
            actor,
            "archive",
            org.as_deref(),
            Some(&json("action", &before)?),
            Some(&serde_json::json!({"archived": true, "reason": reason.trim()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a metric's definition: name, unit, description, baseline and targets (its
    /// values are kept; they are recorded separately). `revision` as for
    /// [`Store::update_area`].
    pub async fn update_metric(&self, actor: &str, metric: &Metric, revision: i64) -> Result<()> {
        let org = metric.organisation.as_ref().map(|o| o.to_string());
        self.replace_record(
            actor,
            PlanTable::Metrics,
            &metric.id,
            metric,
            org.as_deref(),
            revision,
        )
        .await
    }

    /// Replaces the body of a plan record, auditing it before and after.
    async fn replace_record<T: Serialize + DeserializeOwned>(
        &self,
        actor: &str,
        table: PlanTable,
        id: &str,
        record: &T,
        organisation: Option<&str>,
        revision: i64,
    ) -> Result<()> {
        let (select, update, what) = table.sql();
        let mut tx = self.begin_write().await?;
        let before: T = body_of(&mut tx, select, id, what).await?;
        revisions::check(&mut tx, table.revised(), id, revision).await?;
        let after = json(what, record)?;
        sqlx::query(update)
            .bind(after.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let before = json(what, &before)?;
        revisions::audited_change(
            &mut tx,
            table.revised(),
            id,
            revision,
            actor,
            "edit",
            organisation,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds an organisation (a trust, a practice) to the system.
    pub async fn add_organisation(&self, actor: &str, org: &Organisation) -> Result<()> {
        if org.name.trim().is_empty() {
            return Err(StoreError::Rejected("give the organisation's name".into()));
        }
        let mut tx = self.begin_write().await?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT code FROM organisations WHERE code = $1")
                .bind(org.code.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() {
            return Err(StoreError::Rejected(format!(
                "there is already an organisation {}: edit it instead",
                org.code
            )));
        }
        let (position,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(position), 0) + 1 FROM organisations")
                .fetch_one(&mut *tx)
                .await?;
        let after = json("organisation", org)?;
        sqlx::query("INSERT INTO organisations (code, kind, name, position, body) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.code.as_str())
            .bind(org.kind.slug())
            .bind(&org.name)
            .bind(position)
            .bind(after.to_string())
            .execute(&mut *tx)
            .await?;
        let revision = audit::record_returning_id(
            &mut tx,
            actor,
            "create",
            "organisation",
            org.code.as_str(),
            Some(org.code.as_str()),
            None,
            Some(&after),
        )
        .await?;
        revisions::set(&mut tx, Revised::Organisation, org.code.as_str(), revision).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes an organisation's name, short name and kind (its code stays). `revision` as
    /// for [`Store::update_area`].
    pub async fn update_organisation(
        &self,
        actor: &str,
        code: &OdsCode,
        revision: i64,
        name: &str,
        short_name: Option<&str>,
        kind: OrganisationKind,
    ) -> Result<()> {
        if name.trim().is_empty() {
            return Err(StoreError::Rejected("give the organisation's name".into()));
        }
        let mut tx = self.begin_write().await?;
        let before: Organisation = body_of(
            &mut tx,
            "SELECT body FROM organisations WHERE code = $1",
            code.as_str(),
            "organisation",
        )
        .await?;
        revisions::check(&mut tx, Revised::Organisation, code.as_str(), revision).await?;
        let mut org = before.clone();
        org.name = name.trim().to_string();
        org.short_name = short_name
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        org.kind = kind;
        let after = json("organisation", &org)?;
        sqlx::query("UPDATE organisations SET name = $1, kind = $2, body = $3 WHERE code = $4")
            .bind(&org.name)
            .bind(kind.slug())
            .bind(after.to_string())
            .bind(code.as_str())
            .execute(&mut *tx)
            .await?;
        let before = json("organisation", &before)?;
        revisions::audited_change(
            &mut tx,
            Revised::Organisation,
            code.as_str(),
            revision,
            actor,
            "edit",
            Some(code.as_str()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Archives or restores an organisation: archived ones are listed apart and expected to
    /// make no returns; their data and people stay. `revision` as for [`Store::update_area`].
    pub async fn set_organisation_archived(
        &self,
        actor: &str,
        code: &OdsCode,
        revision: i64,
        archived: bool,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT archived_at FROM organisations WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (was,) =
            row.ok_or_else(|| StoreError::Rejected(format!("there is no organisation {code}")))?;
        revisions::check(&mut tx, Revised::Organisation, code.as_str(), revision).await?;
        sqlx::query("UPDATE organisations SET archived_at = $1 WHERE code = $2")
            .bind(archived.then(now))
            .bind(code.as_str())
            .execute(&mut *tx)
            .await?;
        revisions::audited_change(
            &mut tx,
            Revised::Organisation,
            code.as_str(),
            revision,
            actor,
            if archived { "archive" } else { "restore" },
            Some(code.as_str()),
            Some(&serde_json::json!({"archived": was.is_some()})),
            Some(&serde_json::json!({"archived": archived})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Codes of archived organisations.
    pub async fn archived_organisations(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT code FROM organisations WHERE archived_at IS NOT NULL ORDER BY code",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Marks milestone `milestone` (from 0) of an action done. `revision` is the action's, as
    /// the page showed it: a page drawn before the milestones were edited could name another
    /// milestone by the same number, so a stale one is refused ([`StoreError::Stale`]).
    pub async fn mark_milestone_done(
        &self,
        actor: &str,
        action_id: &str,
        revision: i64,
        milestone: usize,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let action: Action = body_of(
            &mut tx,
            "SELECT body FROM actions WHERE id = $1 AND archived_at IS NULL",
            action_id,
            "action",
        )
        .await?;
        revisions::check(&mut tx, Revised::Action, action_id, revision).await?;
        let Some(m) = action.milestones.get(milestone) else {
            return Err(StoreError::Rejected(format!(
                "action {action_id} has no milestone {}",
                milestone + 1
            )));
        };
        let done: Option<(i64,)> = sqlx::query_as(
            "SELECT milestone FROM milestones_done WHERE action_id = $1 AND milestone = $2",
        )
        .bind(action_id)
        .bind(milestone as i64)
        .fetch_optional(&mut *tx)
        .await?;
        if done.is_some() {
            return Err(StoreError::Rejected(
                "that milestone is already marked done".into(),
            ));
        }
        sqlx::query("INSERT INTO milestones_done (action_id, milestone, done_by, done_at) VALUES ($1, $2, $3, $4)")
            .bind(action_id)
            .bind(milestone as i64)
            .bind(actor)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        let org = action.lead_organisations.first().map(|o| o.to_string());
        revisions::audited_change(
            &mut tx,
            Revised::Action,
            action_id,
            revision,
            actor,
            "milestone-done",
            org.as_deref(),
            Some(&serde_json::json!({"milestone": milestone + 1, "done": false})),
            Some(&serde_json::json!({"milestone": milestone + 1, "done": true, "title": m.title, "delivery": m.delivery.written})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The milestones of an action marked done.
    pub async fn milestones_done(&self, action_id: &str) -> Result<Vec<MilestoneDone>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT milestone, done_by, done_at FROM milestones_done WHERE action_id = $1 ORDER BY milestone",
        )
        .bind(action_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(milestone, done_by, done_at)| MilestoneDone {
                milestone,
                done_by,
                done_at,
            })
            .collect())
    }

    /// Disables or enables a person's sign-in; a disabled person's sessions end at once.
    pub async fn set_user_disabled(&self, actor: &str, email: &str, disabled: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, disabled FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?;
        let (id, was) =
            row.ok_or_else(|| StoreError::Rejected(format!("there is no user {email}")))?;
        sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut tx,
            actor,
            if disabled { "disable" } else { "enable" },
            "user",
            email,
            None,
            Some(&serde_json::json!({"disabled": was != 0})),
            Some(&serde_json::json!({"disabled": disabled})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a person's role in one organisation, as approved (a change to no role; see
    /// `Store::change_role`).
    pub async fn remove_membership(
        &self,
        actor: &str,
        email: &str,
        change: &greenplan_core::access::RoleChange,
    ) -> Result<()> {
        if change.to().is_some() {
            return Err(StoreError::Rejected(
                "removing a role is a change to no role".into(),
            ));
        }
        self.change_role(actor, email, change).await
    }
}

/// The next action id in an area: its actions' letter prefix (or the initials of its name)
/// and one more than the highest number, skipping ids used anywhere.
fn next_action_id<'a>(
    area: &Area,
    in_area: impl Iterator<Item = &'a str>,
    all: impl Iterator<Item = &'a str> + Clone,
) -> String {
    let split = |id: &'a str| {
        let digits = id.trim_start_matches(|c: char| !c.is_ascii_digit());
        let prefix = &id[..id.len() - digits.len()];
        (prefix, digits.parse::<u32>().ok())
    };
    let mut prefix: Option<String> = None;
    let mut highest = 0;
    for id in in_area {
        let (p, n) = split(id);
        prefix.get_or_insert_with(|| p.to_string());
        highest = highest.max(n.unwrap_or(0));
    }
    let prefix = prefix.unwrap_or_else(|| {
        area.name
            .split_whitespace()
            .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
            .filter_map(|w| w.chars().next())
            .take(3)
            .collect::<String>()
    });
    let prefix = if prefix.is_empty() {
        "A".to_string()
    } else {
        prefix
    };
    let mut n = highest + 1;
    loop {
        let id = format!("{prefix}{n}");
        if !all.clone().any(|x| x == id) {
            return id;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(name: &str) -> Area {
        Area {
            code: "x".into(),
            name: name.into(),
            why: None,
            where_we_are: None,
            system_priorities: None,
            no_actions_reason: None,
            reference: None,
        }
    }

    #[test]
    fn new_actions_follow_their_area_prefix() {
        let all = ["WL1", "WL2", "CT1"];
        assert_eq!(
            next_action_id(
                &area("Workforce"),
                ["WL1", "WL2"].into_iter(),
                all.into_iter()
            ),
            "WL3"
        );
        assert_eq!(
            next_action_id(
                &area("Food and Nutrition"),
                std::iter::empty(),
                all.into_iter()
            ),
            "FN1"
        );
        assert_eq!(
            next_action_id(&area("Care Team"), std::iter::empty(), all.into_iter()),
            "CT2"
        );
    }
}
