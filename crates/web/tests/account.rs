//! Signing in, sessions, CSRF and permissions on writes, through the real router and store,
//! on SQLite or PostgreSQL (GREENPLAN_TEST_POSTGRES).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_ingest::plan_file::built_in_plan;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{Store, hash_password};
use greenplan_web::{AppState, WebConfig, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PASSWORD: &str = "a long test pass phrase";
const HOST: &str = "greenplan.test";

struct Site {
    app: axum::Router,
    store: Store,
}

async fn site(db: &TestDatabase, config: WebConfig) -> Site {
    let store = Store::connect(&db.url).await.unwrap();
    store.init_plan(&built_in_plan().unwrap()).await.unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    for (email, org, role) in [
        ("rtg@uhdb.nhs.uk", "RTG", Role::Contributor),
        ("icb@derbyshire.nhs.uk", "QJ2", Role::Contributor),
        ("viewer@uhdb.nhs.uk", "RTG", Role::Viewer),
    ] {
        store
            .add_user(
                "test",
                email,
                email,
                &hash,
                &OdsCode::parse(org).unwrap(),
                role,
            )
            .await
            .unwrap();
    }
    Site {
        app: router(AppState::with_config(store.clone(), config)),
        store,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Site {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut r = Request::get(path).header(header::HOST, HOST);
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        self.send(r.body(Body::empty()).unwrap()).await
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        form: &str,
    ) -> Reply {
        let mut r = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        if let Some(o) = origin {
            r = r.header(header::ORIGIN, o);
        }
        self.send(r.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// Signs in; returns the cookie and the session's CSRF token.
    async fn sign_in(&self, email: &str) -> (String, String) {
        let reply = self
            .post(
                "/login",
                None,
                Some(&format!("http://{HOST}")),
                &format!("email={email}&password={}", PASSWORD.replace(' ', "+")),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let set = reply
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_string();
        let page = self.get("/account", Some(&cookie)).await;
        let csrf = page
            .body
            .split("name=\"csrf_token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        (cookie, csrf)
    }
}

fn update_form(csrf: &str, note: &str) -> String {
    format!(
        "csrf_token={csrf}&status=on-track&note={}&evidence_url=https%3A%2F%2Fexample.nhs.uk%2Fpaper&revised_due=",
        note.replace(' ', "+")
    )
}

#[tokio::test]
async fn a_contributor_posts_an_update_on_their_action() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let page = site.get("/actions/DT3", Some(&cookie)).await;
    assert!(
        page.body.contains("Post update"),
        "the form is offered to a lead"
    );
    let origin = format!("http://{HOST}");
    let reply = site
        .post(
            "/actions/DT3/updates",
            Some(&cookie),
            Some(&origin),
            &update_form(&csrf, "Portal live at Royal Derby"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = site.get("/actions/DT3", None).await;
    assert!(
        page.body.contains("Portal live at Royal Derby"),
        "the update is shown to everyone"
    );
    assert!(page.body.contains("rtg@uhdb.nhs.uk"));
    assert!(page.body.contains("tag-green"), "status is now on track");
    let trail = site
        .store
        .audit_trail(Some(("action", "DT3")), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].actor, "rtg@uhdb.nhs.uk");
    assert!(trail[0].before.as_deref().unwrap().contains("not-started"));
    assert!(trail[0].after.as_deref().unwrap().contains("Portal live"));
}

#[tokio::test]
async fn writes_are_refused_without_the_right_role_token_or_origin() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let origin = format!("http://{HOST}");
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    // Another organisation's action, the ICB's system action, a partner's action.
    for id in ["CT2", "MED1", "TT1"] {
        let reply = site
            .post(
                &format!("/actions/{id}/updates"),
                Some(&cookie),
                Some(&origin),
                &update_form(&csrf, "not mine"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{id}");
        assert!(
            !site
                .get(&format!("/actions/{id}"), Some(&cookie))
                .await
                .body
                .contains("Post update"),
            "{id}: no form offered"
        );
    }
    // Missing and wrong CSRF tokens; a post from another site; no session at all.
    let no_token = site
        .post(
            "/actions/DT3/updates",
            Some(&cookie),
            Some(&origin),
            "status=on-track&note=x",
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong = site
        .post(
            "/actions/DT3/updates",
            Some(&cookie),
            Some(&origin),
            &update_form("0000", "x"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let cross = site
        .post(
            "/actions/DT3/updates",
            Some(&cookie),
            Some("https://evil.example"),
            &update_form(&csrf, "x"),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let anonymous = site
        .post(
            "/actions/DT3/updates",
            None,
            Some(&origin),
            &update_form(&csrf, "x"),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // A viewer of the same trust may read but not write.
    let (vcookie, vcsrf) = site.sign_in("viewer@uhdb.nhs.uk").await;
    let viewer = site
        .post(
            "/actions/DT3/updates",
            Some(&vcookie),
            Some(&origin),
            &update_form(&vcsrf, "x"),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    // The ICB's contributor leads the system actions.
    let (icookie, icsrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let icb = site
        .post(
            "/actions/MED1/updates",
            Some(&icookie),
            Some(&origin),
            &update_form(&icsrf, "Campaign relaunched"),
        )
        .await;
    assert_eq!(icb.status, StatusCode::SEE_OTHER);
    assert!(
        site.store
            .audit_trail(Some(("action", "DT3")), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn bad_updates_are_shown_back_with_the_problem() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let origin = format!("http://{HOST}");
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let reply = site
        .post("/actions/DT3/updates", Some(&cookie), Some(&origin), &format!("csrf_token={csrf}&status=on-track&note=Kept+text&evidence_url=ftp%3A%2F%2Fx&revised_due="))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("must be a web address"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("Kept text"), "what was typed is kept");
    let reply = site
        .post(
            "/actions/DT3/updates",
            Some(&cookie),
            Some(&origin),
            &format!(
                "csrf_token={csrf}&status=on-track&note=x&evidence_url=&revised_due=next+year"
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("Revised delivery date"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn sign_in_failures_are_throttled_and_sessions_end() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let origin = format!("http://{HOST}");
    for _ in 0..5 {
        let reply = site
            .post(
                "/login",
                None,
                Some(&origin),
                "email=rtg%40uhdb.nhs.uk&password=wrong+guess+here",
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(
            reply
                .body
                .contains("The email address or password is not right")
        );
    }
    let right = site
        .post(
            "/login",
            None,
            Some(&origin),
            &format!(
                "email=rtg%40uhdb.nhs.uk&password={}",
                PASSWORD.replace(' ', "+")
            ),
        )
        .await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "throttled even with the right password"
    );
    let unknown = site
        .post(
            "/login",
            None,
            Some(&origin),
            "email=nobody%40nhs.net&password=whatever+it+is",
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNAUTHORIZED,
        "no hint that the address has no account"
    );
    let cross = site
        .post(
            "/login",
            None,
            Some("https://evil.example"),
            "email=icb%40derbyshire.nhs.uk&password=x",
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "login CSRF refused");

    let (cookie, csrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    assert!(site.get("/", Some(&cookie)).await.body.contains("Sign out"));
    let out = site
        .post(
            "/logout",
            Some(&cookie),
            Some(&origin),
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = site.get("/", Some(&cookie)).await;
    assert!(
        after.body.contains("Sign in") && !after.body.contains("Sign out"),
        "the old cookie no longer signs in"
    );
}

#[tokio::test]
async fn api_tokens_write_without_cookies_and_sessions_are_shared_between_servers() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let token = site
        .store
        .create_api_token("test", "rtg@uhdb.nhs.uk", "script")
        .await
        .unwrap();
    let request = Request::post("/actions/WL1/updates")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("status=at-risk&note=Sent+by+a+script"))
        .unwrap();
    assert_eq!(site.send(request).await.status, StatusCode::SEE_OTHER);
    let bad = Request::post("/actions/WL1/updates")
        .header(header::AUTHORIZATION, "Bearer gp_nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(site.send(bad).await.status, StatusCode::UNAUTHORIZED);

    // A second server with its own connection pool on the same database honours the session.
    let (cookie, _) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let other = router(AppState::new(Store::connect(&db.url).await.unwrap()));
    let reply = other
        .oneshot(
            Request::get("/account")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
}

#[tokio::test]
async fn reading_can_require_a_login_and_tls_adds_hsts() {
    let db = TestDatabase::new();
    let site = site(
        &db,
        WebConfig {
            secure_cookies: true,
            require_login: true,
        },
    )
    .await;
    let reply = site.get("/", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers.get(header::LOCATION).unwrap(), "/login");
    assert_eq!(site.get("/healthz", None).await.status, StatusCode::OK);
    let login = site.get("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login
            .headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_some()
    );
    let (cookie, _) = site.sign_in("viewer@uhdb.nhs.uk").await;
    assert_eq!(site.get("/", Some(&cookie)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn contributors_record_metric_values_for_their_own_organisation_only() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let origin = format!("http://{HOST}");
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    // inhaler-carbon is a system metric: a trust contributor may record its own trust's figure.
    let page = site.get("/metrics/inhaler-carbon", Some(&cookie)).await;
    assert!(page.body.contains("Record a value"));
    assert!(
        !page.body.contains("<option value=\"system\""),
        "only the ICB records system-wide values"
    );
    let ok = site
        .post(
            "/metrics/inhaler-carbon/values",
            Some(&cookie),
            Some(&origin),
            &format!(
                "csrf_token={csrf}&organisation=RTG&period=2025%2F26&value=1%2C234.5&note=ePACT2"
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let values = site
        .store
        .metric_values(Some("inhaler-carbon"))
        .await
        .unwrap();
    let mine = values
        .iter()
        .find(|v| v.origin == "rtg@uhdb.nhs.uk")
        .unwrap();
    assert_eq!(mine.value.to_string(), "1234.5");
    assert_eq!(mine.organisation.as_ref().unwrap().as_str(), "RTG");
    let trail = site
        .store
        .audit_trail(Some(("metric", "inhaler-carbon")), 10)
        .await
        .unwrap();
    assert_eq!(trail[0].actor, "rtg@uhdb.nhs.uk");

    for (org, expected) in [
        ("RFS", StatusCode::FORBIDDEN),
        ("system", StatusCode::FORBIDDEN),
    ] {
        let reply = site
            .post(
                "/metrics/inhaler-carbon/values",
                Some(&cookie),
                Some(&origin),
                &format!("csrf_token={csrf}&organisation={org}&period=2025%2F26&value=1"),
            )
            .await;
        assert_eq!(reply.status, expected, "{org}");
    }
    let bad = site
        .post(
            "/metrics/inhaler-carbon/values",
            Some(&cookie),
            Some(&origin),
            &format!("csrf_token={csrf}&organisation=RTG&period=soon&value=lots"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Period:"), "{}", bad.body);
    let no_csrf = site
        .post(
            "/metrics/inhaler-carbon/values",
            Some(&cookie),
            Some(&origin),
            "organisation=RTG&period=2025%2F26&value=1",
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
}
