//! The example workforce, digital, primary care and adaptation registers shipped with the
//! built-in plan: read through the same reader as an upload, they reproduce the figures the
//! Derbyshire plan quotes (59% NHS App registration in December 2024; CRHFT's four practices,
//! Royal Primary Care, with nine surgeries; DHcFT's 2,400 staff), and the other figures are
//! checked by hand below.

#![allow(clippy::unwrap_used)]

use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_core::register::adaptation::{self, Band, HeatCell, Risk};
use greenplan_core::register::primary_care::{self, network_progress};
use greenplan_core::register::{Figure, MetricPeriod, Record, Register};
use greenplan_core::target::{Rating, Target};
use greenplan_ingest::register_file::built_in_registers;
use rust_decimal::Decimal;

fn records(register: &Register) -> Vec<Record> {
    built_in_registers()
        .unwrap()
        .into_iter()
        .find(|(r, _)| r.slug == register.slug)
        .map(|(_, records)| records)
        .unwrap_or_else(|| panic!("{} is not shipped", register.slug))
}

fn figure(register: &Register, key: &str, org: Option<&str>, period: MetricPeriod) -> Decimal {
    let figures: Vec<Figure> = register.figures(&records(register));
    figures
        .iter()
        .find(|f| {
            f.key == key && f.period == period && f.organisation.as_ref().map(|o| o.as_str()) == org
        })
        .unwrap_or_else(|| panic!("no {key} for {org:?} in {period}"))
        .value
}

fn year(y: i32) -> MetricPeriod {
    MetricPeriod::Year(FinancialYear(y))
}

fn quarter(raw: &str) -> MetricPeriod {
    MetricPeriod::Quarter(Quarter::parse(raw).unwrap())
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn nhs_app_registration_is_the_plans_59_percent_in_december_2024() {
    use greenplan_core::register::digital::SIGN_UP;
    // 530,115 of 898,500 residents aged 13 and over in the eight places = 59.0%.
    assert_eq!(
        figure(&SIGN_UP, "nhs-app-share", None, quarter("Q3 2024/25")),
        dec("59.0")
    );
    assert_eq!(
        figure(&SIGN_UP, "nhs-app-share", None, year(2024)),
        dec("59.0")
    );
    // Portals: 41,200 + 18,900 = 60,100 of 230,000 = 26.13% → 26.1%.
    assert_eq!(
        figure(&SIGN_UP, "portal-share", None, year(2025)),
        dec("26.1")
    );
    assert_eq!(
        figure(&SIGN_UP, "portal-share", Some("RFS"), year(2025)),
        dec("27.0")
    );
}

#[test]
fn chesterfield_royal_runs_four_practices_from_nine_surgeries() {
    use greenplan_core::register::primary_care::PRACTICES;
    assert_eq!(
        figure(&PRACTICES, "practices", Some("RFS"), year(2025)),
        dec("4")
    );
    assert_eq!(
        figure(&PRACTICES, "surgeries", Some("RFS"), year(2025)),
        dec("9")
    );
    assert_eq!(figure(&PRACTICES, "practices", None, year(2025)), dec("18"));
}

#[test]
fn greener_practice_network_baseline_and_the_ten_percent_increase() {
    use greenplan_core::register::primary_care::PRACTICES;
    // Members on 31 March 2025: C81615, C81001, C81002, C81003, C81005, C81007 = 6.
    assert_eq!(
        figure(&PRACTICES, "greener-practice-network", None, year(2024)),
        dec("6")
    );
    // On 31 March 2026: Belper left in August 2025; C81004, C81618 and C81006 joined = 8.
    assert_eq!(
        figure(&PRACTICES, "greener-practice-network", None, year(2025)),
        dec("8")
    );
    assert_eq!(
        figure(&PRACTICES, "green-impact-for-health", None, year(2025)),
        dec("4")
    );
    assert_eq!(
        figure(&PRACTICES, "practice-travel-plans", None, year(2025)),
        dec("1")
    );
    let target = [Target::CompoundPercentPerYear {
        from: FinancialYear(2026),
        to: FinancialYear(2027),
        percent: Decimal::from(10),
    }];
    // 2026/27 asks for 8 × 1.1 = 8.8; Glossop joined in June 2026, making 9: on track.
    let p = network_progress(&records(&PRACTICES), FinancialYear(2026), &target).unwrap();
    assert_eq!((p.baseline, p.members), (8, 9));
    assert_eq!(p.expected, Some(dec("8.8")));
    assert_eq!(p.rating, Rating::OnTrack);
    assert_eq!(primary_care::BASELINE_YEAR, FinancialYear(2025));
}

#[test]
fn workforce_figures_from_the_example_returns() {
    use greenplan_core::register::workforce::{CHAMPIONS, CORE_TRAINING, SESSIONS};
    // Lunch and learn, 2025/26: 42 + 37 + 51 + 33 live; 118 + 96 + 140 + 85 watches.
    assert_eq!(
        figure(&SESSIONS, "lunch-and-learn-live", None, year(2025)),
        dec("163")
    );
    assert_eq!(
        figure(&SESSIONS, "lunch-and-learn-watches", None, year(2025)),
        dec("439")
    );
    assert_eq!(
        figure(
            &SESSIONS,
            "lunch-and-learn-live",
            None,
            quarter("Q3 2025/26")
        ),
        dec("79")
    );
    assert_eq!(
        figure(&SESSIONS, "carbon-literacy-attendance", None, year(2025)),
        dec("27")
    );
    // DHcFT's 2,400 staff: 1,236 completed by 31 December 2025 = 51.5%.
    assert_eq!(
        figure(
            &CORE_TRAINING,
            "core-training-share",
            Some("RXM"),
            year(2025)
        ),
        dec("51.5")
    );
    // Each organisation's latest return: 602 + 1,236 + 4,950 + 2,130 + 1,780 = 10,698 of
    // 640 + 2,400 + 15,000 + 4,500 + 4,800 = 27,340 staff = 39.13% → 39.1%.
    assert_eq!(
        figure(&CORE_TRAINING, "core-training-completed", None, year(2025)),
        dec("10698")
    );
    assert_eq!(
        figure(&CORE_TRAINING, "core-training-share", None, year(2025)),
        dec("39.1")
    );
    // Champions on 31 March 2026: UHDB 112 (not its September 86 too), DCHS 40, CRHFT 25.
    assert_eq!(
        figure(&CHAMPIONS, "green-champions", None, year(2025)),
        dec("177")
    );
}

#[test]
fn devices_by_route() {
    use greenplan_core::register::digital::DEVICES;
    // 2025/26: 280 repurposed, 200 recycled, 50 disposed of, of 530 devices.
    assert_eq!(
        figure(&DEVICES, "devices-repurposed-share", None, year(2025)),
        dec("52.8")
    );
    assert_eq!(
        figure(&DEVICES, "devices-recycled-share", None, year(2025)),
        dec("37.7")
    );
    assert_eq!(
        figure(&DEVICES, "devices-disposed-share", None, year(2025)),
        dec("9.4")
    );
}

#[test]
fn adaptation_heat_map_exercises_and_admissions() {
    let risks = records(&adaptation::RISKS);
    let typed: Vec<Risk<'_>> = risks.iter().filter_map(Risk::of).collect();
    let map = adaptation::heat_map(&typed);
    let row = |site: &str| map.iter().find(|r| r.site == site).unwrap();
    // Royal Derby Hospital's two heatwave risks score 16 and 12: the cell shows 16, extreme.
    assert_eq!(
        row("Royal Derby Hospital").cells[1],
        Some(HeatCell {
            score: 16,
            band: Band::Extreme,
            risks: 2
        })
    );
    assert_eq!(
        row("Kingsway Hospital").cells[3].map(|c| c.band),
        Some(Band::Moderate)
    );
    assert_eq!(map.len(), 6);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let s = adaptation::risk_summary(&typed, today);
    // Reviews due 31 October and 30 November 2025 have passed on 1 January 2026.
    assert_eq!(s.overdue_reviews, 2);
    // Scores: 16; 12, 12, 8, 12, 8, 9, 9, 12; 6, 6, 4.
    assert_eq!((s.extreme, s.high, s.moderate, s.low), (1, 8, 3, 0));
    assert_eq!(
        figure(&adaptation::EXERCISES, "exercises-held", None, year(2026)),
        dec("1")
    );
    // Heatwaves in July and August 2025: 46 + 21 + 19; the January 2026 cold snap: 64 + 38.
    assert_eq!(
        figure(
            &adaptation::ADMISSIONS,
            "admissions-heatwave",
            None,
            year(2025)
        ),
        dec("86")
    );
    assert_eq!(
        figure(&adaptation::ADMISSIONS, "admissions-cold", None, year(2025)),
        dec("102")
    );
}

#[test]
fn bad_rows_of_each_register_are_named_with_row_column_and_fix() {
    use greenplan_core::register::{adaptation as a, digital as d, workforce as w};
    use greenplan_ingest::IngestError;
    use greenplan_ingest::register_file::read_register_text;
    // (register, file, expected (row, column) errors, a word of the fix)
    type Case<'a> = (&'static Register, &'a str, &'a [(u64, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (
            &w::SESSIONS,
            "organisation,date,kind,title,live_attendees,later_views\n\
             QJ2,2025-10-14,lunch-and-learn,Greener NHS,42,118\n\
             QJ2,2025-13-01,webinar,Greener NHS,forty,\n",
            &[(3, "date"), (3, "kind"), (3, "live_attendees")],
            "use one of lunch-and-learn, board, carbon-literacy, other",
        ),
        (
            &w::CORE_TRAINING,
            "organisation,as_at,completed,headcount\nRXM,2025-12-31,1236,2400\nRXM,2025-12-31,2500,2400\n",
            &[(3, "completed")],
            "2500 is more than Staff headcount (2400)",
        ),
        (
            &w::CHAMPIONS,
            "organisation,as_at,network,champions\nRTG,2026-03-31,,112\n",
            &[(2, "network")],
            "Network is required",
        ),
        (
            &d::SIGN_UP,
            "organisation,service,place,as_at,registered,eligible\nQJ2,nhs-app,Erewash,2024-12-31,96201,96200\n",
            &[(2, "registered")],
            "96201 is more than People eligible (96200)",
        ),
        (
            &d::DEVICES,
            "organisation,period_start,period_end,repurposed,recycled,disposed\nRTG,2025-07-01,2025-06-30,1,1,1\n",
            &[(2, "period_end")],
            "before period_start",
        ),
        (
            &primary_care::PRACTICES,
            "organisation,practice,name,place,list_size,surgeries,gpn_joined,gpn_left,gifh_joined,gifh_left,travel_plan\n\
             QJ2,C81 001,Erewash Surgery,Erewash,9000,0,,2025-01-01,,,\n",
            &[(2, "practice"), (2, "surgeries"), (2, "gpn_left")],
            "is not an organisation code",
        ),
        (
            &a::RISKS,
            "organisation,site,service,hazard,description,likelihood,impact,owner,controls,review_date\n\
             RTG,Royal Derby Hospital,Wards,heatwave,Wards overheat,6,4,Head of EPRR,,2026-06-30\n",
            &[(2, "likelihood")],
            "give a whole number from 1 to 5",
        ),
        (
            &a::EXERCISES,
            "organisation,date,name,scenario,participants,findings,actions\nQJ2,2026-10-15,Exercise Quake,earthquake,ICB,,\n",
            &[(2, "scenario")],
            "use one of flooding, heatwave, cold, storm, supply-chain, other",
        ),
        (
            &a::ADMISSIONS,
            "organisation,period_start,period_end,place,hazard,admissions\nRTG,2025-07-10,2025-07-16,Derby City,heatwave,-3\n",
            &[(2, "admissions")],
            "is not a whole number",
        ),
    ];
    for (register, text, expected, fix) in cases {
        let err = read_register_text(register, "upload.csv", text, &|_| None).unwrap_err();
        let IngestError::Rows { errors, .. } = err else {
            panic!("{}: {err}", register.slug)
        };
        let found: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(found, *expected, "{}", register.slug);
        assert!(
            errors.iter().any(|e| e.message.contains(fix)),
            "{}: {errors:?}",
            register.slug
        );
        assert_eq!(errors[0].file, "upload.csv");
    }
}
