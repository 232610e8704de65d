//! The public side of a travel survey: the open link, the questions and the thank-you page.
//! No sign-in: a single-use token in the address is what lets one person answer once.
//!
//! CSRF: respondents have no session, so there is no session token to put in the form and no
//! ambient authority for another site to borrow — what a forged post could do is answer with
//! a token, and only someone who holds the token can name it. The token is 256 random bits in
//! the form's own address (a per-token form secret), and the post must also come from this
//! site (`Origin` / `Sec-Fetch-Site`, as for every other form). An open link's "Start" button
//! is checked for origin the same way.
//!
//! The pages ask for no name, e-mail address or full postcode, and say so; a full postcode
//! typed into the district box is cut to its district before anything is stored, and the
//! respondent is told.

use crate::AppState;
use crate::auth::same_origin;
use crate::pages::{Chrome, PageResult, html};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::travel::{
    ACTIVE_TRAVEL_BARRIERS, Answers, Distance, DistanceUnit, Mode, PUBLIC_TRANSPORT_BARRIERS,
    PostcodeDistrict, Question, Respondents, SCHEME_INTERESTS, WEEKDAYS,
};
use greenplan_store::{ResponseRefused, TravelSurvey};

/// Where a respondent answers with a token.
pub fn respond_path(token: &str) -> String {
    format!("/tools/travel-surveys/respond/{token}")
}

/// The survey's public open link.
pub fn open_link_path(link: &str) -> String {
    format!("/tools/travel-surveys/take/{link}")
}

/// The answers as typed, to show the form again with them.
#[derive(Debug, Clone, Default)]
pub struct AnswerForm {
    pub site: String,
    pub distance: String,
    pub distance_unit: String,
    pub postcode: String,
    pub days: [String; 7],
    pub ticked: Vec<(String, String)>,
}

impl AnswerForm {
    fn parse(body: &[u8]) -> Self {
        let mut form = AnswerForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "site" => form.site = v,
                "distance" => form.distance = v,
                "distance_unit" => form.distance_unit = v,
                "postcode" => form.postcode = v,
                key => {
                    if let Some(d) = WEEKDAYS.iter().position(|d| d.to_lowercase() == key) {
                        form.days[d] = v;
                    } else {
                        form.ticked.push((key.to_string(), v));
                    }
                }
            }
        }
        form
    }

    fn ticked(&self, question: &Question) -> Vec<String> {
        self.ticked
            .iter()
            .filter(|(k, _)| k == question.name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The answers, or each problem as (field id, message); and whether a full postcode was
    /// cut to its district.
    fn answers(&self, survey: &TravelSurvey) -> Result<(Answers, bool), Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut week = [None; 7];
        for (d, text) in self.days.iter().enumerate() {
            if text.is_empty() || text == "none" {
                continue;
            }
            match Mode::parse(text) {
                Ok(m) => week[d] = Some(m),
                Err(e) => problems.push((WEEKDAYS[d].to_lowercase(), e.to_string())),
            }
        }
        let distance = match self.distance.trim() {
            "" => None,
            text => match DistanceUnit::parse(&self.distance_unit)
                .and_then(|u| Distance::parse(text, u))
            {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(("distance".into(), e.to_string()));
                    None
                }
            },
        };
        let mut cut = false;
        let postcode_district = match self.postcode.trim() {
            "" => None,
            text => match PostcodeDistrict::parse(text) {
                Ok(d) => {
                    cut = d.cut_from_full_postcode;
                    Some(d.district)
                }
                Err(e) => {
                    problems.push(("postcode".into(), e.to_string()));
                    None
                }
            },
        };
        let mut choices = |q: &Question| {
            q.check(&self.ticked(q)).unwrap_or_else(|e| {
                problems.push((format!("{}-0", q.name), e.to_string()));
                Vec::new()
            })
        };
        let active_barriers = choices(&ACTIVE_TRAVEL_BARRIERS);
        let public_barriers = choices(&PUBLIC_TRANSPORT_BARRIERS);
        let interests = choices(&SCHEME_INTERESTS);
        let answers = Answers {
            site: Some(self.site.trim().to_string()).filter(|s| !s.is_empty()),
            distance,
            postcode_district,
            week,
            active_barriers,
            public_barriers,
            interests,
        };
        if !survey.sites.is_empty() && answers.site.is_none() {
            problems.push(("site".into(), "Choose the site you travel to.".into()));
        }
        if let Err(e) = answers.check_site(&survey.sites) {
            problems.push(("site".into(), e.to_string()));
        }
        if problems.is_empty() {
            Ok((answers, cut))
        } else {
            Err(problems)
        }
    }
}

/// One multiple-choice question as the template draws it: (field id, value, label, ticked).
pub struct ChoiceBox {
    pub name: &'static str,
    pub text: &'static str,
    pub boxes: Vec<(String, &'static str, &'static str, bool)>,
}

fn boxes(q: &Question, form: &AnswerForm) -> ChoiceBox {
    let ticked = form.ticked(q);
    ChoiceBox {
        name: q.name,
        text: q.text,
        boxes: q
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    format!("{}-{i}", q.name),
                    c.slug,
                    c.label,
                    ticked.iter().any(|t| t == c.slug),
                )
            })
            .collect(),
    }
}

/// The options of a select: (value, label, selected).
type Options = Vec<(&'static str, &'static str, bool)>;

#[derive(Template)]
#[template(path = "travel_respond.html")]
struct RespondPage {
    title: String,
    chrome: Chrome,
    survey_title: String,
    organisation: String,
    staff: bool,
    post_to: String,
    sites: Vec<(String, bool)>,
    form: AnswerForm,
    miles: bool,
    /// (field id, label, options: (value, label, selected)).
    days: Vec<(String, &'static str, Options)>,
    questions: Vec<ChoiceBox>,
    problems: Vec<(String, String)>,
    /// The problem with each field, shown beside it (empty: none).
    site_error: String,
    distance_error: String,
    postcode_error: String,
}

#[derive(Template)]
#[template(path = "travel_message.html")]
struct MessagePage {
    title: String,
    chrome: Chrome,
    heading: String,
    messages: Vec<String>,
    /// A button to start the survey (open link landing), or empty.
    start_action: String,
    privacy: bool,
}

fn message(status: StatusCode, heading: &str, messages: Vec<String>) -> PageResult {
    let mut page = html(MessagePage {
        title: heading.to_string(),
        chrome: Chrome::default(),
        heading: heading.to_string(),
        messages,
        start_action: String::new(),
        privacy: false,
    })?;
    *page.status_mut() = status;
    Ok(page)
}

fn refused(why: ResponseRefused, survey: Option<&TravelSurvey>) -> PageResult {
    let (status, heading) = match why {
        ResponseRefused::UnknownToken => (StatusCode::NOT_FOUND, "Survey link not recognised"),
        ResponseRefused::AlreadyUsed => (StatusCode::CONFLICT, "You have already answered"),
        ResponseRefused::NotOpen(greenplan_store::SurveyStatus::Closed) => {
            (StatusCode::GONE, "This survey is closed")
        }
        ResponseRefused::NotOpen(_) => (StatusCode::CONFLICT, "This survey is not open yet"),
    };
    let mut messages = vec![why.message().to_string()];
    if let Some(s) = survey {
        messages.insert(0, format!("{}.", s.title));
    }
    message(status, heading, messages)
}

/// The organisation's name as the plan gives it (its code if the plan cannot be read).
async fn organisation_name(state: &AppState, survey: &TravelSurvey) -> String {
    match crate::pages::plan(state).await {
        Ok(plan) => plan
            .organisation(&survey.organisation)
            .map_or_else(|| survey.organisation.to_string(), |o| o.name.clone()),
        Err(_) => survey.organisation.to_string(),
    }
}

fn respond_page(
    survey: &TravelSurvey,
    organisation: String,
    token: &str,
    form: AnswerForm,
    problems: Vec<(String, String)>,
) -> RespondPage {
    let miles = form.distance_unit != "km";
    let error_of = |field: &str| {
        problems
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    let (site_error, distance_error, postcode_error) =
        (error_of("site"), error_of("distance"), error_of("postcode"));
    let days = WEEKDAYS
        .iter()
        .zip(&form.days)
        .map(|(day, chosen)| {
            let mut options = vec![(
                "none",
                "No journey to the site",
                chosen.is_empty() || chosen == "none",
            )];
            options.extend(
                Mode::ALL
                    .iter()
                    .map(|m| (m.slug(), m.label(), chosen == m.slug())),
            );
            (day.to_lowercase(), *day, options)
        })
        .collect();
    RespondPage {
        title: survey.title.clone(),
        chrome: Chrome::default(),
        survey_title: survey.title.clone(),
        organisation,
        staff: survey.respondents == Respondents::Staff,
        post_to: respond_path(token),
        sites: survey
            .sites
            .iter()
            .map(|s| (s.clone(), *s == form.site))
            .collect(),
        questions: vec![
            boxes(&ACTIVE_TRAVEL_BARRIERS, &form),
            boxes(&PUBLIC_TRANSPORT_BARRIERS, &form),
            boxes(&SCHEME_INTERESTS, &form),
        ],
        miles,
        days,
        form,
        problems,
        site_error,
        distance_error,
        postcode_error,
    }
}

/// The open link: what the survey is, what is kept, and a button that starts a response.
pub async fn take(State(state): State<AppState>, Path(link): Path<String>) -> PageResult {
    let Some(survey) = state.store.travel_survey_by_link(&link).await? else {
        return refused(ResponseRefused::UnknownToken, None);
    };
    if survey.status != greenplan_store::SurveyStatus::Open {
        return refused(ResponseRefused::NotOpen(survey.status), Some(&survey));
    }
    html(MessagePage {
        title: survey.title.clone(),
        chrome: Chrome::default(),
        heading: survey.title.clone(),
        messages: vec![format!(
            "A travel survey of {} of {}: how you travel to the site, what would help you travel more sustainably. It takes about 3 minutes.",
            survey.respondents.label().to_lowercase(),
            organisation_name(&state, &survey).await
        )],
        start_action: open_link_path(&link),
        privacy: true,
    })
}

/// Starts a response from the open link: a fresh single-use token, then the questions.
pub async fn start(
    State(state): State<AppState>,
    Path(link): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    if !same_origin(&headers, &state.config) {
        return Err(crate::account::forbidden());
    }
    match state.store.start_travel_response(&link).await? {
        Ok(token) => Ok(Redirect::to(&respond_path(&token)).into_response()),
        Err(why) => {
            let survey = state.store.travel_survey_by_link(&link).await?;
            refused(why, survey.as_ref())
        }
    }
}

/// The questions, for a token that can still answer.
pub async fn questions(State(state): State<AppState>, Path(token): Path<String>) -> PageResult {
    match state.store.travel_survey_for_token(&token).await? {
        Ok(survey) => {
            let organisation = organisation_name(&state, &survey).await;
            html(respond_page(
                &survey,
                organisation,
                &token,
                AnswerForm::default(),
                Vec::new(),
            ))
        }
        Err((survey, why)) => refused(why, survey.as_ref()),
    }
}

/// Takes the answers: checked, then stored once for the token.
pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    if !same_origin(&headers, &state.config) {
        return Err(crate::account::forbidden());
    }
    let survey = match state.store.travel_survey_for_token(&token).await? {
        Ok(s) => s,
        Err((survey, why)) => return refused(why, survey.as_ref()),
    };
    let form = AnswerForm::parse(&body);
    let (answers, cut) = match form.answers(&survey) {
        Ok(a) => a,
        Err(problems) => {
            let organisation = organisation_name(&state, &survey).await;
            let mut page = html(respond_page(&survey, organisation, &token, form, problems))?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
    };
    match state.store.submit_travel_response(&token, &answers).await? {
        Ok(_) => {
            let mut messages = vec![format!(
                "Your answers to {} have been recorded. Thank you.",
                survey.title
            )];
            if let (true, Some(d)) = (cut, &answers.postcode_district) {
                messages.push(format!(
                    "You gave a full postcode: only its first part, {d}, has been kept."
                ));
            }
            messages
                .push("No name, e-mail address or full postcode has been stored with them.".into());
            message(StatusCode::OK, "Thank you", messages)
        }
        Err(why) => refused(why, Some(&survey)),
    }
}
