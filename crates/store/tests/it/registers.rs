//! Register records on both backends: add, edit, archive with the audit trail; imports whole
//! or not at all; figures attached to the plan's metrics; activity rows for the footprint.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use greenplan_core::Decimal;
use greenplan_core::period::{FinancialYear, Period};
use greenplan_core::register::{self, Record, Register};
use greenplan_ingest::plan_file;
use greenplan_ingest::register_file::built_in_registers;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{Store, StoreError};

async fn store_with_plan(db: &TestDatabase) -> Store {
    let s = Store::connect(&db.url).await.unwrap();
    s.init_plan(&plan_file::built_in_plan().unwrap())
        .await
        .unwrap();
    s
}

fn contract(org: &str, name: &str, value: &str) -> Record {
    let pairs = [
        ("organisation", org),
        ("contract", name),
        ("supplier", "Supplier Ltd"),
        ("category", "ict"),
        ("annual_value", value),
        ("start_date", "2025-05-01"),
        ("ppn_0620_applied", "yes"),
        ("ppn_0620_weighting", "10"),
        ("crp_received", "yes"),
        ("sustainability_kpis", "no"),
        ("evergreen_level", "level-1"),
    ];
    let r: &'static Register = &register::procurement::CONTRACTS;
    r.parse(|k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
        .unwrap()
}

#[tokio::test]
async fn records_are_added_edited_and_archived_with_their_audit_trail() {
    let db = TestDatabase::new();
    let s = store_with_plan(&db).await;
    let r = &register::procurement::CONTRACTS;
    let id = s
        .add_register_record("a@nhs.net", &contract("RTG", "Cleaning", "250000"))
        .await
        .unwrap();
    let revision = s.register_record(r, id).await.unwrap().unwrap().revision;
    s.update_register_record(
        "b@nhs.net",
        id,
        revision,
        &contract("RTG", "Cleaning", "6000000.50"),
    )
    .await
    .unwrap();
    let stored = s.register_record(r, id).await.unwrap().unwrap();
    assert_eq!(
        stored.record.decimal("annual_value"),
        Some("6000000.5".parse().unwrap())
    );
    assert_eq!(
        (stored.created_by.as_str(), stored.updated_by.as_str()),
        ("a@nhs.net", "b@nhs.net")
    );
    s.archive_register_record("b@nhs.net", r, id, stored.revision)
        .await
        .unwrap();
    assert!(s.register_records(r, false).await.unwrap().is_empty());
    assert_eq!(s.register_records(r, true).await.unwrap().len(), 1);
    // An archived record cannot be edited or archived again.
    assert!(matches!(
        s.update_register_record("b@nhs.net", id, stored.revision, &contract("RTG", "X", "1"))
            .await,
        Err(StoreError::Rejected(_))
    ));
    let trail = s
        .audit_trail(Some(("register-record", &id.to_string())), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["archive", "edit", "add"]);
    assert!(trail[1].before.as_deref().unwrap().contains("250000"));
    assert!(trail[1].after.as_deref().unwrap().contains("6000000.5"));
    assert_eq!(trail[0].organisation.as_deref(), Some("RTG"));
}

#[tokio::test]
async fn an_import_with_an_unknown_organisation_stores_nothing() {
    let db = TestDatabase::new();
    let s = store_with_plan(&db).await;
    let records = vec![
        contract("RTG", "A", "1"),
        contract("ZZZ", "B", "2"),
        contract("RFS", "C", "3"),
    ];
    let err = s
        .import_register_records("a@nhs.net", &records)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no organisation `ZZZ`"), "{err}");
    assert!(s.registers_are_empty().await.unwrap());
    assert!(
        s.audit_trail(None, 100)
            .await
            .unwrap()
            .iter()
            .all(|e| e.entity_kind != "register-record")
    );
}

#[tokio::test]
async fn register_figures_join_the_plans_metric_history() {
    let db = TestDatabase::new();
    let s = store_with_plan(&db).await;
    let records: Vec<Record> = built_in_registers()
        .unwrap()
        .into_iter()
        .flat_map(|(_, r)| r)
        .collect();
    s.import_register_records("greenplan", &records)
        .await
        .unwrap();
    let plan = s.load_plan().await.unwrap().unwrap();
    let led: Vec<_> = plan
        .data_points
        .iter()
        .filter(|d| {
            d.metric == "estate-led-lighting"
                && d.reference
                    .as_deref()
                    .is_some_and(|r| r.starts_with("register:"))
        })
        .collect();
    assert_eq!(led.len(), 1);
    assert_eq!(led[0].value, "44.6".parse::<Decimal>().unwrap());
    assert_eq!(
        led[0].period,
        Period::FinancialYear {
            year: FinancialYear(2023)
        }
    );
    assert!(
        led[0]
            .note
            .as_deref()
            .unwrap()
            .contains("89,200 m² of 200,000 m²"),
        "{:?}",
        led[0].note
    );
    let lease = plan
        .data_points
        .iter()
        .find(|d| {
            d.metric == "dchs-new-lease-cars"
                && d.reference.as_deref() == Some("register:fleet-lease-cars:new-lease-cars")
        })
        .unwrap();
    assert_eq!(
        (lease.organisation.as_ref().unwrap().as_str(), lease.value),
        ("RY8", Decimal::from(82))
    );

    let activities = s
        .register_footprint_activities(Some(FinancialYear(2024)))
        .await
        .unwrap();
    // 2024/25: two fleet rows; waste: three streams and one collection mileage.
    assert_eq!(activities.len(), 6);
    assert!(
        activities
            .iter()
            .all(|a| a.origin.source.starts_with("register "))
    );
    let all = s.register_footprint_activities(None).await.unwrap();
    // 2022/23 adds the incinerated clinical waste and its 28,276 miles.
    assert_eq!(all.len(), 8);
}

/// Many writers at once (a busy morning of register edits): every write succeeds and is
/// stored once. On SQLite a write transaction takes the write lock when it starts; one that
/// read first and wrote later failed with "database is locked" when another had written
/// between (the registers, schemes, surveys and digital schemes began deferred until this
/// was found).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_all_succeed() {
    let db = TestDatabase::new();
    let s = store_with_plan(&db).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let id = s
                .add_register_record("a", &contract("RTG", &format!("C{i}"), "100"))
                .await?;
            let revision = s
                .register_record(&register::procurement::CONTRACTS, id)
                .await?
                .map_or(0, |r| r.revision);
            s.update_register_record("a", id, revision, &contract("RTG", &format!("C{i}"), "200"))
                .await?;
            s.import_register_records("b", &[contract("RFS", &format!("I{i}"), "300")])
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stored = s
        .register_records(&register::procurement::CONTRACTS, false)
        .await
        .unwrap();
    assert_eq!(stored.len(), 48);
    assert_eq!(
        stored
            .iter()
            .filter(|r| r.record.decimal("annual_value") == Some(Decimal::from(200)))
            .count(),
        24
    );
}
