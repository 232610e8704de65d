//! The text rules of [`greenplan_core::text`] applied to everything a request carries as
//! text, before any handler reads it: every field of a form body (urlencoded), every string
//! (and key) of a JSON body, and every parameter of the query string. A field holding a NUL or
//! another C0 control character, or longer than its kind allows, is answered with a 422 that
//! names the field (as JSON under `/api/`), and the handler never runs.
//!
//! Why here and not in each form type: there are some sixty forms, and PostgreSQL refuses a
//! NUL in text whatever the column, so one missed field was a 500 (the sign-in form's e-mail
//! address was one). Checking the decoded body once covers every form, present and future,
//! on both backends. Multipart forms (the ones with a file) read their few text fields
//! through [`field`], the same rule.
//!
//! How long a field may be is decided by its name, in [`kind_of`]: one table, beside the
//! limits themselves in `core::text`. A name not in the table is free text (10,000
//! characters): a forgotten field is then still bounded, and never refused for being a long
//! note.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use greenplan_core::text::{self, TextError, TextKind};

/// The most a form or JSON body may hold: axum's own default body limit, which every
/// urlencoded and JSON route keeps (only multipart uploads are allowed more).
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The kind of text a field of this name holds (form field, JSON key or query parameter).
pub fn kind_of(field: &str) -> TextKind {
    // Register forms name some fields `reason-<choice>`, `mitigation-<choice>`.
    let base = field.split(['-', '[']).next().unwrap_or(field);
    match base {
        "name" | "title" | "short_name" | "email" | "password" | "new_password" | "current"
        | "csrf_token" | "code" | "organisation" | "org" | "owner" | "unit" | "period" | "year"
        | "quarter" | "financial_year" | "status" | "kind" | "role" | "postcode" | "site"
        | "value" | "due_on" | "revised_due" | "start" | "end" | "start_date"
        | "baseline_value" | "baseline_period" | "area" | "q" | "format" | "as_at" | "from"
        | "to" | "sort" | "page" | "tag" | "stage" | "category" | "direction" | "scope"
        | "delivery" | "rating" | "verified" | "archived" | "disabled" | "choice"
        | "distance_unit" | "data_source" | "measure" | "level" | "trust" | "mode" => {
            TextKind::Name
        }
        "sites" | "leads" | "lead_organisations" | "system_priorities" | "targets" => {
            TextKind::List
        }
        _ => TextKind::Note,
    }
}

/// A text field that breaks the rules, named as the form names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The field “{field}” {problem}.")]
pub struct FieldRefused {
    pub field: String,
    pub problem: TextError,
}

/// Checks one text field by the rules of its name.
pub fn check(field: &str, value: &str) -> Result<(), FieldRefused> {
    let refused = |problem| FieldRefused {
        field: printable(field),
        problem,
    };
    if let Some(problem) = text::refused_control(field) {
        return Err(refused(problem));
    }
    text::check(value, kind_of(field)).map_err(refused)
}

/// A multipart form's text field, checked like every other field.
pub fn field(name: &str, value: String) -> Result<String, crate::kit::PageError> {
    check(name, &value)
        .map(|()| value)
        .map_err(|e| crate::kit::PageError::Unprocessable(e.to_string()))
}

/// A field name safe to show in a message (its control characters as `?`, at most 100).
fn printable(field: &str) -> String {
    field
        .chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Checks the query string and, for a form or JSON body, every field of the body; answers
/// the request (to be passed on) or the refusal.
pub async fn check_request(request: Request) -> Result<Request, Response> {
    let api = request.uri().path().starts_with("/api/");
    let refuse = |e: FieldRefused| refusal(api, e);
    if let Some(query) = request.uri().query() {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            check(&k, &v).map_err(refuse)?;
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let form = essence == "application/x-www-form-urlencoded";
    let json = essence == "application/json" || essence.ends_with("+json");
    if !form && !json {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large(api))?;
    if form {
        for (k, v) in form_urlencoded::parse(&bytes) {
            check(&k, &v).map_err(refuse)?;
        }
    } else if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        // A body that is not JSON is left to the handler's extractor to refuse.
        check_json("", &value).map_err(refuse)?;
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Every string and key of a JSON value; a string in an array is named by its key and index.
fn check_json(name: &str, value: &serde_json::Value) -> Result<(), FieldRefused> {
    match value {
        serde_json::Value::String(s) => check(name, s),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_json(&format!("{name}[{i}]"), v)),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let name = if name.is_empty() {
                k.clone()
            } else {
                format!("{name}.{k}")
            };
            // The last key names the field's kind (`values[2].note` is a note).
            let last = k.as_str();
            if let Some(problem) = text::refused_control(last) {
                return Err(FieldRefused {
                    field: printable(&name),
                    problem,
                });
            }
            match v {
                serde_json::Value::String(s) => {
                    text::check(s, kind_of(last)).map_err(|problem| FieldRefused {
                        field: printable(&name),
                        problem,
                    })
                }
                _ => check_json(&name, v),
            }
        }),
        _ => Ok(()),
    }
}

/// The 422 for a refused field: the service's error page, or JSON for the API.
fn refusal(api: bool, e: FieldRefused) -> Response {
    if api {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": e.to_string(), "field": e.field })),
        )
            .into_response()
    } else {
        crate::kit::PageError::Unprocessable(e.to_string()).into_response()
    }
}

/// The 413 for a form or JSON body over the limit.
fn too_large(api: bool) -> Response {
    let message = "The form is larger than 2 MB: shorten what you typed.".to_string();
    if api {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({ "error": message })),
        )
            .into_response()
    } else {
        crate::kit::PageError::TooLarge(message).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_and_json_walked() {
        let e = check("note", "a\u{0}b").unwrap_err();
        assert_eq!(e.field, "note");
        assert!(check("title", &"x".repeat(501)).is_err());
        assert!(check("note", &"x".repeat(501)).is_ok());
        assert!(check("reason-flooding", &"x".repeat(5_000)).is_ok());
        let body: serde_json::Value =
            serde_json::json!({"values": [{"period": "2025-04", "note": "ok\u{1}"}]});
        let e = check_json("", &body).unwrap_err();
        assert_eq!(e.field, "values[0].note");
        let body: serde_json::Value = serde_json::json!({"title": "x".repeat(501)});
        assert_eq!(check_json("", &body).unwrap_err().field, "title");
    }
}
