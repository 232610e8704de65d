//! Signing in and out, the signed-in person on every request, and CSRF protection.
//!
//! Sessions live in the database (`greenplan-store`), so any number of server processes can
//! serve one person alternately. The browser holds only a random token in an HttpOnly,
//! SameSite=Lax cookie; a new token is issued at every sign-in (no session fixation).
//!
//! Every state-changing form carries the session's CSRF token, compared in constant time, and
//! every unsafe request must come from this site (`Origin`, or `Sec-Fetch-Site`, when the
//! browser sends them). Scripts use `Authorization: Bearer gp_…` API tokens instead of
//! cookies, and so need no CSRF token.

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use greenplan_store::SignedIn;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gp_session";

/// The person making a request, if signed in (by session cookie or API token).
#[derive(Clone)]
pub struct Viewer {
    pub user: Option<SignedIn>,
    /// The raw session token, for signing out and password changes.
    pub session_token: Option<String>,
    /// True when the request authenticated with an API token.
    pub by_token: bool,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(&parts.headers) {
            let user = state.store.token_user(token).await.map_err(|e| {
                tracing::error!(error = %e, "token lookup failed");
                StatusCode::INTERNAL_SERVER_ERROR
            })?;
            return match user {
                Some(u) => Ok(Viewer {
                    user: Some(u),
                    session_token: None,
                    by_token: true,
                }),
                None => Err(StatusCode::UNAUTHORIZED),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(Viewer {
                user: None,
                session_token: None,
                by_token: false,
            });
        };
        let user = state.store.session_user(&token).await.map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR
        })?;
        Ok(Viewer {
            session_token: user.as_ref().map(|_| token),
            user,
            by_token: false,
        })
    }
}

impl Viewer {
    /// The CSRF token forms must carry.
    pub fn csrf(&self) -> String {
        self.user
            .as_ref()
            .and_then(|u| u.csrf_token.clone())
            .unwrap_or_default()
    }

    /// Checks a form's CSRF token against the session's. API-token requests carry none.
    pub fn check_csrf(&self, submitted: &str) -> bool {
        if self.by_token {
            return true;
        }
        let expected = self.csrf();
        !expected.is_empty() && constant_time_eq(expected.as_bytes(), submitted.as_bytes())
    }
}

impl Viewer {
    /// The person allowed to make a write from a form: signed in (else 401, "Sign in to
    /// {what}"), and the request from this site with the session's CSRF token (else 403).
    pub fn form_writer(
        &self,
        headers: &HeaderMap,
        csrf: &str,
        what: &str,
    ) -> Result<SignedIn, crate::pages::PageError> {
        let user = self.user.clone().ok_or_else(|| {
            crate::pages::PageError(StatusCode::UNAUTHORIZED, format!("Sign in to {what}."))
        })?;
        if !same_origin(headers) || !self.check_csrf(csrf) {
            return Err(crate::account::forbidden());
        }
        Ok(user)
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` value that stores a session token (or clears it when `token` is empty).
pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = if token.is_empty() {
        0
    } else {
        greenplan_store::SESSION_MAX_SECONDS
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// True when an unsafe request plainly comes from this site. Browsers send `Origin` (and
/// `Sec-Fetch-Site`) on form posts; a request from another site is refused even if it carried
/// a valid token. Requests without either header (scripts, old browsers) rely on the token.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gp_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("localhost:8080"));
        assert!(same_origin(&h), "no Origin: rely on the token");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        let mut h2 = HeaderMap::new();
        h2.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h2));
    }

    #[test]
    fn csrf_compare_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(session_cookie("t", true).contains("HttpOnly; SameSite=Lax"));
        assert!(session_cookie("t", true).ends_with("; Secure"));
        assert!(session_cookie("", false).contains("Max-Age=0"));
    }
}
