//! Editing an area of focus.

use super::*;

// ---------------------------------------------------------------- areas

#[derive(Template)]
#[template(path = "edit_area.html")]
pub(crate) struct EditAreaPage {
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
    /// The revision the form was drawn from (`crate::kit::stale`).
    #[serde(default)]
    revision: String,
}

pub(crate) fn some_text(s: &str) -> Option<String> {
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
        let stale = stale_of(e).map_err(PageError::from)?;
        return shown_stale(EditAreaPage {
            title: format!("Edit {}", area.name),
            chrome: Chrome::of(&viewer),
            area,
            error: String::new(),
            revision: stale.current,
            stale: Some(StaleNotice::plain(&stale)),
        });
    }
    see_other(&format!("/areas/{code}"))
}
