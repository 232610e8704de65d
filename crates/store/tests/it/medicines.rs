//! Medicines storage: prescribing months and gas returns are replaced, never doubled. Run on
//! SQLite by default and on PostgreSQL when `GREENPLAN_TEST_POSTGRES` is set.

#![allow(clippy::unwrap_used)]

use greenplan_core::Decimal;
use greenplan_core::anaesthetic::{Basis, GasUnit, GasUse};
use greenplan_core::inhaler::PrescribedQuantity;
use greenplan_core::period::YearMonth;
use greenplan_core::prescribing::{PracticeInfo, Prescribing};
use greenplan_store::Store;
use greenplan_store::testing::TestDatabase;

fn month(m: u32) -> YearMonth {
    YearMonth::new(2025, m).unwrap()
}

/// One month of one practice: `items` items of one inhaler each, plus a line in doses.
fn prescribing(m: u32, items: i64) -> Prescribing {
    let mut p = Prescribing::default();
    p.lines.insert(
        (month(m), "C81001".into(), "0301011R0BEAIAP".into()),
        PrescribedQuantity::line(items, Decimal::ONE, Decimal::from(items)),
    );
    p.lines.insert(
        (month(m), "C81001".into(), "0301011R0AAAPAP".into()),
        PrescribedQuantity::line(1, Decimal::from(200), Decimal::from(200)),
    );
    p.practices.insert(
        (month(m), "C81001".into()),
        PracticeInfo {
            name: "The Surgery".into(),
            sub_icb_code: "15M".into(),
            sub_icb_name: "Derby and Derbyshire".into(),
            icb_code: "QJ2".into(),
            icb_name: "NHS Derby and Derbyshire ICB".into(),
        },
    );
    p.descriptions.insert(
        "0301011R0BEAIAP".into(),
        "Ventolin 100micrograms/dose Evohaler".into(),
    );
    p
}

#[tokio::test]
async fn a_reimported_month_is_replaced_not_doubled() {
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    store
        .replace_prescribing_months(
            "cli:test",
            "epd-202504.csv",
            Some("QJ2"),
            &prescribing(4, 3),
        )
        .await
        .unwrap();
    store
        .replace_prescribing_months(
            "cli:test",
            "epd-202505.csv",
            Some("QJ2"),
            &prescribing(5, 7),
        )
        .await
        .unwrap();
    // April again, corrected: 5 items instead of 3.
    store
        .replace_prescribing_months(
            "cli:test",
            "epd-202504-v2.csv",
            Some("QJ2"),
            &prescribing(4, 5),
        )
        .await
        .unwrap();
    let months = store.prescribing_months().await.unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[0].file, "epd-202504-v2.csv");
    let all = store.load_prescribing(None, None).await.unwrap();
    assert_eq!(all.lines.len(), 4);
    let mut expected = prescribing(4, 5);
    expected.merge(prescribing(5, 7));
    assert_eq!(all, expected);
    let april = store
        .load_prescribing(Some(month(4)), Some(month(4)))
        .await
        .unwrap();
    assert_eq!(april, prescribing(4, 5));
    let trail = store
        .audit_trail(Some(("prescribing-month", "2025-04")), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].action, "replace");
    assert!(
        trail[0]
            .before
            .as_deref()
            .unwrap()
            .contains("epd-202504.csv")
    );
}

#[tokio::test]
async fn one_icbs_prescribing_is_loaded_alone() {
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    let mut both = prescribing(4, 3);
    let mut other = prescribing(4, 9);
    other.lines = other
        .lines
        .into_iter()
        .map(|((m, _, code), q)| ((m, "B82001".to_string(), code), q))
        .collect();
    other.practices = other
        .practices
        .into_iter()
        .map(|((m, _), mut info)| {
            info.icb_code = "QWO".into();
            ((m, "B82001".to_string()), info)
        })
        .collect();
    both.merge(other);
    store
        .replace_prescribing_months("cli:test", "national.csv", None, &both)
        .await
        .unwrap();
    assert_eq!(
        store
            .load_prescribing(None, None)
            .await
            .unwrap()
            .lines
            .len(),
        4
    );
    let qj2 = store.load_icb_prescribing("QJ2").await.unwrap();
    assert_eq!(qj2, prescribing(4, 3));
}

#[tokio::test]
async fn an_empty_extract_stores_nothing() {
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    let err = store
        .replace_prescribing_months(
            "cli:test",
            "empty.csv",
            Some("QJ2"),
            &Prescribing::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nothing was stored"), "{err}");
    assert!(store.prescribing_months().await.unwrap().is_empty());
}

#[tokio::test]
async fn gas_returns_replace_a_trusts_month() {
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    let gas = |org: &str, m: u32, q: i64| GasUse {
        organisation: org.into(),
        month: month(m),
        agent: "sevoflurane".parse().unwrap(),
        quantity: Decimal::from(q),
        unit: GasUnit::Bottles,
        supply: None,
        basis: Basis::Purchased,
    };
    store
        .replace_gas_returns(
            "cli:test",
            "a.csv",
            &[(2, gas("RTG", 4, 2)), (3, gas("RFS", 4, 1))],
        )
        .await
        .unwrap();
    store
        .replace_gas_returns("cli:test", "b.csv", &[(2, gas("RTG", 4, 5))])
        .await
        .unwrap();
    let all = store.gas_returns(None).await.unwrap();
    assert_eq!(all, vec![gas("RFS", 4, 1), gas("RTG", 4, 5)]);
    assert_eq!(store.gas_returns(Some("RTG")).await.unwrap().len(), 1);
}
