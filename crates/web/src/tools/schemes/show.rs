//! A scheme's page.

use super::*;

#[derive(Template)]
#[template(path = "scheme.html")]
pub(crate) struct ShowPage {
    title: String,
    chrome: Chrome,
    scheme: Scheme,
    row: SchemeRow,
    considered: String,
    tagged_by_sia: bool,
    /// (id, title, status label, colour)
    sias: Vec<(i64, String, String, String)>,
    /// (id, name)
    scenarios: Vec<(i64, String)>,
    can_edit: bool,
    error: String,
    history: Vec<HistoryRow>,
    /// The scheme's revision, sent by its forms (`crate::kit::stale`).
    revision: i64,
    stale: Option<StaleNotice>,
    /// What the person wrote in the reason and archive forms (kept when a save is refused).
    why: String,
    reason: String,
}

pub(crate) async fn scheme_of(state: &AppState, id: i64) -> Result<Scheme, PageError> {
    state
        .store
        .scheme(id)
        .await?
        .ok_or_else(|| not_found_error("scheme"))
}

pub(crate) async fn show_page(
    viewer: &Viewer,
    state: &AppState,
    id: i64,
    error: String,
) -> Result<ShowPage, PageError> {
    let plan = plan(state).await?;
    // The revision before the record (see `Store::revision`).
    let revision = scheme_revision(state, id).await?;
    let scheme = scheme_of(state, id).await?;
    let sias = state
        .store
        .sias()
        .await?
        .into_iter()
        .filter(|a| a.scheme == Some(id))
        .map(|a| {
            (
                a.id,
                a.title,
                a.status.label().to_string(),
                a.status.colour().to_string(),
            )
        })
        .collect();
    let scenarios = state
        .store
        .pathway_scenarios()
        .await?
        .into_iter()
        .filter(|s| s.scheme == Some(id))
        .map(|s| (s.id, s.scenario.name))
        .collect();
    Ok(ShowPage {
        title: scheme.details.name.clone(),
        chrome: Chrome::of(viewer),
        row: row_of(&plan, &scheme),
        considered: considered_text(&scheme.consideration),
        tagged_by_sia: matches!(scheme.consideration, Some(Consideration::Assessed { .. })),
        can_edit: !scheme.archived && can_edit(viewer, &scheme.details.organisation),
        history: history_of(state, "scheme", &id.to_string()).await?,
        sias,
        scenarios,
        scheme,
        error,
        revision,
        stale: None,
        why: String::new(),
        reason: String::new(),
    })
}

pub(crate) async fn scheme_revision(state: &AppState, id: i64) -> Result<i64, PageError> {
    state
        .store
        .revision(greenplan_store::Revised::Scheme, &id.to_string())
        .await?
        .ok_or_else(|| not_found_error("scheme"))
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    html(show_page(&viewer, &state, id, String::new()).await?)
}

/// The scheme page again after a stale save, with the person's input and the changes since.
pub(crate) async fn show_stale(
    viewer: &Viewer,
    state: &AppState,
    id: i64,
    stale: &greenplan_store::StaleEdit,
    why: &str,
    reason: &str,
) -> PageResult {
    let mut page = show_page(viewer, state, id, String::new()).await?;
    page.revision = stale.current;
    page.stale = Some(StaleNotice::plain(stale));
    page.why = why.to_string();
    page.reason = reason.to_string();
    shown_stale(page)
}
