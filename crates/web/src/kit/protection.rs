//! The protections every response gets, whatever route made it: security headers (a strict
//! Content-Security-Policy with no inline scripts or styles, no framing, no MIME sniffing, no
//! referrer sent to other sites) and a panic caught and turned into the service's own 500
//! page, so one faulty handler neither drops the connection without an answer nor stops the
//! server serving everyone else.
//!
//! An address holding a NUL character (`%00`) is refused with a 400 before any handler: no
//! page needs one, and PostgreSQL cannot store or compare text containing it (the query
//! would fail as a 500). The query string and form and JSON bodies get the text rules of
//! `text_input` (control characters, lengths: a 422 naming the field).
//!
//! Every response to a signed-in person (a request carrying the session cookie or an API
//! token, or a response that sets the cookie) says `Cache-Control: no-store`, so neither a
//! shared cache nor the browser's history keeps a page only they may see. The app's own
//! static files are left cacheable: they hold nothing personal.
//!
//! HSTS is sent only when the deployment says it is served over HTTPS (`--secure-cookies`,
//! `WebConfig::secure_cookies`), set by the operator who puts the TLS proxy in front. A
//! request's own `X-Forwarded-Proto` is not trusted for this: without a proxy that overwrites
//! it, any client could send it.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every response: the app's own scripts, styles and images
/// only (and inline SVG data images), never inline code, never inside another site's frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/// Adds the security headers and the panic catcher to `router` (the whole app, or a test's
/// router that includes it).
pub fn protect(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(refuse_nul))
        .layer(axum::middleware::from_fn(no_store_for_the_signed_in))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// The answer to a request whose handler panicked: logged with the panic's message, shown as
/// the service's usual error page without it (it may name internals).
fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a handler panicked");
    crate::kit::PageError::Internal("Something went wrong on our side. Please try again; if it persists, tell your system administrator.".into(),
    )
    .into_response()
}

/// Refuses a request whose path holds an encoded NUL (400), and one whose query string or
/// form or JSON body holds a field that breaks the text rules (422 naming the field:
/// [`crate::kit::text_input`]). Until then only the address was checked, so a NUL in a body
/// reached PostgreSQL, which cannot store it: a 500.
async fn refuse_nul(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if request.uri().path().contains("%00") {
        return crate::kit::PageError::BadRequest(
            "The address holds a character no page uses (%00). Check the link you followed.".into(),
        )
        .into_response();
    }
    match crate::kit::text_input::check_request(request).await {
        Ok(request) => next.run(request).await,
        Err(refused) => refused,
    }
}

/// `Cache-Control: no-store` on every response to someone signed in (see the module docs).
async fn no_store_for_the_signed_in(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let static_file = path.starts_with("/static/") || path.starts_with("/assets/");
    let signed_in = request.headers().contains_key(header::AUTHORIZATION)
        || crate::kit::auth::cookie(request.headers(), crate::kit::auth::SESSION_COOKIE).is_some();
    let mut response = next.run(request).await;
    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| {
            v.as_bytes()
                .starts_with(crate::kit::auth::SESSION_COOKIE.as_bytes())
        });
    if (signed_in || sets_session) && !static_file {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
