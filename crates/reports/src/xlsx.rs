//! A report as an Excel workbook: a summary sheet, then one sheet per table, with the header
//! row frozen, units in the headers and every figure a real number cell (text cells are
//! written as text, so a value starting with `=` is never a formula).

use crate::ReportError;
use crate::model::{Cell, Report, Table};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

/// Longest sheet name Excel accepts.
const SHEET_NAME_MAX: usize = 31;

/// The most characters Excel keeps in one cell.
pub const MAX_CELL_CHARS: usize = 32_767;

/// The most rows a worksheet holds (the header row included).
pub const MAX_ROWS: usize = 1_048_576;

/// What ends a cell cut to fit Excel, so the reader sees that text is missing.
pub const CUT_MARKER: &str =
    " … [cut: Excel holds at most 32,767 characters in a cell; the full text is in greenplan]";

/// Text as every workbook writer of the service writes it into a cell: unchanged when it fits
/// Excel's 32,767 characters, otherwise cut, ending with [`CUT_MARKER`] (a longer cell makes
/// the whole workbook fail to write, or Excel refuse to open it). Owned, as the writer takes
/// its text.
pub fn cell_text(text: &str) -> String {
    if text.len() <= MAX_CELL_CHARS || text.chars().count() <= MAX_CELL_CHARS {
        return text.to_string();
    }
    let keep = MAX_CELL_CHARS - CUT_MARKER.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(CUT_MARKER);
    cut
}

/// How many of `count` data rows fit a sheet below its header row and one row saying what
/// was left out; the rest are named by [`rows_left_out`].
pub fn rows_that_fit(count: usize) -> usize {
    if count < MAX_ROWS {
        count
    } else {
        MAX_ROWS - 2
    }
}

/// The line written after the last row that fit, when some did not.
pub fn rows_left_out(count: usize) -> Option<String> {
    (rows_that_fit(count) < count).then(|| {
        format!(
            "… {} more rows are not in this sheet: Excel holds at most 1,048,576 rows. Download the CSV for every row.",
            count - rows_that_fit(count)
        )
    })
}

/// A sheet name from a table title: without the characters Excel forbids, at most 31
/// characters, unique in the workbook.
pub fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .collect();
    let clean = clean.trim().trim_matches('\'').to_string();
    let base: String = clean.chars().take(SHEET_NAME_MAX).collect();
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" ({n})");
        let keep = SHEET_NAME_MAX - suffix.chars().count();
        name = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        n += 1;
    }
    name
}

fn number_format(text: &str) -> String {
    match text.split_once('.') {
        Some((_, frac)) if !frac.is_empty() => format!("#,##0.{}", "0".repeat(frac.len())),
        _ => "#,##0".to_string(),
    }
}

/// Renders the report as an XLSX workbook.
pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    summary_sheet(book.add_worksheet(), report)?;
    let mut taken = vec!["Summary".to_string()];
    for table in report.tables() {
        let name = sheet_name(&table.title, &taken);
        taken.push(name.clone());
        table_sheet(book.add_worksheet(), &name, table)?;
    }
    Ok(book.save_to_buffer()?)
}

fn summary_sheet(sheet: &mut Worksheet, report: &Report) -> Result<(), ReportError> {
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    sheet.set_name("Summary")?;
    sheet.set_column_width(0, 40)?;
    sheet.set_column_width(1, 60)?;
    sheet.write_string_with_format(0, 0, cell_text(&report.title), &title)?;
    let scope = report.organisation.as_ref().map_or_else(
        || "Whole system".to_string(),
        |o| format!("{} ({})", o.name, o.code),
    );
    let lines = [
        ("Plan", report.subtitle.clone()),
        ("Reporting period", report.period.clone()),
        ("Figures as at", crate::compose::long_date(report.as_at)),
        ("Scope", scope),
        ("Generated", report.generated.clone()),
    ];
    for (i, (k, v)) in lines.iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write_string_with_format(row, 0, *k, &bold)?;
        sheet.write_string(row, 1, cell_text(v))?;
    }
    let start = 3 + lines.len() as u32;
    sheet.write_string_with_format(start, 0, "Key figure", &bold)?;
    sheet.write_string_with_format(start, 1, "Value", &bold)?;
    for (i, k) in report.key_figures.iter().enumerate() {
        let row = start + 1 + i as u32;
        sheet.write_string(row, 0, cell_text(&k.label))?;
        let value = if k.note.is_empty() {
            k.value.clone()
        } else {
            format!("{} ({})", k.value, k.note)
        };
        sheet.write_string(row, 1, cell_text(&value))?;
    }
    Ok(())
}

fn table_sheet(sheet: &mut Worksheet, name: &str, table: &Table) -> Result<(), ReportError> {
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color("#005EB8")
        .set_font_color("#FFFFFF");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    sheet.set_name(name)?;
    for (c, col) in table.columns.iter().enumerate() {
        let c = c as u16;
        sheet.write_string_with_format(0, c, cell_text(&col.header()), &header)?;
        let width = if col.figures {
            16.0
        } else {
            (f64::from(col.width) * 14.0).clamp(10.0, 60.0)
        };
        sheet.set_column_width(c, width)?;
    }
    let fit = rows_that_fit(table.rows.len());
    for (r, row) in table.rows.iter().take(fit).enumerate() {
        let r = 1 + r as u32;
        for (c, cell) in row.iter().enumerate() {
            write_cell(sheet, r, c as u16, cell, &wrap)?;
        }
    }
    if let Some(line) = rows_left_out(table.rows.len()) {
        sheet.write_string(1 + fit as u32, 0, &line)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    if !table.rows.is_empty() {
        sheet.autofilter(
            0,
            0,
            fit as u32,
            table.columns.len().saturating_sub(1) as u16,
        )?;
    }
    Ok(())
}

fn write_cell(
    sheet: &mut Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    wrap: &Format,
) -> Result<(), ReportError> {
    match cell {
        Cell::Number { value, text } => {
            // Excel keeps numbers as doubles: the exact decimal is printed beside in the PDF.
            let v: f64 = value.to_string().parse().unwrap_or(f64::NAN);
            let format = Format::new()
                .set_num_format(number_format(text))
                .set_align(FormatAlign::Top);
            sheet.write_number_with_format(r, c, v, &format)?;
        }
        Cell::Text { text } | Cell::Rag { text, .. } => {
            sheet.write_string_with_format(r, c, cell_text(text), wrap)?;
        }
        Cell::Empty => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_longer_than_a_cell_is_cut_with_a_marker() {
        let short = "é".repeat(MAX_CELL_CHARS);
        assert_eq!(cell_text(&short), short);
        let long = "é".repeat(40_000);
        let cut = cell_text(&long);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(cut.ends_with(CUT_MARKER));
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        assert!(
            sheet.write_string(0, 0, &long).is_err(),
            "Excel's limit, as the writer knows it"
        );
        sheet.write_string(0, 0, &cut).unwrap();
        assert!(book.save_to_buffer().is_ok());
        assert_eq!(rows_that_fit(10), 10);
        assert_eq!(rows_that_fit(MAX_ROWS), MAX_ROWS - 2);
        assert!(rows_left_out(MAX_ROWS - 1).is_none());
        assert!(rows_left_out(MAX_ROWS).unwrap().contains("2 more rows"));
    }

    #[test]
    fn sheet_names_are_legal_and_unique() {
        let taken = vec!["Summary".to_string()];
        let long = "Estates and Facilities: priority actions [draft]";
        let a = sheet_name(long, &taken);
        assert!(a.chars().count() <= 31);
        assert!(!a.contains(['[', ']', ':']));
        let b = sheet_name(long, &[taken[0].clone(), a.clone()]);
        assert_ne!(a, b);
        assert!(b.ends_with(" (2)") && b.chars().count() <= 31);
    }

    #[test]
    fn number_formats_follow_the_printed_decimals() {
        assert_eq!(number_format("1,234.5"), "#,##0.0");
        assert_eq!(number_format("12"), "#,##0");
        assert_eq!(number_format("0.125"), "#,##0.000");
    }
}
