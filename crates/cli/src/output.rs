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
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.columns)?;
                for r in &self.rows {
                    w.write_record(r)?;
                }
                w.flush()?;
            }
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, &self.json)?;
                writeln!(out)?;
            }
        }
        Ok(())
    }
}
