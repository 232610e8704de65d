//! Metrics: the list, a metric's page with its trajectory, recording values, the values CSV.

use super::*;

#[derive(Template)]
#[template(path = "metrics.html")]
pub(crate) struct MetricsPage {
    title: String,
    chrome: Chrome,
    metrics: Vec<MetricRow>,
}

pub async fn metrics(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let mut rows: Vec<(Rating, MetricRow)> = plan
        .metrics
        .iter()
        .map(|m| {
            let p = metric_progress(m, &plan.data_points);
            (p.rating, metric_row(m, &p, &plan))
        })
        .collect();
    rows.sort_by_key(|(r, _)| rating_order(*r));
    html(MetricsPage {
        chrome: Chrome::of(&viewer),
        title: "Metrics".into(),
        metrics: rows.into_iter().map(|(_, m)| m).collect(),
    })
}

/// A value row on a metric page.
pub struct ValueRow {
    pub period: String,
    pub organisation: String,
    pub value: String,
    pub as_written: String,
    pub note: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "metric.html")]
pub(crate) struct MetricPage {
    title: String,
    chrome: Chrome,
    register: Option<crate::kit::links::RegisterFigures>,
    history: Vec<HistoryRow>,
    metric: greenplan_core::plan::Metric,
    row: MetricRow,
    direction: String,
    baseline: String,
    targets: Vec<String>,
    no_trajectory: String,
    chart: String,
    trajectory: Vec<(String, String)>,
    values: Vec<ValueRow>,
    flags: Vec<greenplan_core::quality::UnitFlag>,
    /// Organisations the viewer may record values for: (code, name, selected).
    record_for: Vec<(String, String, bool)>,
    form: ValueForm,
    error: String,
}

/// The form for recording a metric value, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    pub csrf_token: String,
    /// ODS code, or `system` for a system-wide value.
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub note: String,
}

pub async fn metric(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    if viewer.user.is_some() {
        return html(metric_page(&viewer, &state, &id, ValueForm::default(), String::new()).await?);
    }
    anonymous_page(&state, &format!("/metrics/{id}"), || async {
        metric_page(&viewer, &state, &id, ValueForm::default(), String::new())
            .await?
            .render()
            .map_err(render_error)
    })
    .await
}

pub(crate) async fn metric_page(
    viewer: &Viewer,
    state: &AppState,
    id: &str,
    form: ValueForm,
    error: String,
) -> Result<MetricPage, PageError> {
    let id = id.to_string();
    let plan = plan(state).await?;
    let metric = plan
        .metric(&id)
        .cloned()
        .ok_or_else(|| not_found_error("metric"))?;
    let p = metric_progress(&metric, &plan.data_points);
    let row = metric_row(&metric, &p, &plan);
    let org_name = |o: &Option<greenplan_core::ods::OdsCode>| {
        o.as_ref().map_or_else(
            || "System".to_string(),
            |c| {
                plan.organisation(c)
                    .map_or_else(|| c.to_string(), |x| x.display_name().to_string())
            },
        )
    };
    let values: Vec<ValueRow> = plan
        .data_points
        .iter()
        .filter(|d| d.metric == id)
        .map(|d| ValueRow {
            period: d.period.to_string(),
            organisation: org_name(&d.organisation),
            value: format!("{} {}", number(d.value), metric.unit),
            as_written: d.as_written.clone().unwrap_or_default(),
            note: d.note.clone().unwrap_or_default(),
            reference: d.reference.clone().unwrap_or_default(),
        })
        .collect();
    let targets = metric
        .targets
        .iter()
        .map(|t| {
            let text = match &t.target {
                greenplan_core::target::Target::Absolute { period, value } => {
                    format!("{} {} by {period}", number(*value), metric.unit)
                }
                greenplan_core::target::Target::PercentVsBaseline { period, percent } => {
                    format!("{}% against the baseline by {period}", percent.normalize())
                }
                greenplan_core::target::Target::CompoundPercentPerYear { from, to, percent } => {
                    format!("{}% a year from {from} to {to}", percent.normalize())
                }
            };
            match &t.source {
                Some(s) => format!("{text} ({s})"),
                None => text,
            }
        })
        .collect();
    let (chart, trajectory) = match &p.trajectory {
        Some(t) => {
            let series =
                greenplan_core::progress::trajectory_series(&metric, t, plan.data_points.iter());
            let (expected, actual) = (series.expected, series.actual);
            let labels: Vec<String> = series.years.iter().map(|y| y.to_string()).collect();
            (
                trajectory_chart(
                    &format!("{} against its trajectory", metric.name),
                    &labels,
                    &expected,
                    &actual,
                ),
                t.points
                    .iter()
                    .map(|(y, v)| (y.to_string(), format!("{} {}", number(*v), metric.unit)))
                    .collect(),
            )
        }
        None => (String::new(), Vec::new()),
    };
    let record_for = match &viewer.user {
        None => Vec::new(),
        Some(user) => {
            let wanted = if form.organisation.is_empty() {
                metric
                    .organisation
                    .as_ref()
                    .map_or_else(|| "system".to_string(), |o| o.to_string())
            } else {
                form.organisation.clone()
            };
            let mut choices = Vec::new();
            if metric.organisation.is_none() && user.access.can_record_value(None, &plan) {
                choices.push((
                    "system".to_string(),
                    format!("System ({})", plan.info.system),
                    wanted == "system",
                ));
            }
            for o in &plan.organisations {
                let allowed = metric.organisation.as_ref().is_none_or(|m| m == &o.code);
                if allowed && user.access.can_record_value(Some(&o.code), &plan) {
                    choices.push((
                        o.code.to_string(),
                        o.name.clone(),
                        wanted == o.code.as_str(),
                    ));
                }
            }
            choices
        }
    };
    Ok(MetricPage {
        register: crate::kit::links::register_figures(state, &metric).await?,
        history: history_of(state, "metric", &id).await?,
        chrome: Chrome::of(viewer),
        record_for,
        form,
        error,
        title: metric.name.clone(),
        direction: match metric.direction {
            greenplan_core::target::Direction::LowerIsBetter => "Lower is better".into(),
            greenplan_core::target::Direction::HigherIsBetter => "Higher is better".into(),
        },
        baseline: metric.baseline.as_ref().map_or_else(String::new, |b| {
            format!("{} {} in {}", number(b.value), metric.unit, b.period)
        }),
        targets,
        no_trajectory: p.no_trajectory.clone().unwrap_or_default(),
        chart,
        trajectory,
        values,
        flags: greenplan_core::quality::unit_flags(&plan)
            .into_iter()
            .filter(|f| f.metric == id)
            .collect(),
        row,
        metric,
    })
}

/// Records a value of a metric for an organisation (or the system), checked against the
/// viewer's roles on the server, CSRF-protected and audited.
pub async fn post_metric_value(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<ValueForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "record a value")?;
    let plan = plan(&state).await?;
    let metric = plan.metric(&id).ok_or_else(|| not_found_error("metric"))?;
    let organisation = match form.organisation.as_str() {
        "" | "system" => None,
        code => Some(
            greenplan_core::ods::OdsCode::parse(code)
                .map_err(|e| PageError::Unprocessable(e.to_string()))?,
        ),
    };
    let scoped_elsewhere = metric.organisation.is_some() && organisation != metric.organisation;
    if scoped_elsewhere || !user.access.can_record_value(organisation.as_ref(), &plan) {
        return Err(PageError::Forbidden("You cannot record values of this metric for that organisation: only its own contributors can.".into(),
        ));
    }
    let rejected = |message: String, form: ValueForm| async {
        let mut page = html(metric_page(&viewer, &state, &id, form, message).await?)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(page)
    };
    let period = match greenplan_core::period::Period::parse(&form.period) {
        Ok(p) if p != greenplan_core::period::Period::Ongoing => p,
        Ok(_) => {
            return rejected(
                "Period: a value belongs to a period, such as 2025/26, Q3 2025/26 or 2025-12"
                    .into(),
                form,
            )
            .await;
        }
        Err(e) => return rejected(format!("Period: {e}"), form).await,
    };
    let Some(value) = greenplan_core::quantity::parse_decimal(&form.value) else {
        return rejected(
            format!(
                "Value: `{}` is not a number; enter digits only, in {}",
                form.value.trim(),
                metric.unit
            ),
            form,
        )
        .await;
    };
    let record = greenplan_store::MetricValue {
        metric: id.clone(),
        organisation,
        period,
        value,
        as_written: None,
        note: Some(form.note.trim().to_string()).filter(|n| !n.is_empty()),
        reference: None,
        origin: user.email.clone(),
    };
    state
        .store
        .record_metric_value(&user.email, &record)
        .await?;
    Ok(axum::response::Redirect::to(&format!("/metrics/{id}#values")).into_response())
}

pub async fn metric_csv(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let plan = plan(&state).await?;
    let metric = plan.metric(&id).ok_or_else(|| not_found_error("metric"))?;
    let body = csv_bytes(
        &[
            "metric",
            "organisation",
            "period",
            "value",
            "unit",
            "as_written",
            "note",
            "reference",
        ],
        plan.data_points.iter().filter(|d| d.metric == id).map(|d| {
            vec![
                d.metric.clone(),
                d.organisation
                    .as_ref()
                    .map_or_else(String::new, |o| o.to_string()),
                d.period.code(),
                d.value.normalize().to_string(),
                metric.unit.clone(),
                d.as_written.clone().unwrap_or_default(),
                d.note.clone().unwrap_or_default(),
                d.reference.clone().unwrap_or_default(),
            ]
        }),
    )?;
    Ok(csv_response(&format!("{id}.csv"), body))
}
