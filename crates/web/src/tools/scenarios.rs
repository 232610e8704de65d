//! Saved care pathway scenarios: list, view (the saving, its breakdown, the equivalence and
//! the range, computed by `greenplan_core::pathway::evaluate` exactly as `greenplan pathway`
//! does), create and edit. Contributors of the scenario's organisation change it.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::stale::{StaleNotice, revision_of, shown_stale, stale_of};
use crate::kit::{
    Chrome, HistoryRow, PageError, PageResult, history_of, html, not_found_error, number, plan,
};
use crate::tools::{
    action_ids, can_edit, field, form_pairs, organisation_choices, organisation_name, refused,
    require_contributor, see_other, shown_again, signed_in, writer,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::pathway::{
    CareActivityFactor, Change, Scenario, ScenarioLine, ScenarioResult, evaluate,
};
use greenplan_core::quantity::parse_decimal;
use greenplan_store::SavedScenario;

/// Lines the form offers (a pathway change touches a handful of care activities).
pub const LINES: usize = 6;

/// A scenario in the list.
pub struct ScenarioRow {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub saved: String,
    pub equivalents: String,
    pub actions: Vec<String>,
}

#[derive(Template)]
#[template(path = "scenarios.html")]
struct ListPage {
    title: String,
    chrome: Chrome,
    rows: Vec<ScenarioRow>,
    can_add: bool,
}

fn range_text(r: Option<(Decimal, Decimal)>) -> String {
    r.map(|(a, b)| format!("{} to {}", number(a), number(b)))
        .unwrap_or_default()
}

fn equivalents_text(v: Option<Decimal>, unit: &Option<String>) -> String {
    match (v, unit) {
        (Some(v), Some(u)) => format!("= {} {}s", number(v), u),
        _ => String::new(),
    }
}

pub async fn list(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let library = state.store.care_activity_factors().await?;
    let rows = state
        .store
        .pathway_scenarios()
        .await?
        .into_iter()
        .map(|s| {
            let result = evaluate(&s.scenario, &library);
            ScenarioRow {
                id: s.id,
                organisation: organisation_name(&plan, &s.organisation),
                saved: result.as_ref().map_or_else(
                    |e| format!("Cannot be computed: {e}"),
                    |r| number(r.total_kgco2e_saved),
                ),
                equivalents: result.as_ref().map_or_else(
                    |_| String::new(),
                    |r| equivalents_text(r.total_equivalents, &r.equivalent),
                ),
                actions: s.scenario.actions.clone(),
                name: s.scenario.name,
            }
        })
        .collect();
    let can_add = viewer
        .user
        .as_ref()
        .is_some_and(|u| !u.access.contributing_organisations(&plan).is_empty());
    html(ListPage {
        title: "Care pathway scenarios".into(),
        chrome: Chrome::of(&viewer),
        rows,
        can_add,
    })
}

/// One computed line, as text.
pub struct LineView {
    pub name: String,
    pub fewer: String,
    pub unit: String,
    pub per_unit: String,
    pub saved: String,
    pub range: String,
    pub equivalents: String,
    pub source: String,
    pub verified: bool,
    pub published: String,
}

#[derive(Template)]
#[template(path = "scenario.html")]
struct ShowPage {
    title: String,
    chrome: Chrome,
    saved: SavedScenario,
    organisation: String,
    scheme: Option<(i64, String)>,
    lines: Vec<LineView>,
    total: String,
    total_range: String,
    equivalence: String,
    error: String,
    can_edit: bool,
    history: Vec<HistoryRow>,
}

fn line_views(r: &ScenarioResult) -> Vec<LineView> {
    r.lines
        .iter()
        .map(|l| LineView {
            name: l.name.clone(),
            fewer: number(l.fewer),
            unit: l.unit.clone(),
            per_unit: number(l.kgco2e_per_unit),
            saved: number(l.kgco2e_saved),
            range: range_text(l.range),
            equivalents: l.equivalents.map(number).unwrap_or_default(),
            source: l.source.clone(),
            verified: l.verified,
            published: l.published_note.clone().unwrap_or_default(),
        })
        .collect()
}

async fn saved_of(state: &AppState, id: i64) -> Result<SavedScenario, PageError> {
    state
        .store
        .pathway_scenario(id)
        .await?
        .ok_or_else(|| not_found_error("pathway scenario"))
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let plan = plan(&state).await?;
    let saved = saved_of(&state, id).await?;
    let library = state.store.care_activity_factors().await?;
    let (lines, total, total_range, equivalence, error) = match evaluate(&saved.scenario, &library)
    {
        Ok(r) => (
            line_views(&r),
            number(r.total_kgco2e_saved),
            range_text(r.total_range),
            equivalents_text(r.total_equivalents, &r.equivalent),
            String::new(),
        ),
        Err(e) => (
            Vec::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("This scenario cannot be computed with the current library: {e}."),
        ),
    };
    let scheme = match saved.scheme {
        Some(s) => state.store.scheme(s).await?.map(|x| (x.id, x.details.name)),
        None => None,
    };
    html(ShowPage {
        title: saved.scenario.name.clone(),
        chrome: Chrome::of(&viewer),
        organisation: organisation_name(&plan, &saved.organisation),
        can_edit: can_edit(&viewer, &saved.organisation),
        history: history_of(&state, "pathway-scenario", &id.to_string()).await?,
        saved,
        scheme,
        lines,
        total,
        total_range,
        equivalence,
        error,
    })
}

/// One line of the form: (activity id, avoided, before, after).
#[derive(Debug, Clone, Default)]
pub struct LineForm {
    pub activity: String,
    pub avoided: String,
    pub before: String,
    pub after: String,
}

/// The scenario form as sent.
#[derive(Debug, Clone, Default)]
pub struct ScenarioForm {
    pub name: String,
    pub organisation: String,
    pub scheme: String,
    pub description: String,
    pub actions: String,
    pub equivalent: String,
    pub lines: Vec<LineForm>,
    /// The revision the form was drawn from (`crate::kit::stale`; unused for a new scenario).
    pub revision: String,
}

impl ScenarioForm {
    fn of(s: &SavedScenario) -> Self {
        let count = |v: Decimal| v.normalize().to_string();
        let mut lines: Vec<LineForm> = s
            .scenario
            .lines
            .iter()
            .map(|l| match &l.change {
                Change::Avoided { count: c } => LineForm {
                    activity: l.activity.clone(),
                    avoided: count(*c),
                    ..LineForm::default()
                },
                Change::BeforeAfter { before, after } => LineForm {
                    activity: l.activity.clone(),
                    before: count(*before),
                    after: count(*after),
                    ..LineForm::default()
                },
            })
            .collect();
        lines.resize(LINES.max(lines.len()), LineForm::default());
        Self {
            name: s.scenario.name.clone(),
            organisation: s.organisation.to_string(),
            scheme: s.scheme.map(|x| x.to_string()).unwrap_or_default(),
            description: s.scenario.description.clone().unwrap_or_default(),
            actions: s.scenario.actions.join(", "),
            equivalent: s.scenario.equivalent.clone().unwrap_or_default(),
            lines,
            revision: s.revision.to_string(),
        }
    }

    fn blank() -> Self {
        Self {
            equivalent: "gp-home-visit".into(),
            lines: vec![LineForm::default(); LINES],
            ..Self::default()
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let lines = (0..LINES)
            .map(|i| LineForm {
                activity: field(pairs, &format!("activity_{i}")).to_string(),
                avoided: field(pairs, &format!("avoided_{i}")).to_string(),
                before: field(pairs, &format!("before_{i}")).to_string(),
                after: field(pairs, &format!("after_{i}")).to_string(),
            })
            .collect();
        Self {
            name: field(pairs, "name").to_string(),
            organisation: field(pairs, "organisation").to_string(),
            scheme: field(pairs, "scheme").to_string(),
            description: field(pairs, "description").to_string(),
            actions: field(pairs, "actions").to_string(),
            equivalent: field(pairs, "equivalent").to_string(),
            lines,
            revision: field(pairs, "revision").to_string(),
        }
    }

    /// The scenario the form describes (keeping what the form does not show, such as a
    /// published figure of a line, from `previous`), or what to fix.
    fn scenario(
        &self,
        plan: &greenplan_core::plan::Plan,
        previous: Option<&Scenario>,
    ) -> Result<Scenario, String> {
        let mut lines = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            let n = i + 1;
            let count = |label: &str, t: &str| -> Result<Option<Decimal>, String> {
                match t.trim() {
                    "" => Ok(None),
                    t => parse_decimal(t).filter(|v| !v.is_sign_negative()).map(Some).ok_or_else(|| {
                        format!("Care activity {n}: {label} `{t}` is not a count. Write a number of zero or more, for example 188.")
                    }),
                }
            };
            let (avoided, before, after) = (
                count("avoided", &l.avoided)?,
                count("before", &l.before)?,
                count("after", &l.after)?,
            );
            if l.activity.is_empty() {
                if avoided.or(before).or(after).is_some() {
                    return Err(format!(
                        "Care activity {n}: choose the care activity the counts are of."
                    ));
                }
                continue;
            }
            let change = match (avoided, before, after) {
                (Some(count), None, None) => Change::Avoided { count },
                (None, Some(before), Some(after)) => Change::BeforeAfter { before, after },
                _ => {
                    return Err(format!(
                        "Care activity {n}: give either the number avoided, or both the number before and the number after."
                    ));
                }
            };
            let published = previous
                .and_then(|p| p.lines.iter().find(|x| x.activity == l.activity))
                .and_then(|x| x.published.clone());
            lines.push(ScenarioLine {
                activity: l.activity.clone(),
                change,
                published,
            });
        }
        if self.name.trim().is_empty() {
            return Err("Give the scenario a name.".into());
        }
        if lines.is_empty() {
            return Err("Add at least one care activity that changes.".into());
        }
        Ok(Scenario {
            name: self.name.trim().to_string(),
            description: Some(self.description.trim().replace("\r\n", "\n"))
                .filter(|d| !d.is_empty()),
            actions: action_ids(&self.actions, plan)?,
            case_study: previous.and_then(|p| p.case_study.clone()),
            equivalent: Some(self.equivalent.clone()).filter(|e| !e.is_empty()),
            lines,
        })
    }
}

#[derive(Template)]
#[template(path = "scenario_form.html")]
struct FormPage {
    title: String,
    chrome: Chrome,
    post_to: String,
    is_new: bool,
    form: ScenarioForm,
    organisations: Vec<(String, String, bool)>,
    /// (id, name)
    schemes: Vec<(i64, String)>,
    factors: Vec<CareActivityFactor>,
    error: String,
    stale: Option<StaleNotice>,
}

async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    id: Option<i64>,
    form: ScenarioForm,
    error: String,
) -> Result<FormPage, PageError> {
    let user = signed_in(viewer, "save a pathway scenario")?;
    let plan = plan(state).await?;
    let schemes = state
        .store
        .schemes(false)
        .await?
        .into_iter()
        .filter(|s| user.access.can_contribute_for(&s.details.organisation))
        .map(|s| (s.id, s.details.name))
        .collect();
    Ok(FormPage {
        title: if id.is_some() {
            format!("Edit {}", form.name)
        } else {
            "New care pathway scenario".into()
        },
        chrome: Chrome::of(viewer),
        post_to: id.map_or_else(
            || "/tools/scenarios".into(),
            |i| format!("/tools/scenarios/{i}"),
        ),
        is_new: id.is_none(),
        organisations: organisation_choices(&plan, user, &form.organisation),
        schemes,
        factors: state.store.care_activity_factors().await?,
        form,
        error,
        stale: None,
    })
}

pub async fn new_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    html(form_page(&viewer, &state, None, ScenarioForm::blank(), String::new()).await?)
}

pub async fn edit_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let user = signed_in(&viewer, "edit a pathway scenario")?;
    let saved = saved_of(&state, id).await?;
    require_contributor(user, &saved.organisation, "the scenarios")?;
    html(
        form_page(
            &viewer,
            &state,
            Some(id),
            ScenarioForm::of(&saved),
            String::new(),
        )
        .await?,
    )
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

async fn save(
    viewer: Viewer,
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    id: Option<i64>,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "save a pathway scenario")?;
    let mut form = ScenarioForm::read(&pairs);
    let previous = match id {
        Some(id) => Some(saved_of(&state, id).await?),
        None => None,
    };
    let organisation = match &previous {
        Some(p) => p.organisation.clone(),
        None => match OdsCode::parse(&form.organisation) {
            Ok(o) => o,
            Err(_) => {
                let page = form_page(
                    &viewer,
                    &state,
                    id,
                    form,
                    "Choose the organisation the scenario belongs to.".into(),
                )
                .await?;
                return shown_again(page);
            }
        },
    };
    require_contributor(&user, &organisation, "the scenarios")?;
    let revision = match id {
        Some(_) => revision_of(Some(&form.revision))?,
        None => 0,
    };
    let plan = plan(&state).await?;
    let scenario = form.scenario(&plan, previous.as_ref().map(|p| &p.scenario));
    let scheme = match form.scheme.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "Choose a scheme from the list.".to_string()),
    };
    let (scenario, scheme) = match (scenario, scheme) {
        (Ok(s), Ok(x)) => (s, x),
        (Err(e), _) | (_, Err(e)) => {
            return shown_again(form_page(&viewer, &state, id, form, e).await?);
        }
    };
    match state
        .store
        .save_pathway_scenario(
            &user.email,
            id.map(|id| (id, revision)),
            &organisation,
            scheme,
            &scenario,
        )
        .await
    {
        Ok(id) => see_other(&format!("/tools/scenarios/{id}")),
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(form_page(&viewer, &state, id, form, crate::tools::sentence(&m)).await?)
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
