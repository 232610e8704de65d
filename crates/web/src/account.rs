//! Sign in, sign out, and the account page with password change.

use crate::AppState;
use crate::auth::{Viewer, same_origin, session_cookie};
use crate::pages::{Chrome, PageError, PageResult, html};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use greenplan_store::{check_password_strength, hash_password, verify_password};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    title: String,
    chrome: Chrome,
    error: String,
    email: String,
    no_users: bool,
    icb: String,
}

async fn login_page_with(
    state: &AppState,
    error: &str,
    email: &str,
    status: StatusCode,
) -> PageResult {
    let no_users = state.store.user_count().await? == 0;
    let icb = state
        .store
        .load_plan()
        .await?
        .map_or_else(|| "ICB-CODE".into(), |p| p.info.icb.to_string());
    let mut response = html(LoginPage {
        title: "Sign in".into(),
        chrome: Chrome::default(),
        error: error.into(),
        email: email.into(),
        no_users,
        icb,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

pub async fn login_page(State(state): State<AppState>) -> PageResult {
    login_page_with(&state, "", "", StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// Checks the password off the async threads (Argon2 is slow by design), throttles repeated
/// failures per address, and starts a fresh session.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> PageResult {
    if !same_origin(&headers) {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "This sign-in form was sent from another website, so it was refused.".into(),
        ));
    }
    let email = form.email.trim().to_lowercase();
    if state.store.is_throttled(&email).await? {
        return login_page_with(
            &state,
            "There have been too many failed attempts to sign in to this account. Wait 15 minutes and try again, or ask your organisation admin to reset your password.",
            &email,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let record = state.store.password_hash_of(&email).await?;
    let user_id = record.as_ref().map(|(id, _)| *id);
    let password = form.password;
    // Verify against a dummy hash when the address is unknown, so timing does not reveal
    // which addresses have accounts.
    let ok = crate::bounded_work::PASSWORDS
        .run(move || {
            let hash = record.map_or_else(|| dummy_hash().to_string(), |(_, hash)| hash);
            verify_password(&password, &hash)
        })
        .await
        .ok_or_else(|| {
            PageError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Signing in failed. Please try again.".into(),
            )
        })?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        state.store.record_login_failure(&email).await?;
        return login_page_with(
            &state,
            "The email address or password is not right. Check them and try again.",
            &email,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    let token = state.store.start_session(user_id).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(&token, state.config.secure_cookies),
        )],
        Redirect::to("/"),
    )
        .into_response())
}

/// A real Argon2id hash of a random password nobody knows, made once.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let secret =
            greenplan_store::new_token().unwrap_or_else(|_| "greenplan-dummy-password".into());
        hash_password(&secret).unwrap_or_default()
    })
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    if !same_origin(&headers) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden());
    }
    if let Some(token) = &viewer.session_token {
        state.store.end_session(token).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie("", state.config.secure_cookies),
        )],
        Redirect::to("/"),
    )
        .into_response())
}

/// The page for a refused write: a missing or wrong form token, or a post from elsewhere.
pub fn forbidden() -> PageError {
    PageError(
        StatusCode::FORBIDDEN,
        "This form could not be accepted: it has expired or was sent from another website. Go back, reload the page and try again.".into(),
    )
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    title: String,
    chrome: Chrome,
    name: String,
    email: String,
    roles: Vec<String>,
    message: String,
    error: String,
}

fn account_view(viewer: &Viewer, message: &str, error: &str) -> Result<AccountPage, PageError> {
    let user = viewer.user.as_ref().ok_or_else(|| {
        PageError(
            StatusCode::UNAUTHORIZED,
            "Sign in to see your account.".into(),
        )
    })?;
    Ok(AccountPage {
        title: "Your account".into(),
        chrome: Chrome::of(viewer),
        name: user.name.clone(),
        email: user.email.clone(),
        roles: user
            .access
            .memberships
            .iter()
            .map(|m| format!("{} of {}", m.role.label(), m.organisation))
            .collect(),
        message: message.into(),
        error: error.into(),
    })
}

pub async fn account(viewer: Viewer) -> Response {
    if viewer.user.is_none() {
        return Redirect::to("/login").into_response();
    }
    match account_view(&viewer, "", "").and_then(html) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: String,
    current: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    let (Some(user), Some(session)) = (viewer.user.clone(), viewer.session_token.clone()) else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !same_origin(&headers) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden());
    }
    let refuse = |msg: &str| -> PageResult {
        let mut r = html(account_view(&viewer, "", msg)?)?;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(r)
    };
    if let Err(e) = check_password_strength(&form.new_password) {
        return refuse(&e.to_string());
    }
    let Some((_, hash)) = state.store.password_hash_of(&user.email).await? else {
        return refuse("Your account could not be found.");
    };
    let (current, new) = (form.current, form.new_password);
    let new_hash = crate::bounded_work::PASSWORDS
        .run(move || verify_password(&current, &hash).then(|| hash_password(&new)))
        .await
        .ok_or_else(|| {
            PageError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The password could not be changed. Please try again.".into(),
            )
        })?;
    match new_hash {
        None => refuse("Your current password is not right."),
        Some(Err(e)) => refuse(&e.to_string()),
        Some(Ok(new_hash)) => {
            state
                .store
                .change_password(user.user_id, &new_hash, &session)
                .await?;
            html(account_view(
                &viewer,
                "Your password has been changed and your other sessions signed out.",
                "",
            )?)
        }
    }
}
