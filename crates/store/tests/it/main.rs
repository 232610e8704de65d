//! The store crate's integration tests, one binary (each file a module): linking one test
//! binary instead of one per file is most of what the suite's build costs on two cores.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod backup;
mod disk_full;
mod medicines;
mod registers;
mod registers2;
mod schemes;
mod storage;
mod travel;
