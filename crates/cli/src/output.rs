//! Output in the three formats every listing offers: an aligned table for people, CSV for
//! spreadsheets, JSON for scripts.

use anyhow::Result;
use clap::ValueEnum;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

/// A listing: column names and rows of text, plus the JSON form.
pub struct Listing {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub json: serde_json::Value,
}

impl Listing {
    /// The listing as CSV, by the same formula rule as every CSV the service writes (the
    /// output is often redirected to a file that a spreadsheet opens).
    fn write_csv(&self, out: impl Write) -> Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(&self.columns)?;
        for r in &self.rows {
            w.write_record(r.iter().map(|c| greenplan_core::csv_cell::neutralise(c)))?;
        }
        w.flush()?;
        Ok(())
    }

    pub fn print(&self, format: Format) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match format {
            Format::Table => {
                let mut table = Table::new();
                table
                    .load_preset(UTF8_FULL_CONDENSED)
                    .set_header(&self.columns);
                for r in &self.rows {
                    table.add_row(r);
                }
                writeln!(out, "{table}")?;
            }
            Format::Csv => self.write_csv(out)?,
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, &self.json)?;
                writeln!(out)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_output_neutralises_formulas_and_keeps_numbers() {
        let listing = Listing {
            columns: vec!["name".into(), "value".into()],
            rows: vec![
                vec![
                    "=HYPERLINK(\"https://evil.example\")".into(),
                    "-12.5".into(),
                ],
                vec!["@SUM(A1)".into(), "+1+2".into()],
            ],
            json: serde_json::Value::Null,
        };
        let mut out = Vec::new();
        listing
            .write_csv(&mut out)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "name,value\n\"'=HYPERLINK(\"\"https://evil.example\"\")\",-12.5\n'@SUM(A1),'+1+2\n"
        );
    }
}
