//! Activity data files (CSV or XLSX) with the header
//! `organisation,site,period_start,period_end,activity,quantity,unit`
//! and optional `edition,category,notes,market_factor`.
//!
//! Each row is checked on its own (dates, number, unit, category, the period rules of
//! `greenplan_core::activity`) and every problem of every row is reported together. Resolving
//! the activity to a factor needs the factor set, so it happens where the rows are used
//! (`greenplan-store` on import; [`footprint_of_file`] for the no-storage check).
//!
//! The checks are written once ([`parse_fields`]) against cells borrowed from the row, whether
//! the row then becomes an owned [`Activity`] (import, `--explain`) or is summed where it lies
//! ([`footprint_table_of_file`], which allocates nothing per row).

use crate::error::{IngestError, RowError};
use crate::table::{self, Header, Row};
use chrono::NaiveDate;
use greenplan_core::activity::{Activity, ActivityRef};
use greenplan_core::category::NhsCategory;
use greenplan_core::factor::FactorSet;
use greenplan_core::footprint::{Aggregator, Emission, Resolver};
use greenplan_core::ods::OdsCode;
use greenplan_core::quantity::{parse_decimal, trim};
use greenplan_core::text::TextKind;
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
        let (header, rows) =
            table::open(path, crate::source::FileKind::Activity, REQUIRED, OPTIONAL)?;
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
    let fields = parse_fields(file, c, row.number, |i| row.cells.get(i))?;
    Ok(fields.borrowed(file, row.number).to_activity())
}

/// A row's values, checked, with its text borrowed from wherever the row was read: what
/// [`parse_row`] makes an [`Activity`] of, and what [`footprint_table_of_file`] sums without
/// allocating.
struct Fields<'r> {
    organisation: OdsCode,
    site: Option<&'r str>,
    period_start: NaiveDate,
    period_end: NaiveDate,
    activity: &'r str,
    quantity: rust_decimal::Decimal,
    unit: Unit,
    edition: Option<&'r str>,
    category: Option<NhsCategory>,
    market_factor: Option<&'r str>,
    notes: Option<&'r str>,
}

impl<'r> Fields<'r> {
    fn borrowed<'a>(&'a self, source: &'a std::sync::Arc<str>, row: u64) -> ActivityRef<'a>
    where
        'r: 'a,
    {
        ActivityRef {
            source,
            row,
            organisation: &self.organisation,
            site: self.site,
            period_start: self.period_start,
            period_end: self.period_end,
            activity: self.activity,
            quantity: self.quantity,
            unit: &self.unit,
            edition: self.edition,
            category: self.category,
            market_factor: self.market_factor,
            notes: self.notes,
        }
    }
}

/// Checks one row, given its cells by position (`raw`, untrimmed, `None` past the end), and
/// reports every problem with it. The one place the rules of an activity row and their
/// messages are written, whichever way the row was read.
fn parse_fields<'r>(
    file: &std::sync::Arc<str>,
    c: &Columns,
    number: u64,
    raw: impl Fn(usize) -> Option<&'r str>,
) -> Result<Fields<'r>, Vec<RowError>> {
    let errors = std::cell::RefCell::new(Vec::new());
    let cell = |i: usize| raw(i).map(trim).filter(|s| !s.is_empty());
    let opt = |i: Option<usize>| i.and_then(cell);
    let mut fail = |column: &str, message: String| {
        errors.borrow_mut().push(RowError {
            file: file.to_string(),
            row: number,
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
    let activity = cell(c.activity);
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
    // The text columns, by the service's text rules (lengths, no control characters).
    for (column, index, kind) in [
        ("site", Some(c.site), TextKind::Name),
        ("activity", Some(c.activity), TextKind::Name),
        ("edition", c.edition, TextKind::Name),
        ("market_factor", c.market_factor, TextKind::Name),
        ("notes", c.notes, TextKind::Note),
    ] {
        if let Some(Err(e)) = opt(index).map(|v| greenplan_core::text::check(v, kind)) {
            fail(column, e.to_string());
        }
    }

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
        let fields = Fields {
            organisation,
            site: cell(c.site),
            period_start,
            period_end,
            activity,
            quantity,
            unit,
            edition: opt(c.edition),
            category,
            market_factor: opt(c.market_factor),
            notes: opt(c.notes),
        };
        match fields.borrowed(file, number).check() {
            Ok(()) => return Ok(fields),
            Err(e) => {
                let column = match e {
                    greenplan_core::activity::ActivityError::NegativeNotCorrection(_)
                    | greenplan_core::activity::ActivityError::TooLarge(_) => "quantity",
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
/// Years outside `greenplan_core::period::YEARS` are refused, as every date reader does.
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let v = trim(v);
    if let Some(d) = parse_iso_date(v) {
        return greenplan_core::period::check_date(d).ok();
    }
    let v = v.split_once(' ').map_or(v, |(d, _)| d);
    let v = v.split_once('T').map_or(v, |(d, _)| d);
    greenplan_core::period::parse_date(v).ok()
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
    problem_at(&a.origin.source, a.origin.row, p)
}

fn problem_at(file: &str, row: u64, p: greenplan_core::activity::RowProblem) -> RowError {
    RowError {
        file: file.to_string(),
        row,
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

/// Reads, checks and resolves every row of an activity file (`may_submit` says why a row may
/// not be submitted by whoever is importing, e.g. another trust's data), handing valid rows over in
/// batches to `accept` while the file is still clean (once a bad row is found, the rest is only
/// checked, so that every problem is reported). Meant to run on its own thread beside the
/// database writer: `accept` returns `false` to stop early (the writer has gone).
pub fn check_file(
    path: &Path,
    factors: &FactorSet,
    editions: Vec<(String, i32)>,
    may_submit: impl Fn(&Activity) -> Option<String>,
    mut accept: impl FnMut(Vec<Activity>) -> bool,
    mut progress: impl FnMut(u64),
) -> Result<FileCheck, IngestError> {
    use greenplan_core::footprint::{GroupBy, in_footprint};
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
        if let Some(refusal) = may_submit(&activity) {
            errors.push(RowError {
                file: activity.origin.source.to_string(),
                row: activity.origin.row,
                column: Some("organisation".into()),
                message: refusal,
            });
            continue;
        }
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
                        return Err(IngestError::Stopped {
                            file: file_name(path),
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

/// The footprint table of an activity file without storing it, summed on all cores.
/// `include` filters emissions (year, organisation, footprint). Use [`footprint_of_file`]
/// when the individual emissions are needed (`--explain`).
///
/// This is `greenplan footprint --from`, meant to keep up with a database engine over millions
/// of rows, so it is built for throughput:
/// - this thread only reads: for plain CSV, blocks of raw lines ([`table::Batches`]), so
///   the serial part is a copy and a count of line ends;
/// - one worker per rayon thread takes blocks off a bounded queue (memory stays a few blocks)
///   and splits, checks, resolves and sums them with its own [`Resolver`] and [`Aggregator`]
///   for the whole file; the workers' sums are merged once at the end;
/// - rows are checked by the same [`parse_fields`] as everywhere else (same rules, same
///   messages) but never copied into an owned [`Activity`]: the borrowed row goes to
///   [`Resolver::emission_in`], which writes over one emission per worker, and the
///   aggregator finds its line by borrowed key parts. Once warm, a row allocates nothing.
///
/// Sums are exact decimals, so the order in which workers add rows does not change them.
/// Every bad row is reported, in file order; a file that cannot be read (not UTF-8, say)
/// is reported at its first such row, as when reading row by row.
pub fn footprint_table_of_file(
    path: &Path,
    factors: &FactorSet,
    editions: &[(String, i32)],
    pinned: Option<&str>,
    by: &[greenplan_core::footprint::GroupBy],
    include: impl Fn(&Emission) -> bool + Sync,
) -> Result<greenplan_core::footprint::FootprintTable, IngestError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, mpsc};
    let file = ActivityFile::open(path)?;
    let (name, columns) = (file.file.clone(), file.columns);
    let mut batches = file.rows.into_batches()?;
    let workers = rayon::current_num_threads().max(1);
    let (to_workers, queue) = mpsc::sync_channel::<table::Batch>(workers * 2);
    // Held by the workers only: should they all stop (a panic in `include`, say), the queue
    // closes and the reader stops too, rather than wait for room in it for ever.
    let queue = Arc::new(Mutex::new(queue));
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    // Set by a worker that found the file unreadable: the rest need not be read.
    let stop = AtomicBool::new(false);
    let (read, summed) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (recycle, queue) = (recycle.clone(), Arc::clone(&queue));
                let (stop, include) = (&stop, &include);
                let (name, columns) = (&name, &columns);
                scope.spawn(move || {
                    let mut w = Summer::new(name, columns, factors, editions, pinned, by);
                    loop {
                        // A poisoned lock means another worker panicked: its join re-raises
                        // it.
                        let next = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => break,
                        };
                        let Ok(batch) = next else { break };
                        if let Some(buffer) = w.batch(batch, include) {
                            let _ = recycle.send(buffer);
                        }
                        if w.unreadable.is_some() {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    w
                })
            })
            .collect();
        drop((recycle, queue));
        let read = loop {
            if stop.load(Ordering::Relaxed) {
                break Ok(());
            }
            while let Ok(buffer) = recycled.try_recv() {
                batches.recycle(buffer);
            }
            match batches.next_batch() {
                Ok(Some(batch)) => {
                    if to_workers.send(batch).is_err() {
                        break Ok(());
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        drop(to_workers);
        let summed: Vec<Summer<'_>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        (read, summed)
    });

    let mut total = Aggregator::new(by, false);
    let mut errors = Vec::new();
    let mut unreadable: Option<(u64, IngestError)> = None;
    for w in summed {
        total.merge(w.agg);
        errors.extend(w.errors);
        if let Some((row, e)) = w.unreadable
            && unreadable.as_ref().is_none_or(|(r, _)| row < *r)
        {
            unreadable = Some((row, e));
        }
    }
    // What reading row by row would have met first: the reader stops at its error, so a
    // worker's error on an earlier row comes first.
    match (read, unreadable) {
        (Err(e), Some((row, w))) => return Err(if row < error_row(&e) { w } else { e }),
        (Err(e), None) | (Ok(()), Some((_, e))) => return Err(e),
        (Ok(()), None) => {}
    }
    if errors.is_empty() {
        Ok(total.finish())
    } else {
        // Workers finish blocks in any order: list the problems in file order (a row's own
        // problems stay in column order: the sort is stable).
        errors.sort_by_key(|e| e.row);
        Err(IngestError::rows(errors))
    }
}

/// The row an unreadable-file error is at, for ordering; unknown counts as last.
fn error_row(e: &IngestError) -> u64 {
    match e {
        IngestError::Encoding { row, .. } => *row,
        IngestError::Rows { errors, .. } => errors.first().map_or(u64::MAX, |e| e.row),
        _ => u64::MAX,
    }
}

/// One worker of [`footprint_table_of_file`]: its resolver, sums and problems.
struct Summer<'a> {
    file: &'a std::sync::Arc<str>,
    columns: &'a Columns,
    resolver: Resolver<'a>,
    agg: Aggregator,
    /// Reused for every row (see [`Resolver::emission_in`]).
    emission: Option<Emission>,
    errors: Vec<RowError>,
    /// The first row that could not be read as text, and the error to report for it.
    unreadable: Option<(u64, IngestError)>,
}

impl<'a> Summer<'a> {
    fn new(
        file: &'a std::sync::Arc<str>,
        columns: &'a Columns,
        factors: &'a FactorSet,
        editions: &[(String, i32)],
        pinned: Option<&str>,
        by: &[greenplan_core::footprint::GroupBy],
    ) -> Self {
        Self {
            file,
            columns,
            resolver: Resolver::new(factors, editions.to_vec()).pin(pinned.map(str::to_string)),
            agg: Aggregator::new(by, false),
            emission: None,
            errors: Vec::new(),
            unreadable: None,
        }
    }

    /// Sums a batch; gives back a block's buffer for reuse.
    fn batch(
        &mut self,
        batch: table::Batch,
        include: &(impl Fn(&Emission) -> bool + Sync),
    ) -> Option<Vec<u8>> {
        match batch {
            table::Batch::Rows(rows) => {
                for row in rows.iter().filter(|r| !r.is_blank()) {
                    self.row(row.number, |i| row.cells.get(i), include);
                }
                None
            }
            table::Batch::Lines(lines) => {
                match lines.text() {
                    Err(e) => {
                        let row = error_row(&e);
                        if self.unreadable.as_ref().is_none_or(|(r, _)| row < *r) {
                            self.unreadable = Some((row, e));
                        }
                    }
                    Ok(text) => lines.each_row(text, |number, cells| {
                        // As `Row::is_blank`.
                        if !cells.iter().all(|c| trim(c).is_empty()) {
                            self.row(number, |i| cells.get(i).copied(), include);
                        }
                    }),
                }
                Some(lines.into_buffer())
            }
        }
    }

    fn row<'r>(
        &mut self,
        number: u64,
        cells: impl Fn(usize) -> Option<&'r str>,
        include: &(impl Fn(&Emission) -> bool + Sync),
    ) {
        match parse_fields(self.file, self.columns, number, cells) {
            Err(e) => self.errors.extend(e),
            Ok(fields) => {
                let a = fields.borrowed(self.file, number);
                match self.resolver.emission_in(&a, &mut self.emission) {
                    Err(p) => self.errors.push(problem_at(self.file, number, p)),
                    Ok(e) => {
                        if include(e) {
                            self.agg.add(0, e);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenplan_core::category::Scope;
    use greenplan_core::factor::{Factor, GasParts};
    use greenplan_core::footprint::{GroupBy, in_footprint};
    use std::io::Write;

    const HEADER: &str = "organisation,site,period_start,period_end,activity,quantity,unit,edition,category,notes,market_factor\n";

    fn write(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(contents).unwrap();
        f
    }

    /// Custom factors in two editions (one with gas parts, a Scope 2 grid factor and a
    /// tariff), and an official-style natural gas factor whose category comes from its
    /// heading.
    fn factors() -> FactorSet {
        let f = write(
            b"edition,activity,unit,scope,category,kgco2e,kgco2,kgch4,kgn2o\n\
              t-2023,widget,count,3,medical-equipment,2.5,,,\n\
              t-2024,widget,count,3,medical-equipment,2.4,,,\n\
              t-2023,boiler,kWh (Gross CV),1,building-energy,0.18293,0.18256,0.00028,0.00009\n\
              t-2024,boiler,kWh (Gross CV),1,building-energy,0.18290,0.18250,0.00030,0.00010\n\
              t-2023,grid,kWh,2,building-energy,0.20707,,,\n\
              t-2024,grid,kWh,2,building-energy,0.207074,,,\n\
              t-2023,tariff,kWh,2,building-energy,0,,,\n\
              t-2024,tariff,kWh,2,building-energy,0.001,,,\n\
              t-2023,wood,tonnes,outside,outside-of-scopes,61.8,,,\n\
              t-2024,wood,tonnes,outside,outside-of-scopes,61.9,,,\n\
              t-2024,diesel-car,miles,3,fleet-and-business-travel,0.27108,,,\n",
        );
        let mut all = crate::factors::read_custom_factors(f.path()).unwrap();
        for edition in ["t-2023", "t-2024"] {
            all.push(Factor {
                edition: edition.into(),
                scope: Scope::Scope1,
                levels: vec!["Fuels".into(), "Gaseous fuels".into(), "Natural gas".into()],
                column_text: None,
                unit_text: "kWh (Gross CV)".into(),
                unit: "kWh (Gross CV)".parse().unwrap(),
                kgco2e: "0.18292892617449666".parse().unwrap(),
                gases: GasParts::default(),
                activity: None,
                category: None,
                source: "test".into(),
            });
        }
        FactorSet::new(all)
    }

    fn editions() -> Vec<(String, i32)> {
        vec![("t-2023".into(), 2023), ("t-2024".into(), 2024)]
    }

    /// The footprint as `--explain` computes it: owned rows, one at a time.
    fn one_by_one(
        path: &Path,
        set: &FactorSet,
        pinned: Option<&str>,
        by: &[GroupBy],
    ) -> Result<greenplan_core::footprint::FootprintTable, String> {
        let mut agg = Aggregator::new(by, false);
        footprint_of_file(path, set, &editions(), pinned, |e| {
            if in_footprint(&e) {
                agg.add(0, &e);
            }
        })
        .map_err(|e| e.to_string())?;
        Ok(agg.finish())
    }

    fn summed(
        path: &Path,
        set: &FactorSet,
        pinned: Option<&str>,
        by: &[GroupBy],
    ) -> Result<greenplan_core::footprint::FootprintTable, String> {
        footprint_table_of_file(path, set, &editions(), pinned, by, in_footprint)
            .map_err(|e| e.to_string())
    }

    const GOOD: &str = "\
RTG,Main,2023-04-01,2023-04-30,widget,4,count,,,,\n\
 rtg ,Main,2023-05-01,2023-05-31,widget,0.5,units,,,,\n\
RFS,,2024-04-01,2024-04-30,widget,1,count,,,,\n\
\n\
RFS,Annex,2023-06-01,2023-06-30,boiler,2.5,MWh (gross cv),,,,\n\
RFS,Annex,2024-06-01,2024-06-30,boiler,1250.125,kWh (Gross CV),,,,\n\
QJ2,HQ,2023-07-01,2023-07-31,grid,1000,kWh,,,,tariff\n\
QJ2,HQ,2024-07-01,2024-07-31,grid,1000,kWh,,,,tariff\n\
QJ2,HQ,2024-08-01,2024-08-31,grid,12.5,MWh,t-2023,,,\n\
QJ2,HQ,2023-09-01,2023-09-30,natural-gas,100,kWh,,,,\n\
QJ2,HQ,2023-09-01,2023-09-30,natural-gas,-7,kWh,,,Correction: re-read,\n\
C81001,Surgery,01/10/2023,31/10/2023,widget,3,count,,non-medical-equipment,,\n\
C81001,Surgery,2023-10-01,2023-10-31,wood,2,tonnes,,,,\n\
 , , ,,,,,,,,\n\
DERBY-CC,Depot,2024-11-01,2024-11-30,diesel-car,\"1,200\",miles,,,,\n\
DERBY-CC,Depot,2023-11-01 00:00:00,2023-11-30,widget,1e3,count,,,,\n";

    const ALL_BY: &[&[GroupBy]] = &[
        &[GroupBy::Organisation, GroupBy::Scope, GroupBy::Category],
        &[GroupBy::Site, GroupBy::Period],
        &[GroupBy::Gas, GroupBy::Organisation],
        &[],
    ];

    /// Summing borrowed rows on all cores gives the very table owned rows give, whatever the
    /// line ends, quoting or block boundaries.
    #[test]
    fn summed_on_all_cores_as_row_by_row() {
        let set = factors();
        let plain = GOOD.replace("\"1,200\"", "1200");
        let long: String = (0..30_000)
            .map(|i| {
                format!(
                    "R{:02},S{},2023-{:02}-01,2023-{:02}-28,widget,{}.{},count,,,,\n",
                    i % 37,
                    i % 5,
                    4 + i % 9,
                    4 + i % 9,
                    i,
                    i % 1000
                )
            })
            .collect();
        let files = [
            format!("{HEADER}{plain}"),
            format!("{HEADER}{GOOD}"),
            format!("{HEADER}{plain}").replace('\n', "\r\n"),
            format!("{HEADER}{long}{plain}"),
            format!("{HEADER}{long}{GOOD}{long}"),
            format!("{HEADER}{plain}").trim_end().to_string(),
        ];
        for (i, contents) in files.iter().enumerate() {
            let f = write(contents.as_bytes());
            // Every breakdown on the small files; one on the long ones (debug builds are slow).
            let bys = if contents.len() < 10_000 {
                ALL_BY
            } else {
                &ALL_BY[..1]
            };
            for by in bys {
                for pinned in [None, Some("t-2024")] {
                    let expected = one_by_one(f.path(), &set, pinned, by);
                    assert!(expected.is_ok(), "file {i}: {expected:?}");
                    assert_eq!(
                        summed(f.path(), &set, pinned, by),
                        expected,
                        "file {i}, by {by:?}, pinned {pinned:?}"
                    );
                }
            }
        }
    }

    /// Issue 21, class 2: a quantity above its unit's bound is a row error naming the row,
    /// the value and the bound, on every path that reads a file; the bound itself is accepted.
    #[test]
    fn quantities_above_their_bound_are_row_errors() {
        let set = factors();
        let f = write(
            format!(
                "{HEADER}RFS,,2023-06-01,2023-06-30,boiler,79228162514264337593543950335,MWh (Gross CV),,,,\n\
                 RFS,,2023-06-01,2023-06-30,boiler,1000000000,MWh (Gross CV),,,,\n\
                 RFS,,2023-06-01,2023-06-30,boiler,-1000000000001,kWh (Gross CV),,,Correction,\n"
            )
            .as_bytes(),
        );
        for e in [
            one_by_one(f.path(), &set, None, &[]).unwrap_err(),
            summed(f.path(), &set, None, &[]).unwrap_err(),
        ] {
            assert!(
                e.contains("row 2, column `quantity`")
                    && e.contains("79228162514264337593543950335 MWh (Gross CV)")
                    && e.contains("1,000,000,000,000 kWh"),
                "{e}"
            );
            assert!(e.contains("row 4, column `quantity`"), "{e}");
            assert!(!e.contains("row 3"), "the bound itself is accepted: {e}");
        }
    }

    /// Every problem, with the same row numbers and messages, in file order.
    #[test]
    fn bad_rows_are_reported_as_row_by_row() {
        let set = factors();
        let bad = "\
RTG,,2023-04-01,2023-04-30,widget,4,count,,,,\n\
R,,2023-04-01,2023-04-30,widget,4,count,,,,\n\
RTG,,2023-04-31,,widget,lots,furlongs,,nonsense,,\n\
RTG,,2023-04-30,2023-04-01,widget,4,count,,,,\n\
RTG,,2023-03-01,2023-04-30,widget,4,count,,,,\n\
RTG,,2023-04-01,2023-04-30,widget,-4,count,,,,\n\
RTG,,2023-04-01,2023-04-30,unobtainium,4,count,,,,\n\
RTG,,2023-04-01,2023-04-30,widget,4,kWh,,,,\n\
RTG,,2023-04-01,2023-04-30,grid,4,kWh,,,,unobtainium\n\
RTG,,2023-04-01,2023-04-30,widget,4,count,t-1999,,,\n\
,,,,,,,,,,\n\
x\n";
        let long: String = (0..20_000)
            .map(|i| {
                if i % 997 == 0 {
                    format!("RTG,,2023-04-01,2023-04-30,widget,{i}x,count,,,,\n")
                } else {
                    format!("RTG,,2023-04-01,2023-04-30,widget,{i},count,,,,\n")
                }
            })
            .collect();
        let files = [
            format!("{HEADER}{bad}"),
            format!("{HEADER}{bad}").replace('\n', "\r\n"),
            format!("{HEADER}{long}{bad}\"quoted\",,,,,,,,,,\n{long}"),
            format!("{HEADER}{long}{bad}{long}\n\n{long}"),
        ];
        for (i, contents) in files.iter().enumerate() {
            let f = write(contents.as_bytes());
            let by = [GroupBy::Organisation];
            let expected = one_by_one(f.path(), &set, None, &by);
            assert!(expected.is_err(), "file {i}");
            assert_eq!(summed(f.path(), &set, None, &by), expected, "file {i}");
        }
    }

    /// A panic while summing reaches the caller; the reader does not wait for ever for
    /// workers that have stopped.
    #[test]
    fn a_panic_in_a_worker_is_passed_on() {
        let set = factors();
        let rows = "RTG,,2023-04-01,2023-04-30,widget,4,count,,,,\n".repeat(200_000);
        let f = write(format!("{HEADER}{rows}").as_bytes());
        let result = std::panic::catch_unwind(|| {
            footprint_table_of_file(f.path(), &set, &editions(), None, &[], |_| {
                panic!("include failed")
            })
        });
        assert!(result.is_err());
    }

    /// A file that is not UTF-8 is refused at its first such row, however it is read.
    #[test]
    fn unreadable_files_are_reported_at_the_first_bad_row() {
        let set = factors();
        let row = "RTG,,2023-04-01,2023-04-30,widget,4,count,,,,\n";
        let many = row.repeat(40_000);
        let files: Vec<Vec<u8>> = vec![
            [
                HEADER.as_bytes(),
                row.as_bytes(),
                b"RTG,Caf\xe9,2023-04-01,2023-04-30,widget,4,count,,,,\n",
            ]
            .concat(),
            [
                HEADER.as_bytes(),
                many.as_bytes(),
                b"RTG,Caf\xe9,2023-04-01,2023-04-30,widget,4,count,,,,\n",
                many.as_bytes(),
                b"\xff\n",
            ]
            .concat(),
            [
                HEADER.as_bytes(),
                many.as_bytes(),
                b"RTG,,2023-04-01,2023-04-30,widget,x,count,,,,\n",
                many.as_bytes(),
                b"\xff\n",
            ]
            .concat(),
        ];
        for (i, contents) in files.iter().enumerate() {
            let f = write(contents);
            let by = [GroupBy::Organisation];
            let expected = one_by_one(f.path(), &set, None, &by);
            assert!(
                expected.as_ref().is_err_and(|e| e.contains("not UTF-8")),
                "file {i}: {expected:?}"
            );
            assert_eq!(summed(f.path(), &set, None, &by), expected, "file {i}");
        }
    }

    /// Text columns keep to the service's text rules: a site name of 5 MB, or a NUL in the
    /// notes, is a row error naming the column (it was stored, and PostgreSQL failed on the NUL).
    #[test]
    fn text_columns_are_bounded_and_refuse_control_characters() {
        let huge = "x".repeat(5 * 1024 * 1024);
        let contents = format!(
            "{HEADER}RTG,{huge},2023-04-01,2023-04-30,widget,4,count,,,,\n\
             RTG,Main,2023-04-01,2023-04-30,widget,4,count,,,a\u{0}b,\n\
             RTG,Ma\u{1}in,2023-04-01,2023-04-30,widget,4,count,,,,\n\
             RTG,Main site,2023-04-01,2023-04-30,widget,4,count,,,tab\there,\n"
        );
        let f = write(contents.as_bytes());
        let rows: Vec<_> = ActivityFile::open(f.path())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let column = |i: usize| match &rows[i] {
            Err(e) => (e[0].column.clone().unwrap(), e[0].message.clone()),
            Ok(a) => panic!("row {i} accepted: {:?}", a.site),
        };
        let (c, m) = column(0);
        assert_eq!(c, "site");
        assert!(m.contains("the most it may be is 500"), "{m}");
        assert_eq!(column(1).0, "notes");
        assert!(column(1).1.contains("U+0000 (NUL)"), "{}", column(1).1);
        assert_eq!(column(2).0, "site");
        assert!(rows[3].is_ok(), "a tab is text: {:?}", rows[3]);
    }
}
