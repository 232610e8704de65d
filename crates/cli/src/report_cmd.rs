//! `greenplan report`: the quarterly Delivery Group pack and the annual Board report as PDF,
//! HTML or XLSX, publishing them, and what has changed since publication.

use crate::output::{Format, Listing};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use greenplan_reports::{Format as FileFormat, ReportKind, ReportRequest};
use greenplan_store::Store;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// The Greener ICS Delivery Group's quarterly pack.
    Quarterly {
        /// The quarter, e.g. "Q3 2025/26".
        #[arg(long)]
        period: String,
        #[command(flatten)]
        common: Common,
    },
    /// The annual report to the ICB Board.
    Annual {
        /// The financial year, e.g. 2025/26.
        #[arg(long)]
        year: String,
        #[command(flatten)]
        common: Common,
    },
    /// Published reports, newest first.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Write a published report again, exactly as it was published.
    Show {
        /// The published report's number (`greenplan report list`).
        id: i64,
        /// Where to write it: a .pdf, .html or .xlsx file.
        #[arg(long)]
        out: PathBuf,
    },
    /// What has changed since a report was published: its figures and action states now.
    Changes {
        id: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(clap::Args)]
pub struct Common {
    /// Where to write the report: a .pdf, .html or .xlsx file.
    #[arg(long)]
    out: PathBuf,
    /// Only this organisation (ODS code, e.g. RTG); the whole system by default.
    #[arg(long)]
    org: Option<String>,
    /// Also publish it: freeze its figures and action states in the database.
    #[arg(long)]
    publish: bool,
}

pub async fn run(store: &Store, command: ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Quarterly { period, common } => {
            make(store, ReportKind::Quarterly, &period, common).await
        }
        ReportCommand::Annual { year, common } => {
            make(store, ReportKind::Annual, &year, common).await
        }
        ReportCommand::List { format } => list(store, format).await,
        ReportCommand::Show { id, out } => show(store, id, &out).await,
        ReportCommand::Changes { id, format } => changes(store, id, format).await,
    }
}

fn format_of(out: &Path) -> Result<FileFormat> {
    Ok(FileFormat::of_path(&out.to_string_lossy())?)
}

fn write(out: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
}

async fn make(store: &Store, kind: ReportKind, period: &str, common: Common) -> Result<()> {
    let format = format_of(&common.out)?;
    let request = ReportRequest::parse(kind, period, common.org.as_deref())?;
    let report =
        greenplan_reports::build(store, &request, chrono::Local::now().naive_local()).await?;
    let started = std::time::Instant::now();
    let bytes = greenplan_reports::render(&report, format)?;
    write(&common.out, &bytes)?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rendered"
    );
    eprintln!("Wrote {} ({} bytes).", common.out.display(), bytes.len());
    if common.publish {
        let id = greenplan_reports::publish(store, &crate::cli_actor(), &report).await?;
        eprintln!(
            "Published as report {id}: `greenplan report show {id} --out FILE` writes it again as published."
        );
    }
    Ok(())
}

async fn list(store: &Store, format: Format) -> Result<()> {
    let reports = store.published_reports().await?;
    Listing {
        columns: [
            "id",
            "kind",
            "period",
            "organisation",
            "title",
            "published_by",
            "published_at",
        ]
        .map(String::from)
        .to_vec(),
        rows: reports
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.kind.clone(),
                    r.period.clone(),
                    r.organisation.clone().unwrap_or_default(),
                    r.title.clone(),
                    r.published_by.clone(),
                    published_at(r.published_at),
                ]
            })
            .collect(),
        json: json!(reports),
    }
    .print(format)
}

fn published_at(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn show(store: &Store, id: i64, out: &Path) -> Result<()> {
    let format = format_of(out)?;
    let (_, report) = greenplan_reports::published(store, id).await?;
    write(out, &greenplan_reports::render(&report, format)?)?;
    eprintln!("Wrote published report {id} to {}.", out.display());
    Ok(())
}

async fn changes(store: &Store, id: i64, format: Format) -> Result<()> {
    let (then, changes) =
        greenplan_reports::changes_since(store, id, chrono::Local::now().naive_local()).await?;
    if changes.is_empty() && format == Format::Table {
        eprintln!(
            "Nothing has changed since report {id} ({}) was published.",
            then.title
        );
        return Ok(());
    }
    if changes.len() > 10_000 {
        bail!("more than 10,000 changes: compare the reports as spreadsheets instead");
    }
    Listing {
        columns: ["where", "row", "column", "published", "now"]
            .map(String::from)
            .to_vec(),
        rows: changes
            .iter()
            .map(|c| {
                vec![
                    c.table.clone(),
                    c.row.clone(),
                    c.column.clone(),
                    c.published.clone(),
                    c.now.clone(),
                ]
            })
            .collect(),
        json: json!(changes),
    }
    .print(format)
}
