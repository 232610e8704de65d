//! Progress updates on priority actions: a dated note with a status (RAG), an evidence link
//! and, where the date has moved, a revised delivery period. The latest update sets the
//! action's status; earlier ones stay as its history.

use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::period::Period;
use greenplan_core::plan::{Action, ActionStatus};
use serde::Serialize;
use sqlx::Row;

/// An update as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionUpdate {
    pub action_id: String,
    pub posted_by: String,
    /// Unix seconds.
    pub posted_at: i64,
    pub status: ActionStatus,
    pub note: String,
    pub evidence_url: Option<String>,
    pub revised_due: Option<Period>,
}

/// What a lead sends.
#[derive(Debug, Clone)]
pub struct NewActionUpdate {
    pub status: ActionStatus,
    pub note: String,
    pub evidence_url: Option<String>,
    pub revised_due: Option<Period>,
}

impl NewActionUpdate {
    /// Checks the update reads well: a note, and an evidence link that is a web address.
    pub fn check(&self) -> Result<()> {
        if self.note.trim().is_empty() {
            return Err(StoreError::Rejected(
                "write what has happened since the last update".into(),
            ));
        }
        if self.note.len() > 10_000 {
            return Err(StoreError::Rejected("the note is too long: keep it under 10,000 characters and link to longer documents".into()));
        }
        if let Some(url) = &self.evidence_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(StoreError::Rejected(
                "the evidence link must be a web address starting with https://".into(),
            ));
        }
        Ok(())
    }
}

impl Store {
    /// Posts an update: stores it, sets the action's status, and records both in the audit
    /// trail, in one transaction. Permission is checked by the caller with
    /// `greenplan_core::access`.
    pub async fn post_action_update(
        &self,
        actor: &str,
        action_id: &str,
        update: &NewActionUpdate,
    ) -> Result<ActionUpdate> {
        update.check()?;
        let mut tx = self.pool().begin().await?;
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM actions WHERE id = $1")
            .bind(action_id)
            .fetch_optional(&mut *tx)
            .await?;
        let (body,) =
            row.ok_or_else(|| StoreError::Rejected(format!("there is no action `{action_id}`")))?;
        let mut action: Action = serde_json::from_str(&body).map_err(|e| corrupt("action", e))?;
        let before = serde_json::json!({"status": action.status.slug()});
        action.status = update.status;
        let posted_at = now();
        sqlx::query(
            "INSERT INTO action_updates (action_id, posted_by, posted_at, status, note, evidence_url, revised_due) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(action_id)
        .bind(actor)
        .bind(posted_at)
        .bind(update.status.slug())
        .bind(update.note.trim())
        .bind(update.evidence_url.clone())
        .bind(update.revised_due.map(|p| p.code()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE actions SET status = $1, body = $2 WHERE id = $3")
            .bind(update.status.slug())
            .bind(serde_json::to_string(&action).map_err(|e| corrupt("action", e))?)
            .bind(action_id)
            .execute(&mut *tx)
            .await?;
        let after = serde_json::json!({
            "status": update.status.slug(), "note": update.note.trim(), "evidence_url": update.evidence_url,
            "revised_due": update.revised_due.map(|p| p.code()),
        });
        let org = action.lead_organisations.first().map(|o| o.to_string());
        audit::record(
            &mut tx,
            actor,
            "post-update",
            "action",
            action_id,
            org.as_deref(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(ActionUpdate {
            action_id: action_id.to_string(),
            posted_by: actor.to_string(),
            posted_at,
            status: update.status,
            note: update.note.trim().to_string(),
            evidence_url: update.evidence_url.clone(),
            revised_due: update.revised_due,
        })
    }

    /// The updates of an action, newest first.
    pub async fn action_updates(&self, action_id: &str) -> Result<Vec<ActionUpdate>> {
        let rows = sqlx::query(
            "SELECT action_id, posted_by, posted_at, status, note, evidence_url, revised_due FROM action_updates WHERE action_id = $1 ORDER BY posted_at DESC, id DESC",
        )
        .bind(action_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let revised: Option<String> = r.try_get("revised_due")?;
                Ok(ActionUpdate {
                    action_id: r.try_get("action_id")?,
                    posted_by: r.try_get("posted_by")?,
                    posted_at: r.try_get("posted_at")?,
                    status: status
                        .parse()
                        .map_err(|e: String| corrupt("action update", e))?,
                    note: r.try_get("note")?,
                    evidence_url: r.try_get("evidence_url")?,
                    revised_due: revised
                        .map(|p| Period::parse(&p).map_err(|e| corrupt("action update", e)))
                        .transpose()?,
                })
            })
            .collect()
    }
}
