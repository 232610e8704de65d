//! PDF through typst, as a library: A4, page numbers, contents, tables whose header repeats
//! on every page they run onto, the web app's SVG charts, and a tagged PDF (typst tags
//! headings, tables, lists and figures with their alternative text).
//!
//! The template (`templates/report.typ`) is compiled into the binary; the report reaches it
//! as one JSON string in `sys.inputs`, decoded by typst and placed as text, so nothing a user
//! typed is ever read as typst markup. No package is downloaded and no system font is read:
//! the Liberation Sans faces in `fonts/` are embedded.

use crate::ReportError;
use crate::model::Report;
use std::sync::OnceLock;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

const TEMPLATE: &str = include_str!("../templates/report.typ");
const FONTS: [&[u8]; 4] = [
    include_bytes!("../fonts/LiberationSans-Regular.ttf"),
    include_bytes!("../fonts/LiberationSans-Bold.ttf"),
    include_bytes!("../fonts/LiberationSans-Italic.ttf"),
    include_bytes!("../fonts/LiberationSans-BoldItalic.ttf"),
];

/// The engine holds the parsed template and fonts; building it once saves parsing the fonts
/// for every report.
fn engine() -> &'static TypstEngine<TypstTemplateMainFile> {
    static ENGINE: OnceLock<TypstEngine<TypstTemplateMainFile>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        TypstEngine::builder()
            .main_file(TEMPLATE)
            .fonts(FONTS)
            .build()
    })
}

/// The report as the template reads it: the model plus a few printed forms.
fn template_input(report: &Report) -> Result<String, ReportError> {
    let mut value = serde_json::to_value(report)?;
    value["as_at_text"] = crate::compose::long_date(report.as_at).into();
    value["kind_label"] = report.kind.label().into();
    // Charts carry their own type style: in the web app it comes from the page's CSS.
    for section in value["sections"].as_array_mut().into_iter().flatten() {
        for block in section["blocks"].as_array_mut().into_iter().flatten() {
            if block["type"] == "chart"
                && let Some(svg) = block["svg"].as_str()
            {
                block["svg"] = crate::charts::self_styled(svg).into();
            }
        }
    }
    Ok(serde_json::to_string(&value)?)
}

/// Typesets the report as a PDF.
pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut inputs = Dict::new();
    inputs.insert("report".into(), template_input(report)?.into_value());
    let document: PagedDocument = engine()
        .compile_with_input(inputs)
        .output
        .map_err(|e| ReportError::Typeset(format!("{e}")))?;
    let options = typst_pdf::PdfOptions {
        ident: typst::foundations::Smart::Custom(report.file_stem()),
        tagged: true,
        ..Default::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| {
        ReportError::Typeset(
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}
