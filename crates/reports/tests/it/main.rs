//! The reports crate's integration tests, one binary (each file a module): linking one test
//! binary instead of one per file is most of what the suite's build costs on two cores.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod control_characters;
mod reports;
