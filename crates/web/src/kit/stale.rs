//! Saves from a stale copy: every edit form carries the revision of the record it was drawn
//! from (a hidden `revision` field); the store refuses a save whose revision is no longer the
//! record's (`greenplan_store::StaleEdit`), and the handler shows the form again with the
//! person's own input kept, the changes made since (who, when, each field before and after,
//! from the audit trail) and the record's present revision, so a deliberate second save after
//! reading them goes through. Nothing is overwritten without the person seeing what they
//! would overwrite.

use crate::kit::{PageError, when};
use axum::http::StatusCode;
use greenplan_store::{StaleEdit, StoreError};

/// The name of the hidden field that carries a record's revision.
pub const FIELD: &str = "revision";

/// A refused save, as an edit page shows it.
#[derive(Debug, Clone)]
pub struct StaleNotice {
    /// What happened, in a sentence.
    pub summary: String,
    pub changes: Vec<ChangeView>,
}

#[derive(Debug, Clone)]
pub struct ChangeView {
    pub actor: String,
    pub when: String,
    pub action: String,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone)]
pub struct FieldView {
    pub field: String,
    pub before: String,
    pub after: String,
}

impl StaleNotice {
    /// The notice of `stale`, naming each field with `label` (a field's key → its label).
    pub fn of(stale: &StaleEdit, label: &dyn Fn(&str) -> String) -> Self {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
        Self {
            summary: format!(
                "Someone changed this {} after you opened it, so your changes were not saved. Your input is kept below; check the changes since, then save again if yours should still apply.",
                stale.kind.noun()
            ),
            changes: stale
                .changes
                .iter()
                .map(|c| ChangeView {
                    actor: c.actor.clone(),
                    when: when(c.at),
                    action: c.action.clone(),
                    fields: c
                        .fields
                        .iter()
                        .map(|f| FieldView {
                            field: label(&f.field),
                            before: shown(&f.before),
                            after: shown(&f.after),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The notice with each field named as the audit trail names it.
    pub fn plain(stale: &StaleEdit) -> Self {
        Self::of(stale, &|f| f.to_string())
    }
}

/// Splits a store error into a stale save (to show the form again) or anything else.
pub fn stale_of(e: StoreError) -> Result<Box<StaleEdit>, StoreError> {
    match e {
        StoreError::Stale(s) => Ok(s),
        other => Err(other),
    }
}

/// The revision a form sent, or a 422 saying to reload: a form without one (an old page, a
/// script) could otherwise overwrite changes it never saw.
pub fn revision_of(sent: Option<&str>) -> Result<i64, PageError> {
    sent.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|r| *r >= 0)
        .ok_or_else(|| {
            PageError::Unprocessable("This form did not say which version of the record it was drawn from (its `revision` field), so it was not saved: open the edit page again and make your change there.".into(),
            )
        })
}

/// A stale save refused where no form can be shown again (a button such as "archive"): a 409
/// page naming who changed what since.
pub fn conflict_page(stale: &StaleEdit) -> PageError {
    let notice = StaleNotice::plain(stale);
    let mut message = notice.summary.replace(
        " Your input is kept below; check the changes since, then save again if yours should still apply.",
        " Reload the page, check the changes, then try again.",
    );
    for c in &notice.changes {
        message.push_str(&format!(" {} ({}, {})", c.actor, c.when, c.action));
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("{}: {} → {}", f.field, f.before, f.after))
            .collect();
        if !fields.is_empty() {
            message.push_str(&format!(": {}", fields.join("; ")));
        }
        message.push('.');
    }
    PageError::Conflict(message)
}

/// The plan as stored now, not the cached copy: an edit page must show the record at the
/// revision it carries, and a save must build on the record as stored (a cache another
/// server's write has not yet reached would put back what that write changed).
pub async fn fresh_plan(state: &crate::AppState) -> Result<greenplan_core::plan::Plan, PageError> {
    state.store.load_plan().await?.ok_or_else(|| {
        PageError::Unavailable(
            "No plan is loaded yet. Run `greenplan init` to load the built-in plan.".into(),
        )
    })
}

/// A form shown again after a save from a stale copy was refused: 409 Conflict.
pub fn shown_stale<T: askama::Template>(page: T) -> crate::kit::PageResult {
    let mut page = crate::kit::html(page)?;
    *page.status_mut() = StatusCode::CONFLICT;
    Ok(page)
}
