//! The plan's tools that read files into the store: the care pathway calculator's built-in
//! library and example scenarios, and the scheme register's CSV import.

use crate::ImportError;
use greenplan_core::ods::OdsCode;
use greenplan_ingest::pathway_file::{built_in_examples, built_in_factors};
use greenplan_ingest::scheme_file::{Known, read_schemes};
use greenplan_ingest::{IngestError, RowError};
use greenplan_store::{SeedOutcome, Store};

/// Seeds the care-activity factor library (when empty) and the example scenarios (the Team
/// Up falls case, linked to its action) shipped with greenplan. Safe to run at every start.
pub async fn seed_care_pathways(store: &Store) -> Result<SeedOutcome, ImportError> {
    let factors = built_in_factors()?;
    let examples = built_in_examples()?;
    Ok(store.seed_care_pathways(&factors, &examples).await?)
}

/// Imports a scheme register CSV, all or nothing: every bad row (including one for an
/// organisation `may_add` refuses) is reported by row and column, and nothing is stored
/// unless every row is right. Returns the new schemes' ids.
pub async fn import_schemes(
    store: &Store,
    actor: &str,
    file: &str,
    bytes: &[u8],
    may_add: impl Fn(&OdsCode) -> bool,
) -> Result<Vec<i64>, ImportError> {
    let plan = store
        .load_plan()
        .await?
        .ok_or_else(|| IngestError::Invalid {
            file: file.to_string(),
            message: "no plan is loaded: run `greenplan init` first".into(),
        })?;
    let organisations: Vec<OdsCode> = plan.organisations.iter().map(|o| o.code.clone()).collect();
    let actions: Vec<String> = plan.actions.iter().map(|a| a.id.clone()).collect();
    let rows = read_schemes(
        file,
        bytes,
        &Known {
            organisations: &organisations,
            actions: &actions,
        },
    )?;
    let refused: Vec<RowError> = rows
        .iter()
        .filter(|(_, s)| !may_add(&s.organisation))
        .map(|(row, s)| RowError {
            file: file.to_string(),
            row: *row,
            column: Some("organisation".into()),
            message: format!(
                "you cannot add schemes for {}: only its contributors can; remove the row or ask them to import it",
                s.organisation
            ),
        })
        .collect();
    if !refused.is_empty() {
        return Err(IngestError::rows(refused).into());
    }
    let details: Vec<_> = rows.into_iter().map(|(_, s)| s).collect();
    Ok(store.add_schemes(actor, &details).await?)
}
