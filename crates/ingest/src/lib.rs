//! Readers of outside files: plan files, the UK Government GHG conversion factor flat files,
//! custom factor CSVs and activity data (CSV or XLSX).
//!
//! Each reader turns bytes into `greenplan-core` types or into errors that name the file, the
//! row, the column and the fix. Readers never stop at the first bad row: a user fixing a
//! return wants the whole list at once. Nothing here touches the database.

#![forbid(unsafe_code)]

pub mod activity;
pub mod anaesthetic;
pub mod error;
pub mod factors;
pub mod pathway_file;
pub mod plan_file;
pub mod prescribing;
pub mod register_file;
pub mod scheme_file;
pub mod source;
pub mod table;
pub mod travel_survey;

pub use error::{IngestError, RowError};
