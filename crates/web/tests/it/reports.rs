//! Reports in the browser: downloads in every format, publishing only by a system
//! administrator with a valid CSRF token, and the published list, through the real router and
//! store (SQLite, or PostgreSQL with GREENPLAN_TEST_POSTGRES).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{Store, hash_password};
use greenplan_web::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PASSWORD: &str = "a long test pass phrase";
const HOST: &str = "greenplan.test";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Site {
    app: axum::Router,
    store: Store,
}

impl Site {
    async fn new(db: &TestDatabase) -> Self {
        let store = Store::connect(&db.url).await.unwrap();
        crate::common::load_plan(&store, db).await;
        let hash = hash_password(PASSWORD).unwrap();
        for (email, role) in [
            ("admin@derbyshire.nhs.uk", Role::SystemAdmin),
            ("lead@derbyshire.nhs.uk", Role::OrganisationAdmin),
        ] {
            store
                .add_user(
                    "test",
                    email,
                    email,
                    &hash,
                    &OdsCode::parse("QJ2").unwrap(),
                    role,
                )
                .await
                .unwrap();
        }
        Self {
            app: router(AppState::new(store.clone())),
            store,
        }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut r = Request::get(path).header(header::HOST, HOST);
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        self.send(r.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: &str, form: &str) -> Reply {
        let r = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(r.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// Signs in; returns the cookie and the session's CSRF token.
    async fn sign_in(&self, email: &str) -> (String, String) {
        let r = Request::post("/login")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "email={email}&password={}",
                PASSWORD.replace(' ', "+")
            )))
            .unwrap();
        let reply = self.send(r).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let cookie = reply.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let page = self.get("/reports", Some(&cookie)).await.text();
        let csrf = page
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

#[tokio::test]
async fn reports_download_in_every_format() {
    let db = crate::common::plan_db();
    let site = Site::new(&db).await;
    let page = site.get("/reports", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Quarterly Delivery Group pack"));
    assert!(
        !page.text().contains("Publish a report"),
        "only admins see the form"
    );

    for (path, content_type, magic) in [
        (
            "/reports/annual?year=2025%2F26&format=pdf",
            "application/pdf",
            &b"%PDF-"[..],
        ),
        (
            "/reports/quarterly?period=Q3+2025%2F26&org=RTG&format=xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &b"PK"[..],
        ),
        (
            "/reports/quarterly?period=Q3+2025%2F26&format=html",
            "text/html; charset=utf-8",
            &b"<!DOCTYPE html>"[..],
        ),
    ] {
        let reply = site.get(path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
        assert_eq!(reply.headers[header::CONTENT_TYPE], content_type);
        assert!(
            reply.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert!(reply.body.starts_with(magic), "{path}");
    }
    let bad = site
        .get("/reports/quarterly?period=Q5+2025%2F26", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = site
        .get("/reports/annual?year=2025%2F26&format=docx", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        site.get("/reports/published/7", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_a_system_admin_publishes_and_the_report_is_listed() {
    let db = crate::common::plan_db();
    let site = Site::new(&db).await;
    let form = |csrf: &str| format!("csrf_token={csrf}&kind=annual&period=2025%2F26&org=");

    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let refused = site
        .post("/reports/publish", &lead, &form(&lead_csrf))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let (admin, csrf) = site.sign_in("admin@derbyshire.nhs.uk").await;
    let forged = site
        .post("/reports/publish", &admin, &form("not-the-token"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(site.store.published_reports().await.unwrap().is_empty());

    let done = site.post("/reports/publish", &admin, &form(&csrf)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let published = site.store.published_reports().await.unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].published_by, "admin@derbyshire.nhs.uk");
    let id = published[0].id;

    let list = site.get("/reports", Some(&admin)).await.text();
    assert!(list.contains(&format!("/reports/published/{id}?format=pdf")));
    let pdf = site
        .get(&format!("/reports/published/{id}?format=pdf"), None)
        .await;
    assert!(pdf.body.starts_with(b"%PDF-"));
    let changes = site
        .get(&format!("/reports/published/{id}/changes"), None)
        .await;
    assert_eq!(changes.status, StatusCode::OK);
    assert!(
        changes
            .text()
            .contains("Nothing has changed since it was published.")
    );
}
