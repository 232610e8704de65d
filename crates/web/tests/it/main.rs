//! The web crate's integration tests, one binary (each file a module): linking one test
//! binary instead of one per file is most of what the suite's build costs on two cores.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod account;
mod admin;
mod api;
mod audit;
mod common;
mod medicines;
mod pages;
mod permissions;
mod registers;
mod registers2;
mod reminders;
mod reports;
mod revisions;
mod schemes;
mod security;
mod slow_clients;
mod stored_data;
mod text_input;
mod tidy;
mod travel;
