//! Every page of the web app, rendered through the real router and store, on SQLite or
//! PostgreSQL (GREENPLAN_TEST_POSTGRES).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode};
use greenplan_core::period::Period;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{MetricValue, Store};
use greenplan_web::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn app(db: &TestDatabase) -> (axum::Router, Store) {
    let store = Store::connect(&db.url).await.unwrap();
    crate::common::load_plan(&store, db).await;
    (router(AppState::new(store.clone())), store)
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn every_page_renders_the_plan() {
    let db = crate::common::plan_db();
    let (app, _) = app(&db).await;
    let pages = [
        ("/", "Joined Up Care Derbyshire ICS Green Plan 2025 - 2028"),
        (
            "/areas/medicines",
            "Continue the campaign to promote greener inhalers across the system",
        ),
        (
            "/areas/food-and-nutrition",
            "no requirement for system-wide actions",
        ),
        ("/actions", "24 actions."),
        ("/actions?area=medicines", "3 actions."),
        ("/actions?q=ambulance", "electric ambulances"),
        (
            "/actions/EF2",
            "Plans in place to support removal of all oil-based heating systems by 2028",
        ),
        ("/metrics", "Reduction in nitrous oxide usage"),
        ("/metrics/inhaler-carbon", "13,247 tCO2e by 2025/26"),
        ("/organisations", "Derby City"),
        ("/organisations/RX9", "East Midlands Ambulance Service"),
        ("/visions", "An ICS which adopts the circular economy."),
    ];
    for (path, expected) in pages {
        let (status, headers, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            body.contains(expected),
            "{path} should contain {expected:?}"
        );
        let csp = headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    }
}

#[tokio::test]
async fn unknown_things_are_404_with_a_way_back() {
    let db = crate::common::plan_db();
    let (app, _) = app(&db).await;
    for path in [
        "/nope",
        "/actions/XX9",
        "/metrics/nope",
        "/organisations/ZZZ",
        "/areas/nope",
        "/organisations/%3Cscript%3E",
    ] {
        let (status, _, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("Go to the dashboard"), "{path}");
    }
}

#[tokio::test]
async fn downloads_and_health() {
    let db = crate::common::plan_db();
    let (app, _) = app(&db).await;
    let (status, headers, body) = get(&app, "/metrics/inhaler-carbon/values.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(body.starts_with("metric,organisation,period,value,unit,as_written,note,reference\n"));
    assert!(
        body.contains("inhaler-carbon,,2024/25,14399,tCO2e,"),
        "{body}"
    );
    let (status, _, body) = get(&app, "/footprint.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "organisation,category,tco2e,tco2e_market_based\n");
    let (status, _, body) = get(&app, "/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn text_from_data_is_escaped() {
    let db = crate::common::plan_db();
    let (app, store) = app(&db).await;
    store
        .record_metric_value(
            "test@nhs.net",
            &MetricValue {
                metric: "inhaler-carbon".into(),
                organisation: None,
                period: Period::parse("2025/26").unwrap(),
                value: "13000".parse().unwrap(),
                as_written: Some("<script>alert(1)</script>".into()),
                note: Some("\"><img src=x onerror=alert(2)>".into()),
                reference: None,
                origin: "test".into(),
            },
        )
        .await
        .unwrap();
    let (_, _, body) = get(&app, "/metrics/inhaler-carbon").await;
    assert!(!body.contains("<script>alert(1)"), "script must be escaped");
    let shown = body
        .find("alert(1)")
        .map(|i| &body[i.saturating_sub(30)..i + 20]);
    assert!(
        body.contains("&#60;script&#62;alert(1)"),
        "shown as text: {shown:?}"
    );
    assert!(!body.contains("<img src=x"));
    // The new value is rated: 13,000 against the 13,247 trajectory is on track.
    assert!(
        body.contains("13,000 tCO2e (2025/26)"),
        "latest value shown"
    );
    assert!(body.contains("nhsuk-tag--green"), "rated on track");
}
