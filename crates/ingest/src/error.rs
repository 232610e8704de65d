//! Errors of the readers, carrying file, row and column.

use std::fmt;
use std::path::PathBuf;

/// One problem in one row (and column) of a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub file: String,
    /// 1-based row as a spreadsheet shows it; the header is row 1 (or wherever it was found).
    pub row: u64,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "{}: row {}, column `{}`: {}",
                self.file, self.row, c, self.message
            ),
            None => write!(f, "{}: row {}: {}", self.file, self.row, self.message),
        }
    }
}

/// The most rows listed in one error: past this the rest are counted, not listed.
pub const MAX_LISTED_ERRORS: usize = 200;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file}: the file is empty: it needs a header row ({expected}) and at least one data row"
    )]
    Empty { file: String, expected: String },
    #[error("{file}: {message}")]
    Header { file: String, message: String },
    #[error(
        "{file}: the file is not UTF-8 text (row {row}): save it as \"CSV UTF-8\" (in Excel: File › Save As › CSV UTF-8) and try again"
    )]
    Encoding { file: String, row: u64 },
    #[error(
        "{file}: the import stopped before the end of the file, so nothing was stored; import the file again"
    )]
    Stopped { file: String },
    #[error("{file}: cannot read the workbook: {message}")]
    Workbook { file: String, message: String },
    #[error("{}", render_rows(.errors, *.total))]
    Rows { errors: Vec<RowError>, total: usize },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    /// Not a regular file, or larger than greenplan reads as its kind (`source::open`).
    #[error("{file} {message}")]
    NotAFile { file: String, message: String },
    #[error("{file}:{line}: field `{field}`: {message}")]
    Plan {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
}

impl IngestError {
    /// Builds a row-error report, keeping at most [`MAX_LISTED_ERRORS`] rows.
    pub fn rows(mut errors: Vec<RowError>) -> Self {
        let total = errors.len();
        errors.truncate(MAX_LISTED_ERRORS);
        Self::Rows { errors, total }
    }

    /// The row errors, if this is a row report.
    pub fn row_errors(&self) -> &[RowError] {
        match self {
            Self::Rows { errors, .. } => errors,
            _ => &[],
        }
    }
}

fn render_rows(errors: &[RowError], total: usize) -> String {
    let mut out = format!(
        "{total} row{} could not be used, so nothing was stored; fix {} and import the file again:",
        if total == 1 { "" } else { "s" },
        if total == 1 { "it" } else { "them" }
    );
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    if total > errors.len() {
        out.push_str(&format!("\n  … and {} more", total - errors.len()));
    }
    out
}
