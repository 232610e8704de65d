//! `greenplan returns`: open a reporting period, and see where each organisation's return
//! for it stands (the same as the web app's data returns pages).

use crate::output::{Format, Listing};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use greenplan_core::period::Quarter;
use greenplan_core::plan::OrganisationKind;
use greenplan_core::returns::ReportingPeriod;
use greenplan_store::Store;
use serde_json::json;

#[derive(Subcommand)]
pub enum ReturnsCommand {
    /// Open a quarter for returns, e.g. `greenplan returns open "Q3 2025/26"`.
    Open {
        quarter: String,
        /// The day returns are due (YYYY-MM-DD); by default a month after the quarter ends.
        #[arg(long)]
        due: Option<String>,
    },
    /// Where each organisation's return for a quarter stands: approved, submitted, late or
    /// not yet due.
    Status {
        quarter: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn quarter(text: &str) -> Result<Quarter> {
    Quarter::parse(text)
        .with_context(|| format!("`{text}`: write a quarter such as \"Q3 2025/26\""))
}

pub async fn run(store: &Store, command: ReturnsCommand) -> Result<()> {
    match command {
        ReturnsCommand::Open { quarter: q, due } => {
            let quarter = quarter(&q)?;
            let due_on = match due {
                Some(d) => d
                    .parse()
                    .with_context(|| format!("--due `{d}`: give a date as YYYY-MM-DD"))?,
                None => ReportingPeriod::default_due_on(quarter),
            };
            if due_on < quarter.end() {
                bail!(
                    "--due {due_on}: returns cannot be due before {quarter} ends ({})",
                    quarter.end()
                );
            }
            store
                .open_reporting_period(&crate::cli_actor(), &ReportingPeriod { quarter, due_on })
                .await?;
            println!("{quarter} is open for returns, due by {due_on}.");
            Ok(())
        }
        ReturnsCommand::Status { quarter: q, format } => status(store, quarter(&q)?, format).await,
    }
}

async fn status(store: &Store, quarter: Quarter, format: Format) -> Result<()> {
    let Some(period) = store
        .reporting_periods()
        .await?
        .into_iter()
        .find(|p| p.quarter == quarter)
    else {
        bail!("{quarter} has not been opened for returns: `greenplan returns open \"{quarter}\"`");
    };
    let plan = store
        .load_plan()
        .await?
        .context("the database holds no plan: run `greenplan init`")?;
    let archived = store.archived_organisations().await?;
    let returns = store.returns_for(quarter).await?;
    let submissions: Vec<_> = returns.iter().map(|r| r.submission()).collect();
    let today = chrono::Local::now().date_naive();
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for org in plan
        .organisations
        .iter()
        .filter(|o| o.kind != OrganisationKind::Partner && !archived.contains(&o.code.to_string()))
    {
        let standing = period.status_of(&org.code, &submissions, today);
        let files: Vec<&str> = returns
            .iter()
            .filter(|r| r.organisation == org.code)
            .map(|r| r.file.as_str())
            .collect();
        rows.push(vec![
            org.code.to_string(),
            org.name.clone(),
            standing.label().to_string(),
            files.join("; "),
        ]);
        items.push(json!({"organisation": org.code, "name": org.name, "status": standing.slug(), "files": files}));
    }
    Listing {
        columns: ["organisation", "name", "status", "files"].map(String::from).to_vec(),
        rows,
        json: json!({"quarter": quarter.to_string(), "due_on": period.due_on.to_string(), "organisations": items}),
    }
    .print(format)
}
