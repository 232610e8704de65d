//! `greenplan init`, `actions …` and `metrics …`.

use crate::factors_cmd;
use crate::output::{Format, Listing};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::Period;
use greenplan_core::plan::{ActionStatus, Plan};
use greenplan_core::progress::metric_progress;
use greenplan_core::quantity::with_thousands;
use greenplan_ingest::plan_file;
use greenplan_store::{InitOutcome, Store};
use serde_json::json;
use std::path::Path;

pub async fn init(
    store: &Store,
    plan: Option<&Path>,
    empty: bool,
    factors: Option<&Path>,
) -> Result<()> {
    if !empty {
        let parsed = match plan {
            Some(path) => plan_file::read_plan_file(path)?,
            None => plan_file::built_in_plan()?,
        };
        let outcome = store.init_plan(&parsed).await?;
        let fresh = matches!(outcome, InitOutcome::Loaded { .. });
        match outcome {
            InitOutcome::Loaded {
                actions,
                metrics,
                values,
            } => eprintln!(
                "Loaded \"{}\": {} areas of focus, {actions} priority actions, {metrics} metrics, {values} figures.",
                parsed.info.title,
                parsed.areas.len()
            ),
            InitOutcome::AlreadyLoaded => eprintln!(
                "\"{}\" is already loaded; nothing changed.",
                parsed.info.title
            ),
        }
        // The example registers belong to the built-in plan, loaded with it the first time only
        // (never into a database that already held the plan and may hold real records).
        if plan.is_none() && fresh {
            let n = greenplan_service::load_example_registers(store).await?;
            if n > 0 {
                eprintln!("Loaded {n} example register records (data/registers).");
            }
        }
    } else {
        eprintln!("Database ready, with no plan.");
    }
    if let Some(dir) = factors {
        factors_cmd::import_dir(store, dir).await?;
    }
    Ok(())
}

async fn require_plan(store: &Store) -> Result<Plan> {
    store
        .load_plan()
        .await?
        .context("no plan is loaded: run `greenplan init` first")
}

#[derive(Subcommand)]
pub enum ActionsCommand {
    /// List priority actions, filtered.
    List {
        /// Area of focus code, e.g. medicines.
        #[arg(long)]
        area: Option<String>,
        /// Organisation (ODS code) that leads the action.
        #[arg(long)]
        org: Option<String>,
        /// Status: not-started, on-track, at-risk, off-track, complete.
        #[arg(long)]
        status: Option<String>,
        /// Due within this period: 2025/26, Q3 2025/26, 2027…
        #[arg(long)]
        due: Option<String>,
        /// Only actions past their delivery date today.
        #[arg(long)]
        overdue: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn actions(store: &Store, command: ActionsCommand) -> Result<()> {
    let ActionsCommand::List {
        area,
        org,
        status,
        due,
        overdue,
        format,
    } = command;
    let plan = require_plan(store).await?;
    if let Some(a) = &area
        && !plan.areas.iter().any(|x| &x.code == a)
    {
        bail!(
            "unknown area `{a}`: use one of {}",
            plan.areas
                .iter()
                .map(|a| a.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let org = org.as_deref().map(OdsCode::parse).transpose()?;
    let status: Option<ActionStatus> = status
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let due = due.as_deref().map(Period::parse).transpose()?;
    let today = chrono::Local::now().date_naive();
    let selected: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| area.as_ref().is_none_or(|x| &a.area == x))
        .filter(|a| {
            org.as_ref()
                .is_none_or(|o| a.lead_organisations.contains(o))
        })
        .filter(|a| status.is_none_or(|s| a.status == s))
        .filter(|a| {
            due.is_none_or(|p| match (a.delivery.period.end(), p.start(), p.end()) {
                (Some(end), Some(s), Some(e)) => end >= s && end <= e,
                _ => false,
            })
        })
        .filter(|a| !overdue || a.delivery.is_overdue(today))
        .collect();
    let listing = Listing {
        columns: [
            "id",
            "area",
            "action",
            "leads",
            "delivery",
            "due",
            "status",
            "success_measure",
        ]
        .map(String::from)
        .to_vec(),
        rows: selected
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.area.clone(),
                    a.title.clone(),
                    a.leads.join("; "),
                    a.delivery.written.clone(),
                    a.delivery.period.to_string(),
                    a.status.label().to_string(),
                    a.success_measure.replace('\n', " / "),
                ]
            })
            .collect(),
        json: serde_json::to_value(&selected)?,
    };
    listing.print(format)
}

#[derive(Subcommand)]
pub enum MetricsCommand {
    /// List metrics with their latest value and rating.
    List {
        #[arg(long)]
        area: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Figures printed in a carbon unit that disagrees with the recorded one.
    Quality {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One metric: its values, targets, trajectory and rating.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn metrics(store: &Store, command: MetricsCommand) -> Result<()> {
    let plan = require_plan(store).await?;
    match command {
        MetricsCommand::List { area, format } => {
            let selected: Vec<_> = plan
                .metrics
                .iter()
                .filter(|m| area.as_ref().is_none_or(|a| m.area.as_ref() == Some(a)))
                .collect();
            let mut rows = Vec::new();
            let mut json_rows = Vec::new();
            for m in selected {
                let p = metric_progress(m, &plan.data_points);
                let latest = p
                    .latest
                    .map(|(period, v)| (period.to_string(), v.normalize().to_string()));
                rows.push(vec![
                    m.id.clone(),
                    m.name.clone(),
                    m.unit.clone(),
                    m.organisation
                        .as_ref()
                        .map_or_else(|| "system".into(), |o| o.to_string()),
                    latest
                        .as_ref()
                        .map_or_else(String::new, |(p, v)| format!("{v} ({p})")),
                    p.rating.label().to_string(),
                ]);
                json_rows.push(json!({"metric": m, "progress": p}));
            }
            Listing {
                columns: ["id", "name", "unit", "organisation", "latest", "rating"]
                    .map(String::from)
                    .to_vec(),
                rows,
                json: json!(json_rows),
            }
            .print(format)
        }
        MetricsCommand::Quality { format } => {
            let flags = greenplan_core::quality::unit_flags(&plan);
            Listing {
                columns: [
                    "metric",
                    "period",
                    "organisation",
                    "printed",
                    "recorded",
                    "literal",
                ]
                .map(String::from)
                .to_vec(),
                rows: flags
                    .iter()
                    .map(|f| {
                        vec![
                            f.metric.clone(),
                            f.period.clone(),
                            f.organisation.clone().unwrap_or_else(|| "system".into()),
                            f.printed.clone(),
                            f.recorded.clone(),
                            f.literal.clone(),
                        ]
                    })
                    .collect(),
                json: serde_json::to_value(&flags)?,
            }
            .print(format)
        }
        MetricsCommand::Show { id, format } => {
            let m = plan.metric(&id).with_context(|| {
                format!("unknown metric `{id}`: `greenplan metrics list` shows the ids")
            })?;
            let p = metric_progress(m, &plan.data_points);
            let values: Vec<_> = plan
                .data_points
                .iter()
                .filter(|d| d.metric == m.id)
                .collect();
            if format == Format::Json {
                return Listing {
                    columns: vec![],
                    rows: vec![],
                    json: json!({"metric": m, "values": values, "progress": p}),
                }
                .print(format);
            }
            if format == Format::Table {
                println!("{} ({})", m.name, m.id);
                println!("Unit: {}   Direction: {:?}", m.unit, m.direction);
                if let Some(d) = &m.description {
                    println!("{d}");
                }
                if let Some(b) = &m.baseline {
                    println!(
                        "Baseline: {} in {}",
                        with_thousands(b.value, 2).trim_end_matches(".00"),
                        b.period
                    );
                }
                match (&p.latest, p.expected) {
                    (Some((period, v)), Some(e)) => {
                        println!(
                            "Latest: {} in {period}; trajectory expects {} — {}",
                            v.normalize(),
                            e.normalize(),
                            p.rating.label()
                        )
                    }
                    (Some((period, v)), None) => println!(
                        "Latest: {} in {period} — {}",
                        v.normalize(),
                        p.rating.label()
                    ),
                    _ => println!("No values yet — {}", p.rating.label()),
                }
                if let Some(why) = &p.no_trajectory {
                    println!("No trajectory: {why}");
                }
                if let Some(t) = &p.trajectory {
                    println!(
                        "Trajectory: {}",
                        t.points
                            .iter()
                            .map(|(y, v)| format!("{y} {}", v.normalize()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                println!();
            }
            Listing {
                columns: [
                    "period",
                    "organisation",
                    "value",
                    "as_written",
                    "note",
                    "reference",
                ]
                .map(String::from)
                .to_vec(),
                rows: values
                    .iter()
                    .map(|v| {
                        vec![
                            v.period.to_string(),
                            v.organisation
                                .as_ref()
                                .map_or_else(|| "system".into(), |o| o.to_string()),
                            v.value.normalize().to_string(),
                            v.as_written.clone().unwrap_or_default(),
                            v.note.clone().unwrap_or_default(),
                            v.reference.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
                json: json!(null),
            }
            .print(format)
        }
    }
}
