//! Page handlers and their view models. Every figure is formatted here, in Rust, so templates
//! only place text (and askama escapes it).

use crate::AppState;
use crate::auth::Viewer;
use crate::charts::{Bar, bar_chart, trajectory_chart};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use greenplan_core::Decimal;
use greenplan_core::category::{Footprint, NhsCategory};
use greenplan_core::footprint::{Aggregator, FootprintTable, GroupBy};
use greenplan_core::period::Quarter;
use greenplan_core::plan::{Action, Plan};
use greenplan_core::progress::{MetricProgress, metric_progress};
use greenplan_core::quantity::with_thousands;
use greenplan_core::target::Rating;
use greenplan_service::footprint::{FootprintError, FootprintQuery, for_each_emission};
use serde::Deserialize;
use std::sync::Arc;

mod actions;
mod dashboard;
mod metrics;
mod organisations;
pub use actions::*;
pub use dashboard::*;
pub use metrics::*;
pub use organisations::*;

/// What every page's header needs: who is signed in and the token their forms carry.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub signed_in: Option<String>,
    pub csrf: String,
    pub is_admin: bool,
}

impl Chrome {
    pub fn of(viewer: &Viewer) -> Self {
        Self {
            signed_in: viewer.user.as_ref().map(|u| u.name.clone()),
            csrf: viewer.csrf(),
            is_admin: viewer
                .user
                .as_ref()
                .is_some_and(|u| u.access.is_system_admin()),
        }
    }
}

/// An error page; the cause is logged, the page stays plain.
pub struct PageError(pub StatusCode, pub String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.0 {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::FORBIDDEN => "You cannot do that",
            StatusCode::UNAUTHORIZED => "Sign in to continue",
            StatusCode::BAD_REQUEST => "There is a problem with the address",
            StatusCode::SERVICE_UNAVAILABLE => "Service unavailable",
            StatusCode::INSUFFICIENT_STORAGE => "The storage is full",
            _ => "Sorry, there is a problem with the service",
        };
        let page = ErrorPage {
            title: title.to_string(),
            chrome: Chrome::default(),
            message: self.1,
        };
        (self.0, Html(page.render().unwrap_or_default())).into_response()
    }
}

impl From<greenplan_store::StoreError> for PageError {
    fn from(e: greenplan_store::StoreError) -> Self {
        // A save from a stale copy that no form is shown again for: a 409 naming the changes.
        if let greenplan_store::StoreError::Stale(stale) = &e {
            return crate::stale::conflict_page(stale);
        }
        match e {
            // 507: the change was refused whole, and will succeed once space is freed.
            greenplan_store::StoreError::StorageFull(cause) => {
                tracing::error!(error = %cause, "storage full");
                PageError(StatusCode::INSUFFICIENT_STORAGE, STORAGE_FULL.into())
            }
            // The store's refusals are written for the person (e.g. text it cannot hold).
            greenplan_store::StoreError::Rejected(message) => {
                PageError(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            e => {
                tracing::error!(error = %e, "store error");
                PageError(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong reading the plan. Please try again; if it persists, tell your system administrator.".into())
            }
        }
    }
}

/// What a person is told when the database's storage is full (pages and API alike).
pub const STORAGE_FULL: &str = "The storage is full, nothing was changed. Tell your system administrator; once they have freed space, try again.";

impl From<FootprintError> for PageError {
    fn from(e: FootprintError) -> Self {
        match e {
            FootprintError::Store(e) => e.into(),
            FootprintError::File(e) => {
                tracing::error!(error = %e, "inhaler product table");
                PageError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The inhaler product table could not be read.".into(),
                )
            }
        }
    }
}

pub type PageResult = Result<Response, PageError>;

pub fn html<T: Template>(t: T) -> PageResult {
    t.render().map(|s| Html(s).into_response()).map_err(|e| {
        tracing::error!(error = %e, "template error");
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The page could not be drawn.".into(),
        )
    })
}

pub fn not_found_error(what: &str) -> PageError {
    PageError(
        StatusCode::NOT_FOUND,
        format!("There is no {what} here. Check the address, or start from the dashboard."),
    )
}

pub async fn plan(state: &AppState) -> Result<Arc<Plan>, PageError> {
    let mut cached = state.cache.0.lock().await;
    let fresh = cached
        .checked
        .is_some_and(|t| t.elapsed() < crate::cache::REVISION_CHECK);
    if !fresh {
        let revision = state.store.data_revision().await?;
        if revision != cached.revision || cached.plan.is_none() {
            *cached = crate::cache::Cached {
                revision,
                ..Default::default()
            };
        }
        cached.checked = Some(std::time::Instant::now());
    }
    if let Some(plan) = &cached.plan {
        return Ok(plan.clone());
    }
    let plan = Arc::new(state.store.load_plan().await?.ok_or_else(|| {
        PageError(
            StatusCode::SERVICE_UNAVAILABLE,
            "No plan is loaded yet. Run `greenplan init` to load the built-in plan.".into(),
        )
    })?);
    cached.plan = Some(plan.clone());
    Ok(plan)
}

/// "31 March 2026".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// An action as a row in a list.
pub struct ActionRow {
    pub id: String,
    pub title: String,
    pub leads: String,
    pub delivery: String,
    pub due: String,
    pub status: String,
    pub rag: String,
    pub area: String,
}

fn action_row(a: &Action, plan: &Plan) -> ActionRow {
    ActionRow {
        id: a.id.clone(),
        title: a.title.clone(),
        leads: a.leads.join(", "),
        delivery: a.delivery.written.clone(),
        due: due_text(a),
        status: a.status.label().into(),
        rag: a.status.rag().into(),
        area: plan
            .areas
            .iter()
            .find(|x| x.code == a.area)
            .map_or_else(|| a.area.clone(), |x| x.name.clone()),
    }
}

/// The parsed delivery period, said only where it adds to the words of the plan.
fn due_text(a: &Action) -> String {
    let period = a.delivery.period.to_string();
    let written = a.delivery.written.as_str();
    match a.delivery.period.end() {
        None => String::new(),
        Some(end) if written.contains(&period) || a.delivery.ongoing => {
            format!("by {}", long_date(end))
        }
        Some(end) => format!("{period}, by {}", long_date(end)),
    }
}

/// A metric as a row in a list.
pub struct MetricRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub latest: String,
    pub expected: String,
    pub rating: String,
    pub rag: String,
}

fn metric_row(m: &greenplan_core::plan::Metric, p: &MetricProgress, plan: &Plan) -> MetricRow {
    MetricRow {
        id: m.id.clone(),
        name: m.name.clone(),
        scope: m
            .organisation
            .as_ref()
            .and_then(|o| plan.organisation(o))
            .map_or_else(|| "System".into(), |o| o.display_name().to_string()),
        latest: p.latest.map_or_else(
            || "No value yet".into(),
            |(period, v)| format!("{} {} ({period})", number(v), m.unit),
        ),
        expected: p
            .expected
            .map_or_else(String::new, |e| format!("{} {}", number(e), m.unit)),
        rating: p.rating.label().into(),
        rag: p.rating.rag().into(),
    }
}

/// A figure with thousands separators and no needless decimals.
pub(crate) fn number(v: Decimal) -> String {
    let v = v.normalize();
    with_thousands(v, v.scale().min(3))
}

fn rating_order(r: Rating) -> u8 {
    match r {
        Rating::OffTrack => 0,
        Rating::AtRisk => 1,
        Rating::OnTrack => 2,
        Rating::NotRated => 3,
    }
}

/// One line of the footprint on the dashboard.
pub struct FootprintRow {
    pub label: String,
    pub carbon_footprint: String,
    pub plus: String,
    pub total: String,
}

/// The stored conversion factors, read once per data revision.
pub async fn factors(
    state: &AppState,
) -> Result<Arc<greenplan_service::footprint::FactorsInForce>, PageError> {
    plan(state).await?; // brings the cache up to the current revision
    let revision = {
        let cached = state.cache.0.lock().await;
        if let Some(known) = &cached.factors {
            return Ok(known.clone());
        }
        cached.revision
    };
    let loaded = Arc::new(
        greenplan_service::footprint::FactorsInForce::load(&state.store, [])
            .await
            .map_err(greenplan_service::footprint::FootprintError::from)?,
    );
    let mut cached = state.cache.0.lock().await;
    if cached.revision == revision {
        cached.factors = Some(loaded.clone());
    }
    Ok(loaded)
}

/// The footprint by organisation and category, computed once per data revision.
pub async fn footprint(state: &AppState) -> Result<Option<Arc<FootprintTable>>, PageError> {
    plan(state).await?; // brings the cache up to the current revision
    if let Some(known) = &state.cache.0.lock().await.footprint {
        return Ok(known.clone());
    }
    // One request computes; the others wait for it rather than each reading every row.
    let _computing = state.cache.1.lock().await;
    let revision = {
        let cached = state.cache.0.lock().await;
        if let Some(known) = &cached.footprint {
            return Ok(known.clone());
        }
        cached.revision
    };
    let mut agg = Aggregator::new(&[GroupBy::Organisation, GroupBy::Category], false);
    let mut emissions = 0u64;
    let run = for_each_emission(&state.store, &FootprintQuery::default(), |e| {
        emissions += 1;
        agg.add(0, &e);
    })
    .await?;
    let table = with_unsummed(agg.finish(), &run.unsummed);
    let table = (emissions > 0 || !table.unsummed.is_empty()).then(|| Arc::new(table));
    let mut cached = state.cache.0.lock().await;
    // Keep it only if nothing was written meanwhile: otherwise the next request recomputes.
    if cached.revision == revision {
        cached.footprint = Some(table.clone());
    }
    Ok(table)
}

/// The footprint with the rows that could not be summed (too large, from before quantities
/// were bounded at import) named by organisation, however they were found: by the resolver
/// (a row's own figures) or by the sums (issue 21, class 2).
fn with_unsummed(
    mut table: FootprintTable,
    found: &[greenplan_core::footprint::Unsummed],
) -> FootprintTable {
    for u in found {
        greenplan_core::footprint::Unsummed::note(&mut table.unsummed, &u.organisation, u.rows);
    }
    table
}

/// The sentence every footprint page shows when some organisation's rows were left out.
pub fn unsummed_notice(table: &FootprintTable) -> Option<String> {
    (!table.unsummed.is_empty()).then(|| {
        format!(
            "Some rows could not be summed and are left out of the footprint: {}. Their quantities are far too large to be real; the organisation should correct and re-import them.",
            greenplan_core::footprint::Unsummed::describe(&table.unsummed)
        )
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    chrome: Chrome,
    message: String,
}

pub async fn not_found() -> Response {
    not_found_error("page").into_response()
}
