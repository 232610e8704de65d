//! Reminders in the app: "My tasks" (the same tasks a reminder digest carries, by the same
//! rules, `greenplan_core::reminders`), and for system admins the reminder rules and the log
//! of the digests sent. Digests themselves are sent by `greenplan reminders send` or by the
//! server with `--send-reminders` (`greenplan_service::reminders`).

use crate::AppState;
use crate::kit::auth::{Viewer, same_origin};
use crate::kit::{Chrome, PageError, PageResult, Routes, Write, forbidden_form, html, today, when};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use greenplan_core::reminders::{Meetings, Settings, Task};
use greenplan_service::reminders::Gathered;
use greenplan_store::{DigestSent, SignedIn, StoreError};
use serde::Deserialize;

/// Digests listed on the log page.
const LOG_LENGTH: i64 = 100;

pub fn routes() -> Routes {
    Routes::new()
        .get("/my/tasks", my_tasks)
        .get("/admin/reminders", admin_page)
        .post("/admin/reminders", Write::SystemAdmins, save_settings)
}

struct Group {
    heading: &'static str,
    tasks: Vec<Task>,
}

fn grouped(tasks: Vec<Task>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for t in tasks {
        match groups.last_mut() {
            Some(g) if g.heading == t.kind.heading() => g.tasks.push(t),
            _ => groups.push(Group {
                heading: t.kind.heading(),
                tasks: vec![t],
            }),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "reminders/my_tasks.html")]
struct MyTasksPage {
    title: String,
    chrome: Chrome,
    groups: Vec<Group>,
    count: usize,
    frequency: &'static str,
}

/// Everything the signed-in person should do now, most pressing first.
pub async fn my_tasks(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to see your tasks.".into()))?;
    let gathered = Gathered::read(&state.store, today())
        .await
        .map_err(gathered_error)?;
    let tasks = gathered.tasks_for(&user.access);
    let frequency = state.store.reminder_frequency(user.user_id).await?;
    html(MyTasksPage {
        title: "My tasks".into(),
        chrome: Chrome::of(&viewer),
        count: tasks.len(),
        groups: grouped(tasks),
        frequency: frequency.label(),
    })
}

fn gathered_error(e: greenplan_service::reminders::ReminderError) -> PageError {
    use greenplan_service::reminders::ReminderError;
    match e {
        ReminderError::Store(e) => e.into(),
        ReminderError::NoPlan => PageError::NotFound("No plan is loaded yet.".into()),
        other => PageError::Internal(other.to_string()),
    }
}

#[derive(Template)]
#[template(path = "reminders/admin.html")]
struct AdminPage {
    title: String,
    chrome: Chrome,
    form: SettingsForm,
    error: String,
    message: String,
    sent: Vec<SentRow>,
}

struct SentRow {
    when: String,
    email: String,
    subject: String,
    tasks: String,
}

impl SentRow {
    fn of(d: &DigestSent) -> Self {
        Self {
            when: when(d.sent_at),
            email: d.email.clone(),
            subject: d.subject.clone(),
            tasks: d.task_keys.join(", "),
        }
    }
}

/// The rules as the form holds them.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: String,
    stale_after_days: String,
    return_warning_days: String,
    repeat_after_days: String,
    meetings: String,
}

impl SettingsForm {
    fn of(s: &Settings) -> Self {
        Self {
            csrf_token: String::new(),
            stale_after_days: s.stale_after_days.to_string(),
            return_warning_days: s.return_warning_days.to_string(),
            repeat_after_days: s.repeat_after_days.to_string(),
            meetings: s.meetings.code(),
        }
    }

    fn settings(&self) -> Result<Settings, String> {
        let days = |label: &str, raw: &str| {
            raw.trim().parse::<i64>().map_err(|_| {
                format!(
                    "{label}: `{}` is not a whole number of days",
                    greenplan_core::travel::shown(raw)
                )
            })
        };
        Ok(Settings {
            stale_after_days: days("Days without an update", &self.stale_after_days)?,
            return_warning_days: days(
                "Days of warning before a return",
                &self.return_warning_days,
            )?,
            repeat_after_days: days("Days before a task is sent again", &self.repeat_after_days)?,
            meetings: Meetings::parse(&self.meetings)
                .map_err(|e| format!("Delivery Group meetings: {e}"))?,
        })
    }
}

fn system_admin(viewer: &Viewer) -> Result<&SignedIn, PageError> {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to manage reminders.".into()))?;
    if !user.access.is_system_admin() {
        return Err(PageError::Forbidden(
            "Only system administrators can set the reminder rules and read what was sent.".into(),
        ));
    }
    Ok(user)
}

async fn admin_view(
    state: &AppState,
    viewer: &Viewer,
    form: SettingsForm,
    error: String,
    message: String,
) -> Result<AdminPage, PageError> {
    Ok(AdminPage {
        title: "Reminders".into(),
        chrome: Chrome::of(viewer),
        form,
        error,
        message,
        sent: state
            .store
            .digests_sent(LOG_LENGTH)
            .await?
            .iter()
            .map(SentRow::of)
            .collect(),
    })
}

pub async fn admin_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    system_admin(&viewer)?;
    let form = SettingsForm::of(&state.store.reminder_settings().await?);
    html(admin_view(&state, &viewer, form, String::new(), String::new()).await?)
}

pub async fn save_settings(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> PageResult {
    // Who may, before what they sent is read.
    let user = system_admin(&viewer)?;
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden_form());
    }
    let refused = |message: String, form: SettingsForm| async {
        let mut page = html(admin_view(&state, &viewer, form, message, String::new()).await?)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(page)
    };
    let settings = match form.settings() {
        Ok(s) => s,
        Err(message) => return refused(message, form).await,
    };
    match state
        .store
        .set_reminder_settings(&user.email, &settings)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Rejected(message)) => return refused(message, form).await,
        Err(e) => return Err(e.into()),
    }
    let form = SettingsForm::of(&settings);
    html(
        admin_view(
            &state,
            &viewer,
            form,
            String::new(),
            "The reminder rules are saved; the next digests follow them.".into(),
        )
        .await?,
    )
}
