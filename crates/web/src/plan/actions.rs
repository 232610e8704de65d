//! Priority actions: the list, an action's page, progress updates and their evidence, my actions.

use super::*;

#[derive(Deserialize)]
pub struct ActionFilter {
    area: Option<String>,
    status: Option<String>,
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "actions.html")]
pub(crate) struct ActionsPage {
    title: String,
    chrome: Chrome,
    actions: Vec<ActionRow>,
    areas: Vec<(String, String, bool)>,
    statuses: Vec<(String, String, bool)>,
    q: String,
}

pub async fn actions(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(filter): Query<ActionFilter>,
) -> PageResult {
    let plan = plan(&state).await?;
    let q = filter.q.clone().unwrap_or_default().to_lowercase();
    let area = filter.area.clone().filter(|a| !a.is_empty());
    let status = filter.status.clone().filter(|s| !s.is_empty());
    let actions = plan
        .actions
        .iter()
        .filter(|a| area.as_ref().is_none_or(|x| &a.area == x))
        .filter(|a| status.as_ref().is_none_or(|s| a.status.slug() == s))
        .filter(|a| {
            q.is_empty()
                || format!("{} {} {}", a.title, a.leads.join(" "), a.success_measure)
                    .to_lowercase()
                    .contains(&q)
        })
        .map(|a| action_row(a, &plan))
        .collect();
    html(ActionsPage {
        chrome: Chrome::of(&viewer),
        title: "Priority actions".into(),
        actions,
        areas: plan
            .areas
            .iter()
            .map(|a| {
                (
                    a.code.clone(),
                    a.name.clone(),
                    area.as_deref() == Some(a.code.as_str()),
                )
            })
            .collect(),
        statuses: greenplan_core::plan::ActionStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.slug().to_string(),
                    s.label().to_string(),
                    status.as_deref() == Some(s.slug()),
                )
            })
            .collect(),
        q: filter.q.unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "action.html")]
pub(crate) struct ActionPage {
    title: String,
    chrome: Chrome,
    action: Action,
    row: ActionRow,
    area_name: String,
    organisations: Vec<(String, String)>,
    metrics: Vec<MetricRow>,
    milestones: Vec<MilestoneRow>,
    shifts: Vec<String>,
    policies: Vec<String>,
    sdgs: Vec<String>,
    can_update: bool,
    updates: Vec<UpdateRow>,
    history: Vec<HistoryRow>,
    statuses: Vec<(String, String, bool)>,
    form: UpdateForm,
    error: String,
    links: crate::kit::links::ActionLinks,
    /// The action's revision, sent by the "mark done" buttons (`crate::kit::stale`).
    revision: i64,
    /// What the dates say, beside the status the lead gave: label, tag colour, sentence.
    derived: Option<(String, String, String)>,
}

/// The status the dates give the action (`greenplan_core::reminders::derived_status`): the
/// same rule the "My tasks" page and the reminder digests use.
async fn derived_status_of(
    state: &AppState,
    action: &Action,
    posted: &[greenplan_store::ActionUpdate],
    done: &[greenplan_store::MilestoneDone],
) -> Result<Option<(String, String, String)>, PageError> {
    let today = today();
    let tracking = greenplan_core::reminders::Tracking {
        last_update: posted
            .iter()
            .map(|u| u.posted_at)
            .max()
            .map(greenplan_store::day_of),
        milestones_done: done
            .iter()
            .filter_map(|d| usize::try_from(d.milestone).ok())
            .collect(),
    };
    let since = state.store.plan_loaded_on().await?.unwrap_or(today);
    let settings = state.store.reminder_settings().await?;
    Ok(
        greenplan_core::reminders::derived_status(action, &tracking, since, today, &settings)
            .map(|d| (d.label().to_string(), d.colour().to_string(), d.explain())),
    )
}

/// A posted progress update, as shown on the action page.
pub struct UpdateRow {
    pub when: String,
    pub by: String,
    pub status: String,
    pub rag: String,
    pub note: String,
    pub evidence_url: String,
    /// An attached file: its number and name.
    pub evidence_file: Option<(i64, String)>,
    pub revised_due: String,
}

/// A milestone of an action and whether it is done.
pub struct MilestoneRow {
    pub number: usize,
    pub title: String,
    pub delivery: String,
    pub success_measure: String,
    /// "Done: `<when>`, `<who>`", or empty.
    pub done: String,
}

/// The progress update form, as sent (kept to re-show it with an error).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub evidence_url: String,
    #[serde(default)]
    pub revised_due: String,
}

pub async fn action(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    if viewer.user.is_some() {
        return html(
            action_page(&viewer, &state, &id, UpdateForm::default(), String::new()).await?,
        );
    }
    anonymous_page(&state, &format!("/actions/{id}"), || async {
        action_page(&viewer, &state, &id, UpdateForm::default(), String::new())
            .await?
            .render()
            .map_err(render_error)
    })
    .await
}

pub(crate) fn render_error(e: askama::Error) -> PageError {
    tracing::error!(error = %e, "template error");
    PageError::Internal("The page could not be drawn.".into())
}

/// A page every anonymous reader sees alike, drawn once per data revision and day.
pub(crate) async fn anonymous_page<F, Fut>(state: &AppState, path: &str, draw: F) -> PageResult
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, PageError>>,
{
    let page = crate::kit::cache::anonymous_page(state, path, today(), draw()).await?;
    Ok(Html(page.as_str().to_owned()).into_response())
}

pub(crate) async fn action_page(
    viewer: &Viewer,
    state: &AppState,
    id: &str,
    form: UpdateForm,
    error: String,
) -> Result<ActionPage, PageError> {
    let plan = plan(state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| not_found_error("priority action"))?;
    let row = action_row(&action, &plan);
    let metrics = action
        .metrics
        .iter()
        .filter_map(|m| plan.metric(m))
        .map(|m| metric_row(m, &metric_progress(m, &plan.data_points), &plan))
        .collect();
    let organisations = action
        .lead_organisations
        .iter()
        .filter_map(|c| plan.organisation(c))
        .map(|o| (o.code.to_string(), o.name.clone()))
        .collect();
    let revision = state
        .store
        .revision(greenplan_store::Revised::Action, &action.id)
        .await?
        .unwrap_or_default();
    let done = state.store.milestones_done(&action.id).await?;
    let milestones = action
        .milestones
        .iter()
        .enumerate()
        .map(|(i, m)| MilestoneRow {
            number: i + 1,
            title: m.title.clone().unwrap_or_default(),
            delivery: m.delivery.written.clone(),
            success_measure: m.success_measure.clone().unwrap_or_default(),
            done: done
                .iter()
                .find(|d| d.milestone == i as i64)
                .map(|d| format!("Done: {}, {}", when(d.done_at), d.done_by))
                .unwrap_or_default(),
        })
        .collect();
    let shifts = action
        .shifts
        .iter()
        .filter_map(|s| plan.shifts.iter().find(|x| &x.code == s))
        .map(|s| s.name.clone())
        .collect();
    let policies = action
        .guiding_policies
        .iter()
        .filter_map(|s| plan.guiding_policies.iter().find(|x| &x.code == s))
        .map(|s| format!("{}: {}", s.code, s.name))
        .collect();
    let sdgs = action
        .sdgs
        .iter()
        .filter_map(|n| plan.sdgs.iter().find(|x| x.number == *n))
        .map(|s| format!("Goal {}: {}", s.number, s.name))
        .collect();
    let can_update = viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_update_action(&action, &plan));
    let posted = state.store.action_updates(&action.id).await?;
    let derived = derived_status_of(state, &action, &posted, &done).await?;
    let updates = posted
        .into_iter()
        .map(|u| UpdateRow {
            when: when(u.posted_at),
            by: u.posted_by,
            status: u.status.label().into(),
            rag: u.status.rag().into(),
            note: u.note,
            evidence_url: u.evidence_url.unwrap_or_default(),
            evidence_file: u.evidence_file,
            revised_due: u.revised_due.map(|p| p.to_string()).unwrap_or_default(),
        })
        .collect();
    let history = history_of(state, "action", &action.id).await?;
    let selected = if form.status.is_empty() {
        action.status.slug().to_string()
    } else {
        form.status.clone()
    };
    let statuses = greenplan_core::plan::ActionStatus::ALL
        .iter()
        .map(|s| {
            (
                s.slug().to_string(),
                s.label().to_string(),
                s.slug() == selected,
            )
        })
        .collect();
    Ok(ActionPage {
        derived,
        revision,
        links: crate::kit::links::action_links(state, &action.id).await?,
        chrome: Chrome::of(viewer),
        can_update,
        updates,
        history,
        statuses,
        form,
        error,
        title: format!(
            "{} {}",
            action.id,
            action.title.chars().take(60).collect::<String>()
        ),
        area_name: row.area.clone(),
        row,
        action,
        organisations,
        metrics,
        milestones,
        shifts,
        policies,
        sdgs,
    })
}

/// Posts a progress update: checked against the signed-in person's roles on the server,
/// whatever the page showed them; CSRF-protected; audited by the store.
pub async fn post_action_update(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> PageResult {
    let headers = request.headers().clone();
    let (form, file) = read_update_request(request, &state).await?;
    let user = viewer.form_writer(&headers, &form.csrf_token, "post an update")?;
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found_error("priority action"))?;
    if !user.access.can_update_action(action, &plan) {
        return Err(PageError::Forbidden(format!(
            "You cannot post updates on {id}: only contributors of the organisations that lead it can. Ask your organisation admin if you should."
        )));
    }
    let rejected = |message: String, form: UpdateForm| async {
        let mut page = html(action_page(&viewer, &state, &id, form, message).await?)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(page)
    };
    let status = match form.status.parse::<greenplan_core::plan::ActionStatus>() {
        Ok(s) => s,
        Err(e) => return rejected(e, form).await,
    };
    let revised_due = match form.revised_due.trim() {
        "" => None,
        text => match greenplan_core::period::Period::parse(text) {
            Ok(p) => Some(p),
            Err(e) => return rejected(format!("Revised delivery date: {e}"), form).await,
        },
    };
    let evidence_file = match file {
        Some((name, contents)) => match greenplan_store::EvidenceFile::new(&name, contents) {
            Ok(f) => Some(f),
            Err(e) => return rejected(format!("Evidence file: {e}"), form).await,
        },
        None => None,
    };
    let update = greenplan_store::NewActionUpdate {
        status,
        note: form.note.clone(),
        evidence_url: Some(form.evidence_url.trim().to_string()).filter(|u| !u.is_empty()),
        evidence_file,
        revised_due,
    };
    match state
        .store
        .post_action_update(&user.email, &id, &update)
        .await
    {
        Ok(_) => {
            Ok(axum::response::Redirect::to(&format!("/actions/{id}#updates")).into_response())
        }
        Err(greenplan_store::StoreError::Rejected(message)) => rejected(message, form).await,
        Err(e) => Err(e.into()),
    }
}

/// Reads the update form: multipart (as the page sends it, for its optional evidence file)
/// or urlencoded (scripts and older pages, without a file).
pub(crate) async fn read_update_request(
    request: axum::extract::Request,
    state: &AppState,
) -> Result<(UpdateForm, Option<(String, Vec<u8>)>), PageError> {
    use axum::extract::FromRequest;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let parts = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| PageError::rejected(e.status(), e.body_text()))?;
        return read_update_form(parts).await;
    }
    let axum::Form(form) = axum::Form::<UpdateForm>::from_request(request, state)
        .await
        .map_err(|e| PageError::rejected(e.status(), e.body_text()))?;
    Ok((form, None))
}

/// Reads the multipart update form.
pub(crate) async fn read_update_form(
    mut multipart: axum::extract::Multipart,
) -> Result<(UpdateForm, Option<(String, Vec<u8>)>), PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError::rejected(
            e.status(),
            format!(
                "The form could not be read: {}. Evidence files may be at most 10 MB.",
                e.body_text()
            ),
        )
    };
    let mut form = UpdateForm::default();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "evidence_file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let file_name = crate::kit::text_input::field("evidence_file", file_name)?;
            let bytes = field.bytes().await.map_err(bad)?;
            if !file_name.is_empty() && !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
            continue;
        }
        let text = crate::kit::text_input::field(&name, field.text().await.map_err(bad)?)?;
        match name.as_str() {
            "csrf_token" => form.csrf_token = text,
            "status" => form.status = text,
            "note" => form.note = text,
            "evidence_url" => form.evidence_url = text,
            "revised_due" => form.revised_due = text,
            _ => {}
        }
    }
    Ok((form, file))
}

/// An evidence file, downloaded (never shown inline, so a file cannot act as a page of
/// this site).
pub async fn evidence(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let (_, file) = state
        .store
        .evidence_file(id)
        .await?
        .ok_or_else(|| not_found_error("evidence file"))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file.file_name
            .replace(|c: char| c == '"' || c == '\\' || c.is_control(), "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        file.contents,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "my_actions.html")]
pub(crate) struct MyActionsPage {
    title: String,
    chrome: Chrome,
    rows: Vec<ActionRow>,
    overdue: usize,
}

/// The actions the signed-in person may update: what an action lead works from.
pub async fn my_actions(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let Some(user) = viewer.user.as_ref() else {
        return Ok(axum::response::Redirect::to("/login").into_response());
    };
    let plan = plan(&state).await?;
    let mine = plan.actions_for(&user.access);
    let overdue = mine
        .iter()
        .filter(|a| {
            a.status != greenplan_core::plan::ActionStatus::Complete
                && a.delivery.is_overdue(today())
        })
        .count();
    html(MyActionsPage {
        title: "My actions".into(),
        chrome: Chrome::of(&viewer),
        rows: mine.into_iter().map(|a| action_row(a, &plan)).collect(),
        overdue,
    })
}
