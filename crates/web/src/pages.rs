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
#[template(path = "dashboard.html")]
struct Dashboard {
    title: String,
    chrome: Chrome,
    plan: Arc<Plan>,
    period: String,
    quarter: String,
    today: String,
    areas: Vec<(String, String, Vec<ActionRow>, Option<String>)>,
    metrics_rated: Vec<MetricRow>,
    not_rated: usize,
    due: Vec<ActionRow>,
    overdue: Vec<ActionRow>,
    footprint: Vec<FootprintRow>,
    footprint_chart: String,
    /// Which organisations' rows could not be summed, if any.
    footprint_unsummed: Option<String>,
    quality_flags: Vec<greenplan_core::quality::UnitFlag>,
}

pub async fn dashboard(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let today = today();
    // Anonymous readers all see the same page: draw it once per revision and day.
    let anonymous = viewer.user.is_none();
    if anonymous
        && let Some((day, page)) = &state.cache.0.lock().await.dashboard
        && *day == today
    {
        return Ok(Html(page.as_str().to_owned()).into_response());
    }
    let quarter = Quarter::containing(today);
    let areas = plan
        .areas
        .iter()
        .map(|a| {
            let actions = plan
                .actions
                .iter()
                .filter(|x| x.area == a.code)
                .map(|x| action_row(x, &plan))
                .collect();
            (
                a.code.clone(),
                a.name.clone(),
                actions,
                a.no_actions_reason.clone(),
            )
        })
        .collect();
    let mut rated: Vec<(Rating, MetricRow)> = plan
        .metrics
        .iter()
        .map(|m| {
            let p = metric_progress(m, &plan.data_points);
            (p.rating, metric_row(m, &p, &plan))
        })
        .collect();
    rated.sort_by_key(|(r, _)| rating_order(*r));
    let not_rated = rated.iter().filter(|(r, _)| *r == Rating::NotRated).count();
    let metrics_rated = rated
        .into_iter()
        .filter(|(r, _)| *r != Rating::NotRated)
        .map(|(_, m)| m)
        .collect();
    let due = plan
        .actions
        .iter()
        .filter(|a| {
            !a.delivery.ongoing
                && a.delivery
                    .period
                    .end()
                    .is_some_and(|e| e >= quarter.start() && e <= quarter.end())
        })
        .map(|a| action_row(a, &plan))
        .collect();
    let overdue = plan
        .actions
        .iter()
        .filter(|a| {
            a.status != greenplan_core::plan::ActionStatus::Complete && a.delivery.is_overdue(today)
        })
        .map(|a| action_row(a, &plan))
        .collect();
    let table = footprint(&state).await?;
    let footprint_unsummed = table.as_deref().and_then(unsummed_notice);
    let (footprint, footprint_chart) = match table {
        Some(t) => footprint_view(&t, &plan),
        None => (Vec::new(), String::new()),
    };
    let page = Dashboard {
        chrome: Chrome::of(&viewer),
        title: "Dashboard".into(),
        period: format!("{} to {}", plan.info.first_year, plan.info.last_year),
        quarter: quarter.to_string(),
        today: long_date(today),
        areas,
        metrics_rated,
        not_rated,
        due,
        overdue,
        footprint,
        footprint_chart,
        footprint_unsummed,
        quality_flags: greenplan_core::quality::unit_flags(&plan),
        plan,
    };
    let rendered = page.render().map_err(|e| {
        tracing::error!(error = %e, "template error");
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The page could not be drawn.".into(),
        )
    })?;
    if anonymous {
        state.cache.0.lock().await.dashboard = Some((today, Arc::new(rendered.clone())));
    }
    Ok(Html(rendered).into_response())
}

fn footprint_view(t: &FootprintTable, plan: &Plan) -> (Vec<FootprintRow>, String) {
    let mut orgs: Vec<String> = t.lines.iter().map(|l| l.key[0].clone()).collect();
    orgs.dedup();
    let tonnes = |kg: Decimal| with_thousands(kg / Decimal::ONE_THOUSAND, 1);
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    for org in orgs {
        let lines: Vec<_> = t.lines.iter().filter(|l| l.key[0] == org).collect();
        let part = |fp: Footprint| -> Decimal {
            lines
                .iter()
                .filter(|l| {
                    l.key[1]
                        .parse::<NhsCategory>()
                        .is_ok_and(|c| c.footprint() == fp)
                })
                .map(|l| l.kgco2e)
                .fold(Decimal::ZERO, Decimal::saturating_add)
        };
        let (cf, plus) = (
            part(Footprint::CarbonFootprint),
            part(Footprint::CarbonFootprintPlus),
        );
        // The sums are checked (the aggregator leaves out what would not fit); saturating here
        // keeps the page up even so.
        let both = cf.saturating_add(plus);
        let name = greenplan_core::ods::OdsCode::parse(&org)
            .ok()
            .and_then(|c| plan.organisation(&c).map(|o| o.display_name().to_string()))
            .unwrap_or(org);
        bars.push(Bar {
            label: name.clone(),
            value: both,
            display: format!("{} tCO2e", tonnes(both)),
        });
        rows.push(FootprintRow {
            label: name,
            carbon_footprint: tonnes(cf),
            plus: tonnes(plus),
            total: tonnes(both),
        });
    }
    let chart = bar_chart("Carbon footprint by organisation, tCO2e", &bars);
    (rows, chart)
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaPage {
    title: String,
    chrome: Chrome,
    history: Vec<HistoryRow>,
    area: greenplan_core::plan::Area,
    actions: Vec<ActionRow>,
    metrics: Vec<MetricRow>,
    case_studies: Vec<greenplan_core::plan::CaseStudy>,
}

pub async fn area(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let plan = plan(&state).await?;
    let area = plan
        .areas
        .iter()
        .find(|a| a.code == code)
        .cloned()
        .ok_or_else(|| not_found_error("area of focus"))?;
    let actions = plan
        .actions
        .iter()
        .filter(|a| a.area == code)
        .map(|a| action_row(a, &plan))
        .collect();
    let metrics = plan
        .metrics
        .iter()
        .filter(|m| m.area.as_deref() == Some(code.as_str()))
        .map(|m| metric_row(m, &metric_progress(m, &plan.data_points), &plan))
        .collect();
    let case_studies = plan
        .case_studies
        .iter()
        .filter(|c| c.area.as_deref() == Some(code.as_str()))
        .cloned()
        .collect();
    html(AreaPage {
        history: history_of(&state, "area", &area.code).await?,
        chrome: Chrome::of(&viewer),
        title: area.name.clone(),
        area,
        actions,
        metrics,
        case_studies,
    })
}

#[derive(Deserialize)]
pub struct ActionFilter {
    area: Option<String>,
    status: Option<String>,
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "actions.html")]
struct ActionsPage {
    title: String,
    chrome: Chrome,
    actions: Vec<ActionRow>,
    areas: Vec<(String, String, bool)>,
    statuses: Vec<(String, String, bool)>,
    q: String,
}

pub async fn actions(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(filter): Query<ActionFilter>,
) -> PageResult {
    let plan = plan(&state).await?;
    let q = filter.q.clone().unwrap_or_default().to_lowercase();
    let area = filter.area.clone().filter(|a| !a.is_empty());
    let status = filter.status.clone().filter(|s| !s.is_empty());
    let actions = plan
        .actions
        .iter()
        .filter(|a| area.as_ref().is_none_or(|x| &a.area == x))
        .filter(|a| status.as_ref().is_none_or(|s| a.status.slug() == s))
        .filter(|a| {
            q.is_empty()
                || format!("{} {} {}", a.title, a.leads.join(" "), a.success_measure)
                    .to_lowercase()
                    .contains(&q)
        })
        .map(|a| action_row(a, &plan))
        .collect();
    html(ActionsPage {
        chrome: Chrome::of(&viewer),
        title: "Priority actions".into(),
        actions,
        areas: plan
            .areas
            .iter()
            .map(|a| {
                (
                    a.code.clone(),
                    a.name.clone(),
                    area.as_deref() == Some(a.code.as_str()),
                )
            })
            .collect(),
        statuses: greenplan_core::plan::ActionStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.slug().to_string(),
                    s.label().to_string(),
                    status.as_deref() == Some(s.slug()),
                )
            })
            .collect(),
        q: filter.q.unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "action.html")]
struct ActionPage {
    title: String,
    chrome: Chrome,
    action: Action,
    row: ActionRow,
    area_name: String,
    organisations: Vec<(String, String)>,
    metrics: Vec<MetricRow>,
    milestones: Vec<MilestoneRow>,
    shifts: Vec<String>,
    policies: Vec<String>,
    sdgs: Vec<String>,
    can_update: bool,
    updates: Vec<UpdateRow>,
    history: Vec<HistoryRow>,
    statuses: Vec<(String, String, bool)>,
    form: UpdateForm,
    error: String,
    links: crate::tools::ActionLinks,
    /// The action's revision, sent by the "mark done" buttons (`crate::stale`).
    revision: i64,
}

/// A posted progress update, as shown on the action page.
pub struct UpdateRow {
    pub when: String,
    pub by: String,
    pub status: String,
    pub rag: String,
    pub note: String,
    pub evidence_url: String,
    /// An attached file: its number and name.
    pub evidence_file: Option<(i64, String)>,
    pub revised_due: String,
}

/// A milestone of an action and whether it is done.
pub struct MilestoneRow {
    pub number: usize,
    pub title: String,
    pub delivery: String,
    pub success_measure: String,
    /// "Done: <when>, <who>", or empty.
    pub done: String,
}

/// The latest changes to a record, from the audit trail, for its page.
pub async fn history_of(
    state: &AppState,
    kind: &str,
    id: &str,
) -> Result<Vec<HistoryRow>, PageError> {
    Ok(state
        .store
        .audit_trail(Some((kind, id)), 50)
        .await?
        .into_iter()
        .map(|e| HistoryRow {
            when: when(e.at),
            actor: e.actor,
            action: e.action,
            before: e.before.unwrap_or_default(),
            after: e.after.unwrap_or_default(),
        })
        .collect())
}

/// One line of a record's history (the audit trail).
pub struct HistoryRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub before: String,
    pub after: String,
}

/// The progress update form, as sent (kept to re-show it with an error).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub evidence_url: String,
    #[serde(default)]
    pub revised_due: String,
}

/// "29 November 2026 at 14:05" from Unix seconds.
pub fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.with_timezone(&chrono::Local))
        .map_or_else(String::new, |t| t.format("%-d %B %Y at %H:%M").to_string())
}

pub async fn action(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    if viewer.user.is_some() {
        return html(
            action_page(&viewer, &state, &id, UpdateForm::default(), String::new()).await?,
        );
    }
    anonymous_page(&state, &format!("/actions/{id}"), || async {
        action_page(&viewer, &state, &id, UpdateForm::default(), String::new())
            .await?
            .render()
            .map_err(render_error)
    })
    .await
}

fn render_error(e: askama::Error) -> PageError {
    tracing::error!(error = %e, "template error");
    PageError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The page could not be drawn.".into(),
    )
}

/// A page every anonymous reader sees alike, drawn once per data revision and day.
async fn anonymous_page<F, Fut>(state: &AppState, path: &str, draw: F) -> PageResult
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, PageError>>,
{
    plan(state).await?; // brings the cache up to the current revision
    let key = (path.to_string(), today());
    if let Some(page) = state.cache.0.lock().await.pages.get(&key) {
        return Ok(Html(page.as_str().to_owned()).into_response());
    }
    let page = draw().await?;
    let mut cached = state.cache.0.lock().await;
    if cached.pages.len() < 2_000 {
        cached.pages.insert(key, Arc::new(page.clone()));
    }
    Ok(Html(page).into_response())
}

async fn action_page(
    viewer: &Viewer,
    state: &AppState,
    id: &str,
    form: UpdateForm,
    error: String,
) -> Result<ActionPage, PageError> {
    let plan = plan(state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| not_found_error("priority action"))?;
    let row = action_row(&action, &plan);
    let metrics = action
        .metrics
        .iter()
        .filter_map(|m| plan.metric(m))
        .map(|m| metric_row(m, &metric_progress(m, &plan.data_points), &plan))
        .collect();
    let organisations = action
        .lead_organisations
        .iter()
        .filter_map(|c| plan.organisation(c))
        .map(|o| (o.code.to_string(), o.name.clone()))
        .collect();
    let revision = state
        .store
        .revision(greenplan_store::Revised::Action, &action.id)
        .await?
        .unwrap_or_default();
    let done = state.store.milestones_done(&action.id).await?;
    let milestones = action
        .milestones
        .iter()
        .enumerate()
        .map(|(i, m)| MilestoneRow {
            number: i + 1,
            title: m.title.clone().unwrap_or_default(),
            delivery: m.delivery.written.clone(),
            success_measure: m.success_measure.clone().unwrap_or_default(),
            done: done
                .iter()
                .find(|d| d.milestone == i as i64)
                .map(|d| format!("Done: {}, {}", when(d.done_at), d.done_by))
                .unwrap_or_default(),
        })
        .collect();
    let shifts = action
        .shifts
        .iter()
        .filter_map(|s| plan.shifts.iter().find(|x| &x.code == s))
        .map(|s| s.name.clone())
        .collect();
    let policies = action
        .guiding_policies
        .iter()
        .filter_map(|s| plan.guiding_policies.iter().find(|x| &x.code == s))
        .map(|s| format!("{}: {}", s.code, s.name))
        .collect();
    let sdgs = action
        .sdgs
        .iter()
        .filter_map(|n| plan.sdgs.iter().find(|x| x.number == *n))
        .map(|s| format!("Goal {}: {}", s.number, s.name))
        .collect();
    let can_update = viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_update_action(&action, &plan));
    let updates = state
        .store
        .action_updates(&action.id)
        .await?
        .into_iter()
        .map(|u| UpdateRow {
            when: when(u.posted_at),
            by: u.posted_by,
            status: u.status.label().into(),
            rag: u.status.rag().into(),
            note: u.note,
            evidence_url: u.evidence_url.unwrap_or_default(),
            evidence_file: u.evidence_file,
            revised_due: u.revised_due.map(|p| p.to_string()).unwrap_or_default(),
        })
        .collect();
    let history = history_of(state, "action", &action.id).await?;
    let selected = if form.status.is_empty() {
        action.status.slug().to_string()
    } else {
        form.status.clone()
    };
    let statuses = greenplan_core::plan::ActionStatus::ALL
        .iter()
        .map(|s| {
            (
                s.slug().to_string(),
                s.label().to_string(),
                s.slug() == selected,
            )
        })
        .collect();
    Ok(ActionPage {
        revision,
        links: crate::tools::action_links(state, &action.id).await?,
        chrome: Chrome::of(viewer),
        can_update,
        updates,
        history,
        statuses,
        form,
        error,
        title: format!(
            "{} {}",
            action.id,
            action.title.chars().take(60).collect::<String>()
        ),
        area_name: row.area.clone(),
        row,
        action,
        organisations,
        metrics,
        milestones,
        shifts,
        policies,
        sdgs,
    })
}

/// Posts a progress update: checked against the signed-in person's roles on the server,
/// whatever the page showed them; CSRF-protected; audited by the store.
pub async fn post_action_update(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> PageResult {
    let headers = request.headers().clone();
    let (form, file) = read_update_request(request, &state).await?;
    let user = viewer.form_writer(&headers, &form.csrf_token, "post an update")?;
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found_error("priority action"))?;
    if !user.access.can_update_action(action, &plan) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            format!(
                "You cannot post updates on {id}: only contributors of the organisations that lead it can. Ask your organisation admin if you should."
            ),
        ));
    }
    let rejected = |message: String, form: UpdateForm| async {
        let mut page = html(action_page(&viewer, &state, &id, form, message).await?)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(page)
    };
    let status = match form.status.parse::<greenplan_core::plan::ActionStatus>() {
        Ok(s) => s,
        Err(e) => return rejected(e, form).await,
    };
    let revised_due = match form.revised_due.trim() {
        "" => None,
        text => match greenplan_core::period::Period::parse(text) {
            Ok(p) => Some(p),
            Err(e) => return rejected(format!("Revised delivery date: {e}"), form).await,
        },
    };
    let evidence_file = match file {
        Some((name, contents)) => match greenplan_store::EvidenceFile::new(&name, contents) {
            Ok(f) => Some(f),
            Err(e) => return rejected(format!("Evidence file: {e}"), form).await,
        },
        None => None,
    };
    let update = greenplan_store::NewActionUpdate {
        status,
        note: form.note.clone(),
        evidence_url: Some(form.evidence_url.trim().to_string()).filter(|u| !u.is_empty()),
        evidence_file,
        revised_due,
    };
    match state
        .store
        .post_action_update(&user.email, &id, &update)
        .await
    {
        Ok(_) => {
            state.cache.invalidate().await;
            Ok(axum::response::Redirect::to(&format!("/actions/{id}#updates")).into_response())
        }
        Err(greenplan_store::StoreError::Rejected(message)) => rejected(message, form).await,
        Err(e) => Err(e.into()),
    }
}

/// Reads the update form: multipart (as the page sends it, for its optional evidence file)
/// or urlencoded (scripts and older pages, without a file).
async fn read_update_request(
    request: axum::extract::Request,
    state: &AppState,
) -> Result<(UpdateForm, Option<(String, Vec<u8>)>), PageError> {
    use axum::extract::FromRequest;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let parts = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| PageError(e.status(), e.body_text()))?;
        return read_update_form(parts).await;
    }
    let axum::Form(form) = axum::Form::<UpdateForm>::from_request(request, state)
        .await
        .map_err(|e| PageError(e.status(), e.body_text()))?;
    Ok((form, None))
}

/// Reads the multipart update form.
async fn read_update_form(
    mut multipart: axum::extract::Multipart,
) -> Result<(UpdateForm, Option<(String, Vec<u8>)>), PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(
            e.status(),
            format!(
                "The form could not be read: {}. Evidence files may be at most 10 MB.",
                e.body_text()
            ),
        )
    };
    let mut form = UpdateForm::default();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "evidence_file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let file_name = crate::text_input::field("evidence_file", file_name)?;
            let bytes = field.bytes().await.map_err(bad)?;
            if !file_name.is_empty() && !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
            continue;
        }
        let text = crate::text_input::field(&name, field.text().await.map_err(bad)?)?;
        match name.as_str() {
            "csrf_token" => form.csrf_token = text,
            "status" => form.status = text,
            "note" => form.note = text,
            "evidence_url" => form.evidence_url = text,
            "revised_due" => form.revised_due = text,
            _ => {}
        }
    }
    Ok((form, file))
}

/// An evidence file, downloaded (never shown inline, so a file cannot act as a page of
/// this site).
pub async fn evidence(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let (_, file) = state
        .store
        .evidence_file(id)
        .await?
        .ok_or_else(|| not_found_error("evidence file"))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file.file_name
            .replace(|c: char| c == '"' || c == '\\' || c.is_control(), "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        file.contents,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "my_actions.html")]
struct MyActionsPage {
    title: String,
    chrome: Chrome,
    rows: Vec<ActionRow>,
    overdue: usize,
}

/// The actions the signed-in person may update: what an action lead works from.
pub async fn my_actions(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let Some(user) = viewer.user.as_ref() else {
        return Ok(axum::response::Redirect::to("/login").into_response());
    };
    let plan = plan(&state).await?;
    let mine = plan.actions_for(&user.access);
    let overdue = mine
        .iter()
        .filter(|a| {
            a.status != greenplan_core::plan::ActionStatus::Complete
                && a.delivery.is_overdue(today())
        })
        .count();
    html(MyActionsPage {
        title: "My actions".into(),
        chrome: Chrome::of(&viewer),
        rows: mine.into_iter().map(|a| action_row(a, &plan)).collect(),
        overdue,
    })
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    title: String,
    chrome: Chrome,
    metrics: Vec<MetricRow>,
}

pub async fn metrics(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let mut rows: Vec<(Rating, MetricRow)> = plan
        .metrics
        .iter()
        .map(|m| {
            let p = metric_progress(m, &plan.data_points);
            (p.rating, metric_row(m, &p, &plan))
        })
        .collect();
    rows.sort_by_key(|(r, _)| rating_order(*r));
    html(MetricsPage {
        chrome: Chrome::of(&viewer),
        title: "Metrics".into(),
        metrics: rows.into_iter().map(|(_, m)| m).collect(),
    })
}

/// A value row on a metric page.
pub struct ValueRow {
    pub period: String,
    pub organisation: String,
    pub value: String,
    pub as_written: String,
    pub note: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "metric.html")]
struct MetricPage {
    title: String,
    chrome: Chrome,
    register: Option<crate::tools::RegisterFigures>,
    history: Vec<HistoryRow>,
    metric: greenplan_core::plan::Metric,
    row: MetricRow,
    direction: String,
    baseline: String,
    targets: Vec<String>,
    no_trajectory: String,
    chart: String,
    trajectory: Vec<(String, String)>,
    values: Vec<ValueRow>,
    flags: Vec<greenplan_core::quality::UnitFlag>,
    /// Organisations the viewer may record values for: (code, name, selected).
    record_for: Vec<(String, String, bool)>,
    form: ValueForm,
    error: String,
}

/// The form for recording a metric value, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    pub csrf_token: String,
    /// ODS code, or `system` for a system-wide value.
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub note: String,
}

pub async fn metric(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    if viewer.user.is_some() {
        return html(metric_page(&viewer, &state, &id, ValueForm::default(), String::new()).await?);
    }
    anonymous_page(&state, &format!("/metrics/{id}"), || async {
        metric_page(&viewer, &state, &id, ValueForm::default(), String::new())
            .await?
            .render()
            .map_err(render_error)
    })
    .await
}

async fn metric_page(
    viewer: &Viewer,
    state: &AppState,
    id: &str,
    form: ValueForm,
    error: String,
) -> Result<MetricPage, PageError> {
    let id = id.to_string();
    let plan = plan(state).await?;
    let metric = plan
        .metric(&id)
        .cloned()
        .ok_or_else(|| not_found_error("metric"))?;
    let p = metric_progress(&metric, &plan.data_points);
    let row = metric_row(&metric, &p, &plan);
    let org_name = |o: &Option<greenplan_core::ods::OdsCode>| {
        o.as_ref().map_or_else(
            || "System".to_string(),
            |c| {
                plan.organisation(c)
                    .map_or_else(|| c.to_string(), |x| x.display_name().to_string())
            },
        )
    };
    let values: Vec<ValueRow> = plan
        .data_points
        .iter()
        .filter(|d| d.metric == id)
        .map(|d| ValueRow {
            period: d.period.to_string(),
            organisation: org_name(&d.organisation),
            value: format!("{} {}", number(d.value), metric.unit),
            as_written: d.as_written.clone().unwrap_or_default(),
            note: d.note.clone().unwrap_or_default(),
            reference: d.reference.clone().unwrap_or_default(),
        })
        .collect();
    let targets = metric
        .targets
        .iter()
        .map(|t| {
            let text = match &t.target {
                greenplan_core::target::Target::Absolute { period, value } => {
                    format!("{} {} by {period}", number(*value), metric.unit)
                }
                greenplan_core::target::Target::PercentVsBaseline { period, percent } => {
                    format!("{}% against the baseline by {period}", percent.normalize())
                }
                greenplan_core::target::Target::CompoundPercentPerYear { from, to, percent } => {
                    format!("{}% a year from {from} to {to}", percent.normalize())
                }
            };
            match &t.source {
                Some(s) => format!("{text} ({s})"),
                None => text,
            }
        })
        .collect();
    let (chart, trajectory) = match &p.trajectory {
        Some(t) => {
            let series =
                greenplan_core::progress::trajectory_series(&metric, t, plan.data_points.iter());
            let (expected, actual) = (series.expected, series.actual);
            let labels: Vec<String> = series.years.iter().map(|y| y.to_string()).collect();
            (
                trajectory_chart(
                    &format!("{} against its trajectory", metric.name),
                    &labels,
                    &expected,
                    &actual,
                ),
                t.points
                    .iter()
                    .map(|(y, v)| (y.to_string(), format!("{} {}", number(*v), metric.unit)))
                    .collect(),
            )
        }
        None => (String::new(), Vec::new()),
    };
    let record_for = match &viewer.user {
        None => Vec::new(),
        Some(user) => {
            let wanted = if form.organisation.is_empty() {
                metric
                    .organisation
                    .as_ref()
                    .map_or_else(|| "system".to_string(), |o| o.to_string())
            } else {
                form.organisation.clone()
            };
            let mut choices = Vec::new();
            if metric.organisation.is_none() && user.access.can_record_value(None, &plan) {
                choices.push((
                    "system".to_string(),
                    format!("System ({})", plan.info.system),
                    wanted == "system",
                ));
            }
            for o in &plan.organisations {
                let allowed = metric.organisation.as_ref().is_none_or(|m| m == &o.code);
                if allowed && user.access.can_record_value(Some(&o.code), &plan) {
                    choices.push((
                        o.code.to_string(),
                        o.name.clone(),
                        wanted == o.code.as_str(),
                    ));
                }
            }
            choices
        }
    };
    Ok(MetricPage {
        register: crate::tools::register_figures(state, &metric).await?,
        history: history_of(state, "metric", &id).await?,
        chrome: Chrome::of(viewer),
        record_for,
        form,
        error,
        title: metric.name.clone(),
        direction: match metric.direction {
            greenplan_core::target::Direction::LowerIsBetter => "Lower is better".into(),
            greenplan_core::target::Direction::HigherIsBetter => "Higher is better".into(),
        },
        baseline: metric.baseline.as_ref().map_or_else(String::new, |b| {
            format!("{} {} in {}", number(b.value), metric.unit, b.period)
        }),
        targets,
        no_trajectory: p.no_trajectory.clone().unwrap_or_default(),
        chart,
        trajectory,
        values,
        flags: greenplan_core::quality::unit_flags(&plan)
            .into_iter()
            .filter(|f| f.metric == id)
            .collect(),
        row,
        metric,
    })
}

/// Records a value of a metric for an organisation (or the system), checked against the
/// viewer's roles on the server, CSRF-protected and audited.
pub async fn post_metric_value(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<ValueForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "record a value")?;
    let plan = plan(&state).await?;
    let metric = plan.metric(&id).ok_or_else(|| not_found_error("metric"))?;
    let organisation = match form.organisation.as_str() {
        "" | "system" => None,
        code => Some(
            greenplan_core::ods::OdsCode::parse(code)
                .map_err(|e| PageError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?,
        ),
    };
    let scoped_elsewhere = metric.organisation.is_some() && organisation != metric.organisation;
    if scoped_elsewhere || !user.access.can_record_value(organisation.as_ref(), &plan) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "You cannot record values of this metric for that organisation: only its own contributors can.".into(),
        ));
    }
    let rejected = |message: String, form: ValueForm| async {
        let mut page = html(metric_page(&viewer, &state, &id, form, message).await?)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(page)
    };
    let period = match greenplan_core::period::Period::parse(&form.period) {
        Ok(p) if p != greenplan_core::period::Period::Ongoing => p,
        Ok(_) => {
            return rejected(
                "Period: a value belongs to a period, such as 2025/26, Q3 2025/26 or 2025-12"
                    .into(),
                form,
            )
            .await;
        }
        Err(e) => return rejected(format!("Period: {e}"), form).await,
    };
    let Some(value) = greenplan_core::quantity::parse_decimal(&form.value) else {
        return rejected(
            format!(
                "Value: `{}` is not a number; enter digits only, in {}",
                form.value.trim(),
                metric.unit
            ),
            form,
        )
        .await;
    };
    let record = greenplan_store::MetricValue {
        metric: id.clone(),
        organisation,
        period,
        value,
        as_written: None,
        note: Some(form.note.trim().to_string()).filter(|n| !n.is_empty()),
        reference: None,
        origin: user.email.clone(),
    };
    state
        .store
        .record_metric_value(&user.email, &record)
        .await?;
    state.cache.invalidate().await;
    Ok(axum::response::Redirect::to(&format!("/metrics/{id}#values")).into_response())
}

pub(crate) fn xlsx_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn csv_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A CSV file from a header and rows, every cell through the service's formula rule
/// ([`greenplan_core::csv_cell`]): people's text beginning `=`, `+`, `-`, `@`, TAB or CR is
/// written with a quote in front, so a spreadsheet never runs it.
pub(crate) fn csv_bytes(
    header_row: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>, PageError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |_| {
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The CSV could not be written.".into(),
        )
    };
    w.write_record(header_row).map_err(fail)?;
    for r in rows {
        w.write_record(r.iter().map(|c| greenplan_core::csv_cell::neutralise(c)))
            .map_err(fail)?;
    }
    w.into_inner().map_err(|_| {
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The CSV could not be written.".into(),
        )
    })
}

pub async fn metric_csv(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let plan = plan(&state).await?;
    let metric = plan.metric(&id).ok_or_else(|| not_found_error("metric"))?;
    let body = csv_bytes(
        &[
            "metric",
            "organisation",
            "period",
            "value",
            "unit",
            "as_written",
            "note",
            "reference",
        ],
        plan.data_points.iter().filter(|d| d.metric == id).map(|d| {
            vec![
                d.metric.clone(),
                d.organisation
                    .as_ref()
                    .map_or_else(String::new, |o| o.to_string()),
                d.period.code(),
                d.value.normalize().to_string(),
                metric.unit.clone(),
                d.as_written.clone().unwrap_or_default(),
                d.note.clone().unwrap_or_default(),
                d.reference.clone().unwrap_or_default(),
            ]
        }),
    )?;
    Ok(csv_response(&format!("{id}.csv"), body))
}

pub async fn footprint_csv(State(state): State<AppState>) -> PageResult {
    let table = footprint(&state).await?;
    let lines = table.as_ref().map(|t| t.lines.clone()).unwrap_or_default();
    // Rows that could not be summed get a line of their own per organisation, saying so.
    let unsummed = table
        .as_ref()
        .map(|t| t.unsummed.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            vec![
                u.organisation,
                format!(
                    "not summed: {} row{} too large to sum (left out)",
                    u.rows,
                    if u.rows == 1 { "" } else { "s" }
                ),
                String::new(),
                String::new(),
            ]
        });
    let body = csv_bytes(
        &["organisation", "category", "tco2e", "tco2e_market_based"],
        lines
            .into_iter()
            .map(|l| {
                let mut r = l.key.clone();
                r.push(
                    (l.kgco2e / Decimal::ONE_THOUSAND)
                        .round_dp(6)
                        .normalize()
                        .to_string(),
                );
                r.push(
                    (l.market_kgco2e / Decimal::ONE_THOUSAND)
                        .round_dp(6)
                        .normalize()
                        .to_string(),
                );
                r
            })
            .chain(unsummed),
    )?;
    Ok(csv_response("footprint.csv", body))
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrganisationsPage {
    title: String,
    chrome: Chrome,
    plan: Arc<Plan>,
    population: String,
}

pub async fn organisations(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let population = number(plan.places.iter().map(|p| p.population).sum());
    html(OrganisationsPage {
        chrome: Chrome::of(&viewer),
        title: "Organisations and places".into(),
        plan,
        population,
    })
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    title: String,
    chrome: Chrome,
    history: Vec<HistoryRow>,
    organisation: greenplan_core::plan::Organisation,
    kind: String,
    actions: Vec<ActionRow>,
    values: Vec<(String, String, String, String)>,
}

pub async fn organisation(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let plan = plan(&state).await?;
    let code =
        greenplan_core::ods::OdsCode::parse(&code).map_err(|_| not_found_error("organisation"))?;
    let organisation = plan
        .organisation(&code)
        .cloned()
        .ok_or_else(|| not_found_error("organisation"))?;
    let actions = plan
        .actions
        .iter()
        .filter(|a| a.lead_organisations.contains(&code))
        .map(|a| action_row(a, &plan))
        .collect();
    let values = plan
        .data_points
        .iter()
        .filter(|d| d.organisation.as_ref() == Some(&code))
        .map(|d| {
            let m = plan.metric(&d.metric);
            (
                d.metric.clone(),
                m.map_or_else(|| d.metric.clone(), |m| m.name.clone()),
                d.period.to_string(),
                format!("{} {}", number(d.value), m.map_or("", |m| m.unit.as_str())),
            )
        })
        .collect();
    html(OrganisationPage {
        history: history_of(&state, "organisation", organisation.code.as_str()).await?,
        chrome: Chrome::of(&viewer),
        title: organisation.name.clone(),
        kind: organisation.kind.label().into(),
        organisation,
        actions,
        values,
    })
}

#[derive(Template)]
#[template(path = "visions.html")]
struct VisionsPage {
    title: String,
    chrome: Chrome,
    plan: Arc<Plan>,
}

pub async fn visions(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    html(VisionsPage {
        chrome: Chrome::of(&viewer),
        title: "Progress on the 2022-2025 visions".into(),
        plan,
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
