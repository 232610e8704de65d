//! Page handlers and their view models. Every figure is formatted here, in Rust, so templates
//! only place text (and askama escapes it).

use crate::AppState;
use crate::charts::{Bar, bar_chart, trajectory_chart};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use greenplan_core::Decimal;
use greenplan_core::category::{Footprint, NhsCategory};
use greenplan_core::factor::FactorSet;
use greenplan_core::footprint::{Aggregator, FootprintTable, GroupBy, Resolver, in_footprint};
use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_core::plan::{Action, Plan};
use greenplan_core::progress::{MetricProgress, metric_progress};
use greenplan_core::quantity::with_thousands;
use greenplan_core::target::Rating;
use serde::Deserialize;
use std::sync::Arc;

/// An error page; the cause is logged, the page stays plain.
pub struct PageError(StatusCode, String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.0.canonical_reason().unwrap_or("Error").to_string(),
            message: self.1,
        };
        (self.0, Html(page.render().unwrap_or_default())).into_response()
    }
}

impl From<greenplan_store::StoreError> for PageError {
    fn from(e: greenplan_store::StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        PageError(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong reading the plan. Please try again; if it persists, tell your system administrator.".into())
    }
}

type PageResult = Result<Response, PageError>;

fn html<T: Template>(t: T) -> PageResult {
    t.render().map(|s| Html(s).into_response()).map_err(|e| {
        tracing::error!(error = %e, "template error");
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The page could not be drawn.".into(),
        )
    })
}

fn not_found_error(what: &str) -> PageError {
    PageError(
        StatusCode::NOT_FOUND,
        format!("There is no {what} here. Check the address, or start from the dashboard."),
    )
}

async fn plan(state: &AppState) -> Result<Plan, PageError> {
    state.store.load_plan().await?.ok_or_else(|| {
        PageError(
            StatusCode::SERVICE_UNAVAILABLE,
            "No plan is loaded yet. Run `greenplan init` to load the built-in plan.".into(),
        )
    })
}

/// "31 March 2026".
fn long_date(d: NaiveDate) -> String {
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
fn number(v: Decimal) -> String {
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

async fn footprint(state: &AppState) -> Result<Option<Arc<FootprintTable>>, PageError> {
    let count = state.store.activity_count().await?;
    if count == 0 {
        return Ok(None);
    }
    let mut cache = state.footprint.lock().await;
    if let Some((n, table)) = cache.as_ref()
        && *n == count
    {
        return Ok(Some(table.clone()));
    }
    let factors: FactorSet = state.store.factor_set(None).await?;
    let editions = state.store.edition_years().await?;
    let mut resolver = Resolver::new(&factors, editions);
    let mut agg = Aggregator::new(&[GroupBy::Organisation, GroupBy::Category], false);
    let mut i = 0;
    state
        .store
        .for_each_activity(None, None, |a| {
            if let Ok(e) = resolver.emission(&a)
                && in_footprint(&e)
            {
                agg.add(i, &e);
                i += 1;
            }
            Ok(())
        })
        .await?;
    let table = Arc::new(agg.finish());
    *cache = Some((count, table.clone()));
    Ok(Some(table))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    title: String,
    plan: Plan,
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
    quality_flags: Vec<greenplan_core::quality::UnitFlag>,
}

pub async fn dashboard(State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let today = today();
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
    let (footprint, footprint_chart) = match footprint(&state).await? {
        Some(t) => footprint_view(&t, &plan),
        None => (Vec::new(), String::new()),
    };
    html(Dashboard {
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
        quality_flags: greenplan_core::quality::unit_flags(&plan),
        plan,
    })
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
                .sum()
        };
        let (cf, plus) = (
            part(Footprint::CarbonFootprint),
            part(Footprint::CarbonFootprintPlus),
        );
        let name = greenplan_core::ods::OdsCode::parse(&org)
            .ok()
            .and_then(|c| plan.organisation(&c).map(|o| o.display_name().to_string()))
            .unwrap_or(org);
        bars.push(Bar {
            label: name.clone(),
            value: cf + plus,
            display: format!("{} tCO2e", tonnes(cf + plus)),
        });
        rows.push(FootprintRow {
            label: name,
            carbon_footprint: tonnes(cf),
            plus: tonnes(plus),
            total: tonnes(cf + plus),
        });
    }
    let chart = bar_chart("Carbon footprint by organisation, tCO2e", &bars);
    (rows, chart)
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaPage {
    title: String,
    area: greenplan_core::plan::Area,
    actions: Vec<ActionRow>,
    metrics: Vec<MetricRow>,
    case_studies: Vec<greenplan_core::plan::CaseStudy>,
}

pub async fn area(State(state): State<AppState>, Path(code): Path<String>) -> PageResult {
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
    actions: Vec<ActionRow>,
    areas: Vec<(String, String, bool)>,
    statuses: Vec<(String, String, bool)>,
    q: String,
}

pub async fn actions(
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
    action: Action,
    row: ActionRow,
    area_name: String,
    organisations: Vec<(String, String)>,
    metrics: Vec<MetricRow>,
    milestones: Vec<(String, String, String)>,
    shifts: Vec<String>,
    policies: Vec<String>,
    sdgs: Vec<String>,
}

pub async fn action(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let plan = plan(&state).await?;
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
    let milestones = action
        .milestones
        .iter()
        .map(|m| {
            (
                m.title.clone().unwrap_or_default(),
                m.delivery.written.clone(),
                m.success_measure.clone().unwrap_or_default(),
            )
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
    html(ActionPage {
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

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    title: String,
    metrics: Vec<MetricRow>,
}

pub async fn metrics(State(state): State<AppState>) -> PageResult {
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
}

pub async fn metric(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let plan = plan(&state).await?;
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
            let mut years: Vec<FinancialYear> = t.points.iter().map(|(y, _)| *y).collect();
            for d in plan
                .data_points
                .iter()
                .filter(|d| d.metric == id && d.organisation == metric.organisation)
            {
                if let Some(y) = d.period.financial_year() {
                    years.push(y);
                }
            }
            years.sort();
            years.dedup();
            let actual: Vec<Option<Decimal>> = years
                .iter()
                .map(|y| {
                    plan.data_points
                        .iter()
                        .filter(|d| {
                            d.metric == id
                                && d.organisation == metric.organisation
                                && d.period.financial_year() == Some(*y)
                        })
                        .max_by_key(|d| d.period.end())
                        .map(|d| d.value)
                })
                .collect();
            let expected: Vec<Option<Decimal>> = years.iter().map(|y| t.at(*y)).collect();
            let labels: Vec<String> = years.iter().map(|y| y.to_string()).collect();
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
    html(MetricPage {
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

fn csv_response(name: &str, body: Vec<u8>) -> Response {
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

fn csv_bytes(
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
        w.write_record(&r).map_err(fail)?;
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
    let body = csv_bytes(
        &["organisation", "category", "tco2e", "tco2e_market_based"],
        lines.into_iter().map(|l| {
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
        }),
    )?;
    Ok(csv_response("footprint.csv", body))
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrganisationsPage {
    title: String,
    plan: Plan,
    population: String,
}

pub async fn organisations(State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let population = number(plan.places.iter().map(|p| p.population).sum());
    html(OrganisationsPage {
        title: "Organisations and places".into(),
        plan,
        population,
    })
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    title: String,
    organisation: greenplan_core::plan::Organisation,
    kind: String,
    actions: Vec<ActionRow>,
    values: Vec<(String, String, String, String)>,
}

pub async fn organisation(State(state): State<AppState>, Path(code): Path<String>) -> PageResult {
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
    plan: Plan,
}

pub async fn visions(State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    html(VisionsPage {
        title: "Progress on the 2022-2025 visions".into(),
        plan,
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

pub async fn not_found() -> Response {
    not_found_error("page").into_response()
}
