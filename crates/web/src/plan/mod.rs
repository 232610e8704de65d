//! The plan's pages: the dashboard, areas of focus, priority actions (with their updates and
//! milestones), metrics (with their values and trajectories), organisations and the visions,
//! and their view models. Every figure is formatted here, in Rust, so templates only place
//! text (and askama escapes it).

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::charts::{Bar, bar_chart, trajectory_chart};
use crate::kit::{
    Chrome, HistoryRow, PageError, PageResult, Routes, Write, csv_bytes, csv_response, footprint,
    history_of, html, long_date, not_found_error, number, plan, today, unsummed_notice, when,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use chrono::NaiveDate;
use greenplan_core::Decimal;
use greenplan_core::category::{Footprint, NhsCategory};
use greenplan_core::footprint::FootprintTable;
use greenplan_core::period::Quarter;
use greenplan_core::plan::{Action, Plan};
use greenplan_core::progress::{MetricProgress, metric_progress};
use greenplan_core::target::Rating;
use serde::Deserialize;
use std::sync::Arc;

mod actions;
mod dashboard;
mod metrics;
mod organisations;
pub use actions::*;
pub use dashboard::*;
pub use metrics::*;
pub use organisations::*;

/// An action as a row in a list.
pub struct ActionRow {
    pub id: String,
    pub title: String,
    pub leads: String,
    pub delivery: String,
    pub due: String,
    pub status: String,
    pub rag: String,
    pub area: String,
}

fn action_row(a: &Action, plan: &Plan) -> ActionRow {
    ActionRow {
        id: a.id.clone(),
        title: a.title.clone(),
        leads: a.leads.join(", "),
        delivery: a.delivery.written.clone(),
        due: due_text(a),
        status: a.status.label().into(),
        rag: a.status.rag().into(),
        area: plan
            .areas
            .iter()
            .find(|x| x.code == a.area)
            .map_or_else(|| a.area.clone(), |x| x.name.clone()),
    }
}

/// The parsed delivery period, said only where it adds to the words of the plan.
fn due_text(a: &Action) -> String {
    let period = a.delivery.period.to_string();
    let written = a.delivery.written.as_str();
    match a.delivery.period.end() {
        None => String::new(),
        Some(end) if written.contains(&period) || a.delivery.ongoing => {
            format!("by {}", long_date(end))
        }
        Some(end) => format!("{period}, by {}", long_date(end)),
    }
}

/// A metric as a row in a list.
pub struct MetricRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub latest: String,
    pub expected: String,
    pub rating: String,
    pub rag: String,
}

fn metric_row(m: &greenplan_core::plan::Metric, p: &MetricProgress, plan: &Plan) -> MetricRow {
    MetricRow {
        id: m.id.clone(),
        name: m.name.clone(),
        scope: m
            .organisation
            .as_ref()
            .and_then(|o| plan.organisation(o))
            .map_or_else(|| "System".into(), |o| o.display_name().to_string()),
        latest: p.latest.map_or_else(
            || "No value yet".into(),
            |(period, v)| format!("{} {} ({period})", number(v), m.unit),
        ),
        expected: p
            .expected
            .map_or_else(String::new, |e| format!("{} {}", number(e), m.unit)),
        rating: p.rating.label().into(),
        rag: p.rating.rag().into(),
    }
}

fn rating_order(r: Rating) -> u8 {
    match r {
        Rating::OffTrack => 0,
        Rating::AtRisk => 1,
        Rating::OnTrack => 2,
        Rating::NotRated => 3,
    }
}

/// One line of the footprint on the dashboard.
pub struct FootprintRow {
    pub label: String,
    pub carbon_footprint: String,
    pub plus: String,
    pub total: String,
}

/// The plan's pages: dashboard, areas, actions, metrics, organisations, visions.
pub fn routes() -> Routes {
    Routes::new()
        .get("/", dashboard)
        .get("/areas/{code}", area)
        .get("/actions", actions)
        .get("/actions/{id}", action)
        .post_up_to(
            "/actions/{id}/updates",
            Write::Contributors,
            greenplan_store::MAX_EVIDENCE_BYTES + 64 * 1024,
            post_action_update,
        )
        .get("/my/actions", my_actions)
        .get("/evidence/{id}", evidence)
        .get("/metrics", metrics)
        .get("/metrics/{id}", metric)
        .post(
            "/metrics/{id}/values",
            Write::Contributors,
            post_metric_value,
        )
        .get("/metrics/{id}/values.csv", metric_csv)
        .get("/organisations", organisations)
        .get("/organisations/{code}", organisation)
        .get("/footprint.csv", footprint_csv)
        .get("/visions", visions)
}
