//! The audit trail: every change, who made it, when, and the value before and after. Written
//! by the store in the same transaction as the change it records, never by handlers, so a
//! change without its audit entry cannot be committed.

use crate::{Result, Store, now};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub organisation: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Records a change inside the transaction that makes it.
#[allow(clippy::too_many_arguments)] // each is a column of the trail; a struct would only rename them
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    entity_kind: &str,
    entity_id: &str,
    organisation: Option<&str>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<()> {
    record_returning_id(
        tx,
        actor,
        action,
        entity_kind,
        entity_id,
        organisation,
        before,
        after,
    )
    .await
    .map(|_| ())
}

/// [`record`], answering the new entry's id (a record's revision, `crate::revisions`).
#[allow(clippy::too_many_arguments)] // each is a column of the trail; a struct would only rename them
pub(crate) async fn record_returning_id(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    entity_kind: &str,
    entity_id: &str,
    organisation: Option<&str>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (at, actor, action, entity_kind, entity_id, organisation, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(entity_kind)
    .bind(entity_id)
    .bind(organisation.map(str::to_string))
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .fetch_one(&mut **tx)
    .await?;
    // Every audited change is a change of data: tell caching servers.
    crate::bump_revision(tx).await?;
    Ok(id)
}

impl Store {
    /// The history of one record (newest first), or the whole trail when `entity` is `None`.
    pub async fn audit_trail(
        &self,
        entity: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let (kind, id) = entity.unwrap_or(("", ""));
        let rows = sqlx::query(
            "SELECT id, at, actor, action, entity_kind, entity_id, organisation, before_json, after_json FROM audit_log \
             WHERE ($1 = '' OR (entity_kind = $1 AND entity_id = $2)) ORDER BY id DESC LIMIT $3",
        )
        .bind(kind)
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    entity_kind: r.try_get("entity_kind")?,
                    entity_id: r.try_get("entity_id")?,
                    organisation: r.try_get("organisation")?,
                    before: r.try_get("before_json")?,
                    after: r.try_get("after_json")?,
                })
            })
            .collect()
    }
}
