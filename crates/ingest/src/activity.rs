//! Activity data files (CSV or XLSX) with the header
//! `organisation,site,period_start,period_end,activity,quantity,unit`
//! and optional `edition,category,notes,market_factor`.
//!
//! Each row is checked on its own (dates, number, unit, category, the period rules of
//! `greenplan_core::activity`) and every problem of every row is reported together. Resolving
//! the activity to a factor needs the factor set, so it happens where the rows are used
//! (`greenplan-store` on import; [`footprint_of_file`] for the no-storage check).

use crate::error::{IngestError, RowError};
use crate::table::{self, Header, Row};
use chrono::NaiveDate;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::category::NhsCategory;
use greenplan_core::factor::FactorSet;
use greenplan_core::footprint::{Emission, Resolver};
use greenplan_core::ods::OdsCode;
use greenplan_core::quantity::parse_decimal;
use greenplan_core::unit::Unit;
use rayon::prelude::*;
use std::path::Path;

/// Columns every activity file has.
pub const REQUIRED: &[&str] = &[
    "organisation",
    "site",
    "period_start",
    "period_end",
    "activity",
    "quantity",
    "unit",
];
/// Columns an activity file may have.
pub const OPTIONAL: &[&str] = &["edition", "category", "notes", "market_factor"];

/// Positions of the activity columns in a header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    organisation: usize,
    site: usize,
    period_start: usize,
    period_end: usize,
    activity: usize,
    quantity: usize,
    unit: usize,
    edition: Option<usize>,
    category: Option<usize>,
    notes: Option<usize>,
    market_factor: Option<usize>,
}

impl Columns {
    fn of(header: &Header) -> Self {
        let req = |n: &str| header.position(n).unwrap_or(usize::MAX);
        Self {
            organisation: req("organisation"),
            site: req("site"),
            period_start: req("period_start"),
            period_end: req("period_end"),
            activity: req("activity"),
            quantity: req("quantity"),
            unit: req("unit"),
            edition: header.position("edition"),
            category: header.position("category"),
            notes: header.position("notes"),
            market_factor: header.position("market_factor"),
        }
    }
}

/// An open activity file, yielding one result per non-blank data row.
pub struct ActivityFile {
    file: std::sync::Arc<str>,
    columns: Columns,
    rows: table::Rows,
}

impl ActivityFile {
    /// Opens a CSV or XLSX activity file and checks its header.
    pub fn open(path: &Path) -> Result<Self, IngestError> {
        let (header, rows) = table::open(path, REQUIRED, OPTIONAL)?;
        Ok(Self {
            file: file_name(path).into(),
            columns: Columns::of(&header),
            rows,
        })
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// Up to `n` non-blank rows, unparsed (to parse them on other threads).
    fn raw_batch(&mut self, n: usize) -> Result<Vec<Row>, IngestError> {
        let mut batch = Vec::with_capacity(n);
        while batch.len() < n {
            match self.rows.next() {
                None => break,
                Some(row) => {
                    let row = row?;
                    if !row.is_blank() {
                        batch.push(row);
                    }
                }
            }
        }
        Ok(batch)
    }
}

impl Iterator for ActivityFile {
    /// A row, or the problems with it; an `IngestError` stops the file (bad encoding, broken CSV).
    type Item = Result<Result<Activity, Vec<RowError>>, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let row = match self.rows.next()? {
                Ok(row) => row,
                Err(e) => return Some(Err(e)),
            };
            if row.is_blank() {
                continue;
            }
            return Some(Ok(parse_row(&self.file, &self.columns, &row)));
        }
    }
}

/// The file name alone, as errors and provenance show it.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn parse_row(
    file: &std::sync::Arc<str>,
    c: &Columns,
    row: &Row,
) -> Result<Activity, Vec<RowError>> {
    let errors = std::cell::RefCell::new(Vec::new());
    let cell = |i: usize| row.cells.get(i).map(|s| s.trim()).filter(|s| !s.is_empty());
    let opt = |i: Option<usize>| i.and_then(cell);
    let mut fail = |column: &str, message: String| {
        errors.borrow_mut().push(RowError {
            file: file.to_string(),
            row: row.number,
            column: Some(column.to_string()),
            message,
        });
    };

    let organisation = match cell(c.organisation) {
        None => {
            fail(
                "organisation",
                "is empty: give the organisation's ODS code, e.g. RTG".into(),
            );
            None
        }
        Some(v) => OdsCode::parse(v)
            .map_err(|e| fail("organisation", e.to_string()))
            .ok(),
    };
    let period_start = date_cell(cell(c.period_start), "period_start", &mut fail);
    let period_end = date_cell(cell(c.period_end), "period_end", &mut fail);
    let activity = cell(c.activity).map(str::to_string);
    if activity.is_none() {
        fail("activity", "is empty: name a factor path, an alias such as natural-gas, or a custom factor's activity".into());
    }
    let quantity = match cell(c.quantity) {
        None => {
            fail("quantity", "is empty: enter the amount used".into());
            None
        }
        Some(v) => parse_decimal(v)
            .ok_or_else(|| fail("quantity", format!("`{v}` is not a number: enter digits only, e.g. 12500 or 12,500.5, without units")))
            .ok(),
    };
    let unit = match cell(c.unit) {
        None => {
            fail("unit", "is empty: give the unit, e.g. kWh or litres".into());
            None
        }
        Some(v) => v
            .parse::<Unit>()
            .map_err(|e| fail("unit", e.to_string()))
            .ok(),
    };
    let category = match opt(c.category) {
        None => None,
        Some(v) => v
            .parse::<NhsCategory>()
            .map_err(|e| fail("category", e.to_string()))
            .ok(),
    };
    let notes = opt(c.notes).map(str::to_string);

    // Read before the `if let`: a borrow in its scrutinee would live through the body.
    let clean = errors.borrow().is_empty();
    if let (
        Some(organisation),
        Some(period_start),
        Some(period_end),
        Some(activity),
        Some(quantity),
        Some(unit),
        true,
    ) = (
        organisation,
        period_start,
        period_end,
        activity,
        quantity,
        unit,
        clean,
    ) {
        let a = Activity {
            origin: RowRef {
                source: file.clone(),
                row: row.number,
            },
            organisation,
            site: cell(c.site).map(str::to_string),
            period_start,
            period_end,
            activity,
            quantity,
            unit,
            edition: opt(c.edition).map(str::to_string),
            category,
            market_factor: opt(c.market_factor).map(str::to_string),
            notes,
        };
        match a.check() {
            Ok(()) => return Ok(a),
            Err(e) => {
                let column = match e {
                    greenplan_core::activity::ActivityError::NegativeNotCorrection(_) => "quantity",
                    _ => "period_end",
                };
                fail(column, e.to_string());
            }
        }
    }
    Err(errors.into_inner())
}

fn date_cell(
    v: Option<&str>,
    column: &str,
    fail: &mut impl FnMut(&str, String),
) -> Option<NaiveDate> {
    match v {
        None => {
            fail(
                column,
                "is empty: give a date as 2024-04-01 or 01/04/2024".into(),
            );
            None
        }
        Some(v) => parse_date(v).or_else(|| {
            fail(
                column,
                format!("`{v}` is not a date: write 2024-04-01 or 01/04/2024 (day first)"),
            );
            None
        }),
    }
}

/// Reads `2024-04-01`, `2024-04-01 00:00:00` (from a workbook) or the UK's `01/04/2024`.
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if let Some(d) = parse_iso_date(v) {
        return Some(d);
    }
    let v = v.split_once(' ').map_or(v, |(d, _)| d);
    let v = v.split_once('T').map_or(v, |(d, _)| d);
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"))
        .ok()
}

/// Rows read per parallel batch when computing straight from a file.
const BATCH: usize = 32 * 1024;

/// Computes the emissions of an activity file without storing anything: the "what will this
/// return add?" check. The reader thread only splits the file into rows; parsing, checking and
/// factor lookup run on all cores, a batch at a time, so memory stays bounded by the batch
/// size. Emissions reach `keep` in file order. Every bad row is reported.
pub fn footprint_of_file(
    path: &Path,
    factors: &FactorSet,
    editions: &[(String, i32)],
    pinned: Option<&str>,
    mut keep: impl FnMut(Emission),
) -> Result<u64, IngestError> {
    let mut file = ActivityFile::open(path)?;
    let (name, columns) = (file.file.clone(), file.columns);
    let mut errors: Vec<RowError> = Vec::new();
    let mut rows = 0u64;
    let convert = |batch: &[Row]| -> Vec<Result<Emission, Vec<RowError>>> {
        batch
            .par_chunks(4096)
            .map_init(
                || Resolver::new(factors, editions.to_vec()).pin(pinned.map(str::to_string)),
                |resolver, chunk| {
                    chunk
                        .iter()
                        .map(|row| {
                            let a = parse_row(&name, &columns, row)?;
                            resolver.emission(&a).map_err(|p| vec![row_error(&a, p)])
                        })
                        .collect::<Vec<_>>()
                },
            )
            .flatten_iter()
            .collect()
    };
    let mut batch = file.raw_batch(BATCH)?;
    while !batch.is_empty() {
        rows += batch.len() as u64;
        // Read the next batch while this one is converted: the reader is the only serial part.
        let (next, results) = rayon::join(|| file.raw_batch(BATCH), || convert(&batch));
        for r in results {
            match r {
                Ok(e) if errors.is_empty() => keep(e),
                Ok(_) => {}
                Err(e) => errors.extend(e),
            }
        }
        batch = next?;
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(IngestError::rows(errors))
    }
}

/// A resolver's problem with a row, as a row error of its file.
pub fn row_error(a: &Activity, p: greenplan_core::activity::RowProblem) -> RowError {
    RowError {
        file: a.origin.source.to_string(),
        row: a.origin.row,
        column: Some(p.column.to_string()),
        message: p.message,
    }
}

/// What checking a whole activity file found.
pub struct FileCheck {
    /// Data rows read.
    pub rows: u64,
    /// Every problem, in file order; empty when the file can be imported.
    pub errors: Vec<RowError>,
    /// The footprint the file adds, by organisation and NHS category.
    pub adds: greenplan_core::footprint::FootprintTable,
}

/// Rows handed over per batch by [`check_file`].
pub const IMPORT_BATCH: usize = 2000;

/// Reads, checks and resolves every row of an activity file, handing valid rows over in
/// batches to `accept` while the file is still clean (once a bad row is found, the rest is only
/// checked, so that every problem is reported). Meant to run on its own thread beside the
/// database writer: `accept` returns `false` to stop early (the writer has gone).
pub fn check_file(
    path: &Path,
    factors: &FactorSet,
    editions: Vec<(String, i32)>,
    mut accept: impl FnMut(Vec<Activity>) -> bool,
    mut progress: impl FnMut(u64),
) -> Result<FileCheck, IngestError> {
    use greenplan_core::footprint::{Aggregator, GroupBy, in_footprint};
    let file = ActivityFile::open(path)?;
    let mut resolver = Resolver::new(factors, editions);
    let mut totals = Aggregator::new(&[GroupBy::Organisation, GroupBy::Category], false);
    let mut errors = Vec::new();
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let mut rows = 0u64;
    for item in file {
        rows += 1;
        if rows.is_multiple_of(10_000) {
            progress(rows);
        }
        let activity = match item? {
            Ok(a) => a,
            Err(row_errors) => {
                errors.extend(row_errors);
                continue;
            }
        };
        match resolver.emission(&activity) {
            Err(p) => errors.push(row_error(&activity, p)),
            Ok(e) => {
                if in_footprint(&e) {
                    totals.add(0, &e);
                }
                if errors.is_empty() {
                    batch.push(activity);
                    if batch.len() == IMPORT_BATCH
                        && !accept(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(IMPORT_BATCH),
                        ))
                    {
                        return Err(IngestError::Header {
                            file: file_name(path),
                            message: "the import was stopped".into(),
                        });
                    }
                }
            }
        }
    }
    if errors.is_empty() && !batch.is_empty() {
        accept(batch);
    }
    progress(rows);
    Ok(FileCheck {
        rows,
        errors,
        adds: totals.finish(),
    })
}

/// `YYYY-MM-DD` read directly: the common case, and chrono's format parser costs more than
/// the rest of a row (measured).
fn parse_iso_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// The footprint table of an activity file without storing it, summed on all cores: each
/// batch is aggregated in parallel and the partial sums merged, so no emission crosses
/// threads. `include` filters emissions (year, organisation, footprint). Use
/// [`footprint_of_file`] when the individual emissions are needed (`--explain`).
pub fn footprint_table_of_file(
    path: &Path,
    factors: &FactorSet,
    editions: &[(String, i32)],
    pinned: Option<&str>,
    by: &[greenplan_core::footprint::GroupBy],
    include: impl Fn(&Emission) -> bool + Sync,
) -> Result<greenplan_core::footprint::FootprintTable, IngestError> {
    use greenplan_core::footprint::Aggregator;
    let mut file = ActivityFile::open(path)?;
    let (name, columns) = (file.file.clone(), file.columns);
    let mut errors: Vec<RowError> = Vec::new();
    let mut total = Aggregator::new(by, false);
    let convert = |batch: &[Row]| -> (Aggregator, Vec<RowError>) {
        batch
            .par_chunks(4096)
            .map_init(
                || Resolver::new(factors, editions.to_vec()).pin(pinned.map(str::to_string)),
                |resolver, chunk| {
                    let mut agg = Aggregator::new(by, false);
                    let mut errors = Vec::new();
                    for row in chunk {
                        match parse_row(&name, &columns, row) {
                            Err(e) => errors.extend(e),
                            Ok(a) => match resolver.emission(&a) {
                                Err(p) => errors.push(row_error(&a, p)),
                                Ok(e) if include(&e) => agg.add(0, &e),
                                Ok(_) => {}
                            },
                        }
                    }
                    (agg, errors)
                },
            )
            .reduce(
                || (Aggregator::new(by, false), Vec::new()),
                |(mut a, mut ea), (b, eb)| {
                    a.merge(b);
                    ea.extend(eb);
                    (a, ea)
                },
            )
    };
    let mut batch = file.raw_batch(BATCH)?;
    while !batch.is_empty() {
        // Read the next batch while this one is converted: the reader is the only serial part.
        let (next, (agg, batch_errors)) = rayon::join(|| file.raw_batch(BATCH), || convert(&batch));
        total.merge(agg);
        errors.extend(batch_errors);
        batch = next?;
    }
    if errors.is_empty() {
        Ok(total.finish())
    } else {
        // Parallel chunks finish in any order: list the problems in file order.
        errors.sort_by_key(|e| e.row);
        Err(IngestError::rows(errors))
    }
}
