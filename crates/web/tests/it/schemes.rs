//! The tools through HTTP: the SIA workflow and the "Greener NHS" tag, who may change what
//! (table-driven), the scheme CSV import with bad rows named, exports, the care-activity
//! library and the Team Up scenario computed through the saved path.

#![allow(clippy::unwrap_used)]

use crate::common;

use axum::http::StatusCode;
use common::{Site, multipart_body, site, site_db};
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;

async fn tools_site(db: &TestDatabase) -> Site {
    let s = site(db, WebConfig::default()).await;
    greenplan_service::tools::seed_care_pathways(&s.store)
        .await
        .unwrap();
    s
}

/// The number at the end of a redirect's `Location` (`/tools/schemes/3` → 3).
fn created_id(reply: &common::Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers.get("location").unwrap().to_str().unwrap();
    location.rsplit('/').next().unwrap().parse().unwrap()
}

fn form(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("csrf_token", csrf);
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Every facet answered neutral with a reason, except `negative` (with `mitigation`).
fn sia_fields<'a>(
    title: &'a str,
    scheme: &'a str,
    negative: &'a str,
    mitigation: &'a str,
) -> Vec<(String, String)> {
    let mut f = vec![
        ("title".to_string(), title.to_string()),
        ("organisation".into(), "RTG".into()),
        ("scheme".into(), scheme.into()),
        ("description".into(), "Frailty virtual ward".into()),
    ];
    for facet in greenplan_core::sia::Facet::ALL {
        let slug = facet.slug();
        let impact = if slug == negative {
            "negative"
        } else {
            "neutral"
        };
        f.push((format!("impact-{slug}"), impact.into()));
        f.push((
            format!("reason-{slug}"),
            "Considered by the project team".into(),
        ));
        if slug == negative {
            f.push((format!("mitigation-{slug}"), mitigation.into()));
        }
    }
    f
}

fn encoded(csrf: &str, fields: &[(String, String)], then: &str) -> String {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("then", then)])
        .collect();
    form(csrf, &pairs)
}

#[tokio::test]
async fn a_contributor_drafts_and_submits_an_admin_reviews_and_the_scheme_is_tagged() {
    let db = site_db();
    let site = tools_site(&db).await;
    let (rtg, rtg_csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let scheme = created_id(
        &site
            .submit(
                "/tools/schemes",
                &rtg,
                &form(
                    &rtg_csrf,
                    &[
                        ("name", "Frailty virtual ward"),
                        ("organisation", "RTG"),
                        ("owner", "Head of transformation"),
                        ("stage", "business-case"),
                        ("start", "2025-05-01"),
                        ("actions", "ct1, CT2"),
                    ],
                ),
            )
            .await,
    );
    let page = site
        .get(&format!("/tools/schemes/{scheme}"), Some(&rtg))
        .await;
    assert!(
        page.body.contains("Not yet tagged Greener NHS"),
        "{}",
        page.body
    );

    // Travel rated negative with no mitigation: saved as a draft, not submitted.
    let fields = sia_fields(
        "Frailty virtual ward",
        &scheme.to_string(),
        "travel-and-transport",
        "",
    );
    let refused = site
        .submit("/tools/sias", &rtg, &encoded(&rtg_csrf, &fields, "submit"))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("href=\"#mitigation-travel-and-transport\">Travel and transport: the impact is negative, so say how it will be mitigated."),
        "{}",
        refused.body
    );
    let sias = site.store.sias().await.unwrap();
    assert_eq!(sias.len(), 1);
    assert_eq!(sias[0].status, greenplan_core::sia::SiaStatus::Draft);
    let sia = sias[0].id;

    let mut fields = sia_fields(
        "Frailty virtual ward",
        &scheme.to_string(),
        "travel-and-transport",
        "Pool electric cars for the team",
    );
    let revision = site
        .store
        .revision(greenplan_store::Revised::Sia, &sia.to_string())
        .await
        .unwrap()
        .unwrap();
    fields.push(("revision".into(), revision.to_string()));
    let submitted = site
        .submit(
            &format!("/tools/sias/{sia}"),
            &rtg,
            &encoded(&rtg_csrf, &fields, "submit"),
        )
        .await;
    assert_eq!(created_id(&submitted), sia);
    let page = site.get(&format!("/tools/sias/{sia}"), Some(&rtg)).await;
    assert!(page.body.contains("Submitted for review"), "{}", page.body);
    assert!(page.body.contains("Pool electric cars for the team"));
    assert!(page.body.contains("/static/print.css\" media=\"print\""));

    // The contributor cannot review; the trust's organisation admin can.
    let revision = site
        .store
        .revision(greenplan_store::Revised::Sia, &sia.to_string())
        .await
        .unwrap()
        .unwrap()
        .to_string();
    let review = |csrf: &str, decision: &str, comment: &str| {
        form(
            csrf,
            &[
                ("decision", decision),
                ("comment", comment),
                ("revision", &revision),
            ],
        )
    };
    let own = site
        .submit(
            &format!("/tools/sias/{sia}/review"),
            &rtg,
            &review(&rtg_csrf, "review", ""),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let (admin, admin_csrf) = site.sign_in("admin@uhdb.nhs.uk").await;
    let no_comment = site
        .submit(
            &format!("/tools/sias/{sia}/review"),
            &admin,
            &review(&admin_csrf, "return", " "),
        )
        .await;
    assert_eq!(no_comment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_comment.body.contains("Say what needs to change"),
        "{}",
        no_comment.body
    );
    let reviewed = site
        .submit(
            &format!("/tools/sias/{sia}/review"),
            &admin,
            &review(&admin_csrf, "review", "Thorough"),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.body);

    let page = site.get(&format!("/tools/schemes/{scheme}"), None).await;
    assert!(
        page.body
            .contains("id=\"greener-nhs\">Greener NHS</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("Reviewed SIA {sia}")));
    let list = site.get("/tools/schemes?tag=greener", None).await;
    assert!(list.body.contains("Frailty virtual ward"));
    // One new scheme in Q1 2025/26, considered by an SIA: 100% on the plan's metric page.
    let metric = site.get("/metrics/sia-schemes", None).await;
    assert!(
        metric.body.contains("From the scheme register"),
        "{}",
        metric.body
    );
    assert!(
        metric.body.contains("<td class=\"nhsuk-table__cell\">2025/26</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">1</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">1</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">1</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">100%</td>"),
        "{}",
        metric.body
    );
    // The SIA was started today, rated one facet negative and mitigated it: 1 of 1 = 100%.
    let this_year =
        greenplan_core::period::FinancialYear::containing(chrono::Local::now().date_naive());
    let stats = site
        .get(&format!("/tools/sias?year={this_year}"), None)
        .await;
    assert!(stats.body.contains(">100%<"), "{}", stats.body);
    let action = site.get("/actions/CT2", None).await;
    assert!(
        action.body.contains(
            "Frailty virtual ward</a> <strong class=\"nhsuk-tag nhsuk-tag--green\">Greener NHS"
        ),
        "{}",
        action.body
    );
}

/// (person, the form posted to, its fields, the status expected)
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, StatusCode);

/// Who may change what: each row is (person, what they try, the status expected).
#[tokio::test]
async fn one_trust_cannot_change_anothers_records_and_viewers_only_read() {
    let db = site_db();
    let site = tools_site(&db).await;
    let rtg_scheme = site
        .store
        .add_schemes(
            "rtg@uhdb.nhs.uk",
            &[greenplan_core::scheme::SchemeDetails {
                name: "Theatres".into(),
                owner: "Jo".into(),
                organisation: greenplan_core::ods::OdsCode::parse("RTG").unwrap(),
                stage: greenplan_core::scheme::Stage::Idea,
                start: None,
                end: None,
                actions: vec![],
                description: String::new(),
            }],
        )
        .await
        .unwrap()[0];
    let rtg_sia = site
        .store
        .save_sia(
            "rtg@uhdb.nhs.uk",
            &greenplan_core::sia::Assessment::blank(
                greenplan_core::ods::OdsCode::parse("RTG").unwrap(),
                "Theatres",
                "rtg@uhdb.nhs.uk",
                0,
            ),
            0,
        )
        .await
        .unwrap()
        .0;
    let scheme_edit = format!("/tools/schemes/{rtg_scheme}");
    let scheme_reason = format!("/tools/schemes/{rtg_scheme}/reason");
    let sia_edit = format!("/tools/sias/{rtg_sia}");
    let sia_submit = format!("{sia_edit}/submit");
    let scenario_edit = "/tools/scenarios/1".to_string(); // Team Up, the ICB's
    let scheme_fields = [
        ("name", "Theatres 2"),
        ("owner", "Jo"),
        ("stage", "idea"),
        ("organisation", "RTG"),
    ];
    let scenario_fields = [
        ("name", "Team Up"),
        ("activity_0", "ambulance-conveyance"),
        ("avoided_0", "1"),
    ];
    let factor_fields = [
        ("name", "GP home visit"),
        ("unit", "visit"),
        ("kgco2e", "9"),
        ("source", "plan"),
    ];
    let cases: Vec<Case<'_>> = vec![
        (
            "viewer@uhdb.nhs.uk",
            "/tools/schemes",
            scheme_fields.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "rfs@crh.nhs.uk",
            "/tools/schemes",
            scheme_fields.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "rfs@crh.nhs.uk",
            &scheme_edit,
            scheme_fields.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "rfs@crh.nhs.uk",
            &scheme_reason,
            vec![("why", "x")],
            StatusCode::FORBIDDEN,
        ),
        (
            "viewer@uhdb.nhs.uk",
            &scheme_reason,
            vec![("why", "x")],
            StatusCode::FORBIDDEN,
        ),
        (
            "rfs@crh.nhs.uk",
            &sia_edit,
            vec![("title", "x")],
            StatusCode::FORBIDDEN,
        ),
        ("rfs@crh.nhs.uk", &sia_submit, vec![], StatusCode::FORBIDDEN),
        (
            "rtg@uhdb.nhs.uk",
            &scenario_edit,
            scenario_fields.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "rtg@uhdb.nhs.uk",
            "/tools/care-activities/gp-home-visit",
            factor_fields.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "admin@uhdb.nhs.uk",
            "/tools/care-activities/gp-home-visit",
            factor_fields.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        // Their own organisation's records, and the ICB's lead everywhere.
        (
            "rtg@uhdb.nhs.uk",
            &scheme_edit,
            scheme_fields.to_vec(),
            StatusCode::SEE_OTHER,
        ),
        (
            "rtg@uhdb.nhs.uk",
            &sia_edit,
            vec![("title", "Theatres, renamed")],
            StatusCode::SEE_OTHER,
        ),
        (
            "icb@derbyshire.nhs.uk",
            &scenario_edit,
            scenario_fields.to_vec(),
            StatusCode::SEE_OTHER,
        ),
        (
            "lead@derbyshire.nhs.uk",
            &scheme_reason,
            vec![("why", "Like-for-like replacement")],
            StatusCode::SEE_OTHER,
        ),
        (
            "lead@derbyshire.nhs.uk",
            "/tools/care-activities/gp-home-visit",
            factor_fields.to_vec(),
            StatusCode::SEE_OTHER,
        ),
    ];
    // Each edit carries the revision of its record, as the edit form would.
    use greenplan_store::Revised;
    let revised = |path: &str| -> Option<(Revised, String)> {
        if path == scheme_edit || path == scheme_reason {
            Some((Revised::Scheme, rtg_scheme.to_string()))
        } else if path == sia_edit || path == sia_submit {
            Some((Revised::Sia, rtg_sia.to_string()))
        } else if path == scenario_edit {
            Some((Revised::PathwayScenario, "1".into()))
        } else if path.starts_with("/tools/care-activities/") {
            Some((Revised::CareActivityFactor, "gp-home-visit".into()))
        } else {
            None
        }
    };
    for (who, path, mut fields, expected) in cases {
        let (cookie, csrf) = site.sign_in(who).await;
        let revision = match revised(path) {
            Some((kind, key)) => site
                .store
                .revision(kind, &key)
                .await
                .unwrap()
                .unwrap()
                .to_string(),
            None => String::new(),
        };
        fields.push(("revision", &revision));
        let reply = site.submit(path, &cookie, &form(&csrf, &fields)).await;
        assert_eq!(reply.status, expected, "{who} POST {path}: {}", reply.body);
    }
    // Not signed in, or from another site: refused before anything is looked at.
    let anonymous = site
        .post(&scheme_edit, None, Some(&common::origin()), "name=x")
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let cross_site = site
        .post(
            &scheme_edit,
            Some(&cookie),
            Some("https://evil.example"),
            &form(&csrf, &scheme_fields),
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let no_token = site
        .submit(&scheme_edit, &cookie, "name=x&owner=y&stage=idea")
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    // Reading is open to all: the pages show no edit links to those who cannot edit.
    let page = site
        .get(&scheme_edit, Some(&site.sign_in("rfs@crh.nhs.uk").await.0))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Edit this scheme"));
    let trail = site
        .store
        .audit_trail(Some(("scheme", &rtg_scheme.to_string())), 10)
        .await
        .unwrap();
    assert_eq!(
        trail.len(),
        3,
        "create, the owner's edit and the lead's tag: {trail:?}"
    );
}

#[tokio::test]
async fn a_scheme_csv_with_bad_rows_is_refused_whole_with_each_row_named() {
    let db = site_db();
    let site = tools_site(&db).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let upload = |csv: &'static str| {
        multipart_body(
            &[("csrf_token", csrf.as_str())],
            Some(("file", "register.csv", csv.as_bytes())),
        )
    };
    let (ct, body) = upload(
        "name,owner,organisation,stage,start,end,actions\n\
         Frailty ward,Jo,RTG,delivery,2025-04-01,,CT1\n\
         ,Jo,RTG,idea,,,\n\
         Theatres,Ann,RTG,someday,32/01/2025,,\n",
    );
    let reply = site
        .post_multipart("/tools/schemes/import", &cookie, &ct, body)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    for expected in [
        "register.csv: row 3, column `name`: is empty: give the scheme&#39;s name",
        "register.csv: row 4, column `stage`: unknown stage `someday`",
        "register.csv: row 4, column `start`: `32/01/2025` is not a date: write it as 2025-04-01 or 01/04/2025",
    ] {
        assert!(reply.body.contains(expected), "{expected}\n{}", reply.body);
    }
    assert!(
        site.store.schemes(true).await.unwrap().is_empty(),
        "nothing stored"
    );

    let (ct, body) = upload("name,owner,organisation,stage\nA,Jo,RTG,idea\nB,Ann,RFS,idea\n");
    let reply = site
        .post_multipart("/tools/schemes/import", &cookie, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .body
            .contains("row 3, column `organisation`: you cannot add schemes for RFS"),
        "{}",
        reply.body
    );
    assert!(site.store.schemes(true).await.unwrap().is_empty());

    let (ct, body) = upload(
        "Name,Owner,Organisation,Stage,Start,Actions\r\nA,Jo,RTG,Business case,01/04/2025,CT1; CT2\r\nB,=HYPERLINK(\"x\"),RTG,idea,,\r\n",
    );
    let reply = site
        .post_multipart("/tools/schemes/import", &cookie, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Imported 2 schemes from register.csv."));
    let csv = site.get("/tools/schemes.csv", None).await;
    assert!(csv.body.starts_with(
        "id,name,owner,organisation,stage,start,end,actions,description,greener_nhs,considered\n"
    ));
    assert!(
        csv.body
            .contains("1,A,Jo,RTG,business-case,2025-04-01,,CT1; CT2,,no,\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("2,B,\"'=HYPERLINK(\"\"x\"\")\",RTG,idea,"),
        "a typed formula is not run: {}",
        csv.body
    );
    let xlsx = site.get("/tools/schemes.xlsx", None).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with("PK"));
}

/// The plan's Team Up case, saved in the built-in data and computed through the saved path:
/// 188 × 56 = 10,528 kgCO2e = 1,169.8 GP home visits; 690 × 37.9 = 26,151 = 2,905.7; in all
/// 36,679 kgCO2e = 4,075.4 visits. Shown on its action's page and in the reports.
#[tokio::test]
async fn the_team_up_scenario_ships_saved_and_computes_as_the_cli_does() {
    let db = site_db();
    let site = tools_site(&db).await;
    let page = site.get("/tools/scenarios/1", None).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "36,679 kgCO2e saved",
        "= 4,075.4 GP home visits",
        ">10,528<",
        ">1,169.8<",
        ">26,151<",
        ">2,905.7<",
        "rounds 56 / 9 = 6.2222 to 6.2 before multiplying by 188",
        "truncates 2,905.6667 to 2,905.6 instead of rounding it to 2,905.7",
    ] {
        assert!(page.body.contains(expected), "{expected}\n{}", page.body);
    }
    let action = site.get("/actions/CT1", None).await;
    assert!(
        action
            .body
            .contains("Team Up: Enhanced Falls Response, 2024</a>, 36,679 kgCO2e saved"),
        "{}",
        action.body
    );
    let library = site.get("/tools/care-activities", None).await;
    assert!(library.body.contains("Connor A, Mortimer F, Tomson C"));
    assert!(library.body.contains("Source not verified"));

    // A new scenario: 100 conveyances before, 60 after; 50 more GP home visits.
    // 40 × 56 − 50 × 9 = 2,240 − 450 = 1,790 kgCO2e = 198.9 visits.
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let saved = site
        .submit(
            "/tools/scenarios",
            &cookie,
            &form(
                &csrf,
                &[
                    ("name", "Falls pathway"),
                    ("organisation", "RTG"),
                    ("actions", "CT1"),
                    ("equivalent", "gp-home-visit"),
                    ("activity_0", "ambulance-conveyance"),
                    ("before_0", "100"),
                    ("after_0", "60"),
                    ("activity_1", "gp-home-visit"),
                    ("before_1", "0"),
                    ("after_1", "50"),
                ],
            ),
        )
        .await;
    let id = created_id(&saved);
    let page = site.get(&format!("/tools/scenarios/{id}"), None).await;
    assert!(page.body.contains("1,790 kgCO2e saved"), "{}", page.body);
    assert!(page.body.contains("= 198.9 GP home visits"));
    let bad = site
        .submit(
            "/tools/scenarios",
            &cookie,
            &form(
                &csrf,
                &[
                    ("name", "x"),
                    ("organisation", "RTG"),
                    ("activity_0", "gp-home-visit"),
                    ("before_0", "3"),
                ],
            ),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("Care activity 1: give either the number avoided, or both"),
        "{}",
        bad.body
    );
}
