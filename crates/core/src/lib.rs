//! The domain of an NHS Integrated Care System's green plan.
//!
//! Everything here is pure and synchronous: no files, no database, no clock. Time is passed in
//! (`today`), bytes are turned into these types by `greenplan-ingest`, and stored by
//! `greenplan-store`. That keeps the rules that a board signs off — how a figure is computed,
//! which factor applies, whether a metric is on track — in one place that is easy to test.

#![forbid(unsafe_code)]

pub mod access;
pub mod activity;
pub mod anaesthetic;
pub mod category;
pub mod csv_cell;
pub mod digital;
pub mod factor;
pub mod footprint;
pub mod inhaler;
pub mod ods;
pub mod pathway;
pub mod period;
pub mod plan;
pub mod prescribing;
pub mod progress;
pub mod quality;
pub mod quantity;
pub mod register;
pub mod reminders;
pub mod returns;
pub mod scheme;
pub mod sia;
pub mod target;
pub mod text;
pub mod travel;
pub mod unit;

pub use rust_decimal::Decimal;
