//! `greenplan factors …`: import and list conversion factors.

use crate::output::{Format, Listing};
use anyhow::{Context, Result};
use clap::Subcommand;
use greenplan_core::factor::ALIASES;
use greenplan_ingest::factors;
use greenplan_store::Store;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum FactorsCommand {
    /// Import official flat files (.xls/.xlsx) or custom factor CSVs
    /// (header edition,activity,unit,scope,category,kgco2e[,kgco2,kgch4,kgn2o,source]).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Name of the edition (default from the file: uk-2023). Official files only.
        #[arg(long)]
        edition: Option<String>,
        /// Read the files as custom factor tables even if they are workbooks.
        #[arg(long)]
        custom: bool,
    },
    /// Import a spend factor set (kgCO2e per £ by procurement category, CSV or XLSX with the
    /// header category,kgco2e_per_gbp[,source]) as the edition NAME, which spend lines name.
    /// All rows or none; importing the edition again replaces it.
    #[command(name = "import-spend")]
    ImportSpend {
        file: PathBuf,
        /// The edition's name, e.g. spend-2021-prices.
        #[arg(long)]
        edition: String,
        /// The year whose prices the factors are in (spend of other years is noted in the
        /// footprint).
        #[arg(long, value_parser = clap::value_parser!(i32).range(1990..=2100))]
        price_year: i32,
        /// Where the figures come from, for every factor whose row names no source.
        #[arg(long)]
        source: Option<String>,
    },
    /// List factors.
    List {
        #[arg(long)]
        edition: Option<String>,
        /// Text to look for in the path, unit or activity name.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the loaded editions.
    Editions {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the short aliases activity files may use.
    Aliases {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn run(store: &Store, command: FactorsCommand) -> Result<()> {
    match command {
        FactorsCommand::Import {
            files,
            edition,
            custom,
        } => {
            for file in files {
                import_one(store, &file, edition.as_deref(), custom).await?;
            }
            Ok(())
        }
        FactorsCommand::ImportSpend {
            file,
            edition,
            price_year,
            source,
        } => {
            let name = greenplan_ingest::activity::file_name(&file);
            let parsed = factors::read_spend_factors(&file, &edition, source.as_deref())?;
            let n = store
                .replace_spend_factor_set(&edition, price_year, &name, &parsed)
                .await?;
            eprintln!(
                "{name}: spend factor set {edition} stored with {n} factors at {price_year} prices."
            );
            Ok(())
        }
        FactorsCommand::List {
            edition,
            search,
            format,
        } => {
            let set = store.factor_set(edition.as_deref()).await?;
            let found: Vec<_> = set.search(None, search.as_deref()).collect();
            Listing {
                columns: [
                    "edition", "scope", "path", "unit", "kgco2e", "kgco2", "kgch4", "kgn2o",
                    "category", "source",
                ]
                .map(String::from)
                .to_vec(),
                rows: found
                    .iter()
                    .map(|f| {
                        let d = |v: Option<greenplan_core::Decimal>| {
                            v.map(|v| v.normalize().to_string()).unwrap_or_default()
                        };
                        vec![
                            f.edition.clone(),
                            f.scope.label().to_string(),
                            f.path(),
                            f.unit_text.clone(),
                            f.kgco2e.normalize().to_string(),
                            d(f.gases.co2),
                            d(f.gases.ch4),
                            d(f.gases.n2o),
                            f.category().slug().to_string(),
                            f.source.clone(),
                        ]
                    })
                    .collect(),
                json: serde_json::to_value(&found)?,
            }
            .print(format)
        }
        FactorsCommand::Editions { format } => {
            let editions = store.editions().await?;
            Listing {
                columns: ["edition", "year", "factors", "source", "price_year"]
                    .map(String::from)
                    .to_vec(),
                rows: editions
                    .iter()
                    .map(|e| {
                        vec![
                            e.name.clone(),
                            e.year.map(|y| y.to_string()).unwrap_or_default(),
                            e.factor_count.to_string(),
                            e.source.clone(),
                            e.price_year.map(|y| y.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect(),
                json: serde_json::to_value(&editions)?,
            }
            .print(format)
        }
        FactorsCommand::Aliases { format } => Listing {
            columns: ["alias", "description", "path"].map(String::from).to_vec(),
            rows: ALIASES
                .iter()
                .map(|a| {
                    vec![
                        a.name.to_string(),
                        a.description.to_string(),
                        a.paths.join(" | "),
                    ]
                })
                .collect(),
            json: json!(
                ALIASES
                    .iter()
                    .map(
                        |a| json!({"alias": a.name, "description": a.description, "paths": a.paths})
                    )
                    .collect::<Vec<_>>()
            ),
        }
        .print(format),
    }
}

async fn import_one(store: &Store, file: &Path, edition: Option<&str>, custom: bool) -> Result<()> {
    let name = greenplan_ingest::activity::file_name(file);
    if custom || !greenplan_ingest::table::is_workbook(file) {
        let parsed = factors::read_custom_factors(file)?;
        let n = store.upsert_custom_factors(&name, &parsed).await?;
        eprintln!("{name}: {n} custom factors stored.");
        return Ok(());
    }
    let path = file.to_path_buf();
    let edition = edition.map(str::to_string);
    // Workbooks are parsed on a blocking thread: calamine is synchronous and CPU-bound.
    let parsed =
        tokio::task::spawn_blocking(move || factors::read_flat_file(&path, edition.as_deref()))
            .await??;
    let n = store
        .replace_edition(&parsed.edition, parsed.year, &name, &parsed.factors)
        .await?;
    eprintln!(
        "{name}: edition {} stored with {n} factors.",
        parsed.edition
    );
    if !parsed.skipped.is_empty() {
        eprintln!("  {} rows skipped:", parsed.skipped.len());
        for s in parsed.skipped.iter().take(10) {
            eprintln!("  - {s}");
        }
    }
    Ok(())
}

/// Imports every .xls/.xlsx file in a folder (e.g. the official flat files).
pub async fn import_dir(store: &Store, dir: &Path) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the factor folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| greenplan_ingest::table::is_workbook(p))
        .collect();
    files.sort();
    for f in files {
        import_one(store, &f, None, false).await?;
    }
    Ok(())
}
