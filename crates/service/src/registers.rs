//! Register imports, one way for the web app and the command line ([`import_register_file`]),
//! and what registers' records come to in carbon, for their pages: the same factors and the
//! same resolver as the footprint ([`crate::footprint::for_each_emission`]), over the
//! records the page lists (example records included, which the footprint leaves out); and
//! the net zero estate pipeline against the gap to the national trajectory.

use crate::ImportError;
use crate::footprint::{FactorsInForce, FootprintError, FootprintQuery, for_each_emission};
use greenplan_core::category::Footprint;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::plan::Plan;
use greenplan_core::register::estates::{self, PipelineAgainstGap};
use greenplan_core::register::footprint::{
    CARRYING_ACTIVITY, Converted, RegisterCarbon, summarise,
};
use greenplan_core::register::{Record, Register};
use greenplan_ingest::register_file::read_register_file;
use greenplan_store::Store;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;

/// The emissions of a register's live records by financial year (and, for waste, by route),
/// for one organisation or all, with the factors in force (`FactorsInForce::load`); `None`
/// for a register that carries no activity.
pub async fn register_carbon(
    store: &Store,
    in_force: &FactorsInForce,
    register: &'static Register,
    organisation: Option<&OdsCode>,
) -> Result<Option<RegisterCarbon>, FootprintError> {
    if !CARRYING_ACTIVITY.iter().any(|r| std::ptr::eq(*r, register)) {
        return Ok(None);
    }
    let activities = store.register_activities(register, true).await?;
    let mut resolver = in_force.resolver();
    let mut prices = in_force.price_years();
    let lines: Vec<Converted> = activities
        .into_iter()
        .filter(|a| organisation.is_none_or(|o| &a.organisation == o))
        .map(|a| {
            let outcome = resolver.emission(&a);
            if outcome.is_ok() {
                prices.check(&a, resolver.edition_for(&a).as_deref());
            }
            (a, outcome)
        })
        .collect();
    let mut carbon = summarise(&lines);
    carbon.notes = prices.notes();
    Ok(Some(carbon))
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

/// Imports a register file (CSV or XLSX whose columns are the register's field keys) for
/// `actor`, all records or none: every row is checked (its fields, its organisation being one
/// of the plan's, and `may_write` for that organisation) and every bad row named with its file
/// (`name`, as the user knows it), row, column and fix. Returns the stored records' ids.
pub async fn import_register_file(
    store: &Store,
    plan: &Plan,
    register: &'static Register,
    path: &Path,
    name: &str,
    actor: &str,
    may_write: impl Fn(&OdsCode) -> bool,
) -> Result<Vec<i64>, ImportError> {
    let check = |r: &Record| -> Option<(&'static str, String)> {
        let org = r.organisation()?;
        if !plan.organisations.iter().any(|o| o.code == org) {
            return Some((
                "organisation",
                format!(
                    "`{org}` is not one of the plan's organisations: use its ODS code, e.g. RY8"
                ),
            ));
        }
        (!may_write(&org)).then(|| {
            ("organisation", format!("you cannot add records for {org}: import only your own organisation's records, or ask a system administrator"))
        })
    };
    let records: Vec<Record> = read_register_file(register, path, name, &check)?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    Ok(store.import_register_records(actor, &records).await?)
}
