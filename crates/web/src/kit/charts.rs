//! The SVG charts live in `greenplan-reports`, so a PDF report draws exactly the charts the
//! web app shows.

pub use greenplan_reports::charts::*;
