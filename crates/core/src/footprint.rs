//! The footprint: activity × factor, summed by whatever the reader asks for.
//!
//! Each activity row becomes one [`Emission`] that remembers the row and the factor it came
//! from, so every total can be explained. Amounts are exact decimals in kgCO2e; tonnes are
//! kg ÷ 1000, also exact.
//!
//! Scope 2 is reported two ways (GHG Protocol): *location-based* with the grid-average factor,
//! and *market-based* with the supplier's factor where the row names one (a zero-carbon tariff
//! is 0) and the grid average otherwise, as no UK residual-mix factor is published in the
//! conversion factor files.
//!
//! Speed: `greenplan footprint --from` sums millions of rows, so the row-by-row path
//! allocates nothing once warm. [`Resolver::emission_in`] works on a borrowed
//! [`ActivityRef`] and writes over one emission per thread; the resolver caches, per
//! (activity, unit, edition), the factor together with its default category and the unit
//! conversion, so a row costs a hash lookup and the multiplications; the [`Aggregator`] finds
//! a line by a hash of borrowed key parts. The owned path ([`emission`],
//! [`Resolver::emission`]) runs the same arithmetic (`figures`), so both give the same
//! decimals, digit for digit.

use crate::activity::{Activity, ActivityRef, RowProblem, RowRef};
use crate::category::{NhsCategory, Scope};
use crate::factor::Factor;
use crate::factor::{FactorSet, ResolveError};
use crate::ods::OdsCode;
use crate::period::FinancialYear;
use crate::unit::Unit;
use crate::unit::UnitError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::str::FromStr;
use std::sync::Arc;

/// The emission of one activity row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emission {
    pub origin: RowRef,
    pub organisation: OdsCode,
    pub site: Option<String>,
    pub year: FinancialYear,
    pub scope: Scope,
    pub category: NhsCategory,
    /// Index of the factor in the factor set used.
    pub factor: usize,
    /// The quantity converted to the factor's unit.
    pub quantity_in_factor_unit: Decimal,
    /// Location-based kgCO2e.
    pub kgco2e: Decimal,
    /// Market-based kgCO2e (equal to location-based outside Scope 2).
    pub market_kgco2e: Decimal,
    pub gases: GasSplit,
}

/// kgCO2e of one emission by gas; `other` holds what the published parts do not add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasSplit {
    pub co2: Decimal,
    pub ch4: Decimal,
    pub n2o: Decimal,
    pub other: Decimal,
}

/// The figures of an emission, before they are attached to a row.
#[derive(Debug, Clone)]
struct Amounts {
    factor: usize,
    scope: Scope,
    category: NhsCategory,
    quantity: Decimal,
    kgco2e: Decimal,
    market_kgco2e: Decimal,
    gases: GasSplit,
}

/// The largest emission one activity row may have: 10^18 kgCO2e, a billion billion kg, is
/// twenty-five million times the world's yearly emissions (about 4 × 10^13 kg), so no real row
/// comes near it; and it keeps every sum of emissions billions of rows away from the limit
/// of a decimal (7.9 × 10^28). Rows stored before quantities were bounded at import can be
/// anything: they are refused here with a row problem rather than summed into a panic.
pub fn max_row_kgco2e() -> Decimal {
    Decimal::from(1_000_000_000_000_000_000i64)
}

/// Why the figures of one row cannot be computed or summed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FigureError {
    #[error(
        "the quantity `{quantity}` is too large: its emission cannot be computed; check the figure and its unit"
    )]
    Overflow { quantity: Decimal },
    #[error(
        "the quantity `{quantity}` gives {kgco2e} kgCO2e, more than one row can (the largest is 10^18 kgCO2e); check the figure and its unit"
    )]
    TooLarge { quantity: Decimal, kgco2e: Decimal },
}

/// The arithmetic of an emission, shared by every path so that all give the same decimals.
/// `conversion` takes the activity's unit to the factor's; `market` is the market-based factor
/// with its own conversion, given only for a Scope 2 factor. Every step is checked: a product
/// too large for a decimal is an error, never a panic.
fn figures(
    quantity: Decimal,
    conversion: Decimal,
    factor: &Factor,
    market: Option<(Decimal, &Factor)>,
) -> Result<(Decimal, Decimal, Decimal, GasSplit), FigureError> {
    let overflow = || FigureError::Overflow {
        quantity: quantity.normalize(),
    };
    let converted = quantity.checked_mul(conversion).ok_or_else(overflow)?;
    let kgco2e = converted.checked_mul(factor.kgco2e).ok_or_else(overflow)?;
    let market_kgco2e = match market {
        Some((conversion, m)) => quantity
            .checked_mul(conversion)
            .and_then(|q| q.checked_mul(m.kgco2e))
            .ok_or_else(overflow)?,
        None => kgco2e,
    };
    let max = max_row_kgco2e();
    for kg in [kgco2e, market_kgco2e] {
        if kg.abs() > max {
            return Err(FigureError::TooLarge {
                quantity: quantity.normalize(),
                kgco2e: kg.normalize(),
            });
        }
    }
    let part = |p: Option<Decimal>| -> Result<Decimal, FigureError> {
        p.map_or(Ok(Decimal::ZERO), |v| {
            v.checked_mul(converted).ok_or_else(overflow)
        })
    };
    let (co2, ch4, n2o) = (
        part(factor.gases.co2)?,
        part(factor.gases.ch4)?,
        part(factor.gases.n2o)?,
    );
    let gases =
        if factor.gases.co2.is_none() && factor.gases.ch4.is_none() && factor.gases.n2o.is_none() {
            GasSplit {
                other: kgco2e,
                ..GasSplit::default()
            }
        } else {
            let other = kgco2e
                .checked_sub(co2)
                .and_then(|v| v.checked_sub(ch4))
                .and_then(|v| v.checked_sub(n2o))
                .ok_or_else(overflow)?;
            for kg in [co2, ch4, n2o, other] {
                if kg.abs() > max {
                    return Err(FigureError::TooLarge {
                        quantity: quantity.normalize(),
                        kgco2e: kg.normalize(),
                    });
                }
            }
            GasSplit {
                co2,
                ch4,
                n2o,
                other,
            }
        };
    Ok((converted, kgco2e, market_kgco2e, gases))
}

/// Whether [`figures`] computes `quantity`'s figures within bounds and without rounding any
/// product or difference: a decimal product keeps the scales of both operands unless it had to
/// round, so exactness shows in the scales. What a sum of rows may be converted as one line
/// rests on (see [`Resolver::emission_of_sum`]).
fn figures_exact(
    quantity: Decimal,
    conversion: Decimal,
    factor: &Factor,
    market: Option<(Decimal, &Factor)>,
) -> bool {
    let Ok((converted, kgco2e, market_kgco2e, gases)) =
        figures(quantity, conversion, factor, market)
    else {
        return false;
    };
    let converted_scale = quantity.scale() + conversion.scale();
    let market_exact = market.is_none_or(|(c, m)| {
        market_kgco2e.scale() == quantity.scale() + c.scale() + m.kgco2e.scale()
    });
    let parts = [factor.gases.co2, factor.gases.ch4, factor.gases.n2o];
    let part_scales = parts.map(|p| p.map(|v| v.scale() + converted_scale));
    let parts_exact = [gases.co2, gases.ch4, gases.n2o]
        .iter()
        .zip(part_scales)
        .all(|(g, s)| s.is_none_or(|s| g.scale() == s));
    let other_exact = parts.iter().all(Option::is_none)
        || gases.other.scale()
            == part_scales
                .iter()
                .flatten()
                .copied()
                .fold(kgco2e.scale(), u32::max);
    converted.scale() == converted_scale
        && kgco2e.scale() == converted_scale + factor.kgco2e.scale()
        && market_exact
        && parts_exact
        && other_exact
}

/// Why one activity could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmissionError {
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error(transparent)]
    Figures(#[from] FigureError),
}

/// Converts one activity with its factor (and market-based factor, if any).
pub fn emission(
    activity: &Activity,
    factor_index: usize,
    factor: &Factor,
    market: Option<&Factor>,
) -> Result<Emission, EmissionError> {
    let a = activity.borrowed();
    // A unit given without a calorific-value basis takes the basis of the factor it was
    // resolved to: resolution only picks such a factor when the choice is unambiguous (one row,
    // or an alias's documented default such as natural gas in kWh (Gross CV)).
    let conversion = a.unit.conversion_to_assuming_basis(&factor.unit)?;
    let market = match market {
        Some(m) if factor.scope == Scope::Scope2 => {
            Some((a.unit.conversion_to_assuming_basis(&m.unit)?, m))
        }
        _ => None,
    };
    let (quantity, kgco2e, market_kgco2e, gases) = figures(a.quantity, conversion, factor, market)?;
    Ok(Emission::of(
        &a,
        Amounts {
            factor: factor_index,
            scope: factor.scope,
            category: a.category.unwrap_or_else(|| factor.category()),
            quantity,
            kgco2e,
            market_kgco2e,
            gases,
        },
    ))
}

impl Emission {
    fn of(a: &ActivityRef<'_>, amounts: Amounts) -> Self {
        Emission {
            origin: RowRef {
                source: a.source.clone(),
                row: a.row,
            },
            organisation: a.organisation.clone(),
            site: a.site.map(str::to_string),
            year: a.financial_year(),
            scope: amounts.scope,
            category: amounts.category,
            factor: amounts.factor,
            quantity_in_factor_unit: amounts.quantity,
            kgco2e: amounts.kgco2e,
            market_kgco2e: amounts.market_kgco2e,
            gases: amounts.gases,
        }
    }

    /// Becomes the emission of `a`, keeping the buffers it has (the site's text, the shared
    /// file name): the same as `*self = Emission::of(a, amounts)` without allocating.
    fn overwrite(&mut self, a: &ActivityRef<'_>, amounts: Amounts) {
        if !Arc::ptr_eq(&self.origin.source, a.source) {
            self.origin.source = a.source.clone();
        }
        self.origin.row = a.row;
        self.organisation.clone_from(a.organisation);
        match (a.site, &mut self.site) {
            (Some(site), Some(buffer)) => {
                buffer.clear();
                buffer.push_str(site);
            }
            (site, slot) => *slot = site.map(str::to_string),
        }
        self.year = a.financial_year();
        self.scope = amounts.scope;
        self.category = amounts.category;
        self.factor = amounts.factor;
        self.quantity_in_factor_unit = amounts.quantity;
        self.kgco2e = amounts.kgco2e;
        self.market_kgco2e = amounts.market_kgco2e;
        self.gases = amounts.gases;
    }
}

/// FxHash (the compiler's own hasher): one rotate, xor and multiply per 8 bytes. The keys
/// hashed per row here are short (activity names, organisation codes, labels), where std's
/// SipHash cost more than the rest of the lookup (measured); they come from the user's own
/// files, so resistance to crafted collisions buys nothing, and a collision only costs a
/// comparison.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        // The last 1 to 7 bytes in one word, built from fixed-size reads (two overlapping
        // halves, or first, middle and last byte): copying a variable length calls memcpy,
        // which cost more than the hashing (measured). Equal text gives equal words, which is
        // all a hash needs.
        let rest = words.remainder();
        let n = rest.len();
        if n >= 4 {
            let (mut lo, mut hi) = ([0u8; 4], [0u8; 4]);
            lo.copy_from_slice(&rest[..4]);
            hi.copy_from_slice(&rest[n - 4..]);
            self.add(u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32);
        } else if n > 0 {
            self.add(
                u64::from(rest[0]) | u64::from(rest[n / 2]) << 8 | u64::from(rest[n - 1]) << 16,
            );
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;

/// A dimension a footprint can be broken down by (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupBy {
    Organisation,
    Site,
    Scope,
    Category,
    Gas,
    Period,
}

impl GroupBy {
    pub fn column(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Site => "site",
            Self::Scope => "scope",
            Self::Category => "category",
            Self::Gas => "gas",
            Self::Period => "period",
        }
    }
}

/// Why a `--by` key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot break a footprint down by `{0}`: use organisation, site, scope, category, gas or period"
)]
pub struct UnknownGroupBy(pub String);

impl FromStr for GroupBy {
    type Err = UnknownGroupBy;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(match raw.trim().to_lowercase().as_str() {
            "organisation" | "org" | "organization" => Self::Organisation,
            "site" => Self::Site,
            "scope" => Self::Scope,
            "category" => Self::Category,
            "gas" => Self::Gas,
            "period" | "year" => Self::Period,
            _ => return Err(UnknownGroupBy(raw.to_string())),
        })
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.column())
    }
}

/// One line of a footprint table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootprintLine {
    /// One value per `--by` key, in order.
    pub key: Vec<String>,
    pub kgco2e: Decimal,
    pub market_kgco2e: Decimal,
    /// Indices of the emissions that make up this line.
    pub emissions: Vec<usize>,
}

impl FootprintLine {
    pub fn tco2e(&self) -> Decimal {
        self.kgco2e / Decimal::ONE_THOUSAND
    }
    pub fn market_tco2e(&self) -> Decimal {
        self.market_kgco2e / Decimal::ONE_THOUSAND
    }
}

/// A footprint broken down by some keys, lines sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootprintTable {
    pub by: Vec<GroupBy>,
    pub lines: Vec<FootprintLine>,
    /// Rows whose figures could not be summed (too large, as rows stored before quantities
    /// were bounded can be), by organisation: left out of the lines, named on every page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsummed: Vec<Unsummed>,
}

/// An organisation's rows left out of a footprint because their figures could not be summed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unsummed {
    /// The organisation's ODS code.
    pub organisation: String,
    /// How many of its rows were left out.
    pub rows: u64,
}

impl Unsummed {
    /// Adds `rows` left out for `organisation` to `list`, keeping one entry per organisation.
    pub fn note(list: &mut Vec<Unsummed>, organisation: &str, rows: u64) {
        match list.iter_mut().find(|u| u.organisation == organisation) {
            Some(u) => u.rows = u.rows.saturating_add(rows),
            None => {
                list.push(Unsummed {
                    organisation: organisation.to_string(),
                    rows,
                });
                list.sort();
            }
        }
    }

    /// "RTG (2 rows), RX1 (1 row)": for the pages that name them.
    pub fn describe(list: &[Unsummed]) -> String {
        list.iter()
            .map(|u| {
                format!(
                    "{} ({} row{})",
                    u.organisation,
                    u.rows,
                    if u.rows == 1 { "" } else { "s" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A sum too large for a decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the total is too large to compute: some figures are far beyond any real footprint")]
pub struct SumOverflow;

impl FootprintTable {
    /// The sum of the lines, checked.
    pub fn total_kgco2e(&self) -> Result<Decimal, SumOverflow> {
        checked_sum(self.lines.iter().map(|l| l.kgco2e))
    }
}

/// Sums decimals, an error instead of a panic when the sum is too large for a decimal.
pub fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Result<Decimal, SumOverflow> {
    values.into_iter().try_fold(Decimal::ZERO, |acc, v| {
        acc.checked_add(v).ok_or(SumOverflow)
    })
}

/// Sums emissions by the given keys. Biogenic (outside of scopes) emissions stay in the table
/// under their own category and scope, so they are visible, but callers that report the NHS
/// footprints leave them out (see [`in_footprint`]).
pub fn aggregate(emissions: &[Emission], by: &[GroupBy]) -> FootprintTable {
    let mut agg = Aggregator::new(by, true);
    for (i, e) in emissions.iter().enumerate() {
        agg.add(i, e);
    }
    agg.finish()
}

/// Sums emissions one at a time, so a footprint of millions of rows never holds them all.
/// Adding an emission to an existing line allocates nothing: lines are found by a hash of the
/// key's parts and compared part by part.
#[derive(Debug, Clone)]
pub struct Aggregator {
    by: Vec<GroupBy>,
    keep_indices: bool,
    lines: Vec<(Vec<KeyPart>, FootprintLine)>,
    /// Hash of a key (by [`FxHasher`]) → the lines with that hash.
    index: HashMap<u64, Vec<usize>, FxBuild>,
    /// Rows whose figures would not fit in a line's sum, by organisation.
    unsummed: Vec<Unsummed>,
}

/// One part of a line's key, kept in a form that compares without formatting.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyPart {
    Text(String),
    Year(FinancialYear),
}

/// A key part borrowed from an emission.
#[derive(Hash)]
enum KeyRef<'e> {
    Text(&'e str),
    Year(FinancialYear),
}

impl KeyRef<'_> {
    fn matches(&self, owned: &KeyPart) -> bool {
        match (self, owned) {
            (KeyRef::Text(a), KeyPart::Text(b)) => *a == b.as_str(),
            (KeyRef::Year(a), KeyPart::Year(b)) => a == b,
            _ => false,
        }
    }

    fn to_owned_part(&self) -> KeyPart {
        match self {
            KeyRef::Text(t) => KeyPart::Text((*t).to_string()),
            KeyRef::Year(y) => KeyPart::Year(*y),
        }
    }
}

impl KeyPart {
    fn text(&self) -> String {
        match self {
            KeyPart::Text(t) => t.clone(),
            KeyPart::Year(y) => y.to_string(),
        }
    }
}

impl Aggregator {
    /// `keep_indices` records which emissions make up each line (for `--explain`).
    pub fn new(by: &[GroupBy], keep_indices: bool) -> Self {
        Self {
            by: by.to_vec(),
            keep_indices,
            lines: Vec::new(),
            index: HashMap::default(),
            unsummed: Vec::new(),
        }
    }

    /// Adds emission number `i`. An emission whose figures do not fit (the sum would be too
    /// large for a decimal) is left out and counted against its organisation
    /// ([`FootprintTable::unsummed`]), never a panic.
    pub fn add(&mut self, i: usize, e: &Emission) {
        let fits = if self.by.contains(&GroupBy::Gas) {
            let share = |v: Decimal| -> Option<Decimal> {
                if e.kgco2e.is_zero() {
                    Some(Decimal::ZERO)
                } else {
                    e.market_kgco2e
                        .checked_mul(v)
                        .and_then(|m| m.checked_div(e.kgco2e))
                        .or_else(|| {
                            v.checked_div(e.kgco2e)
                                .and_then(|r| r.checked_mul(e.market_kgco2e))
                        })
                }
            };
            let parts: Option<Vec<(&str, Decimal, Decimal)>> = [
                ("CO2", e.gases.co2),
                ("CH4", e.gases.ch4),
                ("N2O", e.gases.n2o),
                ("other", e.gases.other),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(gas, v)| share(v).map(|m| (gas, v, m)))
            .collect();
            // All four parts go in or none, so a line never holds part of an emission.
            match parts {
                Some(parts) if parts.iter().all(|&(gas, v, m)| self.fits(e, gas, v, m)) => {
                    for (gas, v, m) in parts {
                        self.add_part(i, e, gas, v, m);
                    }
                    true
                }
                _ => false,
            }
        } else {
            self.add_part(i, e, "", e.kgco2e, e.market_kgco2e)
        };
        if !fits {
            Unsummed::note(&mut self.unsummed, e.organisation.as_str(), 1);
        }
    }

    /// Whether `kg` and `market` can be added to the line of `e` and `gas`.
    fn fits(&self, e: &Emission, gas: &str, kg: Decimal, market: Decimal) -> bool {
        match self.find(e, gas) {
            Some((c, _)) => {
                let line = &self.lines[c].1;
                line.kgco2e.checked_add(kg).is_some()
                    && line.market_kgco2e.checked_add(market).is_some()
            }
            None => true,
        }
    }

    /// The line of `e` and `gas`, if there is one, with the key's hash.
    fn find(&self, e: &Emission, gas: &str) -> Option<(usize, u64)> {
        let parts = self.key_of(e, gas);
        let parts = &parts[..self.by.len().min(6)];
        let hash = self.index.hasher().hash_one(parts);
        self.index.get(&hash).and_then(|candidates| {
            candidates
                .iter()
                .copied()
                .find(|&c| {
                    self.lines[c]
                        .0
                        .iter()
                        .zip(parts)
                        .all(|(owned, part)| part.as_ref().is_some_and(|p| p.matches(owned)))
                })
                .map(|c| (c, hash))
        })
    }

    fn key_of<'e>(&self, e: &'e Emission, gas: &'e str) -> [Option<KeyRef<'e>>; 6] {
        let mut parts: [Option<KeyRef<'_>>; 6] = [None, None, None, None, None, None];
        for (slot, k) in parts.iter_mut().zip(&self.by) {
            *slot = Some(match k {
                GroupBy::Organisation => KeyRef::Text(e.organisation.as_str()),
                GroupBy::Site => KeyRef::Text(e.site.as_deref().unwrap_or("")),
                GroupBy::Scope => KeyRef::Text(e.scope.label()),
                GroupBy::Category => KeyRef::Text(e.category.slug()),
                GroupBy::Gas => KeyRef::Text(gas),
                GroupBy::Period => KeyRef::Year(e.year),
            });
        }
        parts
    }

    /// Adds to the line of `e` and `gas`: false, and nothing changed, when a sum would be too
    /// large for a decimal. One key lookup a row: this is the footprint's inner loop.
    fn add_part(
        &mut self,
        i: usize,
        e: &Emission,
        gas: &str,
        kg: Decimal,
        market: Decimal,
    ) -> bool {
        let line = match self.find(e, gas) {
            Some((c, _)) => c,
            None => {
                let parts = self.key_of(e, gas);
                let parts = &parts[..self.by.len().min(6)];
                let hash = self.index.hasher().hash_one(parts);
                let owned: Vec<KeyPart> =
                    parts.iter().flatten().map(KeyRef::to_owned_part).collect();
                let key = owned.iter().map(KeyPart::text).collect();
                self.lines.push((
                    owned,
                    FootprintLine {
                        key,
                        kgco2e: Decimal::ZERO,
                        market_kgco2e: Decimal::ZERO,
                        emissions: Vec::new(),
                    },
                ));
                let c = self.lines.len() - 1;
                self.index.entry(hash).or_default().push(c);
                c
            }
        };
        let line = &mut self.lines[line].1;
        let (Some(sum), Some(market_sum)) = (
            line.kgco2e.checked_add(kg),
            line.market_kgco2e.checked_add(market),
        ) else {
            return false;
        };
        line.kgco2e = sum;
        line.market_kgco2e = market_sum;
        if self.keep_indices && line.emissions.last() != Some(&i) {
            line.emissions.push(i);
        }
        true
    }

    /// Adds another aggregator's sums (from a parallel batch).
    pub fn merge(&mut self, other: Aggregator) {
        for u in other.unsummed {
            Unsummed::note(&mut self.unsummed, &u.organisation, u.rows);
        }
        let organisation_at = self.by.iter().position(|b| *b == GroupBy::Organisation);
        for (owned, line) in other.lines {
            let hash = {
                let refs: Vec<Option<KeyRef<'_>>> = owned
                    .iter()
                    .map(|p| {
                        Some(match p {
                            KeyPart::Text(t) => KeyRef::Text(t),
                            KeyPart::Year(y) => KeyRef::Year(*y),
                        })
                    })
                    .collect();
                self.index.hasher().hash_one(refs.as_slice())
            };
            let found = self
                .index
                .get(&hash)
                .and_then(|c| c.iter().copied().find(|&c| self.lines[c].0 == owned));
            match found {
                Some(c) => {
                    let mine = &mut self.lines[c].1;
                    match (
                        mine.kgco2e.checked_add(line.kgco2e),
                        mine.market_kgco2e.checked_add(line.market_kgco2e),
                    ) {
                        (Some(kg), Some(market)) => {
                            mine.kgco2e = kg;
                            mine.market_kgco2e = market;
                            mine.emissions.extend(line.emissions);
                        }
                        _ => {
                            let who = organisation_at
                                .and_then(|i| line.key.get(i).cloned())
                                .unwrap_or_else(|| "several organisations".to_string());
                            let rows = line.emissions.len().max(1) as u64;
                            Unsummed::note(&mut self.unsummed, &who, rows);
                        }
                    }
                }
                None => {
                    self.lines.push((owned, line));
                    self.index
                        .entry(hash)
                        .or_default()
                        .push(self.lines.len() - 1);
                }
            }
        }
    }

    /// The table, lines sorted by key (periods in date order).
    pub fn finish(self) -> FootprintTable {
        let mut lines = self.lines;
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        FootprintTable {
            by: self.by,
            lines: lines.into_iter().map(|(_, l)| l).collect(),
            unsummed: self.unsummed,
        }
    }
}

impl PartialOrd for KeyPart {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyPart {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (KeyPart::Text(a), KeyPart::Text(b)) => a.cmp(b),
            (KeyPart::Year(a), KeyPart::Year(b)) => a.cmp(b),
            (KeyPart::Text(_), KeyPart::Year(_)) => std::cmp::Ordering::Less,
            (KeyPart::Year(_), KeyPart::Text(_)) => std::cmp::Ordering::Greater,
        }
    }
}

/// True for emissions that count towards the NHS footprints (not biogenic CO2).
pub fn in_footprint(e: &Emission) -> bool {
    e.scope != Scope::OutsideOfScopes
}

/// Picks the factor edition for each activity and resolves its factor, caching by
/// (activity, unit, edition): a file names only a few distinct activities, and a cache hit
/// allocates nothing. The cache keeps, with the factor, what the row-by-row arithmetic needs
/// of it (scope, default category, the conversion from the row's unit), so those are worked
/// out once per distinct (activity, unit, edition), not once per row.
pub struct Resolver<'a> {
    factors: &'a FactorSet,
    /// `(edition name, year)` of every edition, for choosing by period.
    editions: Vec<(String, i32)>,
    /// Names of the editions met so far (pinned, named by rows, chosen by year); the rest of
    /// the resolver refers to an edition by its position here.
    names: Vec<Arc<str>>,
    /// Edition chosen for each financial year met so far.
    by_year: Vec<(FinancialYear, Option<usize>)>,
    pinned: Option<usize>,
    /// activity → [(edition, unit, position in `resolved`)].
    cache: HashMap<Box<str>, Vec<(usize, Unit, usize)>, FxBuild>,
    resolved: Vec<Result<Resolved, ResolveError>>,
}

/// What one row converts with: its factor (position in the factor set), that factor's scope
/// and category, the conversion from the row's unit, and for Scope 2 the market-based factor
/// with its conversion.
struct ResolvedRow {
    main: usize,
    scope: Scope,
    category: NhsCategory,
    conversion: Decimal,
    market: Option<(Decimal, usize)>,
}

/// A resolved factor with what each row needs of it.
#[derive(Debug, Clone)]
struct Resolved {
    index: usize,
    scope: Scope,
    /// The factor's own category, used when the row names none.
    category: NhsCategory,
    /// From the row's unit to the factor's ([`Unit::conversion_to_assuming_basis`]).
    conversion: Result<Decimal, UnitError>,
}

impl<'a> Resolver<'a> {
    pub fn new(factors: &'a FactorSet, editions: Vec<(String, i32)>) -> Self {
        Self {
            factors,
            editions,
            names: Vec::new(),
            by_year: Vec::new(),
            pinned: None,
            cache: HashMap::default(),
            resolved: Vec::new(),
        }
    }

    /// Uses `edition` for every activity, whatever the row or its period says
    /// (`greenplan footprint --edition`), to compare years like for like.
    pub fn pin(mut self, edition: Option<String>) -> Self {
        self.pinned = edition.map(|e| self.intern(&e));
        self
    }

    /// The edition an activity uses: the one it pins, else the one for its financial year.
    pub fn edition_for(&mut self, a: &Activity) -> Option<Arc<str>> {
        self.edition_of(&a.borrowed())
            .map(|i| self.names[i].clone())
    }

    /// Position in `names` of the edition an activity uses (see [`Resolver::edition_for`]).
    fn edition_of(&mut self, a: &ActivityRef<'_>) -> Option<usize> {
        if let Some(p) = self.pinned {
            return Some(p);
        }
        if let Some(e) = a.edition {
            return Some(self.intern(e));
        }
        let year = a.financial_year();
        if let Some((_, e)) = self.by_year.iter().find(|(y, _)| *y == year) {
            return *e;
        }
        let chosen = crate::factor::edition_for_year(&self.editions, year.0)
            .map(str::to_string)
            .map(|name| self.intern(&name));
        self.by_year.push((year, chosen));
        chosen
    }

    /// A year's editions supplement each other: an activity the year's chosen edition lacks
    /// (a waste route the official file publishes no factor for, say) resolves in another
    /// edition of the same year (`rtg-waste-2023` beside `uk-2023`), the first that has it.
    /// Only for editions chosen by year: a row or a run that names its edition gets that one.
    /// The emission's factor keeps its own edition, so the figure still traces to it.
    fn same_year_supplement(&mut self, a: &ActivityRef<'_>, chosen: usize) -> Option<usize> {
        if self.pinned.is_some() || a.edition.is_some() {
            return None;
        }
        let name = self.names[chosen].clone();
        let year = self.editions.iter().find(|(n, _)| **n == *name)?.1;
        let others: Vec<String> = self
            .editions
            .iter()
            .filter(|(n, y)| *y == year && **n != *name)
            .map(|(n, _)| n.clone())
            .collect();
        others.iter().find_map(|other| {
            let edition = self.intern(other);
            let at = self.resolve(a.activity, a.unit, edition);
            self.resolved[at].is_ok().then_some(at)
        })
    }

    fn intern(&mut self, edition: &str) -> usize {
        match self.names.iter().position(|n| **n == *edition) {
            Some(i) => i,
            None => {
                self.names.push(Arc::from(edition));
                self.names.len() - 1
            }
        }
    }

    /// Computes the emission of one activity, or says why it cannot.
    pub fn emission(&mut self, a: &Activity) -> Result<Emission, RowProblem> {
        let a = a.borrowed();
        let amounts = self.amounts(&a)?;
        Ok(Emission::of(&a, amounts))
    }

    /// As [`Resolver::emission`] for a borrowed row, written into `slot` and lent back: after
    /// the first row the slot's buffers are reused, so converting a file one row at a time
    /// allocates nothing. `slot` is left as it was when the row cannot be converted.
    pub fn emission_in<'s>(
        &mut self,
        a: &ActivityRef<'_>,
        slot: &'s mut Option<Emission>,
    ) -> Result<&'s Emission, RowProblem> {
        let amounts = self.amounts(a)?;
        Ok(match slot {
            Some(e) => {
                e.overwrite(a, amounts);
                e
            }
            None => slot.insert(Emission::of(a, amounts)),
        })
    }

    /// The emission of `sum`, a row standing for stored rows that differ from it only in
    /// quantity and in their periods within one financial year, whose quantities add up to its
    /// own and of which none is larger in size than `largest` (written at the largest scale
    /// among them): the sum of their emissions, exactly, or `None` when that cannot be
    /// promised (a row's figures would be rounded or too large, or the factor does not
    /// resolve) and the rows must be converted one by one, each with its own problem.
    ///
    /// It is exact because an emission is linear in its quantity: every product is checked to
    /// have kept its operands' scales (no rounding) both for the sum and for `largest`, whose
    /// digits bound every row's.
    pub fn emission_of_sum(&mut self, sum: &Activity, largest: Decimal) -> Option<Emission> {
        let a = sum.borrowed();
        let amounts = self.amounts(&a).ok()?;
        let exact = {
            let resolved = self.resolved_for(&a).ok()?;
            let factors = self.factors.factors();
            let factor = &factors[resolved.main];
            let market = resolved.market.map(|(c, i)| (c, &factors[i]));
            figures_exact(a.quantity, resolved.conversion, factor, market)
                && figures_exact(largest, resolved.conversion, factor, market)
        };
        exact.then(|| Emission::of(&a, amounts))
    }

    /// Edition, factor, market-based factor, then the arithmetic; problems are reported in
    /// that order, each against the column to fix.
    fn amounts(&mut self, a: &ActivityRef<'_>) -> Result<Amounts, RowProblem> {
        let r = self.resolved_for(a)?;
        let factors = self.factors.factors();
        let market = r.market.map(|(c, i)| (c, &factors[i]));
        let (quantity, kgco2e, market_kgco2e, gases) =
            figures(a.quantity, r.conversion, &factors[r.main], market).map_err(|e| {
                RowProblem {
                    column: RowProblem::TOO_LARGE,
                    message: format!("{}'s row cannot be summed: {e}", a.organisation),
                }
            })?;
        Ok(Amounts {
            factor: r.main,
            scope: r.scope,
            category: a.category.unwrap_or(r.category),
            quantity,
            kgco2e,
            market_kgco2e,
            gases,
        })
    }

    /// The factors a row converts with and the conversions from its unit: edition, factor,
    /// then market-based factor, problems reported in that order.
    fn resolved_for(&mut self, a: &ActivityRef<'_>) -> Result<ResolvedRow, RowProblem> {
        let row_error = |column: &'static str, message: String| RowProblem { column, message };
        let edition = self.edition_of(a).ok_or_else(|| {
            row_error(
                "edition",
                "no conversion factors are loaded: run `greenplan factors import FILE` first"
                    .into(),
            )
        })?;
        let mut main = self.resolve(a.activity, a.unit, edition);
        if self.resolved[main].is_err()
            && let Some(other) = self.same_year_supplement(a, edition)
        {
            main = other;
        }
        if let Err(e) = &self.resolved[main] {
            return Err(row_error("activity", e.to_string()));
        }
        let market = a.market_factor.map(|m| self.resolve(m, a.unit, edition));
        let (main, market) = (&self.resolved[main], market.map(|i| &self.resolved[i]));
        let main = main
            .as_ref()
            .map_err(|e| row_error("activity", e.to_string()))?;
        let market = market
            .map(|m| {
                m.as_ref()
                    .map_err(|e| row_error("market_factor", e.to_string()))
            })
            .transpose()?;
        let unit_error = |e: &UnitError| row_error("unit", e.to_string());
        let conversion = *main.conversion.as_ref().map_err(unit_error)?;
        // The market-based factor counts for Scope 2 only (see the module documentation).
        let market = match market {
            Some(m) if main.scope == Scope::Scope2 => {
                Some((*m.conversion.as_ref().map_err(unit_error)?, m.index))
            }
            _ => None,
        };
        Ok(ResolvedRow {
            main: main.index,
            scope: main.scope,
            category: main.category,
            conversion,
            market,
        })
    }

    /// Position in `resolved` of the factor for `activity` in `unit` and `edition`.
    fn resolve(&mut self, activity: &str, unit: &Unit, edition: usize) -> usize {
        if let Some(&(_, _, hit)) = self
            .cache
            .get(activity)
            .and_then(|entries| entries.iter().find(|(e, u, _)| *e == edition && u == unit))
        {
            return hit;
        }
        let result = self
            .factors
            .resolve(activity, unit, &self.names[edition])
            .map(|index| {
                let f = &self.factors.factors()[index];
                Resolved {
                    index,
                    scope: f.scope,
                    category: f.category(),
                    // A unit given without a calorific-value basis takes the basis of the
                    // factor it was resolved to: resolution only picks such a factor when the
                    // choice is unambiguous (one row, or an alias's documented default such as
                    // natural gas in kWh (Gross CV)).
                    conversion: unit.conversion_to_assuming_basis(&f.unit),
                }
            });
        self.resolved.push(result);
        let at = self.resolved.len() - 1;
        self.cache
            .entry(activity.into())
            .or_default()
            .push((edition, unit.clone(), at));
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::GasParts;
    use chrono::NaiveDate;

    fn activity(org: &str, qty: &str, unit: &str) -> Activity {
        Activity {
            origin: RowRef {
                source: "t.csv".into(),
                row: 2,
            },
            organisation: OdsCode::parse(org).unwrap(),
            site: Some("Main".into()),
            period_start: NaiveDate::from_ymd_opt(2023, 4, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2023, 4, 30).unwrap(),
            activity: "natural-gas".into(),
            quantity: qty.parse().unwrap(),
            unit: unit.parse().unwrap(),
            edition: None,
            category: None,
            market_factor: None,
            notes: None,
        }
    }

    fn gas_factor() -> Factor {
        Factor {
            edition: "uk-2023".into(),
            scope: Scope::Scope1,
            levels: vec!["Fuels".into(), "Gaseous fuels".into(), "Natural gas".into()],
            column_text: None,
            unit_text: "kWh (Gross CV)".into(),
            unit: "kWh (Gross CV)".parse().unwrap(),
            kgco2e: "0.18293".parse().unwrap(),
            gases: GasParts {
                co2: Some("0.18256".parse().unwrap()),
                ch4: Some("0.00028".parse().unwrap()),
                n2o: Some("0.00009".parse().unwrap()),
            },
            activity: None,
            category: None,
            source: "test".into(),
        }
    }

    /// A custom edition of the same year supplements the official one both ways; a row that
    /// names its edition gets only that edition.
    #[test]
    fn a_years_editions_supplement_each_other() {
        let mut route = gas_factor();
        route.edition = "rtg-waste-2023".into();
        route.levels = vec!["waste-high-temperature-incineration".into()];
        route.activity = Some("waste-high-temperature-incineration".into());
        route.unit_text = "tonnes".into();
        route.unit = "tonnes".parse().unwrap();
        let set = FactorSet::new(vec![gas_factor(), route]);
        // Either order of the year's editions: each row finds its factor.
        for editions in [
            vec![
                ("rtg-waste-2023".to_string(), 2023),
                ("uk-2023".to_string(), 2023),
            ],
            vec![
                ("uk-2023".to_string(), 2023),
                ("rtg-waste-2023".to_string(), 2023),
            ],
        ] {
            let mut resolver = Resolver::new(&set, editions);
            let gas = resolver.emission(&activity("RTG", "1000", "kWh (Gross CV)"));
            assert_eq!(gas.unwrap().factor, 0);
            let mut waste = activity("RTG", "10", "tonnes");
            waste.activity = "waste-high-temperature-incineration".into();
            assert_eq!(resolver.emission(&waste).unwrap().factor, 1);
            waste.edition = Some("uk-2023".into());
            assert_eq!(resolver.emission(&waste).unwrap_err().column, "activity");
        }
    }

    /// A sum line is converted as one only when that equals the sum of its rows' emissions
    /// exactly: not when a row's products would round, nor when a row (not the sum) is too
    /// large, nor when the factor does not resolve.
    #[test]
    fn a_sum_is_converted_as_one_only_when_exact_for_every_row() {
        let set = FactorSet::new(vec![gas_factor()]);
        let mut resolver = Resolver::new(&set, vec![("uk-2023".to_string(), 2023)]);
        let rows = ["1000", "2.5", "-0.125"].map(|q| activity("RTG", q, "MWh (Gross CV)"));
        let mut sum = rows[0].clone();
        sum.quantity = rows.iter().map(|r| r.quantity).sum();
        let largest: Decimal = "1000.000".parse().unwrap();
        let one = resolver.emission_of_sum(&sum, largest).unwrap();
        let each: Vec<Emission> = rows.iter().map(|r| resolver.emission(r).unwrap()).collect();
        assert_eq!(one.kgco2e, each.iter().map(|e| e.kgco2e).sum::<Decimal>());
        assert_eq!(
            one.gases.other,
            each.iter().map(|e| e.gases.other).sum::<Decimal>()
        );
        assert_eq!(one.kgco2e, "183364.45875".parse::<Decimal>().unwrap());

        // 24 decimals × 5 of the factor × 3 of the conversion to kWh exceed a decimal's 28.
        let fine: Decimal = "1.000000000000000000000001".parse().unwrap();
        let mut fine_sum = sum.clone();
        fine_sum.quantity = fine;
        assert!(resolver.emission_of_sum(&fine_sum, fine).is_none());
        // The sum fits but one row's figure is too large: rows +huge and -huge.
        let huge: Decimal = "10000000000000000000".parse().unwrap();
        assert!(resolver.emission_of_sum(&sum, huge).is_none());
        // A sum whose factor does not resolve is left to its rows, which name the problem.
        let mut other = sum.clone();
        other.activity = "no-such-activity".into();
        assert!(resolver.emission_of_sum(&other, largest).is_none());
    }

    #[test]
    fn converts_units_then_multiplies_exactly() {
        let f = gas_factor();
        let e = emission(&activity("RTG", "2.5", "MWh (Gross CV)"), 0, &f, None).unwrap();
        assert_eq!(e.kgco2e, "457.325".parse().unwrap());
        assert_eq!(
            e.gases.co2 + e.gases.ch4 + e.gases.n2o + e.gases.other,
            e.kgco2e
        );
        assert_eq!(e.category, NhsCategory::BuildingEnergy);
        assert_eq!(e.year, FinancialYear(2023));
    }

    /// Issue 21, class 2: the largest decimal, in kWh or MWh, is a row problem, never a panic.
    #[test]
    fn a_quantity_too_large_is_an_error_not_a_panic() {
        let f = gas_factor();
        for unit in ["kWh (Gross CV)", "MWh (Gross CV)"] {
            let a = activity("RTG", "79228162514264337593543950335", unit);
            let e = emission(&a, 0, &f, None).unwrap_err().to_string();
            assert!(e.contains("79228162514264337593543950335"), "{e}");
            let set = FactorSet::new(vec![gas_factor()]);
            let mut resolver = Resolver::new(&set, vec![("uk-2023".to_string(), 2023)]);
            let p = resolver.emission(&a).unwrap_err();
            assert!(p.is_too_large() && p.message.contains("RTG"), "{p:?}");
        }
    }

    /// Sums that would overflow leave the row out, counted against its organisation, for
    /// every grouping (by gas too), and merging parallel sums is checked the same way.
    #[test]
    fn sums_past_the_limit_are_left_out_and_named() {
        let f = gas_factor();
        let mut big = emission(&activity("RTG", "1000", "kWh (Gross CV)"), 0, &f, None).unwrap();
        big.kgco2e = Decimal::MAX;
        big.market_kgco2e = Decimal::MAX;
        big.gases = GasSplit {
            other: Decimal::MAX,
            ..GasSplit::default()
        };
        let small = emission(&activity("RFS", "1000", "kWh (Gross CV)"), 0, &f, None).unwrap();
        fn named(t: &FootprintTable) -> Vec<(&str, u64)> {
            t.unsummed
                .iter()
                .map(|u| (u.organisation.as_str(), u.rows))
                .collect()
        }
        // A line already at the limit takes nothing more: each row that does not fit is named.
        let t = aggregate(
            &[big.clone(), small.clone(), big.clone()],
            &[GroupBy::Category],
        );
        assert_eq!(named(&t), [("RFS", 1), ("RTG", 1)]);
        // By gas the small row's CO2, CH4 and N2O lines have room; `other` is full.
        let t = aggregate(&[big.clone(), small.clone(), big.clone()], &[GroupBy::Gas]);
        assert_eq!(named(&t), [("RTG", 1)]);
        let t = aggregate(
            &[big.clone(), small.clone(), big.clone()],
            &[GroupBy::Organisation],
        );
        assert_eq!(named(&t), [("RTG", 1)]);
        assert!(
            t.total_kgco2e().is_err(),
            "the total of the lines is checked too"
        );
        let mut a = Aggregator::new(&[GroupBy::Category], false);
        a.add(0, &big);
        let mut b = Aggregator::new(&[GroupBy::Category], false);
        b.add(0, &big);
        a.merge(b);
        assert_eq!(a.finish().unsummed.len(), 1);
        assert!(checked_sum([Decimal::MAX, Decimal::ONE]).is_err());
    }

    #[test]
    fn aggregates_by_keys_in_order() {
        let f = gas_factor();
        let es = vec![
            emission(&activity("RTG", "1000", "kWh (Gross CV)"), 0, &f, None).unwrap(),
            emission(&activity("RTG", "2000", "kWh (Gross CV)"), 0, &f, None).unwrap(),
            emission(&activity("RFS", "1000", "kWh (Gross CV)"), 0, &f, None).unwrap(),
        ];
        let t = aggregate(&es, &[GroupBy::Organisation]);
        assert_eq!(t.lines.len(), 2);
        assert_eq!(t.lines[0].key, vec!["RFS"]);
        assert_eq!(t.lines[1].kgco2e, "548.79".parse().unwrap());
        assert_eq!(t.lines[1].emissions, vec![0, 1]);
        assert_eq!(t.total_kgco2e().unwrap(), "731.72".parse().unwrap());
        let by_gas = aggregate(&es, &[GroupBy::Gas]);
        assert_eq!(by_gas.total_kgco2e(), t.total_kgco2e());
        assert_eq!(
            by_gas
                .lines
                .iter()
                .find(|l| l.key[0] == "CO2")
                .unwrap()
                .kgco2e,
            "730.24".parse().unwrap()
        );
    }

    #[test]
    fn market_based_uses_the_tariff_for_scope_2_only() {
        let mut grid = gas_factor();
        grid.scope = Scope::Scope2;
        grid.unit = "kWh".parse().unwrap();
        grid.kgco2e = "0.20707".parse().unwrap();
        let mut tariff = grid.clone();
        tariff.kgco2e = Decimal::ZERO;
        let e = emission(&activity("RFS", "1000", "kWh"), 0, &grid, Some(&tariff)).unwrap();
        assert_eq!(e.kgco2e, "207.07".parse().unwrap());
        assert_eq!(e.market_kgco2e, Decimal::ZERO);
    }

    /// The resolver (owned rows, and borrowed rows written over one emission) and
    /// [`emission`] with the factors given by hand agree to the last digit and field.
    #[test]
    fn every_path_gives_the_same_emission() {
        let gas = gas_factor();
        let mut grid = gas_factor();
        grid.scope = Scope::Scope2;
        grid.levels = vec!["UK electricity".into()];
        grid.unit = "kWh".parse().unwrap();
        grid.unit_text = "kWh".into();
        grid.kgco2e = "0.20707".parse().unwrap();
        grid.gases = GasParts::default();
        grid.activity = Some("grid".into());
        let mut tariff = grid.clone();
        tariff.kgco2e = "0.011".parse().unwrap();
        tariff.activity = Some("tariff".into());
        let mut gas_tariff = gas.clone();
        gas_tariff.activity = Some("gas-tariff".into());
        gas_tariff.kgco2e = Decimal::ONE;
        let set = FactorSet::new(vec![gas, grid, tariff, gas_tariff]);
        let editions = vec![("uk-2023".to_string(), 2023)];
        let rows = [
            (
                "RTG",
                "2.5",
                "MWh (Gross CV)",
                "natural-gas",
                None,
                None,
                None,
            ),
            ("RTG", "0.000", "kWh", "natural-gas", None, None, None),
            (
                "rfs",
                "1000",
                "kWh",
                "grid",
                Some("tariff"),
                None,
                Some("Annex"),
            ),
            (
                "RFS",
                "12.5",
                "MWh",
                "grid",
                Some("tariff"),
                Some(NhsCategory::Water),
                None,
            ),
            (
                "RFS",
                "-3",
                "kWh",
                "natural-gas",
                Some("gas-tariff"),
                None,
                Some("Main"),
            ),
            ("QJ2", "7", "GJ", "grid", None, None, Some("")),
        ];
        let mut resolver = Resolver::new(&set, editions.clone());
        let mut slot = None;
        for (org, qty, unit, name, market, category, site) in rows {
            let mut a = activity(org, qty, unit);
            a.activity = name.into();
            a.market_factor = market.map(str::to_string);
            a.category = category;
            a.site = site.map(str::to_string);
            let owned = resolver.emission(&a).unwrap();
            let index = owned.factor;
            let by_hand = emission(
                &a,
                index,
                &set.factors()[index],
                market.map(|m| &set.factors()[set.resolve(m, &a.unit, "uk-2023").unwrap()]),
            )
            .unwrap();
            assert_eq!(owned, by_hand, "{name} {qty} {unit}");
            let borrowed = resolver.emission_in(&a.borrowed(), &mut slot).unwrap();
            assert_eq!(*borrowed, owned, "{name} {qty} {unit}");
            // Same digits, not only the same values.
            assert_eq!(borrowed.kgco2e.to_string(), by_hand.kgco2e.to_string());
            assert_eq!(
                borrowed.quantity_in_factor_unit.to_string(),
                by_hand.quantity_in_factor_unit.to_string()
            );
        }
        // A problem leaves the slot as it was and names the column.
        let before = slot.clone();
        let mut a = activity("RTG", "1", "km");
        assert_eq!(
            resolver
                .emission_in(&a.borrowed(), &mut slot)
                .unwrap_err()
                .column,
            "activity"
        );
        a.unit = "kWh".parse().unwrap();
        a.market_factor = Some("nothing".into());
        assert_eq!(resolver.emission(&a).unwrap_err().column, "market_factor");
        assert_eq!(slot, before);
    }
}
