//! What a register's own records come to in carbon, for its page: the same factors and the
//! same resolver as the footprint ([`crate::footprint::for_each_emission`]), over the
//! records the page lists (example records included, which the footprint leaves out).

use crate::footprint::{FootprintError, with_named_years};
use greenplan_core::footprint::Resolver;
use greenplan_core::ods::OdsCode;
use greenplan_core::register::Register;
use greenplan_core::register::footprint::{
    CARRYING_ACTIVITY, Converted, RegisterCarbon, summarise,
};
use greenplan_store::Store;

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
