//! `greenplan activity import` and `greenplan footprint`.

use crate::output::{Format, Listing};
use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use greenplan_core::Decimal;
use greenplan_core::factor::FactorSet;
use greenplan_core::footprint::{Aggregator, Emission, FootprintTable, GroupBy, in_footprint};
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::quantity::with_thousands;
use greenplan_ingest::activity::{footprint_of_file, footprint_table_of_file};
use greenplan_ingest::{IngestError, factors};
use greenplan_service::footprint::{FactorsInForce, FootprintQuery, for_each_emission};
use greenplan_store::{EditionInfo, Store};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ActivityCommand {
    /// Import activity data: CSV or XLSX with header
    /// organisation,site,period_start,period_end,activity,quantity,unit
    /// (optional edition,category,notes,market_factor). All rows or none are stored.
    Import {
        file: PathBuf,
        /// Check every row and show the footprint it would add, storing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Record the file as each of its organisations' return for this reporting period
        /// (e.g. "Q3 2025/26"; the period must be open: `greenplan returns open`).
        #[arg(long)]
        period: Option<String>,
    },
}

/// Which Scope 2 figure a CSV reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Basis {
    #[default]
    Location,
    Market,
}

#[derive(Args)]
pub struct FootprintArgs {
    /// Financial year, e.g. 2024/25.
    #[arg(long)]
    year: Option<String>,
    /// One organisation (ODS code).
    #[arg(long)]
    org: Option<String>,
    /// Use this factor edition for every row (compare years like for like).
    #[arg(long)]
    edition: Option<String>,
    /// Break down by: organisation, site, scope, category, gas, period (comma-separated, in order).
    #[arg(long, value_delimiter = ',', default_value = "organisation,category")]
    by: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Compute from this activity file without storing it.
    #[arg(long)]
    from: Option<PathBuf>,
    /// With --from: custom factor file(s) to use besides the stored factors.
    #[arg(long, requires = "from")]
    factors: Vec<PathBuf>,
    /// List, for every figure, the activity rows and factors it came from.
    #[arg(long)]
    explain: bool,
    /// Scope 2 basis of the CSV figure: location (grid average) or market (supplier tariffs).
    #[arg(long, value_enum, default_value_t)]
    basis: Basis,
    /// Show each year against the NHS national trajectories (Carbon Footprint net zero 2040,
    /// Plus 2045) from a baseline year.
    #[arg(long, conflicts_with = "explain")]
    against_targets: bool,
    /// With --against-targets: the baseline financial year (default: the earliest with data).
    #[arg(long, requires = "against_targets")]
    baseline: Option<String>,
}

pub async fn run(store: &Store, command: ActivityCommand) -> Result<()> {
    let ActivityCommand::Import {
        file,
        dry_run,
        period,
    } = command;
    let quarter = period
        .map(|p| greenplan_core::period::Quarter::parse(&p))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--period: {e}; write a quarter such as \"Q3 2025/26\""))?;
    import(store, &file, dry_run, quarter).await
}

fn progress(label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(label.to_string());
    bar
}

async fn import(
    store: &Store,
    path: &Path,
    dry_run: bool,
    quarter: Option<greenplan_core::period::Quarter>,
) -> Result<()> {
    use greenplan_service::{ImportReport, import_activity_file};
    let name = greenplan_ingest::activity::file_name(path);
    let bar = progress(if dry_run { "Checking" } else { "Importing" });
    let ticker = bar.clone();
    // The command line acts for the operator, who may load any organisation's data.
    let report = import_activity_file(
        store,
        path,
        None,
        &crate::cli_actor(),
        dry_run,
        quarter,
        |_| true,
        move |n| ticker.set_position(n),
    )
    .await;
    bar.finish_and_clear();
    match report? {
        ImportReport::AlreadyImported {
            import_id,
            imported_at,
        } => {
            let when = chrono::DateTime::from_timestamp(imported_at, 0)
                .map_or_else(String::new, |t| t.format("%-d %B %Y %H:%M").to_string());
            eprintln!(
                "{name}: these exact contents were already imported (import {import_id}, {when}); nothing was stored twice."
            );
            Ok(())
        }
        ImportReport::Rejected { errors, total } => Err(IngestError::Rows { errors, total }.into()),
        ImportReport::Imported {
            import_id,
            rows,
            adds,
        } => {
            eprintln!("{name}: {rows} rows imported (import {import_id}). It adds:");
            print_table(&adds, Format::Table, Basis::Location)
        }
        ImportReport::Checked { adds, .. } => {
            eprintln!("{name}: every row is valid (dry run: nothing stored). It would add:");
            print_table(&adds, Format::Table, Basis::Location)
        }
    }
}

pub async fn footprint(store: &Store, args: FootprintArgs) -> Result<()> {
    let by: Vec<GroupBy> = if args.against_targets {
        vec![GroupBy::Period, GroupBy::Category]
    } else {
        args.by
            .iter()
            .map(|b| b.parse::<GroupBy>())
            .collect::<Result<_, _>>()?
    };
    let year = args.year.as_deref().map(FinancialYear::parse).transpose()?;
    let org = args.org.as_deref().map(OdsCode::parse).transpose()?;
    let keep = |e: &Emission| {
        year.is_none_or(|y| e.year == y)
            && org.as_ref().is_none_or(|o| &e.organisation == o)
            && in_footprint(e)
    };

    let mut extra_factors = Vec::new();
    for f in &args.factors {
        let extra =
            if greenplan_ingest::table::is_workbook(f) && !f.to_string_lossy().contains("custom") {
                factors::read_flat_file(f, None)
                    .map(|ff| ff.factors)
                    .or_else(|_| factors::read_custom_factors(f))?
            } else {
                factors::read_custom_factors(f)?
            };
        extra_factors.extend(extra);
    }
    let FactorsInForce {
        factors: mut factor_set,
        editions,
        stored: stored_editions,
    } = FactorsInForce::load(store, extra_factors.iter().cloned()).await?;
    if let Some(e) = &args.edition
        && !factor_set.has_edition(e)
    {
        bail!("no factor edition `{e}` is loaded: `greenplan factors editions` lists them");
    }

    if let (Some(file), false) = (&args.from, args.explain) {
        let table = footprint_table_of_file(
            file,
            &factor_set,
            &editions,
            args.edition.as_deref(),
            &by,
            keep,
        )?;
        refuse_unsummed(&table)?;
        if args.against_targets {
            let baseline = args
                .baseline
                .as_deref()
                .map(FinancialYear::parse)
                .transpose()?;
            return print_against_targets(&table, baseline, args.format);
        }
        return print_table(&table, args.format, args.basis);
    }
    let mut agg = Aggregator::new(&by, args.explain);
    let mut kept: Vec<Emission> = Vec::new();
    let mut add = |e: Emission| {
        if keep(&e) {
            let i = kept.len();
            agg.add(i, &e);
            if args.explain {
                kept.push(e);
            }
        }
    };
    match &args.from {
        Some(file) => {
            let path = file.clone();
            footprint_of_file(
                &path,
                &factor_set,
                &editions,
                args.edition.as_deref(),
                &mut add,
            )?;
        }
        None => {
            let query = FootprintQuery {
                year,
                organisation: org.clone(),
                edition: args.edition.clone(),
                extra_factors: extra_factors.clone(),
                inhaler_files: Vec::new(),
                // `--explain` lists every row; a gas's share of a Scope 2 line is divided
                // out row by row.
                each_row: args.explain || by.contains(&GroupBy::Gas),
            };
            let run = for_each_emission(store, &query, &mut add).await?;
            if !run.unconverted.is_empty() {
                bail!(
                    "{} stored rows cannot be converted with the loaded factors (was an edition removed?):\n{}",
                    run.unconverted.len(),
                    run.unconverted
                        .iter()
                        .take(20)
                        .map(|p| format!("  {p}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            if !run.not_counted.is_empty() {
                eprintln!(
                    "note: {} line{} from registers, travel surveys or medicines could not be converted, so {} left out:",
                    run.not_counted.len(),
                    if run.not_counted.len() == 1 { "" } else { "s" },
                    if run.not_counted.len() == 1 {
                        "it is"
                    } else {
                        "they are"
                    },
                );
                for p in run.not_counted.iter().take(20) {
                    eprintln!("  {p}");
                }
            }
            for n in &run.notes {
                eprintln!("note: {n}");
            }
            // Medicines' own factors are in the computation's set, not in `factor_set`.
            factor_set = run.factors;
        }
    }
    let table = agg.finish();
    refuse_unsummed(&table)?;
    if args.against_targets {
        let baseline = args
            .baseline
            .as_deref()
            .map(FinancialYear::parse)
            .transpose()?;
        return print_against_targets(&table, baseline, args.format);
    }
    if args.explain {
        return print_explain(&table, &kept, &factor_set, &stored_editions, args.format);
    }
    print_table(&table, args.format, args.basis)
}

/// A footprint with rows left out because they could not be summed is not printed as if it
/// were whole: the command fails, naming the organisations (issue 21).
fn refuse_unsummed(table: &FootprintTable) -> Result<()> {
    if !table.unsummed.is_empty() {
        bail!(
            "some rows could not be summed, their figures are far too large to be real: {}; correct and re-import them",
            greenplan_core::footprint::Unsummed::describe(&table.unsummed)
        );
    }
    Ok(())
}

/// Each year's Carbon Footprint and Carbon Footprint Plus against the national trajectories.
fn print_against_targets(
    table: &FootprintTable,
    baseline: Option<FinancialYear>,
    format: Format,
) -> Result<()> {
    use greenplan_core::category::{Footprint, NhsCategory};
    use greenplan_core::target::{Baseline, Direction, national_targets, rate, trajectory};
    use std::collections::BTreeMap;
    // Carbon Footprint Plus contains the Carbon Footprint.
    let mut totals: BTreeMap<(FinancialYear, &str), Decimal> = BTreeMap::new();
    for l in &table.lines {
        let (Ok(year), Ok(category)) = (
            FinancialYear::parse(&l.key[0]),
            l.key[1].parse::<NhsCategory>(),
        ) else {
            continue;
        };
        let mut add = |name: &'static str| -> Result<()> {
            let total = totals.entry((year, name)).or_default();
            *total = total
                .checked_add(l.kgco2e)
                .ok_or(greenplan_core::footprint::SumOverflow)?;
            Ok(())
        };
        if category.footprint() == Footprint::CarbonFootprint {
            add("carbon-footprint")?;
        }
        if category.footprint() != Footprint::Outside {
            add("carbon-footprint-plus")?;
        }
    }
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    for (name, footprint) in [
        ("carbon-footprint", Footprint::CarbonFootprint),
        ("carbon-footprint-plus", Footprint::CarbonFootprintPlus),
    ] {
        let years: Vec<(FinancialYear, Decimal)> = totals
            .iter()
            .filter(|((_, n), _)| *n == name)
            .map(|((y, _), v)| (*y, *v / Decimal::ONE_THOUSAND))
            .collect();
        let Some(&(first, _)) = years.first() else {
            continue;
        };
        let base_year = baseline.unwrap_or(first);
        let Some(&(_, base_value)) = years.iter().find(|(y, _)| *y == base_year) else {
            bail!(
                "there is no {} data for the baseline year {base_year}: import that year's activity or choose another --baseline",
                footprint.label()
            );
        };
        let base = Baseline {
            period: greenplan_core::period::Period::FinancialYear { year: base_year },
            value: base_value,
        };
        let t = trajectory(Some(&base), &national_targets(footprint))?;
        for (year, actual) in years.iter().filter(|(y, _)| *y >= base_year) {
            let expected = t.at(*year);
            let rating = rate(Direction::LowerIsBetter, &t, *year, *actual);
            rows.push(vec![
                footprint.label().to_string(),
                year.to_string(),
                with_thousands(*actual, 1),
                expected.map_or_else(String::new, |e| with_thousands(e, 1)),
                rating.label().to_string(),
            ]);
            json_rows.push(json!({"footprint": name, "year": year.to_string(), "tco2e": actual.round_dp(6).normalize().to_string(),
                "trajectory_tco2e": expected.map(|e| e.round_dp(6).normalize().to_string()), "rating": rating}));
        }
    }
    if rows.is_empty() {
        bail!("no activity data to compare: import activity with `greenplan activity import FILE`");
    }
    Listing {
        columns: ["footprint", "year", "tco2e", "trajectory_tco2e", "rating"]
            .map(String::from)
            .to_vec(),
        rows,
        json: json!(json_rows),
    }
    .print(format)
}

fn tonnes(kg: Decimal) -> Decimal {
    (kg / Decimal::ONE_THOUSAND).round_dp(6).normalize()
}

fn print_table(table: &FootprintTable, format: Format, basis: Basis) -> Result<()> {
    let mut columns: Vec<String> = table.by.iter().map(|b| b.column().to_string()).collect();
    let total_kg = table.total_kgco2e()?;
    let total_market: Decimal =
        greenplan_core::footprint::checked_sum(table.lines.iter().map(|l| l.market_kgco2e))?;
    let rows: Vec<Vec<String>> = match format {
        Format::Table => {
            columns.extend([
                "tCO2e (location-based)".to_string(),
                "tCO2e (market-based)".to_string(),
            ]);
            let mut rows: Vec<Vec<String>> = table
                .lines
                .iter()
                .map(|l| {
                    let mut r = l.key.clone();
                    r.push(with_thousands(l.tco2e(), 1));
                    r.push(with_thousands(l.market_tco2e(), 1));
                    r
                })
                .collect();
            let mut total = vec![String::new(); table.by.len()];
            if let Some(first) = total.first_mut() {
                *first = "Total".into();
            }
            total.push(with_thousands(total_kg / Decimal::ONE_THOUSAND, 1));
            total.push(with_thousands(total_market / Decimal::ONE_THOUSAND, 1));
            rows.push(total);
            rows
        }
        _ => {
            columns.push("tco2e".into());
            table
                .lines
                .iter()
                .map(|l| {
                    let mut r = l.key.clone();
                    r.push(
                        tonnes(if basis == Basis::Market {
                            l.market_kgco2e
                        } else {
                            l.kgco2e
                        })
                        .to_string(),
                    );
                    r
                })
                .collect()
        }
    };
    let json = json!({
        "by": table.by,
        "lines": table.lines.iter().map(|l| {
            let key: serde_json::Map<String, serde_json::Value> = table.by.iter().zip(&l.key).map(|(b, k)| (b.column().to_string(), json!(k))).collect();
            json!({"key": key, "tco2e": tonnes(l.kgco2e).to_string(), "tco2e_market_based": tonnes(l.market_kgco2e).to_string()})
        }).collect::<Vec<_>>(),
        "total_tco2e": tonnes(total_kg).to_string(),
        "total_tco2e_market_based": tonnes(total_market).to_string(),
    });
    Listing {
        columns,
        rows,
        json,
    }
    .print(format)
}

fn print_explain(
    table: &FootprintTable,
    emissions: &[Emission],
    factors: &FactorSet,
    editions: &[EditionInfo],
    format: Format,
) -> Result<()> {
    // A spend factor set is named with the year whose prices it is in.
    let price_year = |edition: &str| {
        editions
            .iter()
            .find(|e| e.name == edition)
            .and_then(|e| e.price_year)
    };
    let mut columns: Vec<String> = table.by.iter().map(|b| b.column().to_string()).collect();
    columns.extend(
        [
            "line_tco2e",
            "source",
            "row",
            "quantity",
            "unit",
            "edition",
            "factor",
            "kgco2e_per_unit",
            "kgco2e",
        ]
        .map(String::from),
    );
    let mut rows = Vec::new();
    let mut lines_json = Vec::new();
    for l in &table.lines {
        let mut contributions = Vec::new();
        for &i in &l.emissions {
            let e = &emissions[i];
            let Some(f) = factors.get(e.factor) else {
                continue;
            };
            let mut r = l.key.clone();
            r.extend([
                tonnes(l.kgco2e).to_string(),
                e.origin.source.to_string(),
                e.origin.row.to_string(),
                e.quantity_in_factor_unit.normalize().to_string(),
                f.unit_text.clone(),
                price_year(&f.edition).map_or_else(
                    || f.edition.clone(),
                    |y| format!("{} ({y} prices)", f.edition),
                ),
                f.path(),
                f.kgco2e.normalize().to_string(),
                e.kgco2e.round_dp(6).normalize().to_string(),
            ]);
            rows.push(r);
            contributions.push(json!({
                "source": e.origin.source, "row": e.origin.row,
                "quantity": e.quantity_in_factor_unit.normalize().to_string(), "unit": f.unit_text,
                "edition": f.edition, "price_year": price_year(&f.edition), "factor": f.path(), "factor_source": f.source,
                "kgco2e_per_unit": f.kgco2e.normalize().to_string(), "kgco2e": e.kgco2e.round_dp(6).normalize().to_string(),
            }));
        }
        lines_json.push(
            json!({"key": l.key, "tco2e": tonnes(l.kgco2e).to_string(), "from": contributions}),
        );
    }
    Listing {
        columns,
        rows,
        json: json!({"by": table.by, "lines": lines_json}),
    }
    .print(format)
}
