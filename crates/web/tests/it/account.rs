//! Signing in, sessions, CSRF and permissions on writes, through the real router and store,
//! on SQLite or PostgreSQL (GREENPLAN_TEST_POSTGRES).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_store::testing::TestDatabase;
use greenplan_store::{Store, hash_password};
use greenplan_web::{AppState, WebConfig, router};
use tower::ServiceExt;

use crate::common;
use common::*;

fn update_form(csrf: &str, note: &str) -> String {
    format!(
        "csrf_token={csrf}&status=on-track&note={}&evidence_url=https%3A%2F%2Fexample.nhs.uk%2Fpaper&revised_due=",
        note.replace(' ', "+")
    )
}

#[tokio::test]
async fn a_contributor_posts_an_update_on_their_action() {
    let db = site_db();
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
    assert!(
        page.body.contains("nhsuk-tag--green"),
        "status is now on track"
    );
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
    let db = site_db();
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
    let db = site_db();
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
    let db = site_db();
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
    let db = site_db();
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
    let db = site_db();
    let site = site(
        &db,
        WebConfig {
            secure_cookies: true,
            require_login: true,
            ..WebConfig::default()
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
    let db = site_db();
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

fn multipart(csrf: &str, file_name: &str, contents: &str) -> (String, String) {
    let boundary = "----greenplan-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{contents}\r\n\
         --{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_return_is_checked_previewed_then_imported_whole() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    widget_factor(&site.store).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let header = "organisation,site,period_start,period_end,activity,quantity,unit\n";
    let send = |body: (String, String)| {
        Request::post("/returns/preview")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, body.0)
            .body(Body::from(body.1))
            .unwrap()
    };

    // Another trust's row and a bad number: both named, nothing stored.
    let bad = format!(
        "{header}RTG,,2025-04-01,2025-04-30,widget,4,count\nRFS,,2025-04-01,2025-04-30,widget,4,count\nRTG,,2025-04-01,2025-04-30,widget,four,count\n"
    );
    let reply = site.send(send(multipart(&csrf, "april.csv", &bad))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("you cannot submit data for RFS"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("is not a number"), "{}", reply.body);
    assert!(
        reply.body.contains("2 rows cannot be used"),
        "{}",
        reply.body
    );
    assert_eq!(site.store.activity_count().await.unwrap(), 0);

    // The fixed file: a preview of what it adds, then confirmation.
    let good = format!(
        "{header}RTG,,2025-04-01,2025-04-30,widget,4,count\nRTG,,2025-05-01,2025-05-31,widget,400,count\n"
    );
    let reply = site.send(send(multipart(&csrf, "april.csv", &good))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body.contains("What april.csv adds") && reply.body.contains("1.010"),
        "{}",
        reply.body
    );
    assert_eq!(
        site.store.activity_count().await.unwrap(),
        0,
        "nothing stored before confirmation"
    );
    let upload = reply
        .body
        .split("name=\"upload\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // Another user cannot confirm someone else's upload.
    let (icookie, icsrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let origin = format!("http://{HOST}");
    let stolen = site
        .post(
            "/returns/confirm",
            Some(&icookie),
            Some(&origin),
            &format!("csrf_token={icsrf}&upload={upload}"),
        )
        .await;
    assert_eq!(stolen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(site.store.activity_count().await.unwrap(), 0);

    let done = site
        .post(
            "/returns/confirm",
            Some(&cookie),
            Some(&origin),
            &format!("csrf_token={csrf}&upload={upload}"),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("2 rows imported from april.csv"),
        "{}",
        done.body
    );
    assert_eq!(site.store.activity_count().await.unwrap(), 2);
    let trail = site.store.audit_trail(None, 5).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "import" && e.actor == "rtg@uhdb.nhs.uk"),
        "{trail:?}"
    );
    let again = site
        .post(
            "/returns/confirm",
            Some(&cookie),
            Some(&origin),
            &format!("csrf_token={csrf}&upload={upload}"),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an upload is imported once"
    );

    let template = site.get("/returns/template.xlsx", Some(&cookie)).await;
    assert_eq!(template.status, StatusCode::OK);
    assert_eq!(
        template.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
}

/// Servers cache what they read; another server's write shows once the revision is checked
/// again (at most a second later), this server's own writes at once.
#[tokio::test]
async fn cached_pages_follow_writes_from_any_server() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let other = Site {
        app: router(AppState::new(Store::connect(&db.url).await.unwrap())),
        store: site.store.clone(),
    };
    assert!(site.get("/", None).await.body.contains("Not started"));
    let (cookie, csrf) = other.sign_in("rtg@uhdb.nhs.uk").await;
    let origin = format!("http://{HOST}");
    let posted = other
        .post(
            "/actions/DT3/updates",
            Some(&cookie),
            Some(&origin),
            &update_form(&csrf, "Written on the other server"),
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert!(
        other
            .get("/actions/DT3", None)
            .await
            .body
            .contains("Written on the other server"),
        "own write shows at once"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = site.get("/actions/DT3", None).await;
    assert!(
        page.body.contains("Written on the other server"),
        "the first server sees it after its next revision check"
    );
    let dashboard = site.get("/", None).await;
    assert!(
        dashboard.body.contains("nhsuk-tag--green"),
        "the cached dashboard was redrawn"
    );
}

#[tokio::test]
async fn only_system_admins_see_the_whole_audit_trail() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    site.store
        .add_user(
            "test",
            "admin@derbyshire.nhs.uk",
            "Admin",
            &hash_password(PASSWORD).unwrap(),
            &OdsCode::parse("QJ2").unwrap(),
            Role::SystemAdmin,
        )
        .await
        .unwrap();
    assert_eq!(
        site.get("/audit", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (cookie, _) = site.sign_in("rtg@uhdb.nhs.uk").await;
    assert_eq!(
        site.get("/audit", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.get("/audit.csv", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    let (admin, _) = site.sign_in("admin@derbyshire.nhs.uk").await;
    let page = site.get("/audit", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("grant-role") && page.body.contains("admin@derbyshire.nhs.uk"));
    let csv = site.get("/audit.csv", Some(&admin)).await;
    assert!(
        csv.body
            .starts_with("at_utc,actor,action,entity_kind,entity_id,organisation,before,after\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains(",test,grant-role,user,rtg@uhdb.nhs.uk,RTG,"),
        "{}",
        csv.body
    );
}

fn login_form(email: &str, password: &str) -> String {
    format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    )
}

/// Guesses sent all at once are counted before any is checked: of 39 wrong guesses in one
/// burst at most the limit are checked against the password, and the right password sent
/// while they are still waiting for their check is refused too. The password checks are
/// held (every permit taken) so that the whole burst is in flight together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_guesses_is_counted_before_any_is_checked() {
    use greenplan_web::bounded_work::{PASSWORDS, permits};
    let db = TestDatabase::new();
    let site = std::sync::Arc::new(site(&db, WebConfig::default()).await);
    // Take every password-check permit until the burst is in.
    let (held_tx, mut held_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut releases = Vec::new();
    let mut holders = Vec::new();
    for _ in 0..permits() {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        releases.push(release);
        let held = held_tx.clone();
        holders.push(tokio::spawn(async move {
            PASSWORDS
                .run(move || {
                    let _ = held.send(());
                    let _ = wait.recv();
                })
                .await
        }));
    }
    for _ in 0..permits() {
        held_rx.recv().await.unwrap();
    }
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..39 {
        let (site, done) = (site.clone(), done_tx.clone());
        tokio::spawn(async move {
            let reply = site
                .post(
                    "/login",
                    None,
                    Some(&origin()),
                    &login_form("rtg@uhdb.nhs.uk", "a wrong guess here"),
                )
                .await;
            let _ = done.send(reply);
        });
    }
    // Those over the limit are answered at once, without waiting for a check. (Bounded so
    // that, were they all waiting, the test goes on and fails below instead of hanging.)
    let mut replies = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while replies.len() < 39 - greenplan_store::MAX_LOGIN_FAILURES as usize {
            match done_rx.recv().await {
                Some(r) => replies.push(r),
                None => break,
            }
        }
    })
    .await;
    let right = {
        let site = site.clone();
        tokio::spawn(async move {
            site.post(
                "/login",
                None,
                Some(&origin()),
                &login_form("rtg@uhdb.nhs.uk", PASSWORD),
            )
            .await
        })
    };
    for release in releases {
        let _ = release.send(());
    }
    for h in holders {
        h.await.unwrap();
    }
    let right = right.await.unwrap();
    while replies.len() < 39 {
        replies.push(done_rx.recv().await.unwrap());
    }
    let checked = replies
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked <= greenplan_store::MAX_LOGIN_FAILURES as usize,
        "{checked} of the burst's guesses were checked; the limit is {}",
        greenplan_store::MAX_LOGIN_FAILURES
    );
    assert_eq!(checked + refused, 39);
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password after the limit is refused: {:?}",
        right.headers
    );
}

/// The account page's current-password check is a sign-in attempt like any other: wrong
/// guesses there count towards the same limit, and past it the form is refused.
#[tokio::test]
async fn the_current_password_check_is_throttled_with_sign_ins() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let change = |current: &str| {
        format!(
            "csrf_token={csrf}&current={}&new_password=another+long+pass+phrase&revoke_tokens=yes",
            current.replace(' ', "+")
        )
    };
    for _ in 0..greenplan_store::MAX_LOGIN_FAILURES {
        let reply = site
            .submit("/account/password", &cookie, &change("a wrong guess"))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
    }
    let reply = site
        .submit("/account/password", &cookie, &change(PASSWORD))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right current password after the limit is refused"
    );
    let login = site
        .post(
            "/login",
            None,
            Some(&origin()),
            &login_form("rtg@uhdb.nhs.uk", PASSWORD),
        )
        .await;
    assert_eq!(
        login.status,
        StatusCode::TOO_MANY_REQUESTS,
        "counted with sign-ins"
    );
    // The password is unchanged.
    let users = site.store.users().await.unwrap();
    let id = users
        .iter()
        .find(|u| u.email == "rtg@uhdb.nhs.uk")
        .unwrap()
        .id;
    let (_, hash) = site
        .store
        .password_hash_of("rtg@uhdb.nhs.uk")
        .await
        .unwrap()
        .unwrap();
    assert!(
        greenplan_store::verify_password(PASSWORD, &hash),
        "user {id}"
    );
}

fn token_ids(body: &str) -> Vec<String> {
    body.split("name=\"token\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

async fn api_get(site: &Site, token: &str) -> Reply {
    site.send(
        Request::get("/api/v1/actions")
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn shown_token(body: &str) -> String {
    let start = body.find("<code>gp_").unwrap() + "<code>".len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// API tokens on the account page: made with an expiry, listed, revoked; a revoked or
/// expired token gets the API's 401 JSON. A password change offers to revoke every token
/// (ticked by default) and ends the other sessions; unticked, the tokens stay.
#[tokio::test]
async fn tokens_are_listed_revoked_expire_and_can_end_with_a_password_change() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let made = site
        .submit(
            "/account/tokens",
            &cookie,
            &format!("csrf_token={csrf}&label=energy+upload&expires_in_days=30"),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let token = shown_token(&made.body);
    assert_eq!(api_get(&site, &token).await.status, StatusCode::OK);
    let page = site.get("/account", Some(&cookie)).await;
    assert!(page.body.contains("energy upload"), "{}", page.body);
    assert!(!page.body.contains(&token), "a token is shown once only");
    let ids = token_ids(&page.body);
    assert_eq!(ids.len(), 1);
    // Too long a life is refused with the bound.
    let bad = site
        .submit(
            "/account/tokens",
            &cookie,
            &format!("csrf_token={csrf}&label=x&expires_in_days=5000"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("365"), "{}", bad.body);
    // Another person cannot revoke it.
    let (other, other_csrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let reply = site
        .submit(
            "/account/tokens/revoke",
            &other,
            &format!("csrf_token={other_csrf}&token={}", ids[0]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(api_get(&site, &token).await.status, StatusCode::OK);
    let reply = site
        .submit(
            "/account/tokens/revoke",
            &cookie,
            &format!("csrf_token={csrf}&token={}", ids[0]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let refused = api_get(&site, &token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(refused.body.contains("\"error\""), "{}", refused.body);

    // An expired token.
    let old = site
        .store
        .create_api_token_for("test", "rtg@uhdb.nhs.uk", "old", 1)
        .await
        .unwrap();
    assert_eq!(api_get(&site, &old).await.status, StatusCode::OK);
    let url = if db.url.contains("://") {
        db.url.clone()
    } else {
        format!("sqlite://{}", db.url) // the test database is a file path on SQLite
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = expires_at - 2 * 86400 WHERE label = 'old'")
        .execute(&pool)
        .await
        .unwrap();
    let expired = api_get(&site, &old).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.body.contains("\"error\""), "{}", expired.body);

    // A password change, tokens kept when unticked...
    let kept = site
        .store
        .create_api_token("test", "rtg@uhdb.nhs.uk", "kept")
        .await
        .unwrap();
    let (second, _) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let reply = site
        .submit(
            "/account/password",
            &cookie,
            &format!(
                "csrf_token={csrf}&current={}&new_password=a+second+long+pass+phrase",
                PASSWORD.replace(' ', "+")
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(api_get(&site, &kept).await.status, StatusCode::OK);
    assert!(
        !site
            .get("/account", Some(&second))
            .await
            .status
            .is_success(),
        "the other session ended"
    );
    // ...and revoked when ticked (the form ticks it by default).
    let page = site.get("/account", Some(&cookie)).await;
    assert!(
        page.body
            .contains("name=\"revoke_tokens\" value=\"yes\" checked"),
        "{}",
        page.body
    );
    let reply = site
        .submit(
            "/account/password",
            &cookie,
            &format!(
                "csrf_token={csrf}&current=a+second+long+pass+phrase&new_password=a+third+long+pass+phrase&revoke_tokens=yes"
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(api_get(&site, &kept).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        site.get("/account", Some(&cookie)).await.status,
        StatusCode::OK,
        "this session stays"
    );
}

/// An organisation admin lists and revokes the tokens of the people they manage, and no one
/// else's.
#[tokio::test]
async fn admins_revoke_the_tokens_of_people_they_manage() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let mine = site
        .store
        .create_api_token("test", "rtg@uhdb.nhs.uk", "their script")
        .await
        .unwrap();
    site.store
        .create_api_token("test", "rfs@crh.nhs.uk", "other trust script")
        .await
        .unwrap();
    let (admin, csrf) = site.sign_in("admin@uhdb.nhs.uk").await;
    let page = site.get("/admin/users", Some(&admin)).await;
    assert!(page.body.contains("their script"), "{}", page.body);
    assert!(!page.body.contains("other trust script"));
    let ids = token_ids(&page.body);
    assert_eq!(ids.len(), 1, "{}", page.body);
    let reply = site
        .submit(
            "/admin/users/tokens/revoke",
            &admin,
            &format!("csrf_token={csrf}&email=rtg%40uhdb.nhs.uk&token={}", ids[0]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(api_get(&site, &mine).await.status, StatusCode::UNAUTHORIZED);
    let trail = site
        .store
        .audit_trail(Some(("user", "rtg@uhdb.nhs.uk")), 5)
        .await
        .unwrap();
    assert_eq!(trail[0].action, "revoke-token");
    assert_eq!(trail[0].actor, "admin@uhdb.nhs.uk");
}

/// Under `--require-login` an API call without credentials gets the API's 401 JSON, not the
/// browser's redirect to the sign-in page.
#[tokio::test]
async fn the_api_answers_401_json_under_require_login() {
    let db = TestDatabase::new();
    let site = site(
        &db,
        WebConfig {
            require_login: true,
            ..WebConfig::default()
        },
    )
    .await;
    for path in ["/api/v1/actions", "/api/v1/footprint", "/api/openapi.json"] {
        let reply = site.get(path, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            reply.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        assert!(reply.body.contains("\"error\""), "{path}: {}", reply.body);
    }
    assert_eq!(site.get("/", None).await.status, StatusCode::SEE_OTHER);
}
