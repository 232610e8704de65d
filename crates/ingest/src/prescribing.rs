//! English Prescribing Dataset (EPD) files as NHSBSA publishes them, and the inhaler product
//! table.
//!
//! An EPD month is well over 10 million rows (several GB), mostly not inhalers, so the reader
//! streams: the reading thread only decompresses (`.gz`, `.zip`) and cuts the text into
//! blocks of whole records (a cut is never inside a quoted field); one worker per core splits
//! the blocks into rows, keeps the inhaler rows and sums them per month × practice × BNF
//! presentation. Memory is a few blocks plus those sums, whatever the size of the file.
//!
//! Columns are found by name, so the layouts of different years all read: `ICB_CODE`,
//! `STP_CODE` or `AREA_TEAM_CODE` for the ICB level, `PCO_CODE` for the sub-ICB location.
//! `SNOMED_CODE` is never read as a number. Every row is checked for its shape and month;
//! inhaler rows for their numbers. A file with any bad row gives every problem (file, row,
//! column, the fix) and nothing else: callers store all of a file or none of it.

use crate::error::{IngestError, MAX_LISTED_ERRORS, RowError};
use crate::table::column_key;
use greenplan_core::inhaler::{
    Device, InhalerProduct, InhalerTable, PrescribedQuantity, looks_like_inhaler,
};
use greenplan_core::period::YearMonth;
use greenplan_core::prescribing::{PracticeInfo, Prescribing};
use greenplan_core::quantity::parse_decimal;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

/// The inhaler product table shipped with greenplan (see `data/inhalers/README.md`).
pub const BUILT_IN_INHALERS: &str = include_str!("../../../data/inhalers/inhaler-products.csv");

/// Columns of an inhaler product file.
pub const INHALER_COLUMNS: &[&str] = &[
    "bnf_code",
    "description",
    "device",
    "kgco2e_per_inhaler",
    "doses_per_inhaler",
    "source",
];
/// Optional columns of an inhaler product file.
pub const INHALER_OPTIONAL: &[&str] = &["propellant", "class_default"];

/// The built-in table, extended (and, code by code, overridden) by the user's files.
pub fn inhaler_table(extra: &[&Path]) -> Result<InhalerTable, IngestError> {
    let mut table = built_in_table()?;
    for path in extra {
        table.extend(read_inhaler_file(path)?);
    }
    Ok(table)
}

/// The shipped table, parsed once per process: every inhaler page and footprint starts from it.
fn built_in_table() -> Result<InhalerTable, IngestError> {
    static TABLE: std::sync::OnceLock<InhalerTable> = std::sync::OnceLock::new();
    if let Some(table) = TABLE.get() {
        return Ok(table.clone());
    }
    let table = InhalerTable::new(read_inhalers("built-in inhaler table", BUILT_IN_INHALERS)?);
    Ok(TABLE.get_or_init(|| table).clone())
}

/// Reads a user's inhaler product CSV (the columns of [`INHALER_COLUMNS`]).
pub fn read_inhaler_file(path: &Path) -> Result<Vec<InhalerProduct>, IngestError> {
    let text = crate::source::read_to_string(path, crate::source::FileKind::InhalerProducts)?;
    read_inhalers(&crate::activity::file_name(path), &text)
}

/// Reads an inhaler product CSV; every bad row is reported.
pub fn read_inhalers(file: &str, text: &str) -> Result<Vec<InhalerProduct>, IngestError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| IngestError::Header {
            file: file.into(),
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let header = crate::table::Header::new(file, names, INHALER_COLUMNS, INHALER_OPTIONAL)?;
    let col = |n: &str| header.position(n);
    let mut products = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| IngestError::Header {
            file: file.into(),
            message: e.to_string(),
        })?;
        let row = record.position().map_or(0, |p| p.line());
        let cell = |n: &str| {
            col(n)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut fail = |column: &str, message: String| {
            errors.push(RowError {
                file: file.into(),
                row,
                column: Some(column.into()),
                message,
            })
        };
        let code = cell("bnf_code").unwrap_or_default();
        if code.len() < 9 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            fail(
                "bnf_code",
                format!(
                    "`{code}` is not a BNF code: give the 15-character presentation code, e.g. 0301011R0AAAPAP"
                ),
            );
        }
        let device = cell("device")
            .unwrap_or_default()
            .parse::<Device>()
            .map_err(|e| fail("device", e.to_string()))
            .ok();
        let kg = match cell("kgco2e_per_inhaler").and_then(parse_decimal) {
            Some(v) if v >= Decimal::ZERO => Some(v),
            _ => {
                fail(
                    "kgco2e_per_inhaler",
                    "must be a number of kgCO2e per inhaler, 0 or more, e.g. 25.24".into(),
                );
                None
            }
        };
        let doses = match cell("doses_per_inhaler") {
            None => None,
            Some(v) => match parse_decimal(v) {
                Some(d) if d > Decimal::ZERO => Some(d),
                _ => {
                    fail(
                        "doses_per_inhaler",
                        format!(
                            "`{v}` is not a number of doses: write e.g. 200, or leave it empty"
                        ),
                    );
                    None
                }
            },
        };
        let source = cell("source").unwrap_or_default();
        if source.is_empty() {
            fail("source", "is empty: say where the figure comes from".into());
        }
        if let (Some(device), Some(kg)) = (device, kg) {
            products.push(InhalerProduct {
                bnf_code: code.to_string(),
                description: cell("description").unwrap_or_default().to_string(),
                device,
                propellant: cell("propellant").map(str::to_string),
                kgco2e_per_inhaler: kg,
                doses_per_inhaler: doses,
                source: source.to_string(),
                class_default: cell("class_default")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
            });
        }
    }
    if errors.is_empty() {
        Ok(products)
    } else {
        Err(IngestError::rows(errors))
    }
}

/// What to keep of an EPD file.
#[derive(Debug, Clone, Copy)]
pub struct EpdOptions<'a> {
    /// Keep only this ICB's rows (its `ICB_CODE`, `STP_CODE` or `AREA_TEAM_CODE`).
    pub icb: Option<&'a str>,
    pub table: &'a InhalerTable,
}

/// The inhaler prescribing of one EPD file.
#[derive(Debug, Clone, Default)]
pub struct EpdExtract {
    pub file: String,
    pub data: Prescribing,
    /// Data rows read, and the inhaler rows kept among them.
    pub rows: u64,
    pub inhaler_rows: u64,
}

/// Positions of the columns the reader uses.
#[derive(Debug, Clone)]
struct Columns {
    count: usize,
    year_month: usize,
    practice_code: usize,
    practice_name: Option<usize>,
    pco_code: usize,
    pco_name: Option<usize>,
    icb_code: usize,
    icb_name: Option<usize>,
    bnf_code: usize,
    bnf_description: Option<usize>,
    items: usize,
    quantity: usize,
    total_quantity: usize,
}

impl Columns {
    fn of(file: &str, names: &[String]) -> Result<Self, IngestError> {
        let keys: Vec<String> = names.iter().map(|n| column_key(n)).collect();
        let find = |alternatives: &[&str]| {
            alternatives
                .iter()
                .find_map(|a| keys.iter().position(|k| k == a))
        };
        let need = |alternatives: &[&str]| {
            find(alternatives).ok_or_else(|| IngestError::Header {
                file: file.into(),
                message: format!(
                    "this is not an English Prescribing Dataset file: its header has no {} column{}",
                    alternatives
                        .iter()
                        .map(|a| a.to_ascii_uppercase())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    " (download the CSV from the NHSBSA Open Data Portal, English Prescribing Data)"
                ),
            })
        };
        Ok(Self {
            count: names.len(),
            year_month: need(&["year_month"])?,
            practice_code: need(&["practice_code"])?,
            practice_name: find(&["practice_name"]),
            pco_code: need(&["pco_code"])?,
            pco_name: find(&["pco_name"]),
            icb_code: need(&["icb_code", "stp_code", "area_team_code"])?,
            icb_name: find(&["icb_name", "stp_name", "area_team_name"]),
            bnf_code: need(&["bnf_code", "bnf_presentation_code"])?,
            bnf_description: find(&["bnf_description", "bnf_presentation_name"]),
            items: need(&["items"])?,
            quantity: need(&["quantity"])?,
            total_quantity: need(&["total_quantity"])?,
        })
    }
}

/// Bytes per block handed to a worker.
const BLOCK_BYTES: usize = 1 << 20;

/// A block of whole records, numbered in file order.
struct Block {
    seq: usize,
    bytes: Vec<u8>,
}

/// Reads an EPD file (CSV, or CSV inside `.gz` or `.zip`) and sums its inhaler prescribing.
pub fn read_epd(path: &Path, options: EpdOptions<'_>) -> Result<EpdExtract, IngestError> {
    let file = crate::activity::file_name(path);
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    // One open, through the one opener (a regular file within the EPD bound); the magic
    // bytes are read, then the same handle goes back to the start.
    let mut handle = crate::source::open(path, crate::source::FileKind::Prescribing)?;
    let mut magic = [0u8; 4];
    let got = handle.read(&mut magic).map_err(io)?;
    handle.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    match &magic[..got] {
        [0x1f, 0x8b, ..] => {
            let mut gz =
                flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, handle));
            read_stream(&file, &mut gz, options)
        }
        [b'P', b'K', 3, 4] => {
            let mut zip = zip::ZipArchive::new(handle).map_err(|e| IngestError::Header {
                file: file.clone(),
                message: format!("cannot read the zip archive: {e}"),
            })?;
            let index = (0..zip.len())
                .find(|&i| {
                    zip.name_for_index(i)
                        .and_then(Result::ok)
                        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".csv"))
                })
                .ok_or_else(|| IngestError::Header {
                    file: file.clone(),
                    message: "the zip archive holds no .csv file".into(),
                })?;
            let mut entry = zip.by_index(index).map_err(|e| IngestError::Header {
                file: file.clone(),
                message: format!("cannot read the zip archive: {e}"),
            })?;
            let name = format!("{file}:{}", entry.name().unwrap_or_default());
            read_stream(&name, &mut entry, options)
        }
        _ => {
            let mut plain = handle;
            read_stream(&file, &mut plain, options)
        }
    }
}

/// Reads the header, then hands blocks to one worker per core.
fn read_stream(
    file: &str,
    input: &mut dyn Read,
    options: EpdOptions<'_>,
) -> Result<EpdExtract, IngestError> {
    let io = |source| IngestError::Io {
        path: file.into(),
        source,
    };
    let mut carry: Vec<u8> = Vec::with_capacity(BLOCK_BYTES * 2);
    // The header: the first line (EPD headers are never quoted across lines).
    let header_end = loop {
        if let Some(i) = memchr::memchr(b'\n', &carry) {
            break i + 1;
        }
        let before = carry.len();
        input
            .take(BLOCK_BYTES as u64)
            .read_to_end(&mut carry)
            .map_err(io)?;
        if carry.len() == before {
            break carry.len();
        }
    };
    let names: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&carry[..header_end])
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default();
    if names.iter().all(|n| n.trim().is_empty()) {
        return Err(IngestError::Empty {
            file: file.into(),
            expected: "YEAR_MONTH,…,PRACTICE_CODE,…,BNF_CODE,…,ITEMS,TOTAL_QUANTITY,…".into(),
        });
    }
    let columns = Columns::of(file, &names)?;
    carry.drain(..header_end);

    let workers = rayon::current_num_threads().max(1);
    let (to_workers, queue) = mpsc::sync_channel::<Block>(workers * 2);
    let queue = Arc::new(Mutex::new(queue));
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    let (read, summed) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (queue, recycle, columns) = (Arc::clone(&queue), recycle.clone(), &columns);
                scope.spawn(move || {
                    let mut w = Worker::new(columns, options);
                    loop {
                        let next = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => break,
                        };
                        let Ok(block) = next else { break };
                        w.block(&block);
                        let _ = recycle.send(block.bytes);
                    }
                    w
                })
            })
            .collect();
        drop((queue, recycle));
        let read = (|| -> Result<(), IngestError> {
            let mut seq = 0;
            let mut spare: Vec<Vec<u8>> = Vec::new();
            let mut eof = false;
            while !eof {
                while carry.len() < BLOCK_BYTES {
                    let before = carry.len();
                    input
                        .take((BLOCK_BYTES - before) as u64)
                        .read_to_end(&mut carry)
                        .map_err(io)?;
                    if carry.len() == before {
                        eof = true;
                        break;
                    }
                }
                let cut = if eof {
                    carry.len()
                } else {
                    match record_end(&carry) {
                        Some(cut) => cut,
                        // One record longer than a block: read on.
                        None => {
                            let before = carry.len();
                            input
                                .take(BLOCK_BYTES as u64)
                                .read_to_end(&mut carry)
                                .map_err(io)?;
                            eof = carry.len() == before;
                            continue;
                        }
                    }
                };
                if cut == 0 {
                    continue;
                }
                while let Ok(b) = recycled.try_recv() {
                    spare.push(b);
                }
                let mut bytes = spare.pop().unwrap_or_default();
                bytes.clear();
                bytes.extend_from_slice(&carry[..cut]);
                carry.drain(..cut);
                if to_workers.send(Block { seq, bytes }).is_err() {
                    break;
                }
                seq += 1;
            }
            Ok(())
        })();
        drop(to_workers);
        let summed: Vec<Worker<'_>> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (read, summed)
    });
    read?;
    finish(file, summed)
}

/// The end of the last whole record in `bytes`: after the last line feed that is outside
/// quotes. Quotes are rare in EPD (a name with a comma), so counting them is one fast scan.
fn record_end(bytes: &[u8]) -> Option<usize> {
    let mut end = memchr::memrchr(b'\n', bytes)?;
    loop {
        let quotes = memchr::memchr_iter(b'"', &bytes[..end]).count();
        if quotes.is_multiple_of(2) {
            return Some(end + 1);
        }
        // Inside a quoted field: try the line end before.
        end = memchr::memrchr(b'\n', &bytes[..end])?;
    }
}

/// Merges the workers' sums and problems, numbering rows as a spreadsheet would.
fn finish(file: &str, workers: Vec<Worker<'_>>) -> Result<EpdExtract, IngestError> {
    // Lines per block, to turn (block, line in block) into a row number (header = row 1).
    let mut lines: Vec<(usize, u64)> = workers
        .iter()
        .flat_map(|w| w.block_lines.iter().copied())
        .collect();
    lines.sort_unstable();
    let mut first_row = vec![0u64; lines.len()];
    let mut row = 2;
    for (seq, n) in &lines {
        if let Some(slot) = first_row.get_mut(*seq) {
            *slot = row;
        }
        row += n;
    }
    let mut errors: Vec<RowError> = Vec::new();
    let mut total_errors = 0;
    for w in &workers {
        total_errors += w.error_count;
        for (seq, line, column, message) in &w.errors {
            errors.push(RowError {
                file: file.into(),
                row: (first_row.get(*seq).copied().unwrap_or(0) + line).saturating_sub(1),
                column: column.map(str::to_string),
                message: message.clone(),
            });
        }
    }
    if total_errors > 0 {
        errors.sort_by_key(|e| e.row);
        errors.truncate(MAX_LISTED_ERRORS);
        return Err(IngestError::Rows {
            errors,
            total: total_errors,
        });
    }
    let mut out = EpdExtract {
        file: file.into(),
        ..EpdExtract::default()
    };
    for w in workers {
        out.rows += w.rows;
        out.inhaler_rows += w.inhaler_rows;
        out.data.merge(w.into_prescribing());
    }
    Ok(out)
}

/// What a worker knows of a BNF code it has seen.
#[derive(Clone, Copy)]
enum Code {
    /// An inhaler (in the table, or looking like one): its index among the worker's codes.
    Inhaler(u32),
    NotInhaler,
}

/// Problems kept per worker: enough to list, the rest counted.
const KEPT_ERRORS: usize = MAX_LISTED_ERRORS * 4;

/// One worker: its sums and problems.
struct Worker<'a> {
    columns: &'a Columns,
    options: EpdOptions<'a>,
    /// `(block, lines in block)` for every block it read.
    block_lines: Vec<(usize, u64)>,
    rows: u64,
    inhaler_rows: u64,
    codes: HashMap<Vec<u8>, Code>,
    code_names: Vec<(String, String)>,
    practices: HashMap<Vec<u8>, u32>,
    practice_codes: Vec<String>,
    practice_info: HashMap<(YearMonth, u32), PracticeInfo>,
    lines: HashMap<(YearMonth, u32, u32), PrescribedQuantity>,
    /// (block, line in block, column, message).
    errors: Vec<(usize, u64, Option<&'static str>, String)>,
    error_count: usize,
    /// The last month cell read, and its value: files are usually one month.
    last_month: (Vec<u8>, Option<YearMonth>),
}

impl<'a> Worker<'a> {
    fn new(columns: &'a Columns, options: EpdOptions<'a>) -> Self {
        Self {
            columns,
            options,
            block_lines: Vec::new(),
            rows: 0,
            inhaler_rows: 0,
            codes: HashMap::new(),
            code_names: Vec::new(),
            practices: HashMap::new(),
            practice_codes: Vec::new(),
            practice_info: HashMap::new(),
            lines: HashMap::new(),
            errors: Vec::new(),
            error_count: 0,
            last_month: (Vec::new(), None),
        }
    }

    fn fail(&mut self, seq: usize, line: u64, column: Option<&'static str>, message: String) {
        self.error_count += 1;
        if self.errors.len() < KEPT_ERRORS {
            self.errors.push((seq, line, column, message));
        }
    }

    fn block(&mut self, block: &Block) {
        let bytes = &block.bytes;
        let line_feeds = memchr::memchr_iter(b'\n', bytes).count() as u64;
        let lines = line_feeds + u64::from(!bytes.is_empty() && bytes[bytes.len() - 1] != b'\n');
        self.block_lines.push((block.seq, lines));
        if memchr::memchr(b'"', bytes).is_some() {
            self.quoted_block(block);
        } else {
            self.plain_block(block);
        }
    }

    /// A block without quotes: cells are the text between commas.
    fn plain_block(&mut self, block: &Block) {
        let bytes = &block.bytes[..];
        let mut cells: Vec<&[u8]> = Vec::with_capacity(self.columns.count + 1);
        let (mut start, mut line) = (0, 1u64);
        for i in memchr::memchr2_iter(b',', b'\n', bytes) {
            if bytes[i] == b',' {
                cells.push(&bytes[start..i]);
                start = i + 1;
                continue;
            }
            let end = if i > start && bytes[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            if !(cells.is_empty() && end == start) {
                cells.push(&bytes[start..end]);
                self.row(block.seq, line, &cells);
                cells.clear();
            }
            line += 1;
            start = i + 1;
        }
        if start < bytes.len() {
            cells.push(&bytes[start..]);
            self.row(block.seq, line, &cells);
        }
    }

    /// A block with a quoted field somewhere: the csv crate reads it.
    fn quoted_block(&mut self, block: &Block) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&block.bytes[..]);
        let mut record = csv::ByteRecord::new();
        // Lines are counted here rather than taken from the csv crate, which numbers a record
        // after a `\r\n` with the line before it.
        let bytes = &block.bytes[..];
        let (mut counted_to, mut line) = (0usize, 1u64);
        let mut line_at = |offset: usize| {
            // A record starting on the `\n` of a `\r\n` starts on the next line.
            let start = if bytes.get(offset) == Some(&b'\n') {
                offset + 1
            } else {
                offset
            };
            let start = start.max(counted_to);
            line += memchr::memchr_iter(b'\n', &bytes[counted_to..start]).count() as u64;
            counted_to = start;
            line
        };
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = line_at(record.position().map_or(0, |p| p.byte() as usize));
                    let cells: Vec<&[u8]> = record.iter().collect();
                    if cells.len() == 1 && cells[0].is_empty() {
                        continue;
                    }
                    self.row(block.seq, line, &cells);
                }
                Err(e) => {
                    let line = line_at(e.position().map_or(0, |p| p.byte() as usize));
                    self.fail(
                        block.seq,
                        line,
                        None,
                        format!("{e}: check the quoting in this row"),
                    );
                    break;
                }
            }
        }
    }

    /// One data row.
    fn row(&mut self, seq: usize, line: u64, cells: &[&[u8]]) {
        self.rows += 1;
        let c = self.columns;
        if cells.len() != c.count {
            self.fail(
                seq,
                line,
                None,
                format!(
                    "has {} cells but the header has {}: a field with a comma must be in double quotes",
                    cells.len(),
                    c.count
                ),
            );
            return;
        }
        let Some(month) = self.month(cells[c.year_month]) else {
            self.fail(
                seq,
                line,
                Some("YEAR_MONTH"),
                format!(
                    "`{}` is not a month: write it as YYYYMM, e.g. 202504",
                    String::from_utf8_lossy(cells[c.year_month])
                ),
            );
            return;
        };
        let bnf = trim(cells[c.bnf_code]);
        if !bnf.starts_with(b"030") {
            return;
        }
        if let Some(icb) = self.options.icb
            && !trim(cells[c.icb_code]).eq_ignore_ascii_case(icb.as_bytes())
        {
            return;
        }
        let Code::Inhaler(code) = self.code(bnf, cells) else {
            return;
        };
        self.inhaler_rows += 1;
        let number = |column: &'static str, i: usize, this: &mut Self| {
            let text = std::str::from_utf8(cells[i]).ok().map(str::trim);
            match text.and_then(parse_decimal) {
                Some(v) if v >= Decimal::ZERO => Some(v),
                _ => {
                    this.fail(
                        seq,
                        line,
                        Some(column),
                        format!(
                            "`{}` is not a number: it must be 0 or more, digits only",
                            String::from_utf8_lossy(cells[i])
                        ),
                    );
                    None
                }
            }
        };
        let items = std::str::from_utf8(cells[c.items])
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0);
        if items.is_none() {
            self.fail(
                seq,
                line,
                Some("ITEMS"),
                format!(
                    "`{}` is not a number of items: write a whole number, 0 or more",
                    String::from_utf8_lossy(cells[c.items])
                ),
            );
        }
        let quantity = number("QUANTITY", c.quantity, self);
        let total = number("TOTAL_QUANTITY", c.total_quantity, self);
        let (Some(items), Some(quantity), Some(total)) = (items, quantity, total) else {
            return;
        };
        let practice = self.practice(month, cells);
        self.lines
            .entry((month, practice, code))
            .or_default()
            .add(&PrescribedQuantity::line(items, quantity, total));
    }

    fn month(&mut self, cell: &[u8]) -> Option<YearMonth> {
        let cell = trim(cell);
        if self.last_month.0 != cell {
            let parsed = std::str::from_utf8(cell)
                .ok()
                .filter(|s| s.len() == 6)
                .and_then(|s| YearMonth::parse(s).ok());
            self.last_month = (cell.to_vec(), parsed);
        }
        self.last_month.1
    }

    fn code(&mut self, bnf: &[u8], cells: &[&[u8]]) -> Code {
        if let Some(code) = self.codes.get(bnf) {
            return *code;
        }
        let text = String::from_utf8_lossy(bnf).into_owned();
        let description = self
            .columns
            .bnf_description
            .map(|i| String::from_utf8_lossy(trim(cells[i])).into_owned())
            .unwrap_or_default();
        let known = self.options.table.get(&text).is_some();
        let code = if known || looks_like_inhaler(&text, &description) {
            self.code_names.push((text, description));
            Code::Inhaler((self.code_names.len() - 1) as u32)
        } else {
            Code::NotInhaler
        };
        self.codes.insert(bnf.to_vec(), code);
        code
    }

    fn practice(&mut self, month: YearMonth, cells: &[&[u8]]) -> u32 {
        let c = self.columns;
        let code = trim(cells[c.practice_code]);
        let id = match self.practices.get(code) {
            Some(id) => *id,
            None => {
                let id = self.practice_codes.len() as u32;
                self.practice_codes
                    .push(String::from_utf8_lossy(code).into_owned());
                self.practices.insert(code.to_vec(), id);
                id
            }
        };
        self.practice_info.entry((month, id)).or_insert_with(|| {
            let text = |i: Option<usize>| {
                i.map(|i| String::from_utf8_lossy(trim(cells[i])).into_owned())
                    .unwrap_or_default()
            };
            PracticeInfo {
                name: text(c.practice_name),
                sub_icb_code: text(Some(c.pco_code)),
                sub_icb_name: text(c.pco_name),
                icb_code: text(Some(c.icb_code)),
                icb_name: text(c.icb_name),
            }
        });
        id
    }

    fn into_prescribing(self) -> Prescribing {
        let mut p = Prescribing::default();
        for ((month, practice, code), q) in self.lines {
            p.lines.insert(
                (
                    month,
                    self.practice_codes[practice as usize].clone(),
                    self.code_names[code as usize].0.clone(),
                ),
                q,
            );
        }
        for ((month, practice), info) in self.practice_info {
            p.practices.insert(
                (month, self.practice_codes[practice as usize].clone()),
                info,
            );
        }
        for (code, description) in self.code_names {
            p.descriptions.insert(code, description);
        }
        p
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_never_falls_inside_quotes() {
        assert_eq!(record_end(b"a,b\nc,d\ne"), Some(8));
        assert_eq!(record_end(b"a,b\n\"c\nd\",e\nf"), Some(12));
        assert_eq!(record_end(b"a,b\n\"c\nd"), Some(4));
        assert_eq!(record_end(b"abc"), None);
    }

    #[test]
    fn the_built_in_table_reads_and_every_figure_has_a_source() {
        let table = inhaler_table(&[]).unwrap();
        assert!(table.len() > 100);
        let ventolin = table.get("0301011R0BEAIAP").unwrap();
        assert_eq!(ventolin.kgco2e_per_inhaler, Decimal::new(2826, 2));
        assert!(!ventolin.class_default);
        assert!(table.products().iter().all(|p| !p.source.is_empty()));
        assert!(table.products().iter().any(|p| p.class_default));
    }
}
