//! Reminders as stored: each person's digest frequency, the deployment's reminder rules, the
//! digests sent and the tasks each carried, and the lease that lets one sender run at a time.
//!
//! A digest is recorded only after the SMTP server accepted it ([`Store::record_digest`],
//! one transaction with its audit entry): a failed send leaves no trace that would stop the
//! next run from trying again.

use crate::people::normalise_email;
use crate::{Result, Store, StoreError, audit, corrupt, now};
use chrono::NaiveDate;
use greenplan_core::access::Access;
use greenplan_core::reminders::{Frequency, Meetings, SentBefore, Settings, Task, Tracking};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

/// A person who may be sent digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub access: Access,
    pub frequency: Frequency,
    /// The UTC day of the last digest sent to them.
    pub last_digest: Option<NaiveDate>,
}

/// One digest as the log lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestSent {
    pub id: i64,
    pub email: String,
    /// Unix seconds.
    pub sent_at: i64,
    pub subject: String,
    pub tasks: i64,
    /// The keys of the tasks it carried, in order.
    pub task_keys: Vec<String>,
}

/// Longest a lease is held for before another sender may take it over (a sender that
/// crashed must not block the next day's run).
pub const LEASE_SECONDS: i64 = 15 * 60;
const LEASE_NAME: &str = "reminders";

impl Store {
    /// How often this person wants digests (daily unless they chose otherwise).
    pub async fn reminder_frequency(&self, user_id: i64) -> Result<Frequency> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT frequency FROM reminder_preferences WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?;
        row.map_or(Ok(Frequency::default()), |(f,)| {
            f.parse().map_err(|e| corrupt("reminder preference", e))
        })
    }

    /// Sets how often the person `email` wants digests. `actor` is who made the change: the
    /// person on their account page, or the operator on the command line.
    pub async fn set_reminder_frequency(
        &self,
        actor: &str,
        email: &str,
        frequency: Frequency,
    ) -> Result<()> {
        let email = normalise_email(email)?;
        let mut tx = self.begin_write().await?;
        let user: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        let (user_id,) =
            user.ok_or_else(|| StoreError::Rejected(format!("there is no user {email}")))?;
        let before: Option<(String,)> =
            sqlx::query_as("SELECT frequency FROM reminder_preferences WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let before = before.map_or_else(|| Frequency::default().slug().to_string(), |(f,)| f);
        sqlx::query(
            "INSERT INTO reminder_preferences (user_id, frequency, changed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET frequency = excluded.frequency, changed_at = excluded.changed_at",
        )
        .bind(user_id)
        .bind(frequency.slug())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            "reminder-frequency",
            "person",
            &email,
            None,
            Some(&serde_json::json!({ "frequency": before })),
            Some(&serde_json::json!({ "frequency": frequency.slug() })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The deployment's reminder rules (the defaults until a system admin sets them).
    pub async fn reminder_settings(&self) -> Result<Settings> {
        let row = sqlx::query(
            "SELECT stale_after_days, return_warning_days, repeat_after_days, meetings FROM reminder_settings WHERE id = 1",
        )
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(Settings::default());
        };
        let meetings: String = r.try_get("meetings")?;
        Ok(Settings {
            stale_after_days: r.try_get("stale_after_days")?,
            return_warning_days: r.try_get("return_warning_days")?,
            repeat_after_days: r.try_get("repeat_after_days")?,
            meetings: Meetings::parse(&meetings).map_err(|e| corrupt("reminder settings", e))?,
        })
    }

    /// Sets the reminder rules. Each interval must be a whole number of days from 1 to 366.
    pub async fn set_reminder_settings(&self, actor: &str, settings: &Settings) -> Result<()> {
        for (name, days) in [
            ("days before an action is stale", settings.stale_after_days),
            (
                "days of warning before a return is due",
                settings.return_warning_days,
            ),
            (
                "days before a task is sent again",
                settings.repeat_after_days,
            ),
        ] {
            if !(1..=366).contains(&days) {
                return Err(StoreError::Rejected(format!(
                    "the {name} must be from 1 to 366, not {days}"
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        let before = self.reminder_settings().await?;
        sqlx::query(
            "INSERT INTO reminder_settings (id, stale_after_days, return_warning_days, repeat_after_days, meetings, changed_by, changed_at) \
             VALUES (1, $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
             stale_after_days = excluded.stale_after_days, return_warning_days = excluded.return_warning_days, \
             repeat_after_days = excluded.repeat_after_days, meetings = excluded.meetings, \
             changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        )
        .bind(settings.stale_after_days)
        .bind(settings.return_warning_days)
        .bind(settings.repeat_after_days)
        .bind(settings.meetings.code())
        .bind(actor)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let json = |s: &Settings| {
            serde_json::json!({
                "stale_after_days": s.stale_after_days,
                "return_warning_days": s.return_warning_days,
                "repeat_after_days": s.repeat_after_days,
                "meetings": s.meetings.code(),
            })
        };
        audit::record(
            &mut tx,
            actor,
            "reminder-settings",
            "reminder-settings",
            "1",
            None,
            Some(&json(&before)),
            Some(&json(settings)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Everyone who can sign in and belongs to an organisation, with their choice of digest.
    pub async fn reminder_recipients(&self) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name, p.frequency, \
                    (SELECT MAX(d.sent_at) FROM reminder_digests d WHERE d.user_id = u.id) AS last_sent \
             FROM users u LEFT JOIN reminder_preferences p ON p.user_id = u.id \
             WHERE u.disabled = 0 ORDER BY u.email",
        )
        .fetch_all(self.pool())
        .await?;
        let mut people = Vec::new();
        for r in rows {
            let user_id: i64 = r.try_get("id")?;
            let frequency: Option<String> = r.try_get("frequency")?;
            let last_sent: Option<i64> = r.try_get("last_sent")?;
            let access = self.access_of(user_id).await?;
            if access.memberships.is_empty() {
                continue;
            }
            people.push(Recipient {
                user_id,
                email: r.try_get("email")?,
                name: r.try_get("name")?,
                access,
                frequency: frequency.map_or(Ok(Frequency::default()), |f| {
                    f.parse().map_err(|e| corrupt("reminder preference", e))
                })?,
                last_digest: last_sent.map(crate::day_of),
            });
        }
        Ok(people)
    }

    /// The tasks sent to a person before, by key, with what they said and when.
    pub async fn reminders_sent_to(&self, user_id: i64) -> Result<HashMap<String, SentBefore>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT task_key, fingerprint, sent_on FROM reminders_sent WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(key, fingerprint, sent_on)| {
                let sent_on = sent_on
                    .parse()
                    .map_err(|e| corrupt("reminder sent", format!("{sent_on}: {e}")))?;
                Ok((
                    key,
                    SentBefore {
                        fingerprint,
                        sent_on,
                    },
                ))
            })
            .collect()
    }

    /// Records that a digest carrying `tasks` was accepted by the mail server for `user_id`
    /// on `today`: the digest, each task as sent, and the audit entry, in one transaction.
    pub async fn record_digest(
        &self,
        actor: &str,
        user_id: i64,
        email: &str,
        subject: &str,
        tasks: &[&Task],
        today: NaiveDate,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let keys: Vec<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
        let (digest,): (i64,) = sqlx::query_as(
            "INSERT INTO reminder_digests (user_id, email, sent_at, subject, tasks, task_keys) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(email)
        .bind(now())
        .bind(subject)
        .bind(tasks.len() as i64)
        .bind(serde_json::to_string(&keys).map_err(|e| corrupt("digest", e))?)
        .fetch_one(&mut *tx)
        .await?;
        for t in tasks {
            sqlx::query(
                "INSERT INTO reminders_sent (user_id, task_key, fingerprint, sent_on, digest_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, task_key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 sent_on = excluded.sent_on, digest_id = excluded.digest_id",
            )
            .bind(user_id)
            .bind(&t.key)
            .bind(&t.fingerprint)
            .bind(today.to_string())
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            "digest-sent",
            "person",
            email,
            None,
            None,
            Some(&serde_json::json!({ "digest": digest, "subject": subject, "tasks": keys })),
        )
        .await?;
        tx.commit().await?;
        Ok(digest)
    }

    /// The latest digests sent, newest first.
    pub async fn digests_sent(&self, limit: i64) -> Result<Vec<DigestSent>> {
        let rows = sqlx::query(
            "SELECT id, email, sent_at, subject, tasks, task_keys FROM reminder_digests ORDER BY sent_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let keys: String = r.try_get("task_keys")?;
                Ok(DigestSent {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    sent_at: r.try_get("sent_at")?,
                    subject: r.try_get("subject")?,
                    tasks: r.try_get("tasks")?,
                    task_keys: serde_json::from_str(&keys).map_err(|e| corrupt("digest", e))?,
                })
            })
            .collect()
    }

    /// Takes the sending lease for `holder`, if no other holder has it (or theirs expired).
    /// One atomic statement each way, so two senders racing on one database cannot both win.
    pub async fn take_reminder_lease(&self, holder: &str) -> Result<bool> {
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO reminder_lease (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE reminder_lease.expires_at <= $4 OR reminder_lease.holder = excluded.holder",
        )
        .bind(LEASE_NAME)
        .bind(holder)
        .bind(at + LEASE_SECONDS)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let (now_holder,): (String,) =
            sqlx::query_as("SELECT holder FROM reminder_lease WHERE name = $1")
                .bind(LEASE_NAME)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(now_holder == holder)
    }

    /// Gives the lease back, if `holder` has it.
    pub async fn release_reminder_lease(&self, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM reminder_lease WHERE name = $1 AND holder = $2")
            .bind(LEASE_NAME)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// What has been recorded on each action: the day of its latest update and its milestones
    /// marked done.
    pub async fn action_tracking(&self) -> Result<HashMap<String, Tracking>> {
        let mut tracking: HashMap<String, Tracking> = HashMap::new();
        let updates: Vec<(String, i64)> = sqlx::query_as(
            "SELECT action_id, MAX(posted_at) FROM action_updates GROUP BY action_id",
        )
        .fetch_all(self.pool())
        .await?;
        for (action, at) in updates {
            tracking.entry(action).or_default().last_update = Some(crate::day_of(at));
        }
        let done: Vec<(String, i64)> =
            sqlx::query_as("SELECT action_id, milestone FROM milestones_done")
                .fetch_all(self.pool())
                .await?;
        for (action, milestone) in done {
            let index = usize::try_from(milestone).map_err(|e| corrupt("milestone done", e))?;
            tracking
                .entry(action)
                .or_default()
                .milestones_done
                .push(index);
        }
        Ok(tracking)
    }

    /// The UTC day the plan was first loaded.
    pub async fn plan_loaded_on(&self) -> Result<Option<NaiveDate>> {
        let (at,): (Option<i64>,) = sqlx::query_as("SELECT MIN(loaded_at) FROM plans")
            .fetch_one(self.pool())
            .await?;
        Ok(at.map(crate::day_of))
    }
}
