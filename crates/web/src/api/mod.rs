//! The JSON API under `/api/v1/`: what the pages show, and writes for scripts. Writes need an
//! API token (`Authorization: Bearer gp_…`, from `greenplan token create`); a browser session
//! cookie is not accepted for API writes, so no CSRF token is needed. Every write is checked
//! against the caller's roles and audited, exactly as the forms are. The OpenAPI document at
//! `/api/openapi.json` is generated from these handlers and types.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::{Routes, Write};
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

mod bodies;
mod plan_routes;
mod returns;
pub use bodies::*;
pub use plan_routes::*;
pub use returns::*;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorDto { error: self.1 })).into_response()
    }
}

impl From<crate::kit::PageError> for ApiError {
    fn from(e: crate::kit::PageError) -> Self {
        ApiError(e.status(), e.message().to_string())
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
                    crate::kit::STORAGE_FULL.into(),
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

/// The JSON API and its OpenAPI document.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/actions", list_actions)
        .get("/api/v1/actions/{id}", get_action)
        .post(
            "/api/v1/actions/{id}/updates",
            Write::Contributors,
            post_update,
        )
        .get("/api/v1/metrics", list_metrics)
        .get("/api/v1/metrics/{id}/values", list_values)
        .post(
            "/api/v1/metrics/{id}/values",
            Write::Contributors,
            post_value,
        )
        .get("/api/v1/footprint", footprint)
        .get("/api/v1/reporting-periods", list_periods)
        .get("/api/v1/reporting-periods/{quarter}/returns", list_returns)
        .post(
            "/api/v1/returns/{id}/approve",
            Write::SystemAdmins,
            approve_return,
        )
        .get("/api/openapi.json", openapi)
}
