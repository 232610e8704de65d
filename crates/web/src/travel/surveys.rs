//! The list of travel surveys and creating one.

use super::*;

// ---------------------------------------------------------------- the list and creating

/// A survey as a row of the list.
pub(crate) struct SurveyRow {
    id: i64,
    title: String,
    organisation: String,
    respondents: &'static str,
    year: String,
    status: &'static str,
    responses: i64,
}

#[derive(Default)]
pub(crate) struct NewSurveyForm {
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
pub(crate) struct SurveysPage {
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

pub(crate) async fn surveys_page_with(
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
        .map_err(PageError::from)?;
    Ok(Redirect::to(&format!("/tools/travel-surveys/{id}")).into_response())
}
