//! Editing, adding and archiving priority actions, and marking milestones done.

use super::*;

// ---------------------------------------------------------------- actions

#[derive(Template)]
#[template(path = "edit_action.html")]
pub(crate) struct EditActionPage {
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
    /// The revision the form was drawn from (`crate::kit::stale`; unused for a new action).
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

pub(crate) fn organisation_choices(
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
        let stale = stale_of(e).map_err(PageError::from)?;
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
        delivery: DeliveryDate::parse("Ongoing").map_err(|e| PageError::Internal(e.to_string()))?,
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
        .map_err(PageError::from)?;
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
        .map_err(PageError::from)?;
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
        return Err(PageError::Forbidden(format!(
            "You cannot change {id}: only contributors of the organisations that lead it can."
        )));
    }
    let revision = revision_of(Some(&form.revision))?;
    let index = number
        .checked_sub(1)
        .ok_or_else(|| not_found_error("milestone"))?;
    state
        .store
        .mark_milestone_done(&user.email, &id, revision, index)
        .await
        .map_err(PageError::from)?;
    see_other(&format!("/actions/{id}#milestones"))
}
