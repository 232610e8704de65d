//! Backup and restore: every table round-trips, the audit trail included; a backup made on
//! SQLite restores into PostgreSQL and back with identical contents (when
//! GREENPLAN_TEST_POSTGRES names a server); damaged backups and non-empty targets are refused
//! with nothing written.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use greenplan_core::access::Role;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::ods::OdsCode;
use greenplan_core::period::Quarter;
use greenplan_core::plan::ActionStatus;
use greenplan_core::returns::ReportingPeriod;
use greenplan_ingest::plan_file::built_in_plan;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{EvidenceFile, NewActionUpdate, Store, hash_password};

/// A database with something in every kind of table: the plan, people, a session, an API
/// token, an update with an evidence file (bytes), an import that is a return, approved,
/// a metric value and their audit trail.
async fn filled(store: &Store) {
    store.init_plan(&built_in_plan().unwrap()).await.unwrap();
    let rtg = OdsCode::parse("RTG").unwrap();
    let hash = hash_password("a long test pass phrase").unwrap();
    let id = store
        .add_user(
            "test",
            "pat@uhdb.nhs.uk",
            "Pat",
            &hash,
            &rtg,
            Role::Contributor,
        )
        .await
        .unwrap();
    store.start_session(id).await.unwrap();
    store
        .create_api_token("test", "pat@uhdb.nhs.uk", "script")
        .await
        .unwrap();
    let update = NewActionUpdate {
        status: ActionStatus::OnTrack,
        note: "Café opened; \"quotes\", commas, and a line\nbreak".into(),
        evidence_url: None,
        evidence_file: Some(
            EvidenceFile::new("paper.pdf", b"%PDF-1.7\n\x00\xff binary".to_vec()).unwrap(),
        ),
        revised_due: None,
    };
    store
        .post_action_update("pat@uhdb.nhs.uk", "DT3", &update)
        .await
        .unwrap();
    let quarter = Quarter::parse("Q3 2025/26").unwrap();
    store
        .open_reporting_period(
            "test",
            &ReportingPeriod {
                quarter,
                due_on: "2026-01-31".parse().unwrap(),
            },
        )
        .await
        .unwrap();
    let mut import = store
        .begin_activity_import("pat@uhdb.nhs.uk", "rtg.csv", "sha")
        .await
        .unwrap();
    import
        .add(Activity {
            origin: RowRef {
                source: "rtg.csv".into(),
                row: 2,
            },
            organisation: rtg.clone(),
            site: Some("Royal Derby".into()),
            period_start: "2025-10-01".parse().unwrap(),
            period_end: "2025-12-31".parse().unwrap(),
            activity: "natural-gas".into(),
            quantity: "1234.5678".parse().unwrap(),
            unit: "kWh".parse().unwrap(),
            edition: None,
            category: None,
            market_factor: None,
            notes: None,
        })
        .await
        .unwrap();
    import
        .record_return(quarter, &rtg, 1, "225.8396".parse().unwrap())
        .await
        .unwrap();
    import.commit("rtg.csv").await.unwrap();
    let ret = store.returns_for(quarter).await.unwrap()[0].id;
    store.approve_return("lead@icb", ret).await.unwrap();
    // The tools: the care-activity library and the Team Up scenario, a scheme and its SIA.
    store
        .seed_care_pathways(
            &greenplan_ingest::pathway_file::built_in_factors().unwrap(),
            &greenplan_ingest::pathway_file::built_in_examples().unwrap(),
        )
        .await
        .unwrap();
    let scheme = store
        .add_schemes(
            "pat@uhdb.nhs.uk",
            &[greenplan_core::scheme::SchemeDetails {
                name: "Virtual ward".into(),
                owner: "Pat".into(),
                organisation: rtg.clone(),
                stage: greenplan_core::scheme::Stage::Delivery,
                start: Some("2025-04-01".parse().unwrap()),
                end: None,
                actions: vec!["CT1".into()],
                description: String::new(),
            }],
        )
        .await
        .unwrap()[0];
    let mut sia = greenplan_core::sia::Assessment::blank(rtg, "Virtual ward", "pat@uhdb.nhs.uk", 0);
    sia.scheme = Some(scheme);
    store.save_sia("pat@uhdb.nhs.uk", &sia, 0).await.unwrap();
    // A spend factor set, with its price year (migration 0011).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spend.csv");
    std::fs::write(&file, "category,kgco2e_per_gbp\nict,0.45\n").unwrap();
    let spend =
        greenplan_ingest::factors::read_spend_factors(&file, "spend-2021-prices", None).unwrap();
    store
        .replace_spend_factor_set("spend-2021-prices", 2021, "spend.csv", &spend)
        .await
        .unwrap();
}

/// Everything a backup holds except its header (which names the backend and the time).
async fn contents(store: &Store) -> String {
    let mut out = Vec::new();
    store.backup(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    text.split_once('\n').unwrap().1.to_string()
}

async fn sqlite_store(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::connect(&dir.path().join(name).display().to_string())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_table_round_trips() {
    let from = TestDatabase::new();
    let store = Store::connect(&from.url).await.unwrap();
    filled(&store).await;
    let before = contents(&store).await;
    for table in [
        "\"audit_log\"",
        "\"evidence_files\"",
        "\"returns\"",
        "\"sessions\"",
        "\"activities\"",
        "\"metric_values\"",
        "\"care_activity_factors\"",
        "\"schemes\"",
        "\"sias\"",
        "\"pathway_scenarios\"",
    ] {
        assert!(before.contains(table), "{table} is backed up");
    }
    let mut backup = Vec::new();
    store.backup(&mut backup).await.unwrap();

    let to = TestDatabase::new();
    let restored = Store::connect(&to.url).await.unwrap();
    let summary = restored.restore(backup.as_slice()).await.unwrap();
    assert!(summary.rows > 100, "{summary:?}");
    assert_eq!(contents(&restored).await, before, "identical after restore");
    // The restored database works: the plan, the evidence bytes, the next ids.
    let plan = restored.load_plan().await.unwrap().unwrap();
    assert_eq!(
        plan.actions.iter().find(|a| a.id == "DT3").unwrap().status,
        ActionStatus::OnTrack
    );
    let editions = restored.editions().await.unwrap();
    assert_eq!(editions, store.editions().await.unwrap());
    let spend = editions
        .iter()
        .find(|e| e.name == "spend-2021-prices")
        .unwrap();
    assert_eq!((spend.year, spend.price_year), (None, Some(2021)));
    let updates = restored.action_updates("DT3").await.unwrap();
    let (file_id, _) = updates[0].evidence_file.clone().unwrap();
    let (_, file) = restored.evidence_file(file_id).await.unwrap().unwrap();
    assert_eq!(file.contents, b"%PDF-1.7\n\x00\xff binary");
    assert!(updates[0].note.contains("Café opened; \"quotes\""));
    let trail = restored.audit_trail(None, 100).await.unwrap();
    assert_eq!(
        trail,
        store.audit_trail(None, 100).await.unwrap(),
        "the audit trail is kept"
    );
    let next = NewActionUpdate {
        status: ActionStatus::AtRisk,
        note: "after the restore".into(),
        evidence_url: None,
        evidence_file: None,
        revised_due: None,
    };
    restored
        .post_action_update("pat@uhdb.nhs.uk", "DT3", &next)
        .await
        .unwrap();
    assert_eq!(
        restored.data_revision().await.unwrap(),
        store.data_revision().await.unwrap() + 1
    );

    // Restoring twice, or into a database with data, is refused; nothing changes.
    let again = restored
        .restore(backup.as_slice())
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("already holds data"), "{again}");
}

#[tokio::test]
async fn damaged_backups_are_refused_with_nothing_written() {
    let from = TestDatabase::new();
    let store = Store::connect(&from.url).await.unwrap();
    filled(&store).await;
    let mut backup = Vec::new();
    store.backup(&mut backup).await.unwrap();
    let text = String::from_utf8(backup).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Cut short in the middle of the last tables.
    let cut = lines[..lines.len() - 3].join("\n");
    let to = TestDatabase::new();
    let target = Store::connect(&to.url).await.unwrap();
    let err = target
        .restore(cut.as_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the backup is damaged") && err.contains("cut short"),
        "{err}"
    );
    assert!(
        target.load_plan().await.unwrap().is_none(),
        "nothing was restored"
    );
    assert!(target.users().await.unwrap().is_empty());
    // A row that is not JSON: its line is named.
    let mut bad = lines.clone();
    bad[5] = "{not json";
    let err = target
        .restore(bad.join("\n").as_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 6"), "{err}");
    // Whole tables missing from the end are noticed too.
    let cut = lines[..lines.len() - 1].join("\n");
    let err = target
        .restore(cut.as_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cut short"), "{err}");
    let err = target
        .restore("hello\n".as_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a greenplan backup"), "{err}");
    assert!(target.load_plan().await.unwrap().is_none());
}

/// SQLite → PostgreSQL → SQLite gives the same contents and the same answers.
#[tokio::test]
async fn sqlite_and_postgresql_restore_each_others_backups() {
    let Some(_) = greenplan_store::testing::postgres_server() else {
        // This pass runs on SQLite; CI's PostgreSQL pass runs the crossing.
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_store(&dir, "a.db").await;
    filled(&sqlite).await;
    let before = contents(&sqlite).await;
    let mut backup = Vec::new();
    sqlite.backup(&mut backup).await.unwrap();

    let pg_db = TestDatabase::new();
    assert!(pg_db.is_postgres());
    let pg = Store::connect(&pg_db.url).await.unwrap();
    pg.restore(backup.as_slice()).await.unwrap();
    assert_eq!(
        contents(&pg).await,
        before,
        "PostgreSQL holds what SQLite held"
    );
    assert_eq!(
        pg.load_plan().await.unwrap(),
        sqlite.load_plan().await.unwrap()
    );
    assert_eq!(
        pg.audit_trail(None, 500).await.unwrap(),
        sqlite.audit_trail(None, 500).await.unwrap()
    );

    let mut back = Vec::new();
    pg.backup(&mut back).await.unwrap();
    let sqlite2 = sqlite_store(&dir, "b.db").await;
    sqlite2.restore(back.as_slice()).await.unwrap();
    assert_eq!(contents(&sqlite2).await, before, "and back again");
}
