//! Inhaler prescribing measures from the English Prescribing Dataset (EPD), per practice,
//! sub-ICB location, ICB or the whole data set, per month: items by device, inhalers,
//! tCO2e, the MDI share excluding salbutamol and the carbon per salbutamol inhaler (as
//! OpenPrescribing defines them); and, over a period, each organisation's percentile among
//! its peers and the saving if it matched the best decile's MDI share.
//!
//! The input is EPD already summed per month × practice × BNF presentation
//! ([`Prescribing`]): every measure is a sum over those lines, so nothing is lost by not
//! keeping the raw rows. Doses become inhalers once per such line (see
//! [`PrescribedQuantity::inhalers`]), so a sub-ICB or ICB figure is exactly the sum of its
//! practices' figures. All figures are exact decimals; the only rounding is documented where
//! it happens.

use crate::inhaler::{Device, INHALER_DECIMALS, InhalerTable, PrescribedQuantity};
use crate::period::{FinancialYear, YearMonth};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Decimal places of shares and of the carbon per salbutamol inhaler (half to even).
pub const RATIO_DECIMALS: u32 = 6;

/// The organisation level a measure is computed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Practice,
    SubIcb,
    Icb,
    National,
}

impl Level {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Practice => "practice",
            Self::SubIcb => "sub-icb",
            Self::Icb => "icb",
            Self::National => "national",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Practice => "Practice",
            Self::SubIcb => "Sub-ICB location",
            Self::Icb => "ICB",
            Self::National => "All practices in the data",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// An unknown level name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a level: write practice, sub-icb, icb or national")]
pub struct LevelError(pub String);

impl FromStr for Level {
    type Err = LevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "practice" => Ok(Self::Practice),
            "sub-icb" | "subicb" | "pco" | "ccg" => Ok(Self::SubIcb),
            "icb" | "stp" => Ok(Self::Icb),
            "national" | "england" => Ok(Self::National),
            _ => Err(LevelError(s.trim().to_string())),
        }
    }
}

/// Where a practice sat in a month (practices move between sub-ICB locations and ICBs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PracticeInfo {
    pub name: String,
    pub sub_icb_code: String,
    pub sub_icb_name: String,
    pub icb_code: String,
    pub icb_name: String,
}

/// Code and name of the organisation a measure row is for at the national level.
pub const NATIONAL_CODE: &str = "national";

impl PracticeInfo {
    /// The practice's organisation at `level`: (code, name).
    pub fn org<'a>(&'a self, practice: &'a str, level: Level) -> (&'a str, &'a str) {
        match level {
            Level::Practice => (practice, &self.name),
            Level::SubIcb => (&self.sub_icb_code, &self.sub_icb_name),
            Level::Icb => (&self.icb_code, &self.icb_name),
            Level::National => (NATIONAL_CODE, Level::National.label()),
        }
    }
}

/// Key of a line of [`Prescribing`]: month, practice code, BNF presentation code.
pub type LineKey = (YearMonth, String, String);

/// Inhaler prescribing summed per month × practice × BNF presentation, with where each
/// practice sat each month, and the description of each BNF code seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prescribing {
    pub lines: BTreeMap<LineKey, PrescribedQuantity>,
    pub practices: BTreeMap<(YearMonth, String), PracticeInfo>,
    pub descriptions: BTreeMap<String, String>,
}

impl Prescribing {
    /// Adds another extract (e.g. another file) line by line.
    pub fn merge(&mut self, other: Prescribing) {
        for (k, q) in other.lines {
            self.lines.entry(k).or_default().add(&q);
        }
        self.practices.extend(other.practices);
        for (code, d) in other.descriptions {
            self.descriptions.entry(code).or_insert(d);
        }
    }

    /// The months with any line, in order.
    pub fn months(&self) -> Vec<YearMonth> {
        let mut m: Vec<YearMonth> = self.practices.keys().map(|(m, _)| *m).collect();
        m.dedup();
        m
    }
}

/// A measure for one organisation and month (or period, once summed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MeasureRow {
    pub year_month: Option<YearMonth>,
    pub level: Option<Level>,
    pub org_code: String,
    pub org_name: String,
    pub inhaler_items: i64,
    pub mdi_items: i64,
    pub dpi_items: i64,
    pub smi_items: i64,
    pub other_items: i64,
    pub inhalers: Decimal,
    pub tco2e: Decimal,
    /// MDI items outside salbutamol (the share's numerator).
    pub mdi_items_excl_salbutamol: i64,
    /// MDI + DPI + SMI items outside salbutamol (its denominator).
    pub device_items_excl_salbutamol: i64,
    pub salbutamol_inhalers: Decimal,
    /// Σ inhalers × kgCO2e over salbutamol.
    pub salbutamol_kgco2e: Decimal,
    /// Non-salbutamol MDIs: inhalers and kgCO2e (for savings).
    pub mdi_inhalers_excl_salbutamol: Decimal,
    pub mdi_kgco2e_excl_salbutamol: Decimal,
    /// Non-salbutamol DPIs and SMIs: inhalers and kgCO2e (what a switch goes to).
    pub low_carbon_inhalers_excl_salbutamol: Decimal,
    pub low_carbon_kgco2e_excl_salbutamol: Decimal,
}

/// The columns of a measures table (CSV), in the documented order.
pub const MEASURE_COLUMNS: [&str; 14] = [
    "year_month",
    "level",
    "org_code",
    "org_name",
    "inhaler_items",
    "mdi_items",
    "dpi_items",
    "smi_items",
    "other_items",
    "inhalers",
    "tco2e",
    "mdi_share_excl_salbutamol",
    "salbutamol_inhalers",
    "salbutamol_kgco2e_per_inhaler",
];

impl MeasureRow {
    /// The row as text in [`MEASURE_COLUMNS`] order, figures without trailing zeros and an
    /// empty cell where a share has no items to divide by.
    pub fn cells(&self) -> Vec<String> {
        let opt = |v: Option<Decimal>| v.map(plain).unwrap_or_default();
        vec![
            self.year_month
                .map(|m| format!("{:04}{:02}", m.year, m.month))
                .unwrap_or_default(),
            self.level.map(|l| l.slug().to_string()).unwrap_or_default(),
            self.org_code.clone(),
            self.org_name.clone(),
            self.inhaler_items.to_string(),
            self.mdi_items.to_string(),
            self.dpi_items.to_string(),
            self.smi_items.to_string(),
            self.other_items.to_string(),
            plain(self.inhalers),
            plain(self.tco2e),
            opt(self.mdi_share_excl_salbutamol()),
            plain(self.salbutamol_inhalers),
            opt(self.salbutamol_kgco2e_per_inhaler()),
        ]
    }

    /// MDI items ÷ (MDI + DPI + SMI items), outside salbutamol; `None` with no such items.
    pub fn mdi_share_excl_salbutamol(&self) -> Option<Decimal> {
        ratio(
            Decimal::from(self.mdi_items_excl_salbutamol),
            Decimal::from(self.device_items_excl_salbutamol),
        )
    }

    /// Σ(inhalers × kgCO2e) ÷ Σ inhalers over salbutamol; `None` with no salbutamol.
    pub fn salbutamol_kgco2e_per_inhaler(&self) -> Option<Decimal> {
        ratio(self.salbutamol_kgco2e, self.salbutamol_inhalers)
    }

    fn add(&mut self, o: &MeasureRow) {
        self.inhaler_items += o.inhaler_items;
        self.mdi_items += o.mdi_items;
        self.dpi_items += o.dpi_items;
        self.smi_items += o.smi_items;
        self.other_items += o.other_items;
        self.inhalers += o.inhalers;
        self.tco2e += o.tco2e;
        self.mdi_items_excl_salbutamol += o.mdi_items_excl_salbutamol;
        self.device_items_excl_salbutamol += o.device_items_excl_salbutamol;
        self.salbutamol_inhalers += o.salbutamol_inhalers;
        self.salbutamol_kgco2e += o.salbutamol_kgco2e;
        self.mdi_inhalers_excl_salbutamol += o.mdi_inhalers_excl_salbutamol;
        self.mdi_kgco2e_excl_salbutamol += o.mdi_kgco2e_excl_salbutamol;
        self.low_carbon_inhalers_excl_salbutamol += o.low_carbon_inhalers_excl_salbutamol;
        self.low_carbon_kgco2e_excl_salbutamol += o.low_carbon_kgco2e_excl_salbutamol;
    }
}

/// `a ÷ b` rounded half to even to [`RATIO_DECIMALS`]; `None` when `b` is zero.
pub fn ratio(a: Decimal, b: Decimal) -> Option<Decimal> {
    if b.is_zero() {
        return None;
    }
    Some(round(a / b, RATIO_DECIMALS))
}

fn round(v: Decimal, dp: u32) -> Decimal {
    v.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven)
}

/// A BNF code prescribed that the product table cannot count: not in it, or given in doses
/// without a dose count. Reported with its items so nobody mistakes a gap for a fall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncountedProduct {
    pub bnf_code: String,
    pub description: String,
    pub items: i64,
    pub reason: &'static str,
}

/// Measures per month and organisation, and the products that could not be counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Measures {
    /// In order of month, then the levels as asked, then organisation code.
    pub rows: Vec<MeasureRow>,
    pub uncounted: Vec<UncountedProduct>,
}

/// Computes the measures of `data` at each of `levels` for the months in `months` (all when
/// `None`), with the products of `table`.
pub fn measures(
    data: &Prescribing,
    table: &InhalerTable,
    levels: &[Level],
    months: Option<(YearMonth, YearMonth)>,
) -> Measures {
    let in_range = |m: &YearMonth| months.is_none_or(|(from, to)| *m >= from && *m <= to);
    let mut rows: BTreeMap<(YearMonth, usize, String), MeasureRow> = BTreeMap::new();
    let mut uncounted: BTreeMap<String, UncountedProduct> = BTreeMap::new();
    let empty = PracticeInfo::default();
    for ((month, practice, code), q) in data.lines.iter().filter(|((m, _, _), _)| in_range(m)) {
        let Some(line) = line_measure(table, code, q) else {
            let reason = if table.get(code).is_some() {
                "prescribed in doses, but the product table has no doses per inhaler"
            } else {
                "an inhaler not in the product table"
            };
            let u = uncounted
                .entry(code.clone())
                .or_insert_with(|| UncountedProduct {
                    bnf_code: code.clone(),
                    description: data.descriptions.get(code).cloned().unwrap_or_default(),
                    items: 0,
                    reason,
                });
            u.items += q.items;
            continue;
        };
        let info = data
            .practices
            .get(&(*month, practice.clone()))
            .unwrap_or(&empty);
        for (i, level) in levels.iter().enumerate() {
            let (org, name) = info.org(practice, *level);
            let row = rows
                .entry((*month, i, org.to_string()))
                .or_insert_with(|| MeasureRow {
                    year_month: Some(*month),
                    level: Some(*level),
                    org_code: org.to_string(),
                    org_name: name.to_string(),
                    ..MeasureRow::default()
                });
            row.add(&line);
        }
    }
    Measures {
        rows: rows.into_values().collect(),
        uncounted: uncounted.into_values().collect(),
    }
}

/// The measure of one line (one product at one practice in one month); `None` when the
/// product cannot be counted.
fn line_measure(table: &InhalerTable, code: &str, q: &PrescribedQuantity) -> Option<MeasureRow> {
    let p = table.get(code)?;
    let inhalers = q.inhalers(p.doses_per_inhaler)?;
    let kg = inhalers * p.kgco2e_per_inhaler;
    let mut m = MeasureRow {
        inhaler_items: q.items,
        inhalers,
        tco2e: kg / Decimal::ONE_THOUSAND,
        ..MeasureRow::default()
    };
    match p.device {
        Device::Mdi => m.mdi_items = q.items,
        Device::Dpi => m.dpi_items = q.items,
        Device::Smi => m.smi_items = q.items,
        Device::Other => m.other_items = q.items,
    }
    if p.is_salbutamol() {
        m.salbutamol_inhalers = inhalers;
        m.salbutamol_kgco2e = kg;
    } else {
        match p.device {
            Device::Mdi => {
                m.mdi_items_excl_salbutamol = q.items;
                m.mdi_inhalers_excl_salbutamol = inhalers;
                m.mdi_kgco2e_excl_salbutamol = kg;
            }
            Device::Dpi | Device::Smi => {
                m.low_carbon_inhalers_excl_salbutamol = inhalers;
                m.low_carbon_kgco2e_excl_salbutamol = kg;
            }
            Device::Other => {}
        }
        if p.device != Device::Other {
            m.device_items_excl_salbutamol = q.items;
        }
    }
    Some(m)
}

/// Inhalers of each product per month over the practices of one ICB (all practices when
/// `icb` is `None`): the quantities the carbon footprint's "inhalers" category is made of.
/// Doses become inhalers per practice line, exactly as [`measures`] does, so the footprint's
/// kgCO2e (inhalers × the product's kgCO2e) equals the ICB measure's tCO2e × 1,000. Products
/// that cannot be counted are left out here as there (and reported by [`measures`]).
pub fn inhalers_by_product(
    data: &Prescribing,
    table: &InhalerTable,
    icb: Option<&str>,
) -> BTreeMap<(YearMonth, String), Decimal> {
    let mut out: BTreeMap<(YearMonth, String), Decimal> = BTreeMap::new();
    for ((month, practice, code), q) in &data.lines {
        let in_icb = icb.is_none_or(|icb| {
            data.practices
                .get(&(*month, practice.clone()))
                .is_some_and(|p| p.icb_code.eq_ignore_ascii_case(icb))
        });
        let Some(p) = table.get(code).filter(|_| in_icb) else {
            continue;
        };
        if let Some(inhalers) = q.inhalers(p.doses_per_inhaler) {
            *out.entry((*month, code.clone())).or_default() += inhalers;
        }
    }
    out
}

/// Sums measure rows per organisation over every month they cover (for a period's figures).
pub fn over_period(rows: &[MeasureRow]) -> Vec<MeasureRow> {
    let mut by_org: BTreeMap<(Option<Level>, String), MeasureRow> = BTreeMap::new();
    for r in rows {
        let row = by_org
            .entry((r.level, r.org_code.clone()))
            .or_insert_with(|| MeasureRow {
                level: r.level,
                org_code: r.org_code.clone(),
                org_name: r.org_name.clone(),
                ..MeasureRow::default()
            });
        row.add(r);
    }
    by_org.into_values().collect()
}

/// One organisation in a league table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeagueRow {
    pub measure: MeasureRow,
    pub mdi_share: Option<Decimal>,
    /// 0 = the lowest MDI share among its peers, 100 = the highest (one decimal place).
    pub percentile: Option<Decimal>,
    /// tCO2e a year saved if its MDI share fell to the best decile's (3 decimal places).
    pub saving_tco2e_a_year: Decimal,
}

/// A league table over a period of `months` months.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct League {
    pub months: u32,
    /// The MDI share (excluding salbutamol) at the best decile: the 10th percentile, nearest
    /// rank.
    pub best_decile_share: Option<Decimal>,
    /// Mean kgCO2e per non-salbutamol DPI or SMI inhaler over all the organisations: what a
    /// switched MDI is assumed to become.
    pub low_carbon_kgco2e_per_inhaler: Option<Decimal>,
    /// Largest saving first.
    pub rows: Vec<LeagueRow>,
}

/// Ranks the organisations of one level over a period (`rows` from [`over_period`]):
/// percentiles of the MDI share and the saving if each matched the best decile.
///
/// The saving of an organisation with share `s` above the best decile `b`: a fraction
/// `(s − b) ÷ s` of its non-salbutamol MDIs switch to a low-carbon device, each then costing
/// the mean kgCO2e of the non-salbutamol DPIs and SMIs in the data instead of its own MDI
/// carbon; a period of `months` months is scaled to a year (× 12 ÷ months).
pub fn league(rows: Vec<MeasureRow>, months: u32) -> League {
    let mut shares: Vec<Decimal> = rows
        .iter()
        .filter_map(MeasureRow::mdi_share_excl_salbutamol)
        .collect();
    shares.sort();
    let n = shares.len();
    let best = (n > 0).then(|| shares[(n.div_ceil(10)).max(1) - 1]);
    let (lc_kg, lc_inh) = rows
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(k, i), r| {
            (
                k + r.low_carbon_kgco2e_excl_salbutamol,
                i + r.low_carbon_inhalers_excl_salbutamol,
            )
        });
    let lc_per_inhaler = ratio(lc_kg, lc_inh);
    let year = if months == 0 {
        Decimal::ZERO
    } else {
        Decimal::from(12) / Decimal::from(months)
    };
    let mut out: Vec<LeagueRow> = rows
        .into_iter()
        .map(|measure| {
            let share = measure.mdi_share_excl_salbutamol();
            let percentile = share.map(|s| {
                let below = shares.partition_point(|x| *x < s);
                if n <= 1 {
                    Decimal::ZERO
                } else {
                    round(
                        Decimal::from(100 * below as i64) / Decimal::from(n as i64 - 1),
                        1,
                    )
                }
            });
            let saving = match (share, best) {
                (Some(s), Some(b)) if s > b => {
                    let fraction = (s - b) / s;
                    let switched = fraction * measure.mdi_inhalers_excl_salbutamol;
                    let kg = fraction * measure.mdi_kgco2e_excl_salbutamol
                        - switched * lc_per_inhaler.unwrap_or_default();
                    round((kg / Decimal::ONE_THOUSAND * year).max(Decimal::ZERO), 3)
                }
                _ => Decimal::ZERO,
            };
            LeagueRow {
                measure,
                mdi_share: share,
                percentile,
                saving_tco2e_a_year: saving,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.saving_tco2e_a_year
            .cmp(&a.saving_tco2e_a_year)
            .then_with(|| a.measure.org_code.cmp(&b.measure.org_code))
    });
    League {
        months,
        best_decile_share: best,
        low_carbon_kgco2e_per_inhaler: lc_per_inhaler,
        rows: out,
    }
}

/// One organisation's figures for a financial year, from its monthly rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearFigure {
    pub year: FinancialYear,
    /// Months with data: a year is complete at 12.
    pub months: u32,
    pub tco2e: Decimal,
    pub salbutamol_kgco2e_per_inhaler: Option<Decimal>,
}

/// Sums monthly rows of one organisation per financial year.
pub fn by_financial_year(rows: &[MeasureRow]) -> Vec<YearFigure> {
    let mut years: BTreeMap<FinancialYear, (MeasureRow, u32)> = BTreeMap::new();
    for r in rows {
        if let Some(m) = r.year_month {
            let y = years
                .entry(FinancialYear::containing(m.start()))
                .or_default();
            y.0.add(r);
            y.1 += 1;
        }
    }
    years
        .into_iter()
        .map(|(year, (sum, months))| YearFigure {
            year,
            months,
            tco2e: sum.tco2e,
            salbutamol_kgco2e_per_inhaler: sum.salbutamol_kgco2e_per_inhaler(),
        })
        .collect()
}

/// Formats a figure without trailing zeros (`12.50` → `12.5`, `3.000` → `3`).
pub fn plain(v: Decimal) -> String {
    let n = v.normalize();
    if n.is_zero() {
        "0".into()
    } else {
        n.to_string()
    }
}

/// Inhalers rounded as the rule rounds them (for display of other sums).
pub fn round_inhalers(v: Decimal) -> Decimal {
    round(v, INHALER_DECIMALS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inhaler::InhalerProduct;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn product(code: &str, device: Device, kg: &str, doses: u32) -> InhalerProduct {
        InhalerProduct {
            bnf_code: code.into(),
            description: code.into(),
            device,
            propellant: None,
            kgco2e_per_inhaler: d(kg),
            doses_per_inhaler: Some(Decimal::from(doses)),
            source: "test".into(),
            class_default: false,
        }
    }

    fn table() -> InhalerTable {
        InhalerTable::new([
            product("0301011R0AAAPAP", Device::Mdi, "25.24", 200),
            product("0301011R0BWAABZ", Device::Dpi, "0.62", 200),
            product("0302000C0BPABBF", Device::Mdi, "10", 200),
            product("0302000V0BBABAB", Device::Dpi, "0.8", 30),
            product("0301020Q0BBACAC", Device::Smi, "0.8", 60),
        ])
    }

    fn data(lines: &[(&str, &str, i64, &str, &str)]) -> Prescribing {
        let m = YearMonth::new(2025, 4).unwrap();
        let mut p = Prescribing::default();
        for (practice, code, items, q, total) in lines {
            p.lines
                .entry((m, practice.to_string(), code.to_string()))
                .or_default()
                .add(&PrescribedQuantity::line(*items, d(q), d(total)));
            let sub = if *practice == "C81003" { "15M" } else { "15N" };
            p.practices.insert(
                (m, practice.to_string()),
                PracticeInfo {
                    name: format!("Practice {practice}"),
                    sub_icb_code: sub.into(),
                    sub_icb_name: format!("Sub-ICB {sub}"),
                    icb_code: "QJ2".into(),
                    icb_name: "Derby and Derbyshire".into(),
                },
            );
        }
        p
    }

    #[test]
    fn inhalers_by_product_are_the_icb_measure_in_kilograms() {
        let mut p = data(&[
            ("C81001", "0301011R0AAAPAP", 10, "1", "10"),
            ("C81003", "0301011R0AAAPAP", 2, "400", "800"),
            ("C81002", "0302000V0BBABAB", 6, "1", "6"),
            ("C81002", "0301011U0AAAAAA", 5, "1", "5"),
        ]);
        // A practice of another ICB is left out of QJ2's figure.
        let m = YearMonth::new(2025, 4).unwrap();
        p.lines.insert(
            (m, "Y00001".into(), "0301011R0AAAPAP".into()),
            PrescribedQuantity::line(1, d("1"), d("7")),
        );
        p.practices.insert(
            (m, "Y00001".into()),
            PracticeInfo {
                icb_code: "QHM".into(),
                ..PracticeInfo::default()
            },
        );
        let by = inhalers_by_product(&p, &table(), Some("QJ2"));
        // Salbutamol: 10 inhalers + 800 doses ÷ 200 = 14; Relvar 6; the unknown code none.
        assert_eq!(
            by.into_iter().collect::<Vec<_>>(),
            vec![
                ((m, "0301011R0AAAPAP".to_string()), d("14")),
                ((m, "0302000V0BBABAB".to_string()), d("6")),
            ]
        );
        let icb = measures(&p, &table(), &[Level::Icb], None)
            .rows
            .into_iter()
            .find(|r| r.org_code == "QJ2")
            .unwrap();
        // 14 × 25.24 + 6 × 0.8 = 358.16 kg.
        assert_eq!(icb.tco2e * Decimal::ONE_THOUSAND, d("358.16"));
        assert_eq!(inhalers_by_product(&p, &table(), None).len(), 2);
    }

    #[test]
    fn measures_by_hand() {
        let p = data(&[
            // Salbutamol MDI: 10 inhalers, and 2 items of 400 doses = 4 inhalers.
            ("C81001", "0301011R0AAAPAP", 10, "1", "10"),
            ("C81001", "0301011R0AAAPAP", 2, "400", "800"),
            // Salbutamol DPI: 6 inhalers.
            ("C81001", "0301011R0BWAABZ", 3, "2", "6"),
            // Beclometasone MDI: 4 items, 4 inhalers.
            ("C81001", "0302000C0BPABBF", 4, "1", "4"),
            // Relvar DPI: 6 items, 6 inhalers.
            ("C81002", "0302000V0BBABAB", 6, "1", "6"),
            // An inhaler missing from the table.
            ("C81002", "0301011U0AAAAAA", 5, "1", "5"),
        ]);
        let m = measures(&p, &table(), &[Level::Icb, Level::Practice], None);
        assert_eq!(m.rows.len(), 3);
        let icb = &m.rows[0];
        assert_eq!(
            (icb.level, icb.org_code.as_str()),
            (Some(Level::Icb), "QJ2")
        );
        assert_eq!(icb.inhaler_items, 25);
        assert_eq!((icb.mdi_items, icb.dpi_items, icb.smi_items), (16, 9, 0));
        // 14 + 6 + 4 + 6 inhalers.
        assert_eq!(icb.inhalers, d("30"));
        // 14 × 25.24 + 6 × 0.62 + 4 × 10 + 6 × 0.8 = 353.36 + 3.72 + 40 + 4.8 = 401.88 kg.
        assert_eq!(icb.tco2e, d("0.40188"));
        // Outside salbutamol: 4 MDI items of 10 (4 MDI + 6 DPI).
        assert_eq!(icb.mdi_share_excl_salbutamol(), Some(d("0.4")));
        // Salbutamol: 20 inhalers, (353.36 + 3.72) / 20 = 17.854.
        assert_eq!(icb.salbutamol_inhalers, d("20"));
        assert_eq!(icb.salbutamol_kgco2e_per_inhaler(), Some(d("17.854")));
        let c81002 = &m.rows[2];
        assert_eq!(c81002.org_code, "C81002");
        assert_eq!(c81002.mdi_share_excl_salbutamol(), Some(d("0")));
        assert_eq!(c81002.salbutamol_kgco2e_per_inhaler(), None);
        assert_eq!(m.uncounted.len(), 1);
        assert_eq!(m.uncounted[0].bnf_code, "0301011U0AAAAAA");
        assert_eq!(m.uncounted[0].items, 5);
    }

    #[test]
    fn league_table_by_hand() {
        // Ten practices, MDI share 0.0 … 0.9 of 10 items each; the best decile is 0.0.
        let mut lines = Vec::new();
        let codes: Vec<String> = (0..10).map(|i| format!("C8100{i}")).collect();
        for (i, c) in codes.iter().enumerate() {
            let mdi = i as i64;
            if mdi > 0 {
                lines.push((c.as_str(), "0302000C0BPABBF", mdi, "1", mdi.to_string()));
            }
            if mdi < 10 {
                lines.push((
                    c.as_str(),
                    "0302000V0BBABAB",
                    10 - mdi,
                    "1",
                    (10 - mdi).to_string(),
                ));
            }
        }
        let lines: Vec<(&str, &str, i64, &str, &str)> = lines
            .iter()
            .map(|(p, c, i, q, t)| (*p, *c, *i, *q, t.as_str()))
            .collect();
        let m = measures(&data(&lines), &table(), &[Level::Practice], None);
        let l = league(over_period(&m.rows), 1);
        assert_eq!(l.best_decile_share, Some(d("0")));
        assert_eq!(l.low_carbon_kgco2e_per_inhaler, Some(d("0.8")));
        let top = &l.rows[0];
        assert_eq!(top.measure.org_code, "C81009");
        assert_eq!(top.percentile, Some(d("100")));
        // All 9 MDIs switch: 9 × (10 − 0.8) kg = 82.8 kg a month = 0.9936 t a year.
        assert_eq!(top.saving_tco2e_a_year, d("0.994"));
        let best = l
            .rows
            .iter()
            .find(|r| r.measure.org_code == "C81000")
            .unwrap();
        assert_eq!(best.percentile, Some(d("0")));
        assert_eq!(best.saving_tco2e_a_year, d("0"));
        let mid = l
            .rows
            .iter()
            .find(|r| r.measure.org_code == "C81003")
            .unwrap();
        assert_eq!(mid.percentile, Some(d("33.3")));
    }

    #[test]
    fn financial_years_sum_months() {
        let row = |y: i32, m: u32, t: &str| MeasureRow {
            year_month: YearMonth::new(y, m),
            tco2e: d(t),
            ..MeasureRow::default()
        };
        let years = by_financial_year(&[row(2025, 3, "1"), row(2025, 4, "2"), row(2026, 3, "3")]);
        let got: Vec<(FinancialYear, Decimal, u32)> =
            years.iter().map(|y| (y.year, y.tco2e, y.months)).collect();
        assert_eq!(
            got,
            vec![
                (FinancialYear(2024), d("1"), 1),
                (FinancialYear(2025), d("5"), 2)
            ]
        );
        assert_eq!(plain(d("12.500")), "12.5");
        assert_eq!(plain(d("0.000")), "0");
    }
}
