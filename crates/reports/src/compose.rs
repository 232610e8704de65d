//! Composing the two reports from their [`Inputs`]: pure functions, no I/O.
//!
//! The quarterly pack is for the Greener ICS Delivery Group: decisions and risks first, then
//! each area of focus with its actions (RAG, latest update, what changed since last quarter),
//! what is overdue or due next quarter, metrics with the off-track ones first, and which
//! returns have come in. The annual report is for the ICB Board and follows the structure of
//! the plan: each area (why it matters, where we are, system priorities, actions), the
//! footprint against the national trajectories, every metric with its rating, case studies,
//! the Appendix 2 progress table against the visions, and a methods page.
//!
//! Everything is shown as at the end of the period (or today, for a period not yet over):
//! an update posted after that does not change a past quarter's pack.

use crate::charts::{Bar, bar_chart, trajectory_chart};
use crate::inputs::{Inputs, ReportPeriod};
use crate::model::*;
use chrono::{Days, NaiveDate};
use greenplan_core::Decimal;
use greenplan_core::category::{Footprint, NhsCategory};
use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_core::plan::{Action, ActionStatus, DataPoint, Metric};
use greenplan_core::progress::{MetricProgress, metric_progress, trajectory_series};
use greenplan_core::quantity::with_thousands;
use greenplan_core::target::{Baseline, Direction, Rating, national_targets, rate, trajectory};
use greenplan_store::ActionUpdate;
use std::collections::BTreeMap;

/// The state of the plan as at the end of a period, for one organisation or the system.
struct Ctx<'a> {
    inputs: &'a Inputs,
    period: ReportPeriod,
    as_at: NaiveDate,
    /// Unix seconds at the end of `as_at`: updates posted later are not shown.
    cutoff: i64,
}

/// Unix seconds at the end of `day` (UTC, as the store stamps records).
fn end_of(day: NaiveDate) -> i64 {
    day.checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(i64::MAX, |t| t.and_utc().timestamp())
}

/// "31 March 2026".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| long_date(t.date_naive()))
        .unwrap_or_default()
}

fn previous_quarter(q: Quarter) -> Quarter {
    Quarter::containing(q.start() - Days::new(1))
}

fn next_quarter(q: Quarter) -> Quarter {
    Quarter::containing(q.end() + Days::new(1))
}

impl<'a> Ctx<'a> {
    fn new(inputs: &'a Inputs, period: ReportPeriod) -> Self {
        let as_at = inputs.now.date().min(period.end());
        Self {
            inputs,
            period,
            as_at,
            cutoff: end_of(as_at),
        }
    }

    fn plan(&self) -> &'a greenplan_core::plan::Plan {
        &self.inputs.plan
    }

    fn org_name(&self, code: &greenplan_core::ods::OdsCode) -> String {
        self.plan()
            .organisation(code)
            .map_or_else(|| code.to_string(), |o| o.display_name().to_string())
    }

    fn scope_label(&self) -> String {
        match &self.inputs.organisation {
            Some(o) => self.org_name(o),
            None => self.plan().info.system.clone(),
        }
    }

    /// Actions this report covers: all, or those the organisation leads.
    fn actions(&self) -> Vec<&'a Action> {
        self.plan()
            .actions
            .iter()
            .filter(|a| {
                self.inputs
                    .organisation
                    .as_ref()
                    .is_none_or(|o| a.lead_organisations.contains(o))
            })
            .collect()
    }

    /// The updates of an action posted by `until`, newest first.
    fn updates(&self, action: &str, until: i64) -> Vec<&'a ActionUpdate> {
        let mut v: Vec<_> = self
            .inputs
            .updates
            .iter()
            .filter(|u| u.action_id == action && u.posted_at <= until)
            .collect();
        v.sort_by_key(|u| std::cmp::Reverse(u.posted_at));
        v
    }

    /// An action's status at `until`: its latest update's, else the plan's.
    fn status_at(&self, a: &Action, until: i64) -> ActionStatus {
        self.updates(&a.id, until)
            .first()
            .map_or(a.status, |u| u.status)
    }

    /// The end of an action's delivery period, as revised by its latest update.
    fn due_end(&self, a: &Action) -> Option<NaiveDate> {
        if a.delivery.ongoing {
            return None;
        }
        match self
            .updates(&a.id, self.cutoff)
            .first()
            .and_then(|u| u.revised_due)
        {
            Some(p) => p.end(),
            None => a.delivery.period.end(),
        }
    }

    fn is_overdue(&self, a: &Action) -> bool {
        self.status_at(a, self.cutoff) != ActionStatus::Complete
            && self.due_end(a).is_some_and(|end| end < self.as_at)
    }

    /// Metrics this report covers: the organisation's own, or all.
    fn metrics(&self) -> Vec<&'a Metric> {
        self.plan()
            .metrics
            .iter()
            .filter(|m| {
                self.inputs
                    .organisation
                    .as_ref()
                    .is_none_or(|o| m.organisation.as_ref() == Some(o))
            })
            .collect()
    }

    /// Values known for the period: those of periods that began by its end.
    fn points(&self) -> Vec<&'a DataPoint> {
        self.plan()
            .data_points
            .iter()
            .filter(|d| d.period.start().is_none_or(|s| s <= self.period.end()))
            .collect()
    }

    fn progress(&self, m: &Metric) -> MetricProgress {
        metric_progress(m, self.points())
    }

    fn area_name(&self, code: &str) -> String {
        self.plan()
            .areas
            .iter()
            .find(|a| a.code == code)
            .map_or_else(|| code.to_string(), |a| a.name.clone())
    }
}

fn status_cell(s: ActionStatus) -> Cell {
    Cell::rag(s.label(), s.rag())
}

fn rating_cell(r: Rating) -> Cell {
    Cell::rag(r.label(), r.rag())
}

fn rating_order(r: Rating) -> u8 {
    match r {
        Rating::OffTrack => 0,
        Rating::AtRisk => 1,
        Rating::OnTrack => 2,
        Rating::NotRated => 3,
    }
}

fn leads(a: &Action) -> String {
    a.leads.join("; ")
}

fn action_label(a: &Action) -> String {
    format!("{}: {}", a.id, a.title)
}

fn latest_text(u: Option<&&ActionUpdate>) -> String {
    u.map_or_else(
        || "No update yet".to_string(),
        |u| format!("{} ({})", u.note, when(u.posted_at)),
    )
}

// ------------------------------------------------------------------------------------------
// Quarterly pack
// ------------------------------------------------------------------------------------------

/// The Greener ICS Delivery Group's quarterly pack.
pub fn quarterly(inputs: &Inputs, quarter: Quarter) -> Report {
    let ctx = Ctx::new(inputs, ReportPeriod::Quarter(quarter));
    let sections = vec![
        decisions_and_risks(&ctx),
        areas_quarterly(&ctx, quarter),
        overdue_and_due(&ctx, quarter),
        metrics_section(&ctx, "metrics", "Metrics, off track first"),
        returns_section(&ctx),
        scenarios_section(&ctx),
    ];
    Report {
        kind: ReportKind::Quarterly,
        title: format!("Greener ICS Delivery Group: quarterly pack, {quarter}"),
        subtitle: subtitle(&ctx),
        period: quarter.to_string(),
        organisation: organisation_ref(&ctx),
        as_at: ctx.as_at,
        generated: inputs.now.format("%-d %B %Y %H:%M").to_string(),
        purpose: format!(
            "The Greener ICS Delivery Group's pack for {quarter}: the decisions and risks for the group, progress on every priority action by area of focus, what is overdue or due in {}, the metrics (off track first) and which data returns have been received. {}",
            next_quarter(quarter),
            scope_sentence(&ctx)
        ),
        key_figures: quarterly_key_figures(&ctx),
        sections,
    }
}

fn subtitle(ctx: &Ctx<'_>) -> String {
    format!("{} ({})", ctx.plan().info.title, ctx.scope_label())
}

fn scope_sentence(ctx: &Ctx<'_>) -> String {
    match &ctx.inputs.organisation {
        Some(o) => format!(
            "It covers {} only: the actions it leads, its own metrics and its footprint.",
            ctx.org_name(o)
        ),
        None => format!("It covers the whole of {}.", ctx.plan().info.system),
    }
}

fn organisation_ref(ctx: &Ctx<'_>) -> Option<OrganisationRef> {
    ctx.inputs.organisation.as_ref().map(|o| OrganisationRef {
        code: o.to_string(),
        name: ctx.org_name(o),
    })
}

fn action_counts(ctx: &Ctx<'_>) -> Vec<KeyFigure> {
    let actions = ctx.actions();
    let count = |f: &dyn Fn(ActionStatus) -> bool| {
        actions
            .iter()
            .filter(|a| f(ctx.status_at(a, ctx.cutoff)))
            .count()
    };
    let total = actions.len();
    vec![
        KeyFigure {
            id: "actions-on-track".into(),
            label: "Priority actions on track or complete".into(),
            value: format!(
                "{} of {total}",
                count(&|s| matches!(s, ActionStatus::OnTrack | ActionStatus::Complete))
            ),
            note: String::new(),
        },
        KeyFigure {
            id: "actions-at-risk".into(),
            label: "Priority actions at risk or off track".into(),
            value: format!(
                "{} of {total}",
                count(&|s| matches!(s, ActionStatus::AtRisk | ActionStatus::OffTrack))
            ),
            note: String::new(),
        },
        KeyFigure {
            id: "actions-overdue".into(),
            label: "Priority actions overdue".into(),
            value: actions
                .iter()
                .filter(|a| ctx.is_overdue(a))
                .count()
                .to_string(),
            note: format!("as at {}", long_date(ctx.as_at)),
        },
    ]
}

fn metric_counts(ctx: &Ctx<'_>) -> KeyFigure {
    let ratings: Vec<Rating> = ctx
        .metrics()
        .iter()
        .map(|m| ctx.progress(m).rating)
        .collect();
    let rated = ratings.iter().filter(|r| **r != Rating::NotRated).count();
    let off = ratings.iter().filter(|r| **r == Rating::OffTrack).count();
    KeyFigure {
        id: "metrics-off-track".into(),
        label: "Metrics off track".into(),
        value: format!("{off} of {rated} rated"),
        note: format!("{} metrics not yet rated", ratings.len() - rated),
    }
}

fn quarterly_key_figures(ctx: &Ctx<'_>) -> Vec<KeyFigure> {
    let mut v = action_counts(ctx);
    v.push(metric_counts(ctx));
    let received = ctx
        .inputs
        .returns
        .iter()
        .filter(|r| r.submitted_at.is_some())
        .count();
    v.push(KeyFigure {
        id: "returns-received".into(),
        label: "Data returns received".into(),
        value: format!("{received} of {}", ctx.inputs.returns.len()),
        note: String::new(),
    });
    v
}

fn decisions_and_risks(ctx: &Ctx<'_>) -> Section {
    let mut blocks = vec![Block::Heading {
        text: "Decisions for the group".into(),
    }];
    let decisions = decisions(ctx);
    if decisions.is_empty() {
        blocks.push(Block::Note {
            text: "No decision is needed this quarter: no revised delivery dates, overdue actions or missing returns.".into(),
        });
    } else {
        blocks.push(Block::Bullets { items: decisions });
    }
    blocks.push(Block::Heading {
        text: "Risks to delivery".into(),
    });
    blocks.push(risks_table(ctx));
    Section {
        id: "decisions".into(),
        title: "Decisions and risks for the group".into(),
        blocks,
    }
}

/// What the group is asked to decide, from the data: revised dates to agree, overdue actions
/// to recover or close, missing returns to chase.
fn decisions(ctx: &Ctx<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for a in ctx.actions() {
        if let Some(u) = ctx.updates(&a.id, ctx.cutoff).first()
            && let Some(p) = u.revised_due
        {
            out.push(format!(
                "Agree the revised delivery date for {} ({}): {p}, in place of \"{}\".",
                a.id, a.title, a.delivery.written
            ));
        }
    }
    for a in ctx.actions().into_iter().filter(|a| ctx.is_overdue(a)) {
        out.push(format!(
            "Agree a recovery plan, a new date or closure for overdue action {} ({}), due {}.",
            a.id, a.title, a.delivery.written
        ));
    }
    let missing: Vec<String> = ctx
        .inputs
        .returns
        .iter()
        .filter(|r| r.submitted_at.is_none())
        .map(|r| ctx.org_name(&r.organisation))
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "Ask for the missing data returns for {}: {}.",
            ctx.period,
            missing.join(", ")
        ));
    }
    out
}

fn risks_table(ctx: &Ctx<'_>) -> Block {
    let mut rows = Vec::new();
    for a in ctx.actions() {
        let s = ctx.status_at(a, ctx.cutoff);
        if matches!(s, ActionStatus::AtRisk | ActionStatus::OffTrack) {
            rows.push(vec![
                Cell::text(action_label(a)),
                Cell::text(leads(a)),
                status_cell(s),
                Cell::text(latest_text(ctx.updates(&a.id, ctx.cutoff).first())),
            ]);
        }
    }
    for m in ctx.metrics() {
        let p = ctx.progress(m);
        if p.rating == Rating::OffTrack {
            let (period, v) = p.latest.unwrap_or_default_pair();
            rows.push(vec![
                Cell::text(format!("Metric: {}", m.name)),
                Cell::text(ctx.area_name(m.area.as_deref().unwrap_or(""))),
                rating_cell(p.rating),
                Cell::text(format!(
                    "{} {} in {period} against {} expected",
                    figure(v),
                    m.unit,
                    p.expected.map(figure).unwrap_or_default()
                )),
            ]);
        }
    }
    if rows.is_empty() {
        return Block::Note {
            text: "No action is at risk or off track, and no metric is off track.".into(),
        };
    }
    Block::Table(Table {
        id: "risks".into(),
        title: "Risks to delivery".into(),
        columns: vec![
            Column::text("Risk", 3),
            Column::text("Lead or area", 2),
            Column::rag("RAG"),
            Column::text("Latest position", 4),
        ],
        rows,
    })
}

/// `Option<(Period, Decimal)>` → printable parts.
trait LatestPair {
    fn unwrap_or_default_pair(self) -> (String, Decimal);
}

impl LatestPair for Option<(greenplan_core::period::Period, Decimal)> {
    fn unwrap_or_default_pair(self) -> (String, Decimal) {
        self.map_or((String::new(), Decimal::ZERO), |(p, v)| (p.to_string(), v))
    }
}

fn areas_quarterly(ctx: &Ctx<'_>, quarter: Quarter) -> Section {
    let previous_end = end_of(previous_quarter(quarter).end());
    let mut blocks = Vec::new();
    for area in &ctx.plan().areas {
        let actions: Vec<&Action> = ctx
            .actions()
            .into_iter()
            .filter(|a| a.area == area.code)
            .collect();
        if actions.is_empty() && ctx.inputs.organisation.is_some() {
            continue;
        }
        blocks.push(Block::Heading {
            text: area.name.clone(),
        });
        if actions.is_empty() {
            blocks.push(Block::Note {
                text: area
                    .no_actions_reason
                    .clone()
                    .unwrap_or_else(|| "No priority actions in this area.".into()),
            });
            continue;
        }
        let rows = actions
            .iter()
            .map(|a| quarterly_action_row(ctx, a, quarter, previous_end))
            .collect();
        blocks.push(Block::Table(Table {
            id: format!("actions-{}", area.code),
            title: format!("{}: priority actions", area.name),
            columns: vec![
                Column::text("Action", 3),
                Column::text("Lead", 2),
                Column::text("Delivery", 2),
                Column::rag("RAG"),
                Column::text("Change since last quarter", 2),
                Column::text("Latest update", 4),
            ],
            rows,
        }));
    }
    Section {
        id: "areas".into(),
        title: "Priority actions by area of focus".into(),
        blocks,
    }
}

fn quarterly_action_row(
    ctx: &Ctx<'_>,
    a: &Action,
    quarter: Quarter,
    previous_end: i64,
) -> Vec<Cell> {
    let now = ctx.status_at(a, ctx.cutoff);
    let before = ctx.status_at(a, previous_end);
    let in_quarter = ctx
        .updates(&a.id, ctx.cutoff)
        .iter()
        .filter(|u| u.posted_at > previous_end)
        .count();
    let change = match (before == now, in_quarter) {
        (true, 0) => format!("No change; no update in {quarter}"),
        (true, n) => format!("No change; {n} update(s)"),
        (false, n) => format!("{} → {}; {n} update(s)", before.label(), now.label()),
    };
    vec![
        Cell::text(action_label(a)),
        Cell::text(leads(a)),
        Cell::text(a.delivery.written.clone()),
        status_cell(now),
        Cell::text(change),
        Cell::text(latest_text(ctx.updates(&a.id, ctx.cutoff).first())),
    ]
}

fn overdue_and_due(ctx: &Ctx<'_>, quarter: Quarter) -> Section {
    let next = next_quarter(quarter);
    let overdue: Vec<&Action> = ctx
        .actions()
        .into_iter()
        .filter(|a| ctx.is_overdue(a))
        .collect();
    let due: Vec<&Action> = ctx
        .actions()
        .into_iter()
        .filter(|a| {
            ctx.status_at(a, ctx.cutoff) != ActionStatus::Complete
                && ctx
                    .due_end(a)
                    .is_some_and(|e| e >= next.start() && e <= next.end())
        })
        .collect();
    let table = |id: &str, title: &str, actions: &[&Action]| {
        if actions.is_empty() {
            return Block::Note {
                text: format!("None: {}.", title.to_lowercase()),
            };
        }
        Block::Table(Table {
            id: id.into(),
            title: title.into(),
            columns: vec![
                Column::text("Action", 4),
                Column::text("Lead", 2),
                Column::text("Delivery", 2),
                Column::text("Due by", 2),
                Column::rag("RAG"),
            ],
            rows: actions
                .iter()
                .map(|a| {
                    vec![
                        Cell::text(action_label(a)),
                        Cell::text(leads(a)),
                        Cell::text(a.delivery.written.clone()),
                        Cell::text(ctx.due_end(a).map(long_date).unwrap_or_default()),
                        status_cell(ctx.status_at(a, ctx.cutoff)),
                    ]
                })
                .collect(),
        })
    };
    Section {
        id: "overdue".into(),
        title: "Overdue and due next quarter".into(),
        blocks: vec![
            Block::Heading {
                text: format!("Overdue as at {}", long_date(ctx.as_at)),
            },
            table("overdue", "Overdue actions", &overdue),
            Block::Heading {
                text: format!("Due in {next}"),
            },
            table("due-next-quarter", &format!("Actions due in {next}"), &due),
        ],
    }
}

fn returns_section(ctx: &Ctx<'_>) -> Section {
    let due = ctx.inputs.returns_due;
    let mut blocks = vec![Block::Paragraph {
        text: match due {
            Some(d) => format!(
                "Activity data returns for {}, due by {}. An organisation has made its return when activity rows for the period have been imported.",
                ctx.period,
                long_date(d)
            ),
            None => format!(
                "Activity data returns for {}. An organisation has made its return when activity rows for the period have been imported.",
                ctx.period
            ),
        },
    }];
    let rows: Vec<Vec<Cell>> = ctx
        .inputs
        .returns
        .iter()
        .map(|r| {
            vec![
                Cell::text(ctx.org_name(&r.organisation)),
                Cell::text(r.organisation.to_string()),
                match r.submitted_at {
                    Some(at) => Cell::rag(&format!("Received {}", when(at)), "green"),
                    None => Cell::rag("Missing", "red"),
                },
                Cell::number(Decimal::from(r.rows), 0),
                Cell::text(match r.approved {
                    Some(true) => "Approved",
                    Some(false) => "Awaiting approval",
                    None => "Not recorded",
                }),
                Cell::text(if r.late { "Late" } else { "" }),
            ]
        })
        .collect();
    blocks.push(Block::Table(Table {
        id: "returns".into(),
        title: "Returns received and missing".into(),
        columns: vec![
            Column::text("Organisation", 3),
            Column::text("Code", 1),
            Column::rag("Return"),
            Column::figure("Rows", ""),
            Column::text("Approval", 2),
            Column::text("Late", 1),
        ],
        rows,
    }));
    Section {
        id: "returns".into(),
        title: "Returns received and missing".into(),
        blocks,
    }
}

// ------------------------------------------------------------------------------------------
// Metrics (both reports)
// ------------------------------------------------------------------------------------------

fn metrics_section(ctx: &Ctx<'_>, id: &str, title: &str) -> Section {
    let mut metrics: Vec<(&Metric, MetricProgress)> = ctx
        .metrics()
        .into_iter()
        .map(|m| (m, ctx.progress(m)))
        .collect();
    metrics.sort_by_key(|(_, p)| rating_order(p.rating));
    let (rated, not_rated): (Vec<_>, Vec<_>) = metrics
        .into_iter()
        .partition(|(_, p)| p.rating != Rating::NotRated);
    let mut blocks = vec![Block::Paragraph {
        text: format!(
            "{} metrics are rated against the trajectories their targets draw: on track at or better than the trajectory, at risk within 5% of it, off track beyond that. {} more have no value or no target yet and are listed in the table below the charts.",
            rated.len(),
            not_rated.len()
        ),
    }];
    blocks.push(metrics_table(ctx, "metrics-rated", "Rated metrics", &rated));
    for (m, p) in &rated {
        if let Some(chart) = metric_chart(ctx, m, p) {
            blocks.push(Block::Heading {
                text: m.name.clone(),
            });
            blocks.push(Block::Labelled {
                label: p.rating.label().into(),
                text: rating_sentence(m, p),
            });
            blocks.push(Block::Chart(chart));
        }
    }
    if !not_rated.is_empty() {
        blocks.push(Block::Heading {
            text: "Metrics not yet rated".into(),
        });
        blocks.push(metrics_table(
            ctx,
            "metrics-not-rated",
            "Metrics not yet rated",
            &not_rated,
        ));
    }
    Section {
        id: id.into(),
        title: title.into(),
        blocks,
    }
}

fn rating_sentence(m: &Metric, p: &MetricProgress) -> String {
    match (&p.latest, p.expected) {
        (Some((period, v)), Some(e)) => format!(
            "{} {} in {period} against a trajectory of {} {} ({}).",
            figure(*v),
            m.unit,
            figure(e),
            m.unit,
            match m.direction {
                Direction::LowerIsBetter => "lower is better",
                Direction::HigherIsBetter => "higher is better",
            }
        ),
        _ => String::new(),
    }
}

fn metrics_table(
    ctx: &Ctx<'_>,
    id: &str,
    title: &str,
    metrics: &[(&Metric, MetricProgress)],
) -> Block {
    let rows = metrics
        .iter()
        .map(|(m, p)| {
            let (period, value) = match p.latest {
                Some((period, v)) => (Cell::text(period.to_string()), Cell::figure(v)),
                None => (Cell::Empty, Cell::Empty),
            };
            vec![
                Cell::text(m.name.clone()),
                Cell::text(
                    m.organisation
                        .as_ref()
                        .map_or_else(|| "System".into(), |o| ctx.org_name(o)),
                ),
                Cell::text(m.unit.clone()),
                period,
                value,
                p.expected.map_or(Cell::Empty, Cell::figure),
                rating_cell(p.rating),
            ]
        })
        .collect();
    Block::Table(Table {
        id: id.into(),
        title: title.into(),
        columns: vec![
            Column::text("Metric", 4),
            Column::text("Scope", 2),
            Column::text("Unit", 1),
            Column::text("Period", 1),
            Column::figure("Latest", ""),
            Column::figure("Trajectory", ""),
            Column::rag("Rating"),
        ],
        rows,
    })
}

/// The metric's trajectory chart, as the web app's metric page draws it.
fn metric_chart(ctx: &Ctx<'_>, m: &Metric, p: &MetricProgress) -> Option<Chart> {
    let t = p.trajectory.as_ref()?;
    let points = ctx.points();
    let series = trajectory_series(m, t, points.iter().copied());
    let (expected, actual) = (series.expected, series.actual);
    let labels: Vec<String> = series.years.iter().map(|y| y.to_string()).collect();
    let title = format!("{} against its trajectory ({})", m.name, m.unit);
    let svg = trajectory_chart(&title, &labels, &expected, &actual);
    Some(Chart {
        alt: chart_alt(&title, &labels, &expected, &actual),
        caption: format!("{title}. {TRAJECTORY_LEGEND}"),
        title,
        svg,
    })
}

/// How to read a trajectory chart (the web app says the same under its charts).
const TRAJECTORY_LEGEND: &str = "Dashed: the trajectory the targets draw. Solid: actual values.";

fn chart_alt(
    title: &str,
    labels: &[String],
    expected: &[Option<Decimal>],
    actual: &[Option<Decimal>],
) -> String {
    let list = |vals: &[Option<Decimal>]| {
        labels
            .iter()
            .zip(vals)
            .filter_map(|(l, v)| v.map(|v| format!("{l} {}", figure(v))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{title}. Trajectory: {}. Actual: {}.",
        list(expected),
        list(actual)
    )
}

// ------------------------------------------------------------------------------------------
// Annual report
// ------------------------------------------------------------------------------------------

/// The annual report to the ICB Board.
pub fn annual(inputs: &Inputs, year: FinancialYear) -> Report {
    let ctx = Ctx::new(inputs, ReportPeriod::Year(year));
    let footprint = FootprintView::new(&ctx);
    let mut key_figures = footprint.key_figures(year);
    key_figures.extend(action_counts(&ctx));
    key_figures.push(metric_counts(&ctx));
    let sections = vec![
        plan_structure(&ctx),
        footprint.section(&ctx, year),
        metrics_section(&ctx, "metrics", "Metrics and ratings"),
        case_studies(&ctx),
        scenarios_section(&ctx),
        visions(&ctx),
        methods(&ctx, &footprint),
    ];
    Report {
        kind: ReportKind::Annual,
        title: format!("Green Plan annual report {year}"),
        subtitle: subtitle(&ctx),
        period: year.to_string(),
        organisation: organisation_ref(&ctx),
        as_at: ctx.as_at,
        generated: inputs.now.format("%-d %B %Y %H:%M").to_string(),
        purpose: format!(
            "The annual report on the Green Plan to the ICB Board for {year}: progress in the structure of the plan, the carbon footprint against the national trajectories, every metric with its rating, case studies, progress against the visions and the methods behind every figure. {}",
            scope_sentence(&ctx)
        ),
        key_figures,
        sections,
    }
}

fn plan_structure(ctx: &Ctx<'_>) -> Section {
    let mut blocks = Vec::new();
    if let Some(g) = &ctx.plan().info.governance {
        blocks.push(Block::Labelled {
            label: "Governance".into(),
            text: g.clone(),
        });
    }
    for area in &ctx.plan().areas {
        let actions: Vec<&Action> = ctx
            .actions()
            .into_iter()
            .filter(|a| a.area == area.code)
            .collect();
        if actions.is_empty() && ctx.inputs.organisation.is_some() {
            continue;
        }
        blocks.push(Block::Heading {
            text: area.name.clone(),
        });
        for (label, text) in [
            ("Why it matters", &area.why),
            ("Where we are", &area.where_we_are),
            ("System priorities", &area.system_priorities),
        ] {
            if let Some(t) = text {
                blocks.push(Block::Labelled {
                    label: label.into(),
                    text: t.clone(),
                });
            }
        }
        if actions.is_empty() {
            if let Some(r) = &area.no_actions_reason {
                blocks.push(Block::Note { text: r.clone() });
            }
            continue;
        }
        blocks.push(Block::Table(Table {
            id: format!("actions-{}", area.code),
            title: format!("{}: priority actions", area.name),
            columns: vec![
                Column::text("Action", 3),
                Column::text("Lead", 2),
                Column::text("Delivery", 2),
                Column::text("Success measure", 3),
                Column::rag("RAG"),
                Column::text("Latest update", 3),
            ],
            rows: actions
                .iter()
                .map(|a| {
                    vec![
                        Cell::text(action_label(a)),
                        Cell::text(leads(a)),
                        Cell::text(a.delivery.written.clone()),
                        Cell::text(a.success_measure.clone()),
                        status_cell(ctx.status_at(a, ctx.cutoff)),
                        Cell::text(latest_text(ctx.updates(&a.id, ctx.cutoff).first())),
                    ]
                })
                .collect(),
        }));
    }
    Section {
        id: "plan".into(),
        title: "Progress in the structure of the plan".into(),
        blocks,
    }
}

/// The footprint of the report's scope, by year, organisation and category.
struct FootprintView {
    lines: Vec<(FinancialYear, String, NhsCategory, Decimal)>,
}

fn tonnes(kg: Decimal) -> Decimal {
    (kg / Decimal::ONE_THOUSAND).round_dp(1)
}

impl FootprintView {
    fn new(ctx: &Ctx<'_>) -> Self {
        let lines = ctx
            .inputs
            .footprint
            .lines
            .iter()
            .filter(|(_, o, _, _)| ctx.inputs.organisation.as_ref().is_none_or(|x| x == o))
            .map(|(y, o, c, kg)| (*y, ctx.org_name(o), *c, *kg))
            .collect();
        Self { lines }
    }

    /// kgCO2e in `year` of one footprint (Carbon Footprint Plus includes the Carbon Footprint).
    fn total(&self, year: FinancialYear, fp: Footprint) -> Decimal {
        self.lines
            .iter()
            .filter(|(y, _, c, _)| *y == year && in_footprint(*c, fp))
            .map(|l| l.3)
            .sum()
    }

    fn years(&self) -> Vec<FinancialYear> {
        let mut v: Vec<FinancialYear> = self.lines.iter().map(|l| l.0).collect();
        v.sort();
        v.dedup();
        v
    }

    fn key_figures(&self, year: FinancialYear) -> Vec<KeyFigure> {
        [Footprint::CarbonFootprint, Footprint::CarbonFootprintPlus]
            .into_iter()
            .map(|fp| KeyFigure {
                id: format!("footprint-{}", fp_slug(fp)),
                label: format!("{} {year}", fp.label()),
                value: format!("{} tCO2e", with_thousands(tonnes(self.total(year, fp)), 1)),
                note: "location-based, from the activity data returned".into(),
            })
            .collect()
    }

    fn section(&self, ctx: &Ctx<'_>, year: FinancialYear) -> Section {
        let mut blocks = vec![Block::Paragraph {
            text: "The footprint is computed from the activity data organisations return (energy, fuel, travel, waste, water and other activity), each row multiplied by the UK Government conversion factor of its year. The NHS Carbon Footprint covers the emissions the NHS controls directly; the Carbon Footprint Plus adds the supply chain, travel and commissioned services and includes the Carbon Footprint. The national trajectories (Delivering a Net Zero NHS, 2020) are drawn from the first year with data: the Carbon Footprint falls 80% by 2032 and reaches net zero by 2040; the Plus falls 80% by 2039 and reaches net zero by 2045.".into(),
        }];
        if self.lines.is_empty() {
            blocks.push(Block::Note {
                text: format!("No activity data has been returned yet for {}, so there is no footprint to report.", ctx.scope_label()),
            });
        } else {
            blocks.extend(self.against_national(ctx, year));
            blocks.extend(self.by_organisation(year));
            blocks.push(Block::Heading {
                text: format!("By NHS category, {year}"),
            });
            blocks.push(self.by_category(year));
        }
        Section {
            id: "footprint".into(),
            title: "Carbon footprint against the national trajectories".into(),
            blocks,
        }
    }

    fn against_national(&self, ctx: &Ctx<'_>, year: FinancialYear) -> Vec<Block> {
        let years: Vec<FinancialYear> = self.years().into_iter().filter(|y| *y <= year).collect();
        let Some(&base_year) = years.first() else {
            return vec![Block::Note {
                text: format!("No activity data for {year} or before."),
            }];
        };
        let mut rows = Vec::new();
        let mut charts = Vec::new();
        for fp in [Footprint::CarbonFootprint, Footprint::CarbonFootprintPlus] {
            let base = Baseline {
                period: greenplan_core::period::Period::FinancialYear { year: base_year },
                value: tonnes(self.total(base_year, fp)),
            };
            let Ok(t) = trajectory(Some(&base), &national_targets(fp)) else {
                continue;
            };
            for y in &years {
                let actual = tonnes(self.total(*y, fp));
                rows.push(vec![
                    Cell::text(fp.label()),
                    Cell::text(y.to_string()),
                    Cell::number(actual, 1),
                    t.at(*y).map_or(Cell::Empty, |e| Cell::number(e, 1)),
                    rating_cell(rate(Direction::LowerIsBetter, &t, *y, actual)),
                ]);
            }
            let last = year.max(ctx.plan().info.last_year);
            let chart_years: Vec<FinancialYear> =
                (base_year.0..=last.0).map(FinancialYear).collect();
            let labels: Vec<String> = chart_years.iter().map(|y| y.to_string()).collect();
            let expected: Vec<Option<Decimal>> = chart_years.iter().map(|y| t.at(*y)).collect();
            let actual: Vec<Option<Decimal>> = chart_years
                .iter()
                .map(|y| years.contains(y).then(|| tonnes(self.total(*y, fp))))
                .collect();
            let title = format!("{} against the national trajectory (tCO2e)", fp.label());
            charts.push(Block::Chart(Chart {
                alt: chart_alt(&title, &labels, &expected, &actual),
                caption: format!("{title}. {TRAJECTORY_LEGEND}"),
                svg: trajectory_chart(&title, &labels, &expected, &actual),
                title,
            }));
        }
        let mut blocks = vec![
            Block::Heading {
                text: "Against the national trajectories".into(),
            },
            Block::Table(Table {
                id: "footprint-national".into(),
                title: "Footprint against the national trajectories".into(),
                columns: vec![
                    Column::text("Footprint", 3),
                    Column::text("Year", 1),
                    Column::figure("Actual", "tCO2e"),
                    Column::figure("National trajectory", "tCO2e"),
                    Column::rag("Rating"),
                ],
                rows,
            }),
        ];
        blocks.extend(charts);
        blocks
    }

    fn by_organisation(&self, year: FinancialYear) -> Vec<Block> {
        let mut orgs: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
        for (y, o, c, kg) in &self.lines {
            if *y != year {
                continue;
            }
            let e = orgs.entry(o.as_str()).or_default();
            match c.footprint() {
                Footprint::CarbonFootprint => e.0 += *kg,
                Footprint::CarbonFootprintPlus => e.1 += *kg,
                Footprint::Outside => {}
            }
        }
        let rows: Vec<Vec<Cell>> = orgs
            .iter()
            .map(|(o, (cf, plus))| {
                vec![
                    Cell::text(*o),
                    Cell::number(tonnes(*cf), 1),
                    Cell::number(tonnes(*plus), 1),
                    Cell::number(tonnes(*cf + *plus), 1),
                ]
            })
            .collect();
        let bars: Vec<Bar> = orgs
            .iter()
            .map(|(o, (cf, plus))| Bar {
                label: o.to_string(),
                value: *cf + *plus,
                display: format!("{} tCO2e", with_thousands(tonnes(*cf + *plus), 1)),
            })
            .collect();
        let title = format!("Carbon footprint by organisation, {year}, tCO2e");
        let alt = bars
            .iter()
            .map(|b| format!("{}: {}", b.label, b.display))
            .collect::<Vec<_>>()
            .join("; ");
        vec![
            Block::Heading {
                text: format!("By organisation, {year}"),
            },
            Block::Table(Table {
                id: "footprint-by-organisation".into(),
                title: format!("Footprint by organisation, {year}"),
                columns: vec![
                    Column::text("Organisation", 3),
                    Column::figure("Carbon Footprint", "tCO2e"),
                    Column::figure("Plus only", "tCO2e"),
                    Column::figure("Carbon Footprint Plus", "tCO2e"),
                ],
                rows,
            }),
            Block::Chart(Chart {
                svg: bar_chart(&title, &bars),
                caption: title.clone(),
                alt: format!("{title}. {alt}."),
                title,
            }),
        ]
    }

    fn by_category(&self, year: FinancialYear) -> Block {
        let mut cats: BTreeMap<NhsCategory, Decimal> = BTreeMap::new();
        for (y, _, c, kg) in &self.lines {
            if *y == year {
                *cats.entry(*c).or_default() += *kg;
            }
        }
        Block::Table(Table {
            id: "footprint-by-category".into(),
            title: format!("Footprint by NHS category, {year}"),
            columns: vec![
                Column::text("NHS category", 3),
                Column::text("Footprint", 2),
                Column::figure("Emissions", "tCO2e"),
            ],
            rows: cats
                .iter()
                .map(|(c, kg)| {
                    vec![
                        Cell::text(c.label()),
                        Cell::text(c.footprint().label()),
                        Cell::number(tonnes(*kg), 1),
                    ]
                })
                .collect(),
        })
    }
}

fn in_footprint(c: NhsCategory, fp: Footprint) -> bool {
    match fp {
        Footprint::CarbonFootprint => c.footprint() == Footprint::CarbonFootprint,
        Footprint::CarbonFootprintPlus => c.footprint() != Footprint::Outside,
        Footprint::Outside => c.footprint() == Footprint::Outside,
    }
}

fn fp_slug(fp: Footprint) -> &'static str {
    match fp {
        Footprint::CarbonFootprint => "carbon-footprint",
        Footprint::CarbonFootprintPlus => "carbon-footprint-plus",
        Footprint::Outside => "outside",
    }
}

fn case_studies(ctx: &Ctx<'_>) -> Section {
    let mut blocks = Vec::new();
    for c in &ctx.plan().case_studies {
        if let Some(o) = &ctx.inputs.organisation
            && !c.organisations.contains(o)
        {
            continue;
        }
        blocks.push(Block::Heading {
            text: c.title.clone(),
        });
        let orgs: Vec<String> = c.organisations.iter().map(|o| ctx.org_name(o)).collect();
        if !orgs.is_empty() {
            blocks.push(Block::Labelled {
                label: "Organisations".into(),
                text: orgs.join(", "),
            });
        }
        for para in c.text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            blocks.push(Block::Paragraph {
                text: para.trim().to_string(),
            });
        }
    }
    if blocks.is_empty() {
        blocks.push(Block::Note {
            text: "No case studies for this organisation.".into(),
        });
    }
    Section {
        id: "case-studies".into(),
        title: "Case studies".into(),
        blocks,
    }
}

/// The saved care pathway scenarios and the carbon each saves (the organisation's own when the
/// report is for one organisation).
fn scenarios_section(ctx: &Ctx<'_>) -> Section {
    let rows: Vec<Vec<Cell>> = ctx
        .inputs
        .scenarios
        .iter()
        .filter(|s| {
            ctx.inputs
                .organisation
                .as_ref()
                .is_none_or(|o| o == &s.organisation)
        })
        .map(|s| {
            vec![
                Cell::text(s.name.clone()),
                Cell::text(ctx.org_name(&s.organisation)),
                Cell::text(s.actions.join(", ")),
                s.kgco2e_saved.map_or(Cell::Empty, Cell::figure),
                Cell::text(s.note.clone()),
            ]
        })
        .collect();
    let blocks = if rows.is_empty() {
        vec![Block::Note {
            text: "No care pathway scenarios have been saved.".into(),
        }]
    } else {
        vec![
            Block::Paragraph {
                text: "Carbon saved by changes to care pathways, from counts of care activities avoided (or before and after) and the care-activity factor library, as the scenario pages compute it.".into(),
            },
            Block::Table(Table {
                id: "pathway-scenarios".into(),
                title: "Care pathway scenarios".into(),
                columns: vec![
                    Column::text("Scenario", 3),
                    Column::text("Organisation", 2),
                    Column::text("Actions", 1),
                    Column::figure("Saved", "kgCO2e"),
                    Column::text("Equivalent", 2),
                ],
                rows,
            }),
        ]
    };
    Section {
        id: "pathway-scenarios".into(),
        title: "Care pathway scenarios".into(),
        blocks,
    }
}

fn visions(ctx: &Ctx<'_>) -> Section {
    let rows = ctx
        .plan()
        .visions
        .iter()
        .map(|v| {
            let area = v.area_as_written.clone().unwrap_or_else(|| {
                v.areas
                    .iter()
                    .map(|a| ctx.area_name(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            vec![
                Cell::text(v.vision.clone()),
                Cell::text(area),
                Cell::text(v.objective.clone()),
                Cell::text(
                    v.progress
                        .iter()
                        .map(|p| format!("• {p}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
            ]
        })
        .collect();
    Section {
        id: "visions".into(),
        title: "Progress against the visions".into(),
        blocks: vec![
            Block::Paragraph {
                text: "The visions of the previous plan, their objectives and the progress recorded against them, as in Appendix 2 of the plan.".into(),
            },
            Block::Table(Table {
                id: "visions".into(),
                title: "Progress against the visions".into(),
                columns: vec![
                    Column::text("Vision", 2),
                    Column::text("Area", 1),
                    Column::text("Objective", 2),
                    Column::text("Progress", 5),
                ],
                rows,
            }),
        ],
    }
}

fn methods(ctx: &Ctx<'_>, footprint: &FootprintView) -> Section {
    let mut blocks = vec![
        Block::Heading {
            text: "Conversion factors".into(),
        },
        Block::Paragraph {
            text: "Each activity row is converted with the UK Government GHG Conversion Factors for Company Reporting (DESNZ) edition of its financial year, unless the row names an edition. Scope 2 electricity is reported location-based (grid average); market-based figures are kept beside it. Figures are exact decimals, rounded only for printing.".into(),
        },
        editions_table(ctx),
        Block::Heading {
            text: "Global warming potentials".into(),
        },
        Block::Paragraph {
            text: "CO2e is as published in each factor edition: the DESNZ factors use 100-year global warming potentials (GWP100) from the IPCC assessment report the edition names (the Fifth Assessment Report in recent editions). Biogenic CO2 is reported outside of scopes and left out of both NHS footprints.".into(),
        },
        Block::Heading {
            text: "Data gaps and estimates".into(),
        },
    ];
    blocks.push(Block::Bullets {
        items: data_gaps(ctx, footprint),
    });
    if let Some(t) = estimates_table(ctx) {
        blocks.push(t);
    }
    Section {
        id: "methods".into(),
        title: "Methods and data quality".into(),
        blocks,
    }
}

fn editions_table(ctx: &Ctx<'_>) -> Block {
    let used = &ctx.inputs.footprint.editions_used;
    if ctx.inputs.editions.is_empty() {
        return Block::Note {
            text: "No conversion factor edition is loaded.".into(),
        };
    }
    Block::Table(Table {
        id: "factor-editions".into(),
        title: "Conversion factor editions".into(),
        columns: vec![
            Column::text("Edition", 1),
            Column::text("Year", 1),
            Column::text("Source", 4),
            Column::figure("Factors", ""),
            Column::text("Used in this report", 1),
        ],
        rows: ctx
            .inputs
            .editions
            .iter()
            .map(|e| {
                vec![
                    Cell::text(e.name.clone()),
                    Cell::text(e.year.map(|y| y.to_string()).unwrap_or_default()),
                    Cell::text(e.source.clone()),
                    Cell::number(Decimal::from(e.factor_count), 0),
                    Cell::text(if used.contains(&e.name) { "Yes" } else { "No" }),
                ]
            })
            .chain(
                used.iter()
                    .filter(|u| !ctx.inputs.editions.iter().any(|e| &e.name == *u))
                    .map(|u| {
                        vec![
                            Cell::text(u.clone()),
                            Cell::text(String::new()),
                            Cell::text(medicines_factor_source(u)),
                            Cell::text(String::new()),
                            Cell::text("Yes"),
                        ]
                    }),
            )
            .collect(),
    })
}

/// What the factors of medicines' own editions are (they are not conversion factor files).
fn medicines_factor_source(edition: &str) -> String {
    if edition == greenplan_service::footprint::INHALER_EDITION {
        "Inhaler product table: kgCO2e per inhaler of each BNF presentation, shipped with greenplan (data/inhalers) with the ICS's own figures over it; each product's source is listed by `greenplan prescribing products`".into()
    } else if let Some(set) = edition.strip_prefix("gwp-") {
        format!(
            "Global warming potentials (GWP100, set `{set}`) of anaesthetic gases, for trusts' gas returns"
        )
    } else {
        String::new()
    }
}

fn data_gaps(ctx: &Ctx<'_>, footprint: &FootprintView) -> Vec<String> {
    let year = ctx.period.year();
    let mut gaps = Vec::new();
    let reporting: Vec<String> = footprint
        .lines
        .iter()
        .filter(|l| l.0 == year)
        .map(|l| l.1.clone())
        .collect();
    let missing: Vec<String> = ctx
        .plan()
        .organisations
        .iter()
        .filter(|o| crate::gather::makes_returns(o.kind))
        .filter(|o| {
            ctx.inputs
                .organisation
                .as_ref()
                .is_none_or(|x| x == &o.code)
        })
        .map(|o| o.display_name().to_string())
        .filter(|n| !reporting.contains(n))
        .collect();
    if !missing.is_empty() {
        gaps.push(format!(
            "No activity data for {year} from: {}. Their emissions are not in the footprint.",
            missing.join(", ")
        ));
    }
    gaps.push(format!(
        "A year's footprint sums the activity returned for it so far: until every quarter of {year} is returned, {year} is not comparable with a full year."
    ));
    let unconverted = &ctx.inputs.footprint.unconverted;
    if !unconverted.is_empty() {
        gaps.push(format!(
            "{} stored activity rows could not be converted with the loaded factors and are left out, for example {}.",
            unconverted.len(),
            unconverted.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    for n in &ctx.inputs.footprint.notes {
        gaps.push(format!("{n}."));
    }
    let metrics = ctx.metrics();
    let no_value = metrics
        .iter()
        .filter(|m| ctx.progress(m).latest.is_none())
        .count();
    let no_target = metrics.iter().filter(|m| m.targets.is_empty()).count();
    gaps.push(format!(
        "{no_value} of {} metrics have no value yet; {no_target} have no target, so cannot be rated.",
        metrics.len()
    ));
    for f in greenplan_core::quality::unit_flags(ctx.plan()) {
        let name = ctx
            .plan()
            .metric(&f.metric)
            .map_or(f.metric.as_str(), |m| m.name.as_str());
        gaps.push(format!("{name} ({}): {}.", f.period, f.message));
    }
    gaps
}

/// Figures that are interpretations of the source (their note says how they were read).
fn estimates_table(ctx: &Ctx<'_>) -> Option<Block> {
    let names: BTreeMap<&str, &Metric> = ctx
        .metrics()
        .into_iter()
        .map(|m| (m.id.as_str(), m))
        .collect();
    let rows: Vec<Vec<Cell>> = ctx
        .points()
        .into_iter()
        .filter(|d| d.note.is_some() && names.contains_key(d.metric.as_str()))
        .map(|d| {
            let m = names.get(d.metric.as_str());
            vec![
                Cell::text(m.map_or_else(|| d.metric.clone(), |m| m.name.clone())),
                Cell::text(d.period.to_string()),
                Cell::text(format!(
                    "{} {}",
                    figure(d.value),
                    m.map(|m| m.unit.as_str()).unwrap_or("")
                )),
                Cell::text(d.as_written.clone().unwrap_or_default()),
                Cell::text(d.note.clone().unwrap_or_default()),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| {
        Block::Table(Table {
            id: "estimates".into(),
            title: "Figures read with an interpretation".into(),
            columns: vec![
                Column::text("Metric", 3),
                Column::text("Period", 1),
                Column::text("Recorded", 2),
                Column::text("As printed", 2),
                Column::text("How it was read", 4),
            ],
            rows,
        })
    })
}
