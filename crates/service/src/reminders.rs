//! Reminder digests: works out each person's tasks from what is stored (the rules are
//! `greenplan_core::reminders`), writes one digest per person with what is new for them, and
//! sends it through the configured SMTP server.
//!
//! A digest is recorded as sent only after the server accepted it; a refusal is retried with
//! backoff and reported, and leaves nothing recorded, so the next run tries again. Only one
//! sender runs at a time on a database (a lease in the database), so two servers sharing one
//! PostgreSQL never send the same digest twice.

use askama::Template;
use chrono::NaiveDate;
use greenplan_core::access::{Access, Role};
use greenplan_core::ods::OdsCode;
use greenplan_core::plan::Plan;
use greenplan_core::reminders::{
    PeriodReturns, Situation, Task, TaskKind, WaitingAssessment, due_to_send, long_date, tasks_for,
};
use greenplan_core::sia::SiaStatus;
use greenplan_store::{Recipient, Store, StoreError, day_of};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Who a digest is recorded as sent by in the audit trail.
pub const SENDER: &str = "greenplan reminders";

/// Why reminders could not be worked out or sent.
#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database holds no plan: run `greenplan init`")]
    NoPlan,
    #[error("{0}")]
    Config(String),
    #[error("the digest could not be written: {0}")]
    Render(#[from] askama::Error),
}

/// Where mail goes, and from whom.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (STARTTLS when the server offers it is not required),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS).
    pub smtp_url: String,
    pub from: Mailbox,
    /// The site's public address, for links: `https://greenplan.example.nhs.uk`.
    pub base_url: String,
    /// Attempts per digest before it is reported as failed.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles for each one after.
    pub backoff: Duration,
}

/// The environment variables that configure mail.
pub const SMTP_URL_VAR: &str = "GREENPLAN_SMTP_URL";
pub const MAIL_FROM_VAR: &str = "GREENPLAN_MAIL_FROM";
pub const BASE_URL_VAR: &str = "GREENPLAN_PUBLIC_URL";
/// Attempts per digest (default 4), and the first wait between them in seconds (default 2;
/// it doubles each time).
pub const ATTEMPTS_VAR: &str = "GREENPLAN_SMTP_ATTEMPTS";
pub const RETRY_SECONDS_VAR: &str = "GREENPLAN_SMTP_RETRY_SECONDS";

impl MailConfig {
    /// Checks the settings: an SMTP URL lettre can read, a sender address, an absolute
    /// `http(s)` base URL.
    pub fn new(smtp_url: &str, from: &str, base_url: &str) -> Result<Self, ReminderError> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url).map_err(|e| {
            ReminderError::Config(format!(
                "{SMTP_URL_VAR} `{}` is not an SMTP server address ({e}): write smtp://host:port, smtp://host:587?tls=required or smtps://user:password@host:465",
                redact(smtp_url)
            ))
        })?;
        let from: Mailbox = from.parse().map_err(|e| {
            ReminderError::Config(format!(
                "{MAIL_FROM_VAR} `{from}` is not an e-mail address ({e}): write greenplan@example.nhs.uk or \"Green Plan <greenplan@example.nhs.uk>\""
            ))
        })?;
        let base_url = base_url.trim_end_matches('/').to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ReminderError::Config(format!(
                "{BASE_URL_VAR} `{base_url}` must be the site's public address, starting https:// (links in e-mails must be absolute)"
            )));
        }
        Ok(Self {
            smtp_url: smtp_url.to_string(),
            from,
            base_url,
            attempts: 4,
            backoff: Duration::from_secs(2),
        })
    }

    /// From [`SMTP_URL_VAR`], [`MAIL_FROM_VAR`] and [`BASE_URL_VAR`] (the last defaults to
    /// `fallback_base`, the address the server itself listens on).
    pub fn from_env(fallback_base: &str) -> Result<Self, ReminderError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let url = var(SMTP_URL_VAR).ok_or_else(|| {
            ReminderError::Config(format!(
                "set {SMTP_URL_VAR} to the SMTP server that sends greenplan's mail (smtp://127.0.0.1:25, smtps://user:password@host:465)"
            ))
        })?;
        let from = var(MAIL_FROM_VAR).ok_or_else(|| {
            ReminderError::Config(format!(
                "set {MAIL_FROM_VAR} to the address greenplan's mail comes from (greenplan@example.nhs.uk)"
            ))
        })?;
        let base = var(BASE_URL_VAR).unwrap_or_else(|| fallback_base.to_string());
        let mut config = Self::new(&url, &from, &base)?;
        if let Some(raw) = var(ATTEMPTS_VAR) {
            config.attempts = raw
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| {
                    ReminderError::Config(format!(
                        "{ATTEMPTS_VAR} `{raw}` must be a whole number from 1 to 20"
                    ))
                })?;
        }
        if let Some(raw) = var(RETRY_SECONDS_VAR) {
            let seconds: u64 = raw.trim().parse().ok().filter(|n| *n <= 600).ok_or_else(|| {
                ReminderError::Config(format!("{RETRY_SECONDS_VAR} `{raw}` must be a whole number of seconds from 0 to 600"))
            })?;
            config.backoff = Duration::from_secs(seconds);
        }
        Ok(config)
    }
}

/// An SMTP URL with its password hidden, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:…{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Everything stored that the rules read, gathered once per run.
pub struct Gathered {
    pub plan: Plan,
    pub today: NaiveDate,
    tracking: std::collections::HashMap<String, greenplan_core::reminders::Tracking>,
    tracked_since: NaiveDate,
    periods: Vec<PeriodReturns>,
    archived: Vec<OdsCode>,
    waiting: Vec<WaitingAssessment>,
    pub settings: greenplan_core::reminders::Settings,
}

impl Gathered {
    /// Reads the plan, updates, milestones, reporting periods, returns and assessments.
    pub async fn read(store: &Store, today: NaiveDate) -> Result<Self, ReminderError> {
        let plan = store.load_plan().await?.ok_or(ReminderError::NoPlan)?;
        let mut periods = Vec::new();
        for period in store.reporting_periods().await? {
            let submissions = store
                .returns_for(period.quarter)
                .await?
                .iter()
                .map(|r| r.submission())
                .collect();
            periods.push(PeriodReturns {
                period,
                submissions,
            });
        }
        let archived = store
            .archived_organisations()
            .await?
            .iter()
            .filter_map(|c| OdsCode::parse(c).ok())
            .collect();
        let waiting = store
            .sias()
            .await?
            .into_iter()
            .filter(|a| a.status == SiaStatus::Submitted)
            .map(|a| WaitingAssessment {
                id: a.id,
                title: a.title,
                organisation: a.organisation,
                submitted_on: day_of(a.submitted_at.unwrap_or(a.created_at)),
            })
            .collect();
        Ok(Self {
            today,
            tracking: store.action_tracking().await?,
            tracked_since: store.plan_loaded_on().await?.unwrap_or(today),
            periods,
            archived,
            waiting,
            settings: store.reminder_settings().await?,
            plan,
        })
    }

    fn situation(&self) -> Situation<'_> {
        Situation {
            today: self.today,
            plan: &self.plan,
            tracking: &self.tracking,
            tracked_since: self.tracked_since,
            periods: &self.periods,
            archived: &self.archived,
            waiting_assessments: &self.waiting,
            settings: &self.settings,
        }
    }

    /// Everything `access` should do now (the "My tasks" page).
    pub fn tasks_for(&self, access: &Access) -> Vec<Task> {
        tasks_for(access, &self.situation())
    }

    /// What the dates say of `action`, beside the status its lead gave.
    pub fn derived_status(
        &self,
        action: &greenplan_core::plan::Action,
    ) -> Option<greenplan_core::reminders::DerivedStatus> {
        let none = greenplan_core::reminders::Tracking::default();
        greenplan_core::reminders::derived_status(
            action,
            self.tracking.get(&action.id).unwrap_or(&none),
            self.tracked_since,
            self.today,
            &self.settings,
        )
    }
}

/// One digest, written and ready to send.
#[derive(Debug, Clone)]
pub struct Digest {
    pub user_id: i64,
    pub to: String,
    pub name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The tasks it carries (new, changed or due again).
    pub tasks: Vec<Task>,
    /// Open tasks sent before and not due again.
    pub others: usize,
}

struct Group {
    heading: &'static str,
    tasks: Vec<Linked>,
}

struct Linked {
    title: String,
    detail: String,
    link: String,
}

/// What both parts of a digest say.
struct DigestData<'a> {
    subject: &'a str,
    name: &'a str,
    plan_title: &'a str,
    system: &'a str,
    today: String,
    new_tasks: &'a [Task],
    groups: &'a [Group],
    others: usize,
    my_tasks: String,
    account: String,
    why: &'a str,
}

#[derive(Template)]
#[template(path = "reminders/digest.txt")]
struct TextDigest<'a> {
    d: &'a DigestData<'a>,
}

/// The HTML part: the same words, escaped by the template.
#[derive(Template)]
#[template(path = "reminders/digest.html")]
struct HtmlDigest<'a> {
    d: &'a DigestData<'a>,
}

/// Why this person hears from greenplan: their roles, in words.
fn why(access: &Access, plan: &Plan) -> String {
    let roles: Vec<String> = access
        .memberships
        .iter()
        .map(|m| {
            let name = plan
                .organisation(&m.organisation)
                .map_or_else(|| m.organisation.to_string(), |o| o.name.clone());
            let role = match m.role {
                Role::Viewer => "a viewer",
                Role::Contributor => "a contributor",
                Role::OrganisationAdmin => "an organisation admin",
                Role::SystemAdmin => "a system admin",
            };
            format!("{role} of {name}")
        })
        .collect();
    roles.join(" and ")
}

/// The digests a run would send on `gathered.today`: one per person with something new,
/// whose frequency allows one today. `only` limits it to one address.
pub async fn digests(
    store: &Store,
    gathered: &Gathered,
    base_url: &str,
    only: Option<&str>,
) -> Result<Vec<Digest>, ReminderError> {
    let base_url = base_url.trim_end_matches('/');
    let only = only.map(|e| e.trim().to_lowercase());
    let mut out = Vec::new();
    for person in store.reminder_recipients().await? {
        if only.as_ref().is_some_and(|o| o != &person.email) {
            continue;
        }
        if let Some(d) = digest_for(store, gathered, &person, base_url).await? {
            out.push(d);
        }
    }
    Ok(out)
}

async fn digest_for(
    store: &Store,
    g: &Gathered,
    person: &Recipient,
    base_url: &str,
) -> Result<Option<Digest>, ReminderError> {
    if !person.frequency.allows(person.last_digest, g.today) {
        return Ok(None);
    }
    let all = g.tasks_for(&person.access);
    let sent = store.reminders_sent_to(person.user_id).await?;
    let new: Vec<Task> = due_to_send(&all, &sent, g.today, &g.settings)
        .into_iter()
        .cloned()
        .collect();
    if new.is_empty() {
        return Ok(None);
    }
    let mut groups: Vec<Group> = Vec::new();
    for t in &new {
        let linked = Linked {
            title: t.title.clone(),
            detail: t.detail.clone(),
            link: format!("{base_url}{}", t.path),
        };
        match groups.last_mut() {
            Some(g) if g.heading == t.kind.heading() => g.tasks.push(linked),
            _ => groups.push(Group {
                heading: t.kind.heading(),
                tasks: vec![linked],
            }),
        }
    }
    let subject = subject_of(&new, &g.plan);
    let why = why(&person.access, &g.plan);
    let today = long_date(g.today);
    let others = all.len() - new.len();
    let data = DigestData {
        subject: &subject,
        name: &person.name,
        plan_title: &g.plan.info.title,
        system: &g.plan.info.system,
        today,
        new_tasks: &new,
        groups: &groups,
        others,
        my_tasks: format!("{base_url}/my/tasks"),
        account: format!("{base_url}/account"),
        why: &why,
    };
    let text = TextDigest { d: &data }.render()?;
    let html = HtmlDigest { d: &data }.render()?;
    Ok(Some(Digest {
        user_id: person.user_id,
        to: person.email.clone(),
        name: person.name.clone(),
        subject,
        text,
        html,
        tasks: new,
        others,
    }))
}

/// "Green Plan: 2 actions overdue and 3 other tasks".
fn subject_of(tasks: &[Task], plan: &Plan) -> String {
    let overdue = tasks
        .iter()
        .filter(|t| t.kind == TaskKind::ActionOverdue)
        .count();
    let late = tasks
        .iter()
        .filter(|t| t.kind == TaskKind::ReturnLate)
        .count();
    let mut parts = Vec::new();
    if overdue > 0 {
        parts.push(plural(overdue, "action overdue", "actions overdue"));
    }
    if late > 0 {
        parts.push(plural(late, "return late", "returns late"));
    }
    let rest = tasks.len() - overdue - late;
    if rest > 0 {
        parts.push(if parts.is_empty() {
            plural(rest, "task", "tasks")
        } else {
            plural(rest, "other task", "other tasks")
        });
    }
    format!("{}: {}", plan.info.system, parts.join(" and "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct SendReport {
    /// Digests the server accepted (and that are recorded as sent).
    pub sent: Vec<Digest>,
    /// Digests the server did not accept after every attempt: the address and why.
    pub failed: Vec<(String, String)>,
    /// Another sender held the lease: this run sent nothing.
    pub another_sender: bool,
}

/// Sends today's digests: takes the lease, sends each digest (retrying with backoff), and
/// records each one the server accepted.
pub async fn send(
    store: &Store,
    config: &MailConfig,
    today: NaiveDate,
    holder: &str,
) -> Result<SendReport, ReminderError> {
    if !store.take_reminder_lease(holder).await? {
        return Ok(SendReport {
            another_sender: true,
            ..SendReport::default()
        });
    }
    let result = send_holding_lease(store, config, today).await;
    // Given back whatever happened, so the next run need not wait for it to expire.
    store.release_reminder_lease(holder).await?;
    result
}

async fn send_holding_lease(
    store: &Store,
    config: &MailConfig,
    today: NaiveDate,
) -> Result<SendReport, ReminderError> {
    let gathered = Gathered::read(store, today).await?;
    let planned = digests(store, &gathered, &config.base_url, None).await?;
    let mut report = SendReport::default();
    if planned.is_empty() {
        return Ok(report);
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
        .map_err(|e| ReminderError::Config(format!("{SMTP_URL_VAR}: {e}")))?
        .timeout(Some(Duration::from_secs(60)))
        .build();
    for digest in planned {
        match deliver(&transport, config, &digest).await {
            Ok(()) => {
                let tasks: Vec<&Task> = digest.tasks.iter().collect();
                store
                    .record_digest(
                        SENDER,
                        digest.user_id,
                        &digest.to,
                        &digest.subject,
                        &tasks,
                        today,
                    )
                    .await?;
                report.sent.push(digest);
            }
            Err(why) => {
                tracing::warn!(to = %digest.to, %why, "a reminder digest was not accepted");
                report.failed.push((digest.to.clone(), why));
            }
        }
    }
    Ok(report)
}

/// Sends one digest, trying `config.attempts` times with doubling waits between.
async fn deliver(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    config: &MailConfig,
    digest: &Digest,
) -> Result<(), String> {
    let to: Mailbox = digest
        .to
        .parse()
        .map_err(|e| format!("`{}` is not an address mail can go to: {e}", digest.to))?;
    let message = Message::builder()
        .from(config.from.clone())
        .to(to)
        .subject(&digest.subject)
        .multipart(MultiPart::alternative_plain_html(
            digest.text.clone(),
            digest.html.clone(),
        ))
        .map_err(|e| format!("the message could not be built: {e}"))?;
    let mut wait = config.backoff;
    let mut last = String::new();
    for attempt in 1..=config.attempts.max(1) {
        match transport.send(message.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) => {
                last = format!("{e}");
                tracing::info!(to = %digest.to, attempt, error = %last, "SMTP send failed");
                if attempt < config.attempts {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
    }
    Err(format!(
        "the mail server did not accept it after {} attempt{}: {last}",
        config.attempts.max(1),
        if config.attempts.max(1) == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_checked_with_the_fix_named() {
        assert!(
            MailConfig::new(
                "smtp://127.0.0.1:2525",
                "greenplan@example.nhs.uk",
                "https://gp.example"
            )
            .is_ok()
        );
        let bad = MailConfig::new(
            "mail.example",
            "greenplan@example.nhs.uk",
            "https://gp.example",
        )
        .unwrap_err();
        assert!(bad.to_string().contains("smtp://host:port"), "{bad}");
        let from = MailConfig::new(
            "smtp://127.0.0.1:2525",
            "not an address",
            "https://gp.example",
        )
        .unwrap_err();
        assert!(from.to_string().contains(MAIL_FROM_VAR), "{from}");
        let base =
            MailConfig::new("smtp://127.0.0.1:2525", "a@b.nhs.uk", "gp.example").unwrap_err();
        assert!(
            base.to_string()
                .contains("must be the site's public address"),
            "{base}"
        );
    }

    #[test]
    fn passwords_are_not_repeated_in_messages() {
        assert_eq!(
            redact("smtps://mailer:s3cret@smtp.example:465"),
            "smtps://mailer:…@smtp.example:465"
        );
        assert_eq!(redact("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
