//! People: users with argon2id passwords, their roles per organisation, invitations to an
//! organisation, sessions kept in the database (so several server processes share them), API
//! tokens with an expiry, and login throttling.
//!
//! Roles change only through an approved [`RoleChange`] (see `greenplan_core::access`), and
//! only if the person's role is still the one the approval saw. Someone who already has an
//! account is never put into another organisation without saying yes: they are invited.
//!
//! Sign-in attempts are *reserved* before the password is checked, by one atomic upsert of a
//! per-address counter in the database (so every server process shares it): a burst of
//! guesses sent at once gets at most [`MAX_LOGIN_FAILURES`] checks, whatever the timing.
//!
//! Secrets are never stored: session and API tokens are random 256-bit values given to the
//! client once; the database keeps their SHA-256. Password hashing is deliberately slow, so
//! callers run [`hash_password`] and [`verify_password`] off the async threads.

use crate::{Result, Store, StoreError, audit, now};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use greenplan_core::access::{Access, Membership, Role, RoleChange};
use greenplan_core::ods::OdsCode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// How long a session lasts without use, and at most.
pub const SESSION_IDLE_SECONDS: i64 = 8 * 60 * 60;
pub const SESSION_MAX_SECONDS: i64 = 7 * 24 * 60 * 60;
/// Sign-in attempts (password checks) allowed per address in the window before further tries
/// are refused; a success clears the count.
pub const MAX_LOGIN_FAILURES: i64 = 5;
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// How long an API token lasts unless another life is chosen when it is made, and the longest
/// life it may be given (days).
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
pub const MAX_TOKEN_DAYS: i64 = 365;
/// Longest label of an API token (characters).
pub const MAX_TOKEN_LABEL: usize = 100;
/// Shortest password accepted.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// A signed-in person, as every request sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedIn {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    /// The session's token for forms (absent for API tokens, which need none).
    pub csrf_token: Option<String>,
    pub access: Access,
}

/// A user as an administrator sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub memberships: Vec<Membership>,
    pub disabled: bool,
}

/// An API token as its owner and their administrators see it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenSummary {
    pub id: i64,
    /// The owner's email address.
    pub email: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl ApiTokenSummary {
    /// "live", "expired" or "revoked" at time `now`.
    pub fn state(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "live"
        }
    }
}

/// An invitation to hold a role in an organisation, waiting for the invited person's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: i64,
    /// The invited person's email address.
    pub email: String,
    pub organisation: OdsCode,
    pub role: Role,
    pub invited_by: String,
    pub invited_at: i64,
}

/// Hashes a password with Argon2id and a random salt (slow on purpose: call off async threads).
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Rejected(format!("the password could not be hashed: {e}")))
}

/// Checks a password against a stored hash (slow on purpose: call off async threads).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new random token: 32 bytes from the operating system, as hex.
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Rejected(format!("no randomness available: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) fn digest(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// A valid email address, lower-cased: something@domain.tld, no spaces.
pub fn normalise_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(StoreError::Rejected(format!(
            "`{raw}` is not an email address"
        )))
    }
}

/// Checks a new password is long enough.
pub fn check_password_strength(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(StoreError::Rejected(format!(
            "the password must be at least {MIN_PASSWORD_LENGTH} characters long: a phrase of three or four words works well"
        )));
    }
    Ok(())
}

impl Store {
    /// Number of users (for the first-run hint).
    pub async fn user_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Adds a user with a role in one organisation, or sets an existing user's role there,
    /// with the authority of the server's operator (`greenplan user add`, and tests): no
    /// one's access is checked. The web app uses [`Store::create_user`],
    /// [`Store::change_role`] and [`Store::invite`], which take an approved change.
    /// `password_hash` comes from [`hash_password`].
    pub async fn add_user(
        &self,
        actor: &str,
        email: &str,
        name: &str,
        password_hash: &str,
        organisation: &OdsCode,
        role: Role,
    ) -> Result<i64> {
        let email = normalise_email(email)?;
        let mut tx = self.begin_write().await?;
        known_organisation(&mut tx, organisation).await?;
        let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some((id,)) => id,
            None => insert_user(&mut tx, actor, &email, name, password_hash).await?,
        };
        let current = role_in(&mut tx, id, organisation).await?;
        let change = RoleChange::by_operator(organisation, current, Some(role));
        apply_role_change(&mut tx, actor, id, &email, &change).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a new person with the role of an approved change (one from no role). Refused if
    /// the address already has an account (then they are invited instead: [`Store::invite`]).
    pub async fn create_user(
        &self,
        actor: &str,
        email: &str,
        name: &str,
        password_hash: &str,
        change: &RoleChange,
    ) -> Result<i64> {
        let email = normalise_email(email)?;
        if change.from().is_some() || change.to().is_none() {
            return Err(StoreError::Rejected(
                "a new person starts with one role and none before it".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        known_organisation(&mut tx, change.organisation()).await?;
        let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            return Err(StoreError::Rejected(format!(
                "{email} already has an account"
            )));
        }
        let id = insert_user(&mut tx, actor, &email, name, password_hash).await?;
        apply_role_change(&mut tx, actor, id, &email, change).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes an existing person's role in one organisation, as approved (including removing
    /// it, when the change is to no role). Refused if their role there is no longer the one the
    /// approval saw.
    pub async fn change_role(&self, actor: &str, email: &str, change: &RoleChange) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
        let (id,) = row.ok_or_else(|| StoreError::Rejected(format!("there is no user {email}")))?;
        apply_role_change(&mut tx, actor, id, email, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Invites an existing person to the role of an approved change (one from no role): they
    /// see it on their account page and accept or decline; until then nothing else changes.
    /// Inviting again to the same organisation replaces the earlier invitation.
    pub async fn invite(&self, actor: &str, email: &str, change: &RoleChange) -> Result<()> {
        let Some(role) = change.to().filter(|_| change.from().is_none()) else {
            return Err(StoreError::Rejected(
                "an invitation offers a role to someone without one there".into(),
            ));
        };
        let organisation = change.organisation();
        let mut tx = self.begin_write().await?;
        known_organisation(&mut tx, organisation).await?;
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
        let (id,) = row.ok_or_else(|| StoreError::Rejected(format!("there is no user {email}")))?;
        if role_in(&mut tx, id, organisation).await?.is_some() {
            return Err(StoreError::Rejected(format!(
                "{email} already has a role in {organisation}; reload the page and change it there"
            )));
        }
        sqlx::query("DELETE FROM invitations WHERE user_id = $1 AND organisation = $2")
            .bind(id)
            .bind(organisation.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO invitations (user_id, organisation, role, invited_by, invited_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(organisation.as_str())
            .bind(role.slug())
            .bind(actor)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "invite",
            "user",
            email,
            Some(organisation.as_str()),
            None,
            Some(&serde_json::json!({"organisation": organisation, "role": role.slug()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Invitations waiting for an answer: one person's (`Some(user_id)`) or everyone's.
    pub async fn invitations(&self, user_id: Option<i64>) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(
            "SELECT i.id, u.email, i.organisation, i.role, i.invited_by, i.invited_at \
             FROM invitations i JOIN users u ON u.id = i.user_id \
             WHERE $1 = 0 OR i.user_id = $2 ORDER BY i.invited_at, i.id",
        )
        .bind(i64::from(user_id.is_some()))
        .bind(user_id.unwrap_or(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let org: String = r.try_get("organisation")?;
                let role: String = r.try_get("role")?;
                Ok(Invitation {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    organisation: OdsCode::parse(&org)
                        .map_err(|e| crate::corrupt("invitation", e))?,
                    role: role.parse().map_err(|e| crate::corrupt("invitation", e))?,
                    invited_by: r.try_get("invited_by")?,
                    invited_at: r.try_get("invited_at")?,
                })
            })
            .collect()
    }

    /// The invited person's answer to one of their own invitations: accepting gives them its
    /// role (unless they have gained a role there meanwhile, which is kept); either way the
    /// invitation is gone. `false` when `user_id` has no such invitation.
    pub async fn answer_invitation(&self, user_id: i64, id: i64, accept: bool) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT u.email, i.organisation, i.role, i.invited_by FROM invitations i JOIN users u ON u.id = i.user_id WHERE i.id = $1 AND i.user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((email, organisation, role, invited_by)) = row else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM invitations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let org = OdsCode::parse(&organisation).map_err(|e| crate::corrupt("invitation", e))?;
        let role: Role = role.parse().map_err(|e| crate::corrupt("invitation", e))?;
        if accept && role_in(&mut tx, user_id, &org).await?.is_none() {
            // Approved when the invitation was made; the person's yes completes it.
            let change = RoleChange::by_operator(&org, None, Some(role));
            apply_role_change(&mut tx, &email, user_id, &email, &change).await?;
        }
        audit::record(
            &mut tx,
            &email,
            if accept {
                "accept-invitation"
            } else {
                "decline-invitation"
            },
            "user",
            &email,
            Some(org.as_str()),
            None,
            Some(&serde_json::json!({"organisation": org, "role": role.slug(), "invited_by": invited_by})),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One person with their roles, by email address.
    pub async fn person(&self, email: &str) -> Result<Option<UserSummary>> {
        let row = sqlx::query("SELECT id, email, name, disabled FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let id: i64 = r.try_get("id")?;
        Ok(Some(UserSummary {
            id,
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            memberships: self.access_of(id).await?.memberships,
        }))
    }

    /// The password hash of an active user, for signing in.
    pub async fn password_hash_of(&self, email: &str) -> Result<Option<(i64, String)>> {
        let email = email.trim().to_lowercase();
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND disabled = 0")
                .bind(email)
                .fetch_optional(self.pool())
                .await?;
        Ok(row)
    }

    /// Reserves one sign-in attempt (one password check) for `email`, before the check: `true`
    /// if it may go ahead, `false` once the address has used [`MAX_LOGIN_FAILURES`] attempts in
    /// the window. One atomic upsert, so attempts sent at once are each counted, on every
    /// server sharing the database. A success clears the count ([`Store::start_session`],
    /// [`Store::change_password`]).
    pub async fn reserve_sign_in_attempt(&self, email: &str) -> Result<bool> {
        let t = now();
        let (attempts,): (i64,) = sqlx::query_as(
            "INSERT INTO login_attempts (email, window_start, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (email) DO UPDATE SET \
               attempts = CASE WHEN login_attempts.window_start <= $3 THEN 1 ELSE login_attempts.attempts + 1 END, \
               window_start = CASE WHEN login_attempts.window_start <= $3 THEN $2 ELSE login_attempts.window_start END \
             RETURNING attempts",
        )
        .bind(email.trim().to_lowercase())
        .bind(t)
        .bind(t - LOGIN_WINDOW_SECONDS)
        .fetch_one(self.pool())
        .await?;
        Ok(attempts <= MAX_LOGIN_FAILURES)
    }

    /// Starts a session for a user who has just proved who they are. Returns the session token
    /// (for the cookie). Any failures on record for the address are cleared.
    pub async fn start_session(&self, user_id: i64) -> Result<String> {
        let token = new_token()?;
        let t = now();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)")
            .bind(digest(&token))
            .bind(user_id)
            .bind(new_token()?)
            .bind(t)
            .bind(t + SESSION_MAX_SECONDS)
            .execute(&mut *tx)
            .await?;
        clear_sign_in_attempts(&mut tx, user_id).await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
            .bind(t)
            .bind(t - SESSION_IDLE_SECONDS)
            .execute(&mut *tx)
            .await?;
        // Counts whose window has passed (guesses at addresses nobody signs in as) go too.
        sqlx::query("DELETE FROM login_attempts WHERE window_start <= $1")
            .bind(t - LOGIN_WINDOW_SECONDS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The person behind a session token, if the session is live; extends its idle timeout.
    pub async fn session_user(&self, token: &str) -> Result<Option<SignedIn>> {
        let t = now();
        let row = sqlx::query(
            "SELECT s.user_id, s.csrf_token, u.email, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.disabled = 0",
        )
        .bind(digest(token))
        .bind(t)
        .bind(t - SESSION_IDLE_SECONDS)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: i64 = row.try_get("user_id")?;
        // Touch at most once a minute: keeps reads cheap under load.
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $3",
        )
        .bind(t)
        .bind(digest(token))
        .bind(t - 60)
        .execute(self.pool())
        .await?;
        Ok(Some(SignedIn {
            user_id,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            csrf_token: Some(row.try_get("csrf_token")?),
            access: self.access_of(user_id).await?,
        }))
    }

    /// Ends a session.
    pub async fn end_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(digest(token))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Changes a password, ends every other session of the user and, if asked, revokes all
    /// their API tokens. The proof of the old password was a sign-in attempt: its count is
    /// cleared.
    pub async fn change_password(
        &self,
        user_id: i64,
        new_hash: &str,
        keep_session: &str,
        revoke_tokens: bool,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(new_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(digest(keep_session))
            .execute(&mut *tx)
            .await?;
        let revoked = if revoke_tokens {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(t)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        clear_sign_in_attempts(&mut tx, user_id).await?;
        let (email,): (String,) = sqlx::query_as("SELECT email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &email,
            "change-password",
            "user",
            &email,
            None,
            None,
            Some(&serde_json::json!({"tokens_revoked": revoked, "other_sessions_ended": true})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an API token for a user that lasts [`DEFAULT_TOKEN_DAYS`]; shown once, only its
    /// hash is kept.
    pub async fn create_api_token(&self, actor: &str, email: &str, label: &str) -> Result<String> {
        self.create_api_token_for(actor, email, label, DEFAULT_TOKEN_DAYS)
            .await
    }

    /// Creates an API token for a user that lasts `days` days (1 to [`MAX_TOKEN_DAYS`]); the
    /// token is shown once and only its hash is kept.
    pub async fn create_api_token_for(
        &self,
        actor: &str,
        email: &str,
        label: &str,
        days: i64,
    ) -> Result<String> {
        let email = normalise_email(email)?;
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(StoreError::Rejected(format!(
                "a token lasts from 1 to {MAX_TOKEN_DAYS} days, not {days}: make a new one when it ends"
            )));
        }
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_TOKEN_LABEL {
            return Err(StoreError::Rejected(format!(
                "give the token a label of 1 to {MAX_TOKEN_LABEL} characters saying what it is for, e.g. \"monthly energy upload\""
            )));
        }
        let mut tx = self.begin_write().await?;
        let user: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        let (user_id,) = user.ok_or_else(|| {
            StoreError::Rejected(format!(
                "no user `{email}`: add them first with `greenplan user add`"
            ))
        })?;
        let token = new_token()?;
        let t = now();
        let expires_at = t + days * 24 * 60 * 60;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO api_tokens (token_hash, user_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(digest(&token))
            .bind(user_id)
            .bind(label)
            .bind(t)
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "create-token",
            "user",
            &email,
            None,
            None,
            Some(&serde_json::json!({"id": id, "label": label, "expires_at": expires_at})),
        )
        .await?;
        tx.commit().await?;
        Ok(format!("gp_{token}"))
    }

    /// API tokens, newest first: one person's (`Some(user_id)`) or everyone's.
    pub async fn api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiTokenSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, u.email, t.label, t.created_at, t.expires_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE $1 = 0 OR t.user_id = $2 ORDER BY t.created_at DESC, t.id DESC",
        )
        .bind(i64::from(user_id.is_some()))
        .bind(user_id.unwrap_or(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenSummary {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    label: r.try_get("label")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// One person's API tokens, newest first.
    pub async fn api_tokens_of(&self, user_id: i64) -> Result<Vec<ApiTokenSummary>> {
        self.api_tokens(Some(user_id)).await
    }

    /// Revokes token `id`, if it belongs to `owner` (any owner when `None`: the operator).
    /// `false` when there is no such token (or it is another person's); revoking a revoked
    /// token again changes nothing.
    pub async fn revoke_api_token(&self, actor: &str, id: i64, owner: Option<i64>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT t.user_id, u.email, t.label, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id, email, label, revoked_at)) =
            row.filter(|(user_id, ..)| owner.is_none_or(|o| o == *user_id))
        else {
            return Ok(false);
        };
        if revoked_at.is_none() {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3")
                .bind(now())
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut tx,
                actor,
                "revoke-token",
                "user",
                &email,
                None,
                Some(&serde_json::json!({"id": id, "label": label})),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The person behind an API token, if it is live.
    pub async fn token_user(&self, token: &str) -> Result<Option<SignedIn>> {
        let Some(raw) = token.strip_prefix("gp_") else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled = 0",
        )
        .bind(digest(raw))
        .bind(now())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: i64 = row.try_get("id")?;
        Ok(Some(SignedIn {
            user_id,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            csrf_token: None,
            access: self.access_of(user_id).await?,
        }))
    }

    pub(crate) async fn access_of(&self, user_id: i64) -> Result<Access> {
        let rows = sqlx::query(
            "SELECT organisation, role FROM memberships WHERE user_id = $1 ORDER BY organisation",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        let memberships = rows
            .iter()
            .map(|r| {
                let org: String = r.try_get("organisation")?;
                let role: String = r.try_get("role")?;
                Ok(Membership {
                    organisation: OdsCode::parse(&org)
                        .map_err(|e| crate::corrupt("membership", e))?,
                    role: role.parse().map_err(|e| crate::corrupt("membership", e))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Access::new(memberships))
    }

    /// Every user with their roles.
    pub async fn users(&self) -> Result<Vec<UserSummary>> {
        let rows = sqlx::query("SELECT id, email, name, disabled FROM users ORDER BY email")
            .fetch_all(self.pool())
            .await?;
        let mut users = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            users.push(UserSummary {
                id,
                email: r.try_get("email")?,
                name: r.try_get("name")?,
                disabled: r.try_get::<i64, _>("disabled")? != 0,
                memberships: self.access_of(id).await?.memberships,
            });
        }
        Ok(users)
    }
}

async fn known_organisation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    organisation: &OdsCode,
) -> Result<()> {
    let known: Option<(String,)> = sqlx::query_as("SELECT code FROM organisations WHERE code = $1")
        .bind(organisation.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    if known.is_none() {
        return Err(StoreError::Rejected(format!(
            "unknown organisation `{organisation}`: `greenplan` knows the plan's organisations only"
        )));
    }
    Ok(())
}

async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        "create",
        "user",
        email,
        None,
        None,
        Some(&serde_json::json!({"email": email, "name": name})),
    )
    .await?;
    Ok(id)
}

/// The role `user_id` holds in `organisation`, if any.
async fn role_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    organisation: &OdsCode,
) -> Result<Option<Role>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT role FROM memberships WHERE user_id = $1 AND organisation = $2")
            .bind(user_id)
            .bind(organisation.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(r,)| r.parse().map_err(|e| crate::corrupt("membership", e)))
        .transpose()
}

/// The one place a membership is replaced: only as approved, and only if the role is still
/// the one the approval saw (the delete names it, so a change made meanwhile is not undone).
async fn apply_role_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    user_id: i64,
    email: &str,
    change: &RoleChange,
) -> Result<()> {
    let organisation = change.organisation();
    let stale = || {
        StoreError::Rejected(format!(
            "{email}'s role in {organisation} has changed since the page was loaded: reload it and try again"
        ))
    };
    match change.from() {
        Some(from) => {
            let gone = sqlx::query(
                "DELETE FROM memberships WHERE user_id = $1 AND organisation = $2 AND role = $3",
            )
            .bind(user_id)
            .bind(organisation.as_str())
            .bind(from.slug())
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if gone != 1 {
                return Err(stale());
            }
        }
        None => {
            if role_in(tx, user_id, organisation).await?.is_some() {
                return Err(stale());
            }
        }
    }
    if let Some(to) = change.to() {
        sqlx::query("INSERT INTO memberships (user_id, organisation, role) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(organisation.as_str())
            .bind(to.slug())
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM invitations WHERE user_id = $1 AND organisation = $2")
            .bind(user_id)
            .bind(organisation.as_str())
            .execute(&mut **tx)
            .await?;
    }
    let before = change
        .from()
        .map(|r| serde_json::json!({"organisation": organisation, "role": r.slug()}));
    let after = change
        .to()
        .map(|r| serde_json::json!({"organisation": organisation, "role": r.slug()}));
    audit::record(
        tx,
        actor,
        if change.to().is_some() {
            "grant-role"
        } else {
            "revoke-role"
        },
        "user",
        email,
        Some(organisation.as_str()),
        before.as_ref(),
        after.as_ref(),
    )
    .await
}

async fn clear_sign_in_attempts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM login_attempts WHERE email = (SELECT email FROM users WHERE id = $1)")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &h));
        assert!(!verify_password("Correct horse battery staple", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn emails_and_passwords_are_checked() {
        assert_eq!(normalise_email(" Sam@NHS.net ").unwrap(), "sam@nhs.net");
        assert!(normalise_email("sam").is_err());
        assert!(normalise_email("sam@nhs").is_err());
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("a long enough phrase").is_ok());
        assert_ne!(new_token().unwrap(), new_token().unwrap());
    }
}
