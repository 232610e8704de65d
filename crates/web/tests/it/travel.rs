//! Travel surveys and green digital benefits through HTTP: the public survey (open link and
//! invitations, one response per token, closed surveys refusing, cross-site posts refused),
//! organiser permissions (one trust cannot manage another's survey or scheme), the CSV import
//! naming bad rows, and the analysis and portfolio pages with hand-computed figures.

#![allow(clippy::unwrap_used)]

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{HOST, Site, official_2023_factors, site, site_db};
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;

const RTG: &str = "rtg@uhdb.nhs.uk";
const RFS: &str = "rfs@crh.nhs.uk";

fn origin() -> String {
    format!("http://{HOST}")
}

/// Creates a staff survey of RTG as its contributor and returns its id.
async fn create_survey(site: &Site, cookie: &str, csrf: &str, extra: &str) -> i64 {
    let reply = site
        .post(
            "/tools/travel-surveys",
            Some(cookie),
            Some(&origin()),
            &format!(
                "csrf_token={csrf}&organisation=RTG&title=Staff+travel+2025&respondents=staff&sites=Royal+Derby+Hospital%0D%0ALondon+Road&financial_year=2025%2F26{extra}"
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let to = reply.headers[header::LOCATION].to_str().unwrap();
    to.rsplit('/').next().unwrap().parse().unwrap()
}

async fn open(site: &Site, cookie: &str, csrf: &str, id: i64, open: bool) -> StatusCode {
    let what = if open { "open" } else { "close" };
    site.post(
        &format!("/tools/travel-surveys/{id}/{what}"),
        Some(cookie),
        Some(&origin()),
        &format!("csrf_token={csrf}"),
    )
    .await
    .status
}

/// The open link shown to organisers on the survey page.
async fn open_link(site: &Site, cookie: &str, id: i64) -> String {
    let page = site
        .get(&format!("/tools/travel-surveys/{id}"), Some(cookie))
        .await;
    page.body
        .split("id=\"open-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

/// A respondent's token from the open link (no cookie: anyone).
async fn start(site: &Site, link: &str) -> String {
    let reply = site.post(link, None, Some(&origin()), "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

const ANSWERS: &str = "site=Royal+Derby+Hospital&distance=10&distance_unit=km&postcode=DE22+3NE&monday=car&tuesday=car&wednesday=bus&thursday=none&friday=walk&saturday=none&sunday=none&active_barriers=weather&active_barriers=too-far&interests=cycle-to-work";

#[tokio::test]
async fn a_respondent_answers_once_without_signing_in() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    let id = create_survey(&site, &cookie, &csrf, "").await;

    // A draft has no open link; once open it has one.
    let page = site
        .get(&format!("/tools/travel-surveys/{id}"), Some(&cookie))
        .await;
    assert!(page.body.contains("The survey is a draft"), "{}", page.body);
    assert_eq!(
        open(&site, &cookie, &csrf, id, true).await,
        StatusCode::SEE_OTHER
    );
    let link = open_link(&site, &cookie, id).await;

    // The landing page says what is (not) kept.
    let landing = site.get(&link, None).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(
        landing
            .body
            .contains("does not ask for your name, your e-mail address or your full postcode")
    );

    let respond = start(&site, &link).await;
    let form = site.get(&respond, None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Royal Derby Hospital") && form.body.contains("Monday"));
    assert!(
        !form.body.contains("csrf_token"),
        "no session, no session token"
    );

    // A post from another site is refused.
    let forged = site
        .post(&respond, None, Some("https://evil.example"), ANSWERS)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A bad answer shows the form again with the problem and what was typed.
    let bad = site
        .post(
            &respond,
            None,
            Some(&origin()),
            &ANSWERS.replace("DE22+3NE", "Derby"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("is not a UK postcode district"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"10\""));
    assert!(
        bad.body.contains("id=\"postcode-error\""),
        "the problem is shown by its field"
    );

    let ok = site.post(&respond, None, Some(&origin()), ANSWERS).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(
        ok.body.contains("only its first part, DE22, has been kept"),
        "{}",
        ok.body
    );

    // The same token again: refused clearly, nothing more stored.
    let again = site.post(&respond, None, Some(&origin()), ANSWERS).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already been sent with this link"));
    assert_eq!(site.get(&respond, None).await.status, StatusCode::CONFLICT);
    let stored = site.store.travel_responses(id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]
            .answers
            .postcode_district
            .as_ref()
            .unwrap()
            .as_str(),
        "DE22"
    );
    assert!(!format!("{:?}", stored[0].answers).contains("3NE"));

    // Closed: the link, a fresh token and an unused token are all refused.
    let unused = start(&site, &link).await;
    assert_eq!(
        open(&site, &cookie, &csrf, id, false).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(site.get(&link, None).await.status, StatusCode::GONE);
    assert_eq!(
        site.post(&link, None, Some(&origin()), "").await.status,
        StatusCode::GONE
    );
    let closed = site.post(&unused, None, Some(&origin()), ANSWERS).await;
    assert_eq!(closed.status, StatusCode::GONE);
    assert!(closed.body.contains("This survey is closed"));
    assert_eq!(
        site.get("/tools/travel-surveys/respond/0123", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invitations_are_single_use_links_in_a_csv() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    let id = create_survey(&site, &cookie, &csrf, "").await;
    let reply = site
        .post(
            &format!("/tools/travel-surveys/{id}/invitations"),
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&count=3"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let links: Vec<&str> = reply
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(links.len(), 3);
    assert!(
        links
            .iter()
            .all(|l| l.starts_with(&format!("http://{HOST}/tools/travel-surveys/respond/")))
    );
    let path = links[0].trim_start_matches(&format!("http://{HOST}"));
    // Not open yet.
    assert_eq!(site.get(path, None).await.status, StatusCode::CONFLICT);
    open(&site, &cookie, &csrf, id, true).await;
    assert_eq!(
        site.post(path, None, Some(&origin()), ANSWERS).await.status,
        StatusCode::OK
    );
    assert_eq!(
        site.post(path, None, Some(&origin()), ANSWERS).await.status,
        StatusCode::CONFLICT
    );
    let bad_count = site
        .post(
            &format!("/tools/travel-surveys/{id}/invitations"),
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&count=lots"),
        )
        .await;
    assert_eq!(bad_count.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn one_trust_cannot_manage_anothers_survey() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (rtg, rtg_csrf) = site.sign_in(RTG).await;
    let id = create_survey(&site, &rtg, &rtg_csrf, "").await;
    let (rfs, rfs_csrf) = site.sign_in(RFS).await;

    // No controls on the page, and the server refuses each write.
    let page = site
        .get(&format!("/tools/travel-surveys/{id}"), Some(&rfs))
        .await;
    assert!(!page.body.contains("Open the survey"));
    assert_eq!(
        open(&site, &rfs, &rfs_csrf, id, true).await,
        StatusCode::FORBIDDEN
    );
    let invite = site
        .post(
            &format!("/tools/travel-surveys/{id}/invitations"),
            Some(&rfs),
            Some(&origin()),
            &format!("csrf_token={rfs_csrf}&count=2"),
        )
        .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN);
    let (content_type, body) = multipart(&rfs_csrf, "x.csv", "monday\ncar\n");
    let import = site.send(upload(id, &rfs, content_type, body)).await;
    assert_eq!(import.status, StatusCode::FORBIDDEN);
    // Nor create one for RTG; a viewer of RTG cannot either; signed out: sign in first.
    let create = site
        .post(
            "/tools/travel-surveys",
            Some(&rfs),
            Some(&origin()),
            &format!("csrf_token={rfs_csrf}&organisation=RTG&title=X&respondents=staff&financial_year=2025%2F26"),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let (viewer, viewer_csrf) = site.sign_in("viewer@uhdb.nhs.uk").await;
    assert_eq!(
        open(&site, &viewer, &viewer_csrf, id, true).await,
        StatusCode::FORBIDDEN
    );
    let anonymous = site
        .post(
            &format!("/tools/travel-surveys/{id}/open"),
            None,
            Some(&origin()),
            "csrf_token=x",
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Without the CSRF token, even the organiser is refused.
    assert_eq!(
        open(&site, &rtg, "wrong", id, true).await,
        StatusCode::FORBIDDEN
    );
    // The lead (system admin) may manage any organisation's survey.
    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    assert_eq!(
        open(&site, &lead, &lead_csrf, id, true).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        site.store.travel_survey(id).await.unwrap().unwrap().status,
        greenplan_store::SurveyStatus::Open
    );
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

fn upload(id: i64, cookie: &str, content_type: String, body: String) -> Request<Body> {
    Request::post(format!("/tools/travel-surveys/{id}/import"))
        .header(header::HOST, HOST)
        .header(header::ORIGIN, origin())
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

const EXPORT_HEADER: &str = "ID,Name,Email,site,distance_miles,postcode_district,monday,tuesday,wednesday,thursday,friday,saturday,sunday,active_travel_barriers,public_transport_barriers,interests\n";

#[tokio::test]
async fn an_export_with_bad_rows_is_refused_by_name_then_imported_and_analysed() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    let id = create_survey(&site, &cookie, &csrf, "&headcount=100").await;

    let bad = format!(
        "{EXPORT_HEADER}1,,,Royal Derby Hospital,5,DE22,car,car,car,car,car,,,,,\n\
         2,,,Chesterfield,five,DE1,bus,,,,,,,,,\n\
         3,,,London Road,2,DE1 1AA,hovercraft,,,,,,,,,\n"
    );
    let (ct, body) = multipart(&csrf, "forms.csv", &bad);
    let reply = site.send(upload(id, &cookie, ct, body)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .body
            .contains("3 rows of forms.csv cannot be used, so nothing has been stored"),
        "{}",
        reply.body
    );
    for (row, column) in [("3", "distance_miles"), ("3", "site"), ("4", "monday")] {
        assert!(
            reply.body.contains(&format!("<td class=\"nhsuk-table__cell\">{row}</td><td class=\"nhsuk-table__cell\">{column}</td>")),
            "row {row} column {column}: {}",
            reply.body
        );
    }
    assert!(site.store.travel_responses(id).await.unwrap().is_empty());

    // Fixed: car 5 days; bus 3 and walk 2; cycle 4 — 14 days.
    let good = format!(
        "{EXPORT_HEADER}1,Ann,ann@nhs.net,Royal Derby Hospital,5,DE22,car,car,car,car,car,,,too-far,,\n\
         2,,,London Road,2,DE1 1AA,bus,bus,bus,walk,walk,,,weather,cost,bus-discount\n\
         3,,,London Road,1,,cycle,cycle,,cycle,cycle,,,weather,,\n"
    );
    let (ct, body) = multipart(&csrf, "forms.csv", &good);
    let reply = site.send(upload(id, &cookie, ct, body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body.contains(
            "3 responses imported from forms.csv. 1 full postcode was cut to the district"
        ),
        "{}",
        reply.body
    );
    let stored = format!("{:?}", site.store.travel_responses(id).await.unwrap());
    assert!(!stored.contains("Ann") && !stored.contains("ann@nhs.net") && !stored.contains("1AA"));

    let analysis = site
        .get(&format!("/tools/travel-surveys/{id}/analysis"), None)
        .await;
    assert_eq!(analysis.status, StatusCode::OK);
    let body = &analysis.body;
    assert!(body.contains("3 responses, 14 days on site"), "{body}");
    // 5/14 = 35.7%, 4/14 = 28.6%, 3/14 = 21.4%, 2/14 = 14.3%.
    for (mode, days, share) in [
        ("Car, on my own", 5, "35.7%"),
        ("Cycle", 4, "28.6%"),
        ("Bus or coach", 3, "21.4%"),
        ("Walk or wheel", 2, "14.3%"),
    ] {
        assert!(
            body.contains(&format!("<td class=\"nhsuk-table__cell\">{mode}</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{days}</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{share}</td>")),
            "{mode}: {body}"
        );
    }
    assert!(body.contains("<svg") && body.contains("Mode share"));
    // Barriers ranked: weather (2) before too far (1).
    let weather = body.find("The weather").unwrap();
    let far = body.find("It is too far").unwrap();
    assert!(weather < far);
    assert!(body.contains("scaled from the respondents who gave a distance to a headcount of 100"));
    assert!(body.contains("once it is closed"));

    let csv = site
        .get(&format!("/tools/travel-surveys/{id}/mode-share.csv"), None)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body
            .starts_with("organisation,site,respondents,mode,days,share_percent\n")
    );
    assert!(
        csv.body.contains("All,All sites,3,car,5,35.7\n"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("University Hospitals of Derby and Burton NHS Foundation Trust,London Road,2,cycle,4,44.4\n"), "{}", csv.body);

    let org = site
        .get("/tools/travel-surveys/organisations/RTG/analysis", None)
        .await;
    assert_eq!(org.status, StatusCode::OK);
    assert!(org.body.contains("3 responses, 14 days on site"));
}

#[tokio::test]
async fn survey_pages_are_public_even_where_reading_needs_a_login() {
    let db = site_db();
    let site = site(
        &db,
        WebConfig {
            require_login: true,
            ..WebConfig::default()
        },
    )
    .await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    let id = create_survey(&site, &cookie, &csrf, "").await;
    open(&site, &cookie, &csrf, id, true).await;
    let link = open_link(&site, &cookie, id).await;
    assert_eq!(site.get(&link, None).await.status, StatusCode::OK);
    let respond = start(&site, &link).await;
    assert_eq!(site.get(&respond, None).await.status, StatusCode::OK);
    // The organiser pages still need a login.
    assert_eq!(
        site.get(&format!("/tools/travel-surveys/{id}/analysis"), None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

const SCHEME: &str = "organisation=RTG&name=Patient+portal&description=Letters+online&start_date=2025-04-01\
&journey_mode_0=car&journey_count_0=2000&journey_km_0=20\
&letters=10000&sheets_each=2&bed_days=50&bed_day_factor=inpatient-bed-day-low\
&device_count_0=100&device_kg_0=150&device_life_0=4&device_source_0=Manufacturer+PCF\
&hosting_kwh=5000&data_gb=20000&data_kwh_per_gb=0.06&data_source=Aslan+2018";

#[tokio::test]
async fn digital_schemes_are_assessed_with_their_factors_and_kept_to_their_organisation() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    official_2023_factors(&site.store).await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    let reply = site
        .post(
            "/tools/digital-benefits",
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&{SCHEME}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let path = reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let page = site.get(&path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    // Car 40,000 km × 0.1666385879194631 = 6,665.543516778524 kg; paper 0.1 t × 910.478097809396
    // = 91.0478097809396; bed days 50 × 37.9 = 1,895: benefits 8,651.591326559464 kg = 8.652 t.
    // Devices 100 × 150 ÷ 4 = 3,750; hosting 5,000 kWh and data 20,000 × 0.06 = 1,200 kWh at
    // 0.20707428859060403 = 1,035.37144295302015 + 248.489146308724836: costs 5,033.860589261745 kg.
    assert!(body.contains("8.652 tCO2e a year"), "{body}");
    assert!(body.contains("5.034 tCO2e a year"), "{body}");
    // Net 3,617.730737297719 kg; payback 15,000 ÷ (8,651.591… − 1,283.860…) = 2.04 → 2 years.
    assert!(
        body.contains("<strong>3.618 tCO2e a year</strong>"),
        "{body}"
    );
    assert!(
        body.contains("2 years") || body.contains("2.0 years"),
        "{body}"
    );
    assert!(
        body.contains(
            "Business travel- land &#62; Cars (by size) &#62; Average car &#62; Unknown [km], uk-2023"
        ),
        "{body}"
    );
    assert!(body.contains("as entered: Manufacturer PCF"));
    assert!(body.contains("Inpatient bed day (low intensity)"));

    // Another trust cannot edit it, nor add one for RTG.
    let (rfs, rfs_csrf) = site.sign_in(RFS).await;
    assert_eq!(
        site.get(&format!("{path}/edit"), Some(&rfs)).await.status,
        StatusCode::FORBIDDEN
    );
    let edit = site
        .post(
            &path,
            Some(&rfs),
            Some(&origin()),
            &format!("csrf_token={rfs_csrf}&{SCHEME}"),
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    let add = site
        .post(
            "/tools/digital-benefits",
            Some(&rfs),
            Some(&origin()),
            &format!("csrf_token={rfs_csrf}&{SCHEME}"),
        )
        .await;
    assert_eq!(add.status, StatusCode::FORBIDDEN);

    // A bad form names each problem and stores nothing.
    let bad = site
        .post(
            "/tools/digital-benefits",
            Some(&cookie),
            Some(&origin()),
            &format!(
                "csrf_token={csrf}&{}",
                SCHEME
                    .replace("device_source_0=Manufacturer+PCF", "device_source_0=")
                    .replace("hosting_kwh=5000", "hosting_kwh=lots")
            ),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("Hosting energy (kWh a year): `lots` is not a number"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains("say where the figure comes from"),
        "{}",
        bad.body
    );

    // The owner edits it: a smaller scheme, now second in the portfolio.
    let small = "organisation=RTG&name=Video+clinics&start_date=2025-06-01&journey_mode_0=bus&journey_count_0=1000&journey_km_0=10";
    let reply = site
        .post(
            "/tools/digital-benefits",
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&{small}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let portfolio = site.get("/tools/digital-benefits", None).await;
    let b = &portfolio.body;
    assert!(
        b.find("Patient portal").unwrap() < b.find("Video clinics").unwrap(),
        "{b}"
    );
    // 10,000 passenger-km × 0.10215039463087248 = 1,021.5039463087248 kg; total net 3.618 + 1.022 = 4.639.
    assert!(b.contains("<strong>4.639</strong>"), "{b}");
    let edit = site
        .post(&path, Some(&cookie), Some(&origin()), &format!("csrf_token={csrf}&organisation=RTG&name=Patient+portal&start_date=2025-04-01&hosting_kwh=100&{}", site.revision_on(&format!("{path}/edit"), &cookie, &path).await))
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER, "{}", edit.body);
    let portfolio = site.get("/tools/digital-benefits", None).await;
    let b = &portfolio.body;
    assert!(
        b.find("Video clinics").unwrap() < b.find("Patient portal").unwrap(),
        "{b}"
    );
}

// ---------------------------------------------------------------- the open link under load

/// A request from the client at `ip` (its connection's peer address, as `serve` gives it).
fn from_client(ip: &str, path: &str, form: &str, extra: Option<(&str, &str)>) -> Request<Body> {
    let mut r = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, origin())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((name, value)) = extra {
        r = r.header(name, value);
    }
    let mut r = r.body(Body::from(form.to_string())).unwrap();
    let peer: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
    r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    r
}

fn limits(per_client: u32, per_survey: u32, header: Option<&str>) -> WebConfig {
    WebConfig {
        survey_limits: greenplan_web::SurveyLimits {
            per_client_per_minute: per_client,
            per_survey_per_hour: per_survey,
            client_address_header: header.map(str::to_string),
        },
        ..WebConfig::default()
    }
}

/// An open survey of RTG (sites as `create_survey`, or none) and its open link.
async fn open_survey(site: &Site, extra: &str) -> (i64, String, String, String) {
    let (cookie, csrf) = site.sign_in(RTG).await;
    let id = create_survey(site, &cookie, &csrf, extra).await;
    assert_eq!(
        open(site, &cookie, &csrf, id, true).await,
        StatusCode::SEE_OTHER
    );
    let link = open_link(site, &cookie, id).await;
    (id, link, cookie, csrf)
}

#[tokio::test]
async fn a_burst_from_one_client_is_refused_beyond_the_limit() {
    let db = TestDatabase::new();
    let site = site(&db, limits(3, 1_000, None)).await;
    let (id, link, _, _) = open_survey(&site, "").await;

    // Three starts a minute from one address; the fourth is refused with when to come back.
    for _ in 0..3 {
        let r = site.send(from_client("203.0.113.7", &link, "", None)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let refused = site.send(from_client("203.0.113.7", &link, "", None)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.body.contains("try again later"), "{}", refused.body);
    let wait: i64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    // A forwarded-for header is not believed unless the deployment says so.
    let spoofed = site
        .send(from_client(
            "203.0.113.7",
            &link,
            "",
            Some(("x-forwarded-for", "198.51.100.1")),
        ))
        .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is its own client.
    let other = site.send(from_client("203.0.113.8", &link, "", None)).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);

    // Answers from one address are limited too, however many tokens it holds.
    let mut tokens = Vec::new();
    for i in 0..5 {
        let r = site
            .send(from_client(
                &format!("198.51.100.{}", 10 + i),
                &link,
                "",
                None,
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        tokens.push(r.headers[header::LOCATION].to_str().unwrap().to_string());
    }
    let mut statuses = Vec::new();
    for t in &tokens {
        statuses.push(
            site.send(from_client("192.0.2.50", t, ANSWERS, None))
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(
        site.store.stored_travel_responses(id).await.unwrap().len(),
        3
    );
    // A refused answer's token can still answer later (nothing was used up).
    let later = site
        .send(from_client("192.0.2.51", &tokens[3], ANSWERS, None))
        .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

#[tokio::test]
async fn the_open_link_is_limited_per_survey_and_behind_a_named_proxy_by_its_header() {
    let db = TestDatabase::new();
    // Behind a proxy: every connection comes from the proxy; its header names the client.
    let site = site(&db, limits(2, 4, Some("X-Forwarded-For"))).await;
    let (_, link, _, _) = open_survey(&site, "").await;
    let via = |client: &str| {
        from_client(
            "10.0.0.1",
            &link,
            "",
            Some(("x-forwarded-for", &format!("6.6.6.6, {client}"))),
        )
    };
    // The last entry (the one the proxy added) is the client: two each.
    assert_eq!(
        site.send(via("192.0.2.1")).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        site.send(via("192.0.2.1")).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        site.send(via("192.0.2.1")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        site.send(via("192.0.2.2")).await.status,
        StatusCode::SEE_OTHER
    );
    // Four an hour for the whole survey: the fifth start, from a fresh client, is refused.
    assert_eq!(
        site.send(via("192.0.2.3")).await.status,
        StatusCode::SEE_OTHER
    );
    let over = site.send(via("192.0.2.4")).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(over.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn a_huge_site_name_is_refused_and_nothing_is_stored() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in(RTG).await;
    // A survey that lists no sites (the form does not ask which).
    let reply = site
        .post(
            "/tools/travel-surveys",
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&organisation=RTG&title=No+sites&respondents=staff&sites=&financial_year=2025%2F26"),
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
    assert_eq!(
        open(&site, &cookie, &csrf, id, true).await,
        StatusCode::SEE_OTHER
    );
    let link = open_link(&site, &cookie, id).await;
    let answers = "distance=10&distance_unit=km&monday=car";

    // 1.9 MB of site name: refused unread, with what to do.
    let respond = start(&site, &link).await;
    let huge = format!("site={}&{answers}", "A".repeat(1_900_000));
    let reply = site.post(&respond, None, Some(&origin()), &huge).await;
    // The input rule every form shares refuses it first (422, naming the field); the
    // survey's own 16 KB body cap (413) stands behind it.
    assert!(
        [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::PAYLOAD_TOO_LARGE
        ]
        .contains(&reply.status),
        "{}",
        reply.status
    );
    assert!(
        reply.body.contains("site"),
        "{}",
        &reply.body[..reply.body.len().min(2000)]
    );
    assert!(reply.body.len() < 50_000);
    // A site sent to a survey that does not ask for one is refused, however short.
    let reply = site
        .post(
            &respond,
            None,
            Some(&origin()),
            &format!("site=Somewhere&{answers}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("does not ask which site"),
        "{}",
        reply.body
    );
    assert!(
        site.store
            .stored_travel_responses(id)
            .await
            .unwrap()
            .is_empty()
    );

    // Where the survey lists sites, an answer off the list is refused, echoed only in part.
    let (listed, link, _, _) = open_survey(&site, "").await;
    let respond = start(&site, &link).await;
    let long = format!("site={}&{answers}", "B".repeat(400));
    let reply = site.post(&respond, None, Some(&origin()), &long).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("is not one of this survey"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains(&"B".repeat(100)));
    // A 10,000-mile commute is refused with the bound.
    let far = ANSWERS.replace(
        "distance=10&distance_unit=km",
        "distance=10000&distance_unit=miles",
    );
    let reply = site.post(&respond, None, Some(&origin()), &far).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("at most 500"), "{}", reply.body);
    assert!(
        site.store
            .stored_travel_responses(listed)
            .await
            .unwrap()
            .is_empty()
    );

    // The organiser's list of sites is bounded too, and so is an imported site.
    let reply = site
        .post(
            "/tools/travel-surveys",
            Some(&cookie),
            Some(&origin()),
            &format!(
                "csrf_token={csrf}&organisation=RTG&title=Long&respondents=staff&sites={}&financial_year=2025%2F26",
                "C".repeat(201)
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("at most 200 characters"),
        "{}",
        reply.body
    );
    let export = format!(
        "{EXPORT_HEADER}1,,,{},5,DE22,car,,,,,,,,,\n",
        "D".repeat(5_000)
    );
    let (ct, body) = multipart(&csrf, "forms.csv", &export);
    let reply = site.send(upload(id, &cookie, ct, body)).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("at most 200 characters"),
        "{}",
        reply.body
    );
    assert!(
        site.store
            .stored_travel_responses(id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn anonymous_answers_do_not_flood_the_audit_trail() {
    let db = TestDatabase::new();
    let site = site(&db, limits(1_000, 1_000, None)).await;
    let (id, link, _, _) = open_survey(&site, "").await;
    let before = site.store.audit_trail(None, 10_000).await.unwrap().len();
    for _ in 0..40 {
        let respond = start(&site, &link).await;
        let ok = site.post(&respond, None, Some(&origin()), ANSWERS).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let trail = site.store.audit_trail(None, 10_000).await.unwrap();
    let added: Vec<&str> = trail[..trail.len() - before]
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    // One summary per survey per hour (two if the test straddles an hour), no row each.
    assert!(
        !added.is_empty()
            && added.len() <= 2
            && added.iter().all(|a| *a == "respond to travel survey"),
        "{added:?}"
    );
    assert!(
        trail[0]
            .after
            .as_deref()
            .unwrap_or("")
            .contains("responses_stored")
    );
    assert_eq!(
        site.store.stored_travel_responses(id).await.unwrap().len(),
        40
    );
    // The organiser's change is still on the audit page's first page.
    let (admin, _) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let page = site.get("/audit", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("open travel survey"), "{}", page.body);
}

#[tokio::test]
async fn excluding_a_burst_leaves_it_out_of_the_figures_and_footprint_but_keeps_it() {
    let db = TestDatabase::new();
    let site = site(&db, limits(1_000, 1_000, None)).await;
    let (id, link, cookie, csrf) = open_survey(&site, "&headcount=100").await;
    // Two real answers imported (5 miles, car 5 days; 2 miles, bus 3 days) …
    let good = format!(
        "{EXPORT_HEADER}1,,,Royal Derby Hospital,5,DE22,car,car,car,car,car,,,,,\n\
         2,,,London Road,2,DE1,bus,bus,bus,,,,,,,\n"
    );
    let (ct, body) = multipart(&csrf, "forms.csv", &good);
    assert_eq!(
        site.send(upload(id, &cookie, ct, body)).await.status,
        StatusCode::OK
    );
    // … and a burst of six 500-mile taxi commutes on the form.
    let burst = "site=London+Road&distance=500&distance_unit=miles&monday=taxi&tuesday=taxi&wednesday=taxi&thursday=taxi&friday=taxi&saturday=taxi&sunday=taxi";
    for _ in 0..6 {
        let respond = start(&site, &link).await;
        assert_eq!(
            site.post(&respond, None, Some(&origin()), burst)
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_eq!(
        open(&site, &cookie, &csrf, id, false).await,
        StatusCode::SEE_OTHER
    );
    let footprint_km = |acts: Vec<greenplan_core::activity::Activity>| -> (usize, String) {
        let total: greenplan_core::Decimal = acts.iter().map(|a| a.quantity).sum();
        (acts.len(), total.normalize().to_string())
    };
    let with_burst = footprint_km(site.store.travel_footprint_activities(None).await.unwrap());
    assert_eq!(with_burst.0, 8, "two imported rows and six taxi rows");

    let analysis = format!("/tools/travel-surveys/{id}/analysis");
    let page = site.get(&analysis, Some(&cookie)).await;
    assert!(
        page.body.contains("id=\"answers-per-hour\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("8 responses, 50 days on site"),
        "{}",
        page.body
    );
    let per_hour = |hours: Vec<greenplan_store::AnswersInHour>| {
        hours.iter().fold((0, 0, 0), |(f, i, x), h| {
            (f + h.on_form, i + h.imported, x + h.excluded)
        })
    };
    assert_eq!(
        per_hour(site.store.travel_answers_per_hour(id).await.unwrap()),
        (6, 2, 0)
    );

    // The hour of the burst, as the page's table writes it (UTC).
    let now = chrono::Utc::now().timestamp();
    let hour = now - now.rem_euclid(3600);
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%d+%H%%3A%M")
            .to_string()
    };
    let form = |csrf: &str| {
        format!(
            "csrf_token={csrf}&from={}&until={}&reason=A+burst+from+one+source",
            at(hour - 3600),
            at(hour + 7200)
        )
    };
    let exclusions = format!("/tools/travel-surveys/{id}/exclusions");
    // Another trust's contributor, a viewer, a cross-site post and no token are refused.
    let (rfs, rfs_csrf) = site.sign_in(RFS).await;
    assert_eq!(
        site.post(&exclusions, Some(&rfs), Some(&origin()), &form(&rfs_csrf))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let (viewer, viewer_csrf) = site.sign_in("viewer@uhdb.nhs.uk").await;
    assert_eq!(
        site.post(
            &exclusions,
            Some(&viewer),
            Some(&origin()),
            &form(&viewer_csrf)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.post(
            &exclusions,
            Some(&cookie),
            Some("https://evil.example"),
            &form(&csrf)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.post(&exclusions, Some(&cookie), Some(&origin()), &form("wrong"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.post(&exclusions, None, Some(&origin()), &form(""))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(site.store.travel_responses(id).await.unwrap().len(), 8);
    // A bad time is named.
    let bad = site
        .post(
            &exclusions,
            Some(&cookie),
            Some(&origin()),
            &format!("csrf_token={csrf}&from=yesterday&until=2025-06-01+10%3A00&reason=x"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("From: `yesterday` is not a time"),
        "{}",
        bad.body
    );

    let done = site
        .post(&exclusions, Some(&cookie), Some(&origin()), &form(&csrf))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // Left out of the figures and the footprint; kept in the database.
    assert_eq!(site.store.travel_responses(id).await.unwrap().len(), 2);
    assert_eq!(
        site.store.stored_travel_responses(id).await.unwrap().len(),
        8
    );
    let without = footprint_km(site.store.travel_footprint_activities(None).await.unwrap());
    // 5 miles × 2 × 5 days × 46 weeks = 3,701.4912 km; 2 miles × 2 × 3 × 46 = 888.357888
    // passenger-km; both × 50 (a headcount of 100 from the two respondents left).
    assert_eq!(
        without,
        (2, "229492.4544".to_string()),
        "with the burst: {with_burst:?}"
    );
    let page = site.get(&analysis, Some(&cookie)).await;
    assert!(
        page.body.contains("2 responses, 8 days on site"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("6 answers are left out"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("A burst from one source"),
        "{}",
        page.body
    );
    let trail = site
        .store
        .audit_trail(Some(("travel-survey", &id.to_string())), 5)
        .await
        .unwrap();
    assert_eq!(trail[0].action, "exclude travel survey answers");
    assert!(trail[0].after.as_deref().unwrap().contains("\"answers\":6"));
    let survey = site.store.travel_survey(id).await.unwrap().unwrap();
    assert_eq!((survey.responses, survey.excluded), (8, 6));
    assert_eq!(
        per_hour(site.store.travel_answers_per_hour(id).await.unwrap()),
        (6, 2, 6)
    );
}
