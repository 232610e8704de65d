//! Adding, editing and archiving organisations.

use super::*;

// ---------------------------------------------------------------- organisations

#[derive(Template)]
#[template(path = "admin_organisations.html")]
pub(crate) struct OrganisationsAdminPage {
    title: String,
    chrome: Chrome,
    /// Each organisation, whether it is archived, and its revision (sent back by its forms).
    organisations: Vec<(Organisation, bool, i64)>,
    kinds: Vec<(&'static str, &'static str)>,
    stale: Option<StaleNotice>,
}

/// The organisations page; `edited` is a save refused as stale, shown with the person's input
/// in its row and the organisation's revision now.
pub(crate) async fn organisations_view(
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
    /// The revision the form was drawn from (`crate::kit::stale`; unused when adding).
    #[serde(default)]
    revision: String,
}

pub(crate) fn bad_request(message: String) -> PageError {
    PageError::Unprocessable(message)
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
        .map_err(PageError::from)?;
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
        let stale = stale_of(e).map_err(PageError::from)?;
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
    see_other("/admin/organisations")
}

#[derive(serde::Deserialize)]
pub struct ArchiveForm {
    #[serde(default)]
    csrf_token: String,
    archived: String,
    /// The revision the page was drawn from (`crate::kit::stale`).
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
        .map_err(PageError::from)?;
    see_other("/admin/organisations")
}
