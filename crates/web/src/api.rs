//! The JSON API under `/api/v1/`: what the pages show, and writes for scripts. Writes need an
//! API token (`Authorization: Bearer gp_…`, from `greenplan token create`); a browser session
//! cookie is not accepted for API writes, so no CSRF token is needed. Every write is checked
//! against the caller's roles and audited, exactly as the forms are. The OpenAPI document at
//! `/api/openapi.json` is generated from these handlers and types.

use crate::AppState;
use crate::auth::Viewer;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use greenplan_core::period::Period;
use greenplan_core::plan::{Action, ActionStatus, Plan};
use greenplan_core::progress::metric_progress;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use utoipa::{OpenApi, ToSchema};

/// The OpenAPI description of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "greenplan API",
        description = "An NHS ICS green plan: actions, metrics, footprint; writes with an API token."
    ),
    paths(
        list_actions,
        get_action,
        post_update,
        list_metrics,
        list_values,
        post_value,
        footprint,
        list_periods,
        list_returns,
        approve_return
    ),
    components(schemas(
        ActionDto,
        ActionDetailDto,
        UpdateDto,
        NewUpdateDto,
        MetricDto,
        ValueDto,
        NewValueDto,
        FootprintLineDto,
        PeriodDto,
        ReturnDto,
        ErrorDto
    ))
)]
pub struct ApiDoc;

/// An error: what went wrong and what to do.
#[derive(Serialize, ToSchema)]
pub struct ErrorDto {
    pub error: String,
}

/// The API's rules for text it takes in. Each is published in the OpenAPI document (a
/// `pattern`, and lengths in characters) by [`constrain`], and checked by the handlers with
/// the very same expression, so that what the document calls valid is exactly what is
/// accepted (schemathesis checks both ways: every valid request accepted, every invalid one
/// refused). Control characters other than TAB, LF and CR are refused in all of them.
struct TextRule {
    /// The schema and property it applies to, in the document.
    schema: &'static str,
    field: &'static str,
    regex: &'static LazyLock<Regex>,
    min_chars: Option<usize>,
    max_chars: Option<usize>,
    /// What to write instead, for the 422.
    hint: &'static str,
}

/// Any text without control characters other than TAB, LF and CR.
static PLAIN_TEXT: LazyLock<Regex> = LazyLock::new(|| rule(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"));
/// As [`PLAIN_TEXT`], with at least one character that is not a space.
static NOT_BLANK: LazyLock<Regex> = LazyLock::new(|| {
    rule(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*[^\s\x00-\x1f][^\x00-\x08\x0b\x0c\x0e-\x1f]*$")
});
static WEB_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| rule(r"^https?://[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"));
static ODS_CODE: LazyLock<Regex> = LazyLock::new(|| rule(r"^[A-Za-z0-9-]{2,20}$"));
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| rule(r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$"));
/// A financial year (`2025/26`, its years consecutive: listed, since a pattern cannot add
/// one; from 2000/01, as a two-digit second year reads as 20YY), a quarter of one
/// (`Q3 2025/26`) or a month (`2025-12`, years 1990 to 2099).
static PERIOD: LazyLock<Regex> = LazyLock::new(|| {
    let years: Vec<String> = (2000..=2098)
        .map(|y: i32| format!("{y}/{:02}", (y + 1) % 100))
        .collect();
    rule(&format!(
        r"^(?:(?:Q[1-4] )?(?:{})|(?:199[0-9]|20[0-9][0-9])-(?:0[1-9]|1[0-2]))$",
        years.join("|")
    ))
});

/// Compiles one of the constant expressions above (a test compiles them all).
fn rule(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the API's own patterns compile")
}

static UPDATE_NOTE: TextRule = TextRule {
    schema: "NewUpdateDto",
    field: "note",
    regex: &NOT_BLANK,
    min_chars: Some(1),
    max_chars: Some(10_000),
    hint: "write what has happened since the last update, in at most 10,000 characters",
};
static UPDATE_EVIDENCE_URL: TextRule = TextRule {
    schema: "NewUpdateDto",
    field: "evidence_url",
    regex: &WEB_ADDRESS,
    min_chars: None,
    max_chars: None,
    hint: "give a web address starting with https://",
};
static UPDATE_REVISED_DUE: TextRule = TextRule {
    schema: "NewUpdateDto",
    field: "revised_due",
    regex: &PERIOD,
    min_chars: None,
    max_chars: None,
    hint: "write a financial year (2026/27), a quarter (Q4 2026/27) or a month (2026-11)",
};
static VALUE_ORGANISATION: TextRule = TextRule {
    schema: "NewValueDto",
    field: "organisation",
    regex: &ODS_CODE,
    min_chars: None,
    max_chars: None,
    hint: "give the organisation's ODS code, e.g. RTG, or leave it out for a system-wide value",
};
static VALUE_PERIOD: TextRule = TextRule {
    schema: "NewValueDto",
    field: "period",
    regex: &PERIOD,
    min_chars: None,
    max_chars: None,
    hint: "write a financial year (2025/26), a quarter (Q3 2025/26) or a month (2025-12)",
};
static VALUE_VALUE: TextRule = TextRule {
    schema: "NewValueDto",
    field: "value",
    regex: &DECIMAL,
    min_chars: None,
    max_chars: None,
    hint: "write a number such as 1234.5: digits, at most one point, no thousands separators",
};
static VALUE_NOTE: TextRule = TextRule {
    schema: "NewValueDto",
    field: "note",
    regex: &PLAIN_TEXT,
    min_chars: None,
    max_chars: Some(10_000),
    hint: "keep the note to 10,000 characters, without control characters",
};

static TEXT_RULES: [&TextRule; 7] = [
    &UPDATE_NOTE,
    &UPDATE_EVIDENCE_URL,
    &UPDATE_REVISED_DUE,
    &VALUE_ORGANISATION,
    &VALUE_PERIOD,
    &VALUE_VALUE,
    &VALUE_NOTE,
];

impl TextRule {
    /// Refuses `value` with a 422 naming the field, unless it keeps this rule.
    fn check(&self, value: &str) -> ApiResult<()> {
        let chars = value.chars().count();
        // JSON Schema's `$` is read by Python (schemathesis) as "at the end, or before a
        // final line feed"; so is it here, or one would accept what the other refuses.
        let matches = |v: &str| self.regex.is_match(v);
        let ok = self.min_chars.is_none_or(|min| chars >= min)
            && self.max_chars.is_none_or(|max| chars <= max)
            && (matches(value) || value.strip_suffix('\n').is_some_and(matches));
        if ok {
            Ok(())
        } else {
            Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: {}", self.field, self.hint),
            ))
        }
    }
}

/// Writes the text rules into the document (see [`TextRule`]), and the words a status may be.
fn constrain(doc: &mut serde_json::Value) {
    if let Some(status) = doc.pointer_mut("/components/schemas/NewUpdateDto/properties/status")
        && let Some(object) = status.as_object_mut()
    {
        let words: Vec<serde_json::Value> = ActionStatus::ALL
            .into_iter()
            .map(|k| k.slug().into())
            .collect();
        object.insert("enum".into(), words.into());
    }
    for rule in TEXT_RULES {
        let Some(property) = doc.pointer_mut(&format!(
            "/components/schemas/{}/properties/{}",
            rule.schema, rule.field
        )) else {
            continue;
        };
        // A property that may be null is `{"type": ["string", "null"]}` or a `oneOf`.
        let targets: Vec<&mut serde_json::Value> = match property.get_mut("oneOf") {
            Some(serde_json::Value::Array(items)) => items
                .iter_mut()
                .filter(|i| i.get("type").and_then(|t| t.as_str()) != Some("null"))
                .collect(),
            _ => vec![property],
        };
        for target in targets {
            if let Some(object) = target.as_object_mut() {
                object.insert("pattern".into(), rule.regex.as_str().into());
                if let Some(min) = rule.min_chars {
                    object.insert("minLength".into(), min.into());
                }
                if let Some(max) = rule.max_chars {
                    object.insert("maxLength".into(), max.into());
                }
            }
        }
    }
}

/// A failed API call.
pub struct ApiError(StatusCode, String);

/// A body that is not the JSON expected, answered as JSON like every other API error (axum
/// would answer in plain text, which the OpenAPI document does not promise).
fn read_body<T>(body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError(e.status(), e.body_text()))
}

use axum::extract::rejection::JsonRejection;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorDto { error: self.1 })).into_response()
    }
}

impl From<crate::pages::PageError> for ApiError {
    fn from(e: crate::pages::PageError) -> Self {
        ApiError(e.0, e.1)
    }
}

impl From<greenplan_store::StoreError> for ApiError {
    fn from(e: greenplan_store::StoreError) -> Self {
        match e {
            greenplan_store::StoreError::Rejected(m) => {
                ApiError(StatusCode::UNPROCESSABLE_ENTITY, m)
            }
            // A change from a stale copy of a record: nothing was written.
            greenplan_store::StoreError::Stale(stale) => {
                ApiError(StatusCode::CONFLICT, stale.summary())
            }
            greenplan_store::StoreError::StorageFull(cause) => {
                tracing::error!(error = %cause, "storage full");
                ApiError(
                    StatusCode::INSUFFICIENT_STORAGE,
                    crate::pages::STORAGE_FULL.into(),
                )
            }
            unavailable if unavailable.is_unavailable() => {
                tracing::error!(error = %unavailable, "database unavailable");
                ApiError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable for now; nothing was changed: try again shortly"
                        .into(),
                )
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "something went wrong; nothing was changed".into(),
                )
            }
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// A priority action.
#[derive(Serialize, ToSchema)]
pub struct ActionDto {
    pub id: String,
    pub area: String,
    pub title: String,
    pub leads: Vec<String>,
    pub lead_organisations: Vec<String>,
    /// The delivery date as the plan writes it.
    pub delivery: String,
    /// The period it names, e.g. `Q3 2025/26`, `2027-08..2028-03`, `ongoing`.
    pub due: String,
    /// The last day of that period (ISO date), if it has one.
    pub due_by: Option<String>,
    pub ongoing: bool,
    pub success_measure: String,
    /// not-started, on-track, at-risk, off-track or complete.
    pub status: String,
}

impl From<&Action> for ActionDto {
    fn from(a: &Action) -> Self {
        Self {
            id: a.id.clone(),
            area: a.area.clone(),
            title: a.title.clone(),
            leads: a.leads.clone(),
            lead_organisations: a.lead_organisations.iter().map(|o| o.to_string()).collect(),
            delivery: a.delivery.written.clone(),
            due: a.delivery.period.code(),
            due_by: a.delivery.period.end().map(|d| d.to_string()),
            ongoing: a.delivery.ongoing,
            success_measure: a.success_measure.clone(),
            status: a.status.slug().into(),
        }
    }
}

/// An action with its progress updates, newest first.
#[derive(Serialize, ToSchema)]
pub struct ActionDetailDto {
    pub action: ActionDto,
    pub updates: Vec<UpdateDto>,
}

/// A progress update.
#[derive(Serialize, ToSchema)]
pub struct UpdateDto {
    pub posted_by: String,
    /// RFC 3339, UTC.
    pub posted_at: String,
    pub status: String,
    pub note: String,
    pub evidence_url: Option<String>,
    pub revised_due: Option<String>,
}

impl From<greenplan_store::ActionUpdate> for UpdateDto {
    fn from(u: greenplan_store::ActionUpdate) -> Self {
        Self {
            posted_by: u.posted_by,
            posted_at: chrono::DateTime::from_timestamp(u.posted_at, 0)
                .map_or_else(String::new, |t| t.to_rfc3339()),
            status: u.status.slug().into(),
            note: u.note,
            evidence_url: u.evidence_url,
            revised_due: u.revised_due.map(|p| p.code()),
        }
    }
}

/// A new progress update.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdateDto {
    /// not-started, on-track, at-risk, off-track or complete (the document lists them).
    pub status: String,
    /// What has happened since the last update: at least one character that is not a space,
    /// at most 10,000 characters, no control characters other than TAB, LF and CR.
    pub note: String,
    /// A web address starting with `https://` (or `http://`).
    pub evidence_url: Option<String>,
    /// A financial year `2026/27` (2000/01 to 2098/99), a quarter `Q4 2026/27` or a month
    /// `2026-11` (1990 to 2099); the document's pattern lists them.
    pub revised_due: Option<String>,
}

/// A metric and where it stands.
#[derive(Serialize, ToSchema)]
pub struct MetricDto {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub organisation: Option<String>,
    pub area: Option<String>,
    pub latest_period: Option<String>,
    /// Exact decimal, as text.
    pub latest_value: Option<String>,
    /// The trajectory's value for the latest value's year.
    pub expected: Option<String>,
    /// on-track, at-risk, off-track or not-rated.
    pub rating: String,
}

/// A value of a metric.
#[derive(Serialize, ToSchema)]
pub struct ValueDto {
    pub organisation: Option<String>,
    pub period: String,
    /// Exact decimal, as text.
    pub value: String,
    pub as_written: Option<String>,
    pub note: Option<String>,
    pub reference: Option<String>,
}

/// A new value of a metric.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewValueDto {
    /// ODS code; omit for a system-wide value.
    pub organisation: Option<String>,
    /// A financial year `2025/26` (2000/01 to 2098/99), a quarter `Q3 2025/26` or a month
    /// `2025-12` (1990 to 2099); the document's pattern lists them.
    pub period: String,
    /// Exact decimal, as text, in the metric's unit: up to 15 digits, a point and up to 6.
    pub value: String,
    /// At most 10,000 characters, no control characters other than TAB, LF and CR.
    pub note: Option<String>,
}

/// One line of the footprint.
#[derive(Serialize, ToSchema)]
pub struct FootprintLineDto {
    pub organisation: String,
    pub category: String,
    pub tco2e: String,
    pub tco2e_market_based: String,
}

async fn plan(state: &AppState) -> ApiResult<std::sync::Arc<Plan>> {
    Ok(crate::pages::plan(state).await?)
}

/// The signed-in script behind an API token; sessions are refused for writes.
fn token_user(viewer: &Viewer) -> ApiResult<&greenplan_store::SignedIn> {
    match (&viewer.user, viewer.by_token) {
        (Some(u), true) => Ok(u),
        _ => Err(ApiError(StatusCode::UNAUTHORIZED, "send an API token as `Authorization: Bearer gp_…` (create one with `greenplan token create EMAIL`)".into())),
    }
}

#[utoipa::path(get, path = "/api/v1/actions", responses((status = 200, body = Vec<ActionDto>, links(("GetAction" = (operation_id = "get_action", parameters(("id" = "$response.body#/0/id")))), ("PostUpdate" = (operation_id = "post_update", parameters(("id" = "$response.body#/0/id")))))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_actions(State(state): State<AppState>) -> ApiResult<Json<Vec<ActionDto>>> {
    Ok(Json(
        plan(&state)
            .await?
            .actions
            .iter()
            .map(ActionDto::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/actions/{id}", params(("id" = String, Path, description = "Action id, e.g. MED1")),
    responses((status = 200, body = ActionDetailDto), (status = 400, description = "A path segment that does not parse", body = ErrorDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn get_action(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionDetailDto>> {
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no action `{id}`")))?;
    let updates = state
        .store
        .action_updates(&id)
        .await?
        .into_iter()
        .map(UpdateDto::from)
        .collect();
    Ok(Json(ActionDetailDto {
        action: action.into(),
        updates,
    }))
}

#[utoipa::path(post, path = "/api/v1/actions/{id}/updates", request_body = NewUpdateDto, params(("id" = String, Path, description = "Action id")),
    responses((status = 201, body = UpdateDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 400, description = "The body is not JSON, or a path segment does not parse", body = ErrorDto), (status = 403, description = "The token's person may not do this", body = ErrorDto), (status = 413, description = "The body is larger than 2 MB", body = ErrorDto), (status = 415, description = "The body is not sent as application/json", body = ErrorDto), (status = 422, description = "A field breaks its rule; the message names it", body = ErrorDto), (status = 507, description = "The storage is full, nothing was changed", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)),
    security(("token" = [])))]
pub async fn post_update(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<NewUpdateDto>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<UpdateDto>)> {
    let body = read_body(body)?;
    let user = token_user(&viewer)?;
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no action `{id}`")))?;
    if !user.access.can_update_action(action, &plan) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "you cannot post updates on {id}: only contributors of the organisations that lead it can"
            ),
        ));
    }
    UPDATE_NOTE.check(&body.note)?;
    if let Some(url) = &body.evidence_url {
        UPDATE_EVIDENCE_URL.check(url)?;
    }
    if let Some(due) = &body.revised_due {
        UPDATE_REVISED_DUE.check(due)?;
    }
    // Exactly one of the listed words (the store's reader would also take it with spaces).
    let status = ActionStatus::ALL
        .into_iter()
        .find(|k| k.slug() == body.status)
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "status: unknown status `{}`: use not-started, on-track, at-risk, off-track or complete",
                    body.status
                ),
            )
        })?;
    let revised_due = body
        .revised_due
        .as_deref()
        .map(Period::parse)
        .transpose()
        .map_err(|e| {
            ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("revised_due: {e}"),
            )
        })?;
    let update = greenplan_store::NewActionUpdate {
        status,
        note: body.note,
        evidence_url: body.evidence_url,
        evidence_file: None,
        revised_due,
    };
    let posted = state
        .store
        .post_action_update(&user.email, &id, &update)
        .await?;
    state.cache.invalidate().await;
    Ok((StatusCode::CREATED, Json(posted.into())))
}

#[utoipa::path(get, path = "/api/v1/metrics", responses((status = 200, body = Vec<MetricDto>, links(("ListValues" = (operation_id = "list_values", parameters(("id" = "$response.body#/0/id")))), ("PostValue" = (operation_id = "post_value", parameters(("id" = "$response.body#/0/id")))))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_metrics(State(state): State<AppState>) -> ApiResult<Json<Vec<MetricDto>>> {
    let plan = plan(&state).await?;
    Ok(Json(
        plan.metrics
            .iter()
            .map(|m| {
                let p = metric_progress(m, &plan.data_points);
                MetricDto {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    unit: m.unit.clone(),
                    organisation: m.organisation.as_ref().map(|o| o.to_string()),
                    area: m.area.clone(),
                    latest_period: p.latest.map(|(period, _)| period.code()),
                    latest_value: p.latest.map(|(_, v)| v.normalize().to_string()),
                    expected: p.expected.map(|v| v.normalize().to_string()),
                    rating: match p.rating {
                        greenplan_core::target::Rating::OnTrack => "on-track",
                        greenplan_core::target::Rating::AtRisk => "at-risk",
                        greenplan_core::target::Rating::OffTrack => "off-track",
                        greenplan_core::target::Rating::NotRated => "not-rated",
                    }
                    .into(),
                }
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/metrics/{id}/values", params(("id" = String, Path, description = "Metric id")),
    responses((status = 200, body = Vec<ValueDto>), (status = 400, description = "A path segment that does not parse", body = ErrorDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_values(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ValueDto>>> {
    let plan = plan(&state).await?;
    plan.metric(&id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no metric `{id}`")))?;
    Ok(Json(
        plan.data_points
            .iter()
            .filter(|d| d.metric == id)
            .map(|d| ValueDto {
                organisation: d.organisation.as_ref().map(|o| o.to_string()),
                period: d.period.code(),
                value: d.value.normalize().to_string(),
                as_written: d.as_written.clone(),
                note: d.note.clone(),
                reference: d.reference.clone(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/metrics/{id}/values", request_body = NewValueDto, params(("id" = String, Path, description = "Metric id")),
    responses((status = 201, description = "Recorded"), (status = 404, description = "There is no such record", body = ErrorDto), (status = 400, description = "The body is not JSON, or a path segment does not parse", body = ErrorDto), (status = 403, description = "The token's person may not do this", body = ErrorDto), (status = 413, description = "The body is larger than 2 MB", body = ErrorDto), (status = 415, description = "The body is not sent as application/json", body = ErrorDto), (status = 422, description = "A field breaks its rule; the message names it", body = ErrorDto), (status = 507, description = "The storage is full, nothing was changed", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)),
    security(("token" = [])))]
pub async fn post_value(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<NewValueDto>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let body = read_body(body)?;
    let user = token_user(&viewer)?;
    let plan = plan(&state).await?;
    let metric = plan
        .metric(&id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no metric `{id}`")))?;
    let unprocessable = |m: String| ApiError(StatusCode::UNPROCESSABLE_ENTITY, m);
    if let Some(organisation) = &body.organisation {
        VALUE_ORGANISATION.check(organisation)?;
    }
    VALUE_PERIOD.check(&body.period)?;
    VALUE_VALUE.check(&body.value)?;
    if let Some(note) = &body.note {
        VALUE_NOTE.check(note)?;
    }
    let organisation = body
        .organisation
        .as_deref()
        .map(greenplan_core::ods::OdsCode::parse)
        .transpose()
        .map_err(|e| unprocessable(e.to_string()))?;
    if (metric.organisation.is_some() && organisation != metric.organisation)
        || !user.access.can_record_value(organisation.as_ref(), &plan)
    {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "you cannot record values of this metric for that organisation".into(),
        ));
    }
    let period = Period::parse(&body.period).map_err(|e| unprocessable(format!("period: {e}")))?;
    let value = greenplan_core::quantity::parse_decimal(&body.value)
        .ok_or_else(|| unprocessable(format!("value: `{}` is not a number", body.value)))?;
    let record = greenplan_store::MetricValue {
        metric: id,
        organisation,
        period,
        value,
        as_written: None,
        note: body.note,
        reference: None,
        origin: user.email.clone(),
    };
    state
        .store
        .record_metric_value(&user.email, &record)
        .await?;
    state.cache.invalidate().await;
    Ok(StatusCode::CREATED)
}

// Rows left out of the footprint because they could not be summed are named in the
// `Greenplan-Not-Summed` header ("RTG (2 rows)"), keeping the body's shape (a doc comment
// here would change the OpenAPI document; its owner may document the header there).
#[utoipa::path(get, path = "/api/v1/footprint", responses((status = 200, body = Vec<FootprintLineDto>), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn footprint(
    State(state): State<AppState>,
) -> ApiResult<(axum::http::HeaderMap, Json<Vec<FootprintLineDto>>)> {
    let table = crate::pages::footprint(&state).await?;
    let mut headers = axum::http::HeaderMap::new();
    if let Some(t) = &table
        && !t.unsummed.is_empty()
        && let Ok(v) = axum::http::HeaderValue::from_str(
            &greenplan_core::footprint::Unsummed::describe(&t.unsummed),
        )
    {
        headers.insert("greenplan-not-summed", v);
    }
    let t = |kg: greenplan_core::Decimal| {
        (kg / greenplan_core::Decimal::ONE_THOUSAND)
            .round_dp(6)
            .normalize()
            .to_string()
    };
    Ok((
        headers,
        Json(
            table
                .map(|t2| {
                    t2.lines
                        .iter()
                        .map(|l| FootprintLineDto {
                            organisation: l.key[0].clone(),
                            category: l.key[1].clone(),
                            tco2e: t(l.kgco2e),
                            tco2e_market_based: t(l.market_kgco2e),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
    ))
}

/// The OpenAPI document.
pub async fn openapi() -> ApiResult<Json<serde_json::Value>> {
    let mut doc = ApiDoc::openapi();
    let scheme = utoipa::openapi::security::SecurityScheme::Http(
        utoipa::openapi::security::Http::new(utoipa::openapi::security::HttpAuthScheme::Bearer),
    );
    if let Some(components) = doc.components.as_mut() {
        components.add_security_scheme("token", scheme);
    }
    let mut doc = serde_json::to_value(doc).map_err(|e| {
        tracing::error!(error = %e, "OpenAPI document");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the API document could not be written".into(),
        )
    })?;
    constrain(&mut doc);
    Ok(Json(doc))
}

/// Every error the API answers is a JSON [`ErrorDto`], whoever made it: axum's extractor
/// rejections (a path segment that is not a number, a query that does not parse), the
/// fallback for an unknown address, 405 for a method a route does not have, the 400 for an
/// address holding `%00` and the 500 of a handler that panicked arrive as plain text, HTML
/// or nothing; this turns them into the same shape, keeping the status and headers (e.g.
/// `Allow`).
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let is_plain_text = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let (mut parts, body) = response.into_parts();
    // axum's rejections say what was wrong in plain text; an HTML page says nothing useful.
    let text = if is_plain_text {
        axum::body::to_bytes(body, 16 * 1024)
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|t| !t.is_empty())
    } else {
        None
    };
    let error = text.unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => {
            "there is nothing at this address in the API: /api/openapi.json lists the operations"
                .into()
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            "this address does not take that method: the Allow header lists those it takes".into()
        }
        s if s.is_server_error() => "something went wrong on our side; nothing was changed".into(),
        s => s
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_lowercase(),
    });
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    (parts, Json(ErrorDto { error })).into_response()
}

/// A reporting period (a quarter open for returns).
#[derive(Serialize, ToSchema)]
pub struct PeriodDto {
    /// e.g. "Q3 2025/26"
    pub quarter: String,
    /// The address of the quarter in this API and the web app, e.g. "2025-26-Q3".
    pub slug: String,
    /// ISO date: returns received after it are late.
    pub due_on: String,
}

/// A return received for a quarter, and where it stands.
#[derive(Serialize, ToSchema)]
pub struct ReturnDto {
    pub id: i64,
    pub quarter: String,
    pub organisation: String,
    pub file: String,
    pub rows: i64,
    /// Exact decimal, kgCO2e (location-based), as text.
    pub kgco2e: String,
    pub submitted_by: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

impl From<greenplan_store::ReturnRecord> for ReturnDto {
    fn from(r: greenplan_store::ReturnRecord) -> Self {
        Self {
            id: r.id,
            quarter: r.quarter.to_string(),
            organisation: r.organisation.to_string(),
            file: r.file,
            rows: r.row_count,
            kgco2e: r.kgco2e.normalize().to_string(),
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/reporting-periods", responses((status = 200, body = Vec<PeriodDto>, links(("ListReturns" = (operation_id = "list_returns", parameters(("quarter" = "$response.body#/0/slug")))))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_periods(State(state): State<AppState>) -> ApiResult<Json<Vec<PeriodDto>>> {
    let periods = state.store.reporting_periods().await?;
    Ok(Json(
        periods
            .into_iter()
            .map(|p| PeriodDto {
                quarter: p.quarter.to_string(),
                slug: crate::periods::quarter_slug(p.quarter),
                due_on: p.due_on.to_string(),
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/reporting-periods/{quarter}/returns", params(("quarter" = String, Path, description = "The quarter as in its address, e.g. 2025-26-Q3")),
    responses((status = 200, body = Vec<ReturnDto>, links(("ApproveReturn" = (operation_id = "approve_return", parameters(("id" = "$response.body#/0/id")))))), (status = 400, description = "A path segment that does not parse", body = ErrorDto), (status = 404, description = "The address is not a quarter (write it as 2025-26-Q3)", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_returns(
    State(state): State<AppState>,
    Path(quarter): Path<String>,
) -> ApiResult<Json<Vec<ReturnDto>>> {
    let quarter = crate::periods::quarter_of_slug(&quarter).ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("no reporting period `{quarter}`: write it as 2025-26-Q3"),
        )
    })?;
    let returns = state.store.returns_for(quarter).await?;
    Ok(Json(returns.into_iter().map(ReturnDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/approve", params(("id" = i64, Path, minimum = 1, description = "The return's number")),
    responses((status = 200, body = ReturnDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 400, description = "The id is not a whole number", body = ErrorDto), (status = 403, description = "Only the ICB's system administrators approve returns", body = ErrorDto), (status = 409, description = "The return is already approved", body = ErrorDto), (status = 507, description = "The storage is full, nothing was changed", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)),
    security(("token" = [])))]
pub async fn approve_return(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReturnDto>> {
    let user = token_user(&viewer)?;
    if !user.access.can_run_the_plan() {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "only the ICB's system administrators approve returns".into(),
        ));
    }
    // A return that does not exist is a 404, as for every other id in the API (the store
    // refuses it again, in its transaction, should the return go in between).
    let current = state
        .store
        .return_record(id)
        .await?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("there is no return {id}")))?;
    // Approving twice conflicts with the return's state (409), like a stale save; the store
    // refuses it again in its transaction should two approvals race.
    if current.approved_at.is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("return {id} is already approved"),
        ));
    }
    let record = state.store.approve_return(&user.email, id).await?;
    state.cache.invalidate().await;
    Ok(Json(record.into()))
}
