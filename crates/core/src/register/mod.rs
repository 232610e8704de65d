//! Registers: the things the NHS owns, buys or does that the plan's success measures count
//! (sites, vehicles, lease cars, contracts, waste streams…), kept up to date by the owning
//! organisation instead of typed into a dashboard.
//!
//! A [`Register`] is described once, as data: its slug, title and [`Field`]s (key, label,
//! [`FieldKind`], required, hint). The same description drives validation (every form and
//! every import row goes through [`Register::parse`], which answers per field with the fix),
//! the generic web pages, the import template and the exports. A validated [`Record`] holds
//! each value in its canonical text (decimals normalised, dates ISO, choices by slug), which is
//! what the store keeps, so a stored record reads back through the same parser.
//!
//! Each register also names a `metrics` function: pure arithmetic over its records for a
//! [`MetricPeriod`] (a financial year or a quarter), per organisation and for the system. A
//! figure may name the plan metric it feeds ([`Figure::plan_metric`]): that mapping lives in
//! code, beside the arithmetic that produces the figure, so the plan file needs no change.
//!
//! To add a register: describe it in a module of this folder (fields, a typed view, metrics),
//! and add it to [`ALL`].

use crate::ods::OdsCode;
use crate::period::{FinancialYear, PeriodError, Quarter};
use crate::quantity::parse_decimal;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

pub mod adaptation;
pub mod digital;
pub mod estates;
pub mod fleet;
pub mod footprint;
pub mod primary_care;
pub mod procurement;
pub mod waste;
pub mod workforce;

/// Every register, in the order the index page lists them.
pub const ALL: &[&Register] = &[
    &estates::SITES,
    &estates::PIPELINE,
    &waste::STREAMS,
    &fleet::VEHICLES,
    &fleet::MILEAGE,
    &fleet::LEASE_CARS,
    &fleet::CHARGE_POINTS,
    &procurement::CONTRACTS,
    &procurement::SPEND,
    &workforce::SESSIONS,
    &workforce::CORE_TRAINING,
    &workforce::CHAMPIONS,
    &digital::SIGN_UP,
    &digital::DEVICES,
    &primary_care::PRACTICES,
    &adaptation::RISKS,
    &adaptation::EXERCISES,
    &adaptation::ADMISSIONS,
];

/// The register with this slug.
pub fn find(slug: &str) -> Option<&'static Register> {
    ALL.iter().copied().find(|r| r.slug == slug)
}

/// One entry of a fixed list, in the NHS's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// What files and forms carry.
    pub slug: &'static str,
    /// What people read.
    pub label: &'static str,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// An exact decimal in the named unit (`m²`, `%`, `£`, `gCO2/km`, `tonnes`…).
    Decimal {
        unit: &'static str,
    },
    /// A percentage, 0 to 100.
    Percent,
    /// A whole number, 0 or more.
    Whole,
    /// A date, `YYYY-MM-DD` (also `DD/MM/YYYY` as spreadsheets write it).
    Date,
    /// A financial year, `2025/26`.
    FinancialYear,
    YesNo,
    Choice(&'static [Choice]),
    /// The ODS code of the organisation that owns the record.
    Organisation,
}

/// A field of a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Column name in files and form field name.
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub hint: &'static str,
}

impl Field {
    pub const fn new(key: &'static str, label: &'static str, kind: FieldKind) -> Self {
        Self {
            key,
            label,
            kind,
            required: true,
            hint: "",
        }
    }

    /// The field may be left blank.
    pub const fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    pub const fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    /// The unit shown beside the value, if any.
    pub fn unit(&self) -> Option<&'static str> {
        match self.kind {
            FieldKind::Decimal { unit } => Some(unit),
            FieldKind::Percent => Some("%"),
            _ => None,
        }
    }

    /// The label of a stored (canonical) value: a choice's words, `Yes`/`No`, or the text.
    pub fn display(&self, canonical: &str) -> String {
        match self.kind {
            FieldKind::Choice(choices) => choices
                .iter()
                .find(|c| c.slug == canonical)
                .map_or_else(|| canonical.to_string(), |c| c.label.to_string()),
            FieldKind::YesNo => match canonical {
                "yes" => "Yes".into(),
                "no" => "No".into(),
                other => other.to_string(),
            },
            _ => canonical.to_string(),
        }
    }

    /// Reads one value into its canonical text, or says what is wrong and how to fix it.
    pub fn parse(&self, raw: &str) -> Result<String, String> {
        let raw = raw.trim();
        match self.kind {
            FieldKind::Text => {
                if raw.chars().count() > MAX_TEXT {
                    Err(format!("is longer than {MAX_TEXT} characters: shorten it"))
                } else if let Some(e) = crate::text::refused_control(raw) {
                    Err(e.to_string())
                } else {
                    Ok(raw.to_string())
                }
            }
            FieldKind::Decimal { unit } => {
                let d = parse_decimal(raw)
                    .filter(|d| !d.is_sign_negative())
                    .ok_or_else(|| {
                        format!("`{raw}` is not a number: write the amount in {unit}, e.g. 1250.5, without the unit")
                    })?;
                check_register_bound(d, unit)?;
                Ok(d.normalize().to_string())
            }
            FieldKind::Percent => match parse_decimal(raw.trim_end_matches('%')) {
                Some(d) if d >= Decimal::ZERO && d <= Decimal::ONE_HUNDRED => {
                    Ok(d.normalize().to_string())
                }
                _ => Err(format!(
                    "`{raw}` is not a percentage: write a number from 0 to 100, e.g. 44.6"
                )),
            },
            FieldKind::Whole => {
                let n = raw.replace(',', "").parse::<u64>().map_err(|_| {
                    format!("`{raw}` is not a whole number: write a count such as 12")
                })?;
                check_register_bound(Decimal::from(n), "")?;
                Ok(n.to_string())
            }
            FieldKind::Date => crate::period::parse_date(raw)
                .map(|d| d.to_string())
                .map_err(|e| e.to_string()),
            FieldKind::FinancialYear => {
                FinancialYear::parse(raw)
                    .map(|y| y.to_string())
                    .map_err(|e| match e {
                        PeriodError::OutOfRange { .. } => e.to_string(),
                        _ => format!("`{raw}` is not a financial year: write it as 2025/26"),
                    })
            }
            FieldKind::YesNo => match raw.to_lowercase().as_str() {
                "yes" | "y" | "true" | "1" => Ok("yes".into()),
                "no" | "n" | "false" | "0" => Ok("no".into()),
                _ => Err(format!("`{raw}` is not yes or no: write yes or no")),
            },
            FieldKind::Choice(choices) => {
                let key = choice_key(raw);
                choices
                    .iter()
                    .find(|c| choice_key(c.slug) == key || choice_key(c.label) == key)
                    .map(|c| c.slug.to_string())
                    .ok_or_else(|| {
                        format!(
                            "`{raw}` is not one of the choices: use one of {}",
                            choices
                                .iter()
                                .map(|c| c.slug)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
            }
            FieldKind::Organisation => OdsCode::parse(raw)
                .map(|c| c.to_string())
                .map_err(|e| e.to_string()),
        }
    }
}

/// The largest figure a register field holds: for a unit greenplan knows (`tonnes`, `miles`,
/// `kWh`, `litres`), the bound of its dimension ([`crate::quantity::largest`]); for any other
/// (m², £, gCO2/km, counts) the same 10^12, far above any one NHS record (the whole NHS estate
/// is about 3 × 10^7 m²), so a figure a register carries into the footprint always fits.
fn check_register_bound(value: Decimal, unit: &str) -> Result<(), String> {
    if let Ok(u) = unit.parse::<crate::unit::Unit>() {
        return crate::quantity::check_bound(value, &u).map_err(|e| e.to_string());
    }
    let largest = Decimal::from(1_000_000_000_000i64);
    if value.abs() > largest {
        return Err(format!(
            "`{}` is more than one record can hold: the largest is 1,000,000,000,000{}; check the figure and its unit",
            value.normalize(),
            if unit.is_empty() {
                String::new()
            } else {
                format!(" {unit}")
            }
        ));
    }
    Ok(())
}

/// The longest text a field keeps.
pub const MAX_TEXT: usize = crate::text::MAX_NAME_CHARS;

fn choice_key(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '_'], "-")
}

/// `2025-04-01`, or `01/04/2025` as UK spreadsheets write it: [`crate::period::parse_date`],
/// the one date reader, with its range of years.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    crate::period::parse_date(raw).ok()
}

/// A problem with one field of a record, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's key (the column of a file), or the register's first field for a problem
    /// of the record as a whole.
    pub field: &'static str,
    pub message: String,
}

/// The checks of a register that involve more than one field (an end after its start…).
pub type CrossCheck = fn(&Record) -> Vec<FieldError>;

/// How a plan data point computed from a register names its origin:
/// `register:<register>:<figure key>`.
pub const POINT_REFERENCE: &str = "register:";

/// What a register's metrics are computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricPeriod {
    Year(FinancialYear),
    Quarter(Quarter),
}

impl MetricPeriod {
    pub fn start(self) -> NaiveDate {
        match self {
            Self::Year(y) => y.start(),
            Self::Quarter(q) => q.start(),
        }
    }

    pub fn end(self) -> NaiveDate {
        match self {
            Self::Year(y) => y.end(),
            Self::Quarter(q) => q.end(),
        }
    }

    pub fn year(self) -> FinancialYear {
        match self {
            Self::Year(y) => y,
            Self::Quarter(q) => q.year,
        }
    }

    /// True when `date` falls within the period.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }
}

impl std::fmt::Display for MetricPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Year(y) => write!(f, "{y}"),
            Self::Quarter(q) => write!(f, "{q}"),
        }
    }
}

/// One computed figure of a register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// Stable id within the register (`led-share`).
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// `None`: the whole system.
    pub organisation: Option<OdsCode>,
    pub period: MetricPeriod,
    pub value: Decimal,
    /// The plan metric this figure is a value of, if any.
    pub plan_metric: Option<&'static str>,
    /// How it was worked out (the inputs behind it), for the page and the metric history.
    pub working: String,
}

/// Computes a register's figures for one period over its (live) records.
pub type MetricsFn = fn(&[Record], MetricPeriod) -> Vec<Figure>;

/// Which periods a register's metrics are computed for, from its records.
pub type PeriodsFn = fn(&[Record]) -> Vec<MetricPeriod>;

/// The description of a register.
#[derive(Debug, Clone, Copy)]
pub struct Register {
    /// The register's id in URLs and files (`fleet-vehicles`).
    pub slug: &'static str,
    pub title: &'static str,
    /// The plan's area of focus it belongs to (`travel-and-transport`).
    pub area: &'static str,
    /// What it holds, one or two sentences.
    pub summary: &'static str,
    pub fields: &'static [Field],
    /// The field that names a record in lists and the audit trail.
    pub name_field: &'static str,
    /// A choice field the list can be filtered by.
    pub filter_field: Option<&'static str>,
    pub cross_check: Option<CrossCheck>,
    pub metrics: MetricsFn,
    pub periods: PeriodsFn,
}

impl Register {
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The column names of files, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.key).collect()
    }

    /// Validates raw values (from a form or a file row), field by field: every problem is
    /// reported, each with its fix.
    pub fn parse<'a>(
        &'static self,
        raw: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Record, Vec<FieldError>> {
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for f in self.fields {
            match raw(f.key).map(str::trim).filter(|v| !v.is_empty()) {
                None if f.required => errors.push(FieldError {
                    field: f.key,
                    message: format!("{} is required: fill it in", f.label),
                }),
                None => {}
                Some(v) => match f.parse(v) {
                    Ok(canonical) => {
                        values.insert(f.key, canonical);
                    }
                    Err(message) => errors.push(FieldError {
                        field: f.key,
                        message: format!("{}: {message}", f.label),
                    }),
                },
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let record = Record {
            register: self,
            values,
        };
        let cross = self.cross_check.map(|c| c(&record)).unwrap_or_default();
        if cross.is_empty() {
            Ok(record)
        } else {
            Err(cross)
        }
    }

    /// The periods with data, each year followed by its quarters where the register dates
    /// its records finely enough.
    pub fn figures(&self, records: &[Record]) -> Vec<Figure> {
        (self.periods)(records)
            .into_iter()
            .flat_map(|p| (self.metrics)(records, p))
            .collect()
    }

    /// The figures of the system (`None`) or one organisation, latest year first, each year
    /// before its quarters (latest first): the order the register page and the command line
    /// list them in.
    pub fn figures_of(&self, records: &[Record], organisation: Option<&OdsCode>) -> Vec<Figure> {
        let mut figures: Vec<Figure> = self
            .figures(records)
            .into_iter()
            .filter(|f| f.organisation.as_ref() == organisation)
            .collect();
        figures.sort_by_key(|f| {
            let quarter = match f.period {
                MetricPeriod::Year(_) => 0,
                MetricPeriod::Quarter(q) => 5 - q.number,
            };
            (std::cmp::Reverse(f.period.year()), quarter)
        });
        figures
    }
}

/// A validated record of a register: each value as canonical text.
#[derive(Debug, Clone)]
pub struct Record {
    pub register: &'static Register,
    values: BTreeMap<&'static str, String>,
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.register.slug == other.register.slug && self.values == other.values
    }
}

impl Eq for Record {}

impl Record {
    /// The canonical text of a field, `None` when blank.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Every value, by field key (what the store keeps).
    pub fn values(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The owning organisation (every register has an `organisation` field).
    pub fn organisation(&self) -> Option<OdsCode> {
        self.text("organisation")
            .and_then(|o| OdsCode::parse(o).ok())
    }

    /// What names the record in lists.
    pub fn name(&self) -> &str {
        self.text(self.register.name_field).unwrap_or("")
    }

    /// A decimal field (canonical text always parses).
    pub fn decimal(&self, key: &str) -> Option<Decimal> {
        self.text(key).and_then(|t| t.parse().ok())
    }

    pub fn whole(&self, key: &str) -> Option<u64> {
        self.text(key).and_then(|t| t.parse().ok())
    }

    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        self.text(key).and_then(|t| t.parse().ok())
    }

    pub fn year(&self, key: &str) -> Option<FinancialYear> {
        self.text(key).and_then(|t| FinancialYear::parse(t).ok())
    }

    pub fn yes(&self, key: &str) -> bool {
        self.text(key) == Some("yes")
    }

    /// A choice field's slug.
    pub fn choice(&self, key: &str) -> Option<&str> {
        self.text(key)
    }

    /// Whether the record matches a search text (any field, case-insensitive).
    pub fn matches(&self, search: &str) -> bool {
        let needle = search.trim().to_lowercase();
        needle.is_empty()
            || self.values.iter().any(|(k, v)| {
                let shown = self
                    .register
                    .field(k)
                    .map_or_else(|| v.clone(), |f| f.display(v));
                shown.to_lowercase().contains(&needle)
            })
    }
}

/// Sums of a figure per organisation and for the system, made into [`Figure`]s: the pattern
/// every register's metrics follow.
pub(crate) struct FigureMaker {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub plan_metric: Option<&'static str>,
    /// The organisation whose figure is the plan metric's value (an organisation's own
    /// metric, e.g. DCHS's lease cars); `None`: the system figure is.
    pub plan_organisation: Option<&'static str>,
}

impl FigureMaker {
    pub const fn new(key: &'static str, label: &'static str, unit: &'static str) -> Self {
        Self {
            key,
            label,
            unit,
            plan_metric: None,
            plan_organisation: None,
        }
    }

    /// Feeds the plan metric `id` (with the system figure).
    pub const fn feeds(mut self, id: &'static str) -> Self {
        self.plan_metric = Some(id);
        self
    }

    /// Feeds the plan metric `id` with `organisation`'s figure.
    pub const fn feeds_for(mut self, id: &'static str, organisation: &'static str) -> Self {
        self.plan_metric = Some(id);
        self.plan_organisation = Some(organisation);
        self
    }

    /// One figure per organisation (`per_org` = true) and one for the system, each from
    /// `compute` over the records of that scope; `None` from `compute` means no figure.
    pub fn each_scope(
        &self,
        records: &[&Record],
        period: MetricPeriod,
        compute: impl Fn(&[&Record]) -> Option<(Decimal, String)>,
    ) -> Vec<Figure> {
        let mut orgs: Vec<OdsCode> = records.iter().filter_map(|r| r.organisation()).collect();
        orgs.sort();
        orgs.dedup();
        let scopes = orgs.into_iter().map(Some).chain(std::iter::once(None));
        scopes
            .filter_map(|org| {
                let scoped: Vec<&Record> = records
                    .iter()
                    .copied()
                    .filter(|r| org.is_none() || r.organisation() == org)
                    .collect();
                let (value, working) = compute(&scoped)?;
                Some(Figure {
                    key: self.key,
                    label: self.label,
                    unit: self.unit,
                    plan_metric: self
                        .plan_metric
                        .filter(|_| org.as_ref().map(OdsCode::as_str) == self.plan_organisation),
                    organisation: org,
                    period,
                    value,
                    working,
                })
            })
            .collect()
    }
}

/// `part` as a percentage of `whole`, to one decimal place (`None` when `whole` is zero).
pub fn share(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        None
    } else {
        Some((part * Decimal::ONE_HUNDRED / whole).round_dp(1))
    }
}

/// The latest of each group (by `date`): a standing count (staff trained, people signed up) is
/// read from its latest return in a period, never summed with the earlier ones.
pub fn latest_each<'a, T, K: Ord>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> K,
    date: impl Fn(&T) -> Option<NaiveDate>,
) -> Vec<&'a T> {
    let mut latest: BTreeMap<K, &'a T> = BTreeMap::new();
    for item in items {
        let slot = latest.entry(key(item)).or_insert(item);
        if date(item) > date(slot) {
            *slot = item;
        }
    }
    latest.into_values().collect()
}

/// Checks a count against the whole it is part of (staff trained of headcount, people
/// registered of those eligible): the whole is more than 0 and the part no more than it.
pub(crate) fn part_of_whole(
    r: &Record,
    part: &'static str,
    whole: &'static str,
    same: &str,
) -> Vec<FieldError> {
    let label = |k: &str| r.register.field(k).map_or("", |f| f.label);
    let (p, w) = (r.whole(part).unwrap_or(0), r.whole(whole).unwrap_or(0));
    let message = if w == 0 {
        format!("{}: give a figure more than 0", label(whole))
    } else if p > w {
        format!(
            "{}: {p} is more than {} ({w}); check both figures are for {same}",
            label(part),
            label(whole)
        )
    } else {
        return Vec::new();
    };
    let field = if w == 0 { whole } else { part };
    vec![FieldError { field, message }]
}

/// The financial years of a date field's values, each followed by its quarters.
pub(crate) fn years_and_quarters(records: &[Record], key: &str) -> Vec<MetricPeriod> {
    let mut quarters: Vec<Quarter> = records
        .iter()
        .filter_map(|r| r.date(key))
        .map(Quarter::containing)
        .collect();
    quarters.sort();
    quarters.dedup();
    let mut years: Vec<FinancialYear> = quarters.iter().map(|q| q.year).collect();
    years.dedup();
    years
        .into_iter()
        .flat_map(|y| {
            std::iter::once(MetricPeriod::Year(y)).chain(
                quarters
                    .iter()
                    .filter(move |q| q.year == y)
                    .map(|q| MetricPeriod::Quarter(*q)),
            )
        })
        .collect()
}

/// The financial years of a financial-year field's values.
pub(crate) fn years_of(records: &[Record], key: &str) -> Vec<MetricPeriod> {
    let mut years: Vec<FinancialYear> = records.iter().filter_map(|r| r.year(key)).collect();
    years.sort();
    years.dedup();
    years.into_iter().map(MetricPeriod::Year).collect()
}

/// The organisation field every register starts with.
pub const ORGANISATION: Field = Field::new("organisation", "Organisation", FieldKind::Organisation)
    .hint("ODS code of the organisation that owns the record, e.g. RY8");

/// A cross-check: `end` is not before `start` when both are given.
pub(crate) fn end_not_before_start(
    record: &Record,
    start: &'static str,
    end: &'static str,
) -> Option<FieldError> {
    match (record.date(start), record.date(end)) {
        (Some(s), Some(e)) if e < s => Some(FieldError {
            field: end,
            message: format!("the date ({e}) is before {start} ({s}): check the two dates"),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
