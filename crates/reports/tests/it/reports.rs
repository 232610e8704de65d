//! The governance reports for the built-in plan, through the real store (SQLite, or
//! PostgreSQL when GREENPLAN_TEST_POSTGRES is set), rendered in every format and read back:
//! PDF text with `pdftotext` (poppler-utils), workbooks with calamine.

#![allow(clippy::unwrap_used)]

use calamine::{Data, Reader, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};
use greenplan_core::Decimal;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::ods::OdsCode;
use greenplan_core::plan::ActionStatus;
use greenplan_ingest::{factors, plan_file};
use greenplan_reports::model::{Block, Cell, Chart, Column, KeyFigure, Report, Section, Table};
use greenplan_reports::{Format, ReportKind, ReportRequest, render};
use greenplan_store::testing::TestDatabase;
use greenplan_store::{NewActionUpdate, Store};
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

fn factor_file() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx"
    ))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    day(y, m, d).and_hms_opt(12, 0, 0).unwrap()
}

fn activity(
    row: u64,
    org: &str,
    from: NaiveDate,
    to: NaiveDate,
    qty: &str,
    unit: &str,
    what: &str,
) -> Activity {
    Activity {
        origin: RowRef {
            source: "returns.csv".into(),
            row,
        },
        organisation: OdsCode::parse(org).unwrap(),
        site: None,
        period_start: from,
        period_end: to,
        activity: what.into(),
        quantity: qty.parse().unwrap(),
        unit: unit.parse().unwrap(),
        edition: None,
        category: None,
        market_factor: None,
        notes: None,
    }
}

async fn import(store: &Store, sha: &str, rows: Vec<Activity>) {
    let mut import = store.begin_activity_import("test", sha, sha).await.unwrap();
    for a in rows {
        import.add(a).await.unwrap();
    }
    import.commit(sha).await.unwrap();
}

/// The built-in plan, the 2023 factors, and returns from two trusts: UHDB's gas and CRHFT's
/// electricity for 2024/25 (the baseline) and for Q3 2025/26.
async fn loaded(db: &TestDatabase) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    if db.template != LOADED {
        load(&store).await;
    }
    store
}

/// The template of [`loaded_db`].
const LOADED: &str = "reports-loaded";

/// A copy of a database [`load`]ed once per run (reading the official factor file is slow).
fn loaded_db() -> TestDatabase {
    TestDatabase::from_template(
        LOADED,
        Box::new(|store| Box::pin(async move { load(&store).await })),
    )
}

async fn load(store: &Store) {
    store
        .init_plan(&plan_file::built_in_plan().unwrap())
        .await
        .unwrap();
    let file = factors::read_flat_file(&factor_file(), None).unwrap();
    store
        .replace_edition(&file.edition, file.year, "2023.xlsx", &file.factors)
        .await
        .unwrap();
    import(
        store,
        "baseline",
        vec![
            activity(
                2,
                "RTG",
                day(2024, 4, 1),
                day(2025, 3, 31),
                "2000000",
                "kWh",
                "natural-gas",
            ),
            activity(
                3,
                "RFS",
                day(2024, 4, 1),
                day(2025, 3, 31),
                "800",
                "MWh",
                "grid-electricity",
            ),
        ],
    )
    .await;
    import(
        store,
        "q3",
        vec![
            // 1,000,000 kWh × 0.18293 kgCO2e = 182.93 t.
            activity(
                2,
                "RTG",
                day(2025, 10, 1),
                day(2025, 12, 31),
                "1000000",
                "kWh",
                "natural-gas",
            ),
            activity(
                3,
                "RFS",
                day(2025, 10, 1),
                day(2025, 12, 31),
                "200",
                "MWh",
                "grid-electricity",
            ),
        ],
    )
    .await;
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

fn pdf_info(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfinfo").arg(&path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn info_field<'a>(info: &'a str, name: &str) -> &'a str {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map_or("", str::trim)
}

fn pdf_pages(pdf: &[u8]) -> usize {
    pdf_text(pdf).matches('\u{c}').count()
}

/// Every sheet of a workbook: name → rows of cells.
fn sheets(xlsx: Vec<u8>) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(xlsx)).unwrap();
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            (name, range.rows().map(<[Data]>::to_vec).collect())
        })
        .collect()
}

/// Checks a table against its sheet: headers with units, text as text, figures as numbers.
fn assert_sheet_matches(table: &Table, rows: &[Vec<Data>]) {
    let headers: Vec<String> = rows[0].iter().map(|d| d.to_string()).collect();
    let expected: Vec<String> = table.columns.iter().map(Column::header).collect();
    assert_eq!(headers, expected, "{}", table.title);
    assert_eq!(rows.len() - 1, table.rows.len(), "{}", table.title);
    for (row, cells) in rows[1..].iter().zip(&table.rows) {
        for (got, cell) in row.iter().zip(cells) {
            match cell {
                Cell::Number { value, .. } => {
                    let Data::Float(f) = got else {
                        panic!("{}: {got:?} is not a number cell", table.title)
                    };
                    let back = Decimal::try_from(*f).unwrap().round_dp(6);
                    assert_eq!(back, value.round_dp(6), "{}", table.title);
                }
                Cell::Text { text } | Cell::Rag { text, .. } => {
                    assert_eq!(got, &Data::String(text.clone()), "{}", table.title);
                }
                Cell::Empty => assert_eq!(got, &Data::Empty),
            }
        }
    }
}

fn assert_workbook_matches(report: &Report, xlsx: Vec<u8>) {
    let sheets = sheets(xlsx);
    assert_eq!(sheets[0].0, "Summary");
    let tables: Vec<&Table> = report.tables().collect();
    assert_eq!(sheets.len(), tables.len() + 1, "one sheet per table");
    for (table, (_, rows)) in tables.iter().zip(&sheets[1..]) {
        assert_sheet_matches(table, rows);
    }
}

fn table<'a>(report: &'a Report, id: &str) -> &'a Table {
    report.tables().find(|t| t.id == id).unwrap()
}

#[tokio::test]
async fn quarterly_pack_in_every_format() {
    let db = loaded_db();
    let store = loaded(&db).await;
    let request = ReportRequest::parse(ReportKind::Quarterly, "Q3 2025/26", None).unwrap();
    let report = greenplan_reports::build(&store, &request, at(2026, 1, 20))
        .await
        .unwrap();
    assert_eq!(report.as_at, day(2025, 12, 31));

    // Returns: the two trusts that sent Q3 activity are in; the ICB and the others are not.
    let returns = table(&report, "returns");
    let status = |code: &str| {
        returns
            .rows
            .iter()
            .find(|r| r[1].display() == code)
            .map(|r| r[2].display().to_string())
            .unwrap()
    };
    assert!(status("RTG").starts_with("Received"));
    assert!(status("RFS").starts_with("Received"));
    assert_eq!(status("QJ2"), "Missing");
    assert_eq!(
        returns.rows.len(),
        6,
        "the ICB and five trusts make returns"
    );

    let text = pdf_text(&render(&report, Format::Pdf).unwrap());
    for expected in [
        "Greener ICS Delivery Group: quarterly pack, Q3 2025/26",
        "Contents",
        "Decisions and risks for the group",
        "Priority actions by area of focus",
        "Overdue and due next quarter",
        "Metrics, off track first",
        "Returns received and missing",
        "Workforce and leadership",
        "WL1",
        "Ask for the missing data returns",
        "Page 1 of",
    ] {
        assert!(text.contains(expected), "PDF lacks {expected:?}");
    }

    let html = String::from_utf8(render(&report, Format::Html).unwrap()).unwrap();
    assert!(html.contains("<h2 id=\"returns\">5. Returns received and missing</h2>"));
    assert!(html.contains("<svg"), "the metric charts are inline SVG");

    assert_workbook_matches(&report, render(&report, Format::Xlsx).unwrap());
}

#[tokio::test]
async fn annual_report_in_every_format() {
    let db = loaded_db();
    let store = loaded(&db).await;
    let request = ReportRequest::parse(ReportKind::Annual, "2025/26", None).unwrap();
    let report = greenplan_reports::build(&store, &request, at(2026, 5, 1))
        .await
        .unwrap();

    let by_org = table(&report, "footprint-by-organisation");
    let uhdb = by_org
        .rows
        .iter()
        .find(|r| r[0].display() == "UHDB")
        .unwrap();
    assert_eq!(uhdb[1], Cell::number("182.9".parse().unwrap(), 1));
    let national = table(&report, "footprint-national");
    assert_eq!(national.rows.len(), 4, "two footprints, two years");

    let pdf = render(&report, Format::Pdf).unwrap();
    let text = pdf_text(&pdf);
    for expected in [
        "Green Plan annual report 2025/26",
        "Progress in the structure of the plan",
        "Why it matters",
        "Where we are",
        "System priorities",
        "Carbon footprint against the national trajectories",
        "NHS Carbon Footprint against the national trajectory",
        "Metrics and ratings",
        "Case studies",
        "Progress against the visions",
        "Methods and data quality",
        "uk-2023",
        "182.9",
    ] {
        assert!(text.contains(expected), "PDF lacks {expected:?}");
    }
    assert!(pdf_pages(&pdf) > 10, "a full report, not a stub");
    let info = pdf_info(&pdf);
    assert_eq!(
        info_field(&info, "Tagged"),
        "yes",
        "tagged for accessibility"
    );
    assert!(info_field(&info, "Page size").ends_with("(A4)"), "{info}");
    assert_eq!(
        info_field(&info, "Title"),
        "Green Plan annual report 2025/26"
    );

    let html = String::from_utf8(render(&report, Format::Html).unwrap()).unwrap();
    assert!(html.contains("Progress against the visions"));
    assert!(html.contains("182.9"));

    assert_workbook_matches(&report, render(&report, Format::Xlsx).unwrap());
}

#[tokio::test]
async fn one_organisation_sees_only_its_own() {
    let db = loaded_db();
    let store = loaded(&db).await;
    let request = ReportRequest::parse(ReportKind::Annual, "2025/26", Some("RFS")).unwrap();
    let report = greenplan_reports::build(&store, &request, at(2026, 5, 1))
        .await
        .unwrap();
    let by_org = table(&report, "footprint-by-organisation");
    assert_eq!(by_org.rows.len(), 1);
    assert_eq!(by_org.rows[0][0].display(), "CRHFT");
    assert_eq!(report.organisation.as_ref().unwrap().code, "RFS");
    let plan = store.load_plan().await.unwrap().unwrap();
    let rfs = OdsCode::parse("RFS").unwrap();
    let led = plan
        .actions
        .iter()
        .filter(|a| a.lead_organisations.contains(&rfs))
        .count();
    let shown: usize = report
        .tables()
        .filter(|t| t.id.starts_with("actions-"))
        .map(|t| t.rows.len())
        .sum();
    assert_eq!(shown, led);
    assert!(ReportRequest::parse(ReportKind::Annual, "2025/26", Some("XX9")).is_ok());
    let unknown = ReportRequest::parse(ReportKind::Annual, "2025/26", Some("XX9")).unwrap();
    assert!(
        greenplan_reports::build(&store, &unknown, at(2026, 5, 1))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn updates_show_as_at_the_end_of_their_quarter() {
    let db = loaded_db();
    let store = loaded(&db).await;
    let plan = store.load_plan().await.unwrap().unwrap();
    let action = &plan.actions[0];
    store
        .post_action_update(
            "lead@nhs.net",
            &action.id,
            &NewActionUpdate {
                status: ActionStatus::AtRisk,
                note: "Venue lost: sessions move online <b>#1</b>".into(),
                evidence_url: None,
                evidence_file: None,
                revised_due: None,
            },
        )
        .await
        .unwrap();
    let now = chrono::Utc::now().naive_utc();
    let this_quarter = greenplan_core::period::Quarter::containing(now.date());
    let request =
        ReportRequest::parse(ReportKind::Quarterly, &this_quarter.to_string(), None).unwrap();
    let report = greenplan_reports::build(&store, &request, now + chrono::Days::new(1))
        .await
        .unwrap();
    let row = table(&report, &format!("actions-{}", action.area))
        .rows
        .iter()
        .find(|r| r[0].display().starts_with(&action.id))
        .unwrap();
    assert_eq!(row[3].display(), "At risk");
    assert!(
        row[4].display().contains("→ At risk"),
        "{}",
        row[4].display()
    );
    assert!(row[5].display().starts_with("Venue lost"));
    let html = String::from_utf8(render(&report, Format::Html).unwrap()).unwrap();
    assert!(!html.contains("<b>#1</b>"), "the note is escaped");
    assert!(html.contains("&#60;b&#62;#1&#60;/b&#62;") || html.contains("&lt;b&gt;#1&lt;/b&gt;"));

    // The quarter before: the update had not been posted.
    let before =
        greenplan_core::period::Quarter::containing(this_quarter.start() - chrono::Days::new(1));
    let request = ReportRequest::parse(ReportKind::Quarterly, &before.to_string(), None).unwrap();
    let report = greenplan_reports::build(&store, &request, now)
        .await
        .unwrap();
    let row = table(&report, &format!("actions-{}", action.area))
        .rows
        .iter()
        .find(|r| r[0].display().starts_with(&action.id))
        .unwrap();
    assert_eq!(row[3].display(), action_status_before(&plan, &action.id));
    assert_eq!(row[5].display(), "No update yet");
}

fn action_status_before(plan: &greenplan_core::plan::Plan, id: &str) -> &'static str {
    // The store hands back the latest status; the plan file's is the one before any update.
    let built_in = plan_file::built_in_plan().unwrap();
    let _ = plan;
    built_in
        .actions
        .iter()
        .find(|a| a.id == id)
        .unwrap()
        .status
        .label()
}

#[tokio::test]
async fn a_published_report_does_not_change_when_new_data_arrives() {
    let db = loaded_db();
    let store = loaded(&db).await;
    let request = ReportRequest::parse(ReportKind::Annual, "2025/26", None).unwrap();
    let report = greenplan_reports::build(&store, &request, at(2026, 5, 1))
        .await
        .unwrap();
    let id = greenplan_reports::publish(&store, "admin@nhs.net", &report)
        .await
        .unwrap();
    let html_then = render(&report, Format::Html).unwrap();

    // DCHS sends its first return after publication.
    import(
        &store,
        "late",
        vec![activity(
            2,
            "RY8",
            day(2025, 4, 1),
            day(2026, 3, 31),
            "500000",
            "kWh",
            "natural-gas",
        )],
    )
    .await;

    let (stored, frozen) = greenplan_reports::published(&store, id).await.unwrap();
    assert_eq!(
        frozen, report,
        "the published model is exactly what was published"
    );
    assert_eq!(render(&frozen, Format::Html).unwrap(), html_then);
    assert_eq!(stored.published_by, "admin@nhs.net");
    assert_eq!(store.published_reports().await.unwrap().len(), 1);
    let trail = store
        .audit_trail(Some(("report", &id.to_string())), 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "publish");

    let (_, changes) = greenplan_reports::changes_since(&store, id, at(2026, 5, 2))
        .await
        .unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.table.starts_with("Footprint by organisation") && c.row == "DCHS"),
        "{changes:?}"
    );
    assert!(changes.iter().any(|c| c.table == "Key figures"));
    let unchanged = greenplan_reports::build(&store, &request, at(2026, 5, 1))
        .await
        .unwrap();
    assert!(greenplan_reports::diff::changes(&unchanged, &unchanged).is_empty());
}

/// Plan text full of typst and HTML syntax prints as written.
#[test]
fn hostile_text_is_printed_as_written() {
    let hostile =
        "#set page(paper: \"a6\") $x^2$ *bold* _it_ @ref <label> \\ ] [ } { // /* `raw` = 1";
    let report = Report {
        kind: ReportKind::Quarterly,
        title: format!("Pack {hostile}"),
        subtitle: hostile.into(),
        period: "Q3 2025/26".into(),
        organisation: None,
        as_at: day(2025, 12, 31),
        generated: "1 January 2026 09:00".into(),
        purpose: hostile.into(),
        key_figures: vec![KeyFigure {
            id: "k".into(),
            label: hostile.into(),
            value: "#1".into(),
            note: String::new(),
        }],
        sections: vec![Section {
            id: "s".into(),
            title: hostile.into(),
            blocks: vec![
                Block::Paragraph {
                    text: hostile.into(),
                },
                Block::Bullets {
                    items: vec![hostile.into()],
                },
                Block::Table(Table {
                    id: "t".into(),
                    title: hostile.into(),
                    columns: vec![Column::text(hostile, 2), Column::figure("n", "t*CO2e")],
                    rows: vec![vec![Cell::text(hostile), Cell::number(Decimal::from(5), 0)]],
                }),
                Block::Chart(Chart {
                    title: hostile.into(),
                    caption: hostile.into(),
                    svg: greenplan_reports::charts::bar_chart(
                        hostile,
                        &[greenplan_reports::charts::Bar {
                            label: hostile.into(),
                            value: Decimal::ONE,
                            display: "1".into(),
                        }],
                    ),
                    alt: hostile.into(),
                }),
            ],
        }],
    };
    let text = pdf_text(&render(&report, Format::Pdf).unwrap());
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("$x^2$ *bold* _it_ @ref <label>"),
        "typst syntax was interpreted: {flat}"
    );
    assert!(flat.contains("#set page(paper: \"a6\")"));
    let html = String::from_utf8(render(&report, Format::Html).unwrap()).unwrap();
    assert!(html.contains("&lt;label&gt;"));
    assert!(!html.contains("<label>"));
    let sheets = sheets(render(&report, Format::Xlsx).unwrap());
    assert_eq!(sheets[1].1[1][0], Data::String(hostile.into()));
}

/// A quarter the ICB opened as a reporting period: the pack takes its due date and the
/// returns recorded against it, with their approvals, rather than the working rule.
#[tokio::test]
async fn the_pack_shows_recorded_returns_and_approvals() {
    use greenplan_core::period::Quarter;
    use greenplan_core::returns::ReportingPeriod;
    use greenplan_reports::inputs::ReportPeriod;
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    store
        .init_plan(&plan_file::built_in_plan().unwrap())
        .await
        .unwrap();
    let quarter = Quarter::parse("Q3 2025/26").unwrap();
    store
        .open_reporting_period(
            "lead",
            &ReportingPeriod {
                quarter,
                due_on: day(2026, 2, 15),
            },
        )
        .await
        .unwrap();
    let mut import = store
        .begin_activity_import("rtg", "rtg-q3.csv", "sha-rtg")
        .await
        .unwrap();
    import
        .add(activity(
            2,
            "RTG",
            day(2025, 10, 1),
            day(2025, 12, 31),
            "1000",
            "kWh",
            "natural-gas",
        ))
        .await
        .unwrap();
    import
        .record_return(quarter, &OdsCode::parse("RTG").unwrap(), 1, Decimal::ZERO)
        .await
        .unwrap();
    import.commit("rtg-q3.csv").await.unwrap();
    let id = store.returns_for(quarter).await.unwrap()[0].id;
    store.approve_return("lead", id).await.unwrap();

    let inputs = greenplan_reports::gather::gather(
        &store,
        ReportPeriod::Quarter(quarter),
        None,
        at(2026, 2, 1),
    )
    .await
    .unwrap();
    assert_eq!(
        inputs.returns_due,
        Some(day(2026, 2, 15)),
        "the period's own due date"
    );
    let rtg = inputs
        .returns
        .iter()
        .find(|r| r.organisation.as_str() == "RTG")
        .unwrap();
    // (Submitted when the test runs, after the 15 February 2026 due date: late, but approved.)
    assert_eq!((rtg.rows, rtg.approved, rtg.late), (1, Some(true), true));
    let rfs = inputs
        .returns
        .iter()
        .find(|r| r.organisation.as_str() == "RFS")
        .unwrap();
    assert_eq!(
        (rfs.submitted_at, rfs.approved, rfs.late),
        (None, None, false),
        "not yet due on 1 February"
    );
}

/// Saved care pathway scenarios are listed with the carbon they save: the Team Up example,
/// 188 × 56 + 690 × 37.9 = 36,679 kgCO2e = 4,075.4 GP home visits; it is the ICB's, so a
/// trust's own report leaves it out.
#[tokio::test]
async fn the_reports_list_the_saved_pathway_scenarios() {
    let db = loaded_db();
    let store = loaded(&db).await;
    store
        .seed_care_pathways(
            &greenplan_ingest::pathway_file::built_in_factors().unwrap(),
            &greenplan_ingest::pathway_file::built_in_examples().unwrap(),
        )
        .await
        .unwrap();
    for (kind, period) in [
        (ReportKind::Quarterly, "Q3 2025/26"),
        (ReportKind::Annual, "2025/26"),
    ] {
        let request = ReportRequest::parse(kind, period, None).unwrap();
        let report = greenplan_reports::build(&store, &request, at(2026, 4, 20))
            .await
            .unwrap();
        let scenarios = table(&report, "pathway-scenarios");
        assert_eq!(scenarios.rows.len(), 1, "{period}");
        let row = &scenarios.rows[0];
        assert_eq!(row[0].display(), "Team Up: Enhanced Falls Response, 2024");
        assert_eq!(row[2].display(), "CT1");
        assert_eq!(row[3], Cell::figure("36679".parse().unwrap()));
        assert_eq!(row[4].display(), "= 4,075.4 GP home visits");
    }
    let request = ReportRequest::parse(ReportKind::Annual, "2025/26", Some("RTG")).unwrap();
    let report = greenplan_reports::build(&store, &request, at(2026, 4, 20))
        .await
        .unwrap();
    let section = report
        .sections
        .iter()
        .find(|s| s.id == "pathway-scenarios")
        .unwrap();
    assert!(
        matches!(&section.blocks[0], Block::Note { text } if text.contains("No care pathway scenarios"))
    );
}

/// A register's quarterly figure is part of a metric's history but never drawn as a year's
/// actual value on its trajectory chart (the metric page and the report chart draw one series,
/// `core::progress::trajectory_series`). The report's own copy of the series once drew it.
#[tokio::test]
async fn the_report_chart_leaves_out_register_quarters() {
    let db = loaded_db();
    let store = loaded(&db).await;
    let year = greenplan_core::period::FinancialYear(2026);
    let mut inputs = greenplan_reports::gather::gather(
        &store,
        greenplan_reports::inputs::ReportPeriod::Year(year),
        None,
        at(2027, 4, 30),
    )
    .await
    .unwrap();
    let point =
        |period: &str, value: i64, reference: Option<String>| greenplan_core::plan::DataPoint {
            metric: "inhaler-carbon".into(),
            organisation: None,
            period: greenplan_core::period::Period::parse(period).unwrap(),
            value: Decimal::from(value),
            as_written: None,
            note: None,
            reference,
        };
    inputs.plan.data_points.push(point("2025/26", 13800, None));
    inputs.plan.data_points.push(point(
        "Q1 2026/27",
        424242,
        Some(format!("{}test", greenplan_core::register::POINT_REFERENCE)),
    ));
    let report = greenplan_reports::compose::annual(&inputs, year);
    let charts: Vec<&Chart> = report
        .sections
        .iter()
        .flat_map(|s| &s.blocks)
        .filter_map(|b| match b {
            Block::Chart(c) if c.title.starts_with("Carbon emissions of all inhalers") => Some(c),
            _ => None,
        })
        .collect();
    assert!(!charts.is_empty(), "the inhaler carbon chart is drawn");
    for c in charts {
        assert!(
            c.alt.contains("13,800"),
            "the year's value is drawn: {}",
            c.alt
        );
        assert!(
            !c.alt.contains("424,242") && !c.alt.contains("424242"),
            "a register quarter drawn as a year's value: {}",
            c.alt
        );
    }
}
