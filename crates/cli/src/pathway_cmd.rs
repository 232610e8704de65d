//! `greenplan pathway`: the care pathway carbon calculator.

use crate::output::{Format, Listing};
use anyhow::Result;
use clap::Args;
use greenplan_core::Decimal;
use greenplan_core::pathway::{CareActivityFactor, evaluate};
use greenplan_core::quantity::with_thousands;
use greenplan_ingest::pathway_file::{built_in_factors, merge, read_factors, read_scenario};
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct PathwayArgs {
    /// The scenario (TOML): see data/pathways/team-up-falls.toml.
    #[arg(required_unless_present = "list_factors")]
    file: Option<PathBuf>,
    /// Care-activity factors (CSV, header id,name,unit,kgco2e,source[,low,high,year,verified])
    /// replacing or extending the built-in library by id.
    #[arg(long)]
    factors: Vec<PathBuf>,
    /// List the care-activity factors instead.
    #[arg(long)]
    list_factors: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// A figure for people (thousands separators) or for spreadsheets and scripts (plain).
fn figure(v: Decimal, format: Format) -> String {
    let v = v.normalize();
    match format {
        Format::Table => with_thousands(v, v.scale()),
        Format::Csv | Format::Json => v.to_string(),
    }
}

pub fn run(args: PathwayArgs) -> Result<()> {
    let mut library = built_in_factors()?;
    for f in &args.factors {
        library = merge(library, read_factors(f)?);
    }
    match (&args.file, args.list_factors) {
        (Some(file), false) => calculate(file, &library, args.format),
        _ => list(&library, args.format),
    }
}

fn list(library: &[CareActivityFactor], format: Format) -> Result<()> {
    Listing {
        columns: [
            "id", "name", "unit", "kgco2e", "low", "high", "source", "year", "verified",
        ]
        .map(String::from)
        .to_vec(),
        rows: library
            .iter()
            .map(|f| {
                vec![
                    f.id.clone(),
                    f.name.clone(),
                    f.unit.clone(),
                    f.kgco2e.normalize().to_string(),
                    f.low.map(|v| v.normalize().to_string()).unwrap_or_default(),
                    f.high
                        .map(|v| v.normalize().to_string())
                        .unwrap_or_default(),
                    f.source.clone(),
                    f.year.map(|y| y.to_string()).unwrap_or_default(),
                    f.verified.to_string(),
                ]
            })
            .collect(),
        json: json!(library),
    }
    .print(format)
}

fn calculate(file: &std::path::Path, library: &[CareActivityFactor], format: Format) -> Result<()> {
    let scenario = read_scenario(file)?;
    let result = evaluate(&scenario, library)?;
    let n = |v: Decimal| figure(v, format);
    let range = |r: Option<(Decimal, Decimal)>| {
        r.map(|(a, b)| format!("{} to {}", n(a), n(b)))
            .unwrap_or_default()
    };
    let mut rows: Vec<Vec<String>> = result
        .lines
        .iter()
        .map(|l| {
            vec![
                l.activity.clone(),
                n(l.fewer),
                l.unit.clone(),
                n(l.kgco2e_per_unit),
                n(l.kgco2e_saved),
                range(l.range),
                l.equivalents.map(n).unwrap_or_default(),
                l.published_note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    rows.push(vec![
        "total".into(),
        String::new(),
        String::new(),
        String::new(),
        n(result.total_kgco2e_saved),
        range(result.total_range),
        result.total_equivalents.map(n).unwrap_or_default(),
        String::new(),
    ]);
    let equivalents = match &result.equivalent {
        Some(e) => format!("equivalents ({e}s)"),
        None => "equivalents".into(),
    };
    if format == Format::Table {
        println!("{}", result.name);
    }
    Listing {
        columns: vec![
            "activity".into(),
            "fewer".into(),
            "unit".into(),
            "kgco2e_per_unit".into(),
            "kgco2e_saved".into(),
            "range_kgco2e".into(),
            equivalents,
            "published".into(),
        ],
        rows,
        json: json!(result),
    }
    .print(format)
}
