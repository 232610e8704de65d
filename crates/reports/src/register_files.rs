//! Register files as greenplan hands them out, the same from the web app and the command line:
//! the CSV export, and the workbook export (every live record) and import template (the header
//! only), both with a note on each column saying what it holds and, for fixed lists and yes/no
//! columns, a drop-down (Excel data validation) so a typed value cannot go astray. Values are
//! written in their canonical text, in the template's columns, so an export imports back as
//! it is (`greenplan_ingest::register_file` reads them).

use crate::xlsx::{cell_text, rows_left_out, rows_that_fit};
use greenplan_core::csv_cell::neutralise;
use greenplan_core::register::{FieldKind, Record, Register};
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, Note, Workbook, XlsxError};

/// Rows the template's drop-downs cover.
const TEMPLATE_ROWS: u32 = 5000;

/// The records as CSV: the template's columns, then one line per record, every cell through
/// the service's formula rule ([`greenplan_core::csv_cell`]; the importer takes the quote
/// off again).
pub fn csv(register: &Register, records: &[Record]) -> Result<Vec<u8>, csv::Error> {
    let columns = register.columns();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&columns)?;
    for r in records {
        w.write_record(columns.iter().map(|k| neutralise(r.text(k).unwrap_or(""))))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The records as a workbook (no records: the import template).
pub fn workbook(register: &Register, records: &[Record]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Records")?;
    let bold = Format::new().set_bold();
    for (c, f) in register.fields.iter().enumerate() {
        let c = c as u16;
        sheet.write_string_with_format(0, c, f.key, &bold)?;
        sheet.set_column_width(c, 20)?;
        let mut note = format!(
            "{}{}.",
            f.label,
            if f.required {
                " (required)"
            } else {
                " (optional)"
            }
        );
        if let Some(unit) = f.unit() {
            note.push_str(&format!(" In {unit}."));
        }
        if !f.hint.is_empty() {
            note.push_str(&format!(" {}.", f.hint));
        }
        sheet.insert_note(0, c, &Note::new(note).set_author("greenplan"))?;
        if let Some(dv) = validation(f.kind)? {
            sheet.add_data_validation(1, c, TEMPLATE_ROWS, c, &dv)?;
        }
        for (r, record) in records
            .iter()
            .take(rows_that_fit(records.len()))
            .enumerate()
        {
            let r = r as u32 + 1;
            let Some(v) = record.text(f.key) else {
                continue;
            };
            match (f.kind, v.parse::<f64>()) {
                (FieldKind::Decimal { .. } | FieldKind::Percent | FieldKind::Whole, Ok(n)) => {
                    sheet.write_number(r, c, n)?;
                }
                _ => {
                    sheet.write_string(r, c, cell_text(v))?;
                }
            }
        }
    }
    if let Some(line) = rows_left_out(records.len()) {
        sheet.write_string(1 + rows_that_fit(records.len()) as u32, 0, &line)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

fn validation(kind: FieldKind) -> Result<Option<DataValidation>, XlsxError> {
    Ok(match kind {
        FieldKind::Choice(choices) => {
            let list: Vec<&str> = choices.iter().map(|c| c.slug).collect();
            Some(DataValidation::new().allow_list_strings(&list)?)
        }
        FieldKind::YesNo => Some(DataValidation::new().allow_list_strings(&["yes", "no"])?),
        FieldKind::Percent => Some(
            DataValidation::new()
                .allow_decimal_number(DataValidationRule::Between(0.0, 100.0))
                .set_input_message("A percentage from 0 to 100")?,
        ),
        _ => None,
    })
}
