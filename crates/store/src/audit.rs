//! The audit trail: every change, who made it, when, and the value before and after. Written
//! by the store in the same transaction as the change it records, never by handlers, so a
//! change without its audit entry cannot be committed.

use crate::{Result, Store, now};
use serde::Serialize;
use sqlx::any::AnyRow;
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

/// Which entries to read: each field that is set narrows the trail. Exact matches, as an
/// administrator picks them from the page's lists or from a record's page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity_kind: Option<String>,
    pub entity_id: Option<String>,
    /// Who made the change (an e-mail address, or e.g. "anonymous respondents").
    pub actor: Option<String>,
    /// The organisation (ODS code) the change belongs to.
    pub organisation: Option<String>,
    /// The kind of change ("create travel survey").
    pub action: Option<String>,
    /// Unix seconds, inclusive.
    pub from_at: Option<i64>,
    /// Unix seconds, exclusive.
    pub until_at: Option<i64>,
}

/// The most entries one read returns (a page, or a batch of the CSV).
pub const MAX_AUDIT_BATCH: i64 = 1_000;

fn entry_from_row(r: &AnyRow) -> Result<AuditEntry> {
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
}

impl Store {
    /// Entries matching `filter`, newest first, older than the entry `before_id` (a keyset
    /// page: the next page starts below the last id shown, so entries written meanwhile
    /// never shift it), at most `limit` (bounded by [`MAX_AUDIT_BATCH`]).
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        let rows = sqlx::query(
            "SELECT id, at, actor, action, entity_kind, entity_id, organisation, before_json, after_json FROM audit_log \
             WHERE id < $1 AND ($2 = '' OR entity_kind = $2) AND ($3 = '' OR entity_id = $3) \
             AND ($4 = '' OR actor = $4) AND ($5 = '' OR organisation = $5) AND ($6 = '' OR action = $6) \
             AND at >= $7 AND at < $8 ORDER BY id DESC LIMIT $9",
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(text(&filter.entity_kind))
        .bind(text(&filter.entity_id))
        .bind(text(&filter.actor))
        .bind(text(&filter.organisation))
        .bind(text(&filter.action))
        .bind(filter.from_at.unwrap_or(i64::MIN))
        .bind(filter.until_at.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, MAX_AUDIT_BATCH))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The kinds of change and of record in the trail, for the page's filters.
    pub async fn audit_kinds(&self) -> Result<(Vec<String>, Vec<String>)> {
        let actions: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT action FROM audit_log ORDER BY action")
                .fetch_all(self.pool())
                .await?;
        let kinds: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT entity_kind FROM audit_log ORDER BY entity_kind")
                .fetch_all(self.pool())
                .await?;
        Ok((
            actions.into_iter().map(|(a,)| a).collect(),
            kinds.into_iter().map(|(k,)| k).collect(),
        ))
    }

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
        rows.iter().map(entry_from_row).collect()
    }
}
