//! Workbooks made to hurt: a zip bomb, cells spread over the whole sheet, a CSV dressed as
//! an XLSX. Each is refused with a message that says what to do, in bounded memory, without
//! a panic. (Found while hardening: a 2-cell sheet used to be read as the 17 billion cells
//! between A1 and XFD1048576.)

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use greenplan_ingest::table::{MAX_WORKBOOK_EXPANDED_BYTES, read_sheet};
use std::io::Write;

fn saved(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn refusal(path: &std::path::Path) -> String {
    match read_sheet(path) {
        Ok(rows) => panic!("read {} rows", rows.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_unpacked() {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let block = vec![b'<'; 1 << 20];
    for _ in 0..(MAX_WORKBOOK_EXPANDED_BYTES >> 20) + 1 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    let bytes = out.into_inner();
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let (_dir, path) = saved("bomb.xlsx", &bytes);
    let message = refusal(&path);
    assert!(
        message.contains("unpacks to 257 MB, more than the 256 MB greenplan reads; save it as CSV"),
        "{message}"
    );
}

#[test]
fn a_stray_cell_far_away_is_named_not_allocated() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "organisation").unwrap();
    sheet.write_number(1_048_575, 16_383, 1.0).unwrap();
    let (_dir, path) = saved("far.xlsx", &book.save_to_buffer().unwrap());
    let message = refusal(&path);
    assert!(
        message.contains("row 1048576 has a value in column 16384 (beyond the 1000 columns greenplan reads): delete it"),
        "{message}"
    );
}

#[test]
fn rows_far_apart_are_read_as_the_rows_they_are() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(2, 1, "organisation").unwrap();
    sheet.write_string(2, 2, "site").unwrap();
    sheet.write_string(1_048_575, 1, "RTG").unwrap();
    sheet.write_number(1_048_575, 3, 2.5).unwrap();
    let (_dir, path) = saved("sparse.xlsx", &book.save_to_buffer().unwrap());
    let rows = read_sheet(&path).unwrap();
    let rows: Vec<(u64, Vec<&str>)> = rows
        .iter()
        .map(|r| (r.number, r.cells.iter().collect()))
        .collect();
    // Numbered as the sheet shows them; columns from the first used one (B), as before.
    assert_eq!(
        rows,
        [
            (3, vec!["organisation", "site"]),
            (1_048_576, vec!["RTG", "", "2.5"])
        ]
    );
}

#[test]
fn a_csv_named_xlsx_is_told_to_be_saved_again() {
    let (_dir, path) = saved("return.xlsx", b"organisation,site\nRTG,\n");
    let message = refusal(&path);
    assert!(
        message.contains("it is not an XLSX workbook")
            && message.contains("save it again as .xlsx or CSV"),
        "{message}"
    );
}
