//! `greenplan registers …`: the registers (sites, vehicles, contracts, spend…) from the command
//! line: list them, show records and figures, import a file, export, hand out the template.
//! Imports and exports go through the same functions as the web app's register pages
//! (`greenplan_service::registers::import_register_file`, `greenplan_reports::register_files`),
//! so a file means the same in both.

use crate::output::{Format, Listing};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use greenplan_core::ods::OdsCode;
use greenplan_core::register::{self, Record, Register};
use greenplan_reports::register_files;
use greenplan_store::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum RegistersCommand {
    /// Every register: slug, title, area of focus and how many live records it holds.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A register's records (live ones; `--archived` adds the archived).
    Show {
        slug: String,
        /// One organisation's records (ODS code).
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long)]
        archived: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A register's figures per financial year and quarter, for the system (or one
    /// organisation): value, unit, the plan metric it feeds and how it was worked out.
    Figures {
        slug: String,
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import a CSV or XLSX whose columns are the register's field keys (`registers template`
    /// writes one). All records or none are stored; every bad row is named.
    Import { slug: String, file: PathBuf },
    /// Write every live record to FILE (.csv or .xlsx), in the template's columns: the file
    /// imports back as it is.
    Export {
        slug: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the register's import template (an .xlsx with a note and drop-down per column).
    Template {
        slug: String,
        #[arg(long)]
        out: PathBuf,
    },
}

fn find(slug: &str) -> Result<&'static Register> {
    register::find(slug).with_context(|| {
        format!(
            "there is no register `{slug}`: use one of {} (`greenplan registers list`)",
            register::ALL
                .iter()
                .map(|r| r.slug)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn organisation(text: Option<&str>) -> Result<Option<OdsCode>> {
    text.map(|t| OdsCode::parse(t).with_context(|| format!("--organisation `{t}`")))
        .transpose()
}

async fn live(store: &Store, register: &'static Register) -> Result<Vec<Record>> {
    Ok(store
        .register_records(register, false)
        .await?
        .into_iter()
        .map(|s| s.record)
        .collect())
}

pub async fn run(store: &Store, command: RegistersCommand) -> Result<()> {
    match command {
        RegistersCommand::List { format } => list(store, format).await,
        RegistersCommand::Show {
            slug,
            organisation: org,
            archived,
            format,
        } => {
            show(
                store,
                find(&slug)?,
                organisation(org.as_deref())?,
                archived,
                format,
            )
            .await
        }
        RegistersCommand::Figures {
            slug,
            organisation: org,
            format,
        } => figures(store, find(&slug)?, organisation(org.as_deref())?, format).await,
        RegistersCommand::Import { slug, file } => import(store, find(&slug)?, &file).await,
        RegistersCommand::Export { slug, out } => {
            let register = find(&slug)?;
            let records = live(store, register).await?;
            let bytes = match extension(&out)? {
                "csv" => register_files::csv(register, &records)?,
                _ => register_files::workbook(register, &records)?,
            };
            write(&out, &bytes)?;
            eprintln!(
                "{} records of \"{}\" written to {}.",
                records.len(),
                register.title,
                out.display()
            );
            Ok(())
        }
        RegistersCommand::Template { slug, out } => {
            let register = find(&slug)?;
            if extension(&out)? != "xlsx" {
                bail!(
                    "{}: the template is a workbook: name it FILE.xlsx",
                    out.display()
                );
            }
            write(&out, &register_files::workbook(register, &[])?)?;
            eprintln!(
                "The template of \"{}\" is in {}.",
                register.title,
                out.display()
            );
            Ok(())
        }
    }
}

async fn list(store: &Store, format: Format) -> Result<()> {
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for r in register::ALL.iter().copied() {
        let n = store.register_records(r, false).await?.len();
        rows.push(vec![
            r.slug.to_string(),
            r.title.to_string(),
            r.area.to_string(),
            n.to_string(),
        ]);
        items.push(json!({"slug": r.slug, "title": r.title, "area": r.area, "records": n}));
    }
    Listing {
        columns: ["register", "title", "area", "records"]
            .map(String::from)
            .to_vec(),
        rows,
        json: json!(items),
    }
    .print(format)
}

async fn show(
    store: &Store,
    register: &'static Register,
    organisation: Option<OdsCode>,
    archived: bool,
    format: Format,
) -> Result<()> {
    let stored: Vec<_> = store
        .register_records(register, archived)
        .await?
        .into_iter()
        .filter(|s| organisation.is_none() || s.record.organisation() == organisation)
        .collect();
    let mut columns = vec!["id".to_string()];
    columns.extend(register.columns().iter().map(|c| c.to_string()));
    if archived {
        columns.push("archived".into());
    }
    let rows = stored
        .iter()
        .map(|s| {
            let mut row = vec![s.id.to_string()];
            row.extend(
                register
                    .columns()
                    .iter()
                    .map(|k| s.record.text(k).unwrap_or("").to_string()),
            );
            if archived {
                row.push(if s.archived_at.is_some() { "yes" } else { "no" }.into());
            }
            row
        })
        .collect();
    let json = json!(
        stored
            .iter()
            .map(|s| {
                let values: BTreeMap<&str, &str> = s.record.values().collect();
                json!({
                    "id": s.id, "values": values,
                    "created_at": s.created_at, "created_by": s.created_by,
                    "updated_at": s.updated_at, "updated_by": s.updated_by,
                    "archived_at": s.archived_at,
                })
            })
            .collect::<Vec<_>>()
    );
    Listing {
        columns,
        rows,
        json,
    }
    .print(format)
}

async fn figures(
    store: &Store,
    register: &'static Register,
    organisation: Option<OdsCode>,
    format: Format,
) -> Result<()> {
    let figures = register.figures_of(&live(store, register).await?, organisation.as_ref());
    let scope = |f: &register::Figure| {
        f.organisation
            .as_ref()
            .map_or_else(|| "system".to_string(), OdsCode::to_string)
    };
    Listing {
        columns: [
            "period",
            "scope",
            "figure",
            "value",
            "unit",
            "plan_metric",
            "working",
        ]
        .map(String::from)
        .to_vec(),
        rows: figures
            .iter()
            .map(|f| {
                vec![
                    f.period.to_string(),
                    scope(f),
                    f.label.to_string(),
                    f.value.normalize().to_string(),
                    f.unit.to_string(),
                    f.plan_metric.unwrap_or("").to_string(),
                    f.working.clone(),
                ]
            })
            .collect(),
        json: json!(
            figures
                .iter()
                .map(|f| json!({
                    "key": f.key, "label": f.label, "period": f.period.to_string(),
                    "scope": scope(f), "value": f.value.normalize().to_string(), "unit": f.unit,
                    "plan_metric": f.plan_metric, "working": f.working,
                }))
                .collect::<Vec<_>>()
        ),
    }
    .print(format)
}

async fn import(store: &Store, register: &'static Register, file: &Path) -> Result<()> {
    extension(file)?;
    let plan = store
        .load_plan()
        .await?
        .context("the database holds no plan: run `greenplan init`")?;
    let name = greenplan_ingest::activity::file_name(file);
    // The command line has the database itself, so it may write for every organisation. A
    // file with bad rows fails with each of them named (file, row, column, fix).
    let ids = greenplan_service::registers::import_register_file(
        store,
        &plan,
        register,
        file,
        &name,
        &crate::cli_actor(),
        |_| true,
    )
    .await?;
    eprintln!(
        "{name}: {} records imported into \"{}\".",
        ids.len(),
        register.title
    );
    Ok(())
}

/// `csv` or `xlsx`, from the file's name.
fn extension(path: &Path) -> Result<&'static str> {
    let lower = path.to_string_lossy().to_lowercase();
    ["csv", "xlsx"]
        .into_iter()
        .find(|e| lower.ends_with(&format!(".{e}")))
        .with_context(|| format!("{}: name a .csv or .xlsx file", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
