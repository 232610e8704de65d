//! The footprint of everything greenplan holds, computed one way for the web app, the command
//! line and the reports: the activity rows of organisations' returns, of the registers
//! (fleet, waste, spend) and of closed travel surveys (commuting, patient and visitor travel),
//! resolved against the conversion factors, and the medicines the ICS keeps as data of their own — the ICB's
//! inhalers from the English Prescribing Dataset ("inhalers") and trusts' anaesthetic gas
//! returns ("anaesthetic gases").
//!
//! Medicines become activity rows too, each against a factor of its own kept beside the
//! official ones (an inhaler product's kgCO2e per inhaler; a gas's GWP per kg), so a medicines
//! figure goes through the same arithmetic and `--explain` traces it to its month, product or
//! trust and to the figure's source like any other.

use greenplan_core::Decimal;
use greenplan_core::activity::{Activity, RowProblem, RowRef};
use greenplan_core::anaesthetic::{Basis, GasUse, GwpSet};
use greenplan_core::category::{NhsCategory, Scope};
use greenplan_core::factor::{Factor, FactorSet, GasParts};
use greenplan_core::footprint::{Emission, Resolver, Unsummed, in_footprint};
use greenplan_core::inhaler::InhalerTable;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::prescribing::inhalers_by_product;
use greenplan_core::unit::{Unit, UnitKind};
use greenplan_store::{ActivityGroup, EditionInfo, Store, StoreError};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// The edition name of the inhaler product factors (built-in table plus the ICS's own).
pub const INHALER_EDITION: &str = "inhaler-products";
/// The GWP set the footprint counts anaesthetic gases with (the Association of
/// Anaesthetists', as `greenplan anaesthetic-gases report` does by default).
pub const FOOTPRINT_GWP_SET: GwpSet = GwpSet::Aoa;

/// Why the footprint could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FootprintError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    File(#[from] greenplan_ingest::IngestError),
}

/// Which part of the footprint to compute.
#[derive(Debug, Clone, Default)]
pub struct FootprintQuery {
    pub year: Option<FinancialYear>,
    pub organisation: Option<OdsCode>,
    /// Convert every activity row with this edition of the official factors (like for like
    /// across years). Medicines keep their own factors.
    pub edition: Option<String>,
    /// Factors to use beside the stored ones (`greenplan footprint --factors`).
    pub extra_factors: Vec<Factor>,
    /// Inhaler product files to layer over the stored table for this computation only.
    pub inhaler_files: Vec<std::path::PathBuf>,
    /// One emission per stored row (`--explain`, which lists every row; gas shares, whose
    /// division is per row), instead of one per sum line of stored rows alike in all but
    /// quantity: the totals are the same to the last digit either way.
    pub each_row: bool,
}

/// What a computation read besides the emissions it handed over.
#[derive(Debug)]
pub struct FootprintRun {
    /// Every factor an emission's `factor` index may point at.
    pub factors: FactorSet,
    /// Activity rows read from returns.
    pub rows: u64,
    /// Returned activity rows that could not be converted, each as `file row N (column): why`.
    pub unconverted: Vec<String>,
    /// Register records, survey responses and medicines that could not be converted (left out,
    /// as above).
    pub not_counted: Vec<String>,
    /// Factor editions the emissions were computed with, in the order first used.
    pub editions_used: Vec<String>,
    /// Data-quality notes on lines that are counted: spend converted with a spend factor set
    /// at another year's prices, one note per financial year and factor set.
    pub notes: Vec<String>,
    /// Rows left out because their figures are too large to compute or sum (rows stored
    /// before quantities were bounded at import), by organisation: every page that shows the
    /// footprint names them (issue 21), so one organisation's data never takes a page down.
    pub unsummed: Vec<Unsummed>,
}

/// Hands every emission of the query to `each` (only those inside the footprint: biogenic CO2
/// is reported beside it, never in it) and says what was read.
pub async fn for_each_emission(
    store: &Store,
    query: &FootprintQuery,
    each: impl FnMut(Emission),
) -> Result<FootprintRun, FootprintError> {
    let table = inhaler_table(store, &query.inhaler_files).await?;
    let medicines = medicines_activity(store, &table).await?;
    let in_force = FactorsInForce::load(
        store,
        query.extra_factors.iter().cloned().chain(medicines.factors),
    )
    .await?;
    let prices = in_force.price_years();
    let FactorsInForce {
        factors, editions, ..
    } = in_force;
    let mut sink = Sink {
        query,
        each,
        prices,
        editions_used: Vec::new(),
        unsummed: Vec::new(),
    };
    let mut unconverted = Vec::new();
    let mut returns = Resolver::new(&factors, editions.clone()).pin(query.edition.clone());
    let (year, organisation) = (query.year, query.organisation.as_ref());
    let rows = if query.each_row {
        store
            .for_each_activity(year, organisation, |a| {
                sink.row(&a, &mut returns, &mut unconverted);
                Ok(())
            })
            .await?
    } else {
        // Stored rows alike in all but quantity are converted once, as their sum, whenever
        // that is exactly the sum of their emissions. The rest (a sum that would round, a
        // factor that no longer resolves, spend to be noted row by row) are read one by one
        // in a second pass, so their problems and notes name every row as before.
        let mut by_rows = HashSet::new();
        let rows = store
            .for_each_activity_sum(year, organisation, |line| {
                if !line
                    .sum
                    .as_ref()
                    .is_some_and(|a| sink.sum(a, line.largest, &mut returns))
                {
                    by_rows.insert(line.group);
                }
                Ok(())
            })
            .await?;
        if !by_rows.is_empty() {
            store
                .for_each_activity_of_import(year, organisation, |import_id, a| {
                    if by_rows.contains(&ActivityGroup::of(import_id, &a)) {
                        sink.row(&a, &mut returns, &mut unconverted);
                    }
                    Ok(())
                })
                .await?;
        }
        rows
    };
    // Registers carry activity too (fleet mileage and fuel, waste, spend): converted with the
    // official factors like returns. A record the factors cannot convert (a waste route with
    // no official factor, say) is reported, but does not stop the rest.
    let mut not_counted = Vec::new();
    let mut derived = store.register_footprint_activities(query.year).await?;
    // Closed travel surveys: staff commuting and patient and visitor travel, scaled to headcount.
    derived.extend(store.travel_footprint_activities(query.year).await?);
    for a in &derived {
        sink.row(a, &mut returns, &mut not_counted);
    }
    // Medicines name their own editions, which `--edition` must not override.
    let mut own = Resolver::new(&factors, editions);
    for a in &medicines.activity {
        sink.row(a, &mut own, &mut not_counted);
    }
    not_counted.extend(medicines.problems);
    Ok(FootprintRun {
        factors,
        rows,
        unconverted,
        not_counted,
        editions_used: sink.editions_used,
        notes: sink.prices.notes(),
        unsummed: sink.unsummed,
    })
}

/// Where a computation's emissions go, with what it notes on the way.
struct Sink<'q, F> {
    query: &'q FootprintQuery,
    each: F,
    prices: OtherPriceYear,
    /// Factor editions the emissions were computed with, in the order first used.
    editions_used: Vec<String>,
    unsummed: Vec<Unsummed>,
}

impl<F: FnMut(Emission)> Sink<'_, F> {
    /// Only emissions inside the footprint (biogenic CO2 is reported beside it, never in it)
    /// of the year and organisation asked for.
    fn wanted(&self, e: &Emission) -> bool {
        self.query.year.is_none_or(|y| e.year == y)
            && self
                .query
                .organisation
                .as_ref()
                .is_none_or(|o| &e.organisation == o)
            && in_footprint(e)
    }

    fn note_edition(&mut self, name: Option<Arc<str>>) {
        if let Some(name) = name
            && !self.editions_used.iter().any(|u| **u == *name)
        {
            self.editions_used.push(name.to_string());
        }
    }

    /// One row, converted by `resolver`; a row it cannot convert goes to `problems`.
    fn row(&mut self, a: &Activity, resolver: &mut Resolver<'_>, problems: &mut Vec<String>) {
        match resolver.emission(a) {
            Ok(e) if self.wanted(&e) => {
                let edition = resolver.edition_for(a);
                self.prices.check(a, edition.as_deref());
                self.note_edition(edition);
                (self.each)(e);
            }
            Ok(_) => {}
            Err(p) => {
                if p.is_too_large() {
                    Unsummed::note(&mut self.unsummed, a.organisation.as_str(), 1);
                }
                problems.push(problem(a, &p));
            }
        }
    }

    /// A sum line of stored rows, converted as one if that is exact and nothing must be
    /// noted of its rows; false when its rows must be read one by one.
    fn sum(&mut self, a: &Activity, largest: Decimal, resolver: &mut Resolver<'_>) -> bool {
        let Some(e) = resolver.emission_of_sum(a, largest) else {
            return false;
        };
        let edition = resolver.edition_for(a);
        if self.prices.would_note(a, edition.as_deref()) {
            return false;
        }
        if self.wanted(&e) {
            self.note_edition(edition);
            (self.each)(e);
        }
        true
    }
}

/// The factors a computation converts with: every stored edition plus `extra` (read from
/// files for this computation, or the medicines' own), the year each edition is chosen for,
/// and the stored editions (for their price years).
pub struct FactorsInForce {
    pub factors: FactorSet,
    pub editions: Vec<(String, i32)>,
    pub stored: Vec<EditionInfo>,
}

impl FactorsInForce {
    pub async fn load(
        store: &Store,
        extra: impl IntoIterator<Item = Factor>,
    ) -> Result<Self, StoreError> {
        let mut factors = store.factor_set(None).await?.factors().to_vec();
        factors.extend(extra);
        let factors = FactorSet::new(factors);
        let stored = store.editions().await?;
        let editions = with_named_years(&stored, &factors);
        Ok(Self {
            factors,
            editions,
            stored,
        })
    }

    /// A resolver over these factors, choosing editions by period.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver::new(&self.factors, self.editions.clone())
    }

    pub(crate) fn price_years(&self) -> OtherPriceYear {
        OtherPriceYear::new(&self.stored)
    }
}

/// Lines converted with a spend factor set whose price year is not their financial year's
/// (spend in 2024/25 £ against kgCO2e per £ at 2021 prices overstates it by the inflation
/// between): still counted, and noted, grouped by year and factor set.
pub(crate) struct OtherPriceYear {
    price_years: HashMap<String, i32>,
    lines: BTreeMap<(FinancialYear, String, i32), Vec<String>>,
}

impl OtherPriceYear {
    pub(crate) fn new(editions: &[EditionInfo]) -> Self {
        Self {
            price_years: editions
                .iter()
                .filter_map(|e| Some((e.name.clone(), e.price_year?)))
                .collect(),
            lines: BTreeMap::new(),
        }
    }

    /// Whether [`OtherPriceYear::check`] would note `a`.
    pub(crate) fn would_note(&self, a: &Activity, edition: Option<&str>) -> bool {
        edition
            .and_then(|e| self.price_years.get(e))
            .is_some_and(|&price_year| a.financial_year().0 != price_year)
    }

    pub(crate) fn check(&mut self, a: &Activity, edition: Option<&str>) {
        let Some((edition, &price_year)) =
            edition.and_then(|e| Some(e).zip(self.price_years.get(e)))
        else {
            return;
        };
        let year = a.financial_year();
        if year.0 != price_year {
            self.lines
                .entry((year, edition.to_string(), price_year))
                .or_default()
                .push(format!("{} row {}", a.origin.source, a.origin.row));
        }
    }

    pub(crate) fn notes(self) -> Vec<String> {
        const LISTED: usize = 5;
        self.lines
            .into_iter()
            .map(|((year, edition, price_year), lines)| {
                let more = lines.len().saturating_sub(LISTED);
                format!(
                    "Spend in {year} against factors at {price_year} prices (factor set {edition}): {}{}. The spend is not adjusted for the change in prices: convert it to {price_year} prices, or use a factor set at {} prices, for a like-for-like figure",
                    lines[..lines.len().min(LISTED)].join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() },
                    year.0
                )
            })
            .collect()
    }
}

fn problem(a: &Activity, p: &RowProblem) -> String {
    format!(
        "{} row {} ({}): {}",
        a.origin.source, a.origin.row, p.column, p.message
    )
}

/// The stored editions' years, with a year for each other edition of `factors` (read from a
/// file for one computation) whose name ends in one (`my-factors-2024`), so rows can choose it
/// by period. A stored edition without a year (a spend factor set, which spend lines name) is
/// never chosen by period, whatever its name.
fn with_named_years(stored: &[EditionInfo], factors: &FactorSet) -> Vec<(String, i32)> {
    let mut editions: Vec<(String, i32)> = stored
        .iter()
        .filter_map(|e| Some((e.name.clone(), e.year?)))
        .collect();
    for e in factors.editions() {
        if !stored.iter().any(|s| s.name == e)
            && let Some(y) = e.rsplit('-').next().and_then(|y| y.parse().ok())
        {
            editions.push((e.to_string(), y));
        }
    }
    editions
}

/// The inhaler product table in force: the one shipped with greenplan, the ICS's own figures
/// stored over it, then `files` over both (for one computation).
pub async fn inhaler_table(
    store: &Store,
    files: &[impl AsRef<Path>],
) -> Result<InhalerTable, FootprintError> {
    let mut table = greenplan_ingest::prescribing::inhaler_table(&[])?;
    table.extend(store.inhaler_products().await?);
    for f in files {
        table.extend(greenplan_ingest::prescribing::read_inhaler_file(
            f.as_ref(),
        )?);
    }
    Ok(table)
}

/// Medicines as activity rows, with the factors they are converted with.
struct MedicinesActivity {
    factors: Vec<Factor>,
    activity: Vec<Activity>,
    problems: Vec<String>,
}

async fn medicines_activity(
    store: &Store,
    table: &InhalerTable,
) -> Result<MedicinesActivity, FootprintError> {
    let mut out = MedicinesActivity {
        factors: Vec::new(),
        activity: Vec::new(),
        problems: Vec::new(),
    };
    // Only the ICB code: loading the whole plan (with every register's figures) is not needed.
    if let Some(icb) = store.plan_icb().await? {
        inhaler_activity(store, table, &icb, &mut out).await?;
    }
    gas_activity(&store.gas_returns(None).await?, &mut out);
    Ok(out)
}

/// The plan's ICB's inhalers: one row per month and product, from the stored prescribing.
async fn inhaler_activity(
    store: &Store,
    table: &InhalerTable,
    icb: &OdsCode,
    out: &mut MedicinesActivity,
) -> Result<(), FootprintError> {
    let data = store.load_icb_prescribing(icb.as_str()).await?;
    let source: Arc<str> = Arc::from("English Prescribing Dataset (stored months)");
    let mut used = std::collections::BTreeSet::new();
    for (row, ((month, code), inhalers)) in inhalers_by_product(&data, table, Some(icb.as_str()))
        .into_iter()
        .enumerate()
    {
        used.insert(code.clone());
        out.activity.push(Activity {
            origin: RowRef {
                source: source.clone(),
                row: row as u64 + 1,
            },
            organisation: icb.clone(),
            site: None,
            period_start: month.start(),
            period_end: month.end(),
            activity: inhaler_activity_name(table, &code),
            quantity: inhalers,
            unit: Unit::new(UnitKind::Count),
            edition: Some(INHALER_EDITION.into()),
            category: Some(NhsCategory::Inhalers),
            market_factor: None,
            notes: Some(format!("{month}: BNF {code}")),
        });
    }
    for code in used {
        let Some(p) = table.get(&code) else { continue };
        out.factors.push(Factor {
            edition: INHALER_EDITION.into(),
            scope: Scope::Scope3,
            levels: vec!["Inhalers".into(), p.description.clone()],
            column_text: None,
            unit_text: "inhaler".into(),
            unit: Unit::new(UnitKind::Count),
            kgco2e: p.kgco2e_per_inhaler,
            gases: GasParts::default(),
            activity: Some(inhaler_activity_name(table, &code)),
            category: Some(NhsCategory::Inhalers),
            source: format!(
                "{} ({}{}): {}",
                p.description,
                p.device,
                if p.class_default {
                    ", class default"
                } else {
                    ""
                },
                p.source
            ),
        });
    }
    Ok(())
}

/// The factor's name, which `--explain` shows: the product as well as its code.
fn inhaler_activity_name(table: &InhalerTable, bnf_code: &str) -> String {
    let description = table.get(bnf_code).map_or("", |p| p.description.as_str());
    format!("inhaler: {description} (BNF {bnf_code})")
}

/// Trusts' purchased anaesthetic gases: one row per return line, kg of the agent × its GWP.
fn gas_activity(uses: &[GasUse], out: &mut MedicinesActivity) {
    let set = FOOTPRINT_GWP_SET;
    let edition = format!("gwp-{}", set.slug());
    let source: Arc<str> = Arc::from("anaesthetic gas returns (stored)");
    let mut agents = Vec::new();
    for (row, u) in uses.iter().enumerate() {
        if u.basis != Basis::Purchased {
            continue; // clinical use is a check on losses, not a second emission
        }
        let problem = |message: String| {
            format!(
                "{source} row {} ({}, {}): {message}",
                row + 1,
                u.organisation,
                u.month
            )
        };
        let organisation = match OdsCode::parse(&u.organisation) {
            Ok(o) => o,
            Err(e) => {
                out.problems.push(problem(e.to_string()));
                continue;
            }
        };
        let kg = match u.kg() {
            Ok(kg) => kg,
            Err(e) => {
                out.problems.push(problem(e.to_string()));
                continue;
            }
        };
        if !agents.contains(&u.agent) {
            agents.push(u.agent);
        }
        out.activity.push(Activity {
            origin: RowRef {
                source: source.clone(),
                row: row as u64 + 1,
            },
            organisation,
            site: None,
            period_start: u.month.start(),
            period_end: u.month.end(),
            activity: gas_activity_name(u.agent.slug(), set),
            quantity: kg,
            unit: Unit::new(UnitKind::Kilogram),
            edition: Some(edition.clone()),
            category: Some(NhsCategory::AnaestheticGases),
            market_factor: None,
            notes: Some(format!("{} {} {}", u.quantity, u.unit, u.agent.slug())),
        });
    }
    for agent in agents {
        out.factors.push(Factor {
            edition: edition.clone(),
            scope: Scope::Scope1,
            levels: vec!["Anaesthetic gases".into(), agent.slug().into()],
            column_text: None,
            unit_text: "kg".into(),
            unit: Unit::new(UnitKind::Kilogram),
            kgco2e: set.gwp(agent),
            gases: GasParts::default(),
            activity: Some(gas_activity_name(agent.slug(), set)),
            category: Some(NhsCategory::AnaestheticGases),
            source: format!("GWP100, {}", set.label()),
        });
    }
}

/// The factor's name, which `--explain` shows: the agent and the GWP set.
fn gas_activity_name(agent: &str, set: GwpSet) -> String {
    format!("anaesthetic gas: {agent} (GWP100, {})", set.label())
}
