//! Reminders in the app: "My tasks", the status an action's dates give it, each person's
//! choice of digest, and the system admins' rules and log. SQLite, or PostgreSQL with
//! GREENPLAN_TEST_POSTGRES. Sending is tested through a real SMTP server in the cli crate.

use axum::http::StatusCode;
use greenplan_core::reminders::Frequency;
use greenplan_web::WebConfig;

use crate::common;
use common::*;

#[tokio::test]
async fn my_tasks_lists_what_the_digest_would_by_role() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (icb, _) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let page = site.get("/my/tasks", Some(&icb)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("data-task=\"action-overdue/TT3\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Actions past their delivery date"));
    // A trust's contributor is not told of the ICB's action.
    let (rtg, _) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let page = site.get("/my/tasks", Some(&rtg)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("action-overdue/TT3"), "{}", page.body);
    // A viewer has nothing to do.
    let (viewer, _) = site.sign_in("viewer@uhdb.nhs.uk").await;
    let page = site.get("/my/tasks", Some(&viewer)).await;
    assert!(page.body.contains("Nothing needs you now"), "{}", page.body);
    // Signed out, there is no one to list tasks for.
    let page = site.get("/my/tasks", None).await;
    assert_ne!(page.status, StatusCode::OK);
    assert!(!page.body.contains("TT3"));
}

#[tokio::test]
async fn an_action_page_shows_the_status_its_dates_give() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let page = site.get("/actions/TT3", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-derived-status>Overdue<"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("overdue: due 31 March 2026, no update yet"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn each_person_chooses_how_often_they_hear() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let account = site.get("/account", Some(&cookie)).await;
    assert!(
        account.body.contains(
            "id=\"frequency-daily\" name=\"frequency\" type=\"radio\" value=\"daily\" checked"
        ),
        "{}",
        account.body
    );
    // Without the form's token, nothing changes.
    let refused = site
        .post(
            "/account/reminders",
            Some(&cookie),
            Some(&origin()),
            "csrf_token=wrong&frequency=off",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let user = site
        .store
        .person("icb@derbyshire.nhs.uk")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        site.store.reminder_frequency(user.id).await.unwrap(),
        Frequency::Daily
    );
    // A choice that is not one of the three is named.
    let bad = site
        .post(
            "/account/reminders",
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&frequency=hourly"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("daily, weekly or off"), "{}", bad.body);
    let saved = site
        .post(
            "/account/reminders",
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&frequency=weekly"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(
        site.store.reminder_frequency(user.id).await.unwrap(),
        Frequency::Weekly
    );
    let trail = site
        .store
        .audit_trail(Some(("person", "icb@derbyshire.nhs.uk")), 10)
        .await
        .unwrap();
    assert!(
        trail.iter().any(|e| e.action == "reminder-frequency"),
        "{trail:?}"
    );
}

#[tokio::test]
async fn system_admins_set_the_rules_and_others_may_not() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (rtg, rtg_csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    assert_eq!(
        site.get("/admin/reminders", Some(&rtg)).await.status,
        StatusCode::FORBIDDEN
    );
    let form = |csrf: &str, stale: &str| {
        format!(
            "csrf_token={csrf}&stale_after_days={stale}&return_warning_days=14&repeat_after_days=7&meetings=2027-03-11%2C+2026-12-10"
        )
    };
    // Refused before what was sent is looked at.
    let refused = site
        .post(
            "/admin/reminders",
            Some(&rtg),
            Some(&origin()),
            &form(&rtg_csrf, "30"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (lead, csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let page = site.get("/admin/reminders", Some(&lead)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No digest has been sent yet"));
    let bad = site
        .post(
            "/admin/reminders",
            Some(&lead),
            Some(&origin()),
            &form(&csrf, "0"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("from 1 to 366, not 0"), "{}", bad.body);
    let ok = site
        .post(
            "/admin/reminders",
            Some(&lead),
            Some(&origin()),
            &form(&csrf, "30"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let settings = site.store.reminder_settings().await.unwrap();
    assert_eq!(settings.stale_after_days, 30);
    assert_eq!(settings.meetings.code(), "2026-12-10, 2027-03-11");
}
