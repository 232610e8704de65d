//! The storage suite. Run on SQLite by default and on PostgreSQL when
//! `GREENPLAN_TEST_POSTGRES` is set; CI runs both.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use chrono::NaiveDate;
use greenplan_core::Decimal;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::footprint::Resolver;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{FinancialYear, Period};
use greenplan_ingest::{factors, plan_file};
use greenplan_store::testing::TestDatabase;
use greenplan_store::{InitOutcome, MetricValue, Store, StoreError};
use std::path::PathBuf;

fn factor_file(year: i32) -> PathBuf {
    let ext = if year == 2019 || year == 2021 {
        "xls"
    } else {
        "xlsx"
    };
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ghg-conversion-factors"
    ))
    .join(format!("uk-ghg-conversion-factors-{year}-flat-file.{ext}"))
}

async fn store(db: &TestDatabase) -> Store {
    Store::connect(&db.url).await.expect("connect")
}

fn activity(row: u64, org: &str, qty: &str, unit: &str, what: &str) -> Activity {
    Activity {
        origin: RowRef {
            source: "test.csv".into(),
            row,
        },
        organisation: OdsCode::parse(org).unwrap(),
        site: None,
        period_start: NaiveDate::from_ymd_opt(2023, 4, 1).unwrap(),
        period_end: NaiveDate::from_ymd_opt(2023, 4, 30).unwrap(),
        activity: what.into(),
        quantity: qty.parse().unwrap(),
        unit: unit.parse().unwrap(),
        edition: None,
        category: None,
        market_factor: None,
        notes: None,
    }
}

#[tokio::test]
async fn the_built_in_plan_round_trips_and_init_is_idempotent() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let plan = plan_file::built_in_plan().unwrap();
    let first = s.init_plan(&plan).await.unwrap();
    assert!(
        matches!(first, InitOutcome::Loaded { actions: 24, .. }),
        "{first:?}"
    );
    assert_eq!(
        s.init_plan(&plan).await.unwrap(),
        InitOutcome::AlreadyLoaded
    );
    let loaded = s.load_plan().await.unwrap().expect("a plan");
    assert_eq!(loaded.info, plan.info);
    assert_eq!(loaded.organisations, plan.organisations);
    assert_eq!(loaded.areas, plan.areas);
    assert_eq!(loaded.actions, plan.actions);
    assert_eq!(loaded.metrics, plan.metrics);
    assert_eq!(loaded.visions, plan.visions);
    assert_eq!(loaded.places, plan.places);
    assert_eq!(loaded.case_studies, plan.case_studies);
    assert_eq!(loaded.data_points.len(), plan.data_points.len());
    for d in &plan.data_points {
        assert!(loaded.data_points.contains(d), "lost {d:?}");
    }
}

#[tokio::test]
async fn a_second_plan_is_refused() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let mut plan = plan_file::built_in_plan().unwrap();
    s.init_plan(&plan).await.unwrap();
    plan.info.id = "another".into();
    assert!(matches!(
        s.init_plan(&plan).await,
        Err(StoreError::OtherPlanLoaded { .. })
    ));
}

#[tokio::test]
async fn editions_store_exact_factors_and_replace_whole() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let file = factors::read_flat_file(&factor_file(2023), None).unwrap();
    s.replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();
    // A second import of the same edition replaces it rather than doubling it.
    s.replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();
    let editions = s.editions().await.unwrap();
    assert_eq!(editions.len(), 1);
    assert_eq!(editions[0].factor_count as usize, file.factors.len());
    let set = s.factor_set(None).await.unwrap();
    assert_eq!(set.factors().len(), file.factors.len());
    let i = set
        .resolve("natural-gas", &"kWh".parse().unwrap(), "uk-2023")
        .unwrap();
    assert_eq!(
        set.factors()[i].kgco2e,
        "0.18292892617449666".parse::<Decimal>().unwrap()
    );
    assert_eq!(
        set.factors()[i].kgco2e.round_dp(5),
        "0.18293".parse::<Decimal>().unwrap()
    );
    assert_eq!(
        set.factors()[i],
        file.factors[file
            .factors
            .iter()
            .position(|f| f.key() == set.factors()[i].key())
            .unwrap()]
    );
}

#[tokio::test]
async fn an_import_is_all_or_nothing() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let file = factors::read_flat_file(&factor_file(2023), None).unwrap();
    s.replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();

    let mut import = s
        .begin_activity_import("test", "a.csv", "sha-a")
        .await
        .unwrap();
    for i in 0..1200 {
        import
            .add(activity(i + 2, "RTG", "10", "kWh", "natural-gas"))
            .await
            .unwrap();
    }
    import.rollback().await.unwrap();
    assert_eq!(s.activity_count().await.unwrap(), 0);
    assert_eq!(s.import_with_sha("sha-a").await.unwrap(), None);

    let mut import = s
        .begin_activity_import("test", "a.csv", "sha-a")
        .await
        .unwrap();
    for i in 0..1200 {
        import
            .add(activity(i + 2, "RTG", "10", "kWh", "natural-gas"))
            .await
            .unwrap();
    }
    // Dropped without commit, as when a process dies: nothing stays.
    drop(import);
    assert_eq!(s.activity_count().await.unwrap(), 0);

    let mut import = s
        .begin_activity_import("test", "a.csv", "sha-a")
        .await
        .unwrap();
    for i in 0..1200 {
        import
            .add(activity(i + 2, "RTG", "10", "kWh", "natural-gas"))
            .await
            .unwrap();
    }
    let summary = import.commit("a.csv").await.unwrap();
    assert_eq!(summary.rows, 1200);
    assert_eq!(s.activity_count().await.unwrap(), 1200);
    assert!(s.import_with_sha("sha-a").await.unwrap().is_some());
}

#[tokio::test]
async fn stored_activity_gives_the_hand_computed_footprint() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let file = factors::read_flat_file(&factor_file(2023), None).unwrap();
    s.replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();
    let mut import = s
        .begin_activity_import("test", "b.csv", "sha-b")
        .await
        .unwrap();
    import
        .add(activity(2, "RTG", "1000", "kWh", "natural-gas"))
        .await
        .unwrap();
    import
        .add(activity(3, "RFS", "2", "MWh", "grid-electricity"))
        .await
        .unwrap();
    import.commit("b.csv").await.unwrap();

    let set = s.factor_set(None).await.unwrap();
    let mut resolver = Resolver::new(&set, s.edition_years().await.unwrap());
    let mut total = Decimal::ZERO;
    let n = s
        .for_each_activity(Some(FinancialYear(2023)), None, |a| {
            total += resolver.emission(&a).unwrap().kgco2e;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    // 1000 × 0.18292892617449666 + 2000 × 0.20707428859060403
    let expected: Decimal = "182.92892617449666".parse::<Decimal>().unwrap()
        + "414.14857718120806".parse::<Decimal>().unwrap();
    assert_eq!(total, expected);
    let only_rtg = s
        .for_each_activity(None, Some(&OdsCode::parse("RTG").unwrap()), |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(only_rtg, 1);
    let other_year = s
        .for_each_activity(Some(FinancialYear(2024)), None, |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(other_year, 0);
}

#[tokio::test]
async fn metric_values_are_recorded_and_unknown_metrics_refused() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    s.init_plan(&plan_file::built_in_plan().unwrap())
        .await
        .unwrap();
    let value = MetricValue {
        metric: "inhaler-carbon".into(),
        organisation: None,
        period: Period::parse("2025/26").unwrap(),
        value: "13100.5".parse().unwrap(),
        as_written: None,
        note: Some("Greener NHS dashboard".into()),
        reference: None,
        origin: "test".into(),
    };
    s.record_metric_value("test@nhs.net", &value).await.unwrap();
    let values = s.metric_values(Some("inhaler-carbon")).await.unwrap();
    assert_eq!(values.last().unwrap(), &value);
    let bad = MetricValue {
        metric: "no-such-metric".into(),
        ..value
    };
    assert!(matches!(
        s.record_metric_value("test@nhs.net", &bad).await,
        Err(StoreError::Rejected(_))
    ));
}

#[tokio::test]
async fn reports_which_backend_it_is_on() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let want = if db.is_postgres() {
        greenplan_store::Backend::Postgres
    } else {
        greenplan_store::Backend::Sqlite
    };
    assert_eq!(s.backend(), want);
    assert!(s.is_reachable().await);
}
