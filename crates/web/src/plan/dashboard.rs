//! The dashboard and the area pages.

use super::*;
use greenplan_core::quantity::with_thousands;

#[derive(Template)]
#[template(path = "dashboard.html")]
pub(crate) struct Dashboard {
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
    let today = today();
    // Anonymous readers all see the same page: draw it once per revision and day.
    if viewer.user.is_none() {
        let page = crate::kit::cache::anonymous_page(
            &state,
            "/",
            today,
            draw_dashboard(&viewer, &state, today),
        )
        .await?;
        return Ok(Html(page.as_str().to_owned()).into_response());
    }
    Ok(Html(draw_dashboard(&viewer, &state, today).await?).into_response())
}

async fn draw_dashboard(
    viewer: &Viewer,
    state: &AppState,
    today: NaiveDate,
) -> Result<String, PageError> {
    let state = state.clone();
    let plan = plan(&state).await?;
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
        chrome: Chrome::of(viewer),
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
    page.render().map_err(|e| {
        tracing::error!(error = %e, "template error");
        PageError::Internal("The page could not be drawn.".into())
    })
}

pub(crate) fn footprint_view(t: &FootprintTable, plan: &Plan) -> (Vec<FootprintRow>, String) {
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
pub(crate) struct AreaPage {
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
