//! Editing a metric.

use super::*;

// ---------------------------------------------------------------- metrics

#[derive(Template)]
#[template(path = "edit_metric.html")]
pub(crate) struct EditMetricPage {
    title: String,
    chrome: Chrome,
    metric_id: String,
    form: MetricForm,
    error: String,
    stale: Option<StaleNotice>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MetricForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    baseline_period: String,
    #[serde(default)]
    baseline_value: String,
    #[serde(default)]
    targets: String,
    /// The revision the form was drawn from (`crate::kit::stale`).
    #[serde(default)]
    revision: String,
}

impl MetricForm {
    fn of(m: &Metric) -> Self {
        Self {
            csrf_token: String::new(),
            name: m.name.clone(),
            unit: m.unit.clone(),
            direction: match m.direction {
                Direction::LowerIsBetter => "lower-is-better".into(),
                Direction::HigherIsBetter => "higher-is-better".into(),
            },
            description: m.description.clone().unwrap_or_default(),
            baseline_period: m
                .baseline
                .as_ref()
                .map(|b| b.period.to_string())
                .unwrap_or_default(),
            baseline_value: m
                .baseline
                .as_ref()
                .map(|b| b.value.normalize().to_string())
                .unwrap_or_default(),
            targets: m
                .targets
                .iter()
                .map(|t| t.target.to_line())
                .collect::<Vec<_>>()
                .join("\n"),
            revision: String::new(),
        }
    }

    /// Applies the form to the metric `m`, or says what to fix.
    pub(crate) fn apply(&self, m: &mut Metric) -> Result<(), String> {
        if self.name.trim().is_empty() || self.unit.trim().is_empty() {
            return Err("Give the metric a name and a unit.".into());
        }
        m.direction = match self.direction.as_str() {
            "lower-is-better" => Direction::LowerIsBetter,
            "higher-is-better" => Direction::HigherIsBetter,
            _ => return Err("Choose whether lower or higher is better.".into()),
        };
        m.baseline = match (self.baseline_period.trim(), self.baseline_value.trim()) {
            ("", "") => None,
            (p, v) => Some(Baseline {
                period: Period::parse(p).map_err(|e| format!("Baseline period: {e}"))?,
                value: greenplan_core::quantity::parse_decimal(v)
                    .ok_or_else(|| format!("Baseline value: `{v}` is not a number"))?,
            }),
        };
        let mut targets = Vec::new();
        for line in lines(&self.targets) {
            let target = Target::parse_line(&line).map_err(|e| format!("Targets: {e}"))?;
            // Keep the source of a target that is unchanged.
            let kept = m.targets.iter().find(|t| t.target == target).cloned();
            targets.push(kept.unwrap_or(greenplan_core::plan::MetricTarget {
                target,
                source: Some("set in greenplan".into()),
                reference: None,
            }));
        }
        if m.baseline.is_none()
            && targets
                .iter()
                .any(|t| !matches!(t.target, Target::Absolute { .. }))
        {
            return Err(
                "A percentage target needs a baseline: give the baseline period and value.".into(),
            );
        }
        m.name = self.name.trim().to_string();
        m.unit = self.unit.trim().to_string();
        m.description = some_text(&self.description);
        m.targets = targets;
        Ok(())
    }
}

pub async fn edit_metric_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    editor_of(&viewer)?;
    let revision = revision_now(&state, greenplan_store::Revised::Metric, &id).await?;
    let plan = fresh_plan(&state).await?;
    let metric = plan.metric(&id).ok_or_else(|| not_found_error("metric"))?;
    let mut form = MetricForm::of(metric);
    form.revision = revision.to_string();
    html(EditMetricPage {
        title: format!("Edit {}", metric.name),
        chrome: Chrome::of(&viewer),
        metric_id: id,
        form,
        error: String::new(),
        stale: None,
    })
}

pub async fn edit_metric(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(mut form): axum::Form<MetricForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit the plan")?;
    plan_editor(&user)?;
    let revision = revision_of(Some(&form.revision))?;
    let plan = fresh_plan(&state).await?;
    let mut metric = plan
        .metric(&id)
        .cloned()
        .ok_or_else(|| not_found_error("metric"))?;
    if let Err(error) = form.apply(&mut metric) {
        return shown_again(EditMetricPage {
            title: format!("Edit {}", metric.name),
            chrome: Chrome::of(&viewer),
            metric_id: id,
            form,
            error,
            stale: None,
        });
    }
    if let Err(e) = state
        .store
        .update_metric(&user.email, &metric, revision)
        .await
    {
        let stale = stale_of(e).map_err(PageError::from)?;
        form.revision = stale.current.to_string();
        return shown_stale(EditMetricPage {
            title: format!("Edit {}", metric.name),
            chrome: Chrome::of(&viewer),
            metric_id: id,
            form,
            error: String::new(),
            stale: Some(StaleNotice::plain(&stale)),
        });
    }
    see_other(&format!("/metrics/{id}"))
}
