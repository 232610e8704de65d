//! The routes of the travel and digital tools, kept out of the main router so the tools can
//! grow without touching it (the others are in `tools`): travel surveys (TT1) and the green digital benefits
//! framework (DT1). The public survey pages are the only pages a respondent reaches without
//! signing in, even where reading needs a login ([`is_public`]).

use crate::{AppState, digital, travel, travel_respond};
use axum::Router;
use axum::routing::{get, post};

/// Paths anyone may reach, whatever the deployment's login rule: a survey's open link and
/// the questions behind a single-use token.
pub fn is_public(path: &str) -> bool {
    path.starts_with("/tools/travel-surveys/take/")
        || path.starts_with("/tools/travel-surveys/respond/")
}

/// The tools' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/tools/travel-surveys",
            get(travel::surveys_page).post(travel::create_survey),
        )
        .route("/tools/travel-surveys/{id}", get(travel::survey_page))
        .route("/tools/travel-surveys/{id}/open", post(travel::open_survey))
        .route(
            "/tools/travel-surveys/{id}/close",
            post(travel::close_survey),
        )
        .route(
            "/tools/travel-surveys/{id}/invitations",
            post(travel::invitations),
        )
        .route(
            "/tools/travel-surveys/{id}/import",
            post(travel::import_responses).layer(axum::extract::DefaultBodyLimit::max(
                travel::MAX_IMPORT_BYTES,
            )),
        )
        .route(
            "/tools/travel-surveys/{id}/analysis",
            get(travel::survey_analysis),
        )
        .route(
            "/tools/travel-surveys/{id}/exclusions",
            post(travel::exclude_answers),
        )
        .route(
            "/tools/travel-surveys/{id}/mode-share.csv",
            get(travel::survey_share_csv),
        )
        .route(
            "/tools/travel-surveys/organisations/{code}/analysis",
            get(travel::organisation_analysis),
        )
        .route(
            "/tools/travel-surveys/organisations/{code}/mode-share.csv",
            get(travel::organisation_share_csv),
        )
        .route(
            "/tools/travel-surveys/take/{link}",
            get(travel_respond::take).post(travel_respond::start),
        )
        .route(
            "/tools/travel-surveys/respond/{token}",
            get(travel_respond::questions)
                .post(travel_respond::answer)
                .layer(axum::extract::DefaultBodyLimit::max(
                    travel_respond::MAX_ANSWER_BYTES,
                )),
        )
        .route(
            "/tools/digital-benefits",
            get(digital::portfolio_page).post(digital::add_scheme),
        )
        .route("/tools/digital-benefits/new", get(digital::new_scheme_page))
        .route(
            "/tools/digital-benefits/{id}",
            get(digital::scheme_page).post(digital::edit_scheme),
        )
        .route(
            "/tools/digital-benefits/{id}/edit",
            get(digital::edit_scheme_page),
        )
}
