//! The cli crate's integration tests, one binary (each file a module): linking one test
//! binary instead of one per file is most of what the suite's build costs on two cores.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod cli;
mod common;
mod crash_safety;
mod hostile_files;
mod medicines;
mod registers;
mod reminders;
mod spend_factors;
mod stored_footprint;
mod two_servers;
