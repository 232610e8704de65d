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

/// Every row's key with its occurrence (0 for the first row with that key, 1 for the next…),
/// so repeated keys are paired in order rather than all with the first.
fn keys(table: &Table) -> Vec<(String, usize)> {
    let mut seen: Vec<String> = Vec::new();
    table
        .rows
        .iter()
        .map(|r| {
            let k = key(table, r);
            let nth = seen.iter().filter(|s| **s == k).count();
            seen.push(k.clone());
            (k, nth)
        })
        .collect()
}

/// A row's identity: its first cell, with the second when that is text too (a footprint and
/// its year, a metric and its scope), so rows that share a first cell stay apart.
fn key(table: &Table, row: &[Cell]) -> String {
    let first = row.first().map_or("", Cell::display);
    match (table.columns.get(1), row.get(1)) {
        (Some(c), Some(second)) if !c.figures && !second.display().is_empty() => {
            format!("{first} · {}", second.display())
        }
        _ => first.to_string(),
    }
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
    let before_keys = keys(before);
    let now_keys = keys(now);
    for (row, (k, nth)) in now.rows.iter().zip(&now_keys) {
        let found = before_keys.iter().position(|(bk, bn)| bk == k && bn == nth);
        match found.map(|i| &before.rows[i]) {
            None => out.push(change(
                k,
                "",
                "(not in the published report)",
                &summary(row),
            )),
            Some(old) => {
                for (i, cell) in row.iter().enumerate().skip(1) {
                    let was = column_value(before, old, &now.columns[i]);
                    if was != cell.display() {
                        out.push(change(k, &now.columns[i].header(), was, cell.display()));
                    }
                }
            }
        }
    }
    for (old, (k, nth)) in before.rows.iter().zip(&before_keys) {
        if !now_keys.iter().any(|(nk, nn)| nk == k && nn == nth) {
            out.push(change(k, "", &summary(old), "(no longer in the report)"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyFigure, ReportKind, Section};
    use rust_decimal::Decimal;

    fn report(rows: Vec<Vec<Cell>>, actions_on_track: &str) -> Report {
        Report {
            kind: ReportKind::Annual,
            title: "r".into(),
            subtitle: String::new(),
            period: "2025/26".into(),
            organisation: None,
            as_at: chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default(),
            generated: String::new(),
            purpose: String::new(),
            key_figures: vec![KeyFigure {
                id: "actions-on-track".into(),
                label: "On track".into(),
                value: actions_on_track.into(),
                note: String::new(),
            }],
            sections: vec![Section {
                id: "s".into(),
                title: "s".into(),
                blocks: vec![crate::model::Block::Table(Table {
                    id: "footprint-national".into(),
                    title: "Footprint".into(),
                    columns: vec![
                        Column::text("Footprint", 2),
                        Column::text("Year", 1),
                        Column::figure("Actual", "tCO2e"),
                    ],
                    rows,
                })],
            }],
        }
    }

    fn row(year: &str, t: i64) -> Vec<Cell> {
        vec![
            Cell::text("NHS Carbon Footprint"),
            Cell::text(year),
            Cell::number(Decimal::from(t), 0),
        ]
    }

    #[test]
    fn rows_sharing_a_first_cell_are_told_apart() {
        let then = report(vec![row("2024/25", 100), row("2025/26", 90)], "3 of 24");
        let now = report(
            vec![row("2024/25", 100), row("2025/26", 95), row("2026/27", 1)],
            "4 of 24",
        );
        let c = changes(&then, &now);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(c[0].table, "Key figures");
        assert_eq!(
            (c[0].published.as_str(), c[0].now.as_str()),
            ("3 of 24", "4 of 24")
        );
        assert_eq!(c[1].row, "NHS Carbon Footprint · 2025/26");
        assert_eq!((c[1].published.as_str(), c[1].now.as_str()), ("90", "95"));
        assert_eq!(c[2].row, "NHS Carbon Footprint · 2026/27");
        assert!(changes(&now, &now).is_empty());
        let gone = changes(&now, &then);
        assert!(gone.iter().any(|c| c.now == "(no longer in the report)"));
    }
}
