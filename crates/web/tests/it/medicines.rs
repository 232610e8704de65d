//! Inhaler carbon pages through the real router and store (SQLite, or PostgreSQL with
//! GREENPLAN_TEST_POSTGRES), from a small EPD file with figures computed by hand.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use greenplan_ingest::prescribing::{EpdOptions, inhaler_table, read_epd};
use greenplan_store::Store;
use greenplan_web::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

const EPD: &str = "YEAR_MONTH,ICB_NAME,ICB_CODE,PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,BNF_CODE,BNF_DESCRIPTION,QUANTITY,ITEMS,TOTAL_QUANTITY,SNOMED_CODE
202504,NHS DERBY AND DERBYSHIRE ICB,QJ2,DERBY 15M,15M,THE SURGERY,C81001,0301011R0BEAIAP,Ventolin 100micrograms/dose Evohaler,1,100,100,3295011000001106
202504,NHS DERBY AND DERBYSHIRE ICB,QJ2,DERBY 15M,15M,THE SURGERY,C81001,0302000C0BPABBF,Clenil Modulite 100micrograms/dose inhaler,1,50,50,3295011000001106
202504,NHS DERBY AND DERBYSHIRE ICB,QJ2,DERBY 15M,15M,THE OTHER SURGERY,C81002,0302000V0BBABAB,Relvar Ellipta 92micrograms/dose / 22micrograms/dose dry powder inhaler,1,50,50,3295011000001106
202505,NHS DERBY AND DERBYSHIRE ICB,QJ2,DERBY 15M,15M,THE SURGERY,C81001,0301011R0BEAIAP,Ventolin 100micrograms/dose Evohaler,1,10,10,3295011000001106
";

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn inhaler_pages_show_the_trend_league_and_practices() {
    let db = crate::common::plan_db();
    let store = Store::connect(&db.url).await.unwrap();
    crate::common::load_plan(&store, &db).await;
    let app = router(AppState::new(store.clone()));

    let (status, body) = get(&app, "/medicines/inhalers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("No prescribing has been imported yet"),
        "{body}"
    );
    assert!(body.contains("the dataset has no ages"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epd.csv");
    std::fs::write(&path, EPD).unwrap();
    let table = inhaler_table(&[]).unwrap();
    let extract = read_epd(
        &path,
        EpdOptions {
            icb: Some("QJ2"),
            table: &table,
        },
    )
    .unwrap();
    store
        .replace_prescribing_months("test", "epd.csv", Some("QJ2"), &extract.data)
        .await
        .unwrap();

    // April: 100 × 28.26 + 50 × 18.34 + 50 × 0.805 = 3,783.25 kg; May: 282.6 kg.
    let (status, body) = get(&app, "/medicines/inhalers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("April 2025"), "{body}");
    assert!(
        body.contains("<td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">3.78</td>"),
        "{body}"
    );
    assert!(
        body.contains("<td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">0.28</td>"),
        "{body}"
    );
    // 2025/26 so far 4.07 t over 2 months: 24.4 t a year projected, against 13,247.
    assert!(body.contains("24.4 (projected)"), "{body}");
    assert!(body.contains("13,247 — On track"), "{body}");
    assert!(body.contains("<svg"));
    assert!(!body.contains("style="), "no inline styles under the CSP");

    let (status, csv) = get(&app, "/medicines/inhalers.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("year_month,level,org_code,org_name,inhaler_items,mdi_items,dpi_items,smi_items,other_items,inhalers,tco2e,mdi_share_excl_salbutamol,salbutamol_inhalers,salbutamol_kgco2e_per_inhaler\n"), "{csv}");
    assert!(
        csv.contains(
            "202504,icb,QJ2,NHS DERBY AND DERBYSHIRE ICB,200,150,50,0,0,200,3.78325,0.5,100,28.26\n"
        ),
        "{csv}"
    );

    // Practices over the two months: C81001 has MDI share 1 (50 Clenil of 50 non-salbutamol),
    // C81002 0; the best decile is 0, so C81001 could switch all 50 Clenil inhalers to the
    // DPI average (0.805): 50 × (18.34 − 0.805) = 876.75 kg in 2 months = 5.3 t a year.
    let (status, body) = get(&app, "/medicines/inhalers/league").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("April 2025 to May 2025 (2 months)"), "{body}");
    assert!(
        body.contains("<a href=\"/medicines/inhalers/practices/C81001\">C81001</a>"),
        "{body}"
    );
    assert!(
        body.contains("<td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">5.3</td>"),
        "{body}"
    );
    let (status, body) = get(&app, "/medicines/inhalers/league?level=sub-icb").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("15M"), "{body}");

    let (status, body) = get(&app, "/medicines/inhalers/practices/C81002").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("THE OTHER SURGERY"), "{body}");
    let (status, _) = get(&app, "/medicines/inhalers/practices/X99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The ICB's inhalers are the footprint's "inhalers" category: 3,783.25 + 282.6 kg.
    let (status, csv) = get(&app, "/footprint.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("QJ2,inhalers,4.06585,4.06585\n"), "{csv}");
}

#[tokio::test]
async fn anaesthetic_gases_page_rates_each_trust_against_the_nitrous_oxide_target() {
    use greenplan_core::anaesthetic::{Basis, GasUse};
    use greenplan_core::period::YearMonth;
    let db = crate::common::plan_db();
    let store = Store::connect(&db.url).await.unwrap();
    crate::common::load_plan(&store, &db).await;
    let app = router(AppState::new(store.clone()));
    let (status, body) = get(&app, "/medicines/anaesthetic-gases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("No anaesthetic gas returns have been imported yet"),
        "{body}"
    );

    let n2o = |year: i32, month: u32, kg: &str| GasUse {
        organisation: "RTG".into(),
        month: YearMonth::new(year, month).unwrap(),
        agent: "nitrous-oxide".parse().unwrap(),
        quantity: kg.parse().unwrap(),
        unit: "kg".parse().unwrap(),
        supply: None,
        basis: Basis::Purchased,
    };
    store
        .replace_gas_returns(
            "test",
            "gases.csv",
            &[(2, n2o(2024, 4, "100")), (3, n2o(2025, 4, "60"))],
        )
        .await
        .unwrap();
    // AoA: 100 kg × 298 = 29.8 t in 2024/25; 60 kg × 298 = 17.88 t in 2025/26, 40.0% less.
    let (status, body) = get(&app, "/medicines/anaesthetic-gases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("University Hospitals of Derby and Burton"),
        "{body}"
    );
    assert!(body.contains(">29.8</td>"), "{body}");
    assert!(body.contains(">17.9</td>"), "{body}");
    assert!(body.contains(">40%</td>"), "{body}");
    assert!(!body.contains("style="), "no inline styles under the CSP");
    // The RCoA set: 60 kg × 265 = 15.9 t.
    let (_, body) = get(&app, "/medicines/anaesthetic-gases?gwp=rcoa").await;
    assert!(body.contains(">15.9</td>"), "{body}");
    let (status, csv) = get(&app, "/medicines/anaesthetic-gases.csv?gwp=rcoa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.contains("RTG,2025/26,1,15900,15900,40,,rcoa\n"),
        "{csv}"
    );
    // In the footprint with the AoA set: 29.8 t and 17.88 t.
    let (_, csv) = get(&app, "/footprint.csv").await;
    assert!(csv.contains("RTG,anaesthetic-gases,47.68,47.68\n"), "{csv}");
}
