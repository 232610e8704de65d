//! Issue 21, class 10: a C0 control character in a metric name (stored before names were
//! checked, or from a plan file of an older version) made every PDF report fail, because the
//! chart's SVG held a character XML 1.0 forbids. The report renders; the character is replaced.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use greenplan_ingest::plan_file;
use greenplan_reports::{Format, ReportKind, ReportRequest, render};
use greenplan_store::Store;
use greenplan_store::testing::TestDatabase;

#[tokio::test]
async fn a_control_character_in_a_metric_name_renders_the_annual_report() {
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    let mut plan = plan_file::built_in_plan().unwrap();
    for m in &mut plan.metrics {
        m.name = format!("{}\u{1} \u{1f}", m.name);
    }
    store.init_plan(&plan).await.unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2026, 5, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    for (kind, period) in [
        (ReportKind::Annual, "2025/26"),
        (ReportKind::Quarterly, "Q3 2025/26"),
    ] {
        let request = ReportRequest::parse(kind, period, None).unwrap();
        let report = greenplan_reports::build(&store, &request, at)
            .await
            .unwrap();
        let pdf = render(&report, Format::Pdf).unwrap_or_else(|e| panic!("{period}: {e}"));
        assert!(pdf.starts_with(b"%PDF"), "{period}");
    }
}
