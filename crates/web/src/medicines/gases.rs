//! The anaesthetic gases page: each trust's financial years from its monthly gas returns, the
//! fall in nitrous oxide against the plan's national target, and piped nitrous oxide lost,
//! with the GWP set chosen by the reader and named on every figure.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::charts::{Bar, bar_chart};
use crate::kit::{Chrome, PageError, PageResult, csv_bytes, csv_response, html, number, plan};
use askama::Template;
use axum::extract::{Query, State};
use greenplan_core::Decimal;
use greenplan_core::anaesthetic::{GasError, GwpSet, TrustYear, gas_months, trust_years};
use greenplan_core::plan::Plan;
use greenplan_core::progress::metric_progress;

/// The plan's metric the national nitrous oxide target is recorded on.
const NITROUS_OXIDE_METRIC: &str = "nitrous-oxide-reduction";

#[derive(serde::Deserialize)]
pub struct GasQuery {
    gwp: Option<String>,
}

impl GasQuery {
    fn set(&self) -> GwpSet {
        self.gwp
            .as_deref()
            .and_then(|g| g.parse().ok())
            .unwrap_or_default()
    }
}

/// One row of the table of trust years, formatted.
struct YearRow {
    trust: String,
    year: String,
    months: u32,
    total: String,
    nitrous_oxide: String,
    fall: String,
    target: String,
    piped_loss: String,
}

#[derive(Template)]
#[template(path = "medicines_gases.html")]
struct GasesPage {
    title: String,
    chrome: Chrome,
    set: GwpSet,
    sets: Vec<(&'static str, &'static str, bool)>,
    years: Vec<YearRow>,
    chart: String,
}

fn stored_data_error(e: GasError) -> PageError {
    tracing::error!(error = %e, "stored gas return");
    PageError::Internal(
        "A stored gas return could not be converted. Import the trust's return again.".into(),
    )
}

async fn years(state: &AppState, set: GwpSet) -> Result<Vec<TrustYear>, PageError> {
    let uses = state.store.gas_returns(None).await?;
    let months = gas_months(&uses, set).map_err(stored_data_error)?;
    Ok(trust_years(&months))
}

fn trust_name(plan: &Plan, code: &str) -> String {
    plan.organisations
        .iter()
        .find(|o| o.code.as_str() == code)
        .map_or_else(|| code.to_string(), |o| format!("{} ({code})", o.name))
}

fn tonnes(kg: Decimal) -> String {
    number((kg / Decimal::ONE_THOUSAND).round_dp(1))
}

pub async fn anaesthetic_gases(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(q): Query<GasQuery>,
) -> PageResult {
    let plan = plan(&state).await?;
    let set = q.set();
    let years = years(&state, set).await?;
    let target = plan
        .metric(NITROUS_OXIDE_METRIC)
        .and_then(|m| metric_progress(m, &plan.data_points).trajectory);
    let rows = years
        .iter()
        .map(|y| {
            let goal = target.as_ref().and_then(|t| t.at(y.year));
            YearRow {
                trust: trust_name(&plan, &y.organisation),
                year: y.year.to_string(),
                months: y.months,
                total: tonnes(y.total_kgco2e),
                nitrous_oxide: tonnes(y.nitrous_oxide_kgco2e),
                fall: y
                    .nitrous_oxide_reduction
                    .map_or_else(|| "–".into(), |r| format!("{}%", r.normalize())),
                target: match (goal, goal.and_then(|g| y.meets(g))) {
                    (Some(g), Some(true)) => format!("{}% fall: met", g.normalize()),
                    (Some(g), Some(false)) => format!("{}% fall: not met", g.normalize()),
                    (Some(g), None) => {
                        format!("{}% fall: no year before to compare", g.normalize())
                    }
                    (None, _) => "no target for the year".into(),
                },
                piped_loss: y
                    .piped_n2o_loss_kg
                    .map_or_else(|| "not returned".into(), |kg| number(kg.round_dp(1))),
            }
        })
        .collect();
    let latest = years.iter().map(|y| y.year).max();
    let bars: Vec<Bar> = years
        .iter()
        .filter(|y| Some(y.year) == latest)
        .map(|y| Bar {
            label: trust_name(&plan, &y.organisation),
            value: y.total_kgco2e / Decimal::ONE_THOUSAND,
            display: format!("{} tCO2e", tonnes(y.total_kgco2e)),
        })
        .collect();
    let chart = match latest {
        Some(year) => bar_chart(
            &format!("Anaesthetic gases by trust, {year} (tCO2e, GWP set {set})"),
            &bars,
        ),
        None => String::new(),
    };
    html(GasesPage {
        title: "Anaesthetic gases".into(),
        chrome: Chrome::of(&viewer),
        set,
        sets: [GwpSet::Aoa, GwpSet::Ar5, GwpSet::Rcoa]
            .into_iter()
            .map(|s| (s.slug(), s.label(), s == set))
            .collect(),
        years: rows,
        chart,
    })
}

pub async fn anaesthetic_gases_csv(
    State(state): State<AppState>,
    Query(q): Query<GasQuery>,
) -> PageResult {
    let set = q.set();
    let years = years(&state, set).await?;
    let opt = |v: Option<Decimal>| v.map(|v| v.normalize().to_string()).unwrap_or_default();
    let body = csv_bytes(
        &[
            "organisation",
            "financial_year",
            "months",
            "total_kgco2e",
            "nitrous_oxide_kgco2e",
            "nitrous_oxide_fall_percent",
            "piped_n2o_loss_kg",
            "gwp_set",
        ],
        years.iter().map(|y| {
            vec![
                y.organisation.clone(),
                y.year.to_string(),
                y.months.to_string(),
                y.total_kgco2e.normalize().to_string(),
                y.nitrous_oxide_kgco2e.normalize().to_string(),
                opt(y.nitrous_oxide_reduction),
                opt(y.piped_n2o_loss_kg),
                set.slug().to_string(),
            ]
        }),
    )?;
    Ok(csv_response("anaesthetic-gases.csv", body))
}
