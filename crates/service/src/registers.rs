//! What registers' records come to in carbon, for their pages: the same factors and the
//! same resolver as the footprint ([`crate::footprint::for_each_emission`]), over the
//! records the page lists (example records included, which the footprint leaves out); and
//! the net zero estate pipeline against the gap to the national trajectory.

use crate::footprint::{FootprintError, FootprintQuery, for_each_emission, with_named_years};
use greenplan_core::category::Footprint;
use greenplan_core::footprint::Resolver;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::register::estates::{self, PipelineAgainstGap};
use greenplan_core::register::footprint::{
    CARRYING_ACTIVITY, Converted, RegisterCarbon, summarise,
};
use greenplan_core::register::{Record, Register};
use greenplan_store::Store;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The emissions of a register's live records by financial year (and, for waste, by route),
/// for one organisation or all; `None` for a register that carries no activity.
pub async fn register_carbon(
    store: &Store,
    register: &'static Register,
    organisation: Option<&OdsCode>,
) -> Result<Option<RegisterCarbon>, FootprintError> {
    if !CARRYING_ACTIVITY.iter().any(|r| std::ptr::eq(*r, register)) {
        return Ok(None);
    }
    let activities = store.register_activities(register, true).await?;
    let factors = store.factor_set(None).await?;
    let editions = with_named_years(store.edition_years().await?, &factors);
    let mut resolver = Resolver::new(&factors, editions);
    let lines: Vec<Converted> = activities
        .into_iter()
        .filter(|a| organisation.is_none_or(|o| &a.organisation == o))
        .map(|a| {
            let outcome = resolver.emission(&a);
            (a, outcome)
        })
        .collect();
    Ok(Some(summarise(&lines)))
}

/// The net zero estate pipeline (live records, examples included as the page lists them)
/// against the gap between the NHS Carbon Footprint (all of greenplan's footprint, for one
/// organisation or the system) and the national trajectory; `None` before any year of
/// footprint data.
pub async fn estate_pipeline_against_gap(
    store: &Store,
    organisation: Option<&OdsCode>,
) -> Result<Option<PipelineAgainstGap>, FootprintError> {
    let query = FootprintQuery {
        organisation: organisation.cloned(),
        ..FootprintQuery::default()
    };
    let mut by_year: BTreeMap<FinancialYear, Decimal> = BTreeMap::new();
    for_each_emission(store, &query, |e| {
        if e.category.footprint() == Footprint::CarbonFootprint {
            *by_year.entry(e.year).or_default() += e.kgco2e;
        }
    })
    .await?;
    let footprint: Vec<(FinancialYear, Decimal)> = by_year
        .into_iter()
        .map(|(y, kg)| (y, kg / Decimal::ONE_THOUSAND))
        .collect();
    let projects: Vec<Record> = store
        .register_records(&estates::PIPELINE, false)
        .await?
        .into_iter()
        .map(|s| s.record)
        .filter(|r| organisation.is_none() || r.organisation().as_ref() == organisation)
        .collect();
    Ok(estates::pipeline_against_gap(&projects, &footprint))
}
