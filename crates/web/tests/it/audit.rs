//! The audit trail page and its CSV through HTTP: keyset pages newest first, each filter
//! (record, person, organisation, kind of change, dates), and the CSV streamed in batches
//! with every matching entry, in order, none twice.

#![allow(clippy::unwrap_used)]

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{HOST, Site, site};
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::travel::Respondents;
use greenplan_store::NewTravelSurvey;
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;
use http_body_util::BodyExt;
use tower::ServiceExt;

const ADMIN: &str = "lead@derbyshire.nhs.uk";

/// `n` audited changes by `actor` for `organisation` (each makes a survey).
async fn changes(site: &Site, actor: &str, organisation: &str, n: usize) {
    for i in 0..n {
        let new = NewTravelSurvey {
            organisation: OdsCode::parse(organisation).unwrap(),
            title: format!("Survey {i}, \"{actor}\""),
            respondents: Respondents::Staff,
            sites: vec![],
            financial_year: FinancialYear(2025),
            weeks_per_year: Decimal::from(46),
            headcount: None,
        };
        site.store.create_travel_survey(actor, &new).await.unwrap();
    }
}

fn rows(body: &str) -> usize {
    body.matches("<tr class=\"nhsuk-table__row\"><td").count()
}

fn link(body: &str, id: &str) -> Option<String> {
    let after = body.split(&format!("id=\"{id}\"")).next()?;
    let href = after.rsplit("href=\"").next()?;
    Some(
        href.split('"')
            .next()?
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

#[tokio::test]
async fn the_audit_page_pages_newest_first_and_filters() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    changes(&site, "a@uhdb.nhs.uk", "RTG", 120).await;
    changes(&site, "b@crh.nhs.uk", "RFS", 130).await;
    let total = site.store.audit_trail(None, 10_000).await.unwrap().len();
    assert!(total >= 250);
    let (admin, _) = site.sign_in(ADMIN).await;

    // Every entry once, a page at a time, newest first.
    let first = site.get("/audit", Some(&admin)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(rows(&first.body), 100);
    assert!(first.body.find("Survey 129").unwrap() < first.body.find("Survey 128").unwrap());
    assert!(!first.body.contains("id=\"audit-newest\""));
    let (mut seen, mut page, mut pages) = (rows(&first.body), first, 1);
    while let Some(next) =
        link(&page.body, "audit-older").filter(|_| page.body.contains("id=\"audit-older\""))
    {
        page = site.get(&next, Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{next}");
        assert!(page.body.contains("id=\"audit-newest\""));
        seen += rows(&page.body);
        pages += 1;
        assert!(pages < 10);
    }
    assert_eq!(seen, total);
    assert_eq!(pages, total.div_ceil(100));

    // By person, over two pages, the filter kept in the next page's address.
    let mine = site.get("/audit?actor=a%40uhdb.nhs.uk", Some(&admin)).await;
    assert_eq!(rows(&mine.body), 100);
    assert!(!mine.body.contains("b@crh.nhs.uk</td>"));
    let next = link(&mine.body, "audit-older").unwrap();
    assert!(next.contains("actor=a%40uhdb.nhs.uk"), "{next}");
    assert_eq!(rows(&site.get(&next, Some(&admin)).await.body), 20);
    // By organisation and kind of change; by kind of record; by record.
    let rfs = site
        .get(
            "/audit?organisation=rfs&action=create+travel+survey",
            Some(&admin),
        )
        .await;
    assert_eq!(rows(&rfs.body), 100);
    assert!(!rfs.body.contains("a@uhdb.nhs.uk</td>"));
    let users = site.get("/audit?kind=user", Some(&admin)).await;
    assert!(
        rows(&users.body) >= 6 && !users.body.contains("Survey 1"),
        "{}",
        users.body
    );
    let one = site
        .get("/audit?kind=travel-survey&id=1", Some(&admin))
        .await;
    assert_eq!(rows(&one.body), 1);
    // By dates (UTC days, both included).
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let yesterday = today.pred_opt().unwrap();
    let later = site
        .get(&format!("/audit?from={tomorrow}"), Some(&admin))
        .await;
    assert_eq!(rows(&later.body), 0);
    assert!(later.body.contains("No changes match these filters"));
    assert_eq!(
        rows(
            &site
                .get(&format!("/audit?to={yesterday}"), Some(&admin))
                .await
                .body
        ),
        0
    );
    assert_eq!(
        rows(
            &site
                .get(
                    &format!("/audit?from={yesterday}&to={tomorrow}&actor=b%40crh.nhs.uk"),
                    Some(&admin)
                )
                .await
                .body
        ),
        100
    );
    let bad = site.get("/audit?from=3%2F12%2F2025", Some(&admin)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("From: `3/12/2025` is not a date"),
        "{}",
        bad.body
    );
    assert_eq!(
        site.get("/audit?before=x", Some(&admin)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn the_audit_csv_streams_every_matching_entry_in_order() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    changes(&site, "a@uhdb.nhs.uk", "RTG", 1_100).await;
    changes(&site, "b@crh.nhs.uk", "RFS", 150).await;
    let (admin, _) = site.sign_in(ADMIN).await;
    let trail = site.store.audit_trail(None, 100_000).await.unwrap();

    let get = |path: &str| {
        Request::get(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .unwrap()
    };
    let response = site.app.clone().oneshot(get("/audit.csv")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A stream, not one buffer: its size is not known before it is sent.
    assert_eq!(
        axum::body::HttpBody::size_hint(response.body()).exact(),
        None
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut reader = csv::Reader::from_reader(bytes.as_ref());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "at_utc",
            "actor",
            "action",
            "entity_kind",
            "entity_id",
            "organisation",
            "before",
            "after"
        ]
    );
    let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(lines.len(), trail.len());
    for (line, entry) in lines.iter().zip(&trail) {
        assert_eq!(
            (&line[1], &line[2], &line[4], line[7].to_string()),
            (
                entry.actor.as_str(),
                entry.action.as_str(),
                entry.entity_id.as_str(),
                entry.after.clone().unwrap_or_default()
            ),
        );
    }

    // The page's filters apply to the CSV too.
    let response = site
        .app
        .clone()
        .oneshot(get("/audit.csv?actor=b%40crh.nhs.uk"))
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut reader = csv::Reader::from_reader(bytes.as_ref());
    let actors: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[1].to_string())
        .collect();
    assert_eq!(actors.len(), 150);
    assert!(actors.iter().all(|a| a == "b@crh.nhs.uk"));
}
