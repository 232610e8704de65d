//! A survey's page: opening, closing, invitations and importing another tool's answers.

use super::*;

// ---------------------------------------------------------------- one survey

#[derive(Template)]
#[template(path = "travel_survey.html")]
pub(crate) struct SurveyPage {
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

pub(crate) async fn survey_view(
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

pub(crate) async fn set_open(
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
        .map_err(PageError::from)?;
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
        PageError::Unprocessable(format!(
                "Number of invitations: `{}` is not a whole number; write how many links you need, e.g. 250.",
                form.count.trim()
            ),
        )
    })?;
    let tokens = state
        .store
        .issue_travel_survey_tokens(&user.email, id, count)
        .await
        .map_err(PageError::from)?;
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
pub(crate) fn site_base(state: &AppState, headers: &HeaderMap) -> String {
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
        PageError::rejected(
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
                file_name = crate::kit::text_input::field(
                    "file",
                    field.file_name().unwrap_or("responses.csv").to_string(),
                )?;
                contents = field.bytes().await.map_err(bad)?.to_vec();
            }
            _ => {}
        }
    }
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&csrf) {
        return Err(forbidden_form());
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
                .map_err(PageError::from)?;
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

pub(crate) fn unprocessable(page: SurveyPage) -> PageResult {
    let mut r = html(page)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}
