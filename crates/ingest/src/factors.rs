//! Readers of conversion factors: the UK Government GHG conversion factors "flat files" and
//! users' own custom factor files.
//!
//! NHS bodies report with the official factors, published each June as a workbook. Users will
//! point greenplan at next year's file as well as the four we know, so the reader assumes as
//! little as possible about the layout:
//!
//! - the sheet is found by name (`Factors by Category`, else any sheet named like `…factors…`);
//! - the header row is found by content (the first of the top 30 rows holding `Scope` and
//!   `Level 1`), because it moves between row 2 and row 6 from year to year;
//! - every column is found by name, never by position, because columns come and go
//!   (`UOM (simple)` and `Lookup` in 2019-2021, `ID` in 2023, `GHG` renamed `GHG/Unit`).
//!
//! The files publish one row per gas; the reader groups them back into one
//! [`Factor`] per activity and unit: the `kg CO2e` row is the factor, the CO2/CH4/N2O rows
//! its [`GasParts`]. Numbers are taken from the cell's shortest round-trip text and parsed as
//! decimals, so `0.18292892617449666` is stored as exactly that, never via `f64` arithmetic.
//!
//! An official file is never refused for a few odd rows: a row that cannot become a factor
//! (a unit greenplan does not know, a value such as `< 1`, a figure in kWh rather than kg CO2e)
//! is left out and reported in [`FactorFile::skipped`], so an import always shows what it
//! did not take. A custom factor file, written by the user, is the opposite: every problem in
//! every row is an error, reported all together, and nothing is taken until it is fixed.

use crate::error::IngestError;
use crate::table::{self, Row, cell_text, column_key};
use calamine::{Reader, open_workbook_auto_from_rs};
use greenplan_core::category::{NhsCategory, Scope};
use greenplan_core::factor::{Factor, GasParts};
use greenplan_core::quantity::parse_decimal;
use greenplan_core::unit::Unit;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

/// The sheet holding the factors in every edition so far.
pub const FACTOR_SHEET: &str = "Factors by Category";

/// How many rows from the top are searched for the header row.
const HEADER_SEARCH_ROWS: usize = 30;

/// After this many blank rows in a row the data is taken to have ended (for files without an
/// `END` marker).
const BLANK_RUN_END: usize = 50;

/// Columns every custom factor file has.
pub const CUSTOM_REQUIRED: &[&str] =
    &["edition", "activity", "unit", "scope", "category", "kgco2e"];
/// Columns a custom factor file may have.
pub const CUSTOM_OPTIONAL: &[&str] = &["kgco2", "kgch4", "kgn2o", "source"];

/// The factors read from one official flat file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorFile {
    /// The edition the factors were stored under: the name given, else `uk-YYYY`.
    pub edition: String,
    /// The year of the edition, from the `GHG Conversion Factor YYYY` column (else the file
    /// name), used to pick the edition for a financial year.
    pub year: Option<i32>,
    /// One factor per activity and unit, in file order.
    pub factors: Vec<Factor>,
    /// What was left out and why, one line per reason: each line says how many rows it covers
    /// and which (`… (3 rows: 543, 544, 545)`).
    pub skipped: Vec<String>,
    /// The file name, as provenance shows it.
    pub source: String,
}

impl FactorFile {
    /// The number of rows left out, summed over [`FactorFile::skipped`].
    pub fn skipped_rows(&self) -> usize {
        self.skipped.iter().map(|s| skipped_count(s)).sum()
    }
}

/// Reads the row count back from a line of [`FactorFile::skipped`].
fn skipped_count(line: &str) -> usize {
    line.rsplit_once(" (")
        .and_then(|(_, tail)| tail.split_once(" rows:"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(1)
}

/// Derives an edition name, `uk-2023`, from a file name holding a year from 2000 to 2099
/// (the first such four-digit number that is not part of a longer one). Used when the
/// workbook's own year cannot be read.
pub fn edition_name_from_file(path: &Path) -> Option<String> {
    year_in(&path.file_name()?.to_string_lossy()).map(|y| format!("uk-{y}"))
}

/// The first stand-alone four-digit number from 2000 to 2099 in `text`.
fn year_in(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 4 && text[start..i].starts_with("20") {
            return text[start..i].parse().ok();
        }
    }
    None
}

/// The file name alone, as provenance and errors show it.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads an official UK Government GHG conversion factors flat file (`.xls` or `.xlsx`).
///
/// `edition` names the edition the factors are stored under; without it the name is
/// `uk-YYYY`, from the year in the `GHG Conversion Factor YYYY` column (else from the file
/// name). Rows that cannot become factors are listed in [`FactorFile::skipped`]; a file
/// whose sheet or header cannot be found is an error.
pub fn read_flat_file(path: &Path, edition: Option<&str>) -> Result<FactorFile, IngestError> {
    let file = path.display().to_string();
    let name = file_name(path);
    let (sheet, rows) = read_factor_sheet(path, &file)?;
    let (header_at, columns) = FlatColumns::find(&file, &sheet, &rows)?;

    let year = year_in(&columns.value_name).or_else(|| year_in(&name));
    let edition = match edition.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => e.to_string(),
        None => year.map(|y| format!("uk-{y}")).ok_or_else(|| IngestError::Header {
            file: file.clone(),
            message: format!(
                "cannot tell which year's factors these are: neither the column `{}` nor the file name holds a year; name the edition when importing, e.g. `--edition uk-2024`",
                columns.value_name
            ),
        })?,
    };

    let mut reader = FlatReader::new(&name, &columns);
    let mut blank_run = 0;
    for row in rows.iter().skip(header_at + 1) {
        if row.is_blank() {
            blank_run += 1;
            if blank_run >= BLANK_RUN_END {
                break;
            }
            continue;
        }
        blank_run = 0;
        if columns.cell(row, columns.scope).eq_ignore_ascii_case("END") {
            break;
        }
        reader.row(row);
    }
    let (factors, skipped) = reader.finish(&edition);
    Ok(FactorFile {
        edition,
        year,
        factors,
        skipped,
        source: name,
    })
}

/// Opens the workbook and reads the factor sheet as text rows. The workbook reader (calamine)
/// can panic on a damaged `.xls` (fuzzing found an assertion in its record parser): that is
/// turned into an error naming the file, so no input stops the CLI or the server.
fn read_factor_sheet(path: &Path, file: &str) -> Result<(String, Vec<Row>), IngestError> {
    std::panic::catch_unwind(|| read_factor_sheet_unguarded(path, file)).unwrap_or_else(|_| {
        Err(IngestError::Workbook {
            file: file.to_string(),
            message: crate::table::DAMAGED_WORKBOOK.into(),
        })
    })
}

fn read_factor_sheet_unguarded(path: &Path, file: &str) -> Result<(String, Vec<Row>), IngestError> {
    let workbook_error = |message: String| IngestError::Workbook {
        file: file.to_string(),
        message,
    };
    let bytes = crate::source::read_workbook(path, crate::source::FileKind::Factors)?;
    let mut book = open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| workbook_error(e.to_string()))?;
    let names = book.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case(FACTOR_SHEET))
        .or_else(|| names.iter().find(|n| n.to_lowercase().contains("factors")))
        .cloned()
        .ok_or_else(|| {
            workbook_error(format!(
                "it has no `{FACTOR_SHEET}` sheet (its sheets are {}): is this a UK Government GHG conversion factors flat file? The condensed and full-set workbooks are not flat files",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ))
        })?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| workbook_error(format!("sheet `{sheet}`: {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| u64::from(r));
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| Row {
            number: first_row + i as u64 + 1,
            cells: cells.iter().map(cell_text).collect::<Vec<_>>().into(),
        })
        .collect();
    Ok((sheet, rows))
}

/// Positions of the flat file's columns, found by name.
#[derive(Debug, Clone)]
struct FlatColumns {
    scope: usize,
    levels: [usize; 4],
    column_text: usize,
    uom: usize,
    gas: usize,
    value: usize,
    /// The value column's name as published, `GHG Conversion Factor 2023`.
    value_name: String,
}

impl FlatColumns {
    /// Finds the header row among the first rows and every column in it.
    fn find(file: &str, sheet: &str, rows: &[Row]) -> Result<(usize, Self), IngestError> {
        let keys = |row: &Row| row.cells.iter().map(column_key).collect::<Vec<_>>();
        let header_at = rows
            .iter()
            .take(HEADER_SEARCH_ROWS)
            .position(|row| {
                let k = keys(row);
                k.iter().any(|c| c == "scope") && k.iter().any(|c| c == "level_1")
            })
            .ok_or_else(|| IngestError::Header {
                file: file.to_string(),
                message: format!(
                    "sheet `{sheet}` has no header row: none of its first {HEADER_SEARCH_ROWS} rows has both a `Scope` and a `Level 1` cell. Is this a UK Government GHG conversion factors flat file?"
                ),
            })?;
        let header = &rows[header_at];
        let names: Vec<&str> = header.cells.iter().map(|c| c.trim()).collect();
        let keys = keys(header);

        let mut missing: Vec<&str> = Vec::new();
        let mut twice: Vec<String> = Vec::new();
        let mut find = |label: &'static str, accept: &dyn Fn(&str) -> bool| -> usize {
            let found: Vec<usize> = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| accept(k))
                .map(|(i, _)| i)
                .collect();
            match found.as_slice() {
                [] => {
                    missing.push(label);
                    0
                }
                [one] => *one,
                many => {
                    twice.push(format!(
                        "{label} ({})",
                        many.iter()
                            .map(|&i| format!("`{}`", names[i]))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    many[0]
                }
            }
        };
        let scope = find("`Scope`", &|k| k == "scope");
        let levels = [
            find("`Level 1`", &|k| k == "level_1"),
            find("`Level 2`", &|k| k == "level_2"),
            find("`Level 3`", &|k| k == "level_3"),
            find("`Level 4`", &|k| k == "level_4"),
        ];
        let column_text = find("`Column Text`", &|k| k == "column_text");
        // `UOM (simple)` (2019-2021) drops the calorific basis; only `UOM` keeps it.
        let uom = find("`UOM`", &|k| k == "uom");
        let gas = find("`GHG` (or `GHG/Unit`)", &|k| k == "ghg" || k == "ghg/unit");
        let value = find("`GHG Conversion Factor YYYY`", &|k| {
            k.starts_with("ghg_conversion_factor")
        });

        if !missing.is_empty() || !twice.is_empty() {
            let found = names
                .iter()
                .filter(|n| !n.is_empty())
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut problems = Vec::new();
            if !missing.is_empty() {
                problems.push(format!("has no {} column", missing.join(", no ")));
            }
            if !twice.is_empty() {
                problems.push(format!(
                    "has more than one {} column",
                    twice.join(" and more than one ")
                ));
            }
            return Err(IngestError::Header {
                file: file.to_string(),
                message: format!(
                    "the header (sheet `{sheet}`, row {}) {}; the columns found are {found}. A flat file needs Scope, Level 1 to Level 4, Column Text, UOM, GHG (or GHG/Unit) and GHG Conversion Factor YYYY, found by name in any order",
                    header.number,
                    problems.join(" and ")
                ),
            });
        }
        let value_name = names[value].to_string();
        Ok((
            header_at,
            Self {
                scope,
                levels,
                column_text,
                uom,
                gas,
                value,
                value_name,
            },
        ))
    }

    /// A cell, trimmed; empty when the row is short.
    fn cell<'a>(&self, row: &'a Row, i: usize) -> &'a str {
        row.cells.get(i).map_or("", |c| c.trim())
    }

    /// A heading cell: trimmed, and `0` read as empty. Some 2019-2021 rows carry a `0` in
    /// Level 4 where the cell is blank in their sibling rows (an Excel formula pointing at an
    /// empty cell shows 0); keeping it would split one activity's gas rows into two.
    fn heading<'a>(&self, row: &'a Row, i: usize) -> Option<&'a str> {
        Some(self.cell(row, i)).filter(|c| !c.is_empty() && *c != "0")
    }
}

/// Which figure of a factor a row gives, from its `GHG` cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gas {
    Total,
    Co2,
    Ch4,
    N2o,
}

impl Gas {
    /// `kg CO2e` is the total; `kg CO2e of CO2 per unit` (2023) and `kg CO2` (earlier) are the
    /// CO2 part, and so on. Anything else (`kWh (Net CV)` in the SECR kWh tables) is not an
    /// emission figure.
    fn of(label: &str) -> Option<Self> {
        let t = label
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let part = |g: &str| match g {
            "co2" => Some(Self::Co2),
            "ch4" => Some(Self::Ch4),
            "n2o" => Some(Self::N2o),
            _ => None,
        };
        if t == "kg co2e" || t == "kgco2e" {
            return Some(Self::Total);
        }
        if let Some(rest) = t.strip_prefix("kg co2e of ") {
            return part(rest.split_whitespace().next().unwrap_or(""));
        }
        t.strip_prefix("kg ").and_then(part)
    }
}

/// What identifies one activity's rows: its gas rows share all of these.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    scope: Scope,
    levels: Vec<String>,
    column_text: Option<String>,
    unit_text: String,
}

/// One figure and the row it came from.
type Figure = (Decimal, u64);

/// The rows of one activity and unit, gathered.
#[derive(Debug, Clone)]
struct Group {
    key: GroupKey,
    unit: Unit,
    total: Option<Figure>,
    co2: Option<Figure>,
    ch4: Option<Figure>,
    n2o: Option<Figure>,
    rows: Vec<u64>,
}

/// The reasons rows were left out, in the order first met, each with its rows.
#[derive(Debug, Default)]
struct Skips {
    reasons: Vec<(String, Vec<u64>)>,
    index: HashMap<String, usize>,
}

impl Skips {
    fn add(&mut self, reason: String, rows: &[u64]) {
        match self.index.get(&reason) {
            Some(&i) => self.reasons[i].1.extend_from_slice(rows),
            None => {
                self.index.insert(reason.clone(), self.reasons.len());
                self.reasons.push((reason, rows.to_vec()));
            }
        }
    }

    /// One line per reason: `reason (row 12)` or `reason (3 rows: 12, 13, 14)`.
    fn lines(self) -> Vec<String> {
        const LISTED: usize = 8;
        self.reasons
            .into_iter()
            .map(|(reason, rows)| match rows.as_slice() {
                [one] => format!("{reason} (row {one})"),
                _ => {
                    let listed = rows
                        .iter()
                        .take(LISTED)
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let more = if rows.len() > LISTED { ", …" } else { "" };
                    format!("{reason} ({} rows: {listed}{more})", rows.len())
                }
            })
            .collect()
    }
}

/// Gathers the rows of a flat file into factors.
struct FlatReader<'a> {
    file: &'a str,
    columns: &'a FlatColumns,
    groups: Vec<Group>,
    index: HashMap<GroupKey, usize>,
    skips: Skips,
}

impl<'a> FlatReader<'a> {
    fn new(file: &'a str, columns: &'a FlatColumns) -> Self {
        Self {
            file,
            columns,
            groups: Vec::new(),
            index: HashMap::new(),
            skips: Skips::default(),
        }
    }

    /// Takes one data row: into its group, or into the skipped list.
    fn row(&mut self, row: &Row) {
        let c = self.columns;
        let value_text = c.cell(row, c.value);
        if value_text.is_empty() {
            return; // not applicable: the files leave such cells blank
        }
        let levels: Vec<String> = c
            .levels
            .iter()
            .filter_map(|&i| c.heading(row, i))
            .map(str::to_string)
            .collect();
        let column_text = c.heading(row, c.column_text).map(str::to_string);
        let unit_text = c.cell(row, c.uom).to_string();
        let gas_text = c.cell(row, c.gas);
        let mut path = levels.clone();
        path.extend(column_text.clone());
        let path = path.join(" > ");
        let level1 = levels.first().map_or("(no Level 1)", String::as_str);

        let Some(gas) = Gas::of(gas_text) else {
            let reason = if gas_text.is_empty() {
                format!("`{level1}`: no gas in the `GHG` column, so the figure cannot be placed")
            } else {
                format!(
                    "`{level1}`: figures in {} per unit, not kg CO2e, are not emission factors",
                    quoted(gas_text)
                )
            };
            self.skips.add(reason, &[row.number]);
            return;
        };
        if levels.is_empty() {
            self.skips.add(
                "a figure with no Level 1 to Level 4 heading cannot be named".into(),
                &[row.number],
            );
            return;
        }
        let scope_text = c.cell(row, c.scope);
        let Ok(scope) = Scope::from_str(scope_text) else {
            self.skips.add(
                format!("`{path} [{unit_text}]`: scope `{scope_text}` is not Scope 1, 2, 3 or Outside of Scopes"),
                &[row.number],
            );
            return;
        };
        let unit = match unit_text.parse::<Unit>() {
            Ok(u) => u,
            Err(_) => {
                let reason = if unit_text.is_empty() {
                    format!("`{level1}`: no unit in the `UOM` column")
                } else {
                    format!("unit `{unit_text}` is not one greenplan knows")
                };
                self.skips.add(reason, &[row.number]);
                return;
            }
        };
        let Some(value) = number(value_text) else {
            self.skips.add(
                format!(
                    "`{path} [{unit_text}]`: the {gas_text} value `{value_text}` is not a number"
                ),
                &[row.number],
            );
            return;
        };

        let key = GroupKey {
            scope,
            levels,
            column_text,
            unit_text,
        };
        let at = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.index.insert(key.clone(), self.groups.len());
                self.groups.push(Group {
                    key,
                    unit,
                    total: None,
                    co2: None,
                    ch4: None,
                    n2o: None,
                    rows: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[at];
        group.rows.push(row.number);
        let slot = match gas {
            Gas::Total => &mut group.total,
            Gas::Co2 => &mut group.co2,
            Gas::Ch4 => &mut group.ch4,
            Gas::N2o => &mut group.n2o,
        };
        match *slot {
            None => *slot = Some((value, row.number)),
            // The same figure twice: one is enough.
            Some((first, _)) if first == value => {}
            Some((first, first_row)) => self.skips.add(
                format!(
                    "`{path} [{}]`: a second {gas_text} figure {value} differs from row {first_row}'s {first}; kept row {first_row}",
                    group.key.unit_text
                ),
                &[row.number],
            ),
        }
    }

    /// Turns the groups into factors.
    ///
    /// Duplicates: none of the 2019-2023 files holds two groups with the same
    /// [`Factor::key`] (checked when this reader was written). Should a future file repeat
    /// an activity, the first is kept and the repeat reported in the skipped list, whether or
    /// not its figure differs: two factors under one key would make the key ambiguous, and
    /// inventing a distinguishing name would give users a path that is not in the file.
    fn finish(mut self, edition: &str) -> (Vec<Factor>, Vec<String>) {
        let mut factors: Vec<Factor> = Vec::with_capacity(self.groups.len());
        let mut keys: HashMap<String, usize> = HashMap::new();
        for g in std::mem::take(&mut self.groups) {
            let gases = GasParts {
                co2: g.co2.map(|f| f.0),
                ch4: g.ch4.map(|f| f.0),
                n2o: g.n2o.map(|f| f.0),
            };
            // Biogenic CO2 (Outside of Scopes) is published as a CO2 part only: that part is
            // the whole figure.
            let total = g.total.or(if g.key.scope == Scope::OutsideOfScopes {
                g.co2
            } else {
                None
            });
            let level1 = g.key.levels.first().cloned().unwrap_or_default();
            let Some((kgco2e, row)) = total else {
                self.skips.add(
                    format!("`{level1}`: per-gas figures without a kg CO2e total are left out"),
                    &g.rows,
                );
                continue;
            };
            let factor = Factor {
                edition: edition.to_string(),
                scope: g.key.scope,
                levels: g.key.levels,
                column_text: g.key.column_text,
                unit_text: g.key.unit_text,
                unit: g.unit,
                kgco2e,
                gases,
                activity: None,
                category: None,
                source: format!("{}, row {row}", self.file),
            };
            let key = factor.key();
            if let Some(&first) = keys.get(&key) {
                let kept: &Factor = &factors[first];
                self.skips.add(
                    format!(
                        "`{key}` appears again ({}); kept {}",
                        factor.kgco2e, kept.source
                    ),
                    &g.rows,
                );
                continue;
            }
            keys.insert(key, factors.len());
            factors.push(factor);
        }
        (factors, self.skips.lines())
    }
}

/// Text in backticks, or in double quotes when it holds a backtick itself (2020 and 2021 have
/// a stray backtick in the `GHG` column).
fn quoted(text: &str) -> String {
    if text.contains('`') {
        format!("\"{text}\"")
    } else {
        format!("`{text}`")
    }
}

/// A figure from a cell's text. Cells hold `f64`s, turned into their shortest round-trip text
/// by [`table::float_text`]; that text is parsed exactly. Text with more decimal places than
/// a `Decimal` holds (below about 1e-11 with 17 digits) is rounded to 28 places, in decimal.
fn number(text: &str) -> Option<Decimal> {
    parse_decimal(text).or_else(|| Decimal::from_str(text.trim()).ok())
}

/// Reads a custom factor file (CSV or XLSX) with the header
/// The largest kgCO2e a factor may give per unit: 10^9 kg (a million tonnes). The most
/// potent gas in the factor files, SF6, is about 25,000 kg per kg, 2.5 × 10^7 per tonne; no
/// real factor comes near the bound, and a bounded factor times a bounded quantity
/// (`quantity::largest`) stays far inside a decimal (issue 21, class 2).
pub const MAX_FACTOR_KGCO2E: i64 = 1_000_000_000;

fn check_factor_bound(value: Decimal) -> Result<Decimal, String> {
    if value.abs() > Decimal::from(MAX_FACTOR_KGCO2E) {
        Err(format!(
            "`{}` kgCO2e per unit is more than any factor can be: the largest is 1,000,000,000; check the figure and the factor's unit",
            value.normalize()
        ))
    } else {
        Ok(value)
    }
}

/// `edition,activity,unit,scope,category,kgco2e` and optional `kgco2,kgch4,kgn2o,source`.
///
/// Every row is checked and every problem reported together, each naming its row and
/// column: an unknown unit, scope or category, a figure that is not a number, an empty
/// edition or activity, or a second row for the same edition, activity and unit.
pub fn read_custom_factors(path: &Path) -> Result<Vec<Factor>, IngestError> {
    let (header, rows) = table::open(
        path,
        crate::source::FileKind::Factors,
        CUSTOM_REQUIRED,
        CUSTOM_OPTIONAL,
    )?;
    let file = file_name(path);
    let mut factors = Vec::new();
    // (edition, activity as matched, unit) → first row.
    let mut seen: HashMap<(String, String, Unit), u64> = HashMap::new();

    let errors = table::for_each_row(&file, rows, |row, fail| {
        let get = |name: &str| row.get(&header, name);

        let edition = get("edition");
        if edition.is_none() {
            fail(
                "edition",
                "is empty: name the edition these factors belong to, e.g. uk-2023".into(),
            );
        }
        let activity = get("activity");
        if activity.is_none() {
            fail("activity", "is empty: name the activity, e.g. supplier-tariff-edf-nuclear; activity rows use this name".into());
        }
        let unit = match get("unit") {
            None => {
                fail(
                    "unit",
                    "is empty: give the unit the factor is per, e.g. kWh or litres".into(),
                );
                None
            }
            Some(v) => v
                .parse::<Unit>()
                .map_err(|e| fail("unit", e.to_string()))
                .ok(),
        };
        let scope = match get("scope") {
            None => {
                fail(
                    "scope",
                    "is empty: use 1, 2, 3 (or Scope 1 / Scope 2 / Scope 3) or `outside`".into(),
                );
                None
            }
            Some(v) => v
                .parse::<Scope>()
                .map_err(|e| fail("scope", e.to_string()))
                .ok(),
        };
        let category = match get("category") {
            None => {
                fail(
                    "category",
                    "is empty: give the NHS category, e.g. building-energy".into(),
                );
                None
            }
            Some(v) => v
                .parse::<NhsCategory>()
                .map_err(|e| fail("category", e.to_string()))
                .ok(),
        };
        let mut figure = |column: &str, required: bool| -> Option<Decimal> {
            match get(column) {
                None if required => {
                    fail(column, "is empty: give kg CO2e per unit as a number, e.g. 0.18293 (0 for a zero-carbon tariff)".into());
                    None
                }
                None => None,
                Some(v) => parse_decimal(v)
                    .ok_or_else(|| {
                        fail(column, format!("`{v}` is not a number: give kg per unit as digits only, e.g. 0.18293, without units"))
                    })
                    .and_then(|d| check_factor_bound(d).map_err(|e| fail(column, e)))
                    .ok(),
            }
        };
        let kgco2e = figure("kgco2e", true);
        let gases = GasParts {
            co2: figure("kgco2", false),
            ch4: figure("kgch4", false),
            n2o: figure("kgn2o", false),
        };

        if let (Some(edition), Some(activity), Some(unit)) = (edition, activity, &unit) {
            let key = (edition.to_string(), normalise(activity), unit.clone());
            if let Some(first) = seen.get(&key) {
                fail(
                    "activity",
                    format!(
                        "`{activity}` in {unit} already has a factor in edition {edition} (row {first}): delete one of the rows or give them different activity names"
                    ),
                );
            } else {
                seen.insert(key, row.number);
            }
        }

        if let (
            Some(edition),
            Some(activity),
            Some(unit_text),
            Some(unit),
            Some(scope),
            Some(category),
            Some(kgco2e),
        ) = (
            edition,
            activity,
            get("unit"),
            unit,
            scope,
            category,
            kgco2e,
        ) {
            factors.push(Factor {
                edition: edition.to_string(),
                scope,
                levels: vec![activity.to_string()],
                column_text: None,
                unit_text: unit_text.to_string(),
                unit,
                kgco2e,
                gases,
                activity: Some(activity.to_string()),
                category: Some(category),
                source: get("source")
                    .map_or_else(|| format!("{file}, row {}", row.number), str::to_string),
            });
        }
    })?;
    table::all_or_nothing(file, CUSTOM_REQUIRED.join(","), factors, errors)
}

/// Columns a spend factor file must have: a procurement category and its kgCO2e per £.
pub const SPEND_REQUIRED: &[&str] = &["category", "kgco2e_per_gbp"];
/// Columns a spend factor file may have.
pub const SPEND_OPTIONAL: &[&str] = &["source"];

/// Reads a spend factor set (CSV or XLSX, header `category,kgco2e_per_gbp[,source]`) into
/// factors of the edition `edition`: one per procurement spend category, named as spend lines
/// look them up (`spend-<category>`), per £ (GBP), in Scope 3 and the category's Carbon
/// Footprint Plus category. `source` is each factor's source where a row gives none.
///
/// As with any file the user writes, every problem of every row is reported together (an
/// unknown category, with the allowed ones; a figure that is not a positive number; a
/// category given twice) and nothing is taken until it is fixed.
pub fn read_spend_factors(
    path: &Path,
    edition: &str,
    source: Option<&str>,
) -> Result<Vec<Factor>, IngestError> {
    use greenplan_core::register::{Field, FieldKind, procurement};
    let category_field = Field::new(
        "category",
        "Category",
        FieldKind::Choice(procurement::CATEGORIES),
    );
    let (header, rows) = table::open(
        path,
        crate::source::FileKind::SpendFactors,
        SPEND_REQUIRED,
        SPEND_OPTIONAL,
    )?;
    let file = file_name(path);
    let mut factors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let errors = table::for_each_row(&file, rows, |row, fail| {
        let get = |name: &str| row.get(&header, name);
        let category = category_field
            .parse(get("category").unwrap_or(""))
            .map_err(|m| fail("category", format!("Category: {m}")))
            .ok();
        let kgco2e = match get("kgco2e_per_gbp").map(|v| (v, parse_decimal(v))) {
            Some((_, Some(d))) if d > Decimal::ZERO => check_factor_bound(d)
                .map_err(|e| fail("kgco2e_per_gbp", e))
                .ok(),
            other => {
                let given = other.map_or_else(String::new, |(v, _)| format!("`{v}` "));
                fail(
                    "kgco2e_per_gbp",
                    format!(
                        "{given}is not a positive number: give kg CO2e per £ as digits only, e.g. 0.45"
                    ),
                );
                None
            }
        };
        let (Some(category), Some(kgco2e)) = (category, kgco2e) else {
            return;
        };
        if let Some(first) = seen.get(&category) {
            fail(
                "category",
                format!("`{category}` already has a factor (row {first}): keep one of the rows"),
            );
            return;
        }
        seen.insert(category.clone(), row.number);
        let activity = procurement::spend_factor_name(&category);
        factors.push(Factor {
            edition: edition.to_string(),
            scope: Scope::Scope3,
            levels: vec![activity.clone()],
            column_text: None,
            unit_text: "GBP".into(),
            unit: Unit::new(greenplan_core::unit::UnitKind::Pound),
            kgco2e,
            gases: GasParts::default(),
            activity: Some(activity),
            category: procurement::nhs_category(&category),
            source: get("source")
                .or(source)
                .map_or_else(|| format!("{file}, row {}", row.number), str::to_string),
        });
    })?;
    table::all_or_nothing(file, SPEND_REQUIRED.join(","), factors, errors)
}

/// Activity names as [`greenplan_core::factor::FactorSet::resolve`] matches them: case and
/// spaces ignored, so `EDF Nuclear` and `edf nuclear` are one activity.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn years_in_file_names() {
        assert_eq!(
            year_in("uk-ghg-conversion-factors-2023-flat-file.xlsx"),
            Some(2023)
        );
        assert_eq!(year_in("factors_2019.xls"), Some(2019));
        assert_eq!(year_in("factors-120234.xls"), None);
        assert_eq!(year_in("factors-1999.xls"), None);
        assert_eq!(year_in("v12-2021"), Some(2021));
        assert_eq!(
            edition_name_from_file(Path::new("/x/GHG 2024 flat.xlsx")).as_deref(),
            Some("uk-2024")
        );
        assert_eq!(edition_name_from_file(Path::new("/x/flat.xlsx")), None);
    }

    #[test]
    fn gas_labels_of_every_layout() {
        assert_eq!(Gas::of("kg CO2e"), Some(Gas::Total));
        assert_eq!(Gas::of("kg CO2e of CO2 per unit"), Some(Gas::Co2));
        assert_eq!(Gas::of("kg CO2e of CH4 per unit"), Some(Gas::Ch4));
        assert_eq!(Gas::of("kg CO2e of N2O per unit"), Some(Gas::N2o));
        assert_eq!(Gas::of(" kg  CO2 "), Some(Gas::Co2));
        assert_eq!(Gas::of("kg CH4"), Some(Gas::Ch4));
        assert_eq!(Gas::of("kg N2O"), Some(Gas::N2o));
        assert_eq!(Gas::of("kWh (Net CV)"), None);
        assert_eq!(Gas::of("`"), None);
    }

    #[test]
    fn numbers_keep_their_published_digits() {
        assert_eq!(
            number("0.18292892617449666")
                .map(|d| d.to_string())
                .as_deref(),
            Some("0.18292892617449666")
        );
        assert_eq!(
            number("9.781879194630873e-05")
                .map(|d| d.to_string())
                .as_deref(),
            Some("0.00009781879194630873")
        );
        assert_eq!(
            number(&table::float_text(9.781879194630873e-05))
                .map(|d| d.to_string())
                .as_deref(),
            Some("0.00009781879194630873")
        );
        assert_eq!(number("< 1"), None);
        assert!(number(&table::float_text(1.2345678901234567e-20)).is_some());
    }

    fn row(number: u64, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .into(),
        }
    }

    const HEADER_2019: &[&str] = &[
        "Scope",
        "Level 1",
        "Level 2",
        "Level 3",
        "Level 4",
        "Column Text",
        "UOM (simple)",
        "UOM",
        "GHG",
        "Lookup",
        "GHG Conversion Factor 2019",
    ];

    #[test]
    fn header_is_found_by_content_and_columns_by_name() {
        let rows = vec![
            row(1, &["Factors by Category"]),
            row(2, &[]),
            row(3, HEADER_2019),
        ];
        let (at, c) = FlatColumns::find("f.xls", "s", &rows).unwrap();
        assert_eq!(at, 2);
        assert_eq!((c.uom, c.gas, c.value), (7, 8, 10));
        assert_eq!(c.value_name, "GHG Conversion Factor 2019");

        // `UOM (simple)` is not `UOM`.
        let no_uom: Vec<&str> = HEADER_2019
            .iter()
            .copied()
            .filter(|h| *h != "UOM")
            .collect();
        let err = FlatColumns::find("f.xls", "s", &[row(5, &no_uom)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row 5") && err.contains("has no `UOM` column"),
            "{err}"
        );
        assert!(
            err.contains("`UOM (simple)`") && err.contains("`Lookup`"),
            "{err}"
        );

        let err = FlatColumns::find("f.xls", "s", &[row(1, &["a", "b"])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no header row"), "{err}");
    }

    #[test]
    fn gas_rows_are_grouped_and_odd_rows_reported() {
        let rows = vec![row(1, HEADER_2019)];
        let (_, c) = FlatColumns::find("f.xls", "s", &rows).unwrap();
        let mut r = FlatReader::new("f.xls", &c);
        let gas = |n: u64, l4: &str, ghg: &str, v: &str| {
            row(
                n,
                &[
                    "Scope 1",
                    "Fuels",
                    "Gaseous fuels",
                    "Natural gas",
                    l4,
                    "Energy - Gross CV",
                    "kWh",
                    "kWh (Gross CV)",
                    ghg,
                    "",
                    v,
                ],
            )
        };
        r.row(&gas(2, "", "kg CO2e", "0.18385"));
        r.row(&gas(3, "0", "kg CO2", "0.18351"));
        r.row(&gas(4, "", "kg CH4", "0.00024"));
        r.row(&gas(5, "", "kg N2O", ""));
        r.row(&gas(6, "", "kg CO2e", "0.18385")); // repeated, same figure
        r.row(&gas(7, "", "kg CO2e", "0.2")); // repeated, different figure
        r.row(&row(
            8,
            &[
                "Scope 1", "Fuels", "Odd", "", "", "", "", "furlongs", "kg CO2e", "", "1",
            ],
        ));
        r.row(&row(
            9,
            &[
                "Scope 1",
                "Refrigerant & other",
                "R1234yf",
                "",
                "",
                "",
                "",
                "kg",
                "kg CO2e",
                "",
                "< 1",
            ],
        ));
        r.row(&row(
            10,
            &[
                "Outside of Scopes",
                "Outside of scopes",
                "Biofuel",
                "",
                "",
                "",
                "",
                "litres",
                "kg CO2",
                "",
                "1.5",
            ],
        ));
        r.row(&row(
            11,
            &[
                "Scope 3", "Managed", "Car", "", "", "", "", "km", "kg CO2", "", "0.1",
            ],
        ));
        let (factors, skipped) = r.finish("uk-2019");
        assert_eq!(factors.len(), 2, "{factors:?}");
        let g = &factors[0];
        assert_eq!(
            g.key(),
            "Fuels > Gaseous fuels > Natural gas > Energy - Gross CV [kWh (Gross CV)]"
        );
        assert_eq!(g.kgco2e.to_string(), "0.18385");
        assert_eq!(
            g.gases.co2.map(|d| d.to_string()).as_deref(),
            Some("0.18351")
        );
        assert_eq!(g.gases.n2o, None);
        assert_eq!(g.source, "f.xls, row 2");
        assert_eq!(factors[1].kgco2e.to_string(), "1.5");
        assert_eq!(factors[1].gases.co2, Some(factors[1].kgco2e));
        assert_eq!(skipped.len(), 4, "{skipped:?}");
        assert!(
            skipped[0].contains("differs from row 2") && skipped[0].ends_with("(row 7)"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].contains("`furlongs`") && skipped[1].ends_with("(row 8)"),
            "{skipped:?}"
        );
        assert!(skipped[2].contains("`< 1` is not a number"), "{skipped:?}");
        assert!(
            skipped[3].contains("without a kg CO2e total") && skipped[3].ends_with("(row 11)"),
            "{skipped:?}"
        );
    }

    #[test]
    fn skipped_lines_count_their_rows() {
        let mut s = Skips::default();
        s.add("a".into(), &[3]);
        s.add("b".into(), &[4, 5]);
        s.add("b".into(), &[6]);
        let f = FactorFile {
            edition: "x".into(),
            year: None,
            factors: vec![],
            skipped: s.lines(),
            source: "f".into(),
        };
        assert_eq!(
            f.skipped,
            vec!["a (row 3)".to_string(), "b (3 rows: 4, 5, 6)".to_string()]
        );
        assert_eq!(f.skipped_rows(), 4);
    }
}
