//! Issue 21, classes 0 and 2: one value or one number can never take the site down. A period
//! outside the years greenplan reads is refused on the way in (422 naming the field); a stored
//! row that cannot be read back (old data, a hand edit) is left out of every page and listed
//! for system admins; stored quantities too large to sum are named, not summed, and every
//! footprint page still answers. SQLite, or PostgreSQL with GREENPLAN_TEST_POSTGRES.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::ods::OdsCode;
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;

use crate::common;
use common::*;

fn form(text: &str) -> String {
    text.replace(' ', "+").replace('/', "%2F")
}

#[tokio::test]
async fn periods_outside_the_years_are_refused_naming_the_field() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    for period in ["Jan 2262", "Dec 1899", "2262-01", "2262", "Q1 2262/63"] {
        let reply = site
            .submit(
                "/metrics/inhaler-carbon/values",
                &cookie,
                &format!(
                    "csrf_token={csrf}&organisation=RTG&period={}&value=1",
                    form(period)
                ),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{period}");
        assert!(
            reply.body.contains("Period:") && reply.body.contains("1900 to 2200"),
            "{period}: {}",
            reply.body
        );
    }
    for due in ["Jan 2262", "Dec 1899", "3000/01", "Q4 9999/00"] {
        let reply = site
            .submit(
                "/actions/DT3/updates",
                &cookie,
                &format!(
                    "csrf_token={csrf}&status=on-track&note=Moved&evidence_url=&revised_due={}",
                    form(due)
                ),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{due}");
        assert!(
            reply.body.contains("Revised delivery date"),
            "{due}: {}",
            reply.body
        );
    }
    // The API refuses the same, naming its field.
    let token = site
        .store
        .create_api_token("test", "rtg@uhdb.nhs.uk", "tests")
        .await
        .unwrap();
    let api = |path: &str, json: String| {
        Request::post(path)
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json))
            .unwrap()
    };
    let reply = site
        .send(api(
            "/api/v1/metrics/inhaler-carbon/values",
            r#"{"organisation":"RTG","period":"Jan 2262","value":"1"}"#.into(),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("period"), "{}", reply.body);
    let reply = site
        .send(api(
            "/api/v1/actions/DT3/updates",
            r#"{"status":"on-track","note":"Moved","revised_due":"Jan 2262"}"#.into(),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("revised_due"), "{}", reply.body);
    // Nothing was stored, and every page still answers.
    let values = site.store.metric_values(None).await.unwrap();
    assert!(values.iter().all(|v| v.period.check().is_ok()));
    for path in ["/", "/login", "/metrics", "/api/v1/metrics"] {
        assert_eq!(site.get(path, None).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_stored_row_that_cannot_be_read_is_left_out_and_listed_for_system_admins() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    // Rows written past the store's rules, as old data or a hand edit would be.
    site.store
        .execute_raw_for_tests(
            "INSERT INTO metric_values (metric, organisation, period, period_end, value, origin, recorded_at) \
             VALUES ('inhaler-carbon', 'RTG', '2262-01', '2262-01-31', '5', 'test', 0)",
        )
        .await
        .unwrap();
    site.store
        .execute_raw_for_tests(
            "INSERT INTO action_updates (action_id, posted_by, posted_at, status, note, revised_due) \
             VALUES ('DT3', 'rtg@uhdb.nhs.uk', 1, 'on-track', 'Moved', '9999-12')",
        )
        .await
        .unwrap();
    for path in [
        "/",
        "/login",
        "/metrics",
        "/metrics/inhaler-carbon",
        "/actions/DT3",
        "/api/v1/metrics",
        "/api/v1/actions/DT3",
    ] {
        let reply = site.get(path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let (admin, _) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let page = site.get("/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Stored records that cannot be read"),
        "{}",
        page.body
    );
    for expected in ["metric_values", "2262-01", "action_updates", "9999-12"] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    // An organisation's admin manages people, not the database: no such list.
    let (org_admin, _) = site.sign_in("admin@uhdb.nhs.uk").await;
    let page = site.get("/admin", Some(&org_admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Stored records that cannot be read"));
}

fn row(n: u64, org: &str, quantity: &str) -> Activity {
    Activity {
        origin: RowRef {
            source: "widgets.csv".into(),
            row: n,
        },
        organisation: OdsCode::parse(org).unwrap(),
        site: None,
        period_start: chrono::NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        period_end: chrono::NaiveDate::from_ymd_opt(2025, 4, 30).unwrap(),
        activity: "widget".into(),
        quantity: quantity.parse().unwrap(),
        unit: "count".parse().unwrap(),
        edition: None,
        category: None,
        market_factor: None,
        notes: None,
    }
}

#[tokio::test]
async fn quantities_too_large_to_sum_are_named_and_every_footprint_page_answers() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    widget_factor(&site.store).await;
    let mut import = site
        .store
        .begin_activity_import("test", "widgets.csv", "sha")
        .await
        .unwrap();
    for a in [row(2, "RTG", "10"), row(3, "RTG", "10"), row(4, "RFS", "4")] {
        import.add(a).await.unwrap();
    }
    import.commit("widgets.csv").await.unwrap();
    // Stored before quantities were bounded at import: the largest decimal, twice.
    site.store
        .execute_raw_for_tests(
            "UPDATE activities SET quantity = '79228162514264337593543950335' WHERE organisation = 'RTG'",
        )
        .await
        .unwrap();
    // As the sums made from such rows when `activity_sums` was created (migration 20) hold
    // them: two of the largest decimal have no sum, so the footprint reads their rows.
    site.store
        .execute_raw_for_tests(
            "UPDATE activity_sums SET quantity = NULL, largest = '79228162514264337593543950335' WHERE organisation = 'RTG'",
        )
        .await
        .unwrap();
    let page = site.get("/", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("could not be summed") && page.body.contains("RTG (2 rows)"),
        "{}",
        page.body
    );
    let csv = site.get("/footprint.csv", None).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.body.contains("RFS,medical-equipment,0.01,0.01"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("RTG,not summed: 2 rows"), "{}", csv.body);
    let api = site.get("/api/v1/footprint", None).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    assert_eq!(
        api.headers.get("greenplan-not-summed").unwrap(),
        "RTG (2 rows)"
    );
    assert!(api.body.contains("\"RFS\""), "{}", api.body);
}
