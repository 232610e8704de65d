//! A report as one self-contained HTML file (askama, which escapes every value): it opens
//! from a disk or an e-mail with its styles and charts inside it, and prints cleanly.

use crate::ReportError;
use crate::model::{Block, Cell, Report};
use askama::Template;

/// A block flattened for the template: `kind` says which fields apply.
struct HtmlBlock<'a> {
    kind: &'static str,
    text: &'a str,
    label: &'a str,
    items: &'a [String],
    svg: String,
    /// (header, is a figure column)
    columns: Vec<(String, bool)>,
    /// (CSS class, text) per cell
    rows: Vec<Vec<(String, &'a str)>>,
}

impl<'a> HtmlBlock<'a> {
    fn of(kind: &'static str, text: &'a str) -> Self {
        Self {
            kind,
            text,
            label: "",
            items: &[],
            svg: String::new(),
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }
}

struct HtmlSection<'a> {
    id: &'a str,
    title: &'a str,
    blocks: Vec<HtmlBlock<'a>>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    r: &'a Report,
    as_at: String,
    sections: Vec<HtmlSection<'a>>,
}

fn cell(c: &Cell) -> (String, &str) {
    let class = match c {
        Cell::Text { .. } | Cell::Empty => "text".to_string(),
        Cell::Number { .. } => "num".to_string(),
        Cell::Rag { colour, .. } => format!("rag rag-{colour}"),
    };
    (class, c.display())
}

fn block(b: &Block) -> HtmlBlock<'_> {
    match b {
        Block::Heading { text } => HtmlBlock::of("heading", text),
        Block::Paragraph { text } => HtmlBlock::of("paragraph", text),
        Block::Note { text } => HtmlBlock::of("note", text),
        Block::Labelled { label, text } => HtmlBlock {
            label,
            ..HtmlBlock::of("labelled", text)
        },
        Block::Bullets { items } => HtmlBlock {
            items,
            ..HtmlBlock::of("bullets", "")
        },
        Block::Chart(c) => HtmlBlock {
            svg: c.svg.clone(),
            ..HtmlBlock::of("chart", &c.caption)
        },
        Block::Table(t) => HtmlBlock {
            columns: t.columns.iter().map(|c| (c.header(), c.figures)).collect(),
            rows: t
                .rows
                .iter()
                .map(|r| r.iter().map(cell).collect())
                .collect(),
            ..HtmlBlock::of("table", &t.title)
        },
    }
}

/// Renders the report as a standalone HTML page.
pub fn render(report: &Report) -> Result<String, ReportError> {
    let page = ReportPage {
        r: report,
        as_at: crate::compose::long_date(report.as_at),
        sections: report
            .sections
            .iter()
            .map(|s| HtmlSection {
                id: &s.id,
                title: &s.title,
                blocks: s.blocks.iter().map(block).collect(),
            })
            .collect(),
    };
    Ok(page.render()?)
}
