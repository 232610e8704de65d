//! English Prescribing Dataset files in each historic layout, plain, gzipped and zipped, with
//! measures computed by hand.

#![allow(clippy::unwrap_used)]

use greenplan_core::Decimal;
use greenplan_core::prescribing::{Level, measures};
use greenplan_ingest::IngestError;
use greenplan_ingest::prescribing::{EpdOptions, inhaler_table, read_epd};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The three ways NHSBSA has named the ICB columns.
const LAYOUTS: [(&str, &str); 3] = [
    ("ICB_NAME", "ICB_CODE"),
    ("STP_NAME", "STP_CODE"),
    ("AREA_TEAM_NAME", "AREA_TEAM_CODE"),
];

fn header(icb: (&str, &str)) -> String {
    format!(
        "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,{},{},PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,ADDRESS_1,ADDRESS_2,ADDRESS_3,ADDRESS_4,POSTCODE,BNF_CHEMICAL_SUBSTANCE,CHEMICAL_SUBSTANCE_BNF_DESCR,BNF_CODE,BNF_DESCRIPTION,BNF_CHAPTER_PLUS_CODE,QUANTITY,ITEMS,TOTAL_QUANTITY,ADQUSAGE,NIC,ACTUAL_COST,UNIDENTIFIED,SNOMED_CODE",
        icb.0, icb.1
    )
}

/// One EPD row: practice, ICB, BNF code and description, quantity per item, items, total.
fn row(
    practice: &str,
    icb: &str,
    code: &str,
    descr: &str,
    q: &str,
    items: &str,
    total: &str,
) -> String {
    let address = if practice == "C81002" {
        "\"1 High Street, Belper\""
    } else {
        "THE SURGERY"
    };
    format!(
        "202504,MIDLANDS,Y60,NHS DERBY AND DERBYSHIRE INTEGRATED CARE BOARD,{icb},NHS DERBY AND DERBYSHIRE ICB - 15M,15M,PRACTICE {practice},{practice},{address},,DERBY,,DE1 1AA,{sub},SUBSTANCE,{code},{descr},03: Respiratory System,{q},{items},{total},1.5,10.5,9.8,false,3295011000001106",
        sub = &code[..code.len().min(9)]
    )
}

/// The test month: four inhaler lines in QJ2 (one given in doses), an inhaler missing from
/// the table, a nebuliser, a tablet, and another ICB's practice.
fn month(icb: (&str, &str)) -> String {
    [
        header(icb),
        row(
            "C81001",
            "QJ2",
            "0301011R0BEAIAP",
            "Ventolin 100micrograms/dose Evohaler",
            "1",
            "3",
            "3",
        ),
        row(
            "C81001",
            "QJ2",
            "0301011R0AAAPAP",
            "Salbutamol 100micrograms/dose inhaler CFC free",
            "200",
            "2",
            "400",
        ),
        row(
            "C81001",
            "QJ2",
            "0302000C0BPABBF",
            "Clenil Modulite 100micrograms/dose inhaler",
            "1",
            "2",
            "2",
        ),
        row(
            "C81001",
            "QJ2",
            "0302000C0BFABAB",
            "Beclazone 100 inhaler",
            "1",
            "1",
            "1",
        ),
        row(
            "C81002",
            "QJ2",
            "0302000V0BBABAB",
            "Relvar Ellipta 92micrograms/dose / 22micrograms/dose dry powder inhaler",
            "1",
            "4",
            "4",
        ),
        row(
            "C81002",
            "QJ2",
            "0301011R0AAAXAX",
            "Salbutamol 2.5mg/2.5ml nebuliser liquid unit dose vials",
            "20",
            "1",
            "20",
        ),
        row(
            "C81002",
            "QJ2",
            "0407010H0AAAMAM",
            "Paracetamol 500mg tablets",
            "100",
            "7",
            "700",
        ),
        row(
            "B82001",
            "QWO",
            "0301011R0BEAIAP",
            "Ventolin 100micrograms/dose Evohaler",
            "1",
            "9",
            "9",
        ),
    ]
    .join("\r\n")
        + "\r\n"
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// ICB QJ2, by hand: items 3 + 2 + 2 + 4 = 11 (MDI 7, DPI 4); inhalers 3 + 400/200 + 2 + 4
/// = 11; kgCO2e 3 × 28.26 + 2 × 25.24 + 2 × 18.34 + 4 × 0.805 = 175.16; MDI share outside
/// salbutamol 2 / (2 + 4); salbutamol 5 inhalers, (84.78 + 50.48) / 5 = 27.052 kg each.
fn check_icb(path: &Path) {
    let table = inhaler_table(&[]).unwrap();
    let extract = read_epd(
        path,
        EpdOptions {
            icb: Some("QJ2"),
            table: &table,
        },
    )
    .unwrap();
    assert_eq!(extract.rows, 8, "{}", path.display());
    assert_eq!(extract.inhaler_rows, 5);
    let m = measures(&extract.data, &table, &[Level::Icb], None);
    assert_eq!(m.rows.len(), 1);
    let r = &m.rows[0];
    assert_eq!(r.org_code, "QJ2");
    assert_eq!(r.org_name, "NHS DERBY AND DERBYSHIRE INTEGRATED CARE BOARD");
    assert_eq!(r.inhaler_items, 11);
    assert_eq!(
        (r.mdi_items, r.dpi_items, r.smi_items, r.other_items),
        (7, 4, 0, 0)
    );
    assert_eq!(r.inhalers, d("11"));
    assert_eq!(r.tco2e, d("0.17516"));
    assert_eq!(r.mdi_share_excl_salbutamol(), Some(d("0.333333")));
    assert_eq!(r.salbutamol_inhalers, d("5"));
    assert_eq!(r.salbutamol_kgco2e_per_inhaler(), Some(d("27.052")));
    // The Beclazone inhaler (a discontinued brand) is not in the table: reported, not
    // dropped silently.
    assert_eq!(m.uncounted.len(), 1);
    assert_eq!(m.uncounted[0].bnf_code, "0302000C0BFABAB");
    assert_eq!(m.uncounted[0].items, 1);
}

#[test]
fn every_historic_layout_gives_the_same_measures() {
    let dir = tempfile::tempdir().unwrap();
    for (i, layout) in LAYOUTS.into_iter().enumerate() {
        let path = write(
            dir.path(),
            &format!("epd-{i}.csv"),
            month(layout).as_bytes(),
        );
        check_icb(&path);
    }
}

#[test]
fn gzipped_and_zipped_files_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let text = month(LAYOUTS[0]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    check_icb(&write(dir.path(), "epd.csv.gz", &gz.finish().unwrap()));

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("EPD_202504.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(text.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    check_icb(&write(dir.path(), "epd.zip", &bytes));
}

#[test]
fn without_an_icb_the_whole_country_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "epd.csv", month(LAYOUTS[1]).as_bytes());
    let table = inhaler_table(&[]).unwrap();
    let extract = read_epd(
        &path,
        EpdOptions {
            icb: None,
            table: &table,
        },
    )
    .unwrap();
    let m = measures(&extract.data, &table, &[Level::National, Level::Icb], None);
    let codes: Vec<&str> = m.rows.iter().map(|r| r.org_code.as_str()).collect();
    assert_eq!(codes, ["national", "QJ2", "QWO"]);
    // QWO: 9 Ventolin inhalers.
    assert_eq!(m.rows[2].inhalers, d("9"));
    assert_eq!(m.rows[0].inhalers, d("20"));
}

#[test]
fn malformed_rows_are_named_by_file_row_and_column_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = month(LAYOUTS[0]);
    text.push_str(&row(
        "C81003",
        "QJ2",
        "0301011R0BEAIAP",
        "Ventolin",
        "1",
        "two",
        "2",
    ));
    text.push('\n');
    text.push_str("2025-04,too,few,cells\n");
    text.push_str(
        &row(
            "C81003",
            "QJ2",
            "0301011R0BEAIAP",
            "Ventolin",
            "1",
            "2",
            "2",
        )
        .replace("202504", "202513"),
    );
    text.push('\n');
    let path = write(dir.path(), "bad.csv", text.as_bytes());
    let table = inhaler_table(&[]).unwrap();
    let err = read_epd(
        &path,
        EpdOptions {
            icb: Some("QJ2"),
            table: &table,
        },
    )
    .unwrap_err();
    let IngestError::Rows { errors, total } = &err else {
        panic!("{err}")
    };
    assert_eq!(*total, 3);
    let rows: Vec<(u64, Option<&str>)> = errors
        .iter()
        .map(|e| (e.row, e.column.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [(10, Some("ITEMS")), (11, None), (12, Some("YEAR_MONTH"))]
    );
    let message = err.to_string();
    assert!(
        message.contains("bad.csv: row 10, column `ITEMS`: `two` is not a number of items"),
        "{message}"
    );
    assert!(message.contains("nothing was stored"), "{message}");
}

#[test]
fn a_file_that_is_not_epd_is_refused_by_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "other.csv",
        b"organisation,site,quantity\nRTG,x,1\n",
    );
    let table = inhaler_table(&[]).unwrap();
    let err = read_epd(
        &path,
        EpdOptions {
            icb: None,
            table: &table,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("no YEAR_MONTH column"), "{err}");
}

/// Many blocks, with quoted fields (commas and a line break inside quotes) scattered through
/// them: the sums are those of the rows, however the file is cut.
#[test]
fn large_files_are_cut_between_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = header(LAYOUTS[0]);
    text.push('\n');
    let mut expected_items = 0;
    for i in 0..40_000 {
        if i % 100 == 0 {
            text.push_str(&row(
                "C81002",
                "QJ2",
                "0302000C0BPABBF",
                "Clenil Modulite 100micrograms/dose inhaler",
                "1",
                "1",
                "1",
            ));
            expected_items += 1;
        } else if i % 777 == 0 {
            text.push_str(&row(
                "C81001",
                "QJ2",
                "0407010H0AAAMAM",
                "\"Paracetamol, 500mg\nthe tablets\"",
                "1",
                "1",
                "1",
            ));
        } else {
            text.push_str(&row(
                "C81001",
                "QJ2",
                "0407010H0AAAMAM",
                "Paracetamol 500mg tablets",
                "100",
                "7",
                "700",
            ));
        }
        text.push('\n');
    }
    let path = write(dir.path(), "big.csv", text.as_bytes());
    assert!(text.len() > 8 << 20);
    let table = inhaler_table(&[]).unwrap();
    let extract = read_epd(
        &path,
        EpdOptions {
            icb: None,
            table: &table,
        },
    )
    .unwrap();
    assert_eq!(extract.rows, 40_000);
    let m = measures(&extract.data, &table, &[Level::Icb], None);
    assert_eq!(m.rows[0].inhaler_items, expected_items);
    assert_eq!(
        m.rows[0].tco2e,
        Decimal::from(expected_items) * d("0.01834")
    );

    // A bad row at the end is numbered by its line: the header, 40,000 rows and the 51 line
    // breaks inside quotes before it.
    text.push_str(&row(
        "C81001",
        "QJ2",
        "0301011R0BEAIAP",
        "Ventolin",
        "1",
        "x",
        "1",
    ));
    let path = write(dir.path(), "big-bad.csv", text.as_bytes());
    let err = read_epd(
        &path,
        EpdOptions {
            icb: None,
            table: &table,
        },
    )
    .unwrap_err();
    assert_eq!(err.row_errors()[0].row, 40_053, "{err}");
}

#[test]
fn a_users_table_extends_and_overrides_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let factors = write(
        dir.path(),
        "mine.csv",
        b"bnf_code,description,device,kgco2e_per_inhaler,doses_per_inhaler,source\n\
          0302000C0BFABAB,Beclazone 100 inhaler,MDI,20,200,local audit 2025\n\
          0301011R0BEAIAP,Ventolin 100micrograms/dose Evohaler,MDI,30,200,supplier 2025\n",
    );
    let built_in = inhaler_table(&[]).unwrap();
    assert!(built_in.get("0302000C0BFABAB").is_none());
    let table = inhaler_table(&[factors.as_path()]).unwrap();
    // One code added, one replaced.
    assert_eq!(table.len(), built_in.len() + 1);
    assert_eq!(
        table.get("0302000C0BFABAB").unwrap().kgco2e_per_inhaler,
        d("20")
    );
    assert_eq!(
        table.get("0301011R0BEAIAP").unwrap().kgco2e_per_inhaler,
        d("30")
    );
    let bad = write(
        dir.path(),
        "bad.csv",
        b"bnf_code,description,device,kgco2e_per_inhaler,doses_per_inhaler,source\n0301011U0AAAAAA,x,spray,-1,,\n",
    );
    let err = inhaler_table(&[bad.as_path()]).unwrap_err().to_string();
    assert!(err.contains("bad.csv: row 2, column `device`"), "{err}");
    assert!(err.contains("column `kgco2e_per_inhaler`"), "{err}");
    assert!(err.contains("column `source`"), "{err}");
}
