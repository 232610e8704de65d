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

/// `bytes` (an XLSX) with every occurrence of `from` in its first worksheet replaced by `to`.
fn with_sheet_text_replaced(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..book.len() {
        let mut part = book.by_index(i).unwrap();
        let name = part.name().unwrap().to_string();
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut part, &mut text).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            text = String::from_utf8(text)
                .unwrap()
                .replace(from, to)
                .into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&text).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Found by the activity_xlsx fuzzer (CI, stop 11): a cell reference of 20 letters overflows
/// calamine's column arithmetic, which panicked inside the reader. It is a damaged workbook.
#[test]
fn a_cell_reference_too_long_to_be_one_is_a_damaged_workbook() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "organisation").unwrap();
    sheet.write_string(1, 0, "RTG").unwrap();
    let good = book.save_to_buffer().unwrap();
    let (_dir, path) = saved("good.xlsx", &good);
    assert_eq!(
        read_sheet(&path).unwrap().len(),
        2,
        "the undamaged file reads"
    );
    let bad = with_sheet_text_replaced(&good, "r=\"A2\"", "r=\"AAAAAAAAAAAAAAAAAAAA2\"");
    let (_dir, path) = saved("return.xlsx", &bad);
    let message = refusal(&path);
    assert!(
        message.contains("the workbook is damaged") && message.contains("save it again"),
        "{message}"
    );
}

/// A compound-file (.xls) header whose FAT sector is cut short after 3 bytes: calamine asserts
/// that a sector holds whole 4-byte entries, so this panicked inside the reader (the fuzzers
/// found the same assertion and an out-of-range slice from mutated official .xls files).
fn cut_short_xls() -> Vec<u8> {
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    header[26..28].copy_from_slice(&3u16.to_le_bytes()); // major version 3
    header[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes()); // little-endian
    header[30..32].copy_from_slice(&9u16.to_le_bytes()); // 512-byte sectors
    header[32..34].copy_from_slice(&6u16.to_le_bytes()); // 64-byte mini sectors
    header[44..48].copy_from_slice(&1u32.to_le_bytes()); // one FAT sector…
    header[68..72].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // no DIFAT chain
    for entry in header[76..].chunks_mut(4) {
        entry.copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    }
    header[76..80].copy_from_slice(&0u32.to_le_bytes()); // …at sector 0, which has 3 bytes
    header.extend_from_slice(&[1, 2, 3]);
    header
}

#[test]
fn a_cut_short_xls_is_a_damaged_workbook() {
    let (_dir, path) = saved("return.xls", &cut_short_xls());
    let message = refusal(&path);
    assert!(message.contains("the workbook is damaged"), "{message}");
}

#[test]
fn a_cut_short_xls_factor_file_is_a_damaged_workbook() {
    let (_dir, path) = saved(
        "uk-ghg-conversion-factors-2019-flat-file.xls",
        &cut_short_xls(),
    );
    let message = match greenplan_ingest::factors::read_flat_file(&path, None) {
        Ok(_) => panic!("read a factor file from a damaged workbook"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("the workbook is damaged"), "{message}");
}
