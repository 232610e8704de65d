//! The shipped inhaler product table (`data/inhalers/inhaler-products.csv`), row by row: every
//! code a real BNF chapter 3 presentation code, every figure positive and sourced, class
//! defaults exactly as the README documents them, and every inhaled substance the medicines
//! issue names present. Read from the raw CSV, not through `InhalerTable`, which would hide a
//! duplicated code by letting the later row win.

#![allow(clippy::unwrap_used)]

use greenplan_core::Decimal;
use greenplan_ingest::prescribing::{
    BUILT_IN_INHALERS, INHALER_COLUMNS, INHALER_OPTIONAL, inhaler_table,
};
use std::collections::{BTreeMap, HashSet};

/// One row of the shipped file, as text.
struct Row {
    line: u64,
    cells: BTreeMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", String::as_str)
    }

    fn decimal(&self, column: &str) -> Decimal {
        self.get(column)
            .parse()
            .unwrap_or_else(|e| panic!("line {}: {column} `{}`: {e}", self.line, self.get(column)))
    }
}

fn rows() -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(BUILT_IN_INHALERS.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    // The columns a user's file must have, then the optional ones, all present.
    assert_eq!(header, [INHALER_COLUMNS, INHALER_OPTIONAL].concat());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                line: r.position().unwrap().line(),
                cells: header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(String::from))
                    .collect(),
            }
        })
        .collect()
}

/// The BNF sections an inhaled chapter 3 presentation can be in: 3.1.1 adrenoceptor agonists,
/// 3.1.2 antimuscarinics, 3.1.4 compound bronchodilators, 3.2 corticosteroids.
const SECTIONS: [&str; 4] = ["0301011", "0301020", "0301040", "0302000"];

#[test]
fn every_row_is_a_chapter_3_presentation_with_positive_sourced_figures() {
    let rows = rows();
    let mut seen = HashSet::new();
    for row in &rows {
        let code = row.get("bnf_code");
        let at = format!("line {} ({code})", row.line);
        assert_eq!(
            code.len(),
            15,
            "{at}: a presentation code has 15 characters"
        );
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
            "{at}: digits and capitals only"
        );
        assert!(code.starts_with("03"), "{at}: not BNF chapter 3");
        assert!(
            SECTIONS.iter().any(|s| code.starts_with(s)),
            "{at}: not an inhaled section"
        );
        assert!(seen.insert(code.to_string()), "{at}: code listed twice");
        assert!(!row.get("description").is_empty(), "{at}: no description");
        assert!(
            ["MDI", "DPI", "SMI", "other"].contains(&row.get("device")),
            "{at}: device `{}`",
            row.get("device")
        );
        assert!(row.decimal("kgco2e_per_inhaler") > Decimal::ZERO, "{at}");
        assert!(row.decimal("doses_per_inhaler") > Decimal::ZERO, "{at}");
        assert!(!row.get("source").is_empty(), "{at}: no source");
        assert!(
            ["true", "false"].contains(&row.get("class_default")),
            "{at}: class_default `{}`",
            row.get("class_default")
        );
    }
    // The reader agrees: nothing refused, nothing merged.
    assert_eq!(inhaler_table(&[]).unwrap().len(), rows.len());
}

#[test]
fn class_defaults_are_the_documented_figures_and_say_so() {
    // data/inhalers/README.md: MDI (HFA-134a) 18.34; DPI 0.805; SMI the DPI default.
    let defaults = [("MDI", "18.34"), ("DPI", "0.805"), ("SMI", "0.805")];
    let mut flagged = 0;
    for row in rows() {
        let at = format!("line {} ({})", row.line, row.get("bnf_code"));
        let source = row.get("source");
        if row.get("class_default") == "true" {
            flagged += 1;
            let (_, kg) = defaults
                .iter()
                .find(|(device, _)| *device == row.get("device"))
                .unwrap_or_else(|| panic!("{at}: no class default for `{}`", row.get("device")));
            assert_eq!(
                row.decimal("kgco2e_per_inhaler"),
                kg.parse().unwrap(),
                "{at}"
            );
            assert!(
                source.contains(&format!("class default: {}", row.get("device"))),
                "{at}: the source must name the default it uses: {source}"
            );
        } else {
            assert!(
                !source.contains("class default"),
                "{at}: a published figure must not cite a class default: {source}"
            );
        }
        // Dose counts nobody has checked against the dm+d pack say so.
        assert!(source.contains("doses per inhaler"), "{at}: {source}");
    }
    assert!(flagged > 0);
}

#[test]
fn every_named_inhaled_substance_has_a_row() {
    let codes: Vec<String> = rows()
        .iter()
        .map(|r| r.get("bnf_code").to_string())
        .collect();
    // BNF chemical substance codes (and, for the triple inhalers, product codes).
    let substances = [
        ("0301011R0", "salbutamol"),
        ("0301011E0", "formoterol"),
        ("0301011U0", "salmeterol"),
        ("0301011V0", "terbutaline"),
        ("0301011X0", "indacaterol"),
        ("0301011Z0", "olodaterol"),
        (
            "0301011AB",
            "beclometasone / formoterol / glycopyrronium (Trimbow)",
        ),
        ("0301020I0", "ipratropium"),
        ("0301020Q0", "tiotropium"),
        ("0301020R0", "aclidinium"),
        ("0301020S0", "glycopyrronium"),
        ("0301020T0", "umeclidinium"),
        ("0301040R0", "salbutamol / ipratropium"),
        ("0301040V0", "aclidinium / formoterol"),
        ("0301040W0", "umeclidinium / vilanterol"),
        ("0301040X0", "tiotropium / olodaterol"),
        ("0301040Y0", "indacaterol / glycopyrronium"),
        ("0302000C0", "beclometasone"),
        ("0302000K0", "budesonide"),
        ("0302000N0", "fluticasone propionate"),
        ("0302000R0", "mometasone"),
        ("0302000U0", "ciclesonide"),
        ("0302000V0", "fluticasone furoate"),
        (
            "0302000V0BC",
            "fluticasone furoate / umeclidinium / vilanterol (Trelegy)",
        ),
    ];
    for (prefix, name) in substances {
        assert!(
            codes.iter().any(|c| c.starts_with(prefix)),
            "no row for {name} ({prefix})"
        );
    }
}

#[test]
fn soft_mist_inhalers_are_the_respimat_presentations() {
    for row in rows() {
        // A soft mist inhaler sprays a solution (Respimat and its generic cartridges); no
        // pressurised or powder presentation is a solution.
        let description = row.get("description").to_lowercase();
        let solution = description.contains("respimat") || description.contains("solution");
        assert_eq!(
            row.get("device") == "SMI",
            solution,
            "line {} ({}): {}",
            row.line,
            row.get("bnf_code"),
            row.get("description")
        );
    }
}

#[test]
fn salbutamol_is_openprescribings_measure_exactly() {
    // openprescribing/measures/definitions/carbon_salbutamol.json: the presentations its
    // "carbon per salbutamol inhaler" counts, with its kgCO2e per inhaler. Salbutamol rows
    // outside this list would make greenplan's figure differ from OpenPrescribing's.
    let measure: BTreeMap<&str, &str> = [
        ("0301011R0BMAAAP", "9.72"),
        ("0301011R0BMABBU", "9.72"),
        ("0301011R0BWAABZ", "0.62"),
        ("0301011R0BWABAQ", "0.62"),
        ("0301011R0BIAFAP", "11.95"),
        ("0301011R0BIAHAP", "11.95"),
        ("0301011R0BIAGBU", "12.08"),
        ("0301011R0BXAACB", "3.75"),
        ("0301011R0BXABCC", "3.75"),
        ("0301011R0AAAPAP", "25.24"),
        ("0301011R0AAAAAA", "25.24"),
        ("0301011R0AABUBU", "11.79"),
        ("0301011R0AAAQAQ", "0.58"),
        ("0301011R0AABZBZ", "0.62"),
        ("0301011R0AACBCB", "3.75"),
        ("0301011R0AACCCC", "3.75"),
        ("0301011R0BEAHAQ", "0.58"),
        ("0301011R0BEAIAP", "28.26"),
    ]
    .into();
    let table: BTreeMap<String, Decimal> = rows()
        .iter()
        .filter(|r| r.get("bnf_code").starts_with("0301011R0"))
        .map(|r| {
            (
                r.get("bnf_code").to_string(),
                r.decimal("kgco2e_per_inhaler"),
            )
        })
        .collect();
    let expected: BTreeMap<String, Decimal> = measure
        .iter()
        .map(|(code, kg)| (code.to_string(), kg.parse().unwrap()))
        .collect();
    assert_eq!(table, expected);
}
