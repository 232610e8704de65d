//! The JSON API and its OpenAPI document, on SQLite or PostgreSQL (GREENPLAN_TEST_POSTGRES).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{Store, hash_password};
use greenplan_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let response = app
        .clone()
        .oneshot(
            r.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn setup(db: &TestDatabase) -> (axum::Router, Store, String) {
    let store = Store::connect(&db.url).await.unwrap();
    crate::common::load_plan(&store, db).await;
    let hash = hash_password("a long test pass phrase").unwrap();
    store
        .add_user(
            "test",
            "script@uhdb.nhs.uk",
            "Script",
            &hash,
            &OdsCode::parse("RTG").unwrap(),
            Role::Contributor,
        )
        .await
        .unwrap();
    let token = store
        .create_api_token("test", "script@uhdb.nhs.uk", "tests")
        .await
        .unwrap();
    (router(AppState::new(store.clone())), store, token)
}

#[tokio::test]
async fn reading_the_plan_through_the_api() {
    let db = crate::common::plan_db();
    let (app, _, _) = setup(&db).await;
    let (status, actions) = call(&app, "GET", "/api/v1/actions", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actions.as_array().unwrap().len(), 24);
    let wl1 = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "WL1")
        .unwrap();
    assert_eq!(wl1["due"], "Q3 2025/26");
    assert_eq!(wl1["due_by"], "2025-12-31");
    let (_, metrics) = call(&app, "GET", "/api/v1/metrics", None, None).await;
    let inhalers = metrics
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "inhaler-carbon")
        .unwrap();
    assert_eq!(inhalers["latest_value"], "14399");
    assert_eq!(inhalers["rating"], "on-track");
    let (status, values) = call(
        &app,
        "GET",
        "/api/v1/metrics/inhaler-carbon/values",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        values
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["as_written"] == "14.399kgCO ₂ e")
    );
    let (status, err) = call(&app, "GET", "/api/v1/actions/NOPE", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err["error"].as_str().unwrap().contains("NOPE"));
    let (_, fp) = call(&app, "GET", "/api/v1/footprint", None, None).await;
    assert_eq!(fp, json!([]));
}

#[tokio::test]
async fn scripts_write_with_a_token_within_their_roles() {
    let db = crate::common::plan_db();
    let (app, store, token) = setup(&db).await;
    let update = json!({"status": "on-track", "note": "Posted by the monthly script", "evidence_url": null, "revised_due": "2027/28"});
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/actions/DT3/updates",
        None,
        Some(update.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no token");
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/actions/CT2/updates",
        Some(&token),
        Some(update.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "another organisation's action"
    );
    let (status, posted) = call(
        &app,
        "POST",
        "/api/v1/actions/DT3/updates",
        Some(&token),
        Some(update),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["revised_due"], "2027/28");
    let (_, detail) = call(&app, "GET", "/api/v1/actions/DT3", None, None).await;
    assert_eq!(detail["action"]["status"], "on-track");
    assert_eq!(detail["updates"][0]["note"], "Posted by the monthly script");
    let bad = json!({"status": "done", "note": "x"});
    let (status, err) = call(
        &app,
        "POST",
        "/api/v1/actions/DT3/updates",
        Some(&token),
        Some(bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["error"].as_str().unwrap().contains("unknown status"),
        "{err}"
    );

    let value = json!({"organisation": "RTG", "period": "2025/26", "value": "1234.5"});
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/metrics/inhaler-carbon/values",
        Some(&token),
        Some(value),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = json!({"organisation": "RFS", "period": "2025/26", "value": "1"});
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/metrics/inhaler-carbon/values",
        Some(&token),
        Some(other),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let trail = store.audit_trail(None, 10).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "record-value" && e.actor == "script@uhdb.nhs.uk")
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let db = crate::common::plan_db();
    let (app, _, _) = setup(&db).await;
    let (status, doc) = call(&app, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/actions",
        "/api/v1/actions/{id}",
        "/api/v1/actions/{id}/updates",
        "/api/v1/metrics",
        "/api/v1/metrics/{id}/values",
        "/api/v1/footprint",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    assert!(doc["components"]["schemas"]["ActionDto"].is_object());
    // The whole document, reviewed as a snapshot: a change to the API shows in review.
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn returns_are_listed_and_approved_through_the_api() {
    use greenplan_core::returns::ReportingPeriod;
    let db = crate::common::plan_db();
    let (app, store, token) = setup(&db).await;
    let quarter = greenplan_core::period::Quarter::parse("Q3 2025/26").unwrap();
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
    // A return: an import recorded for the quarter.
    let mut import = store
        .begin_activity_import("script@uhdb.nhs.uk", "rtg.csv", "abc")
        .await
        .unwrap();
    import
        .add(greenplan_core::activity::Activity {
            origin: greenplan_core::activity::RowRef {
                source: "rtg.csv".into(),
                row: 2,
            },
            organisation: OdsCode::parse("RTG").unwrap(),
            site: None,
            period_start: "2025-10-01".parse().unwrap(),
            period_end: "2025-12-31".parse().unwrap(),
            activity: "natural-gas".into(),
            quantity: "100".parse().unwrap(),
            unit: "kWh".parse().unwrap(),
            edition: None,
            category: None,
            market_factor: None,
            notes: None,
        })
        .await
        .unwrap();
    import
        .record_return(
            quarter,
            &OdsCode::parse("RTG").unwrap(),
            1,
            "18.293".parse().unwrap(),
        )
        .await
        .unwrap();
    import.commit("rtg.csv").await.unwrap();

    let (status, periods) = call(&app, "GET", "/api/v1/reporting-periods", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(periods[0]["quarter"], "Q3 2025/26");
    assert_eq!(periods[0]["due_on"], "2026-01-31");
    let (status, returns) = call(
        &app,
        "GET",
        "/api/v1/reporting-periods/2025-26-Q3/returns",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(returns[0]["organisation"], "RTG");
    assert_eq!(returns[0]["kgco2e"], "18.293");
    let id = returns[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/returns/{id}/approve");
    // A trust's token cannot approve; no token, no write.
    let (status, _) = call(&app, "POST", &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, "POST", &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let hash = hash_password("a long test pass phrase").unwrap();
    store
        .add_user(
            "test",
            "lead@derbyshire.nhs.uk",
            "Lead",
            &hash,
            &OdsCode::parse("QJ2").unwrap(),
            Role::SystemAdmin,
        )
        .await
        .unwrap();
    let lead = store
        .create_api_token("test", "lead@derbyshire.nhs.uk", "tests")
        .await
        .unwrap();
    let (status, approved) = call(&app, "POST", &path, Some(&lead), None).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["approved_by"], "lead@derbyshire.nhs.uk");
    let (status, again) = call(&app, "POST", &path, Some(&lead), None).await;
    // A second approval conflicts with the return's state.
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
}

#[tokio::test]
async fn a_private_deployment_needs_a_valid_token_to_read() {
    let db = crate::common::plan_db();
    let (_, store, token) = setup(&db).await;
    let app = router(AppState::with_config(
        store,
        greenplan_web::WebConfig {
            secure_cookies: false,
            require_login: true,
            ..greenplan_web::WebConfig::default()
        },
    ));
    let (status, _) = call(&app, "GET", "/api/v1/actions", Some("gp_forged"), None).await;
    // The API's own 401 JSON (issue 21), not the browser's redirect to the sign-in page.
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a forged token reads nothing"
    );
    let (status, _) = call(&app, "GET", "/api/v1/actions", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, actions) = call(&app, "GET", "/api/v1/actions", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actions.as_array().unwrap().len(), 24);
}

/// Sends `request` and gives its status, content type and body as text.
async fn raw(app: &axum::Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn every_api_error_is_a_json_body_of_one_shape() {
    let db = TestDatabase::new();
    let (app, _, token) = setup(&db).await;
    let post = |path: &str, kind: Option<&str>, body: &str| {
        let mut r = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(kind) = kind {
            r = r.header(header::CONTENT_TYPE, kind);
        }
        r.body(Body::from(body.to_string())).unwrap()
    };
    let get = |path: &str| Request::builder().uri(path).body(Body::empty()).unwrap();
    let cases = [
        // JSON syntax, wrong types, no content type: axum's extractor rejections.
        (
            post(
                "/api/v1/metrics/inhaler-carbon/values",
                Some("application/json"),
                "{not json",
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            post(
                "/api/v1/metrics/inhaler-carbon/values",
                Some("application/json"),
                r#"{"period": 7}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(
                "/api/v1/metrics/inhaler-carbon/values",
                None,
                r#"{"organisation": "RTG", "period": "2025/26", "value": "1"}"#,
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        // A path segment that is not a number; an address, a method the API does not have.
        (
            post("/api/v1/returns/not-a-number/approve", None, ""),
            StatusCode::BAD_REQUEST,
        ),
        (get("/api/v1/no-such-thing"), StatusCode::NOT_FOUND),
        (
            Request::builder()
                .method("DELETE")
                .uri("/api/v1/actions")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        // NUL in the address, refused before any handler.
        (get("/api/v1/actions/MED1%00"), StatusCode::BAD_REQUEST),
        // Refused for the token's person; ids that do not exist are 404.
        (
            post("/api/v1/returns/999999/approve", None, ""),
            StatusCode::FORBIDDEN,
        ),
        (
            get("/api/v1/metrics/no-such-metric/values"),
            StatusCode::NOT_FOUND,
        ),
        // Fields the document constrains, refused with the field named.
        (
            post(
                "/api/v1/actions/DT3/updates",
                Some("application/json"),
                r#"{"status": "on-track", "note": "   "}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(
                "/api/v1/metrics/inhaler-carbon/values",
                Some("application/json"),
                r#"{"organisation": "RTG", "period": "", "value": "1"}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (i, (request, want)) in cases.into_iter().enumerate() {
        let what = format!("case {i}: {} {}", request.method(), request.uri());
        let (status, kind, body) = raw(&app, request).await;
        assert_eq!(status, want, "{what}: {body}");
        assert!(
            kind.starts_with("application/json"),
            "{what}: {kind} {body}"
        );
        let doc: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
        let error = doc["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: {body}"));
        assert!(!error.is_empty(), "{what}");
        assert_eq!(
            doc.as_object().unwrap().len(),
            1,
            "{what}: one shape, {body}"
        );
    }
}

#[tokio::test]
async fn approving_a_return_that_does_not_exist_is_404() {
    let db = TestDatabase::new();
    let (app, store, _) = setup(&db).await;
    let hash = hash_password("a long test pass phrase").unwrap();
    store
        .add_user(
            "test",
            "lead@derbyshire.nhs.uk",
            "Lead",
            &hash,
            &OdsCode::parse("QJ2").unwrap(),
            Role::SystemAdmin,
        )
        .await
        .unwrap();
    let lead = store
        .create_api_token("test", "lead@derbyshire.nhs.uk", "tests")
        .await
        .unwrap();
    let (status, answer) = call(
        &app,
        "POST",
        "/api/v1/returns/999999/approve",
        Some(&lead),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"], "there is no return 999999");
}

#[tokio::test]
async fn a_full_database_answers_507_in_words_and_healthz_says_it_cannot_take_writes() {
    let db = TestDatabase::new();
    let (app, store, token) = setup(&db).await;
    let value = |i: usize| json!({"organisation": "RTG", "period": "2025/26", "value": format!("{i}"), "note": "n".repeat(2_000)});
    let healthz = || {
        Request::builder()
            .uri("/healthz")
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = raw(&app, healthz()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    if db.is_postgres() {
        return; // its disk cannot be filled from a test: the store's unit test maps 53100
    }
    greenplan_store::testing::limit_sqlite_pages(&store, 1)
        .await
        .unwrap();
    let path = "/api/v1/metrics/inhaler-carbon/values";
    let mut refused = None;
    for i in 0..5_000 {
        let (status, answer) = call(&app, "POST", path, Some(&token), Some(value(i))).await;
        if status != StatusCode::CREATED {
            refused = Some((status, answer));
            break;
        }
    }
    let (status, answer) = refused.expect("the capped database fills up");
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("storage is full, nothing was changed"),
        "{answer}"
    );
    greenplan_store::testing::limit_sqlite_pages(&store, 1)
        .await
        .unwrap();
    let (status, _, body) = raw(&app, healthz()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("cannot take writes"), "{body}");

    greenplan_store::testing::limit_sqlite_pages(&store, 1 << 30)
        .await
        .unwrap();
    for i in 0..20 {
        let (status, answer) = call(&app, "POST", path, Some(&token), Some(value(i))).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "write {i} after space came back: {answer}"
        );
    }
    let (status, _, body) = raw(&app, healthz()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
}
