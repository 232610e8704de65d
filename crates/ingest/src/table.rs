//! Tabular files, CSV or XLSX, read the same way: a header row found by name, then data rows
//! with their spreadsheet row numbers.
//!
//! CSV is streamed (a file of millions of rows is never held in memory); a workbook's first
//! sheet is read whole, as calamine does. Column names are matched case-insensitively, with
//! spaces and underscores treated alike, so `Period Start` and `period_start` are one column.
//!
//! Rows come one at a time ([`Rows`]) or in batches for other threads to parse
//! ([`Rows::into_batches`]). In batches, CSV without quoted fields (what spreadsheets and
//! databases write for plain data) is handed over as blocks of raw lines ([`Lines`]): the
//! reading thread only copies bytes and counts line ends, and splitting rows into cells, UTF-8
//! checks and everything after run on the threads that parse. A block with a quote, or a
//! carriage return that does not end a line, is read record by record by the csv crate from
//! there on, so quoted fields (which may hold commas and line breaks) are read exactly as
//! before. Either way a row gets the same cells and the same row number.

use crate::error::{IngestError, RowError};
use crate::source::{self, FileKind, SourceFile};
use calamine::{Data, Reader, open_workbook_auto_from_rs};
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// A header: column names and their positions.
#[derive(Debug, Clone)]
pub struct Header {
    pub names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    /// Builds the header, refusing duplicate and missing required columns.
    pub fn new(
        file: &str,
        names: Vec<String>,
        required: &[&str],
        optional: &[&str],
    ) -> Result<Self, IngestError> {
        let mut index = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            let key = column_key(n);
            if key.is_empty() {
                continue;
            }
            if index.insert(key, i).is_some() {
                return Err(IngestError::Header {
                    file: file.to_string(),
                    message: format!(
                        "the column `{}` appears twice in the header: delete or rename one of them",
                        n.trim()
                    ),
                });
            }
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !index.contains_key(&column_key(r)))
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::Header {
                file: file.to_string(),
                message: format!(
                    "the header is missing {}: it must be {}{}",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    required.join(","),
                    if optional.is_empty() {
                        String::new()
                    } else {
                        format!(" (optional: {})", optional.join(","))
                    }
                ),
            });
        }
        Ok(Self { names, index })
    }

    /// Position of a column, if present.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(&column_key(name)).copied()
    }
}

/// `Period Start`, `period_start` and ` PERIOD_START ` are one column.
pub fn column_key(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// A data row: its spreadsheet row number and its cells as text.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u64,
    /// One buffer for the whole row: a CSV row costs two allocations, not one per cell.
    pub cells: csv::StringRecord,
}

impl Row {
    /// The trimmed cell of a column, `None` when absent or blank.
    pub fn get<'a>(&'a self, header: &Header, name: &str) -> Option<&'a str> {
        let i = header.position(name)?;
        self.cells
            .get(i)
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// Hands each row of a file the user wrote to `each`, with `fail(column, message)` to report
/// a problem of that row; blank rows are skipped. Returns every problem, the reader's own
/// (a row it could not read) included; a file it cannot read at all is an error.
pub fn for_each_row(
    file: &str,
    rows: impl Iterator<Item = Result<Row, IngestError>>,
    mut each: impl FnMut(&Row, &mut dyn FnMut(&str, String)),
) -> Result<Vec<RowError>, IngestError> {
    let mut errors = Vec::new();
    for row in rows {
        let row = match row {
            Ok(r) => r,
            Err(IngestError::Rows { errors: e, .. }) => {
                errors.extend(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if row.is_blank() {
            continue;
        }
        let mut fail = |column: &str, message: String| {
            errors.push(RowError {
                file: file.to_string(),
                row: row.number,
                column: Some(column.to_string()),
                message,
            });
        };
        each(&row, &mut fail);
    }
    Ok(errors)
}

/// What a file the user wrote gives: every item when no row has a problem, otherwise every
/// problem and nothing else (an import is all or nothing); no item at all is an error that
/// names the `expected` header.
pub fn all_or_nothing<T>(
    file: String,
    expected: String,
    items: Vec<T>,
    errors: Vec<RowError>,
) -> Result<Vec<T>, IngestError> {
    if !errors.is_empty() {
        return Err(IngestError::rows(errors));
    }
    if items.is_empty() {
        return Err(IngestError::Empty { file, expected });
    }
    Ok(items)
}

/// A file of rows: a streamed CSV or a loaded worksheet.
pub enum Rows {
    Csv {
        file: String,
        reader: Box<csv::Reader<BufReader<SourceFile>>>,
        record: csv::ByteRecord,
        end: FileEnd,
    },
    Sheet {
        rows: std::vec::IntoIter<Row>,
    },
}

impl Iterator for Rows {
    type Item = Result<Row, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Rows::Sheet { rows } => rows.next().map(Ok),
            Rows::Csv {
                file,
                reader,
                record,
                end,
            } => match reader.read_byte_record(record) {
                Ok(false) => None,
                Ok(true) => {
                    let number = start_line(reader, record, *end);
                    strip_carriage_return(record);
                    // Hand over the filled record and read the next into a fresh one sized
                    // like it: two allocations a row, not one per cell.
                    let fresh =
                        csv::ByteRecord::with_capacity(record.as_slice().len(), record.len());
                    match csv::StringRecord::from_byte_record(std::mem::replace(record, fresh)) {
                        Ok(cells) => Some(Ok(Row { number, cells })),
                        Err(_) => Some(Err(IngestError::Encoding {
                            file: file.clone(),
                            row: number,
                        })),
                    }
                }
                Err(e) => Some(Err(csv_error(file, e))),
            },
        }
    }
}

/// The line a record starts on. The csv reader numbers a record with the line it was on when
/// it began reading it, which is before any empty lines it skipped on the way; those are the
/// line ends it consumed beyond the record's own (inside quoted cells, and its terminator,
/// which a record at the very end of a file may lack).
fn start_line<R: std::io::Read>(
    reader: &csv::Reader<R>,
    record: &csv::ByteRecord,
    end: FileEnd,
) -> u64 {
    let Some(start) = record.position() else {
        return 0;
    };
    let consumed = reader.position().line() - start.line();
    let inside = memchr::memchr_iter(b'\n', record.as_slice()).count() as u64;
    let unterminated = end.unterminated && reader.position().byte() >= end.len;
    let terminator = u64::from(!unterminated);
    start.line() + consumed.saturating_sub(inside + terminator)
}

/// How a CSV file ends: its length, and whether its last line lacks a line end (then its
/// last record has no terminator, which the csv reader does not say).
#[derive(Debug, Clone, Copy)]
pub struct FileEnd {
    len: u64,
    unterminated: bool,
}

impl FileEnd {
    fn of(file: &mut SourceFile) -> std::io::Result<Self> {
        let len = file.len;
        let mut last = [b'\n'];
        if len > 0 {
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            file.seek(SeekFrom::Start(0))?;
        }
        Ok(Self {
            len,
            unterminated: last[0] != b'\n',
        })
    }
}

/// Lines end at `\n` only (see [`csv_reader`]), so a Windows line end leaves its `\r` on
/// the last cell: take it off.
fn strip_carriage_return(record: &mut csv::ByteRecord) {
    let Some(last) = record.len().checked_sub(1) else {
        return;
    };
    if let Some(cell) = record.get(last)
        && let Some(kept) = cell.strip_suffix(b"\r")
    {
        let kept = kept.to_vec();
        record.truncate(last);
        record.push_field(&kept);
    }
}

/// A CSV reader whose records end at `\n`. With the csv crate's default (`\r`, `\n` or
/// `\r\n`) a record ends at the `\r` of a Windows line end and its line count lags one
/// line behind, so rows from Excel on Windows were reported one row too early.
fn csv_reader(handle: SourceFile) -> csv::Reader<BufReader<SourceFile>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(BufReader::with_capacity(1 << 16, handle))
}

/// Bytes of CSV read per [`Lines`] block (more when one line is longer).
pub const BLOCK_BYTES: usize = 1 << 20;

/// Rows per batch when rows are read one by one.
pub const BATCH_ROWS: usize = 16 * 1024;

/// Rows handed over in bulk, to be parsed on other threads.
pub enum Batch {
    /// Whole lines of CSV without quoted fields, as read.
    Lines(Lines),
    /// Rows read one by one: a workbook, or CSV from its first quoted field on.
    Rows(Vec<Row>),
}

/// A block of whole CSV lines with no quote character and no carriage return except before
/// a line feed. In such text the csv reader reads each non-empty line as one record, with the
/// cells between commas as they are, so [`Lines::each_row`] gives the same cells without it.
/// A row's number is the line it is on, whichever way it is read.
#[derive(Debug)]
pub struct Lines {
    /// The file, as errors name it.
    file: std::sync::Arc<str>,
    /// The line the first byte is on (1-based).
    first_line: u64,
    bytes: Vec<u8>,
}

impl Lines {
    /// The text, or the error for the first record that is not UTF-8 (with the row it has
    /// when read record by record).
    pub fn text(&self) -> Result<&str, IngestError> {
        std::str::from_utf8(&self.bytes).map_err(|e| IngestError::Encoding {
            file: self.file.to_string(),
            row: self.number_at(e.valid_up_to()),
        })
    }

    /// The row number of the record that holds byte `at`: the line it is on.
    fn number_at(&self, at: usize) -> u64 {
        self.first_line + count_line_feeds(&self.bytes[..at])
    }

    /// Calls `f` with the row number and cells of each record of `text` (from
    /// [`Lines::text`]), the line end left out. Empty lines are skipped, as the csv crate
    /// skips them; lines of blank cells are not (callers skip them as they skip blank rows).
    /// One pass finds both commas and line ends (memchr2), so a row costs a few steps per
    /// cell rather than one per byte.
    pub fn each_row<'t>(&self, text: &'t str, mut f: impl FnMut(u64, &[&'t str])) {
        let bytes = text.as_bytes();
        let mut cells: Vec<&'t str> = Vec::with_capacity(16);
        let mut line = self.first_line;
        let mut start = 0;
        for i in memchr::memchr2_iter(b',', b'\n', bytes) {
            if bytes[i] == b',' {
                cells.push(&text[start..i]);
                start = i + 1;
                continue;
            }
            // `\r\n`: the `\r` is no part of the last cell.
            let cr = i > start && bytes[i - 1] == b'\r';
            let end = if cr { i - 1 } else { i };
            if cells.is_empty() && end == start {
                // An empty line: no record.
            } else {
                cells.push(&text[start..end]);
                f(line, &cells);
                cells.clear();
            }
            line += 1;
            start = i + 1;
        }
        // The last line of a file without a line end (a block has no `\r` there).
        if start < bytes.len() || !cells.is_empty() {
            cells.push(&text[start..]);
            f(line, &cells);
        }
    }

    /// The buffer, emptied, to be given back with [`Batches::recycle`].
    pub fn into_buffer(mut self) -> Vec<u8> {
        self.bytes.clear();
        self.bytes
    }
}

/// Line feeds in `bytes`. This runs on the reading thread, the one serial part of reading in
/// batches: counted in runs of 255 into a byte, which the compiler turns into vector
/// instructions (a plain `filter().count()` was not, and cost 3 instructions a byte).
fn count_line_feeds(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|run| {
            let n = run
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')));
            u64::from(n)
        })
        .sum()
}

/// The rows of a file in batches: see [`Rows::into_batches`].
pub struct Batches {
    state: BatchState,
}

enum BatchState {
    /// Reading blocks of lines straight from the file.
    Lines {
        file: String,
        /// The same, shared by the blocks.
        shared_file: std::sync::Arc<str>,
        reader: Box<csv::Reader<BufReader<SourceFile>>>,
        /// Where the next block starts: byte offset and the line it is on.
        offset: u64,
        line: u64,
        /// The start of a line read past the end of the previous block.
        carry: Vec<u8>,
        eof: bool,
        spare: Vec<Vec<u8>>,
        /// Bytes per block: [`BLOCK_BYTES`], less in tests to cross many block ends.
        block_bytes: usize,
        end: FileEnd,
    },
    /// Reading row by row.
    Rows(Rows),
    /// Between the two (only while switching).
    Switching,
}

impl Rows {
    /// The rest of the rows in batches, for parsing on other threads: blocks of raw lines
    /// while a CSV file allows it (see the module documentation), rows otherwise.
    pub fn into_batches(self) -> Result<Batches, IngestError> {
        let state = match self {
            Rows::Csv {
                file,
                mut reader,
                end,
                ..
            } => {
                // The csv reader has read ahead into its buffer: carry on from where it says
                // the next record starts.
                let at = reader.position().clone();
                reader
                    .get_mut()
                    .seek(SeekFrom::Start(at.byte()))
                    .map_err(|source| IngestError::Io {
                        path: file.clone().into(),
                        source,
                    })?;
                BatchState::Lines {
                    shared_file: file.as_str().into(),
                    file,
                    reader,
                    offset: at.byte(),
                    line: at.line(),
                    carry: Vec::new(),
                    eof: false,
                    spare: Vec::new(),
                    block_bytes: BLOCK_BYTES,
                    end,
                }
            }
            rows @ Rows::Sheet { .. } => BatchState::Rows(rows),
        };
        Ok(Batches { state })
    }
}

impl Batches {
    /// The next batch, `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, IngestError> {
        match &mut self.state {
            BatchState::Rows(rows) => rows_batch(rows),
            BatchState::Switching => Ok(None),
            BatchState::Lines {
                file,
                shared_file,
                reader,
                offset,
                line,
                carry,
                eof,
                spare,
                block_bytes,
                ..
            } => {
                let mut block = spare.pop().unwrap_or_default();
                block.clear();
                block.reserve(*block_bytes + *block_bytes / 8);
                block.append(carry);
                let mut target = *block_bytes;
                let end = loop {
                    while block.len() < target && !*eof {
                        let want = (target - block.len()) as u64;
                        let got = reader
                            .get_mut()
                            .get_mut()
                            .take(want)
                            .read_to_end(&mut block)
                            .map_err(|source| IngestError::Io {
                                path: file.clone().into(),
                                source,
                            })?;
                        *eof = (got as u64) < want;
                    }
                    if *eof {
                        break block.len();
                    }
                    match memchr::memrchr(b'\n', &block) {
                        Some(i) => break i + 1,
                        // One line longer than a block: read on.
                        None => target += *block_bytes,
                    }
                };
                carry.extend_from_slice(&block[end..]);
                block.truncate(end);
                if block.is_empty() {
                    return Ok(None);
                }
                let plain = memchr::memchr(b'"', &block).is_none()
                    && memchr::memchr_iter(b'\r', &block).all(|i| block.get(i + 1) == Some(&b'\n'));
                if plain {
                    let lines = Lines {
                        file: shared_file.clone(),
                        first_line: *line,
                        bytes: block,
                    };
                    let feeds = count_line_feeds(&lines.bytes);
                    *line += feeds;
                    *offset += lines.bytes.len() as u64;
                    return Ok(Some(Batch::Lines(lines)));
                }
                // Quoted fields from here on: let the csv reader read from the start of this
                // block, a line's start.
                let mut at = csv::Position::new();
                at.set_byte(*offset).set_line(*line);
                let BatchState::Lines {
                    file,
                    mut reader,
                    end,
                    ..
                } = std::mem::replace(&mut self.state, BatchState::Switching)
                else {
                    return Ok(None);
                };
                reader
                    .seek_raw(SeekFrom::Start(at.byte()), at)
                    .map_err(|e| csv_error(&file, e))?;
                self.state = BatchState::Rows(Rows::Csv {
                    file,
                    reader,
                    record: csv::ByteRecord::new(),
                    end,
                });
                self.next_batch()
            }
        }
    }

    /// Gives back a block's buffer (from [`Lines::into_buffer`]) for the next read.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if let BatchState::Lines { spare, .. } = &mut self.state
            && spare.len() < 4
        {
            spare.push(buffer);
        }
    }
}

/// Up to [`BATCH_ROWS`] rows.
fn rows_batch(rows: &mut Rows) -> Result<Option<Batch>, IngestError> {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for row in rows.by_ref().take(BATCH_ROWS) {
        batch.push(row?);
    }
    Ok((!batch.is_empty()).then_some(Batch::Rows(batch)))
}

fn csv_error(file: &str, e: csv::Error) -> IngestError {
    let row = e.position().map_or(0, |p| p.line());
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => IngestError::Encoding {
            file: file.to_string(),
            row,
        },
        _ => IngestError::rows(vec![RowError {
            file: file.to_string(),
            row,
            column: None,
            message: format!("{e}: check the quoting and the number of columns in this row"),
        }]),
    }
}

/// True for files greenplan reads as workbooks.
pub fn is_workbook(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_lowercase)
            .as_deref(),
        Some("xlsx" | "xls" | "xlsm" | "ods")
    )
}

/// Opens a CSV or workbook of `kind` (through [`source::open`]: a regular file within its
/// kind's bound) and reads its header (the first row).
pub fn open(
    path: &Path,
    kind: FileKind,
    required: &[&str],
    optional: &[&str],
) -> Result<(Header, Rows), IngestError> {
    let file = path.display().to_string();
    let expected = required.join(",");
    if is_workbook(path) {
        let mut rows = read_sheet_as(path, kind)?.into_iter();
        let first = rows.next().ok_or_else(|| IngestError::Empty {
            file: file.clone(),
            expected: expected.clone(),
        })?;
        let header = Header::new(
            &file,
            first.cells.iter().map(str::to_string).collect(),
            required,
            optional,
        )?;
        return Ok((
            header,
            Rows::Sheet {
                rows: rows.collect::<Vec<_>>().into_iter(),
            },
        ));
    }
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut handle = source::open(path, kind)?;
    let end = FileEnd::of(&mut handle).map_err(io)?;
    let mut reader = csv_reader(handle);
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(IngestError::Empty { file, expected }),
        Err(e) => return Err(csv_error(&file, e)),
    }
    strip_carriage_return(&mut record);
    let row = start_line(&reader, &record, end);
    let Ok(record) = csv::StringRecord::from_byte_record(record) else {
        return Err(IngestError::Encoding { file, row });
    };
    let names: Vec<String> = record.iter().map(str::to_string).collect();
    if names.iter().all(|n| n.trim().is_empty()) {
        return Err(IngestError::Empty { file, expected });
    }
    let header = Header::new(&file, names, required, optional)?;
    Ok((
        header,
        Rows::Csv {
            file,
            reader: Box::new(reader),
            record: csv::ByteRecord::new(),
            end,
        },
    ))
}

/// Reads a small CSV held in memory (a library shipped with greenplan, say) into its header
/// and rows, numbered and trimmed exactly as [`open`] does for files.
pub fn read_text(
    file: &str,
    text: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<(Header, Vec<Row>), IngestError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(text.as_bytes());
    let end = FileEnd {
        len: text.len() as u64,
        unterminated: !text.is_empty() && !text.ends_with('\n'),
    };
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(file, e))?
    {
        let number = start_line(&reader, &record, end);
        strip_carriage_return(&mut record);
        let cells = csv::StringRecord::from_byte_record(record.clone()).map_err(|_| {
            IngestError::Encoding {
                file: file.to_string(),
                row: number,
            }
        })?;
        rows.push(Row { number, cells });
    }
    let mut rows = rows.into_iter();
    let expected = required.join(",");
    let first = rows.next().ok_or_else(|| IngestError::Empty {
        file: file.to_string(),
        expected,
    })?;
    let header = Header::new(
        file,
        first.cells.iter().map(str::to_string).collect(),
        required,
        optional,
    )?;
    Ok((header, rows.collect()))
}

/// The most a workbook (a zip of XML parts) may expand to when unpacked. A real return or
/// factor file expands to a few tens of MB; a zip bomb to gigabytes from a small upload.
pub const MAX_WORKBOOK_EXPANDED_BYTES: u64 = 256 * 1024 * 1024;

/// The most columns a worksheet row may use. greenplan's files have a dozen or so; a stray
/// cell in column XFD would otherwise widen every row to 16,384 cells.
pub const MAX_SHEET_COLUMNS: u32 = 1_000;

/// Reads the first worksheet into rows of text (numbers in their shortest exact form).
///
/// An XLSX sheet is read cell by cell and only the rows that hold cells are kept, so memory
/// follows what the file holds, never the area its cells span (calamine's dense `Range`
/// would allocate a cell for every position between A1 and a stray cell at XFD1048576: 17
/// billion cells from a 2-cell file). Before that, the sizes the zip declares (which the zip
/// reader enforces) must add up to at most [`MAX_WORKBOOK_EXPANDED_BYTES`].
pub fn read_sheet(path: &Path) -> Result<Vec<Row>, IngestError> {
    read_sheet_as(path, FileKind::Activity)
}

/// [`read_sheet`] of a file of `kind`, read whole into memory through
/// [`source::read_workbook`].
pub fn read_sheet_as(path: &Path, kind: FileKind) -> Result<Vec<Row>, IngestError> {
    let file = path.display().to_string();
    let refused = |message: String| IngestError::Workbook {
        file: file.clone(),
        message,
    };
    let xlsx = matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_lowercase)
            .as_deref(),
        Some("xlsx" | "xlsm")
    );
    // calamine can panic on a damaged workbook (a cell reference too long to be one overflows
    // its column arithmetic; a short sector in an .xls trips an assertion): refuse the file
    // instead. The release profile keeps calamine's overflow checks on, so a damaged
    // reference is refused there too rather than wrapped into a wrong column.
    let bytes = source::read_workbook(path, kind)?;
    if xlsx {
        check_expanded_size(&bytes).map_err(refused)?;
        return std::panic::catch_unwind(|| read_xlsx_sheet(&bytes))
            .unwrap_or_else(|_| Err(DAMAGED_WORKBOOK.to_string()))
            .map_err(refused);
    }
    std::panic::catch_unwind(|| read_other_workbook(&bytes))
        .unwrap_or_else(|_| Err(DAMAGED_WORKBOOK.to_string()))
        .map_err(refused)
}

/// What a workbook the reader could not make sense of is refused with.
pub(crate) const DAMAGED_WORKBOOK: &str = "the workbook is damaged: its structure could not be read. Open it in Excel or LibreOffice and save it again as .xlsx (or export the sheet as CSV)";

/// Reads the first sheet of an .xls or .ods workbook.
fn read_other_workbook(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let mut book =
        open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| "it has no worksheets".to_string())?;
    let range = book.worksheet_range(&name).map_err(|e| e.to_string())?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| Row {
            number: first_row + i as u64 + 1,
            cells: cells.iter().map(cell_text).collect::<Vec<_>>().into(),
        })
        .collect())
}

/// Refuses a workbook whose parts would unpack to more than [`MAX_WORKBOOK_EXPANDED_BYTES`].
fn check_expanded_size(bytes: &[u8]) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("it is not an XLSX workbook ({e}); save it again as .xlsx or CSV"))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|e| e.to_string())?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_WORKBOOK_EXPANDED_BYTES {
        return Err(format!(
            "it unpacks to {} MB, more than the {} MB greenplan reads; save it as CSV, or split it into smaller files",
            total / (1024 * 1024),
            MAX_WORKBOOK_EXPANDED_BYTES / (1024 * 1024)
        ));
    }
    Ok(())
}

/// The first sheet of an XLSX workbook, cell by cell, as rows numbered as the sheet shows
/// them. Each row is as wide as its last value; all rows together may hold at most
/// [`MAX_SHEET_CELLS`] cells.
fn read_xlsx_sheet(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| e.to_string())?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| "it has no worksheets".to_string())?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|e| e.to_string())?;
    let mut sheet = SparseSheet::default();
    while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
        let (row, column) = cell.get_position();
        let value: Data = cell.get_value().clone().into();
        if !matches!(value, Data::Empty) {
            sheet.add(row, column, cell_text(&value))?;
        }
    }
    Ok(sheet.into_rows())
}

/// The most cells (values and the blanks before them in their row) a worksheet may hold:
/// twice a million-row return of ten columns.
pub const MAX_SHEET_CELLS: usize = 20_000_000;

/// Rows of a sheet gathered cell by cell (cells normally arrive row by row, left to right).
/// Finished rows are kept as one buffer each (`StringRecord`), not a `String` per cell.
#[derive(Default)]
struct SparseSheet {
    rows: Vec<(u32, csv::StringRecord)>,
    current: Option<(u32, Vec<String>)>,
    cells: usize,
    first_column: Option<u32>,
}

impl SparseSheet {
    fn add(&mut self, row: u32, column: u32, text: String) -> Result<(), String> {
        if column >= MAX_SHEET_COLUMNS {
            return Err(format!(
                "row {} has a value in column {} (beyond the {MAX_SHEET_COLUMNS} columns greenplan reads): delete it, or save the sheet as CSV",
                u64::from(row) + 1,
                u64::from(column) + 1
            ));
        }
        self.first_column = Some(self.first_column.map_or(column, |c| c.min(column)));
        if self.current.as_ref().is_none_or(|(r, _)| *r != row) {
            self.finish_row();
        }
        let (_, line) = self.current.get_or_insert_with(|| (row, Vec::new()));
        let at = column as usize;
        if line.len() <= at {
            self.cells += at + 1 - line.len();
            if self.cells > MAX_SHEET_CELLS {
                return Err(format!(
                    "its cells (with the blanks between them) number more than {MAX_SHEET_CELLS}; save it as CSV, or split it into smaller files"
                ));
            }
            line.resize(at + 1, String::new());
        }
        line[at] = text;
        Ok(())
    }

    fn finish_row(&mut self) {
        if let Some((row, line)) = self.current.take() {
            self.rows.push((row, line.into()));
        }
    }

    /// The rows in sheet order, starting at the sheet's first used column (as calamine's
    /// ranges do); a row whose cells came in two runs is merged.
    fn into_rows(mut self) -> Vec<Row> {
        self.finish_row();
        let skip = self.first_column.unwrap_or(0) as usize;
        self.rows.sort_by_key(|(r, _)| *r); // stable: the runs of a row stay in order
        let mut merged: Vec<(u32, csv::StringRecord)> = Vec::with_capacity(self.rows.len());
        for (row, line) in self.rows {
            match merged.last_mut() {
                Some((r, cells)) if *r == row => {
                    let width = cells.len().max(line.len());
                    let joined: Vec<String> = (0..width)
                        .map(|i| match line.get(i) {
                            Some(t) if !t.is_empty() => t.to_string(),
                            _ => cells.get(i).unwrap_or_default().to_string(),
                        })
                        .collect();
                    *cells = joined.into();
                }
                _ => merged.push((row, line)),
            }
        }
        merged
            .into_iter()
            .map(|(row, line)| Row {
                number: u64::from(row) + 1,
                cells: if skip == 0 {
                    line
                } else {
                    line.iter().skip(skip).collect::<Vec<_>>().into()
                },
            })
            .collect()
    }
}

/// A cell as text: numbers in their shortest round-trip form, so `0.18293` stays `0.18293`.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => float_text(*f),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_datetime().map_or_else(
            || d.to_string(),
            |t| {
                if t.time() == chrono::NaiveTime::MIN {
                    t.date().to_string()
                } else {
                    t.to_string()
                }
            },
        ),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#ERROR {e:?}"),
    }
}

/// Shortest decimal text that reads back as the same `f64` (Rust's `Display` guarantees it).
pub fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Rows as (number, cells), blank rows left out, or the row of an encoding error.
    type Read = Result<Vec<(u64, Vec<String>)>, u64>;

    fn write(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(contents).unwrap();
        f
    }

    fn one_by_one(path: &Path) -> Read {
        let (_, rows) = open(path, FileKind::Activity, &["a"], &[]).unwrap();
        let mut out = Vec::new();
        for row in rows {
            match row {
                Ok(r) if r.is_blank() => {}
                Ok(r) => out.push((r.number, r.cells.iter().map(str::to_string).collect())),
                Err(IngestError::Encoding { row, .. }) => return Err(row),
                Err(e) => panic!("{e}"),
            }
        }
        Ok(out)
    }

    /// Also says how many batches were blocks of lines.
    fn in_batches(path: &Path) -> (Read, usize) {
        in_blocks_of(path, BLOCK_BYTES)
    }

    fn in_blocks_of(path: &Path, size: usize) -> (Read, usize) {
        let (_, rows) = open(path, FileKind::Activity, &["a"], &[]).unwrap();
        let mut batches = rows.into_batches().unwrap();
        if let BatchState::Lines { block_bytes, .. } = &mut batches.state {
            *block_bytes = size;
        }
        let (mut out, mut blocks) = (Vec::new(), 0);
        loop {
            match batches.next_batch() {
                Ok(None) => break,
                Ok(Some(Batch::Rows(rows))) => {
                    for r in rows.iter().filter(|r| !r.is_blank()) {
                        out.push((r.number, r.cells.iter().map(str::to_string).collect()));
                    }
                }
                Ok(Some(Batch::Lines(lines))) => {
                    blocks += 1;
                    let text = match lines.text() {
                        Ok(t) => t,
                        Err(IngestError::Encoding { row, .. }) => return (Err(row), blocks),
                        Err(e) => panic!("{e}"),
                    };
                    lines.each_row(text, |n, cells| {
                        if !cells.iter().all(|c| c.trim().is_empty()) {
                            out.push((n, cells.iter().map(|c| c.to_string()).collect()));
                        }
                    });
                    batches.recycle(lines.into_buffer());
                }
                Err(IngestError::Encoding { row, .. }) => return (Err(row), blocks),
                Err(e) => panic!("{e}"),
            }
        }
        (Ok(out), blocks)
    }

    /// Blocks of lines give exactly the rows (cells and numbers) the csv crate gives.
    #[test]
    fn blocks_of_lines_read_like_the_csv_reader() {
        let long_plain: String = (0..40_000)
            .map(|i| format!("RTG,Site {i},2023-04-01,x\n"))
            .collect();
        // Windows line ends and empty lines, across block boundaries.
        let long_crlf: String = (0..40_000)
            .map(|i| format!("RTG,Site {i},2023-04-01,x\r\n{}", "\r\n".repeat(i % 3)))
            .collect();
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            (
                "plain",
                b"a,b\nx,y\n\nz,\n , \n,,\nlast,row\n".to_vec(),
                true,
            ),
            ("crlf", b"a,b\r\nx,y\r\n\r\nz,w\r\n,\r\n".to_vec(), true),
            (
                "crlf and lf",
                b"a,b\r\nx,y\n\n\r\nz,w\r\n\nv\n".to_vec(),
                true,
            ),
            ("empty lines first", b"a,b\n\n\r\n\nx,y\n".to_vec(), true),
            (
                "crlf not utf-8",
                b"a,b\r\nx,y\r\n\r\nCaf\xe9,z\r\n".to_vec(),
                true,
            ),
            ("no final line end", b"a,b\nx,y\nz,w".to_vec(), true),
            ("spaces kept", b"a,b\n  x , y\t\n".to_vec(), true),
            ("bom", b"\xef\xbb\xbfa,b\nx,y\n".to_vec(), true),
            ("header only", b"a,b\n".to_vec(), true),
            ("lone cr", b"a,b\rx,y\rz,w\n".to_vec(), false),
            ("cr at the end", b"a,b\nx,y\r".to_vec(), false),
            (
                "quotes",
                b"a,b\n\"x,1\",y\n\"multi\nline\",z\n\"\"\"q\"\"\",w\n".to_vec(),
                false,
            ),
            (
                "long line",
                format!("a,b\n{},y\nx,z\n", "v".repeat(3 << 20)).into_bytes(),
                true,
            ),
            (
                "plain then quotes",
                format!("a,b\n{long_plain}\"q,\nq\",1\nx,y\n").into_bytes(),
                false,
            ),
            (
                "plain then lone cr",
                format!("a,b\n{long_plain}x,y\rz,w\n").into_bytes(),
                false,
            ),
            (
                "crlf then quotes",
                format!("a,b\r\n{long_crlf}\"q,\r\nq\",1\r\nx,y\r\n").into_bytes(),
                false,
            ),
            (
                "crlf long",
                format!("a,b\r\n{long_crlf}x,y\r\n").into_bytes(),
                true,
            ),
            ("not utf-8", b"a,b\nx,y\nCaf\xe9,z\n".to_vec(), true),
            (
                "not utf-8 later",
                [
                    b"a,b\n".as_slice(),
                    long_plain.as_bytes(),
                    b"x,y\nCaf\xe9,z\n",
                ]
                .concat(),
                true,
            ),
        ];
        for (name, contents, all_blocks) in cases {
            let f = write(&contents);
            let expected = one_by_one(f.path());
            let (got, blocks) = in_batches(f.path());
            assert_eq!(got, expected, "{name}");
            if all_blocks {
                assert!(
                    blocks > 0 || expected.as_ref().is_ok_and(Vec::is_empty),
                    "{name}: no blocks"
                );
            }
            if name.contains(" then ") {
                assert!(blocks >= 1, "{name}: the plain start is read in blocks");
            }
        }
    }

    /// Small blocks, so that block ends fall everywhere: after `\r`s, inside runs of empty
    /// lines, in the middle of long lines.
    #[test]
    fn small_blocks_read_like_the_csv_reader() {
        let mut seed = 42u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for case in 0..200 {
            let mut text = b"a,b".to_vec();
            text.extend_from_slice(if case % 2 == 0 { b"\r\n" } else { b"\n" });
            for _ in 0..next(60) {
                let line: &[u8] = match next(8) {
                    0 => b"",
                    1 => b" , ",
                    2 => b"x,y,z",
                    3 => b"RTG,,2023-04-01",
                    4 => b"longer line with, some, commas, in it",
                    5 => b",",
                    6 if case % 5 == 0 => b"Caf\xe9,z",
                    6 if case % 7 == 0 => b"\"q,\nq\",1",
                    _ => b"v",
                };
                text.extend_from_slice(line);
                text.extend_from_slice(if next(3) == 0 { b"\r\n" } else { b"\n" });
            }
            if next(4) == 0 {
                text.extend_from_slice(b"last");
            }
            let f = write(&text);
            let expected = one_by_one(f.path());
            for size in [1, 2, 3, 5, 8, 13, 64] {
                let (got, _) = in_blocks_of(f.path(), size);
                assert_eq!(
                    got,
                    expected,
                    "case {case}, blocks of {size}: {:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    /// A row is numbered with the line it starts on, as a spreadsheet or text editor shows
    /// it: with Windows line ends, after empty lines, after quoted cells over several lines.
    #[test]
    fn rows_are_numbered_by_the_line_they_start_on() {
        let cases: Vec<(&str, &[u8], Vec<u64>)> = vec![
            ("unix", b"a,b\nx,1\ny,2\n", vec![2, 3]),
            ("windows", b"a,b\r\nx,1\r\ny,2\r\n", vec![2, 3]),
            ("windows, no end", b"a,b\r\nx,1\r\ny,2", vec![2, 3]),
            ("empty lines", b"a,b\nx,1\n\n\ny,2\n", vec![2, 5]),
            (
                "empty windows lines",
                b"a,b\r\n\r\nx,1\r\n\r\n\r\ny,2\r\n",
                vec![3, 6],
            ),
            ("empty lines, no end", b"a,b\nx,1\n\n\ny,2", vec![2, 5]),
            ("quoted lines", b"a,b\n\"x\n\ny\",1\n\nz,2\n", vec![2, 6]),
            (
                "quoted, windows",
                b"a,b\r\n\"x\r\ny\",1\r\nz,2\r\n",
                vec![2, 4],
            ),
        ];
        for (name, contents, lines) in cases {
            let f = write(contents);
            for (how, read) in [
                ("one by one", one_by_one(f.path())),
                ("in blocks", in_blocks_of(f.path(), 3).0),
            ] {
                let numbers: Vec<u64> = read.unwrap().iter().map(|(n, _)| *n).collect();
                assert_eq!(numbers, lines, "{name}, {how}");
            }
        }
        // The carriage return is no part of the last cell, and the header is found.
        let f = write(b"a,b\r\nx,1\r\n");
        let (header, rows) = open(f.path(), FileKind::Activity, &["a", "b"], &[]).unwrap();
        assert_eq!(header.position("b"), Some(1));
        let row = rows.into_iter().next().unwrap().unwrap();
        assert_eq!(row.get(&header, "b"), Some("1"));
        // A bad byte after empty lines is on its own line.
        let f = write(b"a,b\r\nx,1\r\n\r\n\nCaf\xe9,2\r\n");
        assert_eq!(one_by_one(f.path()), Err(5));
        assert_eq!(in_blocks_of(f.path(), 4).0, Err(5));
    }

    #[test]
    fn line_feeds_are_counted() {
        let text: Vec<u8> = (0..10_000u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { b'x' })
            .collect();
        assert_eq!(
            count_line_feeds(&text),
            text.iter().filter(|&&b| b == b'\n').count() as u64
        );
        assert_eq!(count_line_feeds(b""), 0);
    }
}
