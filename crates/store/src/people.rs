//! People: users with argon2id passwords, their roles per organisation, sessions kept in the
//! database (so several server processes share them), API tokens, and login throttling.
//!
//! Secrets are never stored: session and API tokens are random 256-bit values given to the
//! client once; the database keeps their SHA-256. Password hashing is deliberately slow, so
//! callers run [`hash_password`] and [`verify_password`] off the async threads.

use crate::{Result, Store, StoreError, audit, now};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use greenplan_core::access::{Access, Membership, Role};
use greenplan_core::ods::OdsCode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// How long a session lasts without use, and at most.
pub const SESSION_IDLE_SECONDS: i64 = 8 * 60 * 60;
pub const SESSION_MAX_SECONDS: i64 = 7 * 24 * 60 * 60;
/// Failed sign-ins allowed per address in the window before further tries are refused.
pub const MAX_LOGIN_FAILURES: i64 = 5;
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
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

    /// Adds a user with a role in one organisation (or adds the role if the user exists).
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
        let known: Option<(String,)> =
            sqlx::query_as("SELECT code FROM organisations WHERE code = $1")
                .bind(organisation.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(StoreError::Rejected(format!(
                "unknown organisation `{organisation}`: `greenplan` knows the plan's organisations only"
            )));
        }
        let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some((id,)) => id,
            None => {
                let (id,): (i64,) = sqlx::query_as("INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                    .bind(&email)
                    .bind(name)
                    .bind(password_hash)
                    .bind(now())
                    .fetch_one(&mut *tx)
                    .await?;
                audit::record(
                    &mut tx,
                    actor,
                    "create",
                    "user",
                    &email,
                    None,
                    None,
                    Some(&serde_json::json!({"email": email, "name": name})),
                )
                .await?;
                id
            }
        };
        let before: Option<(String,)> =
            sqlx::query_as("SELECT role FROM memberships WHERE user_id = $1 AND organisation = $2")
                .bind(id)
                .bind(organisation.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND organisation = $2")
            .bind(id)
            .bind(organisation.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO memberships (user_id, organisation, role) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(organisation.as_str())
            .bind(role.slug())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "grant-role",
            "user",
            &email,
            Some(organisation.as_str()),
            before.map(|(r,)| serde_json::json!({"role": r})).as_ref(),
            Some(&serde_json::json!({"organisation": organisation, "role": role.slug()})),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
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

    /// True while `email` has had too many failed sign-ins recently.
    pub async fn is_throttled(&self, email: &str) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM login_failures WHERE email = $1 AND failed_at > $2",
        )
        .bind(email.trim().to_lowercase())
        .bind(now() - LOGIN_WINDOW_SECONDS)
        .fetch_one(self.pool())
        .await?;
        Ok(n >= MAX_LOGIN_FAILURES)
    }

    /// Records a failed sign-in.
    pub async fn record_login_failure(&self, email: &str) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (email, failed_at) VALUES ($1, $2)")
            .bind(email.trim().to_lowercase())
            .bind(now())
            .execute(self.pool())
            .await?;
        Ok(())
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
        sqlx::query(
            "DELETE FROM login_failures WHERE email = (SELECT email FROM users WHERE id = $1)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
            .bind(t)
            .bind(t - SESSION_IDLE_SECONDS)
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

    /// Changes a password and ends every other session of the user.
    pub async fn change_password(
        &self,
        user_id: i64,
        new_hash: &str,
        keep_session: &str,
    ) -> Result<()> {
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
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an API token for a user; the token is shown once and only its hash is kept.
    pub async fn create_api_token(&self, actor: &str, email: &str, label: &str) -> Result<String> {
        let email = normalise_email(email)?;
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
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4)")
            .bind(digest(&token))
            .bind(user_id)
            .bind(label)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "create-token",
            "user",
            &email,
            None,
            None,
            Some(&serde_json::json!({"label": label})),
        )
        .await?;
        tx.commit().await?;
        Ok(format!("gp_{token}"))
    }

    /// The person behind an API token, if it is live.
    pub async fn token_user(&self, token: &str) -> Result<Option<SignedIn>> {
        let Some(raw) = token.strip_prefix("gp_") else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(digest(raw))
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

    async fn access_of(&self, user_id: i64) -> Result<Access> {
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
