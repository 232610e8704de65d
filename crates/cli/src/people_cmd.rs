//! `greenplan user …`, `greenplan token …` and `greenplan audit`.

use crate::output::{Format, Listing};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_store::{Store, check_password_strength, hash_password};
use std::io::Read;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user (or give an existing user a role in another organisation).
    Add {
        email: String,
        /// Organisation (ODS code) the role is in.
        #[arg(long)]
        org: String,
        /// viewer, contributor, org-admin or system-admin.
        #[arg(long)]
        role: String,
        /// Full name as shown in the audit trail and on updates.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (one line), so it never appears in shell history.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users and their roles.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user (printed once; keep it secret).
    Create {
        email: String,
        /// What the token is for, e.g. "monthly energy upload script".
        #[arg(long, default_value = "script")]
        label: String,
        /// Days until the token stops working (1 to 365).
        #[arg(long, default_value_t = greenplan_store::DEFAULT_TOKEN_DAYS)]
        expires_in_days: i64,
    },
    /// List API tokens (never the secrets): everyone's, or one person's.
    List {
        /// Only this person's tokens.
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Revoke an API token by its id (from `greenplan token list`): it stops working at once.
    Revoke { id: i64 },
}

pub async fn user(store: &Store, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            email,
            org,
            role,
            name,
            password_stdin: _,
        } => {
            let role: Role = role.parse()?;
            let org = OdsCode::parse(&org)?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.lines().next().unwrap_or("").to_string();
            if password.is_empty() {
                bail!(
                    "no password on standard input: pipe it in, e.g. `printf '%s' \"$PASSWORD\" | greenplan user add …`"
                );
            }
            check_password_strength(&password)?;
            let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
            let name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
            store
                .add_user(&crate::cli_actor(), &email, &name, &hash, &org, role)
                .await?;
            eprintln!("{email} is now {} of {org}.", role.label().to_lowercase());
            Ok(())
        }
        UserCommand::List { format } => {
            let users = store.users().await?;
            Listing {
                columns: ["email", "name", "roles", "disabled"]
                    .map(String::from)
                    .to_vec(),
                rows: users
                    .iter()
                    .map(|u| {
                        vec![
                            u.email.clone(),
                            u.name.clone(),
                            u.memberships
                                .iter()
                                .map(|m| format!("{} {}", m.role.slug(), m.organisation))
                                .collect::<Vec<_>>()
                                .join("; "),
                            if u.disabled {
                                "yes".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect(),
                json: serde_json::to_value(&users)?,
            }
            .print(format)
        }
    }
}

pub async fn token(store: &Store, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create {
            email,
            label,
            expires_in_days,
        } => {
            let token = store
                .create_api_token_for(&crate::cli_actor(), &email, &label, expires_in_days)
                .await?;
            eprintln!(
                "API token for {email} ({label}), valid for {expires_in_days} days. It is shown once: store it as a secret. Use it as `Authorization: Bearer TOKEN`."
            );
            println!("{token}");
            Ok(())
        }
        TokenCommand::List { email, format } => {
            let owner = match email {
                Some(email) => Some(
                    store
                        .person(&email)
                        .await?
                        .with_context(|| format!("no user `{email}`: see `greenplan user list`"))?
                        .id,
                ),
                None => None,
            };
            let tokens = store.api_tokens(owner).await?;
            let now = chrono::Utc::now().timestamp();
            let day = |at: i64| {
                chrono::DateTime::from_timestamp(at, 0)
                    .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
            };
            Listing {
                columns: ["id", "email", "label", "created", "expires", "state"]
                    .map(String::from)
                    .to_vec(),
                rows: tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.email.clone(),
                            t.label.clone(),
                            day(t.created_at),
                            day(t.expires_at),
                            t.state(now).to_string(),
                        ]
                    })
                    .collect(),
                json: serde_json::to_value(&tokens)?,
            }
            .print(format)
        }
        TokenCommand::Revoke { id } => {
            if !store
                .revoke_api_token(&crate::cli_actor(), id, None)
                .await?
            {
                bail!("there is no API token {id}: see `greenplan token list`");
            }
            eprintln!("API token {id} is revoked.");
            Ok(())
        }
    }
}

pub async fn audit(
    store: &Store,
    entity: Option<String>,
    limit: i64,
    format: Format,
) -> Result<()> {
    let entity = match entity.as_deref() {
        Some(e) => Some(
            e.split_once(':')
                .context("name the record as KIND:ID, e.g. action:MED1 or user:sam@nhs.net")?,
        ),
        None => None,
    };
    let entries = store.audit_trail(entity, limit).await?;
    Listing {
        columns: [
            "at",
            "actor",
            "action",
            "entity",
            "organisation",
            "before",
            "after",
        ]
        .map(String::from)
        .to_vec(),
        rows: entries
            .iter()
            .map(|e| {
                vec![
                    chrono::DateTime::from_timestamp(e.at, 0)
                        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                    e.actor.clone(),
                    e.action.clone(),
                    format!("{}:{}", e.entity_kind, e.entity_id),
                    e.organisation.clone().unwrap_or_default(),
                    e.before.clone().unwrap_or_default(),
                    e.after.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        json: serde_json::to_value(&entries)?,
    }
    .print(format)
}
