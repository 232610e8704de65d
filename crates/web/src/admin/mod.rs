//! The ICB sustainability lead's pages: edit the plan (areas, actions, metrics and their
//! targets), add and archive organisations, manage people and their roles. Organisation
//! admins manage their own organisation's people. Every handler checks the signed-in person's
//! access on the server and carries a CSRF token; the store audits each change.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::stale::{StaleNotice, fresh_plan, revision_of, stale_of};
use crate::kit::{Chrome, PageError, PageResult, html, not_found_error, plan};
use crate::kit::{Routes, Write};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{DeliveryDate, Period};
use greenplan_core::plan::{Action, Area, Metric, Organisation, OrganisationKind};
use greenplan_core::target::{Baseline, Direction, Target};
use greenplan_store::SignedIn;

mod actions;
mod areas;
mod index;
mod metrics;
mod organisations;
mod people;
pub use actions::*;
pub use areas::*;
pub use index::*;
pub use metrics::*;
pub use organisations::*;
pub use people::*;

/// Only the ICB's sustainability lead (a system admin) may change the plan.
fn plan_editor(user: &SignedIn) -> Result<(), PageError> {
    if user.access.can_run_the_plan() {
        Ok(())
    } else {
        Err(PageError::Forbidden("Only the ICB's system administrators can change the plan, its organisations and its reporting periods.".into(),
        ))
    }
}

/// A signed-in reader who may edit the plan, for the edit pages (GET).
fn editor_of(viewer: &Viewer) -> Result<&SignedIn, PageError> {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to edit the plan.".into()))?;
    plan_editor(user)?;
    Ok(user)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A form shown again with what to fix (422).
fn shown_again<T: Template>(page: T) -> PageResult {
    let mut page = html(page)?;
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page)
}

/// A form shown again after a save from a stale copy was refused (409).
fn shown_stale<T: Template>(page: T) -> PageResult {
    let mut page = html(page)?;
    *page.status_mut() = StatusCode::CONFLICT;
    Ok(page)
}

/// The revision of a plan record, read before the record (see `Store::revision`); a
/// record the store does not hold is not found.
async fn revision_now(
    state: &AppState,
    kind: greenplan_store::Revised,
    key: &str,
) -> Result<i64, PageError> {
    state
        .store
        .revision(kind, key)
        .await?
        .ok_or_else(|| not_found_error(kind.noun()))
}

fn see_other(to: &str) -> PageResult {
    Ok(Redirect::to(to).into_response())
}

/// Editing the plan and running the deployment: areas, actions, metrics, organisations and
/// people.
pub fn routes() -> Routes {
    Routes::new()
        .get("/actions/{id}/edit", edit_action_page)
        .post("/actions/{id}/edit", Write::SystemAdmins, edit_action)
        .post("/actions/{id}/archive", Write::SystemAdmins, archive_action)
        .post(
            "/actions/{id}/milestones/{number}/done",
            Write::Contributors,
            milestone_done,
        )
        .get("/areas/{code}/edit", edit_area_page)
        .post("/areas/{code}/edit", Write::SystemAdmins, edit_area)
        .get("/areas/{code}/actions/new", new_action_page)
        .post("/areas/{code}/actions", Write::SystemAdmins, add_action)
        .get("/metrics/{id}/edit", edit_metric_page)
        .post("/metrics/{id}/edit", Write::SystemAdmins, edit_metric)
        .get("/admin", admin_index)
        .get("/admin/organisations", organisations_page)
        .post(
            "/admin/organisations",
            Write::SystemAdmins,
            add_organisation,
        )
        .post(
            "/admin/organisations/{code}",
            Write::SystemAdmins,
            edit_organisation,
        )
        .post(
            "/admin/organisations/{code}/archive",
            Write::SystemAdmins,
            archive_organisation,
        )
        .get("/admin/users", users_page)
        .post("/admin/users", Write::OrganisationAdmins, add_user)
        .post(
            "/admin/users/roles/remove",
            Write::OrganisationAdmins,
            remove_role,
        )
        .post("/admin/users/disable", Write::SystemAdmins, disable_user)
        .post(
            "/admin/users/tokens/revoke",
            Write::OrganisationAdmins,
            revoke_user_token,
        )
}
