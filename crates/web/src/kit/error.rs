//! The one error of every page: what went wrong, said for the person, with the status it
//! answers with. It is rendered here, once, as the service's plain error page; under `/api/`
//! the JSON middleware (`api::json_errors`) turns the same message into the API's body.

use super::responses::Chrome;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use greenplan_service::footprint::FootprintError;

/// Why a page could not be given. Each variant holds the sentence the person reads; the
/// cause, where there is one, is logged where the error is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// 401: the page or write needs someone signed in.
    SignInNeeded(String),
    /// 403: signed in (or not), but not allowed this.
    Forbidden(String),
    /// 404: no such record or page.
    NotFound(String),
    /// 400: the address (path or query) cannot be read.
    BadRequest(String),
    /// 409: the record changed meanwhile, or the step was already taken.
    Conflict(String),
    /// 413: the upload is larger than the page takes.
    TooLarge(String),
    /// 422: the input was read but cannot be accepted; the message names the field and the fix.
    Unprocessable(String),
    /// 503: the service cannot answer yet (no plan loaded, database away).
    Unavailable(String),
    /// 507: the database's storage is full; nothing was changed.
    StorageFull,
    /// 500: our fault; the message says what failed, never internals.
    Internal(String),
}

/// What a person is told when the database's storage is full (pages and API alike).
pub const STORAGE_FULL: &str = "The storage is full, nothing was changed. Tell your system administrator; once they have freed space, try again.";

/// A handler's answer.
pub type PageResult = Result<Response, PageError>;

impl PageError {
    /// The status the error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::SignInNeeded(_) => StatusCode::UNAUTHORIZED,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            PageError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence the person reads.
    pub fn message(&self) -> &str {
        match self {
            PageError::SignInNeeded(m)
            | PageError::Forbidden(m)
            | PageError::NotFound(m)
            | PageError::BadRequest(m)
            | PageError::Conflict(m)
            | PageError::TooLarge(m)
            | PageError::Unprocessable(m)
            | PageError::Unavailable(m)
            | PageError::Internal(m) => m,
            PageError::StorageFull => STORAGE_FULL,
        }
    }

    /// An extractor's refusal (a form or multipart body axum could not read), kept at its
    /// status: 413 for a body over the route's limit, 422 for fields that do not fit, else 400.
    pub fn rejected(status: StatusCode, message: String) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => PageError::TooLarge(message),
            StatusCode::UNPROCESSABLE_ENTITY => PageError::Unprocessable(message),
            StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST => {
                PageError::BadRequest(message)
            }
            s if s.is_server_error() => PageError::Internal(message),
            _ => PageError::BadRequest(message),
        }
    }

    fn title(&self) -> &'static str {
        match self {
            PageError::NotFound(_) => "Page not found",
            PageError::Forbidden(_) => "You cannot do that",
            PageError::SignInNeeded(_) => "Sign in to continue",
            PageError::BadRequest(_) => "There is a problem with the address",
            PageError::Unavailable(_) => "Service unavailable",
            PageError::StorageFull => "The storage is full",
            _ => "Sorry, there is a problem with the service",
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    chrome: Chrome,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.title().to_string(),
            chrome: Chrome::default(),
            message: self.message().to_string(),
        };
        (self.status(), Html(page.render().unwrap_or_default())).into_response()
    }
}

impl From<greenplan_store::StoreError> for PageError {
    fn from(e: greenplan_store::StoreError) -> Self {
        // A save from a stale copy that no form is shown again for: a 409 naming the changes.
        if let greenplan_store::StoreError::Stale(stale) = &e {
            return super::stale::conflict_page(stale);
        }
        match e {
            // 507: the change was refused whole, and will succeed once space is freed.
            greenplan_store::StoreError::StorageFull(cause) => {
                tracing::error!(error = %cause, "storage full");
                PageError::StorageFull
            }
            // The store's refusals are written for the person (e.g. text it cannot hold).
            greenplan_store::StoreError::Rejected(message) => PageError::Unprocessable(message),
            e => {
                tracing::error!(error = %e, "store error");
                PageError::Internal("Something went wrong reading the plan. Please try again; if it persists, tell your system administrator.".into())
            }
        }
    }
}

impl From<FootprintError> for PageError {
    fn from(e: FootprintError) -> Self {
        match e {
            FootprintError::Store(e) => e.into(),
            FootprintError::File(e) => {
                tracing::error!(error = %e, "inhaler product table");
                PageError::Internal("The inhaler product table could not be read.".into())
            }
        }
    }
}

/// "There is no {what} here", a 404.
pub fn not_found_error(what: &str) -> PageError {
    PageError::NotFound(format!(
        "There is no {what} here. Check the address, or start from the dashboard."
    ))
}

/// The answer of an address no route serves.
pub async fn not_found() -> Response {
    not_found_error("page").into_response()
}

/// The page for a refused write: a missing or wrong form token, or a post from elsewhere.
pub fn forbidden_form() -> PageError {
    PageError::Forbidden("This form could not be accepted: it has expired or was sent from another website. Go back, reload the page and try again.".into())
}

/// 403 with a message.
pub fn forbidden(message: &str) -> PageError {
    PageError::Forbidden(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_answers_with_its_status_and_message() {
        let e = PageError::Unprocessable("Quantity: give a number.".into());
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.message(), "Quantity: give a number.");
        assert_eq!(PageError::StorageFull.message(), STORAGE_FULL);
        assert_eq!(
            PageError::rejected(StatusCode::PAYLOAD_TOO_LARGE, "big".into()),
            PageError::TooLarge("big".into())
        );
        let page = PageError::Forbidden("Not yours.".into()).into_response();
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
    }
}
