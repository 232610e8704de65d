//! Travel surveys for organisers: build a survey from the standard question set, open and
//! close it, issue single-use invitations (a CSV of links for a mail merge), import another
//! survey tool's export, and read the analysis — mode share by organisation and site,
//! commuting emissions from the official factors, barriers ranked — per survey or across an
//! organisation's surveys. Organisers are the contributors and admins of the survey's
//! organisation (`Access::can_contribute_for`), checked on the server for every write.

use crate::AppState;
use crate::account::forbidden;
use crate::auth::{Viewer, same_origin};
use crate::charts::{Bar, bar_chart};
use crate::pages::{
    Chrome, PageError, PageResult, csv_bytes, csv_response, html, not_found_error, number, plan,
};
use crate::travel_respond::{open_link_path, respond_path};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::Decimal;
use greenplan_core::footprint::Resolver;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::travel::{
    ACTIVE_TRAVEL_BARRIERS, Mode, PUBLIC_TRANSPORT_BARRIERS, Question, Respondents,
    SCHEME_INTERESTS, mode_share, parse_weeks, ranked,
};
use greenplan_ingest::RowError;
use greenplan_store::{
    NewTravelSurvey, SignedIn, StoreError, SurveyStatus, TravelResponse, TravelSurvey,
    survey_activities,
};
use std::collections::BTreeMap;

mod analysis;
mod survey;
mod surveys;
pub use analysis::*;
pub use survey::*;
pub use surveys::*;

/// Largest survey export accepted.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// A share as a percentage to one decimal place ("35.7%").
pub fn percent_of(share: Decimal) -> String {
    format!(
        "{}%",
        (share * Decimal::ONE_HUNDRED).round_dp(1).normalize()
    )
}

/// An organisation's name as the plan gives it (its code if the plan does not know it).
pub(crate) fn organisation_name(plan: &greenplan_core::plan::Plan, code: &OdsCode) -> String {
    plan.organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

/// The signed-in organiser of `organisation`'s surveys, or why not.
fn organiser(viewer: &Viewer, organisation: &OdsCode) -> Result<SignedIn, PageError> {
    let user = viewer.user.clone().ok_or_else(|| {
        PageError(
            StatusCode::UNAUTHORIZED,
            "Sign in to manage travel surveys.".into(),
        )
    })?;
    if !user.access.can_contribute_for(organisation) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            format!(
                "Only contributors and admins of {organisation} can manage its travel surveys. Ask your organisation admin if you should."
            ),
        ));
    }
    Ok(user)
}

async fn survey_or_404(state: &AppState, id: i64) -> Result<TravelSurvey, PageError> {
    state
        .store
        .travel_survey(id)
        .await?
        .ok_or_else(|| not_found_error("travel survey"))
}

/// A store refusal as a 422 page with its message; other errors as usual.
pub(crate) fn refused(e: StoreError) -> PageError {
    match e {
        StoreError::Rejected(m) => PageError(StatusCode::UNPROCESSABLE_ENTITY, m),
        other => other.into(),
    }
}
