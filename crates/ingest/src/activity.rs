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
    file: String,
    columns: Columns,
    rows: table::Rows,
}

impl ActivityFile {
    /// Opens a CSV or XLSX activity file and checks its header.
    pub fn open(path: &Path) -> Result<Self, IngestError> {
        let (header, rows) = table::open(path, REQUIRED, OPTIONAL)?;
        Ok(Self {
            file: file_name(path),
            columns: Columns::of(&header),
            rows,
        })
    }

    pub fn file(&self) -> &str {
        &self.file
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

fn parse_row(file: &str, c: &Columns, row: &Row) -> Result<Activity, Vec<RowError>> {
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
                source: file.to_string(),
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
    let v = v.split_once(' ').map_or(v, |(d, _)| d);
    let v = v.split_once('T').map_or(v, |(d, _)| d);
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"))
        .ok()
}

/// Rows read per parallel batch when computing straight from a file.
const BATCH: usize = 32 * 1024;

/// Computes the emissions of an activity file without storing anything: the "what will this
/// return add?" check. Streams the file in batches, converting each batch on all cores, so
/// memory stays bounded by the batch size plus the emissions kept. Every bad row is reported.
pub fn footprint_of_file(
    path: &Path,
    factors: &FactorSet,
    editions: &[(String, i32)],
    pinned: Option<&str>,
    mut keep: impl FnMut(Emission),
) -> Result<u64, IngestError> {
    let file = ActivityFile::open(path)?;
    let mut errors: Vec<RowError> = Vec::new();
    let mut rows = 0u64;
    let mut batch: Vec<Activity> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<Activity>, errors: &mut Vec<RowError>| {
        let results: Vec<Result<Emission, RowError>> = batch
            .par_chunks(4096)
            .flat_map_iter(|chunk| {
                let mut resolver =
                    Resolver::new(factors, editions.to_vec()).pin(pinned.map(str::to_string));
                chunk
                    .iter()
                    .map(|a| resolver.emission(a).map_err(|p| row_error(a, p)))
                    .collect::<Vec<_>>()
            })
            .collect();
        for r in results {
            match r {
                Ok(e) if errors.is_empty() => keep(e),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        batch.clear();
    };
    for item in file {
        rows += 1;
        match item? {
            Ok(a) => batch.push(a),
            Err(row_errors) => errors.extend(row_errors),
        }
        if batch.len() == BATCH {
            flush(&mut batch, &mut errors);
        }
    }
    flush(&mut batch, &mut errors);
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(IngestError::rows(errors))
    }
}

/// A resolver's problem with a row, as a row error of its file.
pub fn row_error(a: &Activity, p: greenplan_core::activity::RowProblem) -> RowError {
    RowError {
        file: a.origin.source.clone(),
        row: a.origin.row,
        column: Some(p.column.to_string()),
        message: p.message,
    }
}
