//! Travel surveys for organisers: build a survey from the standard question set, open and
//! close it, issue single-use invitations (a CSV of links for a mail merge), import another
//! survey tool's export, and read the analysis — mode share by organisation and site,
//! commuting emissions from the official factors, barriers ranked — per survey or across an
//! organisation's surveys. Organisers are the contributors and admins of the survey's
//! organisation (`Access::can_contribute_for`), checked on the server for every write.

pub mod respond;
use crate::AppState;
use crate::kit::auth::{Viewer, same_origin};
use crate::kit::charts::{Bar, bar_chart};
use crate::kit::forbidden_form;
use crate::kit::organisation_full_name as organisation_name;
use crate::kit::{
    Chrome, PageError, PageResult, csv_bytes, csv_response, html, not_found_error, number, plan,
};
use crate::kit::{Routes, Write};
use crate::travel::respond::{open_link_path, respond_path};
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
    NewTravelSurvey, SignedIn, SurveyStatus, TravelResponse, TravelSurvey, survey_activities,
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

/// The signed-in organiser of `organisation`'s surveys, or why not.
fn organiser(viewer: &Viewer, organisation: &OdsCode) -> Result<SignedIn, PageError> {
    let user = viewer
        .user
        .clone()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to manage travel surveys.".into()))?;
    if !user.access.can_contribute_for(organisation) {
        return Err(PageError::Forbidden(format!(
            "Only contributors and admins of {organisation} can manage its travel surveys. Ask your organisation admin if you should."
        )));
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

/// Paths anyone may reach, whatever the deployment's login rule: a survey's open link and
/// the questions behind a single-use token.
pub fn is_public(path: &str) -> bool {
    path.starts_with("/tools/travel-surveys/take/")
        || path.starts_with("/tools/travel-surveys/respond/")
}

/// The travel survey routes (TT1). Organisers' writes are checked against the survey's
/// organisation in the handlers; a respondent's pages are open to anyone holding the link.
pub fn routes() -> Routes {
    Routes::new()
        .get("/tools/travel-surveys", surveys_page)
        .post("/tools/travel-surveys", Write::Contributors, create_survey)
        .get("/tools/travel-surveys/{id}", survey_page)
        .post(
            "/tools/travel-surveys/{id}/open",
            Write::Contributors,
            open_survey,
        )
        .post(
            "/tools/travel-surveys/{id}/close",
            Write::Contributors,
            close_survey,
        )
        .post(
            "/tools/travel-surveys/{id}/invitations",
            Write::Contributors,
            invitations,
        )
        .post_up_to(
            "/tools/travel-surveys/{id}/import",
            Write::Contributors,
            MAX_IMPORT_BYTES,
            import_responses,
        )
        .get("/tools/travel-surveys/{id}/analysis", survey_analysis)
        .post(
            "/tools/travel-surveys/{id}/exclusions",
            Write::Contributors,
            exclude_answers,
        )
        .get(
            "/tools/travel-surveys/{id}/mode-share.csv",
            survey_share_csv,
        )
        .get(
            "/tools/travel-surveys/organisations/{code}/analysis",
            organisation_analysis,
        )
        .get(
            "/tools/travel-surveys/organisations/{code}/mode-share.csv",
            organisation_share_csv,
        )
        .get("/tools/travel-surveys/take/{link}", respond::take)
        .post(
            "/tools/travel-surveys/take/{link}",
            Write::Anyone,
            respond::start,
        )
        .get("/tools/travel-surveys/respond/{token}", respond::questions)
        .post_up_to(
            "/tools/travel-surveys/respond/{token}",
            Write::Anyone,
            respond::MAX_ANSWER_BYTES,
            respond::answer,
        )
}
