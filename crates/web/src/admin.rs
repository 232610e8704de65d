//! The ICB sustainability lead's pages: edit the plan (areas, actions, metrics and their
//! targets), add and archive organisations, manage people and their roles. Organisation
//! admins manage their own organisation's people. Every handler checks the signed-in person's
//! access on the server and carries a CSRF token; the store audits each change.

use crate::AppState;
use crate::auth::Viewer;
use crate::pages::{Chrome, PageError, PageResult, html, not_found_error, plan};
use crate::stale::{StaleNotice, fresh_plan, revision_of, stale_of};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{DeliveryDate, Period};
use greenplan_core::plan::{Action, Area, Metric, Organisation, OrganisationKind};
use greenplan_core::target::{Baseline, Direction, Target};
use greenplan_store::{SignedIn, StoreError};

/// Only the ICB's sustainability lead (a system admin) may change the plan.
fn plan_editor(user: &SignedIn) -> Result<(), PageError> {
    if user.access.can_run_the_plan() {
        Ok(())
    } else {
        Err(PageError(
            StatusCode::FORBIDDEN,
            "Only the ICB's system administrators can change the plan, its organisations and its reporting periods.".into(),
        ))
    }
}

/// A signed-in reader who may edit the plan, for the edit pages (GET).
fn editor_of(viewer: &Viewer) -> Result<&SignedIn, PageError> {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError(StatusCode::UNAUTHORIZED, "Sign in to edit the plan.".into()))?;
    plan_editor(user)?;
    Ok(user)
}

/// A store refusal becomes a 422 page with its message; anything else a 500.
fn refused(e: StoreError) -> PageError {
    match e {
        StoreError::Rejected(m) => PageError(StatusCode::UNPROCESSABLE_ENTITY, m),
        other => other.into(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A form shown again with what to fix (422).
fn shown_again<T: Template>(page: T) -> PageResult {
    let mut page = html(page)?;
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page)
}

/// A form shown again after a save from a stale copy was refused (409).
fn shown_stale<T: Template>(page: T) -> PageResult {
    let mut page = html(page)?;
    *page.status_mut() = StatusCode::CONFLICT;
    Ok(page)
}

/// The revision of a plan record, read before the record (see `Store::revision`); a
/// record the store does not hold is not found.
async fn revision_now(
    state: &AppState,
    kind: greenplan_store::Revised,
    key: &str,
) -> Result<i64, PageError> {
    state
        .store
        .revision(kind, key)
        .await?
        .ok_or_else(|| not_found_error(kind.noun()))
}

fn see_other(to: &str) -> PageResult {
    Ok(Redirect::to(to).into_response())
}

async fn changed(state: &AppState) {
    state.cache.invalidate().await;
}

// ---------------------------------------------------------------- areas

#[derive(Template)]
#[template(path = "edit_area.html")]
struct EditAreaPage {
    title: String,
    chrome: Chrome,
    area: Area,
    error: String,
    /// The area's revision, sent back with the form.
    revision: i64,
    stale: Option<StaleNotice>,
}

#[derive(serde::Deserialize)]
pub struct AreaForm {
    #[serde(default)]
    csrf_token: String,
    name: String,
    #[serde(default)]
    why: String,
    #[serde(default)]
    where_we_are: String,
    #[serde(default)]
    system_priorities: String,
    /// The revision the form was drawn from (`crate::stale`).
    #[serde(default)]
    revision: String,
}

fn some_text(s: &str) -> Option<String> {
    Some(s.trim().replace("\r\n", "\n")).filter(|s| !s.is_empty())
}

pub async fn edit_area_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    editor_of(&viewer)?;
    let revision = revision_now(&state, greenplan_store::Revised::Area, &code).await?;
    let plan = fresh_plan(&state).await?;
    let area = plan
        .area(&code)
        .cloned()
        .ok_or_else(|| not_found_error("area of focus"))?;
    html(EditAreaPage {
        title: format!("Edit {}", area.name),
        chrome: Chrome::of(&viewer),
        area,
        error: String::new(),
        revision,
        stale: None,
    })
}

pub async fn edit_area(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<AreaForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit the plan")?;
    plan_editor(&user)?;
    let revision = revision_of(Some(&form.revision))?;
    let plan = fresh_plan(&state).await?;
    let mut area = plan
        .area(&code)
        .cloned()
        .ok_or_else(|| not_found_error("area of focus"))?;
    area.name = form.name.trim().to_string();
    area.why = some_text(&form.why);
    area.where_we_are = some_text(&form.where_we_are);
    area.system_priorities = some_text(&form.system_priorities);
    if area.name.is_empty() {
        return shown_again(EditAreaPage {
            title: "Edit area of focus".into(),
            chrome: Chrome::of(&viewer),
            area,
            error: "Give the area of focus a name.".into(),
            revision,
            stale: None,
        });
    }
    if let Err(e) = state.store.update_area(&user.email, &area, revision).await {
        let stale = stale_of(e).map_err(refused)?;
        return shown_stale(EditAreaPage {
            title: format!("Edit {}", area.name),
            chrome: Chrome::of(&viewer),
            area,
            error: String::new(),
            revision: stale.current,
            stale: Some(StaleNotice::plain(&stale)),
        });
    }
    changed(&state).await;
    see_other(&format!("/areas/{code}"))
}

// ---------------------------------------------------------------- actions

#[derive(Template)]
#[template(path = "edit_action.html")]
struct EditActionPage {
    title: String,
    chrome: Chrome,
    /// Where the form posts.
    post_to: String,
    area_name: String,
    is_new: bool,
    action_id: String,
    form: ActionForm,
    organisations: Vec<(String, String, bool)>,
    error: String,
    stale: Option<StaleNotice>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    leads: String,
    /// Codes of the lead organisations, comma-separated (from the checkboxes, which send
    /// one field each: see `parse_action_form`).
    #[serde(default)]
    lead_organisations: Vec<String>,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    success_measure: String,
    #[serde(default)]
    reason: String,
    /// The revision the form was drawn from (`crate::stale`; unused for a new action).
    #[serde(default)]
    revision: String,
}

impl ActionForm {
    fn of(a: &Action) -> Self {
        Self {
            csrf_token: String::new(),
            title: a.title.clone(),
            leads: a.leads.join("\n"),
            lead_organisations: a.lead_organisations.iter().map(|o| o.to_string()).collect(),
            delivery: a.delivery.written.clone(),
            success_measure: a.success_measure.clone(),
            reason: String::new(),
            revision: String::new(),
        }
    }

    /// Applies the form to `action`, or says what to fix.
    pub(crate) fn apply(
        &self,
        action: &mut Action,
        plan: &greenplan_core::plan::Plan,
    ) -> Result<(), String> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err("Give the action a title.".into());
        }
        if self.success_measure.trim().is_empty() {
            return Err("Say how success will be measured.".into());
        }
        let mut orgs = Vec::new();
        for code in &self.lead_organisations {
            let code = OdsCode::parse(code).map_err(|e| format!("Lead organisation: {e}"))?;
            if plan.organisation(&code).is_none() {
                return Err(format!("Lead organisation {code} is not in the plan."));
            }
            orgs.push(code);
        }
        let delivery = DeliveryDate::parse(self.delivery.trim()).map_err(|e| {
            format!("Delivery date: {e}. Write it as people say it, e.g. \"Q4 2026/27\", \"By March 2027\" or \"Ongoing\".")
        })?;
        action.title = title.to_string();
        action.leads = lines(&self.leads);
        action.lead_organisations = orgs;
        action.delivery = delivery;
        action.success_measure = self.success_measure.trim().replace("\r\n", "\n");
        Ok(())
    }
}

/// Reads an action form: urlencoded, with one `lead_organisations` field per ticked box
/// (serde_urlencoded does not gather repeated keys, so this does).
pub(crate) fn parse_action_form(body: &[u8]) -> ActionForm {
    let mut form = ActionForm::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf_token" => form.csrf_token = v,
            "title" => form.title = v,
            "leads" => form.leads = v,
            "lead_organisations" => form.lead_organisations.push(v),
            "delivery" => form.delivery = v,
            "success_measure" => form.success_measure = v,
            "reason" => form.reason = v,
            "revision" => form.revision = v,
            _ => {}
        }
    }
    form
}

fn organisation_choices(
    plan: &greenplan_core::plan::Plan,
    chosen: &[String],
) -> Vec<(String, String, bool)> {
    plan.organisations
        .iter()
        .map(|o| {
            let code = o.code.to_string();
            let ticked = chosen.contains(&code);
            (code, o.name.clone(), ticked)
        })
        .collect()
}

pub async fn edit_action_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    editor_of(&viewer)?;
    let revision = revision_now(&state, greenplan_store::Revised::Action, &id).await?;
    let plan = fresh_plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found_error("priority action"))?;
    let mut form = ActionForm::of(action);
    form.revision = revision.to_string();
    html(EditActionPage {
        title: format!("Edit {}", action.id),
        chrome: Chrome::of(&viewer),
        post_to: format!("/actions/{id}/edit"),
        area_name: plan
            .area(&action.area)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        is_new: false,
        action_id: id,
        organisations: organisation_choices(&plan, &form.lead_organisations),
        form,
        error: String::new(),
        stale: None,
    })
}

pub async fn edit_action(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let mut form = parse_action_form(&body);
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit the plan")?;
    plan_editor(&user)?;
    let revision = revision_of(Some(&form.revision))?;
    let plan = fresh_plan(&state).await?;
    let mut action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| not_found_error("priority action"))?;
    if let Err(error) = form.apply(&mut action, &plan) {
        return shown_again(EditActionPage {
            title: format!("Edit {id}"),
            chrome: Chrome::of(&viewer),
            post_to: format!("/actions/{id}/edit"),
            area_name: plan
                .area(&action.area)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            is_new: false,
            action_id: id,
            organisations: organisation_choices(&plan, &form.lead_organisations),
            form,
            error,
            stale: None,
        });
    }
    if let Err(e) = state
        .store
        .update_action(&user.email, &action, revision)
        .await
    {
        let stale = stale_of(e).map_err(refused)?;
        form.revision = stale.current.to_string();
        return shown_stale(EditActionPage {
            title: format!("Edit {id}"),
            chrome: Chrome::of(&viewer),
            post_to: format!("/actions/{id}/edit"),
            area_name: plan
                .area(&action.area)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            is_new: false,
            action_id: id,
            organisations: organisation_choices(&plan, &form.lead_organisations),
            form,
            error: String::new(),
            stale: Some(StaleNotice::plain(&stale)),
        });
    }
    changed(&state).await;
    see_other(&format!("/actions/{id}"))
}

pub async fn new_action_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    editor_of(&viewer)?;
    let plan = plan(&state).await?;
    let area = plan
        .area(&code)
        .ok_or_else(|| not_found_error("area of focus"))?;
    html(EditActionPage {
        title: format!("New action in {}", area.name),
        chrome: Chrome::of(&viewer),
        post_to: format!("/areas/{code}/actions"),
        area_name: area.name.clone(),
        is_new: true,
        action_id: String::new(),
        organisations: organisation_choices(&plan, &[]),
        form: ActionForm::default(),
        error: String::new(),
        stale: None,
    })
}

pub async fn add_action(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let form = parse_action_form(&body);
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit the plan")?;
    plan_editor(&user)?;
    let plan = plan(&state).await?;
    let area = plan
        .area(&code)
        .ok_or_else(|| not_found_error("area of focus"))?;
    let mut action = Action {
        id: String::new(),
        area: area.code.clone(),
        title: String::new(),
        leads: Vec::new(),
        lead_organisations: Vec::new(),
        delivery: DeliveryDate::parse("Ongoing")
            .map_err(|e| PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        success_measure: String::new(),
        milestones: Vec::new(),
        shifts: Vec::new(),
        guiding_policies: Vec::new(),
        sdgs: Vec::new(),
        metrics: Vec::new(),
        status: greenplan_core::plan::ActionStatus::NotStarted,
        reference: None,
    };
    if let Err(error) = form.apply(&mut action, &plan) {
        return shown_again(EditActionPage {
            title: format!("New action in {}", area.name),
            chrome: Chrome::of(&viewer),
            post_to: format!("/areas/{code}/actions"),
            area_name: area.name.clone(),
            is_new: true,
            action_id: String::new(),
            organisations: organisation_choices(&plan, &form.lead_organisations),
            form,
            error,
            stale: None,
        });
    }
    let id = state
        .store
        .add_action(&user.email, &action)
        .await
        .map_err(refused)?;
    changed(&state).await;
    see_other(&format!("/actions/{id}"))
}

pub async fn archive_action(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let form = parse_action_form(&body);
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit the plan")?;
    plan_editor(&user)?;
    let revision = revision_of(Some(&form.revision))?;
    let plan = plan(&state).await?;
    let area = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.area.clone())
        .ok_or_else(|| not_found_error("priority action"))?;
    state
        .store
        .archive_action(&user.email, &id, revision, &form.reason)
        .await
        .map_err(refused)?;
    changed(&state).await;
    see_other(&format!("/areas/{area}"))
}

/// The "mark done" button's form: the action's revision as the page showed it, since a
/// milestone is named by its number, which an edit of the action can change.
#[derive(serde::Deserialize)]
pub struct MilestoneForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    revision: String,
}

/// Marks a milestone done: the action's lead organisations' contributors may.
pub async fn milestone_done(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((id, number)): Path<(String, usize)>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<MilestoneForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "mark a milestone done")?;
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found_error("priority action"))?;
    if !user.access.can_update_action(action, &plan) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            format!(
                "You cannot change {id}: only contributors of the organisations that lead it can."
            ),
        ));
    }
    let revision = revision_of(Some(&form.revision))?;
    let index = number
        .checked_sub(1)
        .ok_or_else(|| not_found_error("milestone"))?;
    state
        .store
        .mark_milestone_done(&user.email, &id, revision, index)
        .await
        .map_err(refused)?;
    changed(&state).await;
    see_other(&format!("/actions/{id}#milestones"))
}

// ---------------------------------------------------------------- metrics

#[derive(Template)]
#[template(path = "edit_metric.html")]
struct EditMetricPage {
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
    /// The revision the form was drawn from (`crate::stale`).
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
        let stale = stale_of(e).map_err(refused)?;
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
    changed(&state).await;
    see_other(&format!("/metrics/{id}"))
}

// ---------------------------------------------------------------- organisations

#[derive(Template)]
#[template(path = "admin_organisations.html")]
struct OrganisationsAdminPage {
    title: String,
    chrome: Chrome,
    /// Each organisation, whether it is archived, and its revision (sent back by its forms).
    organisations: Vec<(Organisation, bool, i64)>,
    kinds: Vec<(&'static str, &'static str)>,
    stale: Option<StaleNotice>,
}

/// The organisations page; `edited` is a save refused as stale, shown with the person's input
/// in its row and the organisation's revision now.
async fn organisations_view(
    viewer: &Viewer,
    state: &AppState,
    edited: Option<(Organisation, i64)>,
    stale: Option<StaleNotice>,
) -> Result<OrganisationsAdminPage, PageError> {
    // Revisions first, then the records (see `Store::revision`).
    let revisions = state
        .store
        .revisions(greenplan_store::Revised::Organisation)
        .await?;
    let plan = fresh_plan(state).await?;
    let archived = state.store.archived_organisations().await?;
    Ok(OrganisationsAdminPage {
        title: "Manage organisations".into(),
        chrome: Chrome::of(viewer),
        organisations: plan
            .organisations
            .iter()
            .map(|o| {
                let code = o.code.to_string();
                let is_archived = archived.contains(&code);
                match &edited {
                    Some((input, revision)) if input.code == o.code => {
                        (input.clone(), is_archived, *revision)
                    }
                    _ => (
                        o.clone(),
                        is_archived,
                        revisions.get(&code).copied().unwrap_or_default(),
                    ),
                }
            })
            .collect(),
        kinds: OrganisationKind::ALL
            .iter()
            .map(|k| (k.slug(), k.label()))
            .collect(),
        stale,
    })
}

pub async fn organisations_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    editor_of(&viewer)?;
    html(organisations_view(&viewer, &state, None, None).await?)
}

#[derive(serde::Deserialize)]
pub struct OrganisationForm {
    #[serde(default)]
    csrf_token: String,
    code: String,
    name: String,
    #[serde(default)]
    short_name: String,
    kind: String,
    /// The revision the form was drawn from (`crate::stale`; unused when adding).
    #[serde(default)]
    revision: String,
}

fn bad_request(message: String) -> PageError {
    PageError(StatusCode::UNPROCESSABLE_ENTITY, message)
}

pub async fn add_organisation(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<OrganisationForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "add an organisation")?;
    plan_editor(&user)?;
    let code = OdsCode::parse(form.code.trim())
        .map_err(|e| bad_request(format!("Organisation code: {e}")))?;
    let kind: OrganisationKind = form.kind.parse().map_err(bad_request)?;
    let org = Organisation {
        code,
        name: form.name.trim().to_string(),
        short_name: some_text(&form.short_name),
        kind,
        description: None,
        reference: None,
    };
    state
        .store
        .add_organisation(&user.email, &org)
        .await
        .map_err(refused)?;
    changed(&state).await;
    see_other("/admin/organisations")
}

pub async fn edit_organisation(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<OrganisationForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit an organisation")?;
    plan_editor(&user)?;
    let revision = revision_of(Some(&form.revision))?;
    let code = OdsCode::parse(&code).map_err(|_| not_found_error("organisation"))?;
    let kind: OrganisationKind = form.kind.parse().map_err(bad_request)?;
    let short = some_text(&form.short_name);
    let saved = state
        .store
        .update_organisation(
            &user.email,
            &code,
            revision,
            &form.name,
            short.as_deref(),
            kind,
        )
        .await;
    if let Err(e) = saved {
        let stale = stale_of(e).map_err(refused)?;
        let input = Organisation {
            code,
            name: form.name.clone(),
            short_name: short,
            kind,
            description: None,
            reference: None,
        };
        let notice = StaleNotice::plain(&stale);
        let page =
            organisations_view(&viewer, &state, Some((input, stale.current)), Some(notice)).await?;
        return shown_stale(page);
    }
    changed(&state).await;
    see_other("/admin/organisations")
}

#[derive(serde::Deserialize)]
pub struct ArchiveForm {
    #[serde(default)]
    csrf_token: String,
    archived: String,
    /// The revision the page was drawn from (`crate::stale`).
    #[serde(default)]
    revision: String,
}

pub async fn archive_organisation(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ArchiveForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "archive an organisation")?;
    plan_editor(&user)?;
    let revision = revision_of(Some(&form.revision))?;
    let code = OdsCode::parse(&code).map_err(|_| not_found_error("organisation"))?;
    state
        .store
        .set_organisation_archived(&user.email, &code, revision, form.archived == "yes")
        .await
        .map_err(refused)?;
    changed(&state).await;
    see_other("/admin/organisations")
}

// ---------------------------------------------------------------- people

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersAdminPage {
    title: String,
    chrome: Chrome,
    users: Vec<UserRow>,
    organisations: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    /// Invitations to the organisations this viewer manages, awaiting an answer:
    /// (email, role label, organisation name, invited by).
    invitations: Vec<(String, String, String, String)>,
}

struct UserRow {
    email: String,
    name: String,
    disabled: bool,
    /// (organisation code, organisation name, role label, may this viewer remove it)
    roles: Vec<(String, String, String, bool)>,
    /// May this viewer disable the person (a system admin only).
    can_disable: bool,
    /// The person's API tokens, when this viewer manages every role they hold.
    tokens: Vec<crate::account::TokenRow>,
}

/// The people a viewer may manage: everyone for a system admin; for an organisation admin,
/// the people of their organisations.
pub async fn users_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError(StatusCode::UNAUTHORIZED, "Sign in to manage people.".into()))?;
    if !user.access.manages_people() {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only organisation and system administrators manage people.".into(),
        ));
    }
    let plan = plan(&state).await?;
    let name_of = |code: &OdsCode| {
        plan.organisation(code)
            .map_or_else(|| code.to_string(), |o| o.name.clone())
    };
    let managed: Vec<&Organisation> = plan
        .organisations
        .iter()
        .filter(|o| user.access.can_manage_users_of(&o.code, Role::Viewer))
        .collect();
    let now = chrono::Utc::now().timestamp();
    let all_tokens = state.store.api_tokens(None).await?;
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| {
            user.access.is_system_admin()
                || u.memberships.iter().any(|m| {
                    user.access
                        .can_manage_users_of(&m.organisation, Role::Viewer)
                })
        })
        .map(|u| {
            let person = greenplan_core::access::Access::new(u.memberships.clone());
            let tokens = if user.access.can_manage_person(&person) {
                all_tokens
                    .iter()
                    .filter(|t| t.email == u.email)
                    .map(|t| crate::account::TokenRow::of(t, now))
                    .collect()
            } else {
                Vec::new()
            };
            UserRow {
                roles: u
                    .memberships
                    .iter()
                    .map(|m| {
                        (
                            m.organisation.to_string(),
                            name_of(&m.organisation),
                            m.role.label().to_string(),
                            user.access.can_manage_users_of(&m.organisation, m.role),
                        )
                    })
                    .collect(),
                email: u.email,
                name: u.name,
                disabled: u.disabled,
                can_disable: user.access.is_system_admin(),
                tokens,
            }
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .filter(|r| user.access.is_system_admin() || **r != Role::SystemAdmin)
        .map(|r| (r.slug(), r.label()))
        .collect();
    let invitations = state
        .store
        .invitations(None)
        .await?
        .into_iter()
        .filter(|i| {
            user.access
                .can_manage_users_of(&i.organisation, Role::Viewer)
        })
        .map(|i| {
            (
                i.email,
                i.role.label().to_string(),
                name_of(&i.organisation),
                i.invited_by,
            )
        })
        .collect();
    html(UsersAdminPage {
        title: "Manage people".into(),
        chrome: Chrome::of(&viewer),
        users,
        organisations: managed
            .iter()
            .map(|o| (o.code.to_string(), o.name.clone()))
            .collect(),
        roles,
        invitations,
    })
}

#[derive(serde::Deserialize)]
pub struct AddUserForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    organisation: String,
    role: String,
}

/// A refused role change: 403 with the rule's reason.
fn role_refused(e: greenplan_core::access::RoleChangeRefused) -> PageError {
    PageError(StatusCode::FORBIDDEN, e.to_string())
}

/// Adds a person with a role, changes the role of someone already in the organisation, or
/// invites someone who has an account but no role there (they accept on their account page).
/// A new person needs a first password, which they should change when they first sign in.
///
/// The answer never tells an organisation admin whether an address has an account they
/// cannot already see: for such an address the form is checked (name, password) and the
/// password hashed exactly as for a new person, and both end in the same redirect.
pub async fn add_user(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<AddUserForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    let organisation = OdsCode::parse(form.organisation.trim())
        .map_err(|e| bad_request(format!("Organisation: {e}")))?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: greenplan_core::access::UnknownRole| bad_request(e.to_string()))?;
    // Whether the actor may grant the role at all does not depend on who is named.
    let grant = user
        .access
        .approve_role_change(&organisation, None, Some(role))
        .map_err(role_refused)?;
    let email = greenplan_store::normalise_email(&form.email).map_err(refused)?;
    let existing = state.store.person(&email).await?;
    let visible = existing.as_ref().is_some_and(|p| {
        user.access.is_system_admin()
            || p.memberships.iter().any(|m| {
                user.access
                    .can_manage_users_of(&m.organisation, Role::Viewer)
            })
    });
    if let Some(held) = existing.as_ref().and_then(|p| {
        p.memberships
            .iter()
            .find(|m| m.organisation == organisation)
            .map(|m| m.role)
    }) {
        // Someone already in this organisation: the actor must be able to take away the
        // role they hold, not only grant the new one.
        let change = user
            .access
            .approve_role_change(&organisation, Some(held), Some(role))
            .map_err(role_refused)?;
        state
            .store
            .change_role(&user.email, &email, &change)
            .await
            .map_err(refused)?;
        return see_other("/admin/users");
    }
    let hash = if visible {
        None
    } else {
        // Checked and hashed alike for an unknown address and for an account the actor
        // cannot see, so neither the answer nor its timing tells them apart.
        if form.name.trim().is_empty() {
            return Err(bad_request("Give the new person's name.".into()));
        }
        greenplan_store::check_password_strength(&form.password).map_err(refused)?;
        let password = form.password.clone();
        Some(
            crate::bounded_work::PASSWORDS
                .run(move || greenplan_store::hash_password(&password))
                .await
                .ok_or_else(|| {
                    PageError(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "The password could not be stored. Please try again.".into(),
                    )
                })?
                .map_err(refused)?,
        )
    };
    match (existing, hash) {
        (Some(_), _) => state
            .store
            .invite(&user.email, &email, &grant)
            .await
            .map_err(refused)?,
        (None, Some(hash)) => {
            state
                .store
                .create_user(&user.email, &email, form.name.trim(), &hash, &grant)
                .await
                .map_err(refused)?;
        }
        (None, None) => return Err(bad_request("Give the new person's name.".into())),
    }
    see_other("/admin/users")
}

#[derive(serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    organisation: String,
}

pub async fn remove_role(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RoleForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    let organisation = OdsCode::parse(form.organisation.trim())
        .map_err(|e| bad_request(format!("Organisation: {e}")))?;
    let target = state
        .store
        .person(&form.email)
        .await?
        .ok_or_else(|| not_found_error("person"))?;
    let role = target
        .memberships
        .iter()
        .find(|m| m.organisation == organisation)
        .map(|m| m.role)
        .ok_or_else(|| bad_request(format!("{} has no role in {organisation}.", form.email)))?;
    let change = user
        .access
        .approve_role_change(&organisation, Some(role), None)
        .map_err(role_refused)?;
    state
        .store
        .remove_membership(&user.email, &target.email, &change)
        .await
        .map_err(refused)?;
    see_other("/admin/users")
}

#[derive(serde::Deserialize)]
pub struct RevokeTokenForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    token: String,
}

/// Revokes a person's API token: a system admin, or an organisation admin who manages every
/// role the person holds (never a system admin's token, nor that of someone who also belongs
/// to an organisation the admin does not manage).
pub async fn revoke_user_token(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RevokeTokenForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    let target = state
        .store
        .person(&form.email)
        .await?
        .ok_or_else(|| not_found_error("person"))?;
    let person = greenplan_core::access::Access::new(target.memberships.clone());
    if !user.access.can_manage_person(&person) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            format!(
                "You cannot revoke {}'s API tokens: they hold a role you do not manage. Ask a system administrator.",
                target.email
            ),
        ));
    }
    let id: i64 = form
        .token
        .trim()
        .parse()
        .map_err(|_| not_found_error("API token"))?;
    if !state
        .store
        .revoke_api_token(&user.email, id, Some(target.id))
        .await?
    {
        return Err(not_found_error("API token"));
    }
    see_other("/admin/users")
}

#[derive(serde::Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    disabled: String,
}

pub async fn disable_user(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<DisableForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    plan_editor(&user)?;
    if form.email == user.email {
        return Err(bad_request("You cannot disable your own sign-in.".into()));
    }
    state
        .store
        .set_user_disabled(&user.email, &form.email, form.disabled == "yes")
        .await
        .map_err(refused)?;
    see_other("/admin/users")
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    title: String,
    chrome: Chrome,
    can_run_plan: bool,
    /// Stored rows left out because they cannot be read back; `None` unless a system admin.
    unreadable: Option<Vec<greenplan_store::UnreadableRecord>>,
}

/// The stored records the store leaves out because they cannot be read back (issue 21, class
/// 0), for system admins only: each with its table, id and reason, so it can be fixed.
async fn unreadable_records(
    state: &AppState,
    user: &SignedIn,
) -> Result<Option<Vec<greenplan_store::UnreadableRecord>>, PageError> {
    if !user.access.is_system_admin() {
        return Ok(None);
    }
    Ok(Some(state.store.unreadable_records().await?))
}

pub async fn admin_index(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError(StatusCode::UNAUTHORIZED, "Sign in to continue.".into()))?;
    if !user.access.manages_people() {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Only administrators have an administration page.".into(),
        ));
    }
    html(AdminPage {
        title: "Administration".into(),
        chrome: Chrome::of(&viewer),
        can_run_plan: user.access.can_run_the_plan(),
        unreadable: unreadable_records(&state, user).await?,
    })
}
