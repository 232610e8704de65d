//! Record revisions: how an edit from a stale copy is refused instead of silently reverting
//! someone else's change (a lost update).
//!
//! Every edited record keeps a `revision` column: the id of the audit entry of its last
//! change (0 before any). An edit page draws its form with the revision it read; the save
//! sends it back, and the store's write compares it in the `UPDATE`'s `WHERE` clause
//! ([`claim`]), in the transaction that writes the record and its audit entry. So the check
//! and the write are one step on both backends: on SQLite the writer holds the database lock
//! (`BEGIN IMMEDIATE`), on PostgreSQL a second writer waits for the first's row lock and then
//! re-checks the `WHERE` clause against the row the first committed, and matches nothing.
//!
//! The revision is an audit id rather than a counter because the audit trail then says
//! exactly what changed since a form was drawn: the record's entries with a greater id
//! ([`StaleEdit::changes`]) — who, when, and each field before and after.

use crate::{Result, StoreError, audit};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

/// The kinds of record that carry a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revised {
    RegisterRecord,
    Action,
    Area,
    Metric,
    Organisation,
    Scheme,
    Sia,
    PathwayScenario,
    DigitalScheme,
    CareActivityFactor,
}

impl Revised {
    /// (table, key column, whether the key is an integer, the audit trail's entity kind)
    fn parts(self) -> (&'static str, &'static str, bool, &'static str) {
        match self {
            Self::RegisterRecord => ("register_records", "id", true, "register-record"),
            Self::Action => ("actions", "id", false, "action"),
            Self::Area => ("areas", "code", false, "area"),
            Self::Metric => ("metrics", "id", false, "metric"),
            Self::Organisation => ("organisations", "code", false, "organisation"),
            Self::Scheme => ("schemes", "id", true, "scheme"),
            Self::Sia => ("sias", "id", true, "sia"),
            Self::PathwayScenario => ("pathway_scenarios", "id", true, "pathway-scenario"),
            Self::DigitalScheme => ("digital_schemes", "id", true, "digital-scheme"),
            Self::CareActivityFactor => {
                ("care_activity_factors", "id", false, "care-activity-factor")
            }
        }
    }

    /// What the record is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::RegisterRecord => "register record",
            Self::Action => "action",
            Self::Area => "area of focus",
            Self::Metric => "metric",
            Self::Organisation => "organisation",
            Self::Scheme => "scheme",
            Self::Sia => "assessment",
            Self::PathwayScenario => "scenario",
            Self::DigitalScheme => "digital scheme",
            Self::CareActivityFactor => "care-activity factor",
        }
    }

    /// The audit trail's name for this kind of record.
    pub fn entity_kind(self) -> &'static str {
        self.parts().3
    }
}

/// A record's key, bound with the column's own type (PostgreSQL compares no text with a
/// bigint).
fn bind_key<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    kind: Revised,
    key: &'q str,
) -> Result<sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>> {
    if kind.parts().2 {
        let id: i64 = key
            .parse()
            .map_err(|_| StoreError::Rejected(format!("there is no {} `{key}`", kind.noun())))?;
        Ok(q.bind(id))
    } else {
        Ok(q.bind(key))
    }
}

/// One field that a change changed, as text (`None`: not set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field's name as the audit trail holds it (`values.name` for a register field).
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One change made to a record since a form was drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Its audit entry.
    pub audit_id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub fields: Vec<FieldChange>,
}

/// A save from a stale copy, refused: what the record is, its revision now, and every change
/// made since the copy was drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleEdit {
    #[serde(skip)]
    pub kind: Revised,
    pub record: String,
    /// The revision the save was drawn from.
    pub expected: i64,
    /// The record's revision now: a form drawn at this revision may be saved.
    pub current: i64,
    pub changes: Vec<Change>,
}

impl StaleEdit {
    /// One line for logs and plain-text answers: who changed the record, and when.
    pub fn summary(&self) -> String {
        let who: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                let fields: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
                if fields.is_empty() {
                    format!("{} ({})", c.actor, c.action)
                } else {
                    format!("{} ({}: {})", c.actor, c.action, fields.join(", "))
                }
            })
            .collect();
        format!(
            "this {} was changed since your copy was drawn, by {}; nothing was saved: look at the changes, then save again from the record as it is now (revision {})",
            self.kind.noun(),
            if who.is_empty() {
                "someone else".to_string()
            } else {
                who.join("; ")
            },
            self.current
        )
    }
}

impl std::fmt::Display for StaleEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// The record's revision as stored now (`None`: no such record).
pub(crate) async fn current(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
) -> Result<Option<i64>> {
    let (table, column, _, _) = kind.parts();
    let sql = format!("SELECT revision FROM {table} WHERE {column} = $1");
    let row = bind_key(sqlx::query(sqlx::AssertSqlSafe(sql)), kind, key)?
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("revision")?),
        None => None,
    })
}

/// Refuses early (before any write) a save whose revision is not the record's: the same
/// answer [`claim`] would give, without doing the work first.
pub(crate) async fn check(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
    expected: i64,
) -> Result<()> {
    match current(tx, kind, key).await? {
        Some(now) if now == expected => Ok(()),
        Some(now) => Err(stale(tx, kind, key, expected, now).await),
        None => Err(StoreError::Rejected(format!(
            "there is no {} `{key}`",
            kind.noun()
        ))),
    }
}

/// Moves the record from revision `expected` to `revision` (the audit id of the change being
/// written), in one `UPDATE` whose `WHERE` clause holds the comparison: if another save got
/// there first, nothing matches and the whole transaction is refused as stale.
pub(crate) async fn claim(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
    expected: i64,
    revision: i64,
) -> Result<()> {
    let (table, column, _, _) = kind.parts();
    let sql = format!("UPDATE {table} SET revision = $1 WHERE {column} = $2 AND revision = $3");
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(revision);
    let done = bind_key(q, kind, key)?
        .bind(expected)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    match current(tx, kind, key).await? {
        Some(now) => Err(stale(tx, kind, key, expected, now).await),
        None => Err(StoreError::Rejected(format!(
            "there is no {} `{key}`",
            kind.noun()
        ))),
    }
}

/// Sets a new record's revision to the audit id of its creation.
pub(crate) async fn set(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
    revision: i64,
) -> Result<()> {
    let (table, column, _, _) = kind.parts();
    let sql = format!("UPDATE {table} SET revision = $1 WHERE {column} = $2");
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(revision);
    bind_key(q, kind, key)?.execute(&mut **tx).await?;
    Ok(())
}

/// An audited change of a revised record: writes the audit entry, then claims the record's
/// revision from `expected` (see [`claim`]). Call it in the transaction that writes the
/// record; on `Err` the transaction must not be committed (dropping it rolls back).
#[allow(clippy::too_many_arguments)] // the audit entry's columns, then the revision
pub(crate) async fn audited_change(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
    expected: i64,
    actor: &str,
    action: &str,
    organisation: Option<&str>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<i64> {
    let id = audit::record_returning_id(
        tx,
        actor,
        action,
        kind.entity_kind(),
        key,
        organisation,
        before,
        after,
    )
    .await?;
    claim(tx, kind, key, expected, id).await?;
    Ok(id)
}

/// The refusal, with the changes made since `expected`. A failure to read them is logged and
/// leaves the list empty: the save is refused either way.
async fn stale(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
    expected: i64,
    current: i64,
) -> StoreError {
    let changes = match changes_since(tx, kind, key, expected).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "reading the changes made since a stale copy");
            Vec::new()
        }
    };
    StoreError::Stale(Box::new(StaleEdit {
        kind,
        record: key.to_string(),
        expected,
        current,
        changes,
    }))
}

async fn changes_since(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    key: &str,
    expected: i64,
) -> Result<Vec<Change>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, before_json, after_json FROM audit_log \
         WHERE entity_kind = $1 AND entity_id = $2 AND id > $3 ORDER BY id LIMIT 50",
    )
    .bind(kind.entity_kind())
    .bind(key)
    .bind(expected)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            let before: Option<String> = r.try_get("before_json")?;
            let after: Option<String> = r.try_get("after_json")?;
            let action: String = r.try_get("action")?;
            Ok(Change {
                audit_id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                fields: field_changes(&action, before.as_deref(), after.as_deref()),
                action,
            })
        })
        .collect()
}

/// The fields an audit entry's before and after differ in. Nested objects are named by
/// path (`values.name`); lists and other values are compared and shown as JSON; a text
/// value is shown as itself.
pub fn field_changes(action: &str, before: Option<&str>, after: Option<&str>) -> Vec<FieldChange> {
    let read = |t: Option<&str>| -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(v) = t.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()) {
            flatten("", &v, &mut out);
        }
        out
    };
    let (before, after) = (read(before), read(after));
    if after.is_empty() && !before.is_empty() {
        // An archive that keeps no "after": say so rather than list every field as gone.
        return vec![FieldChange {
            field: "archived".into(),
            before: None,
            after: Some("yes".into()),
        }];
    }
    // An archive's "after" says only that it was archived (and why): the record's fields
    // did not change.
    let only_after = action == "archive";
    let mut keys: Vec<&String> = after.keys().collect();
    if !only_after {
        keys.extend(before.keys().filter(|k| !after.contains_key(*k)));
    }
    keys.sort();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| FieldChange {
            field: k.clone(),
            before: before.get(k).cloned(),
            after: after.get(k).cloned(),
        })
        .collect()
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

impl crate::Store {
    /// A record's revision now, to draw its edit form with (`None`: no such record). Read it
    /// before the record itself: a change in between then makes the form look stale (a save
    /// is refused and shows the change), never the other way round.
    pub async fn revision(&self, kind: Revised, key: &str) -> Result<Option<i64>> {
        let (table, column, _, _) = kind.parts();
        let sql = format!("SELECT revision FROM {table} WHERE {column} = $1");
        let row = bind_key(sqlx::query(sqlx::AssertSqlSafe(sql)), kind, key)?
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("revision")?),
            None => None,
        })
    }

    /// The revisions of every record of a kind, by key (for a page of many edit forms).
    pub async fn revisions(&self, kind: Revised) -> Result<BTreeMap<String, i64>> {
        let (table, column, is_int, _) = kind.parts();
        let sql = format!("SELECT {column} AS k, revision FROM {table}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let key = if is_int {
                    r.try_get::<i64, _>("k")?.to_string()
                } else {
                    r.try_get::<String, _>("k")?
                };
                Ok((key, r.try_get("revision")?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_changes_name_each_changed_field() {
        let before = r#"{"register":"sites","values":{"name":"Old","area":"12"}}"#;
        let after = r#"{"register":"sites","values":{"name":"New"}}"#;
        let got = field_changes("edit", Some(before), Some(after));
        assert_eq!(
            got,
            vec![
                FieldChange {
                    field: "values.area".into(),
                    before: Some("12".into()),
                    after: None
                },
                FieldChange {
                    field: "values.name".into(),
                    before: Some("Old".into()),
                    after: Some("New".into())
                },
            ]
        );
        let archived = field_changes("archive", Some(before), None);
        assert_eq!(archived[0].field, "archived");
        let reason = field_changes(
            "archive",
            Some(before),
            Some(r#"{"archived":true,"reason":"gone"}"#),
        );
        assert_eq!(reason.len(), 2, "{reason:?}");
    }
}
