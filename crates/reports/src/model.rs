//! The report model: plain data, computed once from the store and `greenplan-core`, then
//! rendered as PDF, HTML or XLSX and, when published, frozen as JSON.
//!
//! A report is a short list of key figures and a list of sections; a section is a list of
//! blocks (paragraphs, bullet lists, tables, charts). Tables carry typed cells, so a figure
//! stays a decimal all the way to a spreadsheet cell, and a stable id, so two versions of a
//! report can be compared row by row ([`crate::diff`]).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Which governance output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    /// The Greener ICS Delivery Group's quarterly pack.
    Quarterly,
    /// The annual report to the ICB Board.
    Annual,
}

impl ReportKind {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Quarterly => "quarterly",
            Self::Annual => "annual",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Quarterly => "Quarterly Delivery Group pack",
            Self::Annual => "Annual Board report",
        }
    }
}

impl std::str::FromStr for ReportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "quarterly" => Ok(Self::Quarterly),
            "annual" => Ok(Self::Annual),
            other => Err(format!("unknown report `{other}`: use quarterly or annual")),
        }
    }
}

/// An organisation a report is limited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationRef {
    pub code: String,
    pub name: String,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub kind: ReportKind,
    pub title: String,
    /// The plan and system the report is about.
    pub subtitle: String,
    /// The reporting period as written: `Q3 2025/26` or `2025/26`.
    pub period: String,
    pub organisation: Option<OrganisationRef>,
    /// Figures and action states are as at the end of this day.
    pub as_at: NaiveDate,
    /// When the model was computed ("12 January 2026 14:05").
    pub generated: String,
    /// Who the report is for and what it covers, for its first page.
    pub purpose: String,
    pub key_figures: Vec<KeyFigure>,
    pub sections: Vec<Section>,
}

/// A headline figure on the first page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFigure {
    /// Stable identifier, for comparing versions.
    pub id: String,
    pub label: String,
    pub value: String,
    pub note: String,
}

/// A numbered part of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

/// One piece of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Block {
    /// A sub-heading within the section.
    Heading {
        text: String,
    },
    Paragraph {
        text: String,
    },
    /// A short labelled line ("Why it matters: …").
    Labelled {
        label: String,
        text: String,
    },
    Bullets {
        items: Vec<String>,
    },
    /// Text set apart: a caveat, or why there is nothing to show.
    Note {
        text: String,
    },
    Table(Table),
    Chart(Chart),
}

/// A table: each column has a title and, for figures, a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Stable identifier (also the spreadsheet sheet's basis and the diff's key).
    pub id: String,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub title: String,
    /// The unit of every figure in the column, shown in the header.
    pub unit: Option<String>,
    /// Relative width in the PDF (fractions of the free width); 0, and figure columns, fit
    /// their text.
    pub width: u8,
    /// Holds figures: right-aligned, number cells in a spreadsheet.
    pub figures: bool,
}

impl Column {
    pub fn text(title: &str, width: u8) -> Self {
        Self {
            title: title.into(),
            unit: None,
            width,
            figures: false,
        }
    }

    /// A status or rating column, as wide as its longest label.
    pub fn rag(title: &str) -> Self {
        Self::text(title, 0)
    }

    pub fn figure(title: &str, unit: &str) -> Self {
        Self {
            title: title.into(),
            unit: (!unit.is_empty()).then(|| unit.to_string()),
            width: 1,
            figures: true,
        }
    }

    /// The header as shown: "Footprint (tCO2e)".
    pub fn header(&self) -> String {
        match &self.unit {
            Some(u) => format!("{} ({u})", self.title),
            None => self.title.clone(),
        }
    }
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case")]
pub enum Cell {
    Text {
        text: String,
    },
    /// A figure: the exact value (a spreadsheet gets this) and how it is printed.
    Number {
        value: Decimal,
        text: String,
    },
    /// A status or rating with its RAG colour (green, amber, red, grey, blue).
    Rag {
        text: String,
        colour: String,
    },
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        let s = s.into();
        if s.is_empty() {
            Self::Empty
        } else {
            Self::Text { text: s }
        }
    }

    /// A figure printed with thousands separators and `decimals` places.
    pub fn number(value: Decimal, decimals: u32) -> Self {
        Self::Number {
            value,
            text: greenplan_core::quantity::with_thousands(value, decimals),
        }
    }

    /// A figure printed with no needless decimals (at most three).
    pub fn figure(value: Decimal) -> Self {
        Self::Number {
            value,
            text: figure(value),
        }
    }

    pub fn rag(text: &str, colour: &str) -> Self {
        Self::Rag {
            text: text.into(),
            colour: colour.into(),
        }
    }

    /// The text as printed.
    pub fn display(&self) -> &str {
        match self {
            Self::Text { text } | Self::Number { text, .. } | Self::Rag { text, .. } => text,
            Self::Empty => "",
        }
    }
}

/// A chart: the SVG the web app draws, with its text alternative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    /// The caption under it: the title and how to read it.
    pub caption: String,
    pub svg: String,
    pub alt: String,
}

/// A figure with thousands separators and no needless decimals (at most three).
pub fn figure(v: Decimal) -> String {
    let v = v.normalize();
    greenplan_core::quantity::with_thousands(v, v.scale().min(3))
}

impl Report {
    /// Every table of the report, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| {
            s.blocks.iter().filter_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            })
        })
    }

    /// A file name for this report: `greenplan-quarterly-Q3-2025-26-RTG.pdf`.
    pub fn file_stem(&self) -> String {
        let period: String = self
            .period
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        match &self.organisation {
            Some(o) => format!("greenplan-{}-{period}-{}", self.kind.slug(), o.code),
            None => format!("greenplan-{}-{period}", self.kind.slug()),
        }
    }
}
