//! Sign in, sign out, and the account page: password change (offering to revoke every API
//! token), one's own API tokens (made with an expiry, listed, revoked) and invitations to
//! other organisations (accepted or declined).
//!
//! Every password check (signing in, and the current password on a change) first reserves an
//! attempt in the store's per-address count, so guesses are limited however they arrive.

use crate::AppState;
use crate::kit::auth::{CookieLife, Viewer, same_origin, session_cookie};
use crate::kit::{Chrome, PageError, PageResult, TokenRow, forbidden_form, html};
use crate::kit::{Routes, Write};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::reminders::Frequency;
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
    /// Ticked: keep the cookie for the session's hard limit, not just this browser session.
    #[serde(default)]
    stay_signed_in: Option<String>,
}

const TOO_MANY_ATTEMPTS: &str = "There have been too many failed attempts to sign in to this account. Wait 15 minutes and try again, or ask your organisation admin to reset your password.";

/// Checks the password off the async threads (Argon2 is slow by design), throttles repeated
/// failures per address, and starts a fresh session.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> PageResult {
    if !same_origin(&headers, &state.config) {
        return Err(PageError::Forbidden(
            "This sign-in form was sent from another website, so it was refused.".into(),
        ));
    }
    let email = form.email.trim().to_lowercase();
    // Counted before the check, so a burst of guesses cannot all be checked.
    if !state.store.reserve_sign_in_attempt(&email).await? {
        return login_page_with(
            &state,
            TOO_MANY_ATTEMPTS,
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
    let ok = crate::kit::bounded_work::PASSWORDS
        .run(move || {
            let hash = record.map_or_else(|| dummy_hash().to_string(), |(_, hash)| hash);
            verify_password(&password, &hash)
        })
        .await
        .ok_or_else(|| PageError::Internal("Signing in failed. Please try again.".into()))?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        return login_page_with(
            &state,
            "The email address or password is not right. Check them and try again.",
            &email,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    let token = state.store.start_session(user_id).await?;
    let life = if form.stay_signed_in.is_some() {
        CookieLife::StaySignedIn
    } else {
        CookieLife::BrowserSession
    };
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(&token, state.config.secure_cookies, life),
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
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden_form());
    }
    if let Some(token) = &viewer.session_token {
        state.store.end_session(token).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie("", state.config.secure_cookies, CookieLife::Clear),
        )],
        Redirect::to("/"),
    )
        .into_response())
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
    /// A token just made, shown this once.
    new_token: String,
    tokens: Vec<TokenRow>,
    invitations: Vec<InvitationRow>,
    default_days: i64,
    max_days: i64,
    /// Reminder e-mail choices: slug, label, chosen.
    frequencies: Vec<(&'static str, &'static str, bool)>,
}

struct InvitationRow {
    id: i64,
    what: String,
    invited_by: String,
}

async fn account_view(
    state: &AppState,
    viewer: &Viewer,
    message: &str,
    error: &str,
) -> Result<AccountPage, PageError> {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to see your account.".into()))?;
    let now = chrono::Utc::now().timestamp();
    let plan = state.store.load_plan().await?;
    let name_of = |code: &greenplan_core::ods::OdsCode| {
        plan.as_ref()
            .and_then(|p| p.organisation(code))
            .map_or_else(|| code.to_string(), |o| o.name.clone())
    };
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
        new_token: String::new(),
        tokens: state
            .store
            .api_tokens_of(user.user_id)
            .await?
            .iter()
            .map(|t| TokenRow::of(t, now))
            .collect(),
        invitations: state
            .store
            .invitations(Some(user.user_id))
            .await?
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id,
                what: format!("{} of {}", i.role.label(), name_of(&i.organisation)),
                invited_by: i.invited_by,
            })
            .collect(),
        default_days: greenplan_store::DEFAULT_TOKEN_DAYS,
        max_days: greenplan_store::MAX_TOKEN_DAYS,
        frequencies: {
            let chosen = state.store.reminder_frequency(user.user_id).await?;
            Frequency::ALL
                .into_iter()
                .map(|f| (f.slug(), f.label(), f == chosen))
                .collect()
        },
    })
}

/// The account page again with a problem (`status`).
async fn account_refused(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    message: &str,
) -> PageResult {
    let mut r = html(account_view(state, viewer, "", message).await?)?;
    *r.status_mut() = status;
    Ok(r)
}

pub async fn account(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    if viewer.user.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    html(account_view(&state, &viewer, "", "").await?)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: String,
    current: String,
    new_password: String,
    /// Ticked (the default): revoke every API token too.
    #[serde(default)]
    revoke_tokens: Option<String>,
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
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden_form());
    }
    if let Err(e) = check_password_strength(&form.new_password) {
        return account_refused(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            &e.to_string(),
        )
        .await;
    }
    // The current password is a password guess like a sign-in: counted with them.
    if !state.store.reserve_sign_in_attempt(&user.email).await? {
        return account_refused(
            &state,
            &viewer,
            StatusCode::TOO_MANY_REQUESTS,
            TOO_MANY_ATTEMPTS,
        )
        .await;
    }
    let Some((_, hash)) = state.store.password_hash_of(&user.email).await? else {
        return account_refused(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your account could not be found.",
        )
        .await;
    };
    let (current, new) = (form.current, form.new_password);
    let new_hash = crate::kit::bounded_work::PASSWORDS
        .run(move || verify_password(&current, &hash).then(|| hash_password(&new)))
        .await
        .ok_or_else(|| {
            PageError::Internal("The password could not be changed. Please try again.".into())
        })?;
    match new_hash {
        None => {
            account_refused(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Your current password is not right.",
            )
            .await
        }
        Some(Err(e)) => {
            account_refused(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                &e.to_string(),
            )
            .await
        }
        Some(Ok(new_hash)) => {
            let revoke = form.revoke_tokens.is_some();
            state
                .store
                .change_password(user.user_id, &new_hash, &session, revoke)
                .await?;
            let message = if revoke {
                "Your password has been changed, your other sessions signed out and your API tokens revoked."
            } else {
                "Your password has been changed and your other sessions signed out. Your API tokens still work."
            };
            html(account_view(&state, &viewer, message, "").await?)
        }
    }
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    csrf_token: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires_in_days: String,
}

/// Makes an API token for oneself, shown once on the page that answers.
pub async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<NewTokenForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "make an API token")?;
    let days = match form.expires_in_days.trim() {
        "" => Ok(greenplan_store::DEFAULT_TOKEN_DAYS),
        d => d.parse::<i64>().map_err(|_| {
            format!(
                "Expires in (days): `{d}` is not a whole number of days; give 1 to {}.",
                greenplan_store::MAX_TOKEN_DAYS
            )
        }),
    };
    let made = match days {
        Ok(days) => state
            .store
            .create_api_token_for(&user.email, &user.email, &form.label, days)
            .await
            .map_err(|e| match e {
                greenplan_store::StoreError::Rejected(m) => Ok(m),
                other => Err(other),
            }),
        Err(m) => Err(Ok(m)),
    };
    match made {
        Ok(token) => {
            let mut page = account_view(
                &state,
                &viewer,
                "Your new API token is below. Copy it now: it is not shown again.",
                "",
            )
            .await?;
            page.new_token = token;
            html(page)
        }
        Err(Ok(message)) => {
            account_refused(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, &message).await
        }
        Err(Err(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RevokeTokenForm {
    csrf_token: String,
    token: String,
}

/// Revokes one of one's own API tokens (another person's is "not found").
pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<RevokeTokenForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "revoke an API token")?;
    let id: i64 = form
        .token
        .trim()
        .parse()
        .map_err(|_| crate::kit::not_found_error("API token"))?;
    if !state
        .store
        .revoke_api_token(&user.email, id, Some(user.user_id))
        .await?
    {
        return Err(crate::kit::not_found_error("API token"));
    }
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct InvitationForm {
    csrf_token: String,
    invitation: String,
    answer: String,
}

/// Accepts or declines one of one's own invitations (another person's is "not found").
pub async fn answer_invitation(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<InvitationForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "answer an invitation")?;
    let accept = match form.answer.as_str() {
        "accept" => true,
        "decline" => false,
        other => {
            return Err(PageError::Unprocessable(format!(
                "Answer: `{other}` is neither accept nor decline."
            )));
        }
    };
    let id: i64 = form
        .invitation
        .trim()
        .parse()
        .map_err(|_| crate::kit::not_found_error("invitation"))?;
    if !state
        .store
        .answer_invitation(user.user_id, id, accept)
        .await?
    {
        return Err(crate::kit::not_found_error("invitation"));
    }
    Ok(Redirect::to("/account").into_response())
}

/// Signing in and out, and one's own account.
pub fn routes() -> Routes {
    Routes::new()
        .get("/login", login_page)
        .post("/login", Write::Anyone, login)
        .post("/logout", Write::OwnAccount, logout)
        .get("/account", account)
        .post("/account/password", Write::OwnAccount, change_password)
        .post("/account/tokens", Write::OwnAccount, create_token)
        .post("/account/tokens/revoke", Write::OwnAccount, revoke_token)
        .post("/account/invitations", Write::OwnAccount, answer_invitation)
        .post("/account/reminders", Write::OwnAccount, choose_reminders)
}

#[derive(Deserialize)]
pub struct RemindersForm {
    csrf_token: String,
    frequency: String,
}

/// Sets how often the signed-in person gets reminder digests.
pub async fn choose_reminders(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<RemindersForm>,
) -> PageResult {
    let Some(user) = viewer.user.clone() else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden_form());
    }
    let frequency: Frequency = match form.frequency.parse() {
        Ok(f) => f,
        Err(e) => {
            return account_refused(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, &e).await;
        }
    };
    state
        .store
        .set_reminder_frequency(&user.email, &user.email, frequency)
        .await?;
    html(
        account_view(
            &state,
            &viewer,
            &format!("Reminder e-mails: {}.", frequency.label().to_lowercase()),
            "",
        )
        .await?,
    )
}
