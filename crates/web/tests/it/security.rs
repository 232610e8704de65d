//! Hostile requests: session fixation and expiry, script in every text field the app stores
//! (shown back escaped on every page that shows it), SQL metacharacters in every path and
//! query parameter, the security headers, uploads of the wrong type, too large or a zip bomb,
//! and a handler that panics. Each attack must fail without a 500 and without changing data.
//! (The permission matrix and CSRF are in `permissions.rs`, login throttling in `account.rs`.)
//! SQLite or PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;
use std::io::Write;

fn set_cookie(reply: &Reply) -> String {
    reply
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn sign_in_with(site: &Site, planted: Option<&str>) -> Reply {
    site.post(
        "/login",
        planted,
        Some(&origin()),
        &format!(
            "email=rtg%40uhdb.nhs.uk&password={}",
            PASSWORD.replace(' ', "+")
        ),
    )
    .await
}

fn signed_in(page: &Reply) -> bool {
    page.body.contains("Sign out")
}

#[tokio::test]
async fn a_planted_session_is_never_adopted_and_sessions_expire() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    // An attacker plants a cookie of their choosing, then the victim signs in.
    let planted = "gp_session=attackers-chosen-value";
    let reply = sign_in_with(&site, Some(planted)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let issued = set_cookie(&reply);
    assert_ne!(issued, planted, "a new token is issued at sign-in");
    assert!(issued.len() > "gp_session=".len() + 40, "{issued}");
    assert!(!signed_in(&site.get("/", Some(planted)).await));
    assert!(signed_in(&site.get("/", Some(&issued)).await));
    // Signing in again gives another token; the first one stays the first session's.
    let again = set_cookie(&sign_in_with(&site, Some(&issued)).await);
    assert_ne!(again, issued);

    // Idle for longer than 8 hours: the session is over.
    let url = if db.url.contains("://") {
        db.url.clone()
    } else {
        format!("sqlite://{}", db.url) // the test database is a file path on SQLite
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - $1")
        .bind(greenplan_store::SESSION_IDLE_SECONDS + 60)
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        !signed_in(&site.get("/", Some(&issued)).await),
        "idle expiry"
    );
    assert!(
        !signed_in(&site.get("/", Some(&again)).await),
        "idle expiry"
    );
    // Busy, but past the hard limit of 7 days: over too.
    let fresh = set_cookie(&sign_in_with(&site, None).await);
    assert!(signed_in(&site.get("/", Some(&fresh)).await));
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(chrono::Utc::now().timestamp() - 1)
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        !signed_in(&site.get("/", Some(&fresh)).await),
        "hard expiry"
    );
}

/// A payload per field: a script element and an attribute break-out, numbered so each can be
/// found escaped.
fn payload(n: usize) -> String {
    format!("<script>xss{n}()</script>\"'><img src=x onerror=xss{n}()>")
}

/// A payload for a file name (no quote or slash, which no file name keeps).
fn file_payload(n: usize, extension: &str) -> String {
    format!("<img src=x onerror=xss{n}()>.{extension}")
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn text_from_every_field_is_shown_escaped_on_every_page() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    widget_factor(&site.store).await;
    let (cookie, csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let p = payload;
    let ok = |r: Reply, what: &str| {
        assert!(
            r.status.is_success() || r.status == StatusCode::SEE_OTHER,
            "{what}: {} {}",
            r.status,
            r.body
        );
    };
    // The plan: an action's title, leads and success measure; an area; a metric.
    let form = format!(
        "csrf_token={csrf}&title={}&leads={}&lead_organisations=RTG&delivery=Ongoing&success_measure={}&{}",
        enc(&p(1)),
        enc(&p(2)),
        enc(&p(3)),
        site.revision_of(greenplan_store::Revised::Action, "DT3")
            .await
    );
    ok(
        site.submit("/actions/DT3/edit", &cookie, &form).await,
        "action",
    );
    let form = format!(
        "csrf_token={csrf}&name={}&why={}&where_we_are={}&{}",
        enc(&p(4)),
        enc(&p(5)),
        enc(&p(6)),
        site.revision_of(greenplan_store::Revised::Area, "workforce-and-leadership")
            .await
    );
    ok(
        site.submit("/areas/workforce-and-leadership/edit", &cookie, &form)
            .await,
        "area",
    );
    let form = format!(
        "csrf_token={csrf}&name={}&unit={}&direction=lower-is-better&description={}&{}",
        enc(&p(7)),
        enc(&p(8)),
        enc(&p(9)),
        site.revision_of(greenplan_store::Revised::Metric, "inhaler-carbon")
            .await
    );
    ok(
        site.submit("/metrics/inhaler-carbon/edit", &cookie, &form)
            .await,
        "metric",
    );
    let form = format!(
        "csrf_token={csrf}&organisation=system&period=2025%2F26&value=1&note={}",
        enc(&p(10))
    );
    ok(
        site.submit("/metrics/inhaler-carbon/values", &cookie, &form)
            .await,
        "value",
    );
    // An update with a note and an evidence file whose name is a payload.
    let (ct, body) = multipart_body(
        &[
            ("csrf_token", &csrf),
            ("status", "on-track"),
            ("note", &p(11)),
        ],
        Some((
            "evidence_file",
            &file_payload(12, "pdf"),
            b"%PDF-1.4\n%evidence\n",
        )),
    );
    ok(
        site.post_multipart("/actions/DT3/updates", &cookie, &ct, body)
            .await,
        "update",
    );
    // An organisation's names, a person's name, an archived action's reason.
    let form = format!(
        "csrf_token={csrf}&code=RTG&name={}&short_name={}&kind=acute&{}",
        enc(&p(13)),
        enc(&p(14)),
        site.revision_of(greenplan_store::Revised::Organisation, "RTG")
            .await
    );
    ok(
        site.submit("/admin/organisations/RTG", &cookie, &form)
            .await,
        "organisation",
    );
    let form = format!(
        "csrf_token={csrf}&email=new%40uhdb.nhs.uk&name={}&password=a+long+first+pass+phrase&organisation=RTG&role=contributor",
        enc(&p(15))
    );
    ok(site.submit("/admin/users", &cookie, &form).await, "person");
    // A return whose file name is a payload, in an open period.
    let form = format!("csrf_token={csrf}&quarter=Q1+2025%2F26&due_on=2025-07-31");
    ok(
        site.submit("/returns/periods", &cookie, &form).await,
        "period",
    );
    let file = "organisation,site,period_start,period_end,activity,quantity,unit,notes\nRTG,,2025-04-01,2025-04-30,widget,4,count,note\n";
    let name = file_payload(16, "csv");
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf), ("period", "Q1 2025/26")],
        Some(("file", &name, file.as_bytes())),
    );
    let preview = site
        .post_multipart("/returns/preview", &cookie, &ct, body)
        .await;
    assert!(!preview.body.contains("<img src=x"), "preview escapes");
    let upload = preview
        .body
        .split("name=\"upload\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = format!("csrf_token={csrf}&upload={upload}&period=Q1+2025%2F26");
    ok(
        site.submit("/returns/confirm", &cookie, &form).await,
        "return",
    );

    let pages = [
        "/",
        "/actions",
        "/actions?q=xss",
        "/actions/DT3",
        "/actions/DT3/edit",
        "/areas/workforce-and-leadership",
        "/areas/workforce-and-leadership/edit",
        "/metrics",
        "/metrics/inhaler-carbon",
        "/metrics/inhaler-carbon/edit",
        "/organisations",
        "/organisations/RTG",
        "/admin/organisations",
        "/admin/users",
        "/audit",
        "/returns/periods",
        "/returns/periods/Q1%202025%2F26",
        "/my/actions",
        "/visions",
        "/medicines/inhalers",
        "/reports",
    ];
    let mut seen = String::new();
    for path in pages {
        for who in [Some(cookie.as_str()), None] {
            let page = site.get(path, who).await;
            assert!(!page.status.is_server_error(), "{path}: {}", page.status);
            for raw in ["<script>xss", "<img src=x"] {
                if let Some(at) = page.body.find(raw) {
                    panic!(
                        "{path} shows a payload unescaped: …{}…",
                        &page.body[at.saturating_sub(80)..(at + 40).min(page.body.len())]
                    );
                }
            }
            seen.push_str(&page.body);
        }
    }
    for n in 1..=16 {
        // Every stored payload is shown somewhere, as text.
        // askama writes `&#60;`; the SVG charts `&lt;`.
        let escaped = format!("&#60;img src=x onerror=xss{n}()&#62;");
        let in_svg = format!("&lt;img src=x onerror=xss{n}()&gt;");
        assert!(
            seen.contains(&escaped) || seen.contains(&in_svg),
            "payload {n} is not shown on any page: {escaped}"
        );
    }
}

/// SQL metacharacters (and a few other hostile strings) in every path parameter of every GET
/// route, and in the query parameters the pages read: never a 500, never a change.
#[tokio::test]
async fn sql_metacharacters_in_every_parameter_change_nothing() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, _) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let before = fingerprint(&site.store).await;
    let hostile = [
        "' OR '1'='1",
        "1; DROP TABLE users; --",
        "\" OR 1=1 --",
        "%' UNION SELECT email, password_hash FROM users --",
        "\\'; DELETE FROM audit_log; --",
        "0x00\u{0}",
    ];
    let queries = [
        "area", "status", "q", "year", "measure", "period", "kind", "org", "format", "as_at",
        "from", "to", "page", "sort",
    ];
    let gets: Vec<String> = get_routes();
    assert!(gets.len() > 30, "{gets:?}");
    for text in hostile {
        let e = enc(text).replace('+', "%20");
        let query = queries
            .iter()
            .map(|q| format!("{q}={e}"))
            .collect::<Vec<_>>()
            .join("&");
        for route in &gets {
            if route.starts_with("/static/") || route.starts_with("/assets/") {
                continue;
            }
            let path: String = route
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        e.as_str()
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for who in [Some(cookie.as_str()), None] {
                let reply = site.get(&format!("{path}?{query}"), who).await;
                assert!(
                    !reply.status.is_server_error(),
                    "{path}?{query}: {} {}",
                    reply.status,
                    reply.body
                );
            }
        }
    }
    assert!(
        fingerprint(&site.store).await == before,
        "reading pages changed data"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    for path in [
        "/",
        "/actions/DT3",
        "/no-such-page",
        "/static/app.css",
        "/api/openapi.json",
    ] {
        let mut request = Request::get(path)
            .header(header::HOST, HOST)
            // A client (not a proxy we trust) claiming HTTPS does not switch HSTS on.
            .header("x-forwarded-proto", "https");
        request = request.header(header::ACCEPT, "text/html");
        let reply = site.send(request.body(Body::empty()).unwrap()).await;
        let h = |name: &str| {
            reply
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let csp = h("content-security-policy");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(script_src.contains("'self'"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "same-origin", "{path}");
        assert_eq!(h("strict-transport-security"), "", "{path}: not behind TLS");
    }
    // Behind TLS (`--secure-cookies`): HSTS on every response, cookies Secure.
    let tls = site_behind_tls(&db).await;
    let reply = tls.get("/", None).await;
    assert_eq!(
        reply.headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let login = sign_in_with(&tls, None).await;
    let cookie = login.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

async fn site_behind_tls(db: &TestDatabase) -> Site {
    let store = greenplan_store::Store::connect(&db.url).await.unwrap();
    let config = WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    };
    Site {
        app: greenplan_web::router(greenplan_web::AppState::with_config(store.clone(), config)),
        store,
    }
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

/// An XLSX workbook whose one sheet holds `rows` (XML of `<row>` elements) `times` over,
/// written a megabyte at a time.
fn xlsx(rows: &[u8], times: usize) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, contents) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(contents).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#).unwrap();
    let chunk = rows
        .repeat((1 << 20) / rows.len().max(1))
        .max(rows.to_vec());
    let per_chunk = chunk.len() / rows.len().max(1);
    let mut left = times;
    while left > 0 {
        if left >= per_chunk {
            zip.write_all(&chunk).unwrap();
            left -= per_chunk;
        } else {
            zip.write_all(rows).unwrap();
            left -= 1;
        }
    }
    zip.write_all(b"</sheetData></worksheet>").unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

async fn upload(site: &Site, cookie: &str, csrf: &str, name: &str, contents: &[u8]) -> Reply {
    let (ct, body) = multipart_body(&[("csrf_token", csrf)], Some(("file", name, contents)));
    site.post_multipart("/returns/preview", cookie, &ct, body)
        .await
}

#[tokio::test]
async fn hostile_uploads_are_refused_with_a_clear_message() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let before = fingerprint(&site.store).await;
    let refused = |r: &Reply, says: &str, what: &str| {
        assert!(
            r.status.is_client_error(),
            "{what}: {} {}",
            r.status,
            r.body
        );
        assert!(
            r.body.contains(says),
            "{what} should say {says:?}: {}",
            r.body
        );
    };
    // The wrong type of file.
    let r = upload(&site, &cookie, &csrf, "notes.txt", b"hello").await;
    refused(&r, "Choose a CSV or XLSX file", "a text file");
    let r = upload(&site, &cookie, &csrf, "old.xls", b"\xd0\xcf\x11\xe0").await;
    refused(&r, "Excel Workbook (.xlsx)", "an .xls file");
    let r = upload(
        &site,
        &cookie,
        &csrf,
        "return.xlsx",
        b"organisation,site\nRTG,\n",
    )
    .await;
    refused(
        &r,
        "return.xlsx: cannot read the workbook: it is not an XLSX workbook",
        "a CSV named .xlsx",
    );
    assert!(!r.body.contains("/tmp/"), "no server paths: {}", r.body);
    let r = upload(
        &site,
        &cookie,
        &csrf,
        "return.csv",
        b"\xff\xfe\x00\x01binary",
    )
    .await;
    assert!(r.status.is_client_error(), "binary CSV: {}", r.status);

    // Too large: refused before it is read, with the limit named.
    let big = vec![b'a'; 20 * 1024 * 1024 + 1024];
    let r = upload(&site, &cookie, &csrf, "big.csv", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("20 MB"), "{}", r.body);

    // A zip bomb: a 300 MB sheet of one repeated row, deflated to well under 1 MB.
    let row = br#"<row><c t="inlineStr"><is><t>RTG</t></is></c></row>"#;
    let bomb = xlsx(row, 300 * 1024 * 1024 / row.len());
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    let r = upload(&site, &cookie, &csrf, "bomb.xlsx", &bomb).await;
    refused(&r, "more than the 256 MB greenplan reads", "a zip bomb");

    // Two cells far apart: read cell by cell, never as the 17 billion cells between them.
    let far = xlsx(br#"<row r="1"><c r="A1" t="inlineStr"><is><t>organisation</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#, 1);
    let r = upload(&site, &cookie, &csrf, "far.xlsx", &far).await;
    refused(&r, "beyond the 1000 columns", "a stray far cell");

    assert!(
        fingerprint(&site.store).await == before,
        "refused uploads stored something"
    );
    // The server still serves.
    assert_eq!(site.get("/", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_panicking_handler_gets_the_error_page_and_the_server_keeps_serving() {
    use axum::routing::get;
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    async fn faulty() -> &'static str {
        panic!("a bug in a handler")
    }
    let app = greenplan_web::protect(
        axum::Router::new()
            .route("/faulty", get(faulty))
            .merge(site.app.clone()),
    );
    let with_faulty = Site {
        app,
        store: site.store.clone(),
    };
    for _ in 0..3 {
        let reply = with_faulty.get("/faulty", None).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            reply
                .body
                .contains("Sorry, there is a problem with the service"),
            "{}",
            reply.body
        );
        assert!(!reply.body.contains("a bug in a handler"), "no internals");
        assert!(
            reply.headers.contains_key("content-security-policy"),
            "the error page has the headers too"
        );
        assert_eq!(with_faulty.get("/", None).await.status, StatusCode::OK);
    }
}

/// A burst of sign-in attempts (for addresses with no account, each still checked against a
/// dummy hash) is answered, but never more Argon2 computations run at once than there are
/// permits: each holds 19 MiB, so unbounded they would hold gigabytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_sign_ins_runs_a_few_password_checks_at_a_time() {
    use greenplan_web::bounded_work::{PASSWORDS, permits};
    let db = TestDatabase::new();
    let site = std::sync::Arc::new(site(&db, WebConfig::default()).await);
    let attempts = 6 * permits();
    let mut tasks = Vec::new();
    for i in 0..attempts {
        let site = site.clone();
        tasks.push(tokio::spawn(async move {
            site.post(
                "/login",
                None,
                Some(&origin()),
                &format!("email=nobody{i}%40example.nhs.uk&password=not+the+password"),
            )
            .await
        }));
    }
    for t in tasks {
        let reply = t.await.unwrap();
        assert!(reply.body.contains("Sign in"), "{}", reply.body);
        assert!(!signed_in(&reply));
    }
    let most = PASSWORDS.most_at_once();
    assert!(
        (1..=permits()).contains(&most),
        "{most} password checks ran at once; the bound is {}",
        permits()
    );
}

/// Every response to a signed-in person says `Cache-Control: no-store` (pages, CSV
/// downloads, error pages, redirects), so a shared or back-button cache never keeps what they
/// saw; signed-out readers of the public plan keep the default.
#[tokio::test]
async fn responses_to_a_signed_in_person_are_not_stored_by_caches() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, _) = site.sign_in("rtg@uhdb.nhs.uk").await;
    for path in [
        "/",
        "/account",
        "/actions/DT3",
        "/footprint.csv",
        "/no-such-page",
        "/admin/users",
    ] {
        let reply = site.get(path, Some(&cookie)).await;
        assert_eq!(
            reply
                .headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path} ({})",
            reply.status
        );
    }
    let token = site
        .store
        .create_api_token("test", "rtg@uhdb.nhs.uk", "script")
        .await
        .unwrap();
    let api = site
        .send(
            Request::get("/api/v1/actions")
                .header(header::HOST, HOST)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(api.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        site.get("/", None)
            .await
            .headers
            .get(header::CACHE_CONTROL)
            .is_none()
    );
}

/// The session cookie lasts as long as the browser session unless the person ticks "stay
/// signed in"; then it lasts the session's hard limit.
#[tokio::test]
async fn the_session_cookie_ends_with_the_browser_unless_asked_to_stay() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let plain = sign_in_with(&site, None).await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);
    let set = plain.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        !set.contains("Max-Age") && !set.contains("Expires"),
        "a browser-session cookie: {set}"
    );
    let stay = site
        .post(
            "/login",
            None,
            Some(&origin()),
            &format!(
                "email=rtg%40uhdb.nhs.uk&password={}&stay_signed_in=yes",
                PASSWORD.replace(' ', "+")
            ),
        )
        .await;
    assert_eq!(stay.status, StatusCode::SEE_OTHER);
    let set = stay.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains(&format!("Max-Age={}", greenplan_store::SESSION_MAX_SECONDS)),
        "{set}"
    );
    assert!(
        site.get("/login", None)
            .await
            .body
            .contains("name=\"stay_signed_in\"")
    );
}

/// With `--public-url`, unsafe requests are checked against the public address, not the
/// `Host` header the request carries (which a proxy may rewrite and a client may choose),
/// and links handed out (survey invitations) use it.
#[tokio::test]
async fn the_origin_check_uses_the_public_url_when_set() {
    let db = TestDatabase::new();
    let public: greenplan_web::PublicUrl = "https://greenplan.example.nhs.uk/".parse().unwrap();
    let site = site(
        &db,
        WebConfig {
            public_url: Some(public),
            ..WebConfig::default()
        },
    )
    .await;
    let login = |host: &'static str, origin: &'static str| {
        Request::post("/login")
            .header(header::HOST, host)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "email=rtg%40uhdb.nhs.uk&password={}",
                PASSWORD.replace(' ', "+")
            )))
            .unwrap()
    };
    // Behind a proxy that passes its own Host: the public origin is this site.
    let reply = site
        .send(login("127.0.0.1:8080", "https://greenplan.example.nhs.uk"))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // A Host chosen to match a foreign Origin no longer passes.
    let reply = site
        .send(login("evil.example", "https://evil.example"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = site
        .send(login(
            "greenplan.example.nhs.uk",
            "http://greenplan.example.nhs.uk",
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "another scheme is another origin"
    );
    // A signed-in form write: the same rule.
    let cookie = set_cookie(
        &site
            .send(login("127.0.0.1:8080", "https://greenplan.example.nhs.uk"))
            .await,
    );
    let page = site.get("/account", Some(&cookie)).await;
    let csrf = page
        .body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // Survey invitation links start with the public address, not the Host the request named.
    let public_post = |path: String, form: String| {
        Request::post(path)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::ORIGIN, "https://greenplan.example.nhs.uk")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let made = site
        .send(public_post(
            "/tools/travel-surveys".into(),
            format!(
                "csrf_token={csrf}&organisation=RTG&title=Staff+travel&respondents=staff&sites=Royal+Derby+Hospital&financial_year=2025%2F26"
            ),
        ))
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let survey = made.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let links = site
        .send(public_post(
            format!("/tools/travel-surveys/{survey}/invitations"),
            format!("csrf_token={csrf}&count=2"),
        ))
        .await;
    assert_eq!(links.status, StatusCode::OK, "{}", links.body);
    let links: Vec<&str> = links
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(links.len(), 2);
    assert!(
        links.iter().all(
            |l| l.starts_with("https://greenplan.example.nhs.uk/tools/travel-surveys/respond/")
        ),
        "{links:?}"
    );
    let post = |origin: &'static str| {
        Request::post("/logout")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf_token={csrf}")))
            .unwrap()
    };
    assert_eq!(
        site.send(post("http://greenplan.test")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.send(post("https://greenplan.example.nhs.uk"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Bad public URLs are refused with the reason.
    for bad in [
        "greenplan.example",
        "ftp://x.example",
        "https://",
        "https://x.example?q=1",
    ] {
        assert!(bad.parse::<greenplan_web::PublicUrl>().is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_nul_in_the_sign_in_form_is_refused_in_words_not_a_500_on_either_backend() {
    // PostgreSQL cannot hold NUL in text: the store says so (422) instead of failing the
    // query as a 500. (The input rule that refuses C0 controls in every field, naming it,
    // comes before this; this is the store's own guard, for any text that reaches it.)
    let db = TestDatabase::new();
    let s = site(&db, WebConfig::default()).await;
    let reply = s
        .post(
            "/login",
            None,
            Some(&origin()),
            "email=rtg%00%40uhdb.nhs.uk&password=whatever+it+is",
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("email"),
        "the field is named: {}",
        reply.body
    );
}
