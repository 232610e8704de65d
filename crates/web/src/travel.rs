//! Travel surveys for organisers: build a survey from the standard question set, open and
//! close it, issue single-use invitations (a CSV of links for a mail merge), import another
//! survey tool's export, and read the analysis — mode share by organisation and site,
//! commuting emissions from the official factors, barriers ranked — per survey or across an
//! organisation's surveys. Organisers are the contributors and admins of the survey's
//! organisation (`Access::can_contribute_for`), checked on the server for every write.

use crate::AppState;
use crate::account::forbidden;
use crate::auth::{Viewer, same_origin};
use crate::charts::{Bar, bar_chart};
use crate::pages::{
    Chrome, PageError, PageResult, csv_bytes, csv_response, html, not_found_error, number, plan,
};
use crate::travel_respond::{open_link_path, respond_path};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::Decimal;
use greenplan_core::footprint::Resolver;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::travel::{
    ACTIVE_TRAVEL_BARRIERS, Mode, PUBLIC_TRANSPORT_BARRIERS, Question, Respondents,
    SCHEME_INTERESTS, mode_share, parse_weeks, ranked,
};
use greenplan_ingest::RowError;
use greenplan_store::{
    NewTravelSurvey, SignedIn, StoreError, SurveyStatus, TravelResponse, TravelSurvey,
    survey_activities,
};
use std::collections::BTreeMap;

/// Largest survey export accepted.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// A share as a percentage to one decimal place ("35.7%").
pub fn percent_of(share: Decimal) -> String {
    format!(
        "{}%",
        (share * Decimal::ONE_HUNDRED).round_dp(1).normalize()
    )
}

/// An organisation's name as the plan gives it (its code if the plan does not know it).
pub(crate) fn organisation_name(plan: &greenplan_core::plan::Plan, code: &OdsCode) -> String {
    plan.organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

/// The signed-in organiser of `organisation`'s surveys, or why not.
fn organiser(viewer: &Viewer, organisation: &OdsCode) -> Result<SignedIn, PageError> {
    let user = viewer.user.clone().ok_or_else(|| {
        PageError(
            StatusCode::UNAUTHORIZED,
            "Sign in to manage travel surveys.".into(),
        )
    })?;
    if !user.access.can_contribute_for(organisation) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            format!(
                "Only contributors and admins of {organisation} can manage its travel surveys. Ask your organisation admin if you should."
            ),
        ));
    }
    Ok(user)
}

async fn survey_or_404(state: &AppState, id: i64) -> Result<TravelSurvey, PageError> {
    state
        .store
        .travel_survey(id)
        .await?
        .ok_or_else(|| not_found_error("travel survey"))
}

/// A store refusal as a 422 page with its message; other errors as usual.
pub(crate) fn refused(e: StoreError) -> PageError {
    match e {
        StoreError::Rejected(m) => PageError(StatusCode::UNPROCESSABLE_ENTITY, m),
        other => other.into(),
    }
}

// ---------------------------------------------------------------- the list and creating

/// A survey as a row of the list.
struct SurveyRow {
    id: i64,
    title: String,
    organisation: String,
    respondents: &'static str,
    year: String,
    status: &'static str,
    responses: i64,
}

#[derive(Default)]
struct NewSurveyForm {
    csrf_token: String,
    organisation: String,
    title: String,
    respondents: String,
    sites: String,
    financial_year: String,
    weeks: String,
    headcount: String,
}

impl NewSurveyForm {
    fn parse(body: &[u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "csrf_token" => f.csrf_token = v,
                "organisation" => f.organisation = v,
                "title" => f.title = v,
                "respondents" => f.respondents = v,
                "sites" => f.sites = v,
                "financial_year" => f.financial_year = v,
                "weeks" => f.weeks = v,
                "headcount" => f.headcount = v,
                _ => {}
            }
        }
        f
    }

    /// The survey, or the first problem in words.
    fn survey(&self) -> Result<NewTravelSurvey, String> {
        let organisation =
            OdsCode::parse(self.organisation.trim()).map_err(|e| format!("Organisation: {e}"))?;
        let respondents = Respondents::parse(&self.respondents).map_err(|e| e.to_string())?;
        let financial_year = FinancialYear::parse(self.financial_year.trim())
            .map_err(|e| format!("Financial year: {e}"))?;
        let weeks_per_year = match self.weeks.trim() {
            "" => respondents.default_weeks(),
            w => parse_weeks(w).map_err(|e| e.to_string())?,
        };
        let headcount = match self.headcount.trim().replace(',', "").as_str() {
            "" => None,
            h => Some(h.parse::<u32>().ok().filter(|h| *h > 0).ok_or_else(|| {
                format!("Headcount: `{h}` is not a whole number of people above 0; leave it empty not to scale")
            })?),
        };
        let title = self.title.trim().to_string();
        if title.is_empty() {
            return Err("Give the survey a title, e.g. Staff travel survey 2025.".into());
        }
        let sites: Vec<String> = self
            .sites
            .lines()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        greenplan_core::travel::check_survey_sites(&sites).map_err(|e| format!("Sites: {e}."))?;
        Ok(NewTravelSurvey {
            organisation,
            title,
            respondents,
            sites,
            financial_year,
            weeks_per_year,
            headcount,
        })
    }
}

#[derive(Template)]
#[template(path = "travel_surveys.html")]
struct SurveysPage {
    title: String,
    chrome: Chrome,
    surveys: Vec<SurveyRow>,
    /// Organisations the viewer may create surveys for: (code, name, chosen).
    organisations: Vec<(String, String, bool)>,
    /// Organisations with surveys, for their analysis: (code, name).
    analysed: Vec<(String, String)>,
    form: NewSurveyForm,
    staff: bool,
    error: String,
}

async fn surveys_page_with(
    viewer: &Viewer,
    state: &AppState,
    form: NewSurveyForm,
    error: String,
) -> Result<SurveysPage, PageError> {
    let plan = plan(state).await?;
    let surveys = state.store.travel_surveys(None).await?;
    let mut analysed: Vec<(String, String)> = surveys
        .iter()
        .map(|s| {
            (
                s.organisation.to_string(),
                organisation_name(&plan, &s.organisation),
            )
        })
        .collect();
    analysed.sort();
    analysed.dedup();
    let organisations = viewer
        .user
        .as_ref()
        .map(|u| {
            u.access
                .contributing_organisations(&plan)
                .into_iter()
                .map(|c| {
                    (
                        c.to_string(),
                        organisation_name(&plan, c),
                        form.organisation == c.as_str(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SurveysPage {
        title: "Travel surveys".into(),
        chrome: Chrome::of(viewer),
        surveys: surveys
            .iter()
            .map(|s| SurveyRow {
                id: s.id,
                title: s.title.clone(),
                organisation: organisation_name(&plan, &s.organisation),
                respondents: s.respondents.label(),
                year: s.financial_year.to_string(),
                status: s.status.label(),
                responses: s.responses,
            })
            .collect(),
        organisations,
        analysed,
        staff: form.respondents != Respondents::PatientsAndVisitors.slug(),
        form,
        error,
    })
}

/// Every survey, and a form to build one for the organisations the viewer organises.
pub async fn surveys_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let form = NewSurveyForm {
        financial_year: FinancialYear::containing(chrono::Local::now().date_naive()).to_string(),
        ..Default::default()
    };
    html(surveys_page_with(&viewer, &state, form, String::new()).await?)
}

/// Creates a survey (a draft) for an organisation the person organises.
pub async fn create_survey(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let form = NewSurveyForm::parse(&body);
    let user = viewer.form_writer(&headers, &form.csrf_token, "create a travel survey")?;
    let new = match form.survey() {
        Ok(n) => n,
        Err(message) => {
            let mut page = html(surveys_page_with(&viewer, &state, form, message).await?)?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
    };
    organiser(&viewer, &new.organisation)?;
    let id = state
        .store
        .create_travel_survey(&user.email, &new)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!("/tools/travel-surveys/{id}")).into_response())
}

// ---------------------------------------------------------------- one survey

#[derive(Template)]
#[template(path = "travel_survey.html")]
struct SurveyPage {
    title: String,
    chrome: Chrome,
    survey: TravelSurvey,
    organisation: String,
    status: &'static str,
    is_organiser: bool,
    is_open: bool,
    is_closed: bool,
    open_link: String,
    weeks: String,
    headcount: String,
    imported: String,
    error: String,
    row_errors: Vec<RowError>,
    more_errors: usize,
}

async fn survey_view(
    viewer: &Viewer,
    state: &AppState,
    survey: TravelSurvey,
) -> Result<SurveyPage, PageError> {
    let plan = plan(state).await?;
    let is_organiser = viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_contribute_for(&survey.organisation));
    Ok(SurveyPage {
        title: survey.title.clone(),
        chrome: Chrome::of(viewer),
        organisation: organisation_name(&plan, &survey.organisation),
        status: survey.status.label(),
        is_organiser,
        is_open: survey.status == SurveyStatus::Open,
        is_closed: survey.status == SurveyStatus::Closed,
        open_link: match (&survey.open_link, is_organiser) {
            (Some(l), true) => open_link_path(l),
            _ => String::new(),
        },
        weeks: number(survey.weeks_per_year),
        headcount: survey.headcount.map_or_else(
            || "not given (not scaled)".into(),
            |h| number(Decimal::from(h)),
        ),
        survey,
        imported: String::new(),
        error: String::new(),
        row_errors: Vec::new(),
        more_errors: 0,
    })
}

/// A survey: its settings, where it stands, and (for organisers) what can be done with it.
pub async fn survey_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    html(survey_view(&viewer, &state, survey).await?)
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

async fn set_open(
    viewer: Viewer,
    state: AppState,
    headers: HeaderMap,
    id: i64,
    csrf: &str,
    open: bool,
) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    let what = if open {
        "open a survey"
    } else {
        "close a survey"
    };
    let user = viewer.form_writer(&headers, csrf, what)?;
    organiser(&viewer, &survey.organisation)?;
    state
        .store
        .set_travel_survey_open(&user.email, id, open)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!("/tools/travel-surveys/{id}")).into_response())
}

/// Opens a survey to responses (making its public link the first time).
pub async fn open_survey(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> PageResult {
    set_open(viewer, state, headers, id, &form.csrf_token, true).await
}

/// Closes a survey: no more responses; its results feed the footprint.
pub async fn close_survey(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> PageResult {
    set_open(viewer, state, headers, id, &form.csrf_token, false).await
}

#[derive(serde::Deserialize)]
pub struct InvitationForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    count: String,
}

/// Issues single-use invitations and hands them over as a CSV of links for a mail merge:
/// the only copy, as only their SHA-256 is kept.
pub async fn invitations(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<InvitationForm>,
) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    let user = viewer.form_writer(&headers, &form.csrf_token, "issue invitations")?;
    organiser(&viewer, &survey.organisation)?;
    let count: u32 = form.count.trim().parse().map_err(|_| {
        PageError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Number of invitations: `{}` is not a whole number; write how many links you need, e.g. 250.",
                form.count.trim()
            ),
        )
    })?;
    let tokens = state
        .store
        .issue_travel_survey_tokens(&user.email, id, count)
        .await
        .map_err(refused)?;
    let base = site_base(&state, &headers);
    let body = csv_bytes(
        &["invitation", "link"],
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| vec![(i + 1).to_string(), format!("{base}{}", respond_path(t))]),
    )?;
    Ok(csv_response(
        &format!("travel-survey-{id}-invitations.csv"),
        body,
    ))
}

/// The site's public address (`--public-url`) for links in a mail merge; without one,
/// `https://host` as the browser reached it.
fn site_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = &state.config.public_url {
        return public.base().to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// Imports another survey tool's CSV export into a survey: every bad row named, or all rows
/// stored in one transaction.
pub async fn import_responses(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(
            e.status(),
            format!(
                "The upload could not be read: {}. Files may be at most 10 MB.",
                e.body_text()
            ),
        )
    };
    let (mut csrf, mut file_name, mut contents) = (String::new(), String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf_token") => csrf = field.text().await.map_err(bad)?,
            Some("file") => {
                file_name = crate::text_input::field(
                    "file",
                    field.file_name().unwrap_or("responses.csv").to_string(),
                )?;
                contents = field.bytes().await.map_err(bad)?.to_vec();
            }
            _ => {}
        }
    }
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&csrf) {
        return Err(forbidden());
    }
    let survey = survey_or_404(&state, id).await?;
    let user = organiser(&viewer, &survey.organisation)?;
    let mut page = survey_view(&viewer, &state, survey.clone()).await?;
    if contents.is_empty() {
        page.error = "Choose the CSV file your survey tool exported.".into();
        return unprocessable(page);
    }
    match greenplan_ingest::travel_survey::read_survey_csv(&file_name, &contents, &survey.sites) {
        Err(e) => {
            let rows = e.row_errors().to_vec();
            page.error = if rows.is_empty() {
                e.to_string()
            } else {
                let total = match &e {
                    greenplan_ingest::IngestError::Rows { total, .. } => *total,
                    _ => rows.len(),
                };
                page.more_errors = total.saturating_sub(rows.len());
                format!(
                    "{total} row{} of {file_name} cannot be used, so nothing has been stored. Fix {} and import the file again.",
                    if total == 1 { "" } else { "s" },
                    if total == 1 { "it" } else { "them" }
                )
            };
            page.row_errors = rows;
            unprocessable(page)
        }
        Ok(import) => {
            let n = state
                .store
                .import_travel_responses(&user.email, id, &file_name, &import.rows)
                .await
                .map_err(refused)?;
            let mut page = survey_view(&viewer, &state, survey_or_404(&state, id).await?).await?;
            page.imported = format!(
                "{n} response{} imported from {file_name}.{}",
                if n == 1 { "" } else { "s" },
                if import.postcodes_cut > 0 {
                    format!(
                        " {} full postcode{} cut to the district; the full postcodes were not stored.",
                        import.postcodes_cut,
                        if import.postcodes_cut == 1 {
                            " was"
                        } else {
                            "s were"
                        }
                    )
                } else {
                    String::new()
                }
            );
            html(page)
        }
    }
}

fn unprocessable(page: SurveyPage) -> PageResult {
    let mut r = html(page)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

// ---------------------------------------------------------------- analysis

/// Mode share of one group (an organisation and site), as table rows.
struct ShareRow {
    organisation: String,
    site: String,
    respondents: u32,
    mode: &'static str,
    days: u32,
    share: String,
}

/// Emissions of one mode.
struct EmissionRow {
    mode: &'static str,
    distance: String,
    unit: &'static str,
    factor: String,
    tco2e: String,
}

/// The analysis of one or more surveys.
struct Analysis {
    respondents: u32,
    days: u32,
    /// (mode, days, share) of all respondents.
    overall_rows: Vec<(&'static str, u32, String)>,
    chart: String,
    by_site: Vec<ShareRow>,
    emissions: Vec<EmissionRow>,
    total_tco2e: String,
    respondents_tco2e: String,
    notes: Vec<String>,
    rankings: Vec<(&'static str, Vec<(&'static str, u32)>)>,
}

fn group_shares(
    plan: &greenplan_core::plan::Plan,
    surveys: &[(TravelSurvey, Vec<TravelResponse>)],
) -> Vec<ShareRow> {
    let mut groups: BTreeMap<(String, String), Vec<&greenplan_core::travel::Answers>> =
        BTreeMap::new();
    for (s, responses) in surveys {
        for r in responses {
            let site = r
                .answers
                .site
                .clone()
                .unwrap_or_else(|| "Site not given".into());
            groups
                .entry((organisation_name(plan, &s.organisation), site))
                .or_default()
                .push(&r.answers);
        }
    }
    let mut rows = Vec::new();
    for ((organisation, site), answers) in groups {
        let share = mode_share(answers.iter().copied());
        for line in share.lines {
            rows.push(ShareRow {
                organisation: organisation.clone(),
                site: site.clone(),
                respondents: share.respondents,
                mode: line.mode.label(),
                days: line.days,
                share: percent_of(line.share),
            });
        }
    }
    rows
}

async fn analyse(
    state: &AppState,
    surveys: &[(TravelSurvey, Vec<TravelResponse>)],
) -> Result<Analysis, PageError> {
    let plan = plan(state).await?;
    let all: Vec<&greenplan_core::travel::Answers> = surveys
        .iter()
        .flat_map(|(_, rs)| rs.iter().map(|r| &r.answers))
        .collect();
    let overall = mode_share(all.iter().copied());
    let bars: Vec<Bar> = overall
        .lines
        .iter()
        .map(|l| Bar {
            label: l.mode.label().to_string(),
            value: l.share * Decimal::ONE_HUNDRED,
            display: format!("{} ({} days)", percent_of(l.share), l.days),
        })
        .collect();
    let chart = if bars.is_empty() {
        String::new()
    } else {
        bar_chart("Mode share: days on site by main mode", &bars)
    };
    let (emissions, total, respondents_total, mut notes) = emissions(state, surveys).await?;
    let no_distance = all.iter().filter(|a| a.distance.is_none()).count();
    if no_distance > 0 {
        notes.push(format!(
            "{no_distance} respondent{} gave no distance (perhaps only a postcode district): they count in the mode share but not in the emissions.",
            if no_distance == 1 { "" } else { "s" }
        ));
    }
    let rank = |q: &Question| {
        ranked(
            q,
            all.iter().map(|a| match q.name {
                "active_barriers" => a.active_barriers.as_slice(),
                "public_barriers" => a.public_barriers.as_slice(),
                _ => a.interests.as_slice(),
            }),
        )
        .into_iter()
        .map(|(c, n)| (c.label, n))
        .collect::<Vec<_>>()
    };
    Ok(Analysis {
        respondents: overall.respondents,
        days: overall.days,
        chart,
        by_site: group_shares(&plan, surveys),
        emissions,
        total_tco2e: number(total.round_dp(2)),
        respondents_tco2e: number(respondents_total.round_dp(2)),
        notes,
        overall_rows: overall
            .lines
            .iter()
            .map(|l| (l.mode.label(), l.days, percent_of(l.share)))
            .collect(),
        rankings: vec![
            (ACTIVE_TRAVEL_BARRIERS.text, rank(&ACTIVE_TRAVEL_BARRIERS)),
            (
                PUBLIC_TRANSPORT_BARRIERS.text,
                rank(&PUBLIC_TRANSPORT_BARRIERS),
            ),
            (SCHEME_INTERESTS.text, rank(&SCHEME_INTERESTS)),
        ],
    })
}

type EmissionsOf = (Vec<EmissionRow>, Decimal, Decimal, Vec<String>);

/// Commuting emissions by mode from the surveys' activity rows (the rows the footprint
/// takes), each with the factor, its path and edition; in tCO2e a year, scaled to the
/// headcounts, and as the respondents alone.
async fn emissions(
    state: &AppState,
    surveys: &[(TravelSurvey, Vec<TravelResponse>)],
) -> Result<EmissionsOf, PageError> {
    let set = state.store.factor_set(None).await?;
    let mut resolver = Resolver::new(&set, state.store.edition_years().await?);
    let mut by_mode: BTreeMap<Mode, (Decimal, Decimal, String)> = BTreeMap::new();
    let (mut total, mut respondents_total) = (Decimal::ZERO, Decimal::ZERO);
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    for (survey, responses) in surveys {
        let scale = survey_scale(survey, responses);
        let scaled = survey.headcount.filter(|_| scale_applies(responses));
        notes.push(format!(
            "{}: a typical week × {} weeks a year{}.",
            survey.title,
            number(survey.weeks_per_year),
            match scaled {
                Some(h) => format!(
                    "; scaled from the respondents who gave a distance to a headcount of {} (× {})",
                    number(Decimal::from(h)),
                    number(scale.round_dp(3))
                ),
                None => "; not scaled (no headcount given, or nobody gave a distance): the figures are the respondents' own".into(),
            }
        ));
        for (mode, a) in survey_activities(survey, responses) {
            match resolver.emission(&a) {
                Ok(e) => {
                    let factor = &set.factors()[e.factor];
                    let entry = by_mode.entry(mode).or_insert_with(|| {
                        (
                            Decimal::ZERO,
                            Decimal::ZERO,
                            format!(
                                "{} [{}], {}: {} kgCO2e",
                                factor.path(),
                                factor.unit_text,
                                factor.edition,
                                factor.kgco2e.normalize()
                            ),
                        )
                    });
                    entry.0 += a.quantity;
                    entry.1 += e.kgco2e;
                    total += e.kgco2e;
                    respondents_total += e.kgco2e / scale;
                }
                Err(p) => problems.push(format!("{}: {}", mode.label(), p.message)),
            }
        }
    }
    problems.sort();
    problems.dedup();
    for p in problems {
        notes.push(format!(
            "Not in the emissions — {p} (import the conversion factors with `greenplan factors import`)."
        ));
    }
    let rows = by_mode
        .into_iter()
        .map(|(mode, (distance, kg, factor))| EmissionRow {
            mode: mode.label(),
            distance: number(distance.round_dp(0)),
            unit: mode.factor_unit().symbol(),
            factor,
            tco2e: number((kg / Decimal::ONE_THOUSAND).round_dp(3)),
        })
        .collect();
    Ok((
        rows,
        total / Decimal::ONE_THOUSAND,
        respondents_total / Decimal::ONE_THOUSAND,
        notes,
    ))
}

fn scale_applies(responses: &[TravelResponse]) -> bool {
    responses.iter().any(|r| r.answers.distance.is_some())
}

fn survey_scale(survey: &TravelSurvey, responses: &[TravelResponse]) -> Decimal {
    let with_distance = responses
        .iter()
        .filter(|r| r.answers.distance.is_some())
        .count() as u32;
    greenplan_core::travel::scaling(with_distance, survey.headcount).factor
}

#[derive(Template)]
#[template(path = "travel_analysis.html")]
struct AnalysisPage {
    title: String,
    chrome: Chrome,
    heading: String,
    back: (String, String),
    csv: String,
    a: Analysis,
    feeds: String,
    /// One survey's answers by hour and its exclusions (empty for an organisation's).
    arrivals: Option<Arrivals>,
}

/// When a survey's answers arrived, hour by hour, and the ranges an organiser left out.
struct Arrivals {
    /// (hour, on the form, imported, excluded).
    hours: Vec<(String, i64, i64, i64)>,
    /// (from, until, answers, reason, by whom, when).
    exclusions: Vec<(String, String, i64, String, String, String)>,
    /// Where the exclusion form posts (empty: the viewer does not organise the survey).
    exclude_action: String,
    excluded: i64,
}

/// A time as the exclusion form takes it: `YYYY-MM-DD HH:MM`, UTC.
fn utc_minute(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Reads `YYYY-MM-DD HH:MM` (or with a `T`, as a browser's datetime-local field sends it)
/// as UTC Unix seconds.
fn parse_utc_minute(field: &str, raw: &str) -> Result<i64, String> {
    let t = raw.trim().replace('T', " ");
    chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M")
        .ok()
        .filter(|t| (2000..=2200).contains(&chrono::Datelike::year(t)))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| {
            format!(
                "{field}: `{}` is not a time: write it as YYYY-MM-DD HH:MM (UTC), e.g. 2025-06-03 14:00",
                greenplan_core::travel::shown(raw)
            )
        })
}

async fn arrivals(
    viewer: &Viewer,
    state: &AppState,
    survey: &TravelSurvey,
) -> Result<Arrivals, PageError> {
    let is_organiser = viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_contribute_for(&survey.organisation));
    let hours = state
        .store
        .travel_answers_per_hour(survey.id)
        .await?
        .into_iter()
        .map(|h| {
            (
                format!(
                    "{} to {} UTC",
                    utc_minute(h.hour_start),
                    utc_minute(h.hour_start + 3600)
                        .rsplit(' ')
                        .next()
                        .unwrap_or_default()
                ),
                h.on_form,
                h.imported,
                h.excluded,
            )
        })
        .collect();
    let exclusions = state
        .store
        .travel_response_exclusions(survey.id)
        .await?
        .into_iter()
        .map(|e| {
            (
                utc_minute(e.from_at),
                utc_minute(e.until_at),
                e.answers,
                e.reason,
                e.created_by,
                crate::pages::when(e.created_at),
            )
        })
        .collect();
    Ok(Arrivals {
        hours,
        exclusions,
        exclude_action: if is_organiser {
            format!("/tools/travel-surveys/{}/exclusions", survey.id)
        } else {
            String::new()
        },
        excluded: survey.excluded,
    })
}

#[derive(Default)]
struct ExclusionForm {
    csrf_token: String,
    from: String,
    until: String,
    reason: String,
}

/// Leaves the answers made on the form in a time range (a burst) out of the survey's
/// figures and the footprint, audited. The answers stay stored, and the page lists each
/// exclusion with its reason.
pub async fn exclude_answers(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let mut form = ExclusionForm::default();
    for (k, v) in form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf_token" => form.csrf_token = v,
            "from" => form.from = v,
            "until" => form.until = v,
            "reason" => form.reason = v,
            _ => {}
        }
    }
    let survey = survey_or_404(&state, id).await?;
    let user = viewer.form_writer(&headers, &form.csrf_token, "exclude answers")?;
    organiser(&viewer, &survey.organisation)?;
    let unprocessable = |m: String| PageError(StatusCode::UNPROCESSABLE_ENTITY, m);
    let from = parse_utc_minute("From", &form.from).map_err(unprocessable)?;
    let until = parse_utc_minute("Until", &form.until).map_err(unprocessable)?;
    if form.reason.chars().count() > 500 {
        return Err(unprocessable(
            "Reason: write it in at most 500 characters.".into(),
        ));
    }
    state
        .store
        .exclude_travel_responses(&user.email, id, from, until, &form.reason)
        .await
        .map_err(refused)?;
    Ok(Redirect::to(&format!("/tools/travel-surveys/{id}/analysis#arrivals")).into_response())
}

async fn load(
    state: &AppState,
    surveys: Vec<TravelSurvey>,
) -> Result<Vec<(TravelSurvey, Vec<TravelResponse>)>, PageError> {
    let mut out = Vec::new();
    for s in surveys {
        let rs = state.store.travel_responses(s.id).await?;
        out.push((s, rs));
    }
    Ok(out)
}

/// What the footprint takes of these surveys, in words.
async fn feeds(state: &AppState, surveys: &[TravelSurvey]) -> Result<String, PageError> {
    let counted = state.store.counted_travel_surveys(None).await?;
    let names: Vec<String> = surveys
        .iter()
        .filter(|s| counted.iter().any(|c| c.id == s.id))
        .map(|s| {
            format!(
                "{} ({}, {})",
                s.title,
                s.respondents.category().label(),
                s.financial_year
            )
        })
        .collect();
    Ok(if names.is_empty() {
        "Nothing here feeds the footprint yet: a survey's results are added to NHS Carbon Footprint Plus once it is closed.".into()
    } else {
        format!(
            "In the footprint (NHS Carbon Footprint Plus): {}. Only closed surveys count, and of several of one organisation, respondents and year, the last closed.",
            names.join("; ")
        )
    })
}

/// The analysis of one survey.
pub async fn survey_analysis(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    let feeds = feeds(&state, std::slice::from_ref(&survey)).await?;
    let data = load(&state, vec![survey.clone()]).await?;
    html(AnalysisPage {
        title: format!("Analysis: {}", survey.title),
        chrome: Chrome::of(&viewer),
        heading: format!("Analysis: {}", survey.title),
        back: (format!("/tools/travel-surveys/{id}"), survey.title.clone()),
        csv: format!("/tools/travel-surveys/{id}/mode-share.csv"),
        a: analyse(&state, &data).await?,
        feeds,
        arrivals: Some(arrivals(&viewer, &state, &survey).await?),
    })
}

async fn organisation_surveys(
    state: &AppState,
    code: &str,
) -> Result<(OdsCode, Vec<TravelSurvey>), PageError> {
    let code = OdsCode::parse(code).map_err(|_| not_found_error("organisation"))?;
    let surveys = state.store.travel_surveys(Some(&code)).await?;
    if surveys.is_empty() {
        return Err(not_found_error("travel survey of this organisation"));
    }
    Ok((code, surveys))
}

/// The analysis across every survey of an organisation.
pub async fn organisation_analysis(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let (code, surveys) = organisation_surveys(&state, &code).await?;
    let plan = plan(&state).await?;
    let name = organisation_name(&plan, &code);
    let feeds = feeds(&state, &surveys).await?;
    let data = load(&state, surveys).await?;
    html(AnalysisPage {
        title: format!("Travel surveys of {name}"),
        chrome: Chrome::of(&viewer),
        heading: format!("Travel surveys of {name}: analysis"),
        back: ("/tools/travel-surveys".into(), "Travel surveys".into()),
        csv: format!("/tools/travel-surveys/organisations/{code}/mode-share.csv"),
        a: analyse(&state, &data).await?,
        feeds,
        arrivals: None,
    })
}

fn share_csv(
    plan: &greenplan_core::plan::Plan,
    data: &[(TravelSurvey, Vec<TravelResponse>)],
    name: &str,
) -> PageResult {
    let all = mode_share(
        data.iter()
            .flat_map(|(_, rs)| rs.iter().map(|r| &r.answers)),
    );
    let overall = all.lines.iter().map(|l| {
        vec![
            "All".to_string(),
            "All sites".to_string(),
            all.respondents.to_string(),
            l.mode.slug().to_string(),
            l.days.to_string(),
            percent_of(l.share).trim_end_matches('%').to_string(),
        ]
    });
    let groups = group_shares(plan, data).into_iter().map(|r| {
        vec![
            r.organisation,
            r.site,
            r.respondents.to_string(),
            Mode::ALL
                .iter()
                .find(|m| m.label() == r.mode)
                .map_or(r.mode, |m| m.slug())
                .to_string(),
            r.days.to_string(),
            r.share.trim_end_matches('%').to_string(),
        ]
    });
    let body = csv_bytes(
        &[
            "organisation",
            "site",
            "respondents",
            "mode",
            "days",
            "share_percent",
        ],
        overall.collect::<Vec<_>>().into_iter().chain(groups),
    )?;
    Ok(csv_response(name, body))
}

/// Mode share of one survey as CSV (overall, then by organisation and site).
pub async fn survey_share_csv(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    let plan = plan(&state).await?;
    let data = load(&state, vec![survey]).await?;
    share_csv(&plan, &data, &format!("travel-survey-{id}-mode-share.csv"))
}

/// Mode share across an organisation's surveys as CSV.
pub async fn organisation_share_csv(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let (code, surveys) = organisation_surveys(&state, &code).await?;
    let plan = plan(&state).await?;
    let data = load(&state, surveys).await?;
    share_csv(
        &plan,
        &data,
        &format!("travel-surveys-{code}-mode-share.csv"),
    )
}
