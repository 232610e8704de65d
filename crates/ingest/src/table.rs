//! Tabular files, CSV or XLSX, read the same way: a header row found by name, then data rows
//! with their spreadsheet row numbers.
//!
//! CSV is streamed (a file of millions of rows is never held in memory); a workbook's first
//! sheet is read whole, as calamine does. Column names are matched case-insensitively, with
//! spaces and underscores treated alike, so `Period Start` and `period_start` are one column.

use crate::error::IngestError;
use calamine::{Data, Reader, open_workbook_auto};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
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

/// A file of rows: a streamed CSV or a loaded worksheet.
pub enum Rows {
    Csv {
        file: String,
        reader: Box<csv::Reader<BufReader<File>>>,
        record: csv::StringRecord,
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
            } => match reader.read_record(record) {
                Ok(false) => None,
                Ok(true) => {
                    let number = record.position().map_or(0, |p| p.line());
                    Some(Ok(Row {
                        number,
                        cells: record.iter().map(str::to_string).collect(),
                    }))
                }
                Err(e) => Some(Err(csv_error(file, e))),
            },
        }
    }
}

fn csv_error(file: &str, e: csv::Error) -> IngestError {
    let row = e.position().map_or(0, |p| p.line());
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => IngestError::Encoding {
            file: file.to_string(),
            row,
        },
        _ => IngestError::rows(vec![crate::error::RowError {
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

/// Opens a CSV or workbook and reads its header (the first row).
pub fn open(
    path: &Path,
    required: &[&str],
    optional: &[&str],
) -> Result<(Header, Rows), IngestError> {
    let file = path.display().to_string();
    let expected = required.join(",");
    if is_workbook(path) {
        let mut rows = read_sheet(path)?.into_iter();
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
    let handle = File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, handle));
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(IngestError::Empty { file, expected }),
        Err(e) => return Err(csv_error(&file, e)),
    }
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
            record: csv::StringRecord::new(),
        },
    ))
}

/// Reads the first worksheet into rows of text (numbers in their shortest exact form).
pub fn read_sheet(path: &Path) -> Result<Vec<Row>, IngestError> {
    let file = path.display().to_string();
    let mut book = open_workbook_auto(path).map_err(|e| IngestError::Workbook {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| IngestError::Workbook {
            file: file.clone(),
            message: "it has no worksheets".into(),
        })?;
    let range = book
        .worksheet_range(&name)
        .map_err(|e| IngestError::Workbook {
            file: file.clone(),
            message: e.to_string(),
        })?;
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
