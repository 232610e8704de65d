//! `greenplan reminders`: send today's digests (for cron or a systemd timer), preview them,
//! set a person's digest frequency and the deployment's reminder rules, and read the log of
//! what was sent. The rules are `greenplan_core::reminders`; sending is
//! `greenplan_service::reminders`.

use crate::output::{Format, Listing};
use anyhow::{Result, bail};
use clap::Subcommand;
use greenplan_core::reminders::{Frequency, Meetings};
use greenplan_service::reminders::{self, Gathered, MailConfig};
use greenplan_store::Store;
use serde_json::json;

/// Where links point when no public address is set.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

#[derive(Subcommand)]
pub enum RemindersCommand {
    /// Send today's digests through the SMTP server in GREENPLAN_SMTP_URL, from
    /// GREENPLAN_MAIL_FROM, with links to GREENPLAN_PUBLIC_URL. One digest per person with
    /// something new; running again sends nothing until something changes. Exits non-zero if
    /// any digest was not accepted.
    Send,
    /// What `send` would send now, without sending or recording anything.
    Preview {
        /// Only the digest of this person.
        #[arg(long)]
        to: Option<String>,
        /// Print only who would get what, not the messages.
        #[arg(long)]
        list: bool,
    },
    /// Set how often a person gets digests: daily, weekly or off.
    Digest {
        email: String,
        #[arg(value_parser = parse_frequency)]
        frequency: Frequency,
    },
    /// Show the reminder rules, or change them.
    Settings {
        /// An action with no update for this many days is stale (default 90).
        #[arg(long)]
        stale_days: Option<i64>,
        /// Returns are announced this many days before they are due (default 14).
        #[arg(long)]
        warning_days: Option<i64>,
        /// An open task is sent again after this many days (default 7).
        #[arg(long)]
        repeat_days: Option<i64>,
        /// Delivery Group meeting dates (2026-03-12, 2026-06-11, …), or `quarterly` for the
        /// last month of each quarter.
        #[arg(long)]
        meetings: Option<String>,
    },
    /// The digests sent, newest first.
    Log {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn parse_frequency(raw: &str) -> Result<Frequency, String> {
    raw.parse()
}

fn base_url() -> String {
    std::env::var(reminders::BASE_URL_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Who holds the lease while this process sends: host and process, so a log tells them apart.
pub fn holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

pub async fn run(store: &Store, command: RemindersCommand) -> Result<()> {
    match command {
        RemindersCommand::Send => {
            let config = MailConfig::from_env(DEFAULT_BASE_URL)?;
            let report = reminders::send(store, &config, today(), &holder()).await?;
            if report.another_sender {
                println!("Another greenplan process is sending reminders now: nothing sent.");
                return Ok(());
            }
            for d in &report.sent {
                println!(
                    "sent to {}: {} ({} task{})",
                    d.to,
                    d.subject,
                    d.tasks.len(),
                    if d.tasks.len() == 1 { "" } else { "s" }
                );
            }
            if report.sent.is_empty() && report.failed.is_empty() {
                println!("Nothing new to send.");
            }
            for (to, why) in &report.failed {
                eprintln!("not sent to {to}: {why}");
            }
            if !report.failed.is_empty() {
                bail!(
                    "{} digest{} not sent; {} sent. Run `greenplan reminders send` again once the mail server accepts mail: only what was not sent goes",
                    report.failed.len(),
                    if report.failed.len() == 1 {
                        " was"
                    } else {
                        "s were"
                    },
                    report.sent.len()
                );
            }
            Ok(())
        }
        RemindersCommand::Preview { to, list } => {
            let gathered = Gathered::read(store, today()).await?;
            let digests = reminders::digests(store, &gathered, &base_url(), to.as_deref()).await?;
            if digests.is_empty() {
                println!("Nothing new to send.");
            }
            for d in &digests {
                if list {
                    let keys: Vec<&str> = d.tasks.iter().map(|t| t.key.as_str()).collect();
                    println!("{}: {} [{}]", d.to, d.subject, keys.join(", "));
                } else {
                    println!("To: {}\nSubject: {}\n\n{}\n", d.to, d.subject, d.text);
                }
            }
            Ok(())
        }
        RemindersCommand::Digest { email, frequency } => {
            store
                .set_reminder_frequency(&crate::cli_actor(), &email, frequency)
                .await?;
            println!("{email}: digests {}", frequency.label().to_lowercase());
            Ok(())
        }
        RemindersCommand::Settings {
            stale_days,
            warning_days,
            repeat_days,
            meetings,
        } => {
            let mut settings = store.reminder_settings().await?;
            let changing = stale_days.is_some()
                || warning_days.is_some()
                || repeat_days.is_some()
                || meetings.is_some();
            if let Some(d) = stale_days {
                settings.stale_after_days = d;
            }
            if let Some(d) = warning_days {
                settings.return_warning_days = d;
            }
            if let Some(d) = repeat_days {
                settings.repeat_after_days = d;
            }
            if let Some(m) = meetings {
                settings.meetings =
                    Meetings::parse(&m).map_err(|e| anyhow::anyhow!("--meetings: {e}"))?;
            }
            if changing {
                store
                    .set_reminder_settings(&crate::cli_actor(), &settings)
                    .await?;
            }
            println!(
                "stale after {} days; returns announced {} days before due; open tasks sent again after {} days; Delivery Group: {}",
                settings.stale_after_days,
                settings.return_warning_days,
                settings.repeat_after_days,
                settings.meetings.code()
            );
            Ok(())
        }
        RemindersCommand::Log { limit, format } => {
            let sent = store.digests_sent(limit).await?;
            Listing {
                columns: ["Sent", "To", "Subject", "Tasks"]
                    .map(String::from)
                    .to_vec(),
                rows: sent
                    .iter()
                    .map(|d| {
                        vec![
                            chrono::DateTime::from_timestamp(d.sent_at, 0)
                                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_default(),
                            d.email.clone(),
                            d.subject.clone(),
                            d.task_keys.join(", "),
                        ]
                    })
                    .collect(),
                json: json!(sent),
            }
            .print(format)
        }
    }
}
