//! What changed since a report was published: its frozen model against the same report
//! computed now, figure by figure and action by action. Tables are matched by id, rows by
//! their first cell (the action, metric, organisation or year they describe), cells by column.

use crate::model::{Cell, Column, Report, Table};
use serde::Serialize;

/// One difference between the published report and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Where: the table's title, or "Key figures".
    pub table: String,
    /// Which row (its first cell), or the key figure.
    pub row: String,
    /// Which column; empty when a whole row appeared or went.
    pub column: String,
    pub published: String,
    pub now: String,
}

/// Every difference, in the order of the current report.
pub fn changes(published: &Report, now: &Report) -> Vec<Change> {
    let mut out = Vec::new();
    for k in &now.key_figures {
        let before = published.key_figures.iter().find(|p| p.id == k.id);
        let was = before.map_or("", |p| p.value.as_str());
        if was != k.value {
            out.push(Change {
                table: "Key figures".into(),
                row: k.label.clone(),
                column: String::new(),
                published: was.into(),
                now: k.value.clone(),
            });
        }
    }
    for table in now.tables() {
        let before = published.tables().find(|t| t.id == table.id);
        out.extend(table_changes(before, table));
    }
    for gone in published
        .tables()
        .filter(|t| !now.tables().any(|n| n.id == t.id))
    {
        out.extend(table_changes(Some(gone), &empty_like(gone)));
    }
    out
}

fn empty_like(t: &Table) -> Table {
    Table {
        rows: Vec::new(),
        ..t.clone()
    }
}

fn key(row: &[Cell]) -> &str {
    row.first().map_or("", Cell::display)
}

fn table_changes(before: Option<&Table>, now: &Table) -> Vec<Change> {
    let empty = empty_like(now);
    let before = before.unwrap_or(&empty);
    let mut out = Vec::new();
    let change = |row: &str, column: &str, published: &str, current: &str| Change {
        table: now.title.clone(),
        row: row.into(),
        column: column.into(),
        published: published.into(),
        now: current.into(),
    };
    for row in &now.rows {
        match before.rows.iter().find(|r| key(r) == key(row)) {
            None => out.push(change(key(row), "", "(not in the published report)", &summary(row))),
            Some(old) => {
                for (i, cell) in row.iter().enumerate().skip(1) {
                    let was = column_value(before, old, &now.columns[i]);
                    if was != cell.display() {
                        out.push(change(key(row), &now.columns[i].header(), was, cell.display()));
                    }
                }
            }
        }
    }
    for old in &before.rows {
        if !now.rows.iter().any(|r| key(r) == key(old)) {
            out.push(change(key(old), "", &summary(old), "(no longer in the report)"));
        }
    }
    out
}

/// The value of a row in the column with the same header (columns may have moved).
fn column_value<'a>(table: &Table, row: &'a [Cell], column: &Column) -> &'a str {
    table
        .columns
        .iter()
        .position(|c| c.header() == column.header())
        .and_then(|i| row.get(i))
        .map_or("", Cell::display)
}

fn summary(row: &[Cell]) -> String {
    row.iter()
        .skip(1)
        .map(Cell::display)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
