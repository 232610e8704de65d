//! Inhaler carbon pages: the ICB's trend against the plan's target, the league table of
//! sub-ICB locations and practices with percentiles and savings, and each practice's trend.
//! Figures come from the stored English Prescribing Dataset months, computed on read with the
//! built-in inhaler product table (as footprints are computed on read from activity).

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::charts::{Bar, bar_chart, trajectory_chart};
use crate::kit::{
    Chrome, PageError, PageResult, csv_bytes, csv_response, html, not_found_error, number, plan,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use greenplan_core::Decimal;
use greenplan_core::inhaler::InhalerTable;
use greenplan_core::period::YearMonth;
use greenplan_core::prescribing::{
    Level, MeasureRow, Measures, UncountedProduct, by_financial_year, league, measures, over_period,
};
use greenplan_core::progress::metric_progress;
use greenplan_core::target::rate;

/// The plan's metric the ICB's inhaler carbon is rated against.
const INHALER_METRIC: &str = "inhaler-carbon";

/// The inhaler product table in force: the shipped one with the ICS's own figures over it.
async fn table(state: &AppState) -> Result<InhalerTable, PageError> {
    let none: &[&std::path::Path] = &[];
    Ok(greenplan_service::footprint::inhaler_table(&state.store, none).await?)
}

fn month_label(m: Option<YearMonth>) -> String {
    m.map(|m| m.to_string()).unwrap_or_default()
}

fn percent(v: Option<Decimal>) -> String {
    v.map(|s| format!("{}%", (s * Decimal::ONE_HUNDRED).round_dp(1).normalize()))
        .unwrap_or_else(|| "–".into())
}

/// One month of an organisation, as a table row.
struct MonthRow {
    month: String,
    items: String,
    inhalers: String,
    tco2e: String,
    mdi_share: String,
    salbutamol: String,
}

fn month_rows(rows: &[MeasureRow]) -> Vec<MonthRow> {
    rows.iter()
        .map(|r| MonthRow {
            month: month_label(r.year_month),
            items: number(Decimal::from(r.inhaler_items)),
            inhalers: number(r.inhalers.round_dp(1)),
            tco2e: number(r.tco2e.round_dp(2)),
            mdi_share: percent(r.mdi_share_excl_salbutamol()),
            salbutamol: r
                .salbutamol_kgco2e_per_inhaler()
                .map_or_else(|| "–".into(), |v| number(v.round_dp(2))),
        })
        .collect()
}

fn month_chart(title: &str, rows: &[MeasureRow]) -> String {
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            label: month_label(r.year_month),
            value: r.tco2e,
            display: format!("{} tCO2e", number(r.tco2e.round_dp(2))),
        })
        .collect();
    bar_chart(title, &bars)
}

#[derive(Template)]
#[template(path = "medicines_inhalers.html")]
struct InhalersPage {
    title: String,
    chrome: Chrome,
    icb: String,
    icb_name: String,
    has_data: bool,
    chart: String,
    years: Vec<(String, String, String, String, String)>,
    month_chart: String,
    months: Vec<MonthRow>,
    uncounted: Vec<UncountedProduct>,
}

/// The ICB's monthly rows and the computed measures.
async fn icb_rows(state: &AppState) -> Result<(String, Vec<MeasureRow>, Measures), PageError> {
    let plan = plan(state).await?;
    let mut icb = plan.info.icb.to_string();
    // The plan's ICB only; a database of another single ICB is shown as it is.
    let mut data = state.store.load_icb_prescribing(&icb).await?;
    if data.lines.is_empty() {
        data = state.store.load_prescribing(None, None).await?;
    }
    let m = measures(&data, &table(state).await?, &[Level::Icb], None);
    let codes: std::collections::BTreeSet<&str> =
        m.rows.iter().map(|r| r.org_code.as_str()).collect();
    if !codes.contains(icb.as_str()) && codes.len() == 1 {
        icb = codes.iter().next().map(|c| c.to_string()).unwrap_or(icb);
    }
    let rows = m
        .rows
        .iter()
        .filter(|r| r.org_code == icb)
        .cloned()
        .collect();
    Ok((icb, rows, m))
}

pub async fn inhalers(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let (icb, rows, m) = icb_rows(&state).await?;
    let metric = plan.metric(INHALER_METRIC);
    let trajectory =
        metric.and_then(|metric| metric_progress(metric, &plan.data_points).trajectory);
    let years_data = by_financial_year(&rows);
    let mut years = Vec::new();
    let mut annual_by_year = std::collections::BTreeMap::new();
    for y in &years_data {
        // A part year is rated on its months scaled to twelve.
        let annual = y.tco2e * Decimal::from(12) / Decimal::from(y.months.max(1));
        annual_by_year.insert(y.year, annual.round_dp(1));
        let target = trajectory.as_ref().and_then(|t| t.at(y.year));
        let rating = match (metric, &trajectory) {
            (Some(metric), Some(t)) if target.is_some() => {
                rate(metric.direction, t, y.year, annual)
                    .label()
                    .to_string()
            }
            _ => "Not rated".into(),
        };
        years.push((
            y.year.to_string(),
            format!("{} of 12", y.months),
            number(y.tco2e.round_dp(1)),
            if y.months == 12 {
                number(annual.round_dp(1))
            } else {
                format!("{} (projected)", number(annual.round_dp(1)))
            },
            format!(
                "{} — {rating}",
                target.map_or_else(|| "no target".into(), |t| number(t.round_dp(1)))
            ),
        ));
    }
    // The chart spans the trajectory's years and the years with data.
    let mut chart_years: Vec<_> = trajectory
        .as_ref()
        .map(|t| t.points.iter().map(|(y, _)| *y).collect())
        .unwrap_or_default();
    chart_years.extend(annual_by_year.keys().copied());
    chart_years.sort();
    chart_years.dedup();
    let labels: Vec<String> = chart_years.iter().map(|y| y.to_string()).collect();
    let expected: Vec<Option<Decimal>> = chart_years
        .iter()
        .map(|y| trajectory.as_ref().and_then(|t| t.at(*y)))
        .collect();
    let actual: Vec<Option<Decimal>> = chart_years
        .iter()
        .map(|y| annual_by_year.get(y).copied())
        .collect();
    let chart = if years_data.is_empty() {
        String::new()
    } else {
        trajectory_chart(
            "Inhaler carbon (tCO2e a year) against the plan's trajectory",
            &labels,
            &expected,
            &actual,
        )
    };
    html(InhalersPage {
        title: "Inhaler carbon".into(),
        chrome: Chrome::of(&viewer),
        icb_name: rows.first().map(|r| r.org_name.clone()).unwrap_or_default(),
        icb,
        has_data: !rows.is_empty(),
        chart,
        years,
        month_chart: month_chart("Inhaler carbon by month (tCO2e)", &rows),
        months: month_rows(&rows),
        uncounted: m.uncounted,
    })
}

pub async fn inhalers_csv(State(state): State<AppState>) -> PageResult {
    let (_, rows, _) = icb_rows(&state).await?;
    let body = csv_bytes(
        &greenplan_core::prescribing::MEASURE_COLUMNS,
        rows.iter().map(|r| r.cells()),
    )?;
    Ok(csv_response("inhaler-carbon.csv", body))
}

#[derive(Template)]
#[template(path = "medicines_league.html")]
struct LeaguePage {
    title: String,
    chrome: Chrome,
    level: String,
    other_level: (String, String),
    period: String,
    best_decile: String,
    rows: Vec<LeagueLine>,
}

/// One organisation in the league table, as shown.
struct LeagueLine {
    code: String,
    name: String,
    /// Practices have a page of their own.
    linked: bool,
    items: String,
    tco2e: String,
    mdi_share: String,
    percentile: String,
    saving: String,
}

#[derive(serde::Deserialize)]
pub struct LeagueQuery {
    #[serde(default)]
    level: Option<String>,
}

/// The latest twelve stored months (fewer if fewer are stored).
async fn latest_year(state: &AppState) -> Result<Option<(YearMonth, YearMonth)>, PageError> {
    let months = state.store.prescribing_months().await?;
    let Some(last) = months.last() else {
        return Ok(None);
    };
    let first = months[months.len().saturating_sub(12)].month;
    Ok(Some((first, last.month)))
}

pub async fn inhaler_league(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(q): Query<LeagueQuery>,
) -> PageResult {
    let level = match q.level.as_deref() {
        None | Some("practice") => Level::Practice,
        Some("sub-icb") => Level::SubIcb,
        Some(_) => return Err(not_found_error("league table for that level")),
    };
    let period = latest_year(&state).await?;
    let data = match period {
        Some((from, to)) => state.store.load_prescribing(Some(from), Some(to)).await?,
        None => Default::default(),
    };
    let m = measures(&data, &table(&state).await?, &[level], None);
    let months = period.map_or(0, |(from, to)| {
        ((to.year - from.year) * 12 + to.month as i32 - from.month as i32 + 1) as u32
    });
    let l = league(over_period(&m.rows), months);
    let rows = l
        .rows
        .iter()
        .map(|r| LeagueLine {
            code: r.measure.org_code.clone(),
            name: r.measure.org_name.clone(),
            linked: level == Level::Practice,
            items: number(Decimal::from(r.measure.inhaler_items)),
            tco2e: number(r.measure.tco2e.round_dp(1)),
            mdi_share: percent(r.mdi_share),
            percentile: r
                .percentile
                .map_or_else(|| "–".into(), |p| p.normalize().to_string()),
            saving: number(r.saving_tco2e_a_year.round_dp(1)),
        })
        .collect();
    html(LeaguePage {
        title: format!("Inhaler league table: {}", level.label()),
        chrome: Chrome::of(&viewer),
        level: level.label().into(),
        other_level: if level == Level::Practice {
            ("sub-icb".into(), "sub-ICB locations".into())
        } else {
            ("practice".into(), "practices".into())
        },
        period: period.map_or_else(
            || "no months stored".into(),
            |(from, to)| {
                format!(
                    "{from} to {to} ({months} month{})",
                    if months == 1 { "" } else { "s" }
                )
            },
        ),
        best_decile: percent(l.best_decile_share),
        rows,
    })
}

#[derive(Template)]
#[template(path = "medicines_practice.html")]
struct PracticePage {
    title: String,
    chrome: Chrome,
    code: String,
    name: String,
    chart: String,
    months: Vec<MonthRow>,
}

pub async fn inhaler_practice(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let data = state.store.load_prescribing(None, None).await?;
    let m = measures(&data, &table(&state).await?, &[Level::Practice], None);
    let rows: Vec<MeasureRow> = m
        .rows
        .into_iter()
        .filter(|r| r.org_code.eq_ignore_ascii_case(&code))
        .collect();
    let Some(first) = rows.first() else {
        return Err(not_found_error("practice with inhaler prescribing"));
    };
    html(PracticePage {
        title: format!("Inhaler carbon: {}", first.org_name),
        chrome: Chrome::of(&viewer),
        code: first.org_code.clone(),
        name: first.org_name.clone(),
        chart: month_chart(
            &format!("Inhaler carbon of {} by month (tCO2e)", first.org_code),
            &rows,
        ),
        months: month_rows(&rows),
    })
}
