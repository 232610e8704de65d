//! The tools' storage: the care-activity library and saved pathway scenarios, the scheme
//! register with its "Greener NHS" tag, and the SIA workflow. Run on SQLite by default and on
//! PostgreSQL when `GREENPLAN_TEST_POSTGRES` is set.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use greenplan_core::Decimal;
use greenplan_core::access::{Access, Membership, Role};
use greenplan_core::ods::OdsCode;
use greenplan_core::pathway::{Change, Scenario, ScenarioLine, evaluate};
use greenplan_core::scheme::{Consideration, SchemeDetails, Stage};
use greenplan_core::sia::{Assessment, Impact, SiaStatus, Step};
use greenplan_ingest::pathway_file::{built_in_examples, built_in_factors};
use greenplan_ingest::plan_file::built_in_plan;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{Revised, SeedOutcome, Store, StoreError};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn org(c: &str) -> OdsCode {
    OdsCode::parse(c).unwrap()
}

fn access(o: &str, role: Role) -> Access {
    Access::new(vec![Membership {
        organisation: org(o),
        role,
    }])
}

async fn store(db: &TestDatabase) -> Store {
    let s = Store::connect(&db.url).await.unwrap();
    s.init_plan(&built_in_plan().unwrap()).await.unwrap();
    s
}

async fn seed(s: &Store) -> SeedOutcome {
    s.seed_care_pathways(&built_in_factors().unwrap(), &built_in_examples().unwrap())
        .await
        .unwrap()
}

/// A record's revision now, as an edit form would carry it.
async fn rev(s: &Store, kind: Revised, key: impl ToString) -> i64 {
    s.revision(kind, &key.to_string()).await.unwrap().unwrap()
}

fn rejected(e: StoreError) -> String {
    match e {
        StoreError::Rejected(m) => m,
        other => panic!("expected a refusal, got {other}"),
    }
}

fn scheme(name: &str, o: &str, start: &str) -> SchemeDetails {
    SchemeDetails {
        name: name.into(),
        owner: "Transformation lead".into(),
        organisation: org(o),
        stage: Stage::Delivery,
        start: Some(start.parse().unwrap()),
        end: None,
        actions: vec!["CT1".into()],
        description: String::new(),
    }
}

/// The Team Up case saved as the example and computed with the stored library, by hand:
/// 188 × 56 = 10,528 kgCO2e = 1,169.8 GP home visits; 690 × 37.9 = 26,151 kgCO2e = 2,905.7.
#[tokio::test]
async fn the_library_and_the_team_up_example_are_seeded_once() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let first = seed(&s).await;
    assert_eq!(first.factors, built_in_factors().unwrap().len());
    assert_eq!(first.examples, 1);
    assert_eq!(seed(&s).await, SeedOutcome::default(), "idempotent");

    let saved = s.pathway_scenarios().await.unwrap();
    assert_eq!(saved.len(), 1);
    let team_up = &saved[0];
    assert_eq!(team_up.example.as_deref(), Some("team-up"));
    assert_eq!(team_up.organisation, org("QJ2"), "owned by the plan's ICB");
    assert_eq!(team_up.scenario.actions, vec!["CT1"]);
    let library = s.care_activity_factors().await.unwrap();
    let r = evaluate(&team_up.scenario, &library).unwrap();
    assert_eq!(r.lines[0].kgco2e_saved, d("10528"));
    assert_eq!(r.lines[0].equivalents, Some(d("1169.8")));
    assert_eq!(r.lines[1].kgco2e_saved, d("26151"));
    assert_eq!(r.lines[1].equivalents, Some(d("2905.7")));
    assert!(
        r.lines[0]
            .published_note
            .as_deref()
            .unwrap()
            .contains("rounds 56 / 9 = 6.2222 to 6.2"),
        "the published figures survive the round trip"
    );
}

#[tokio::test]
async fn a_factor_edit_is_checked_audited_and_never_overwritten_by_seeding() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    seed(&s).await;
    let mut visit = s
        .care_activity_factors()
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.id == "gp-home-visit")
        .unwrap();
    visit.kgco2e = d("9.5");
    visit.low = Some(d("8"));
    let e = s
        .update_care_activity_factor(
            "lead@nhs.net",
            &visit,
            rev(&s, Revised::CareActivityFactor, "gp-home-visit").await,
        )
        .await
        .unwrap_err();
    assert!(rejected(e).contains("both ends of the range"));
    visit.high = Some(d("11"));
    s.update_care_activity_factor(
        "lead@nhs.net",
        &visit,
        rev(&s, Revised::CareActivityFactor, "gp-home-visit").await,
    )
    .await
    .unwrap();
    seed(&s).await;
    let stored = s.care_activity_factors().await.unwrap();
    let after = stored.iter().find(|f| f.id == "gp-home-visit").unwrap();
    assert_eq!(
        (after.kgco2e, after.low, after.high),
        (d("9.5"), Some(d("8")), Some(d("11")))
    );
    let trail = s
        .audit_trail(Some(("care-activity-factor", "gp-home-visit")), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert!(
        trail[0]
            .before
            .as_deref()
            .unwrap()
            .contains("\"kgco2e\":\"9\"")
    );
    assert!(
        trail[0]
            .after
            .as_deref()
            .unwrap()
            .contains("\"kgco2e\":\"9.5\"")
    );
    // The Team Up bed days now: 690 × 37.9 unchanged; the equivalence uses 9.5.
    let team_up = &s.pathway_scenarios().await.unwrap()[0];
    let r = evaluate(&team_up.scenario, &stored).unwrap();
    assert_eq!(r.lines[1].equivalents, Some(d("2752.7")), "26151 / 9.5");
}

#[tokio::test]
async fn scenarios_are_checked_before_they_are_saved() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    seed(&s).await;
    let scenario = |activity: &str, actions: Vec<String>| Scenario {
        name: "Virtual ward".into(),
        description: None,
        actions,
        case_study: None,
        equivalent: Some("gp-home-visit".into()),
        lines: vec![ScenarioLine {
            activity: activity.into(),
            change: Change::BeforeAfter {
                before: d("120"),
                after: d("80"),
            },
            published: None,
        }],
    };
    let id = s
        .save_pathway_scenario(
            "rtg@nhs.net",
            None,
            &org("RTG"),
            None,
            &scenario("inpatient-bed-day-low", vec!["CT1".into()]),
        )
        .await
        .unwrap();
    let saved = s.pathway_scenario(id).await.unwrap().unwrap();
    assert_eq!(saved.organisation, org("RTG"));
    // 40 fewer bed days × 37.9 = 1,516 kgCO2e.
    let r = evaluate(&saved.scenario, &s.care_activity_factors().await.unwrap()).unwrap();
    assert_eq!(r.total_kgco2e_saved, d("1516.0"));
    let unknown = s
        .save_pathway_scenario(
            "x",
            None,
            &org("RTG"),
            None,
            &scenario("helicopter", vec![]),
        )
        .await
        .unwrap_err();
    assert!(rejected(unknown).contains("no care-activity factor `helicopter`"));
    let no_action = s
        .save_pathway_scenario(
            "x",
            None,
            &org("RTG"),
            None,
            &scenario("gp-home-visit", vec!["ZZ9".into()]),
        )
        .await
        .unwrap_err();
    assert!(rejected(no_action).contains("ZZ9 is not a priority action"));
    let rfs_scheme = s
        .add_schemes("rfs@nhs.net", &[scheme("Theatres", "RFS", "2025-05-01")])
        .await
        .unwrap()[0];
    let other = s
        .save_pathway_scenario(
            "x",
            Some((id, saved.revision)),
            &org("RTG"),
            Some(rfs_scheme),
            &scenario("gp-home-visit", vec![]),
        )
        .await
        .unwrap_err();
    assert!(rejected(other).contains("belongs to RFS, not RTG"));
    let trail = s
        .audit_trail(Some(("pathway-scenario", &id.to_string())), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1, "refused changes leave no trace");
}

#[tokio::test]
async fn a_scheme_is_tagged_only_by_a_reviewed_sia_or_a_recorded_reason() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let ids = s
        .add_schemes(
            "rtg@nhs.net",
            &[
                scheme("Virtual wards", "RTG", "2025-04-10"),
                scheme("Theatre gases", "RTG", "2025-05-01"),
            ],
        )
        .await
        .unwrap();
    let (reasoned, assessed) = (ids[0], ids[1]);
    let e = s
        .record_scheme_reason(
            "rtg@nhs.net",
            reasoned,
            rev(&s, Revised::Scheme, reasoned).await,
            "  ",
        )
        .await
        .unwrap_err();
    assert!(rejected(e).contains("say why"));
    s.record_scheme_reason(
        "rtg@nhs.net",
        reasoned,
        rev(&s, Revised::Scheme, reasoned).await,
        "Contract extension only",
    )
    .await
    .unwrap();
    let tagged = s.scheme(reasoned).await.unwrap().unwrap();
    assert!(matches!(
        tagged.consideration,
        Some(Consideration::Reason { ref by, ref why, .. }) if by == "rtg@nhs.net" && why == "Contract extension only"
    ));

    // An SIA of the second scheme: drafted, refused while incomplete, submitted, reviewed.
    let mut sia = Assessment::blank(org("RTG"), "Theatre gas capture", "rtg@nhs.net", 0);
    sia.scheme = Some(assessed);
    let (id, _) = s.save_sia("rtg@nhs.net", &sia, 0).await.unwrap();
    let contributor = access("RTG", Role::Contributor);
    let e = s
        .sia_step(
            "rtg@nhs.net",
            &contributor,
            id,
            rev(&s, Revised::Sia, id).await,
            &Step::Submit,
        )
        .await
        .unwrap_err();
    assert!(rejected(e).contains("Energy and carbon: choose"));
    sia.id = id;
    for f in &mut sia.facets {
        f.impact = Some(Impact::Positive);
        f.reason = "Less nitrous oxide vented".into();
    }
    sia.facets[2].impact = Some(Impact::Negative);
    sia.facets[2].mitigation = "Return cylinders to the supplier".into();
    s.save_sia("rtg@nhs.net", &sia, rev(&s, Revised::Sia, id).await)
        .await
        .unwrap();
    assert_eq!(
        s.sia_step(
            "rtg@nhs.net",
            &contributor,
            id,
            rev(&s, Revised::Sia, id).await,
            &Step::Submit
        )
        .await
        .unwrap(),
        SiaStatus::Submitted
    );
    sia.title = "Changed after submitting".into();
    assert!(
        rejected(
            s.save_sia("rtg@nhs.net", &sia, rev(&s, Revised::Sia, id).await)
                .await
                .unwrap_err()
        )
        .contains("no longer be changed")
    );
    let review = Step::Review {
        comment: String::new(),
    };
    let own = access("RTG", Role::OrganisationAdmin);
    let e = s
        .sia_step(
            "rtg@nhs.net",
            &own,
            id,
            rev(&s, Revised::Sia, id).await,
            &review,
        )
        .await
        .unwrap_err();
    assert!(rejected(e).contains("someone else must review it"));
    let other_admin = access("RFS", Role::OrganisationAdmin);
    let e = s
        .sia_step(
            "admin@crh.nhs.uk",
            &other_admin,
            id,
            rev(&s, Revised::Sia, id).await,
            &review,
        )
        .await
        .unwrap_err();
    assert!(rejected(e).contains("only an organisation admin"));
    assert!(
        s.scheme(assessed)
            .await
            .unwrap()
            .unwrap()
            .consideration
            .is_none()
    );
    assert_eq!(
        s.sia_step(
            "admin@uhdb.nhs.uk",
            &own,
            id,
            rev(&s, Revised::Sia, id).await,
            &review
        )
        .await
        .unwrap(),
        SiaStatus::Reviewed
    );
    let stored = s.sia(id).await.unwrap().unwrap();
    assert_eq!(stored.submitted_by.as_deref(), Some("rtg@nhs.net"));
    assert_eq!(stored.reviewed_by.as_deref(), Some("admin@uhdb.nhs.uk"));
    assert_eq!(
        s.scheme(assessed).await.unwrap().unwrap().consideration,
        Some(Consideration::Assessed { sia: id }),
        "reviewing the SIA tagged its scheme"
    );
    let e = s
        .record_scheme_reason(
            "rtg@nhs.net",
            assessed,
            rev(&s, Revised::Scheme, assessed).await,
            "no",
        )
        .await
        .unwrap_err();
    assert!(rejected(e).contains("already tagged by its reviewed assessment"));
    let steps: Vec<String> = s
        .audit_trail(Some(("sia", &id.to_string())), 10)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| e.action)
        .collect();
    assert_eq!(steps, ["create", "edit", "submit", "review"]);
    let scheme_trail: Vec<String> = s
        .audit_trail(Some(("scheme", &assessed.to_string())), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(scheme_trail, ["tag", "create"]);
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_archiving_keeps_history() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let mut bad = scheme("Bad", "RTG", "2025-04-01");
    bad.actions = vec!["NOPE".into()];
    let e = s
        .add_schemes("rtg@nhs.net", &[scheme("Good", "RTG", "2025-04-01"), bad])
        .await
        .unwrap_err();
    assert!(rejected(e).contains("NOPE"));
    assert!(s.schemes(true).await.unwrap().is_empty(), "nothing stored");
    let mut ends_early = scheme("Dates", "RTG", "2025-04-01");
    ends_early.end = Some("2025-03-01".parse().unwrap());
    assert!(
        rejected(s.add_schemes("x", &[ends_early]).await.unwrap_err()).contains("before the start")
    );

    let id = s
        .add_schemes("rtg@nhs.net", &[scheme("Good", "RTG", "2025-04-01")])
        .await
        .unwrap()[0];
    let mut moved = scheme("Renamed", "RFS", "2025-04-02");
    moved.stage = Stage::Closed;
    s.update_scheme(
        "rtg@nhs.net",
        id,
        rev(&s, Revised::Scheme, id).await,
        &moved,
    )
    .await
    .unwrap();
    let after = s.scheme(id).await.unwrap().unwrap();
    assert_eq!(after.details.name, "Renamed");
    assert_eq!(
        after.details.organisation,
        org("RTG"),
        "the organisation stays"
    );
    assert!(
        rejected(
            s.archive_scheme("x", id, rev(&s, Revised::Scheme, id).await, " ")
                .await
                .unwrap_err()
        )
        .contains("say why")
    );
    s.archive_scheme(
        "rtg@nhs.net",
        id,
        rev(&s, Revised::Scheme, id).await,
        "Withdrawn",
    )
    .await
    .unwrap();
    assert!(s.schemes(false).await.unwrap().is_empty());
    assert_eq!(s.schemes(true).await.unwrap().len(), 1);
    assert!(
        rejected(
            s.update_scheme("x", id, rev(&s, Revised::Scheme, id).await, &moved)
                .await
                .unwrap_err()
        )
        .contains("archived")
    );
    let trail = s
        .audit_trail(Some(("scheme", &id.to_string())), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 3);
    assert!(
        trail[1]
            .before
            .as_deref()
            .unwrap()
            .contains("\"name\":\"Good\"")
    );
}
