//! Helpers shared by the web integration tests: a site with the built-in plan and a few
//! people, and requests as a browser would send them.

#![allow(clippy::unwrap_used, dead_code)] // test helpers; each test file uses some of them

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

pub const PASSWORD: &str = "a long test pass phrase";
pub const HOST: &str = "greenplan.test";

pub struct Site {
    pub app: axum::Router,
    pub store: Store,
}

/// The template of [`site_db`]: the built-in plan and the people of [`PEOPLE`].
pub const SITE_TEMPLATE: &str = "web-site";

/// The people every test site has: address (also their name), organisation, role.
pub const PEOPLE: [(&str, &str, Role); 6] = [
    ("rtg@uhdb.nhs.uk", "RTG", Role::Contributor),
    ("icb@derbyshire.nhs.uk", "QJ2", Role::Contributor),
    ("viewer@uhdb.nhs.uk", "RTG", Role::Viewer),
    ("lead@derbyshire.nhs.uk", "QJ2", Role::SystemAdmin),
    ("admin@uhdb.nhs.uk", "RTG", Role::OrganisationAdmin),
    ("rfs@crh.nhs.uk", "RFS", Role::Contributor),
];

/// A database with the built-in plan and [`PEOPLE`], copied from a template made once per
/// run: loading the plan and hashing six passwords for each test was most of a test's time.
pub fn site_db() -> TestDatabase {
    TestDatabase::from_template(
        SITE_TEMPLATE,
        Box::new(|store| Box::pin(async move { load_site(&store).await })),
    )
}

async fn load_site(store: &Store) {
    store.init_plan(&built_in_plan().unwrap()).await.unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    for (email, org, role) in PEOPLE {
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
}

/// The test site over `db`: one made by [`site_db`] as it is, any other loaded first.
pub async fn site(db: &TestDatabase, config: WebConfig) -> Site {
    let store = Store::connect(&db.url).await.unwrap();
    if db.template != SITE_TEMPLATE {
        load_site(&store).await;
    }
    Site {
        app: router(AppState::with_config(store.clone(), config)),
        store,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Site {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body =
            String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
                .into_owned();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut r = Request::get(path).header(header::HOST, HOST);
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        self.send(r.body(Body::empty()).unwrap()).await
    }

    pub async fn post(
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
    pub async fn sign_in(&self, email: &str) -> (String, String) {
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

/// The origin header of a form sent from the site itself.
pub fn origin() -> String {
    format!("http://{HOST}")
}

/// A multipart body of text fields and at most one file: (content type, body).
pub fn multipart_body(
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> (String, Vec<u8>) {
    let boundary = "----greenplan-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, file_name, contents)) = file {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(contents);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Site {
    /// Posts a multipart form from the site, signed in.
    pub async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let r = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, origin())
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(r).await
    }

    /// Posts a urlencoded form from the site, signed in.
    pub async fn submit(&self, path: &str, cookie: &str, form: &str) -> Reply {
        self.post(path, Some(cookie), Some(&origin()), form).await
    }
}

/// The official 2023 flat file, stored as edition uk-2023.
pub async fn official_2023_factors(store: &greenplan_store::Store) {
    let file = greenplan_ingest::factors::read_flat_file(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx"
        )),
        None,
    )
    .unwrap();
    store
        .replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();
}

/// A widget factor of 2.5 kgCO2e each, as a custom factor so the test needs no factor file.
pub async fn widget_factor(store: &greenplan_store::Store) {
    use greenplan_core::category::{NhsCategory, Scope};
    use greenplan_core::factor::{Factor, GasParts};
    let f = Factor {
        edition: "test-2025".into(),
        scope: Scope::Scope3,
        levels: vec!["widget".into()],
        column_text: None,
        unit_text: "count".into(),
        unit: "count".parse().unwrap(),
        kgco2e: "2.5".parse().unwrap(),
        gases: GasParts::default(),
        activity: Some("widget".into()),
        category: Some(NhsCategory::MedicalEquipment),
        source: "test".into(),
    };
    store.upsert_custom_factors("test", &[f]).await.unwrap();
}

/// Everything stored but sessions and sign-in failures (which reading and signing in change)
/// and staged uploads (a refused confirmation uses its file up), as `greenplan backup` writes
/// it, without its first line (which holds the time): equal before and after a request
/// means the request changed nothing.
pub async fn fingerprint(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    store.backup(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = Vec::new();
    let mut skipping = false;
    for line in text.lines().skip(1) {
        if line.starts_with("{\"table\":") {
            skipping = ["sessions", "login_attempts", "staged_uploads"]
                .iter()
                .any(|t| line.starts_with(&format!("{{\"table\":\"{t}\"")));
        }
        // The closing line counts every row, the left-out tables' too.
        if !skipping && !line.starts_with("{\"end\":") {
            lines.push(line.to_string());
        }
    }
    lines
}

/// The paths the application serves with a GET handler, from its route table (the real
/// router's, `greenplan_web::route_table`).
pub fn get_routes() -> Vec<String> {
    let routes: Vec<String> = greenplan_web::route_table()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.to_string())
        .collect();
    assert!(routes.len() >= 40, "found too few routes: {routes:?}");
    routes
}

/// The lines of `after` not in `before` and the reverse (at most 5 of each), to say what a
/// request changed.
pub fn changes(before: &[String], after: &[String]) -> String {
    let added: Vec<&String> = after
        .iter()
        .filter(|l| !before.contains(l))
        .take(5)
        .collect();
    let gone: Vec<&String> = before
        .iter()
        .filter(|l| !after.contains(l))
        .take(5)
        .collect();
    format!("added {added:?}, gone {gone:?}")
}

/// The template of [`plan_db`]: the built-in plan alone.
pub const PLAN_TEMPLATE: &str = "built-in-plan";

/// A database with the built-in plan, copied from a template made once per run.
pub fn plan_db() -> TestDatabase {
    TestDatabase::from_template(
        PLAN_TEMPLATE,
        Box::new(|store| {
            Box::pin(async move {
                store.init_plan(&built_in_plan().unwrap()).await.unwrap();
            })
        }),
    )
}

/// Loads the built-in plan into `store` unless `db` was copied with it.
pub async fn load_plan(store: &Store, db: &TestDatabase) {
    if db.template != PLAN_TEMPLATE && db.template != SITE_TEMPLATE {
        store.init_plan(&built_in_plan().unwrap()).await.unwrap();
    }
}

impl Site {
    /// The revision the form posting to `form_action` on `page` carries (its hidden
    /// `revision` field), as a browser sends it back: `revision=N`, to add to a form body;
    /// empty when that form carries none.
    pub async fn revision_on(&self, page: &str, cookie: &str, form_action: &str) -> String {
        let reply = self.get(page, Some(cookie)).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}: {}", reply.body);
        form_revision(&reply.body, form_action)
    }
}

/// The revision field of the form posting to `form_action` in `page`: `revision=N`, or empty
/// when the form has none.
pub fn form_revision(page: &str, form_action: &str) -> String {
    let Some(form) = page
        .split(&format!("action=\"{form_action}\""))
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
    else {
        return String::new();
    };
    form.split("name=\"revision\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|v| format!("revision={v}"))
        .unwrap_or_default()
}

impl Site {
    /// A record's revision as stored now, `revision=N`, to add to a form body (for a form the
    /// page does not show, or one of many on a page).
    pub async fn revision_of(&self, kind: greenplan_store::Revised, key: &str) -> String {
        let r = self.store.revision(kind, key).await.unwrap().unwrap();
        format!("revision={r}")
    }
}
