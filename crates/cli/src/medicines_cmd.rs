//! `greenplan prescribing …` and `greenplan anaesthetic-gases …`: inhaler carbon from the
//! English Prescribing Dataset, and anaesthetic gas returns.

use crate::output::{Format, Listing};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use greenplan_core::Decimal;
use greenplan_core::anaesthetic::{Agent, GwpSet, gas_months, trust_years};
use greenplan_core::inhaler::InhalerTable;
use greenplan_core::period::{Period, YearMonth};
use greenplan_core::prescribing::{
    Level, Measures, Prescribing, by_financial_year, league, measures, over_period, plain,
};
use greenplan_ingest::prescribing::{EpdOptions, read_epd, read_inhaler_file};
use greenplan_store::{MetricValue, Store};
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PrescribingCommand {
    /// Import English Prescribing Dataset files (CSV, .zip or .gz); a month already imported
    /// is replaced.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Inhaler measures per month: items by device, inhalers, tCO2e, MDI share, salbutamol.
    Measures {
        /// Levels, comma-separated: practice, sub-icb, icb, national.
        #[arg(long, value_delimiter = ',', default_value = "icb")]
        level: Vec<Level>,
        #[command(flatten)]
        period: PeriodArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Compute straight from these EPD files, storing nothing.
        #[arg(long = "from-file", num_args = 1..)]
        from_file: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// League table over a period: MDI share, percentile and the saving if each organisation
    /// matched the best decile (tCO2e a year).
    League {
        /// practice or sub-icb.
        #[arg(long, default_value = "practice")]
        level: Level,
        #[command(flatten)]
        period: PeriodArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(long = "from-file", num_args = 1..)]
        from_file: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Store the ICS's own inhaler product figures (CSV: bnf_code,description,device,
    /// kgco2e_per_inhaler,doses_per_inhaler,source), replacing any stored before. The web
    /// pages, reports and the footprint then count inhalers with them.
    ImportProducts {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The inhaler product table in use: the shipped one with the stored figures over it.
    Products {
        #[arg(long = "inhaler-factors")]
        inhaler_factors: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Where prescribing comes from and which products count.
#[derive(Args, Clone)]
pub struct SourceArgs {
    /// Keep only this ICB's rows (ICB_CODE, STP_CODE or AREA_TEAM_CODE), e.g. QJ2.
    #[arg(long)]
    icb: Option<String>,
    /// Inhaler products replacing or extending the table in use (CSV:
    /// bnf_code,description,device,kgco2e_per_inhaler,doses_per_inhaler,source). With
    /// `import` they are stored as the ICS's own figures (as `import-products` does), so
    /// that every page and report counts the imported months the same way; with the other
    /// commands they apply to that command only.
    #[arg(long = "inhaler-factors")]
    inhaler_factors: Vec<PathBuf>,
}

/// A month or a range of months.
#[derive(Args, Clone)]
pub struct PeriodArgs {
    /// One month, YYYYMM.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    month: Option<String>,
    /// First month, YYYYMM.
    #[arg(long)]
    from: Option<String>,
    /// Last month, YYYYMM.
    #[arg(long)]
    to: Option<String>,
}

impl PeriodArgs {
    fn range(&self) -> Result<(Option<YearMonth>, Option<YearMonth>)> {
        let parse = |s: &Option<String>| -> Result<Option<YearMonth>> {
            s.as_deref()
                .map(|m| {
                    YearMonth::parse(m)
                        .with_context(|| format!("`{m}` is not a month: write YYYYMM, e.g. 202504"))
                })
                .transpose()
        };
        if self.month.is_some() {
            let m = parse(&self.month)?;
            return Ok((m, m));
        }
        Ok((parse(&self.from)?, parse(&self.to)?))
    }
}

/// The table in force (shipped, then stored figures) with `files` over it.
async fn table(store: &Store, files: &[PathBuf]) -> Result<InhalerTable> {
    Ok(greenplan_service::footprint::inhaler_table(store, files).await?)
}

/// Stores the products of `files` as the ICS's own figures (a later file's row wins).
async fn import_products(store: &Store, files: &[PathBuf]) -> Result<()> {
    let mut products = Vec::new();
    for f in files {
        products.extend(read_inhaler_file(f)?);
    }
    let products = InhalerTable::new(products);
    let names: Vec<String> = files
        .iter()
        .map(|f| greenplan_ingest::activity::file_name(f))
        .collect();
    store
        .replace_inhaler_products(&crate::cli_actor(), &names.join(", "), products.products())
        .await?;
    println!(
        "Stored {} inhaler product{} from {} as the ICS's own figures (they replace any stored before).",
        products.len(),
        if products.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    Ok(())
}

/// Reads EPD files (each on all cores) and merges them.
fn read_files(
    files: &[PathBuf],
    icb: Option<&str>,
    table: &InhalerTable,
) -> Result<(Prescribing, u64)> {
    let mut data = Prescribing::default();
    let mut rows = 0;
    for f in files {
        let extract = read_epd(f, EpdOptions { icb, table })?;
        rows += extract.rows;
        data.merge(extract.data);
    }
    Ok((data, rows))
}

async fn load(
    store: &Store,
    from_file: &[PathBuf],
    source: &SourceArgs,
    table: &InhalerTable,
    (from, to): (Option<YearMonth>, Option<YearMonth>),
) -> Result<Prescribing> {
    if from_file.is_empty() {
        if store.prescribing_months().await?.is_empty() {
            bail!(
                "no prescribing is stored: import EPD files with `greenplan prescribing import FILE`, or compute from files with --from-file"
            );
        }
        return Ok(store.load_prescribing(from, to).await?);
    }
    let icb = source.icb.as_deref();
    Ok(tokio::task::block_in_place(|| read_files(from_file, icb, table))?.0)
}

pub async fn run(store: &Store, command: PrescribingCommand) -> Result<()> {
    match command {
        PrescribingCommand::Import { files, source } => import(store, &files, &source).await,
        PrescribingCommand::Measures {
            level,
            period,
            format,
            from_file,
            source,
        } => {
            let table = table(store, &source.inhaler_factors).await?;
            let range = period.range()?;
            let data = load(store, &from_file, &source, &table, range).await?;
            let m = measures(&data, &table, &level, bounds(range));
            warn_uncounted(&m);
            measures_listing(&m).print(format)
        }
        PrescribingCommand::League {
            level,
            period,
            format,
            from_file,
            source,
        } => {
            let table = table(store, &source.inhaler_factors).await?;
            let range = period.range()?;
            let data = load(store, &from_file, &source, &table, range).await?;
            let m = measures(&data, &table, &[level], bounds(range));
            warn_uncounted(&m);
            let months = {
                let mut ms: Vec<_> = m.rows.iter().filter_map(|r| r.year_month).collect();
                ms.dedup();
                ms.len() as u32
            };
            league_listing(&league(over_period(&m.rows), months)).print(format)
        }
        PrescribingCommand::ImportProducts { files } => import_products(store, &files).await,
        PrescribingCommand::Products {
            inhaler_factors,
            format,
        } => products_listing(&table(store, &inhaler_factors).await?).print(format),
    }
}

fn bounds(range: (Option<YearMonth>, Option<YearMonth>)) -> Option<(YearMonth, YearMonth)> {
    match range {
        (None, None) => None,
        (from, to) => Some((
            from.unwrap_or(YearMonth {
                year: 1900,
                month: 1,
            }),
            to.unwrap_or(YearMonth {
                year: 2200,
                month: 12,
            }),
        )),
    }
}

async fn import(store: &Store, files: &[PathBuf], source: &SourceArgs) -> Result<()> {
    let table = table(store, &source.inhaler_factors).await?;
    let icb = source.icb.as_deref();
    let (data, rows) = tokio::task::block_in_place(|| read_files(files, icb, &table))?;
    if !source.inhaler_factors.is_empty() {
        import_products(store, &source.inhaler_factors).await?;
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| greenplan_ingest::activity::file_name(f))
        .collect();
    let months = store
        .replace_prescribing_months(&crate::cli_actor(), &names.join(", "), icb, &data)
        .await?;
    let m = measures(&data, &table, &[Level::National], None);
    warn_uncounted(&m);
    println!(
        "Imported {} ({} rows read, {} inhaler lines kept{}) for {}.",
        names.join(", "),
        rows,
        data.lines.len(),
        icb.map(|i| format!(" for ICB {i}")).unwrap_or_default(),
        months
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    feed_plan(store, &table).await
}

/// Records the ICB's complete financial years as values of the plan's inhaler metrics, and
/// says what the NHS Carbon Footprint "inhalers" category holds.
async fn feed_plan(store: &Store, table: &InhalerTable) -> Result<()> {
    let Some(plan) = store.load_plan().await? else {
        return Ok(());
    };
    let icb = plan.info.icb.to_string();
    let data = store.load_icb_prescribing(&icb).await?;
    let rows: Vec<_> = measures(&data, table, &[Level::Icb], None)
        .rows
        .into_iter()
        .filter(|r| r.org_code.eq_ignore_ascii_case(&icb))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let years = by_financial_year(&rows);
    let mut carbon = Vec::new();
    let mut salbutamol = Vec::new();
    for y in &years {
        println!(
            "  {icb} {}: {} tCO2e from inhalers over {} month{}{}",
            y.year,
            greenplan_core::quantity::with_thousands(y.tco2e, 1),
            y.months,
            if y.months == 1 { "" } else { "s" },
            if y.months == 12 {
                " (NHS Carbon Footprint: inhalers)"
            } else {
                " (year not complete)"
            }
        );
        if y.months < 12 {
            continue;
        }
        let value = |metric: &str, v: Decimal| MetricValue {
            metric: metric.into(),
            organisation: None,
            period: Period::FinancialYear { year: y.year },
            value: v,
            as_written: None,
            note: Some(
                "Computed by greenplan from the English Prescribing Dataset (12 months).".into(),
            ),
            reference: None,
            origin: "prescribing".into(),
        };
        carbon.push(value("inhaler-carbon", y.tco2e.round_dp(1)));
        if let Some(s) = y.salbutamol_kgco2e_per_inhaler {
            salbutamol.push(value("salbutamol-inhaler-mean-carbon", s.round_dp(2)));
        }
    }
    let actor = crate::cli_actor();
    store
        .replace_derived_metric_values(&actor, "inhaler-carbon", "prescribing", &carbon)
        .await?;
    store
        .replace_derived_metric_values(
            &actor,
            "salbutamol-inhaler-mean-carbon",
            "prescribing",
            &salbutamol,
        )
        .await?;
    Ok(())
}

fn warn_uncounted(m: &Measures) {
    if m.uncounted.is_empty() {
        return;
    }
    eprintln!(
        "warning: {} inhaler BNF code{} could not be counted, so {} items are left out of the measures; add {} to a CSV given with --inhaler-factors:",
        m.uncounted.len(),
        if m.uncounted.len() == 1 { "" } else { "s" },
        m.uncounted.iter().map(|u| u.items).sum::<i64>(),
        if m.uncounted.len() == 1 { "it" } else { "them" },
    );
    for u in m.uncounted.iter().take(50) {
        eprintln!(
            "  {} {} ({} items): {}",
            u.bnf_code, u.description, u.items, u.reason
        );
    }
    if m.uncounted.len() > 50 {
        eprintln!("  … and {} more", m.uncounted.len() - 50);
    }
}

pub use greenplan_core::prescribing::MEASURE_COLUMNS;

fn opt(v: Option<Decimal>) -> String {
    v.map(plain).unwrap_or_default()
}

fn measures_listing(m: &Measures) -> Listing {
    let rows: Vec<Vec<String>> = m.rows.iter().map(|r| r.cells()).collect();
    let json = rows
        .iter()
        .map(|r| {
            MEASURE_COLUMNS
                .iter()
                .zip(r)
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
        })
        .collect::<Vec<_>>();
    Listing {
        columns: MEASURE_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows,
        json: json!({"measures": json, "uncounted": m.uncounted}),
    }
}

fn league_listing(l: &greenplan_core::prescribing::League) -> Listing {
    let columns = [
        "org_code",
        "org_name",
        "inhaler_items",
        "tco2e",
        "mdi_share_excl_salbutamol",
        "percentile",
        "saving_tco2e_a_year",
    ];
    let rows: Vec<Vec<String>> = l
        .rows
        .iter()
        .map(|r| {
            vec![
                r.measure.org_code.clone(),
                r.measure.org_name.clone(),
                r.measure.inhaler_items.to_string(),
                plain(r.measure.tco2e.round_dp(3)),
                opt(r.mdi_share),
                opt(r.percentile),
                plain(r.saving_tco2e_a_year),
            ]
        })
        .collect();
    Listing {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        json: json!({
            "months": l.months,
            "best_decile_share": l.best_decile_share,
            "low_carbon_kgco2e_per_inhaler": l.low_carbon_kgco2e_per_inhaler,
            "rows": l.rows,
        }),
    }
}

fn products_listing(t: &InhalerTable) -> Listing {
    let columns = [
        "bnf_code",
        "description",
        "device",
        "kgco2e_per_inhaler",
        "doses_per_inhaler",
        "class_default",
        "source",
    ];
    let rows = t
        .products()
        .iter()
        .map(|p| {
            vec![
                p.bnf_code.clone(),
                p.description.clone(),
                p.device.label().to_string(),
                plain(p.kgco2e_per_inhaler),
                opt(p.doses_per_inhaler),
                p.class_default.to_string(),
                p.source.clone(),
            ]
        })
        .collect();
    Listing {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        json: json!(t.products()),
    }
}

#[derive(Subcommand)]
pub enum GasCommand {
    /// Import trusts' monthly returns (CSV/XLSX: organisation,month,agent,quantity,unit and
    /// optional supply,basis); a trust's month already imported is replaced.
    Import { file: PathBuf },
    /// kgCO2e per trust and month with a chosen GWP set, nitrous oxide per financial year,
    /// and the piped nitrous oxide lost.
    Report {
        /// GWP set: aoa (Association of Anaesthetists), ar5 or rcoa.
        #[arg(long, default_value = "aoa")]
        gwp: GwpSet,
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn gases(store: &Store, command: GasCommand) -> Result<()> {
    match command {
        GasCommand::Import { file } => {
            let uses = greenplan_ingest::anaesthetic::read_gas_returns(&file)?;
            let name = greenplan_ingest::activity::file_name(&file);
            let n = store
                .replace_gas_returns(&crate::cli_actor(), &name, &uses)
                .await?;
            println!(
                "Imported {name}: {} lines for {n} trust-month{}.",
                uses.len(),
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
        GasCommand::Report {
            gwp,
            organisation,
            format,
        } => {
            let uses = store.gas_returns(organisation.as_deref()).await?;
            if uses.is_empty() {
                bail!(
                    "no anaesthetic gas returns are stored: import one with `greenplan anaesthetic-gases import FILE`"
                );
            }
            let months = gas_months(&uses, gwp)?;
            gas_listing(&months).print(format)?;
            if format == Format::Table {
                let target = store.load_plan().await?.and_then(|plan| {
                    let metric = plan.metric(NITROUS_OXIDE_METRIC)?.clone();
                    greenplan_core::progress::metric_progress(&metric, &plan.data_points).trajectory
                });
                print_gas_years(&months, target.as_ref());
            }
            Ok(())
        }
    }
}

fn gas_listing(months: &[greenplan_core::anaesthetic::GasMonth]) -> Listing {
    let mut columns = vec!["organisation".to_string(), "month".to_string()];
    columns.extend(
        [
            Agent::Desflurane,
            Agent::Sevoflurane,
            Agent::Isoflurane,
            Agent::NitrousOxide,
        ]
        .iter()
        .map(|a| format!("{a}_kgco2e")),
    );
    columns.extend(
        [
            "total_kgco2e",
            "gwp_set",
            "piped_n2o_loss_kg",
            "piped_n2o_loss_share",
        ]
        .map(String::from),
    );
    let rows = months
        .iter()
        .map(|m| {
            let mut r = vec![m.organisation.clone(), store_month(m.month)];
            for a in [
                Agent::Desflurane,
                Agent::Sevoflurane,
                Agent::Isoflurane,
                Agent::NitrousOxide,
            ] {
                r.push(plain(
                    m.kgco2e.get(&a).copied().unwrap_or_default().round_dp(3),
                ));
            }
            r.push(plain(m.total_kgco2e.round_dp(3)));
            r.push(m.gwp_set.slug().to_string());
            let loss = m.piped_loss();
            r.push(opt(loss.map(|(kg, _)| kg.round_dp(3))));
            r.push(opt(loss.and_then(|(_, s)| s)));
            r
        })
        .collect();
    Listing {
        columns,
        rows,
        json: json!(months),
    }
}

fn store_month(m: YearMonth) -> String {
    greenplan_store::month_code(m)
}

/// Nitrous oxide per trust and financial year, against the year before (the national target
/// is a percentage reduction), and the NHS Carbon Footprint "anaesthetic gases" category.
/// The plan's metric holding the national nitrous oxide target (a % reduction a year).
const NITROUS_OXIDE_METRIC: &str = "nitrous-oxide-reduction";

fn print_gas_years(
    months: &[greenplan_core::anaesthetic::GasMonth],
    target: Option<&greenplan_core::target::Trajectory>,
) {
    println!(
        "Per financial year (GWP set {}):",
        months.first().map_or("", |m| m.gwp_set.label())
    );
    for y in trust_years(months) {
        let change = match y.nitrous_oxide_reduction {
            Some(reduction) => {
                let against = match target.and_then(|t| t.at(y.year)) {
                    Some(t) if y.meets(t) == Some(true) => {
                        format!(" (national target {}%: met)", t.normalize())
                    }
                    Some(t) => format!(" (national target {}%: not met)", t.normalize()),
                    None => String::new(),
                };
                format!(", nitrous oxide down {reduction}% on the year before{against}")
            }
            None => String::new(),
        };
        println!(
            "  {} {}: anaesthetic gases {} tCO2e (NHS Carbon Footprint: anaesthetic gases), nitrous oxide {} tCO2e{change}",
            y.organisation,
            y.year,
            plain((y.total_kgco2e / Decimal::ONE_THOUSAND).round_dp(3)),
            plain((y.nitrous_oxide_kgco2e / Decimal::ONE_THOUSAND).round_dp(3)),
        );
    }
}
