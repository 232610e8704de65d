//! Register pages: add, edit, archive, import and export, with every permission rule tried
//! from the wrong side, for each register (table-driven). SQLite or PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use axum::http::StatusCode;
use common::*;
use greenplan_core::register::{self, Register};
use greenplan_web::WebConfig;

/// A valid record of each register, as form fields (the organisation is added per test).
fn sample(register: &Register) -> &'static [(&'static str, &'static str)] {
    match register.slug {
        "estates-sites" => &[
            ("site", "Royal Derby Hospital"),
            ("site_type", "acute-hospital"),
            ("as_at", "2024/25"),
            ("floor_area", "100000"),
            ("primary_heating", "gas"),
            ("hdp_status", "in-place"),
            ("led_coverage", "45"),
            ("tenure", "pfi"),
        ],
        "estates-pipeline" => &[
            ("project", "Heat pumps"),
            ("measure", "heat-pump"),
            ("capital_cost", "1000000"),
            ("annual_tco2e_saving", "120"),
            ("funding_route", "psds"),
            ("status", "funded"),
            ("target_date", "2026-09-30"),
        ],
        "waste-streams" => &[
            ("period_start", "2025-04-01"),
            ("period_end", "2025-06-30"),
            ("stream", "domestic"),
            ("route", "energy-from-waste"),
            ("tonnes", "12.5"),
        ],
        "fleet-vehicles" => &[
            ("identifier", "YX71 ABC"),
            ("vehicle_type", "van"),
            ("powertrain", "battery-electric"),
            ("gco2_km", "0"),
            ("ownership", "leased"),
            ("in_service", "2025-05-01"),
        ],
        "fleet-mileage" => &[
            ("vehicle", "YX71 ABC"),
            ("period_start", "2025-04-01"),
            ("period_end", "2025-06-30"),
            ("miles", "3200"),
        ],
        "fleet-lease-cars" => &[
            ("agreement", "L-1"),
            ("scheme", "salary-sacrifice"),
            ("start_date", "2025-05-01"),
            ("powertrain", "battery-electric"),
            ("gco2_km", "0"),
        ],
        "fleet-charge-points" => &[
            ("site", "Royal Derby Hospital"),
            ("as_at", "2025/26"),
            ("sockets", "12"),
            ("rapid_sockets", "2"),
            ("kwh_delivered", "8000"),
        ],
        "procurement-contracts" => &[
            ("contract", "Cleaning"),
            ("supplier", "Clean Ltd"),
            ("category", "business-services"),
            ("annual_value", "6000000"),
            ("start_date", "2025-06-01"),
            ("ppn_0620_applied", "yes"),
            ("ppn_0620_weighting", "10"),
            ("crp_received", "yes"),
            ("sustainability_kpis", "yes"),
            ("evergreen_level", "level-2"),
        ],
        "procurement-spend" => &[
            ("financial_year", "2025/26"),
            ("category", "ict"),
            ("spend", "250000"),
            ("factor_edition", "spend-2021-prices"),
        ],
        "training-sessions" => &[
            ("date", "2025-10-14"),
            ("kind", "lunch-and-learn"),
            ("title", "Greener NHS"),
            ("live_attendees", "42"),
            ("later_views", "118"),
        ],
        "greener-nhs-core-training" => &[
            ("as_at", "2025-12-31"),
            ("completed", "1236"),
            ("headcount", "2400"),
        ],
        "green-champions" => &[
            ("as_at", "2026-03-31"),
            ("network", "Environmental Champions"),
            ("champions", "112"),
        ],
        "digital-sign-up" => &[
            ("service", "patient-engagement-portal"),
            ("place", "Derby City"),
            ("as_at", "2025-09-30"),
            ("registered", "41200"),
            ("eligible", "160000"),
        ],
        "digital-devices" => &[
            ("period_start", "2025-04-01"),
            ("period_end", "2025-06-30"),
            ("repurposed", "120"),
            ("recycled", "60"),
            ("disposed", "20"),
        ],
        "gp-practices" => &[
            ("practice", "C81001"),
            ("name", "Ashbourne Road Surgery"),
            ("place", "Derby City"),
            ("list_size", "12400"),
            ("surgeries", "1"),
            ("gpn_joined", "2023-11-01"),
        ],
        "climate-risks" => &[
            ("site", "Royal Derby Hospital"),
            ("service", "Wards"),
            ("hazard", "heatwave"),
            ("description", "Wards overheat"),
            ("likelihood", "4"),
            ("impact", "4"),
            ("owner", "Director of Estates"),
            ("review_date", "2026-06-30"),
        ],
        "emergency-exercises" => &[
            ("date", "2025-11-20"),
            ("name", "Exercise Rising Water"),
            ("scenario", "flooding"),
            ("participants", "UHDB and EMAS"),
        ],
        "weather-admissions" => &[
            ("period_start", "2025-07-10"),
            ("period_end", "2025-07-16"),
            ("place", "Derby City"),
            ("hazard", "heatwave"),
            ("admissions", "46"),
        ],
        other => panic!("no sample for {other}: add one"),
    }
}

fn form(csrf: &str, org: &str, fields: &[(&str, &str)]) -> String {
    let mut s = format!("csrf_token={csrf}&organisation={org}");
    for (k, v) in fields {
        s.push_str(&format!("&{k}={}", v.replace(' ', "+").replace('/', "%2F")));
    }
    s
}

/// Every register: each is tried from the wrong side.
const REGISTERS: &[&Register] = register::ALL;

#[tokio::test]
async fn one_trust_cannot_change_anothers_records_in_any_register() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (rtg, rtg_csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let (rfs, rfs_csrf) = site.sign_in("rfs@crh.nhs.uk").await;
    let (viewer, viewer_csrf) = site.sign_in("viewer@uhdb.nhs.uk").await;
    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    for register in REGISTERS {
        let slug = register.slug;
        let fields = sample(register);
        let new = format!("/registers/{slug}/new");
        // RTG's contributor adds for RTG, not for RFS; a viewer adds nothing.
        let reply = site
            .submit(&new, &rtg, &form(&rtg_csrf, "RTG", fields))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{slug}: {}",
            reply.body
        );
        let reply = site
            .submit(&new, &rtg, &form(&rtg_csrf, "RFS", fields))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{slug}");
        let reply = site
            .submit(&new, &viewer, &form(&viewer_csrf, "RTG", fields))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{slug}");
        // Without the CSRF token nothing is accepted.
        let reply = site
            .submit(&new, &rtg, &form("forged", "RTG", fields))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{slug}");
        let records = site.store.register_records(register, false).await.unwrap();
        assert_eq!(records.len(), 1, "{slug}");
        let id = records[0].id;
        // RFS can neither open the edit form, edit, take over, nor archive RTG's record.
        let edit = format!("/registers/{slug}/{id}/edit");
        assert_eq!(
            site.get(&edit, Some(&rfs)).await.status,
            StatusCode::FORBIDDEN,
            "{slug}"
        );
        let reply = site
            .submit(&edit, &rfs, &form(&rfs_csrf, "RFS", fields))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{slug}");
        let archive = format!("/registers/{slug}/{id}/archive");
        let reply = site
            .submit(&archive, &rfs, &format!("csrf_token={rfs_csrf}"))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{slug}");
        // RTG cannot hand its record to RFS either.
        let reply = site
            .submit(&edit, &rtg, &form(&rtg_csrf, "RFS", fields))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{slug}");
        // The ICB's system admin may change any trust's record; the owner may archive it.
        let revision = site.revision_on(&edit, &lead, &edit).await;
        let reply = site
            .submit(
                &edit,
                &lead,
                &format!("{}&{revision}", form(&lead_csrf, "RTG", fields)),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{slug}: {}",
            reply.body
        );
        let revision = site.revision_on(&edit, &rtg, &archive).await;
        let reply = site
            .submit(&archive, &rtg, &format!("csrf_token={rtg_csrf}&{revision}"))
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{slug}");
        assert!(
            site.store
                .register_records(register, false)
                .await
                .unwrap()
                .is_empty(),
            "{slug}"
        );
        let trail = site
            .store
            .audit_trail(Some(("register-record", &id.to_string())), 5)
            .await
            .unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["archive", "edit", "add"], "{slug}");
    }
}

#[tokio::test]
async fn a_bad_form_comes_back_with_each_fields_problem() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (rtg, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let bad = format!(
        "csrf_token={csrf}&organisation=RTG&site=A&site_type=castle&as_at=2024&floor_area=big&primary_heating=gas&hdp_status=none&led_coverage=50&tenure=pfi"
    );
    let reply = site
        .submit("/registers/estates-sites/new", &rtg, &bad)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("`castle` is not one of the choices"),
        "{}",
        reply.body
    );
    assert!(
        reply
            .body
            .contains("`2024` is not a financial year: write it as 2025/26")
    );
    assert!(reply.body.contains("`big` is not a number"));
    assert!(
        reply.body.contains("href=\"#floor_area\""),
        "the summary links to the field"
    );
    assert!(site.store.registers_are_empty().await.unwrap());
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_the_figures_follow() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (rtg, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let path = "/registers/fleet-lease-cars/import";
    let header = "organisation,agreement,scheme,start_date,powertrain,gco2_km\n";
    let bad = format!(
        "{header}RTG,L1,lease,2025-04-02,battery-electric,0\nRFS,L2,lease,2025-04-03,petrol,120\nRTG,L3,lease,someday,petrol,120\n"
    );
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf)],
        Some(("file", "lease.csv", bad.as_bytes())),
    );
    let reply = site.post_multipart(path, &rtg, &ct, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .body
            .contains("2 problems found, so nothing has been stored"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("you cannot add records for RFS"));
    assert!(reply.body.contains("`someday` is not a date"));
    assert!(site.store.registers_are_empty().await.unwrap());

    let good = format!(
        "{header}RTG,L1,lease,2025-04-02,battery-electric,0\nRTG,L2,salary sacrifice,02/05/2025,plug-in hybrid,28\nRTG,L3,lease,2025-06-30,petrol,122\n"
    );
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf)],
        Some(("file", "lease.csv", good.as_bytes())),
    );
    let reply = site.post_multipart(path, &rtg, &ct, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("3 records imported from lease.csv"));
    // (0 + 28 + 122) / 3 = 50 g/km; 1 of 3 fully electric = 33.3%.
    let page = site
        .get("/registers/fleet-lease-cars?organisation=RTG", None)
        .await;
    assert!(page.body.contains("50 gCO2/km"), "{}", page.body);
    assert!(page.body.contains("33.3%"));
    let csv = site
        .get("/registers/fleet-lease-cars/export.csv", None)
        .await;
    assert!(
        csv.body.starts_with(
            "organisation,agreement,scheme,start_date,powertrain,gco2_km,used_vehicle\n"
        ),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("RTG,L2,salary-sacrifice,2025-05-02,plug-in-hybrid,28,")
    );
    let xlsx = site
        .get("/registers/fleet-lease-cars/template.xlsx", None)
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with("PK"));
}

#[tokio::test]
async fn the_index_lists_every_register_and_filters_work() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let index = site.get("/registers", None).await;
    for r in register::ALL {
        assert!(
            index
                .body
                .contains(&format!("href=\"/registers/{}\"", r.slug)),
            "{}",
            r.slug
        );
    }
    assert!(
        index.body.contains("href=\"/registers\""),
        "the header links to the index"
    );
    let (rtg, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    for (id, heating) in [("A", "gas"), ("B", "oil")] {
        let fields = [
            ("site", id),
            ("site_type", "office"),
            ("as_at", "2024/25"),
            ("floor_area", "1000"),
            ("primary_heating", heating),
            ("hdp_status", "none"),
            ("led_coverage", "10"),
            ("tenure", "leasehold"),
        ];
        let reply = site
            .submit(
                "/registers/estates-sites/new",
                &rtg,
                &form(&csrf, "RTG", &fields),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    let oil = site.get("/registers/estates-sites?choice=oil", None).await;
    assert!(oil.body.contains("Records shown: 1"), "{}", oil.body);
    assert!(oil.body.contains("Oil"));
    assert_eq!(
        site.get("/registers/no-such-register", None).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The waste register's page works out its carbon with the official factors: by year, with
/// tCO2e per tonne only when every row converted, and by route, naming the factor a route
/// without one needs; importing that factor completes the year.
#[tokio::test]
async fn waste_carbon_per_tonne_follows_the_official_factors() {
    use greenplan_core::category::{NhsCategory, Scope};
    use greenplan_core::factor::{Factor, GasParts};
    use rust_decimal::Decimal;
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    official_2023_factors(&site.store).await;
    let (rtg, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let csv = "organisation,period_start,period_end,stream,route,tonnes,transport_miles\n\
               RTG,2023-04-01,2024-03-31,domestic,energy-from-waste,100,1000\n\
               RTG,2023-04-01,2024-03-31,domestic,landfill,50,\n\
               RTG,2023-04-01,2024-03-31,clinical-infectious,high-temperature-incineration,10,\n";
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf)],
        Some(("file", "waste.csv", csv.as_bytes())),
    );
    let reply = site
        .post_multipart("/registers/waste-streams/import", &rtg, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let set = site.store.factor_set(None).await.unwrap();
    let kg = |activity: &str, unit: &str| -> Decimal {
        let i = set
            .resolve(activity, &unit.parse().unwrap(), "uk-2023")
            .unwrap();
        set.get(i).unwrap().kgco2e
    };
    let converted = dec("100") * kg("waste-combustion", "tonnes")
        + dec("50") * kg("waste-landfill", "tonnes")
        + dec("1000") * kg(register::waste::TRANSPORT_FACTOR, "miles");
    let page = site.get("/registers/waste-streams", None).await;
    let tco2e = greenplan_core::quantity::with_thousands(converted / dec("1000"), 1);
    assert!(
        page.body.contains(&format!(
            "<td class=\"nhsuk-table__cell\">2023/24</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{tco2e}</td>"
        )),
        "{}",
        page.body
    );
    // The incinerated 10 t have no official factor: no figure per tonne for the year, and
    // the factor to import is named.
    assert!(page.body.contains("incomplete"));
    assert!(
        page.body
            .contains("import a factor named <code>waste-high-temperature-incineration</code>")
    );
    assert!(page.body.contains("1 rows the factors could not convert"));

    // The contractor's figure, as a custom factor: 1,000 kgCO2e a tonne (illustrative).
    let incineration = Factor {
        edition: "rtg-waste-2023".into(),
        scope: Scope::Scope3,
        levels: vec!["waste-high-temperature-incineration".into()],
        column_text: None,
        unit_text: "tonnes".into(),
        unit: "tonnes".parse().unwrap(),
        kgco2e: dec("1000"),
        gases: GasParts::default(),
        activity: Some("waste-high-temperature-incineration".into()),
        category: Some(NhsCategory::Waste),
        source: "test: contractor's figure".into(),
    };
    site.store
        .upsert_custom_factors("test", &[incineration])
        .await
        .unwrap();
    // Written beside the server (as `greenplan factors import` does): a server sees another
    // process's writes within a second (the factors are read once per data revision).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = site.get("/registers/waste-streams", None).await;
    let per_tonne = ((converted + dec("10000")) / dec("1000") / dec("160")).round_dp(3);
    assert!(
        page.body.contains(&format!(
            "<td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{per_tonne:.3}</td></tr>"
        )),
        "{per_tonne}: {}",
        page.body
    );
    assert!(!page.body.contains("could not convert"));
    // High-temperature incineration: 10 t at 1 t a tonne.
    assert!(page.body.contains(
        "<td class=\"nhsuk-table__cell\">High-temperature incineration</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">10</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">10.0</td><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">1.000</td>"
    ));
}

fn dec(s: &str) -> rust_decimal::Decimal {
    s.parse().unwrap()
}

/// The estate pipeline's page sets the projects' savings against the gap between the latest
/// NHS Carbon Footprint and the national trajectory (80% below the baseline by 2031/32).
#[tokio::test]
async fn the_estate_pipeline_is_set_against_the_gap_to_target() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let page = site.get("/registers/estates-pipeline", None).await;
    assert!(
        page.body
            .contains("There is no NHS Carbon Footprint data yet")
    );

    official_2023_factors(&site.store).await;
    let (rtg, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let import = |path: &'static str, name: &'static str, csv: &'static str| {
        let (ct, body) = multipart_body(
            &[("csrf_token", &csrf)],
            Some(("file", name, csv.as_bytes())),
        );
        let rtg = rtg.clone();
        let site = &site;
        async move {
            let reply = site.post_multipart(path, &rtg, &ct, body).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
    };
    // Fleet diesel (Carbon Footprint): 40,000 litres in 2019/20, 30,000 in 2024/25.
    import(
        "/registers/fleet-mileage/import",
        "fuel.csv",
        "organisation,vehicle,period_start,period_end,fuel_litres\n\
         RTG,AMB-1,2019-04-01,2020-03-31,40000\n\
         RTG,AMB-1,2024-04-01,2025-03-31,30000\n",
    )
    .await;
    import(
        "/registers/estates-pipeline/import",
        "pipeline.csv",
        "organisation,project,measure,capital_cost,annual_tco2e_saving,funding_route,status,target_date\n\
         RTG,Heat pumps,heat-pump,1000000,10,psds,funded,2026-09-30\n\
         RTG,Old LEDs,led-lighting,50000,4,psds,complete,2024-06-30\n",
    )
    .await;
    let set = site.store.factor_set(None).await.unwrap();
    let i = set
        .resolve("diesel", &"litres".parse().unwrap(), "uk-2023")
        .unwrap();
    let per_litre = set.get(i).unwrap().kgco2e;
    let baseline = dec("40") * per_litre; // tonnes
    let latest = dec("30") * per_litre;
    let gap = latest - baseline * dec("0.2");
    let t = |v: rust_decimal::Decimal| greenplan_core::quantity::with_thousands(v, 1);
    let page = site
        .get("/registers/estates-pipeline?organisation=RTG", None)
        .await;
    let row = |label: &str, value: String| {
        format!(
            "<th scope=\"row\" class=\"nhsuk-table__header\">{label}</th><td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{value}</td>"
        )
    };
    for expected in [
        row(
            "NHS Carbon Footprint, 2019/20 (baseline)",
            format!("{} tCO2e", t(baseline)),
        ),
        row(
            "NHS Carbon Footprint, 2024/25 (latest)",
            format!("{} tCO2e", t(latest)),
        ),
        row(
            "National trajectory for 2031/32 (80% below the baseline)",
            format!("{} tCO2e", t(baseline * dec("0.2"))),
        ),
        row("Gap still to close, a year", format!("{} tCO2e", t(gap))),
        // The LED project completed within 2024/25 is already in that year's footprint.
        row(
            "Expected annual saving of 1 projects due by then (not cancelled, not yet in the footprint)",
            "10.0 tCO2e".to_string(),
        ),
        row(
            "Share of the gap the pipeline would close",
            format!("{}%", (dec("1000") / gap).round_dp(1)),
        ),
    ] {
        assert!(page.body.contains(&expected), "{expected}\n{}", page.body);
    }
}
