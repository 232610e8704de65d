//! Two `greenplan serve` processes over one database (PostgreSQL when GREENPLAN_TEST_POSTGRES
//! is set, as in a shared deployment; else one SQLite file), used alternately by one person:
//! a session started on one server works on the other, a write through one is read through
//! the other, and signing out on one ends the session on both.
//!
//! The HTTP is spoken by hand over a TCP socket (one request per connection), so the test
//! needs no HTTP client library.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use greenplan_store::testing::TestDatabase;
use std::time::{Duration, Instant};

use crate::common;
use common::*;

#[test]
fn one_session_works_on_two_servers_sharing_a_database() {
    let db = TestDatabase::new();
    greenplan(&db.url, &["init"], None);
    greenplan(
        &db.url,
        &[
            "user",
            "add",
            "pat@uhdb.nhs.uk",
            "--org",
            "RTG",
            "--role",
            "contributor",
            "--name",
            "Pat Lead",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let a = serve(&db.url);
    let b = serve(&db.url);

    // Sign in on A.
    let login = a.post(
        "/login",
        None,
        &format!(
            "email=pat%40uhdb.nhs.uk&password={}",
            PASSWORD.replace(' ', "+")
        ),
    );
    assert_eq!(login.status, 303, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // The same session on B: signed in, and B's forms carry the session's CSRF token.
    let account = b.get("/account", &cookie);
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Pat Lead"), "B knows the session");
    let csrf = account.csrf();
    assert_eq!(
        csrf,
        a.get("/account", &cookie).csrf(),
        "one session, one token"
    );

    // A write through B is read through A (A checks the data revision at most once a second).
    let posted = b.post(
        "/actions/DT3/updates",
        Some(&cookie),
        &format!("csrf_token={csrf}&status=on-track&note=Written+through+server+B&evidence_url=&revised_due="),
    );
    assert_eq!(posted.status, 303, "{}", posted.body);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = a.get("/actions/DT3", &cookie);
        if page.body.contains("Written through server B") {
            break;
        }
        assert!(Instant::now() < deadline, "A never showed B's write");
        std::thread::sleep(Duration::from_millis(200));
    }
    // And back: a write through A, read through B.
    let posted = a.post(
        "/actions/DT3/updates",
        Some(&cookie),
        &format!(
            "csrf_token={csrf}&status=at-risk&note=Then+through+server+A&evidence_url=&revised_due="
        ),
    );
    assert_eq!(posted.status, 303, "{}", posted.body);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !b
        .get("/actions/DT3", &cookie)
        .body
        .contains("Then through server A")
    {
        assert!(Instant::now() < deadline, "B never showed A's write");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Signing out on B ends the session on A too.
    let out = b.post("/logout", Some(&cookie), &format!("csrf_token={csrf}"));
    assert_eq!(out.status, 303);
    let after = a.get("/account", &cookie);
    assert_eq!(after.status, 303, "A sends a signed-out person to sign in");
    assert_eq!(after.header("location"), Some("/login"));
}
