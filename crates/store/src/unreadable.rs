//! Stored rows that cannot be read back, left out instead of failing every page.
//!
//! A row written by an older version, by hand, or before a reader's rule was tightened may no
//! longer decode (issue 21, class 0: one metric value for `Jan 2262` made every page, `/login`
//! included, answer 500). The list readers keep every row that reads back and leave out the
//! rest: each one left out is logged (tracing, `warn`) and remembered here, so a system admin
//! can see what was left out and why ([`Store::unreadable_records`], the admin page) and fix
//! or remove it. Database errors are not this: they still fail the request.

use crate::{Result, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A stored row that could not be read back, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableRecord {
    /// The table the row is in.
    pub table: String,
    /// The row's id (or key) in that table.
    pub id: String,
    /// What was being read (`metric value period`, `action`, ...).
    pub what: String,
    /// Why it could not be read, naming the stored value.
    pub reason: String,
}

/// The rows left out since the last scan, shared by every clone of a [`Store`].
#[derive(Clone, Default)]
pub(crate) struct LeftOut(Arc<Mutex<BTreeMap<(String, String), UnreadableRecord>>>);

impl LeftOut {
    fn insert(&self, record: UnreadableRecord) {
        if let Ok(mut map) = self.0.lock() {
            map.insert((record.table.clone(), record.id.clone()), record);
        }
    }

    fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }

    fn snapshot(&self) -> Vec<UnreadableRecord> {
        self.0
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl Store {
    /// The decoded row, or `None` when it cannot be read back (the row is logged and listed
    /// for system admins). Any other error (the database's) is returned.
    pub(crate) fn keep<T>(
        &self,
        table: &str,
        id: impl ToString,
        decoded: Result<T>,
    ) -> Result<Option<T>> {
        match decoded {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::Corrupt { what, message }) => {
                let id = id.to_string();
                tracing::warn!(table, id, what, reason = %message, "a stored row could not be read back and was left out");
                self.left_out.insert(UnreadableRecord {
                    table: table.to_string(),
                    id,
                    what,
                    reason: message,
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Keeps the rows that read back (see [`Store::keep`]).
    pub(crate) fn keep_all<T>(
        &self,
        table: &str,
        rows: impl IntoIterator<Item = (String, Result<T>)>,
    ) -> Result<Vec<T>> {
        let mut kept = Vec::new();
        for (id, decoded) in rows {
            if let Some(v) = self.keep(table, id, decoded)? {
                kept.push(v);
            }
        }
        Ok(kept)
    }

    /// Every stored row the readers leave out, found by reading the plan, its metric values,
    /// every action's updates, the reporting periods and returns, and the months of medicines
    /// data afresh. For the system admins' page: each row with its table, id and reason.
    pub async fn unreadable_records(&self) -> Result<Vec<UnreadableRecord>> {
        self.left_out.clear();
        self.load_plan().await?;
        let actions: Vec<(String,)> = sqlx::query_as("SELECT id FROM actions")
            .fetch_all(self.pool())
            .await?;
        for (id,) in actions {
            self.action_updates(&id).await?;
        }
        for period in self.reporting_periods().await? {
            self.returns_for(period.quarter).await?;
        }
        self.prescribing_months().await?;
        self.gas_returns(None).await?;
        Ok(self.left_out.snapshot())
    }
}
