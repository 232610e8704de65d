//! Signing in and out, the signed-in person on every request, and CSRF protection.
//!
//! Sessions live in the database (`greenplan-store`), so any number of server processes can
//! serve one person alternately. The browser holds only a random token in an HttpOnly,
//! SameSite=Lax cookie; a new token is issued at every sign-in (no session fixation).
//!
//! Every state-changing form carries the session's CSRF token, compared in constant time, and
//! every unsafe request must come from this site (`Origin`, or `Sec-Fetch-Site`, when the
//! browser sends them). "This site" is the deployment's public address (`--public-url`) when
//! it is configured, and only otherwise the request's own `Host` header, which a client
//! chooses and a proxy may rewrite. Scripts use `Authorization: Bearer gp_…` API tokens
//! instead of cookies, and so need no CSRF token.
//!
//! The cookie lasts the browser session unless the person ticks "stay signed in" (then the
//! session's hard limit, 7 days); the server ends idle sessions after 8 hours either way.

use crate::{AppState, WebConfig};
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use greenplan_store::SignedIn;
use std::str::FromStr;

/// The address people reach this deployment at, e.g. `https://greenplan.example.nhs.uk`
/// (`--public-url`, `GREENPLAN_PUBLIC_URL`): the origin unsafe requests must come from, and
/// the base of links handed out (survey invitations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, lower-cased, as browsers send it in `Origin`.
    origin: String,
    /// The origin and any path prefix, without a trailing `/`.
    base: String,
}

/// Why a public URL could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a public URL: give the address people use, as http:// or https:// and a host, with no query or fragment, e.g. https://greenplan.example.nhs.uk"
)]
pub struct BadPublicUrl(pub String);

impl FromStr for PublicUrl {
    type Err = BadPublicUrl;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || BadPublicUrl(raw.to_string());
        let trimmed = raw.trim();
        let (scheme, rest) = trimmed.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https")
            || rest.contains(['?', '#', '@'])
            || rest.contains(char::is_whitespace)
        {
            return Err(bad());
        }
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let port_ok = host
            .rsplit_once(':')
            .is_none_or(|(_, p)| host.ends_with(']') || p.parse::<u16>().is_ok());
        if host.is_empty() || host.starts_with(':') || !port_ok {
            return Err(bad());
        }
        let origin = format!("{scheme}://{}", host.to_ascii_lowercase());
        let base = format!("{origin}{}", path.trim_end_matches('/'));
        Ok(Self { origin, base })
    }
}

impl PublicUrl {
    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The address links start with (no trailing `/`).
    pub fn base(&self) -> &str {
        &self.base
    }
}

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
    /// The deployment's public address, for the origin check of form writes.
    pub public_url: Option<PublicUrl>,
}

/// The answer to a request whose credentials do not sign anyone in, on an API path: the
/// API's JSON error body, so scripts read why (never the sign-in page's redirect or HTML).
pub fn api_unauthorised(message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// Why a bearer token did not sign anyone in.
const BAD_TOKEN: &str = "the API token is not valid: it is mistyped, has expired or was revoked. Make a new one on your account page or with `greenplan token create EMAIL`";

/// The answer to a bearer token that signs no one in: the API's 401 JSON on API paths, the
/// 401 page elsewhere.
pub(crate) fn bad_token(path: &str) -> axum::response::Response {
    if path.starts_with("/api/") {
        api_unauthorised(BAD_TOKEN)
    } else {
        axum::response::IntoResponse::into_response(crate::kit::PageError::SignInNeeded(format!(
            "{BAD_TOKEN}."
        )))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = axum::response::Response;

    /// The viewer the login middleware found for this request, else looked up now (paths
    /// the middleware leaves alone, such as the sign-in page): one lookup per request.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(v.clone());
        }
        Viewer::look_up(&parts.headers, parts.uri.path(), state).await
    }
}

impl Viewer {
    /// Who sends a request with these headers: the API token's owner (a token that signs no
    /// one in is refused), else the session cookie's, else no one.
    pub(crate) async fn look_up(
        headers: &HeaderMap,
        path: &str,
        state: &AppState,
    ) -> Result<Self, axum::response::Response> {
        if let Some(token) = bearer_token(headers) {
            let user = state.store.token_user(token).await.map_err(|e| {
                tracing::error!(error = %e, "token lookup failed");
                axum::response::IntoResponse::into_response(StatusCode::INTERNAL_SERVER_ERROR)
            })?;
            return match user {
                Some(u) => Ok(Viewer {
                    user: Some(u),
                    session_token: None,
                    by_token: true,
                    public_url: state.config.public_url.clone(),
                }),
                None => Err(bad_token(path)),
            };
        }
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Ok(Viewer {
                user: None,
                session_token: None,
                by_token: false,
                public_url: state.config.public_url.clone(),
            });
        };
        let user = state.store.session_user(&token).await.map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            axum::response::IntoResponse::into_response(StatusCode::INTERNAL_SERVER_ERROR)
        })?;
        Ok(Viewer {
            session_token: user.as_ref().map(|_| token),
            user,
            by_token: false,
            public_url: state.config.public_url.clone(),
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
    ) -> Result<SignedIn, crate::kit::PageError> {
        let user = self
            .user
            .clone()
            .ok_or_else(|| crate::kit::PageError::SignInNeeded(format!("Sign in to {what}.")))?;
        if !same_site(headers, self.public_url.as_ref()) || !self.check_csrf(csrf) {
            return Err(crate::kit::forbidden_form());
        }
        Ok(user)
    }
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
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

/// How long the browser keeps the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieLife {
    /// Until the browser session ends (no `Max-Age`): the default.
    BrowserSession,
    /// The session's hard limit: the person ticked "stay signed in".
    StaySignedIn,
    /// Cleared at once (signing out).
    Clear,
}

/// The `Set-Cookie` value that stores a session token (or clears it).
pub fn session_cookie(token: &str, secure: bool, life: CookieLife) -> String {
    let max_age = match life {
        CookieLife::BrowserSession => String::new(),
        CookieLife::StaySignedIn => {
            format!("; Max-Age={}", greenplan_store::SESSION_MAX_SECONDS)
        }
        CookieLife::Clear => "; Max-Age=0".into(),
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// True when an unsafe request plainly comes from this site (the deployment's public URL
/// when configured, else the request's `Host`). Browsers send `Origin` (and
/// `Sec-Fetch-Site`) on form posts; a request from another site is refused even if it carried
/// a valid token. Requests without either header (scripts, old browsers) rely on the token.
pub fn same_origin(headers: &HeaderMap, config: &WebConfig) -> bool {
    same_site(headers, config.public_url.as_ref())
}

fn same_site(headers: &HeaderMap, public: Option<&PublicUrl>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    match public {
        Some(public) => origin.eq_ignore_ascii_case(public.origin()),
        None => headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest == host)
            }),
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
        let config = WebConfig::default();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("localhost:8080"));
        assert!(same_origin(&h, &config), "no Origin: rely on the token");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:8080"),
        );
        assert!(same_origin(&h, &config));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h, &config));
        let mut h2 = HeaderMap::new();
        h2.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h2, &config));
    }

    #[test]
    fn with_a_public_url_the_host_header_does_not_count() {
        let config = WebConfig {
            public_url: Some("https://GreenPlan.example.nhs.uk/base/".parse().unwrap()),
            ..WebConfig::default()
        };
        let public = config.public_url.as_ref().unwrap();
        assert_eq!(public.origin(), "https://greenplan.example.nhs.uk");
        assert_eq!(public.base(), "https://greenplan.example.nhs.uk/base");
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("evil.example"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h, &config));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://greenplan.example.nhs.uk"),
        );
        assert!(same_origin(&h, &config));
        for bad in [
            "greenplan.example",
            "ftp://x.example",
            "https://",
            "https://x.example?q=1",
            "https://x.example:http",
            "https://user@x.example",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
        assert_eq!(
            "http://127.0.0.1:8080"
                .parse::<PublicUrl>()
                .unwrap()
                .origin(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn csrf_compare_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        let life = CookieLife::BrowserSession;
        assert!(session_cookie("t", true, life).contains("HttpOnly; SameSite=Lax"));
        assert!(session_cookie("t", true, life).ends_with("; Secure"));
        assert!(!session_cookie("t", true, life).contains("Max-Age"));
        assert!(session_cookie("t", false, CookieLife::StaySignedIn).contains("Max-Age=604800"));
        assert!(session_cookie("", false, CookieLife::Clear).contains("Max-Age=0"));
    }
}
