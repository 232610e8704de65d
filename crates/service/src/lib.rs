//! Use cases that combine `greenplan-ingest` (reading files) with `greenplan-store` (keeping
//! them), shared by the command line and the web app so both import a return the same way.

#![forbid(unsafe_code)]

pub mod footprint;
pub mod registers;
pub mod reminders;
pub mod tools;

use greenplan_core::activity::Activity;
use greenplan_core::footprint::FootprintTable;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::Quarter;
use greenplan_ingest::activity::{FileCheck, check_file, file_name};
use greenplan_ingest::{IngestError, RowError};
use greenplan_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the import was interrupted: {0}")]
    Interrupted(String),
}

/// What an import (or a dry run) did.
#[derive(Debug)]
pub enum ImportReport {
    /// Stored: the import's number, the rows, and the footprint they add.
    Imported {
        import_id: i64,
        rows: u64,
        adds: FootprintTable,
    },
    /// Checked but not stored (a dry run or preview): the footprint the file would add.
    Checked { rows: u64, adds: FootprintTable },
    /// The same bytes were imported before; nothing was stored twice.
    AlreadyImported { import_id: i64, imported_at: i64 },
    /// The file has problems; nothing was stored. Every bad row is listed.
    Rejected { errors: Vec<RowError>, total: usize },
}

/// The SHA-256 of a file, to recognise a file imported before.
pub fn sha256_of(path: &Path) -> Result<String, ImportError> {
    // Activity files are the only files hashed; they are opened like every import
    // (a regular file within the activity bound), before anything else reads them.
    let mut f = greenplan_ingest::source::open(path, greenplan_ingest::source::FileKind::Activity)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| f.error(e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Imports an activity file (CSV or XLSX) for `actor`, all rows or none.
///
/// Reading and checking run on a blocking thread while this task writes batches to the
/// database through a bounded channel, so a large file streams with bounded memory. Rows for an
/// organisation `may_submit` refuses are errors like any other (a trust cannot submit another
/// trust's data). `dry_run` checks everything and stores nothing. `progress` is told the rows
/// read so far. With `for_quarter`, the import is also recorded, in its own transaction, as
/// the return for that reporting period of each organisation whose rows it carries.
#[allow(clippy::too_many_arguments)] // each is a choice of the caller's; see above
pub async fn import_activity_file(
    store: &Store,
    path: &Path,
    display_name: Option<&str>,
    actor: &str,
    dry_run: bool,
    for_quarter: Option<Quarter>,
    may_submit: impl Fn(&OdsCode) -> bool + Send + 'static,
    progress: impl FnMut(u64) + Send + 'static,
) -> Result<ImportReport, ImportError> {
    let name = display_name.map_or_else(|| file_name(path), str::to_string);
    let sha = sha256_of(path)?;
    if !dry_run && let Some((import_id, imported_at)) = store.import_with_sha(&sha).await? {
        return Ok(ImportReport::AlreadyImported {
            import_id,
            imported_at,
        });
    }
    let factors = store.factor_set(None).await?;
    let editions = store.edition_years().await?;
    let mut import = if dry_run {
        None
    } else {
        Some(store.begin_activity_import(actor, &name, &sha).await?)
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Activity>>(4);
    let file = path.to_path_buf();
    let checker = tokio::task::spawn_blocking(move || -> Result<FileCheck, IngestError> {
        check_file(
            &file,
            &factors,
            editions,
            |a| (!may_submit(&a.organisation)).then(|| refusal(&a.organisation)),
            |batch| tx.blocking_send(batch).is_ok(),
            progress,
        )
    });
    let mut rows_by_organisation: HashMap<OdsCode, u64> = HashMap::new();
    while let Some(batch) = rx.recv().await {
        if let Some(imp) = import.as_mut() {
            for a in batch {
                *rows_by_organisation
                    .entry(a.organisation.clone())
                    .or_default() += 1;
                imp.add(a).await?;
            }
        }
    }
    let checked = checker
        .await
        .map_err(|e| ImportError::Interrupted(e.to_string()))?;
    let checked = match checked {
        Ok(c) => c,
        Err(e) => {
            if let Some(imp) = import {
                imp.rollback().await?;
            }
            return Err(e.into());
        }
    };
    if !checked.errors.is_empty() {
        if let Some(imp) = import {
            imp.rollback().await?;
        }
        let total = checked.errors.len();
        let mut errors = checked.errors;
        errors.truncate(greenplan_ingest::error::MAX_LISTED_ERRORS);
        return Ok(ImportReport::Rejected { errors, total });
    }
    Ok(match import {
        Some(mut imp) => {
            if let Some(quarter) = for_quarter {
                let mut organisations: Vec<_> = rows_by_organisation.into_iter().collect();
                organisations.sort();
                for (org, rows) in organisations {
                    let kg = checked
                        .adds
                        .lines
                        .iter()
                        .filter(|l| l.key.first().is_some_and(|k| k == org.as_str()))
                        .map(|l| l.kgco2e)
                        .sum();
                    imp.record_return(quarter, &org, rows, kg).await?;
                }
            }
            let summary = imp.commit(&name).await?;
            ImportReport::Imported {
                import_id: summary.import_id,
                rows: summary.rows,
                adds: checked.adds,
            }
        }
        None => ImportReport::Checked {
            rows: checked.rows,
            adds: checked.adds,
        },
    })
}

fn refusal(organisation: &OdsCode) -> String {
    format!(
        "you cannot submit data for {organisation}: only its own contributors can; check the organisation code"
    )
}

/// Loads the example registers shipped with the built-in plan (`data/registers/`), once: only
/// into a database whose registers are all empty. Returns the number of records stored.
pub async fn load_example_registers(store: &Store) -> Result<usize, ImportError> {
    if !store.registers_are_empty().await? {
        return Ok(0);
    }
    let records: Vec<greenplan_core::register::Record> =
        greenplan_ingest::register_file::built_in_registers()?
            .into_iter()
            .flat_map(|(_, records)| records)
            .collect();
    store
        .import_register_records(greenplan_store::EXAMPLE_DATA_ACTOR, &records)
        .await?;
    Ok(records.len())
}
