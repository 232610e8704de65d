//! Travel surveys and digital schemes in the store, on SQLite by default and on PostgreSQL
//! when `GREENPLAN_TEST_POSTGRES` is set: one response per token (also under a race), closed
//! surveys refusing, imports all or nothing, and the footprint rows resolved against the
//! official 2023 factors with hand-computed figures.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use greenplan_core::Decimal;
use greenplan_core::category::NhsCategory;
use greenplan_core::digital::DigitalLine;
use greenplan_core::footprint::Resolver;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::travel::{Answers, Distance, DistanceUnit, Mode, Respondents};
use greenplan_ingest::{factors, plan_file};
use greenplan_store::testing::TestDatabase;
use greenplan_store::{NewDigitalScheme, NewTravelSurvey, ResponseRefused, Store, SurveyStatus};
use std::path::PathBuf;

async fn store(db: &TestDatabase) -> Store {
    let s = Store::connect(&db.url).await.unwrap();
    s.init_plan(&plan_file::built_in_plan().unwrap())
        .await
        .unwrap();
    s
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn survey(headcount: Option<u32>) -> NewTravelSurvey {
    NewTravelSurvey {
        organisation: OdsCode::parse("RTG").unwrap(),
        title: "Staff travel survey 2025".into(),
        respondents: Respondents::Staff,
        sites: vec!["Royal Derby Hospital".into()],
        financial_year: FinancialYear(2025),
        weeks_per_year: dec("46"),
        headcount,
    }
}

fn answers(distance: Option<(&str, DistanceUnit)>, days: &[Option<Mode>]) -> Answers {
    let mut week = [None; 7];
    week[..days.len()].copy_from_slice(days);
    Answers {
        site: Some("Royal Derby Hospital".into()),
        distance: distance.map(|(v, u)| Distance::parse(v, u).unwrap()),
        postcode_district: None,
        week,
        active_barriers: vec!["weather".into()],
        public_barriers: vec![],
        interests: vec![],
    }
}

#[tokio::test]
async fn a_token_answers_once_and_closed_surveys_refuse() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let id = s
        .create_travel_survey("org@uhdb", &survey(None))
        .await
        .unwrap();
    let tokens = s
        .issue_travel_survey_tokens("org@uhdb", id, 3)
        .await
        .unwrap();
    assert_eq!(tokens.len(), 3);
    let a = answers(Some(("3", DistanceUnit::Km)), &[Some(Mode::Cycle)]);

    // A draft takes no responses.
    assert_eq!(
        s.submit_travel_response(&tokens[0], &a).await.unwrap(),
        Err(ResponseRefused::NotOpen(SurveyStatus::Draft))
    );
    let opened = s
        .set_travel_survey_open("org@uhdb", id, true)
        .await
        .unwrap();
    assert_eq!(opened.status, SurveyStatus::Open);
    let link = opened.open_link.clone().unwrap();

    assert!(
        s.submit_travel_response(&tokens[0], &a)
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        s.submit_travel_response(&tokens[0], &a).await.unwrap(),
        Err(ResponseRefused::AlreadyUsed)
    );
    assert_eq!(
        s.submit_travel_response("not-a-token", &a).await.unwrap(),
        Err(ResponseRefused::UnknownToken)
    );
    // The open link hands out fresh tokens, each good once.
    let fresh = s.start_travel_response(&link).await.unwrap().unwrap();
    assert!(s.submit_travel_response(&fresh, &a).await.unwrap().is_ok());
    assert!(s.submit_travel_response(&fresh, &a).await.unwrap().is_err());

    // Closed: no more responses, no more open-link tokens, no more invitations.
    s.set_travel_survey_open("org@uhdb", id, false)
        .await
        .unwrap();
    assert_eq!(
        s.submit_travel_response(&tokens[1], &a).await.unwrap(),
        Err(ResponseRefused::NotOpen(SurveyStatus::Closed))
    );
    assert_eq!(
        s.start_travel_response(&link).await.unwrap(),
        Err(ResponseRefused::NotOpen(SurveyStatus::Closed))
    );
    assert!(
        s.issue_travel_survey_tokens("org@uhdb", id, 1)
            .await
            .is_err()
    );
    assert_eq!(s.travel_responses(id).await.unwrap().len(), 2);
    let got = s.travel_survey(id).await.unwrap().unwrap();
    assert_eq!((got.status, got.responses), (SurveyStatus::Closed, 2));

    // Every change is in the audit trail, never a token.
    let trail = s.audit_trail(None, 100).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for want in [
        "create travel survey",
        "issue travel survey invitations",
        "open travel survey",
        "respond to travel survey",
        "close travel survey",
    ] {
        assert!(actions.contains(&want), "{want} not in {actions:?}");
    }
    let text = format!("{trail:?}");
    assert!(tokens.iter().all(|t| !text.contains(t.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_submissions_racing_with_one_token_store_exactly_one() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let id = s
        .create_travel_survey("org@uhdb", &survey(None))
        .await
        .unwrap();
    s.set_travel_survey_open("org@uhdb", id, true)
        .await
        .unwrap();
    for round in 0..5 {
        let token = s
            .issue_travel_survey_tokens("org@uhdb", id, 1)
            .await
            .unwrap()
            .remove(0);
        let a = answers(Some(("5", DistanceUnit::Miles)), &[Some(Mode::Bus)]);
        let (s1, s2) = (s.clone(), s.clone());
        let (t1, t2) = (token.clone(), token.clone());
        let (a1, a2) = (a.clone(), a.clone());
        let first = tokio::spawn(async move { s1.submit_travel_response(&t1, &a1).await });
        let second = tokio::spawn(async move { s2.submit_travel_response(&t2, &a2).await });
        let results = [
            first.await.unwrap().unwrap(),
            second.await.unwrap().unwrap(),
        ];
        let stored = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(stored, 1, "round {round}: {results:?}");
        assert!(
            results.contains(&Err(ResponseRefused::AlreadyUsed)),
            "round {round}: {results:?}"
        );
        assert_eq!(s.travel_responses(id).await.unwrap().len(), round + 1);
    }
}

#[tokio::test]
async fn imports_are_all_or_nothing_and_carry_their_rows() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let id = s
        .create_travel_survey("org@uhdb", &survey(None))
        .await
        .unwrap();
    let rows = vec![
        (
            2,
            answers(Some(("4", DistanceUnit::Km)), &[Some(Mode::Walk)]),
        ),
        (3, answers(None, &[Some(Mode::Car)])),
    ];
    assert_eq!(
        s.import_travel_responses("org@uhdb", id, "forms.csv", &rows)
            .await
            .unwrap(),
        2
    );
    let stored = s.travel_responses(id).await.unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|r| r.imported_from.clone().unwrap())
            .collect::<Vec<_>>(),
        ["forms.csv, row 2", "forms.csv, row 3"]
    );
    assert_eq!(stored[1].answers, rows[1].1);
    s.set_travel_survey_open("org@uhdb", id, false)
        .await
        .unwrap();
    assert!(
        s.import_travel_responses("org@uhdb", id, "late.csv", &rows)
            .await
            .is_err()
    );
    assert_eq!(s.travel_responses(id).await.unwrap().len(), 2);
}

fn factor_file_2023() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx"
    ))
}

#[tokio::test]
async fn closed_surveys_feed_carbon_footprint_plus_with_hand_computed_figures() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let file = factors::read_flat_file(&factor_file_2023(), None).unwrap();
    s.replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();
    // Headcount 10; two of three respondents gave a distance: scaled × 10 ÷ 2 = 5.
    let id = s
        .create_travel_survey("org@uhdb", &survey(Some(10)))
        .await
        .unwrap();
    let rows = vec![
        (
            2,
            answers(
                Some(("10", DistanceUnit::Km)),
                &[
                    Some(Mode::Car),
                    Some(Mode::Car),
                    Some(Mode::Car),
                    Some(Mode::Train),
                    Some(Mode::Train),
                ],
            ),
        ),
        (
            3,
            answers(Some(("5", DistanceUnit::Miles)), &[Some(Mode::Bus); 5]),
        ),
        (4, answers(None, &[Some(Mode::Walk); 5])),
    ];
    s.import_travel_responses("org@uhdb", id, "forms.csv", &rows)
        .await
        .unwrap();
    // Not closed: nothing in the footprint yet.
    assert!(
        s.travel_footprint_activities(None)
            .await
            .unwrap()
            .is_empty()
    );
    s.set_travel_survey_open("org@uhdb", id, false)
        .await
        .unwrap();

    let activities = s
        .travel_footprint_activities(Some(FinancialYear(2025)))
        .await
        .unwrap();
    assert!(
        s.travel_footprint_activities(Some(FinancialYear(2024)))
            .await
            .unwrap()
            .is_empty()
    );
    let got: Vec<(&str, Decimal, String)> = activities
        .iter()
        .map(|a| {
            (
                a.activity.as_str(),
                a.quantity.normalize(),
                a.unit.to_string(),
            )
        })
        .collect();
    // Train 10 km × 2 × 2 days × 46 weeks × 5 = 9,200 passenger-km; car 10 × 2 × 3 × 46 × 5 =
    // 13,800 km; bus 5 miles = 8.04672 km × 2 × 5 × 46 × 5 = 18,507.456 passenger-km.
    assert_eq!(
        got,
        vec![
            (
                Mode::Train.factor_path().unwrap(),
                dec("9200"),
                "passenger.km".to_string()
            ),
            (
                Mode::Car.factor_path().unwrap(),
                dec("13800"),
                "km".to_string()
            ),
            (
                Mode::Bus.factor_path().unwrap(),
                dec("18507.456"),
                "passenger.km".to_string()
            ),
        ]
    );
    for a in &activities {
        assert_eq!(a.category, Some(NhsCategory::StaffCommuting));
        assert_eq!(a.organisation.as_str(), "RTG");
        assert!(
            a.origin
                .source
                .starts_with(&format!("travel survey {id} (")),
            "{}",
            a.origin.source
        );
        assert_eq!(a.period_start.to_string(), "2025-04-01");
        assert_eq!(a.period_end.to_string(), "2026-03-31");
        assert!(a.check().is_ok());
    }
    let responses = s.travel_responses(id).await.unwrap();
    assert_eq!(activities[2].origin.row, responses[1].id as u64);

    let set = s.factor_set(None).await.unwrap();
    let mut resolver = Resolver::new(&set, s.edition_years().await.unwrap());
    let kg: Vec<Decimal> = activities
        .iter()
        .map(|a| resolver.emission(a).unwrap().kgco2e)
        .collect();
    // 9,200 × 0.03546296375838926 (national rail, per passenger-km); 13,800 ×
    // 0.1666385879194631 (average car, unknown fuel, per km); 18,507.456 ×
    // 0.10215039463087248 (average local bus, per passenger-km); uk-2023.
    assert_eq!(kg[0], dec("326.259266577181192"));
    assert_eq!(kg[1], dec("2299.61251328859078"));
    assert_eq!(kg[2], dec("1890.54393401350866521088"));
    let total: Decimal = kg.iter().sum();
    assert_eq!(total, dec("4516.41571387928063721088"));

    // A later closed survey of the same organisation, respondents and year replaces it.
    let again = s
        .create_travel_survey("org@uhdb", &survey(None))
        .await
        .unwrap();
    s.import_travel_responses("org@uhdb", again, "again.csv", &rows[2..])
        .await
        .unwrap();
    s.set_travel_survey_open("org@uhdb", again, false)
        .await
        .unwrap();
    assert!(
        s.travel_footprint_activities(None)
            .await
            .unwrap()
            .is_empty(),
        "walking only"
    );
}

#[tokio::test]
async fn mode_factor_paths_resolve_in_the_2023_factors() {
    let file = factors::read_flat_file(&factor_file_2023(), None).unwrap();
    let set = greenplan_core::factor::FactorSet::new(file.factors);
    for mode in Mode::ALL {
        let Some(path) = mode.factor_path() else {
            continue;
        };
        let unit = greenplan_core::unit::Unit::new(mode.factor_unit());
        let i = set.resolve(path, &unit, "uk-2023");
        assert!(i.is_ok(), "{mode:?}: {i:?}");
    }
    let paper = set.resolve(
        greenplan_core::digital::PAPER_PATH,
        &"tonnes".parse().unwrap(),
        "uk-2023",
    );
    assert_eq!(
        set.factors()[paper.unwrap()].kgco2e,
        dec("910.478097809396")
    );
}

#[tokio::test]
async fn digital_schemes_are_kept_whole_and_audited() {
    let db = TestDatabase::new();
    let s = store(&db).await;
    let mut new = NewDigitalScheme {
        organisation: OdsCode::parse("RTG").unwrap(),
        name: "Patient portal".into(),
        description: "Letters and follow-ups online".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        lines: vec![
            DigitalLine::LettersAvoided {
                letters: dec("10000"),
                sheets_each: dec("2"),
            },
            DigitalLine::Hosting { kwh: dec("5000") },
        ],
    };
    let id = s.add_digital_scheme("org@uhdb", &new).await.unwrap();
    let got = s.digital_scheme(id).await.unwrap().unwrap();
    assert_eq!(got.lines, new.lines);
    new.lines.push(DigitalLine::Devices {
        count: dec("10"),
        kgco2e_each: dec("150"),
        life_years: dec("4"),
        source: "PCF".into(),
    });
    s.update_digital_scheme("org@uhdb", id, got.revision, &new)
        .await
        .unwrap();
    let revision = s.digital_scheme(id).await.unwrap().unwrap().revision;
    assert_eq!(s.digital_schemes().await.unwrap()[0].lines.len(), 3);
    // A device without a source is refused by the store too.
    let mut bad = new.clone();
    bad.lines.push(DigitalLine::Devices {
        count: dec("1"),
        kgco2e_each: dec("1"),
        life_years: dec("1"),
        source: String::new(),
    });
    assert!(
        s.update_digital_scheme("org@uhdb", id, revision, &bad)
            .await
            .is_err()
    );
    let mut moved = new.clone();
    moved.organisation = OdsCode::parse("RFS").unwrap();
    assert!(
        s.update_digital_scheme("org@uhdb", id, revision, &moved)
            .await
            .is_err()
    );
    let trail = s
        .audit_trail(Some(("digital-scheme", &id.to_string())), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 2);
    assert!(
        trail[0]
            .before
            .as_deref()
            .unwrap()
            .contains("letters-avoided")
    );
}
