//! The workforce, digital, primary care and adaptation registers through HTTP: the climate
//! risk heat-map, and a practices import whose Greener Practice Network count is rated on the
//! plan's metric page against the 10%-a-year target from its own 2025/26 baseline. SQLite or
//! PostgreSQL. (Add, edit, archive and permissions for these registers are tried in
//! `registers.rs`, which goes over every register.)

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use axum::http::StatusCode;
use common::*;
use greenplan_core::register::adaptation::RISKS;
use greenplan_ingest::register_file::built_in_registers;
use greenplan_web::WebConfig;

#[tokio::test]
async fn the_heat_map_shows_the_highest_score_per_site_and_hazard_in_words() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (_, risks) = built_in_registers()
        .unwrap()
        .into_iter()
        .find(|(r, _)| r.slug == RISKS.slug)
        .unwrap();
    site.store
        .import_register_records("test", &risks)
        .await
        .unwrap();

    let page = site.get("/registers/climate-risks/heat-map", None).await;
    assert_eq!(page.status, StatusCode::OK);
    // Royal Derby Hospital's heatwave risks score 4 × 4 and 4 × 3: the cell shows the 16.
    assert!(
        page.body.contains(
            "risk-band--extreme\"><strong>16 Extreme</strong><br><span class=\"risk-cell__count\">highest of 2 risks</span>"
        ),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<th scope=\"row\" class=\"nhsuk-table__header\">Kingsway Hospital</th>")
    );
    assert!(
        page.body.contains("No risk recorded"),
        "empty cells are announced"
    );
    assert!(page.body.contains("<li>Extreme: 1</li>"));
    assert!(page.body.contains("<li>High: 8</li>"));
    // The storm risk to Chesterfield Royal's access road was due for review on 31 October 2025.
    assert!(
        page.body
            .contains("Fallen trees block the main access road")
    );
    assert!(page.body.contains("31 October 2025"));
    assert!(!page.body.contains("style="), "no inline styles (CSP)");

    let rxm = site
        .get("/registers/climate-risks/heat-map?organisation=RXM", None)
        .await;
    assert!(rxm.body.contains("Kingsway Hospital"));
    assert!(!rxm.body.contains("Royal Derby Hospital"));
    let list = site.get("/registers/climate-risks", None).await;
    assert!(
        list.body
            .contains("href=\"/registers/climate-risks/heat-map\"")
    );
    assert_eq!(
        site.get("/registers/fleet-vehicles/heat-map", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn imported_practices_rate_the_greener_practice_network_target() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (icb, csrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let mut file = String::from(
        "organisation,practice,name,place,list_size,surgeries,gpn_joined,gpn_left,gifh_joined,gifh_left,travel_plan\n",
    );
    // Ten members on 31 March 2026 (the baseline); an eleventh joins in September 2026; one
    // that joined and left within 2025/26 does not count.
    for i in 0..10 {
        file.push_str(&format!(
            "QJ2,C8110{i},Practice {i},Erewash,8000,1,01/05/2025,,,,\n"
        ));
    }
    file.push_str("QJ2,C81110,Practice 10,Erewash,8000,1,2026-09-01,,,,\n");
    file.push_str("QJ2,C81111,Practice 11,Erewash,8000,1,2025-06-01,2026-01-31,,,\n");
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf)],
        Some(("file", "practices.csv", file.as_bytes())),
    );
    let reply = site
        .post_multipart("/registers/gp-practices/import", &icb, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("12 records imported from practices.csv")
    );

    // 2026/27 asks for 10 × 1.1 = 11 and has 11: on track.
    let metric = site
        .get("/metrics/greener-practice-network-practices", None)
        .await;
    assert!(metric.body.contains("On track"), "{}", metric.body);
    assert!(!metric.body.contains("needs a baseline value"));
}
