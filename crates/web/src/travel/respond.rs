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
//!
//! The open link is anyone's, so it is rate-limited ([`SurveyLimits`]): per client (its
//! address; a proxy's forwarded-for header only when the deployment names it) and per
//! survey, counting both starts and open-link answers. The counters are rows of the
//! database (`Store::count_hits`), not memory, because several servers share one PostgreSQL
//! database and a per-process limiter (e.g. `governor`'s keyed one) would let each server
//! take the whole limit, and forget it on a restart. Over a limit: 429 with `Retry-After`
//! and a page that says when to try again. Answers made with an organiser's invitations are
//! not limited: each is a token the organiser handed out.

use crate::AppState;
use crate::kit::auth::same_origin;
use crate::kit::{Chrome, PageResult, html};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::travel::{
    ACTIVE_TRAVEL_BARRIERS, Answers, Distance, DistanceUnit, Mode, PUBLIC_TRANSPORT_BARRIERS,
    PostcodeDistrict, Question, Respondents, SCHEME_INTERESTS, WEEKDAYS,
};
use greenplan_store::{RateLimit, RateLimited, ResponseRefused, TravelSurvey};
use std::net::{IpAddr, SocketAddr};

/// Largest body of an answer: the form's fields with room to spare (every free-text answer
/// is at most a few hundred characters), so a megabyte of "site name" is refused unread.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The open survey link's limits (see the module's docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyLimits {
    /// Starts, and open-link answers, one client may make to one survey a minute.
    pub per_client_per_minute: u32,
    /// Starts, and open-link answers, of one survey an hour from everyone.
    pub per_survey_per_hour: u32,
    /// A request header a trusted proxy in front of the server sets to the client's address
    /// (e.g. `X-Forwarded-For`; its last entry is the one the proxy added). Unset: the
    /// connection's peer address, and no header is believed (anyone can write one).
    pub client_address_header: Option<String>,
}

impl Default for SurveyLimits {
    /// A respondent takes ~3 minutes, so 10 a minute from one address leaves room for a
    /// trust's staff behind one NAT address; 300 an hour per survey bounds what a burst
    /// from many addresses can add before an organiser sees it and excludes it.
    fn default() -> Self {
        Self {
            per_client_per_minute: 10,
            per_survey_per_hour: 300,
            client_address_header: None,
        }
    }
}

/// Who is asking, as far as the limits care: the client's address (an IPv6 address by its
/// /64, what one household or device is given), or `unknown` when the server was started
/// without connection info (in-process tests), where everyone shares one client's limit —
/// stricter, never looser.
pub struct Client(String);

impl axum::extract::FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .config
            .survey_limits
            .client_address_header
            .as_deref()
            .and_then(|name| parts.headers.get_all(name).iter().next_back())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(
            forwarded
                .or(peer)
                .map_or_else(|| "unknown".to_string(), client_of),
        ))
    }
}

fn client_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Counts one open-link start or answer (`what`) of `survey` from `client`, or the page that
/// says to try again later.
async fn within_limits(
    state: &AppState,
    survey: &TravelSurvey,
    client: &Client,
    what: &str,
) -> Result<(), axum::response::Response> {
    let limits = &state.config.survey_limits;
    let keys = [
        (
            format!("survey-{what}:{}:client:{}", survey.id, client.0),
            RateLimit {
                hits: limits.per_client_per_minute.max(1),
                window_seconds: 60,
            },
        ),
        (
            format!("survey-{what}:{}", survey.id),
            RateLimit {
                hits: limits.per_survey_per_hour.max(1),
                window_seconds: 3600,
            },
        ),
    ];
    match state.store.count_hits(&keys).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(limited)) => Err(too_many(survey, limited)),
        Err(e) => Err(crate::kit::PageError::from(e).into_response()),
    }
}

fn too_many(survey: &TravelSurvey, limited: RateLimited) -> axum::response::Response {
    let minutes = (limited.retry_after + 59) / 60;
    tracing::warn!(
        survey = survey.id,
        retry_after = limited.retry_after,
        "travel survey open link over its rate limit"
    );
    let page = message(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many answers at once",
        vec![
            format!("{}.", survey.title),
            format!(
                "This survey has had more answers in a short time than it takes, so this one has not been stored. Please try again later: in about {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ),
        ],
    );
    let mut response = page.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&limited.retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

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
        // The form asks for a site only from the survey's list: a site sent to a survey
        // without one did not come from the form, and is not kept.
        if survey.sites.is_empty() && answers.site.is_some() {
            problems.push((
                "site".into(),
                "This survey does not ask which site you travel to: send the form without a site."
                    .into(),
            ));
        } else if let Err(e) = answers.check_site(&survey.sites) {
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
    match crate::kit::plan(state).await {
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
    client: Client,
    headers: HeaderMap,
) -> PageResult {
    if !same_origin(&headers, &state.config) {
        return Err(crate::kit::forbidden_form());
    }
    // Counted only for an open survey: a closed or unknown link is answered as before.
    if let Some(survey) = state.store.travel_survey_by_link(&link).await?
        && survey.status == greenplan_store::SurveyStatus::Open
        && let Err(page) = within_limits(&state, &survey, &client, "start").await
    {
        return Ok(page);
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
    client: Client,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> PageResult {
    if !same_origin(&headers, &state.config) {
        return Err(crate::kit::forbidden_form());
    }
    let survey = match state.store.travel_survey_for_token(&token).await? {
        Ok(s) => s,
        Err((survey, why)) => return refused(why, survey.as_ref()),
    };
    let Ok(body) = body else {
        return message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Your answers are too long",
            vec![
                format!("{}.", survey.title),
                format!(
                    "Your answers were not stored: together they are longer than the survey takes. Each answer is short (a site's name is at most {} characters); go back, shorten what you typed and send them again.",
                    greenplan_core::travel::MAX_SITE_CHARS
                ),
            ],
        );
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
    if state.store.is_open_link_token(&token).await?
        && let Err(page) = within_limits(&state, &survey, &client, "answer").await
    {
        return Ok(page);
    }
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
