//! Adding and editing a scheme, archiving it and recording a reason.

use super::*;

/// The scheme form as sent.
#[derive(Debug, Clone, Default)]
pub struct SchemeForm {
    pub name: String,
    pub owner: String,
    pub organisation: String,
    pub stage: String,
    pub start: String,
    pub end: String,
    pub actions: String,
    pub description: String,
    /// The revision the form was drawn from (`crate::kit::stale`; unused for a new scheme).
    pub revision: String,
}

impl SchemeForm {
    fn of(s: &Scheme) -> Self {
        let d = &s.details;
        Self {
            name: d.name.clone(),
            owner: d.owner.clone(),
            organisation: d.organisation.to_string(),
            stage: d.stage.slug().into(),
            start: d.start.map(|x| x.to_string()).unwrap_or_default(),
            end: d.end.map(|x| x.to_string()).unwrap_or_default(),
            actions: d.actions.join(", "),
            description: d.description.clone(),
            revision: String::new(),
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let f = |n: &str| field(pairs, n).to_string();
        Self {
            name: f("name"),
            owner: f("owner"),
            organisation: f("organisation"),
            stage: f("stage"),
            start: f("start"),
            end: f("end"),
            actions: f("actions"),
            description: f("description"),
            revision: f("revision"),
        }
    }

    /// The details the form describes, or what to fix.
    fn details(&self, plan: &Plan, organisation: OdsCode) -> Result<SchemeDetails, String> {
        let date = |label: &str, t: &str| -> Result<Option<NaiveDate>, String> {
            match t.trim() {
                "" => Ok(None),
                t => greenplan_ingest::activity::parse_date(t)
                    .map(Some)
                    .ok_or_else(|| {
                        format!(
                            "{label}: `{t}` is not a date. Write it as 2025-04-01 or 01/04/2025."
                        )
                    }),
            }
        };
        let details = SchemeDetails {
            name: self.name.clone(),
            owner: self.owner.clone(),
            organisation,
            stage: self
                .stage
                .parse::<Stage>()
                .map_err(|e| sentence(&e.to_string()))?,
            start: date("Start date", &self.start)?,
            end: date("End date", &self.end)?,
            actions: action_ids(&self.actions, plan)?,
            description: self.description.clone(),
        };
        details.checked().map_err(|e| sentence(&e.to_string()))
    }
}

#[derive(Template)]
#[template(path = "scheme_form.html")]
pub(crate) struct FormPage {
    title: String,
    chrome: Chrome,
    post_to: String,
    is_new: bool,
    form: SchemeForm,
    organisations: Vec<(String, String, bool)>,
    stages: Vec<(String, String, bool)>,
    error: String,
    stale: Option<StaleNotice>,
}

pub(crate) async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    id: Option<i64>,
    form: SchemeForm,
    error: String,
) -> Result<FormPage, PageError> {
    let user = signed_in(viewer, "add a scheme")?;
    let plan = plan(state).await?;
    Ok(FormPage {
        title: if id.is_some() {
            format!("Edit {}", form.name)
        } else {
            "Add a scheme".into()
        },
        chrome: Chrome::of(viewer),
        post_to: id.map_or_else(
            || "/tools/schemes".into(),
            |i| format!("/tools/schemes/{i}"),
        ),
        is_new: id.is_none(),
        organisations: organisation_choices(&plan, user, &form.organisation),
        stages: Stage::ALL
            .iter()
            .map(|s| {
                (
                    s.slug().to_string(),
                    s.label().to_string(),
                    s.slug() == form.stage,
                )
            })
            .collect(),
        form,
        error,
        stale: None,
    })
}

pub async fn new_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let form = SchemeForm {
        stage: Stage::Idea.slug().into(),
        ..SchemeForm::default()
    };
    html(form_page(&viewer, &state, None, form, String::new()).await?)
}

pub async fn edit_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let user = signed_in(&viewer, "edit a scheme")?;
    let revision = scheme_revision(&state, id).await?;
    let scheme = scheme_of(&state, id).await?;
    require_contributor(user, &scheme.details.organisation, "the schemes")?;
    let mut form = SchemeForm::of(&scheme);
    form.revision = revision.to_string();
    html(form_page(&viewer, &state, Some(id), form, String::new()).await?)
}

pub async fn create(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    save(viewer, state, headers, body, None).await
}

pub async fn update(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    save(viewer, state, headers, body, Some(id)).await
}

pub(crate) async fn save(
    viewer: Viewer,
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    id: Option<i64>,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "change the scheme register")?;
    let mut form = SchemeForm::read(&pairs);
    let organisation = match id {
        Some(id) => scheme_of(&state, id).await?.details.organisation,
        None => match OdsCode::parse(&form.organisation) {
            Ok(o) => o,
            Err(_) => {
                let page = form_page(
                    &viewer,
                    &state,
                    id,
                    form,
                    "Choose the organisation the scheme belongs to.".into(),
                )
                .await?;
                return shown_again(page);
            }
        },
    };
    require_contributor(&user, &organisation, "the schemes")?;
    let revision = match id {
        Some(_) => revision_of(Some(&form.revision))?,
        None => 0,
    };
    let plan = plan(&state).await?;
    let details = match form.details(&plan, organisation) {
        Ok(d) => d,
        Err(e) => return shown_again(form_page(&viewer, &state, id, form, e).await?),
    };
    let saved = match id {
        Some(id) => state
            .store
            .update_scheme(&user.email, id, revision, &details)
            .await
            .map(|_| id),
        None => state
            .store
            .add_schemes(&user.email, std::slice::from_ref(&details))
            .await
            .map(|ids| ids[0]),
    };
    match saved {
        Ok(id) => see_other(&format!("/tools/schemes/{id}")),
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(form_page(&viewer, &state, id, form, sentence(&m)).await?)
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            form.revision = stale.current.to_string();
            let mut page = form_page(&viewer, &state, id, form, String::new()).await?;
            page.stale = Some(StaleNotice::plain(&stale));
            shown_stale(page)
        }
    }
}

/// Archives a scheme, with a reason.
pub async fn archive(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "archive a scheme")?;
    let scheme = scheme_of(&state, id).await?;
    require_contributor(&user, &scheme.details.organisation, "the schemes")?;
    let revision = revision_of(Some(field(&pairs, "revision")))?;
    let reason = field(&pairs, "reason");
    match state
        .store
        .archive_scheme(&user.email, id, revision, reason)
        .await
    {
        Ok(()) => see_other("/tools/schemes"),
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(show_page(&viewer, &state, id, sentence(&m)).await?)
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            show_stale(&viewer, &state, id, &stale, "", reason).await
        }
    }
}

/// Tags a scheme "Greener NHS" on a recorded reason.
pub async fn record_reason(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "tag a scheme")?;
    let scheme = scheme_of(&state, id).await?;
    require_contributor(&user, &scheme.details.organisation, "the schemes")?;
    let revision = revision_of(Some(field(&pairs, "revision")))?;
    let why = field(&pairs, "why");
    match state
        .store
        .record_scheme_reason(&user.email, id, revision, why)
        .await
    {
        Ok(()) => see_other(&format!("/tools/schemes/{id}")),
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(show_page(&viewer, &state, id, sentence(&m)).await?)
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            show_stale(&viewer, &state, id, &stale, why, "").await
        }
    }
}
