//! The tools the plan's clinical transformation actions ask for, under one "Tools" page: the
//! care-activity factor library and saved care pathway scenarios (`scenarios_page`), the
//! scheme register with its "Greener NHS" tag (`schemes_page`) and Sustainability Impact
//! Assessments (`sia_page`). Handlers are thin: they check `greenplan_core::access` and the
//! CSRF token, call one store function (which audits) and render.

pub mod scenarios;
pub mod schemes;
pub mod sia;
use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::{
    Chrome, HistoryRow, PageError, PageResult, history_of, html, not_found_error, number,
};
use crate::kit::{Routes, Write};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::pathway::CareActivityFactor;
use greenplan_core::plan::Plan;
use greenplan_core::quantity::parse_decimal;
use greenplan_store::{SignedIn, StoreError};
use scenarios as sc;
use schemes as sh;

/// The tools' routes: the care-activity factor library, care pathway scenarios, the scheme
/// register and Sustainability Impact Assessments.
pub fn routes() -> Routes {
    Routes::new()
        .get("/tools", index)
        .get("/tools/care-activities", factors)
        .get("/tools/care-activities/{id}", edit_factor_page)
        .post(
            "/tools/care-activities/{id}",
            Write::SystemAdmins,
            edit_factor,
        )
        .get("/tools/scenarios", sc::list)
        .post("/tools/scenarios", Write::Contributors, sc::create)
        .get("/tools/scenarios/new", sc::new_page)
        .get("/tools/scenarios/{id}", sc::show)
        .post("/tools/scenarios/{id}", Write::Contributors, sc::update)
        .get("/tools/scenarios/{id}/edit", sc::edit_page)
        .get("/tools/schemes", sh::list)
        .post("/tools/schemes", Write::Contributors, sh::create)
        .get("/tools/schemes/new", sh::new_page)
        .get("/tools/schemes.csv", sh::export_csv)
        .get("/tools/schemes.xlsx", sh::export_xlsx)
        .post_up_to(
            "/tools/schemes/import",
            Write::Contributors,
            sh::MAX_IMPORT_BYTES,
            sh::import,
        )
        .get("/tools/schemes/{id}", sh::show)
        .post("/tools/schemes/{id}", Write::Contributors, sh::update)
        .get("/tools/schemes/{id}/edit", sh::edit_page)
        .post(
            "/tools/schemes/{id}/archive",
            Write::Contributors,
            sh::archive,
        )
        .post(
            "/tools/schemes/{id}/reason",
            Write::Contributors,
            sh::record_reason,
        )
        .get("/tools/sias", sia::list)
        .post("/tools/sias", Write::Contributors, sia::create)
        .get("/tools/sias/new", sia::new_page)
        .get("/tools/sias/{id}", sia::show)
        .post("/tools/sias/{id}", Write::Contributors, sia::update)
        .get("/tools/sias/{id}/edit", sia::edit_page)
        .post("/tools/sias/{id}/submit", Write::Contributors, sia::submit)
        .post(
            "/tools/sias/{id}/review",
            Write::OrganisationAdmins,
            sia::review,
        )
}

// ------------------------------------------------------------------ shared helpers

/// A store refusal becomes a 422 with its message (first letter capitalised); anything else
/// a 500.
pub(crate) fn refused(e: StoreError) -> PageError {
    match e {
        StoreError::Rejected(m) => PageError::Unprocessable(sentence(&m)),
        other => other.into(),
    }
}

/// "the x" → "The x."
pub(crate) fn sentence(m: &str) -> String {
    let mut c = m.chars();
    let mut s = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>(),
        None => String::new(),
    };
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// A form shown again with what to fix (422).
pub(crate) fn shown_again<T: Template>(page: T) -> PageResult {
    let mut page = html(page)?;
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page)
}

pub(crate) fn see_other(to: &str) -> PageResult {
    Ok(Redirect::to(to).into_response())
}

/// 403 with a message.
pub(crate) fn forbidden(message: &str) -> PageError {
    PageError::Forbidden(message.to_string())
}

/// The signed-in person, for pages that only make sense signed in (GET forms).
pub(crate) fn signed_in<'a>(viewer: &'a Viewer, what: &str) -> Result<&'a SignedIn, PageError> {
    viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded(format!("Sign in to {what}.")))
}

/// May `viewer` change records of `organisation` (its contributors and above)?
pub(crate) fn can_edit(viewer: &Viewer, organisation: &OdsCode) -> bool {
    viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_contribute_for(organisation))
}

/// Refuses a write to another organisation's record, or by a viewer.
pub(crate) fn require_contributor(
    user: &SignedIn,
    organisation: &OdsCode,
    what: &str,
) -> Result<(), PageError> {
    if user.access.can_contribute_for(organisation) {
        Ok(())
    } else {
        Err(forbidden(&format!(
            "You cannot change {what} of {organisation}: only its contributors can. Ask your organisation admin if you should."
        )))
    }
}

/// Organisation choices for a form: (code, name, selected), those `user` contributes for.
pub(crate) fn organisation_choices(
    plan: &Plan,
    user: &SignedIn,
    chosen: &str,
) -> Vec<(String, String, bool)> {
    user.access
        .contributing_organisations(plan)
        .into_iter()
        .filter_map(|c| plan.organisation(c))
        .map(|o| {
            (
                o.code.to_string(),
                o.name.clone(),
                o.code.as_str() == chosen,
            )
        })
        .collect()
}

/// An organisation's name for a list.
pub(crate) fn organisation_name(plan: &Plan, code: &OdsCode) -> String {
    plan.organisation(code)
        .map_or_else(|| code.to_string(), |o| o.display_name().to_string())
}

/// Action ids written by a person ("ct1, CT2") → the plan's ids, or what to fix.
pub(crate) fn action_ids(text: &str, plan: &Plan) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for a in text
        .split([',', ';', ' '])
        .map(|a| a.trim().to_uppercase())
        .filter(|a| !a.is_empty())
    {
        if !plan.actions.iter().any(|x| x.id == a) {
            return Err(format!(
                "Linked actions: {a} is not a priority action of the plan. Use ids such as CT1, separated by commas."
            ));
        }
        if !ids.contains(&a) {
            ids.push(a);
        }
    }
    Ok(ids)
}

/// Reads a urlencoded body into (name, value) pairs, keeping repeated names.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of `name` in a form ("" when absent).
pub(crate) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Checks the CSRF token of a urlencoded form and finds who sends it.
pub(crate) fn writer(
    viewer: &Viewer,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    what: &str,
) -> Result<SignedIn, PageError> {
    viewer.form_writer(headers, field(pairs, "csrf_token"), what)
}

// ------------------------------------------------------------------ the Tools page

#[derive(Template)]
#[template(path = "tools.html")]
struct ToolsPage {
    title: String,
    chrome: Chrome,
}

pub async fn index(viewer: Viewer) -> PageResult {
    html(ToolsPage {
        title: "Tools".into(),
        chrome: Chrome::of(&viewer),
    })
}

// ------------------------------------------------------------------ the factor library

/// A factor as a row of the library page.
pub struct FactorRow {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub kgco2e: String,
    pub range: String,
    pub source: String,
    pub year: String,
    pub verified: bool,
}

impl FactorRow {
    fn of(f: &CareActivityFactor) -> Self {
        Self {
            id: f.id.clone(),
            name: f.name.clone(),
            unit: f.unit.clone(),
            kgco2e: number(f.kgco2e),
            range: match (f.low, f.high) {
                (Some(l), Some(h)) => format!("{} to {}", number(l), number(h)),
                _ => String::new(),
            },
            source: f.source.clone(),
            year: f.year.map(|y| y.to_string()).unwrap_or_default(),
            verified: f.verified,
        }
    }
}

#[derive(Template)]
#[template(path = "care_activities.html")]
struct FactorsPage {
    title: String,
    chrome: Chrome,
    rows: Vec<FactorRow>,
}

pub async fn factors(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let rows = state
        .store
        .care_activity_factors()
        .await?
        .iter()
        .map(FactorRow::of)
        .collect();
    html(FactorsPage {
        title: "Care-activity factors".into(),
        chrome: Chrome::of(&viewer),
        rows,
    })
}

/// The factor form as sent (kept to show it again with what to fix).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    kgco2e: String,
    #[serde(default)]
    low: String,
    #[serde(default)]
    high: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    verified: String,
    /// The revision the form was drawn from (`crate::kit::stale`).
    #[serde(default)]
    revision: String,
}

impl FactorForm {
    fn of(f: &CareActivityFactor) -> Self {
        let text = |v: Option<Decimal>| v.map(|v| v.normalize().to_string()).unwrap_or_default();
        Self {
            csrf_token: String::new(),
            name: f.name.clone(),
            unit: f.unit.clone(),
            kgco2e: f.kgco2e.normalize().to_string(),
            low: text(f.low),
            high: text(f.high),
            source: f.source.clone(),
            year: f.year.map(|y| y.to_string()).unwrap_or_default(),
            verified: if f.verified {
                "yes".into()
            } else {
                String::new()
            },
            revision: String::new(),
        }
    }

    /// The factor the form describes, or what to fix.
    fn factor(&self, id: &str) -> Result<CareActivityFactor, String> {
        let figure = |label: &str, t: &str| -> Result<Option<Decimal>, String> {
            match t.trim() {
                "" => Ok(None),
                t => parse_decimal(t).map(Some).ok_or_else(|| {
                    format!(
                        "{label}: `{t}` is not a number. Write kgCO2e per unit, for example 37.9."
                    )
                }),
            }
        };
        let kgco2e = figure("kgCO2e per unit", &self.kgco2e)?
            .ok_or("Give kgCO2e per unit, for example 37.9.")?;
        let year = match self.year.trim() {
            "" => None,
            y => Some(
                y.parse::<i32>()
                    .ok()
                    .filter(|y| (1950..=2100).contains(y))
                    .ok_or_else(|| format!("Year: `{y}` is not a year, for example 2025."))?,
            ),
        };
        let f = CareActivityFactor {
            id: id.to_string(),
            name: self.name.trim().to_string(),
            unit: self.unit.trim().to_string(),
            kgco2e,
            low: figure("Low end of the range", &self.low)?,
            high: figure("High end of the range", &self.high)?,
            source: self.source.trim().to_string(),
            year,
            verified: !self.verified.is_empty(),
        };
        f.check().map_err(|e| sentence(&e.to_string()))?;
        Ok(f)
    }
}

#[derive(Template)]
#[template(path = "care_activity_edit.html")]
struct EditFactorPage {
    title: String,
    chrome: Chrome,
    id: String,
    form: FactorForm,
    error: String,
    history: Vec<HistoryRow>,
    stale: Option<crate::kit::stale::StaleNotice>,
}

/// Only a system administrator edits the library: its figures are every scenario's.
fn library_editor(user: &SignedIn) -> Result<(), PageError> {
    if user.access.can_run_the_plan() {
        Ok(())
    } else {
        Err(forbidden(
            "Only the ICB's system administrators can change the care-activity factors.",
        ))
    }
}

async fn factor_of(state: &AppState, id: &str) -> Result<CareActivityFactor, PageError> {
    state
        .store
        .care_activity_factors()
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| not_found_error("care-activity factor"))
}

pub async fn edit_factor_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    library_editor(signed_in(&viewer, "edit the care-activity factors")?)?;
    // The revision before the record (see `Store::revision`).
    let revision = state
        .store
        .revision(greenplan_store::Revised::CareActivityFactor, &id)
        .await?
        .ok_or_else(|| not_found_error("care-activity factor"))?;
    let f = factor_of(&state, &id).await?;
    let mut form = FactorForm::of(&f);
    form.revision = revision.to_string();
    html(EditFactorPage {
        title: format!("Edit {}", f.name),
        chrome: Chrome::of(&viewer),
        form,
        history: history_of(&state, "care-activity-factor", &id).await?,
        id,
        error: String::new(),
        stale: None,
    })
}

pub async fn edit_factor(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(mut form): axum::Form<FactorForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit the care-activity factors")?;
    library_editor(&user)?;
    let revision = crate::kit::stale::revision_of(Some(&form.revision))?;
    factor_of(&state, &id).await?;
    let factor = match form.factor(&id) {
        Ok(f) => f,
        Err(error) => {
            return shown_again(EditFactorPage {
                title: "Edit care-activity factor".into(),
                chrome: Chrome::of(&viewer),
                history: history_of(&state, "care-activity-factor", &id).await?,
                id,
                form,
                error,
                stale: None,
            });
        }
    };
    if let Err(e) = state
        .store
        .update_care_activity_factor(&user.email, &factor, revision)
        .await
    {
        let stale = crate::kit::stale::stale_of(e).map_err(refused)?;
        form.revision = stale.current.to_string();
        return crate::kit::stale::shown_stale(EditFactorPage {
            title: "Edit care-activity factor".into(),
            chrome: Chrome::of(&viewer),
            history: history_of(&state, "care-activity-factor", &id).await?,
            id,
            form,
            error: String::new(),
            stale: Some(crate::kit::stale::StaleNotice::plain(&stale)),
        });
    }
    see_other("/tools/care-activities")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(sentence("say why"), "Say why.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
