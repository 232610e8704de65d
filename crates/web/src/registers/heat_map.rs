//! The climate risk heat-map: risks by site (rows) and hazard (columns), each cell the highest
//! score with its band in words, so colour is never the only cue; the count of risks by band;
//! and the risks whose review date has passed. Read-only: the risks themselves are kept on the
//! generic register pages (`registers_page`).

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::{Chrome, PageResult, html, long_date, not_found_error};
use askama::Template;
use axum::extract::{Path, Query, State};
use greenplan_core::ods::OdsCode;
use greenplan_core::register::Record;
use greenplan_core::register::adaptation::{
    HAZARDS, RISKS, Risk, RiskSummary, heat_map, risk_summary,
};
use serde::Deserialize;

/// One cell as the page shows it.
pub struct Cell {
    /// `risk-band--high`, or empty for no risk.
    pub class: String,
    pub text: String,
    pub risks: u64,
}

pub struct Row {
    pub site: String,
    pub cells: Vec<Cell>,
}

/// A risk whose review is overdue.
pub struct Overdue {
    pub id: i64,
    pub organisation: String,
    pub site: String,
    pub hazard: String,
    pub risk: String,
    pub score: u64,
    pub band: &'static str,
    pub owner: String,
    pub review_date: String,
}

#[derive(Template)]
#[template(path = "climate_heat_map.html")]
struct HeatMapPage {
    title: String,
    chrome: Chrome,
    hazards: Vec<&'static str>,
    rows: Vec<Row>,
    summary: RiskSummary,
    overdue: Vec<Overdue>,
    organisations: Vec<(String, bool)>,
    today: String,
}

#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    organisation: String,
}

/// `/registers/climate-risks/heat-map`; the other registers have no heat-map.
pub async fn heat_map_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(filter): Query<Filter>,
) -> PageResult {
    if slug != RISKS.slug {
        return Err(not_found_error("heat-map"));
    }
    let stored = state.store.register_records(&RISKS, false).await?;
    let chosen = OdsCode::parse(&filter.organisation).ok();
    let mut organisations: Vec<String> = stored
        .iter()
        .filter_map(|s| s.record.organisation().map(|o| o.to_string()))
        .collect();
    organisations.sort();
    organisations.dedup();
    let kept: Vec<(i64, &Record)> = stored
        .iter()
        .filter(|s| chosen.is_none() || s.record.organisation() == chosen)
        .map(|s| (s.id, &s.record))
        .collect();
    let risks: Vec<Risk<'_>> = kept.iter().filter_map(|(_, r)| Risk::of(r)).collect();
    let today = chrono::Local::now().date_naive();
    html(HeatMapPage {
        title: "Climate risks by site and hazard".into(),
        chrome: Chrome::of(&viewer),
        hazards: HAZARDS.iter().map(|h| h.label).collect(),
        rows: rows(&risks),
        summary: risk_summary(&risks, today),
        overdue: overdue(&kept, today),
        organisations: organisations
            .into_iter()
            .map(|o| {
                let selected = chosen.as_ref().is_some_and(|c| c.as_str() == o);
                (o, selected)
            })
            .collect(),
        today: long_date(today),
    })
}

fn rows(risks: &[Risk<'_>]) -> Vec<Row> {
    heat_map(risks)
        .into_iter()
        .map(|row| Row {
            site: row.site,
            cells: row
                .cells
                .into_iter()
                .map(|cell| match cell {
                    Some(c) => Cell {
                        class: format!("risk-band--{}", c.band.slug()),
                        text: format!("{} {}", c.score, c.band.label()),
                        risks: c.risks,
                    },
                    None => Cell {
                        class: String::new(),
                        text: String::new(),
                        risks: 0,
                    },
                })
                .collect(),
        })
        .collect()
}

fn overdue(kept: &[(i64, &Record)], today: chrono::NaiveDate) -> Vec<Overdue> {
    let mut out: Vec<Overdue> = kept
        .iter()
        .filter_map(|(id, record)| {
            let risk = Risk::of(record)?;
            risk.review_overdue(today).then(|| Overdue {
                id: *id,
                organisation: record.text("organisation").unwrap_or("").to_string(),
                site: risk.site.to_string(),
                hazard: RISKS
                    .field("hazard")
                    .map_or_else(|| risk.hazard.to_string(), |f| f.display(risk.hazard)),
                risk: record.name().to_string(),
                score: risk.score(),
                band: risk.band().label(),
                owner: record.text("owner").unwrap_or("").to_string(),
                review_date: long_date(risk.review_date),
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.site.cmp(&b.site)));
    out
}
