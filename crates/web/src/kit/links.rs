//! What the tools hold about the plan's own pages: the scenarios and schemes linked to a
//! priority action, and the scheme register's figures for the plan's scheme metric. Shared
//! by the plan's pages and the tools, so it lives in the kit, not in either.

use super::cache::plan;
use super::error::PageError;
use super::format::number;
use crate::AppState;
use greenplan_core::period::FinancialYear;
use greenplan_core::plan::Metric;
use greenplan_core::scheme::{Scheme, due_consideration_in_year};

/// The metric's rows for a year: (period, new, considered, by SIA, share).
pub fn consideration_rows(
    schemes: &[Scheme],
    year: FinancialYear,
) -> Vec<(String, u32, u32, u32, String)> {
    due_consideration_in_year(schemes, year)
        .into_iter()
        .map(|f| {
            (
                f.period,
                f.new_schemes,
                f.considered,
                f.by_assessment,
                f.share
                    .map_or_else(|| "No new schemes".into(), |s| format!("{s}%")),
            )
        })
        .collect()
}

/// Scenarios and schemes linked to a priority action, for its page.
#[derive(Default)]
pub struct ActionLinks {
    /// (id, name, kgCO2e saved as text)
    pub scenarios: Vec<(i64, String, String)>,
    /// (id, name, Greener NHS)
    pub schemes: Vec<(i64, String, bool)>,
}

/// What the tools hold about action `id`.
pub async fn action_links(state: &AppState, id: &str) -> Result<ActionLinks, PageError> {
    let library = state.store.care_activity_factors().await?;
    let scenarios = state
        .store
        .pathway_scenarios()
        .await?
        .into_iter()
        .filter(|s| s.scenario.actions.iter().any(|a| a == id))
        .map(|s| {
            let saved = greenplan_core::pathway::evaluate(&s.scenario, &library)
                .map(|r| format!("{} kgCO2e saved", number(r.total_kgco2e_saved)))
                .unwrap_or_else(|e| format!("cannot be computed: {e}"));
            (s.id, s.scenario.name, saved)
        })
        .collect();
    let schemes = state
        .store
        .schemes(false)
        .await?
        .into_iter()
        .filter(|s| s.details.actions.iter().any(|a| a == id))
        .map(|s| (s.id, s.details.name.clone(), s.is_greener_nhs()))
        .collect();
    Ok(ActionLinks { scenarios, schemes })
}

/// The scheme register's figures for a metric page, where the metric is the plan's one
/// about schemes and the SIA: one row per financial year of the plan.
pub struct RegisterFigures {
    /// (period, new schemes, duly considered, by an SIA, share)
    pub rows: Vec<(String, u32, u32, u32, String)>,
}

/// The figures for `metric`'s page, if it is the plan's scheme metric.
pub async fn register_figures(
    state: &AppState,
    metric: &Metric,
) -> Result<Option<RegisterFigures>, PageError> {
    if !greenplan_core::scheme::is_scheme_metric(&metric.name) {
        return Ok(None);
    }
    let plan = plan(state).await?;
    let schemes = state.store.schemes(true).await?;
    let rows = (plan.info.first_year.0..=plan.info.last_year.0)
        .filter_map(|y| {
            consideration_rows(&schemes, greenplan_core::period::FinancialYear(y)).pop()
        })
        .collect();
    Ok(Some(RegisterFigures { rows }))
}
