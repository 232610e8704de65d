//! Sustainability Impact Assessments: the list with the plan's statistics, the form (save a
//! draft, or save and submit), the printable assessment, and the review (review, or return
//! with a comment). Who may do what is `greenplan_core::sia`'s rule, checked again by the
//! store in the transaction that makes the step.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::stale::{StaleNotice, revision_of, shown_stale, stale_of};
use crate::kit::{
    Chrome, HistoryRow, PageError, PageResult, history_of, html, not_found_error, plan, when,
};
use crate::tools::{
    field, form_pairs, organisation_choices, organisation_name, refused, require_contributor,
    see_other, sentence, shown_again, signed_in, writer,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{FinancialYear, Quarter};
use greenplan_core::sia::{
    Assessment, Facet, Impact, SiaStatus, Step, may_edit, problems_before_submission, statistics,
};
use greenplan_store::StoreError;

/// An assessment as a row of the list.
pub struct SiaRow {
    pub id: i64,
    pub title: String,
    pub organisation: String,
    pub scheme: String,
    pub status: String,
    pub colour: String,
    pub started: String,
}

/// A statistics row: (period, started, completed, with negatives, mitigated, share).
pub type StatsRow = (String, u32, u32, u32, u32, String);

#[derive(Template)]
#[template(path = "sias.html")]
struct ListPage {
    title: String,
    chrome: Chrome,
    rows: Vec<SiaRow>,
    stats: Vec<StatsRow>,
    year: String,
    years: Vec<(String, bool)>,
    can_add: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct YearQuery {
    #[serde(default)]
    year: String,
}

/// The statistics for each quarter of `year` and the year.
pub fn stats_rows(all: &[Assessment], year: FinancialYear) -> Vec<StatsRow> {
    let quarters = (1..=4).map(|number| Quarter { year, number });
    quarters
        .map(|q| statistics(all, &q.to_string(), q.start(), q.end()))
        .chain(std::iter::once(statistics(
            all,
            &year.to_string(),
            year.start(),
            year.end(),
        )))
        .map(|s| {
            (
                s.period,
                s.started,
                s.completed,
                s.with_negative,
                s.mitigated,
                s.mitigated_share
                    .map_or_else(|| "None with negative impacts".into(), |p| format!("{p}%")),
            )
        })
        .collect()
}

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    let plan = plan(&state).await?;
    let all = state.store.sias().await?;
    let schemes = state.store.schemes(true).await?;
    let this_year = FinancialYear::containing(chrono::Local::now().date_naive());
    let year = FinancialYear::parse(&q.year).unwrap_or(this_year);
    let rows = all
        .iter()
        .rev()
        .map(|a| SiaRow {
            id: a.id,
            title: a.title.clone(),
            organisation: organisation_name(&plan, &a.organisation),
            scheme: a
                .scheme
                .and_then(|s| schemes.iter().find(|x| x.id == s))
                .map(|s| s.details.name.clone())
                .unwrap_or_default(),
            status: a.status.label().into(),
            colour: a.status.colour().into(),
            started: when(a.created_at),
        })
        .collect();
    html(ListPage {
        title: "Sustainability Impact Assessments".into(),
        chrome: Chrome::of(&viewer),
        rows,
        stats: stats_rows(&all, year),
        year: year.to_string(),
        years: (plan.info.first_year.0.min(year.0)..=plan.info.last_year.0.max(this_year.0))
            .map(|y| (FinancialYear(y).to_string(), y == year.0))
            .collect(),
        can_add: viewer
            .user
            .as_ref()
            .is_some_and(|u| !u.access.contributing_organisations(&plan).is_empty()),
    })
}

/// A facet as shown on the printable page.
pub struct FacetView {
    pub label: String,
    pub impact: String,
    pub colour: String,
    pub reason: String,
    pub mitigation: String,
}

#[derive(Template)]
#[template(path = "sia.html")]
struct ShowPage {
    title: String,
    chrome: Chrome,
    sia: Assessment,
    organisation: String,
    scheme: Option<(i64, String)>,
    facets: Vec<FacetView>,
    started: String,
    submitted: String,
    reviewed: String,
    can_edit: bool,
    can_submit: bool,
    can_review: bool,
    error: String,
    history: Vec<HistoryRow>,
    /// The assessment's revision, sent by the submit and review forms (`crate::kit::stale`).
    revision: i64,
    stale: Option<StaleNotice>,
    /// The review comment as written (kept when a review is refused as stale).
    comment: String,
}

async fn sia_of(state: &AppState, id: i64) -> Result<Assessment, PageError> {
    state
        .store
        .sia(id)
        .await?
        .ok_or_else(|| not_found_error("sustainability impact assessment"))
}

async fn show_page(
    viewer: &Viewer,
    state: &AppState,
    id: i64,
    error: String,
) -> Result<ShowPage, PageError> {
    let plan = plan(state).await?;
    // The revision before the record (see `Store::revision`).
    let revision = sia_revision(state, id).await?;
    let sia = sia_of(state, id).await?;
    let scheme = match sia.scheme {
        Some(s) => state.store.scheme(s).await?.map(|x| (x.id, x.details.name)),
        None => None,
    };
    let facets = sia
        .facets
        .iter()
        .map(|f| FacetView {
            label: f.facet.label().into(),
            impact: f.impact.map_or("Not rated yet", Impact::label).into(),
            colour: f.impact.map_or("white", Impact::colour).into(),
            reason: f.reason.clone(),
            mitigation: f.mitigation.clone(),
        })
        .collect();
    let access = viewer.user.as_ref().map(|u| (&u.access, u.email.as_str()));
    let by = |who: &Option<String>, at: Option<i64>| match (who, at) {
        (Some(w), Some(t)) => format!("{}, {w}", when(t)),
        _ => String::new(),
    };
    Ok(ShowPage {
        title: format!("SIA {}: {}", sia.id, sia.title),
        chrome: Chrome::of(viewer),
        organisation: organisation_name(&plan, &sia.organisation),
        scheme,
        facets,
        started: format!("{}, {}", when(sia.created_at), sia.created_by),
        submitted: by(&sia.submitted_by, sia.submitted_at),
        reviewed: by(&sia.reviewed_by, sia.reviewed_at),
        can_edit: access.is_some_and(|(a, _)| may_edit(&sia, a)),
        can_submit: access.is_some_and(|(a, _)| may_edit(&sia, a)),
        can_review: access.is_some_and(|(a, who)| {
            sia.status == SiaStatus::Submitted
                && a.can_review_for(&sia.organisation)
                && sia.submitted_by.as_deref() != Some(who)
        }),
        history: history_of(state, "sia", &id.to_string()).await?,
        sia,
        error,
        revision,
        stale: None,
        comment: String::new(),
    })
}

async fn sia_revision(state: &AppState, id: i64) -> Result<i64, PageError> {
    state
        .store
        .revision(greenplan_store::Revised::Sia, &id.to_string())
        .await?
        .ok_or_else(|| not_found_error("sustainability impact assessment"))
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    html(show_page(&viewer, &state, id, String::new()).await?)
}

/// One facet of the form: (slug, label, question, chosen impact slug, reason, mitigation).
pub struct FacetForm {
    pub slug: String,
    pub label: String,
    pub question: String,
    pub impact: String,
    pub reason: String,
    pub mitigation: String,
}

/// The form as sent.
pub struct SiaForm {
    pub title: String,
    pub organisation: String,
    pub scheme: String,
    pub description: String,
    pub facets: Vec<FacetForm>,
    /// The revision the form was drawn from (`crate::kit::stale`; unused for a new one).
    pub revision: String,
}

impl SiaForm {
    fn of(a: &Assessment) -> Self {
        Self {
            title: a.title.clone(),
            organisation: a.organisation.to_string(),
            scheme: a.scheme.map(|s| s.to_string()).unwrap_or_default(),
            description: a.description.clone(),
            facets: Facet::ALL
                .iter()
                .map(|f| {
                    let answer = a.facets.iter().find(|x| x.facet == *f);
                    FacetForm {
                        slug: f.slug().into(),
                        label: f.label().into(),
                        question: f.question().into(),
                        impact: answer
                            .and_then(|x| x.impact)
                            .map(|i| i.slug().to_string())
                            .unwrap_or_default(),
                        reason: answer.map(|x| x.reason.clone()).unwrap_or_default(),
                        mitigation: answer.map(|x| x.mitigation.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
            revision: String::new(),
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let f = |n: &str| field(pairs, n).to_string();
        Self {
            title: f("title"),
            organisation: f("organisation"),
            scheme: f("scheme"),
            description: f("description"),
            facets: Facet::ALL
                .iter()
                .map(|x| FacetForm {
                    slug: x.slug().into(),
                    label: x.label().into(),
                    question: x.question().into(),
                    impact: f(&format!("impact-{}", x.slug())),
                    reason: f(&format!("reason-{}", x.slug())),
                    mitigation: f(&format!("mitigation-{}", x.slug())),
                })
                .collect(),
            revision: f("revision"),
        }
    }

    /// Applies the answers to `a` (its organisation and workflow stay), or says what to fix.
    fn apply(&self, a: &mut Assessment) -> Result<(), String> {
        a.title = self.title.trim().to_string();
        a.description = self.description.trim().replace("\r\n", "\n");
        a.scheme = match self.scheme.trim() {
            "" => None,
            s => Some(
                s.parse()
                    .map_err(|_| "Choose a scheme from the list.".to_string())?,
            ),
        };
        for (answer, form) in a.facets.iter_mut().zip(&self.facets) {
            answer.impact = match form.impact.as_str() {
                "" => None,
                i => Some(i.parse::<Impact>().map_err(|e| sentence(&e))?),
            };
            answer.reason = form.reason.trim().replace("\r\n", "\n");
            answer.mitigation = form.mitigation.trim().replace("\r\n", "\n");
        }
        Ok(())
    }
}

#[derive(Template)]
#[template(path = "sia_form.html")]
struct FormPage {
    title: String,
    chrome: Chrome,
    post_to: String,
    is_new: bool,
    form: SiaForm,
    organisations: Vec<(String, String, bool)>,
    schemes: Vec<(i64, String)>,
    impacts: Vec<(String, String)>,
    /// (field id, message) to put right.
    problems: Vec<(String, String)>,
    stale: Option<StaleNotice>,
}

async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    id: Option<i64>,
    form: SiaForm,
    problems: Vec<(String, String)>,
) -> Result<FormPage, PageError> {
    let user = signed_in(viewer, "fill in a sustainability impact assessment")?;
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
            format!("Edit SIA: {}", form.title)
        } else {
            "New Sustainability Impact Assessment".into()
        },
        chrome: Chrome::of(viewer),
        post_to: id.map_or_else(|| "/tools/sias".into(), |i| format!("/tools/sias/{i}")),
        is_new: id.is_none(),
        organisations: organisation_choices(&plan, user, &form.organisation),
        schemes,
        impacts: Impact::ALL
            .iter()
            .map(|i| (i.slug().to_string(), i.label().to_string()))
            .collect(),
        form,
        problems,
        stale: None,
    })
}

pub async fn new_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = signed_in(&viewer, "fill in a sustainability impact assessment")?;
    let plan = plan(&state).await?;
    let org = user
        .access
        .contributing_organisations(&plan)
        .first()
        .map_or_else(|| plan.info.icb.clone(), |o| (*o).clone());
    let blank = Assessment::blank(org, "", "", 0);
    html(form_page(&viewer, &state, None, SiaForm::of(&blank), Vec::new()).await?)
}

pub async fn edit_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let user = signed_in(&viewer, "edit a sustainability impact assessment")?;
    let revision = sia_revision(&state, id).await?;
    let sia = sia_of(&state, id).await?;
    require_contributor(user, &sia.organisation, "the assessments")?;
    if !sia.status.is_editable() {
        return see_other(&format!("/tools/sias/{id}"));
    }
    let mut form = SiaForm::of(&sia);
    form.revision = revision.to_string();
    html(form_page(&viewer, &state, Some(id), form, Vec::new()).await?)
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

/// Saves the form as a draft and, when the "submit" button was pressed, submits it; a form
/// that cannot be submitted is saved and shown again with everything to put right.
async fn save(
    viewer: Viewer,
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    id: Option<i64>,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(
        &viewer,
        &headers,
        &pairs,
        "fill in a sustainability impact assessment",
    )?;
    let mut form = SiaForm::read(&pairs);
    let mut sia = match id {
        Some(id) => sia_of(&state, id).await?,
        None => match OdsCode::parse(&form.organisation) {
            Ok(o) => Assessment::blank(o, "", &user.email, 0),
            Err(_) => {
                let p = vec![(
                    "organisation".into(),
                    "Choose the organisation making the change.".into(),
                )];
                return shown_again(form_page(&viewer, &state, id, form, p).await?);
            }
        },
    };
    require_contributor(&user, &sia.organisation, "the assessments")?;
    let revision = match id {
        Some(_) => revision_of(Some(&form.revision))?,
        None => 0,
    };
    if let Err(e) = form.apply(&mut sia) {
        return shown_again(form_page(&viewer, &state, id, form, vec![("title".into(), e)]).await?);
    }
    let (saved, revision) = match state.store.save_sia(&user.email, &sia, revision).await {
        Ok(saved) => saved,
        Err(StoreError::Rejected(m)) => {
            return shown_again(
                form_page(
                    &viewer,
                    &state,
                    id,
                    form,
                    vec![("title".into(), sentence(&m))],
                )
                .await?,
            );
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            form.revision = stale.current.to_string();
            let mut page = form_page(&viewer, &state, id, form, Vec::new()).await?;
            page.stale = Some(StaleNotice::plain(&stale));
            return shown_stale(page);
        }
    };
    form.revision = revision.to_string();
    if field(&pairs, "then") != "submit" {
        return see_other(&format!("/tools/sias/{saved}"));
    }
    sia.id = saved;
    let problems: Vec<(String, String)> = problems_before_submission(&sia)
        .iter()
        .map(|p| (p.field(), format!("{p}.")))
        .collect();
    if !problems.is_empty() {
        return shown_again(form_page(&viewer, &state, Some(saved), form, problems).await?);
    }
    step(&viewer, &state, &user, saved, revision, Step::Submit).await
}

async fn step(
    viewer: &Viewer,
    state: &AppState,
    user: &greenplan_store::SignedIn,
    id: i64,
    revision: i64,
    step: Step,
) -> PageResult {
    match state
        .store
        .sia_step(&user.email, &user.access, id, revision, &step)
        .await
    {
        Ok(_) => see_other(&format!("/tools/sias/{id}")),
        Err(StoreError::Rejected(m)) => {
            shown_again(show_page(viewer, state, id, sentence(&m)).await?)
        }
        Err(e) => {
            // The assessment changed since the page was drawn: show it as it is now, with
            // the changes and the comment as written.
            let stale = stale_of(e).map_err(refused)?;
            let mut page = show_page(viewer, state, id, String::new()).await?;
            page.revision = stale.current;
            page.stale = Some(StaleNotice::plain(&stale));
            if let Step::Review { comment } | Step::Return { comment } = &step {
                page.comment = comment.clone();
            }
            shown_stale(page)
        }
    }
}

/// Submits a saved draft (the store checks it is complete and who submits it).
pub async fn submit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "submit an assessment")?;
    let sia = sia_of(&state, id).await?;
    require_contributor(&user, &sia.organisation, "the assessments")?;
    let revision = revision_of(Some(field(&pairs, "revision")))?;
    step(&viewer, &state, &user, id, revision, Step::Submit).await
}

/// Reviews a submitted assessment, or returns it with a comment (`decision`: review or
/// return).
pub async fn review(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "review an assessment")?;
    let sia = sia_of(&state, id).await?;
    if !user.access.can_review_for(&sia.organisation) {
        return Err(crate::tools::forbidden(&format!(
            "Only an organisation admin of {} or a system admin can review its assessments.",
            sia.organisation
        )));
    }
    let revision = revision_of(Some(field(&pairs, "revision")))?;
    let comment = field(&pairs, "comment").to_string();
    let s = match field(&pairs, "decision") {
        "return" => Step::Return { comment },
        _ => Step::Review { comment },
    };
    step(&viewer, &state, &user, id, revision, s).await
}
