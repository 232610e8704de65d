//! A full disk: the write is refused in words ("storage is full, nothing was changed"),
//! nothing is half-written, and once space is back every write succeeds again, with no
//! connection left inside the failed transaction (issue 21, class 7: one write in four or
//! five failed with a 500 until a restart). SQLite's `PRAGMA max_page_count` stands in for
//! the full disk; PostgreSQL's disk cannot be filled from a test, so there the test checks
//! the write probe only (the SQLSTATE 53100 mapping has a unit test in `lib.rs`).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use greenplan_core::period::Period;
use greenplan_ingest::plan_file;
use greenplan_store::testing::{TestDatabase, limit_sqlite_pages};
use greenplan_store::{MetricValue, Store, StoreError};
use std::time::Duration;

fn value(i: usize) -> MetricValue {
    MetricValue {
        metric: "inhaler-carbon".into(),
        organisation: None,
        period: Period::parse("2025/26").unwrap(),
        value: format!("{}.5", 13_000 + i).parse().unwrap(),
        as_written: None,
        // Long enough that a few hundred writes fill any free pages.
        note: Some(format!("write {i}: {}", "n".repeat(2_000))),
        reference: None,
        origin: "test".into(),
    }
}

async fn values(s: &Store) -> Vec<MetricValue> {
    s.metric_values(Some("inhaler-carbon")).await.unwrap()
}

#[tokio::test]
async fn a_full_disk_is_told_in_words_and_every_write_succeeds_once_space_is_back() {
    let db = TestDatabase::new();
    let s = Store::connect(&db.url).await.unwrap();
    s.init_plan(&plan_file::built_in_plan().unwrap())
        .await
        .unwrap();
    let wait = Duration::from_secs(30);
    assert!(
        s.can_write(wait).await.unwrap(),
        "a fresh database takes writes"
    );
    if db.is_postgres() {
        return;
    }

    // Cap the file at its present size, then write until it is full.
    limit_sqlite_pages(&s, 1).await.unwrap();
    let mut refused = None;
    for i in 0..5_000 {
        let before = values(&s).await;
        match s.record_metric_value("test@nhs.net", &value(i)).await {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(values(&s).await, before, "a refused write changes nothing");
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("the capped database fills up");
    assert!(
        matches!(refused, StoreError::StorageFull(_)),
        "a full database is said to be full, not a database error: {refused:?}"
    );
    assert_eq!(refused.to_string(), "storage is full, nothing was changed");

    // While it is full, every write is refused the same way, and the probe says so. (A
    // connection that failed is closed and the pool opens a new one, without the limit:
    // the limit is set again on every connection before each try.)
    for i in 0..10 {
        limit_sqlite_pages(&s, 1).await.unwrap();
        let e = s
            .record_metric_value("test@nhs.net", &value(10_000 + i))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::StorageFull(_)), "write {i}: {e:?}");
    }
    limit_sqlite_pages(&s, 1).await.unwrap();
    assert!(
        matches!(s.can_write(wait).await, Err(StoreError::StorageFull(_))),
        "the write probe of /healthz sees the full database"
    );

    // Space is back: every write succeeds, on whichever connection of the pool it lands.
    limit_sqlite_pages(&s, 1 << 30).await.unwrap();
    for i in 0..20 {
        s.record_metric_value("test@nhs.net", &value(20_000 + i))
            .await
            .unwrap_or_else(|e| panic!("write {i} after space came back failed: {e:?}"));
    }
    assert!(s.can_write(wait).await.unwrap());
}
