//! Reminders: what each person should be told to do, worked out from the plan, its updates,
//! the reporting periods and the assessments waiting for review, and which of those things a
//! digest must carry now.
//!
//! Everything is computed from what is passed in (`today` included), so the same rules give
//! the "My tasks" page, the derived status beside an action and the e-mail digest, and a test
//! can state the answer for any date. Who hears about what follows the roles: a contributor
//! of an organisation about the actions it leads and the returns it owes; the ICB's
//! contributors about the system actions (those the ICB leads, or that name no lead); an
//! organisation admin about its assessments waiting for review; a system admin about every
//! organisation's returns: late ones and those waiting for approval.
//!
//! A task has a *key* (what it is about: "action TT3 is overdue") and a *fingerprint* (the
//! facts it states: the date it was due). A digest carries a task when it has never been sent
//! to that person, when its fingerprint changed (the date was revised), or when the repeat
//! interval has passed since it was last sent: running again the same day sends nothing.

use crate::access::{Access, Role};
use crate::ods::OdsCode;
use crate::period::Quarter;
use crate::plan::{Action, ActionStatus, OrganisationKind, Plan};
use crate::returns::{ReportingPeriod, ReturnStatus, Submission};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// The rules a deployment can set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// An action not complete and without an update for this many days is stale.
    pub stale_after_days: i64,
    /// A return is announced as due this many days before its due date.
    pub return_warning_days: i64,
    /// A task still open is sent again after this many days.
    pub repeat_after_days: i64,
    /// When the Delivery Group meets: leads are asked for an update in the fortnight before.
    pub meetings: Meetings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            stale_after_days: 90,
            return_warning_days: 14,
            repeat_after_days: 7,
            meetings: Meetings::LastMonthOfEachQuarter,
        }
    }
}

/// When the Delivery Group meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Meetings {
    /// Some day in the last month of each quarter, not fixed: the update is asked for by the
    /// first day of that month.
    LastMonthOfEachQuarter,
    /// The meetings of the year, as dates.
    On(Vec<NaiveDate>),
}

/// How many days before a meeting its update is asked for.
pub const MEETING_NOTICE_DAYS: i64 = 14;

impl Meetings {
    /// The next meeting on or after `today`, and the one before it (from which an update
    /// counts as "since the last meeting").
    pub fn around(&self, today: NaiveDate) -> Option<(Option<NaiveDate>, NaiveDate)> {
        match self {
            Self::On(dates) => {
                let mut dates = dates.clone();
                dates.sort();
                let next = *dates.iter().find(|d| **d >= today)?;
                let previous = dates.iter().rev().find(|d| **d < today).copied();
                Some((previous, next))
            }
            Self::LastMonthOfEachQuarter => {
                // The "meeting" is the first day of the quarter's last month.
                let quarter = Quarter::containing(today);
                let this = last_month_start(quarter);
                if this >= today {
                    let previous = last_month_start(previous_quarter(quarter));
                    Some((Some(previous), this))
                } else {
                    Some((Some(this), last_month_start(next_quarter(quarter))))
                }
            }
        }
    }

    /// The form the settings page and the command line use: `quarterly`, or dates
    /// (`2026-03-12, 2026-06-11`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("quarterly") || raw.is_empty() {
            return Ok(Self::LastMonthOfEachQuarter);
        }
        let mut dates = Vec::new();
        for part in raw.split([',', ' ', '\n']).filter(|p| !p.trim().is_empty()) {
            let date = crate::period::parse_date(part.trim()).map_err(|e| {
                format!("`{}` is not a meeting date ({e}): write dates as 2026-03-12, separated by commas, or `quarterly`", part.trim())
            })?;
            dates.push(date);
        }
        dates.sort();
        dates.dedup();
        Ok(Self::On(dates))
    }

    /// The form [`Meetings::parse`] reads back.
    pub fn code(&self) -> String {
        match self {
            Self::LastMonthOfEachQuarter => "quarterly".into(),
            Self::On(dates) => dates
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

fn last_month_start(q: Quarter) -> NaiveDate {
    let end = q.end();
    NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&end),
        chrono::Datelike::month(&end),
        1,
    )
    .unwrap_or(end)
}

fn next_quarter(q: Quarter) -> Quarter {
    Quarter::containing(q.end() + chrono::Days::new(1))
}

fn previous_quarter(q: Quarter) -> Quarter {
    Quarter::containing(q.start() - chrono::Days::new(1))
}

/// How often a person wants a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    /// No digests.
    Off,
    /// At most one a day, when there is something new.
    #[default]
    Daily,
    /// At most one a week.
    Weekly,
}

impl Frequency {
    pub const ALL: [Self; 3] = [Self::Daily, Self::Weekly, Self::Off];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "Never: no reminder e-mails",
            Self::Daily => "Daily, when something is new",
            Self::Weekly => "Weekly, when something is new",
        }
    }

    /// Whether a digest may go on `today` when the last went on `last`.
    pub fn allows(self, last: Option<NaiveDate>, today: NaiveDate) -> bool {
        let gap = match self {
            Self::Off => return false,
            Self::Daily => 1,
            Self::Weekly => 7,
        };
        last.is_none_or(|last| (today - last).num_days() >= gap)
    }
}

impl std::str::FromStr for Frequency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.slug().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("`{s}` is not a digest frequency: use daily, weekly or off"))
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// What a task asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    ReturnLate,
    ActionOverdue,
    MilestoneOverdue,
    ReturnDueToday,
    ReturnDueSoon,
    UpdateForMeeting,
    ActionDueThisQuarter,
    MilestoneDue,
    ActionStale,
    ReturnToApprove,
    SiaToReview,
}

impl TaskKind {
    /// The heading its tasks are listed under.
    pub fn heading(self) -> &'static str {
        match self {
            Self::ReturnLate => "Data returns that are late",
            Self::ActionOverdue => "Actions past their delivery date",
            Self::MilestoneOverdue => "Milestones past their date",
            Self::ReturnDueToday => "Data returns due today",
            Self::ReturnDueSoon => "Data returns due soon",
            Self::UpdateForMeeting => "Updates wanted for the Delivery Group",
            Self::ActionDueThisQuarter => "Actions due this quarter",
            Self::MilestoneDue => "Milestones due this quarter",
            Self::ActionStale => "Actions with no recent update",
            Self::ReturnToApprove => "Data returns waiting for approval",
            Self::SiaToReview => "Sustainability Impact Assessments waiting for review",
        }
    }
}

/// One thing a person should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub kind: TaskKind,
    /// What it is about, stable while the task stands ("action-overdue/TT3").
    pub key: String,
    /// The facts it states; a change sends it again.
    pub fingerprint: String,
    /// One line: "TT3 Work with Modeshift stars to produce a GP surgery travel plan".
    pub title: String,
    /// Why: "due by 31 March 2026 (2025/26); no update since 4 May 2026".
    pub detail: String,
    /// Where to act, as a path on the site ("/actions/TT3").
    pub path: String,
}

/// A Sustainability Impact Assessment submitted and waiting for its review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingAssessment {
    pub id: i64,
    pub title: String,
    pub organisation: OdsCode,
    pub submitted_on: NaiveDate,
}

/// A reporting period with what has been received for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodReturns {
    pub period: ReportingPeriod,
    pub submissions: Vec<Submission>,
}

/// What has been recorded on an action since the plan was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// The day of its latest update.
    pub last_update: Option<NaiveDate>,
    /// Its milestones marked done, numbered from 0.
    pub milestones_done: Vec<usize>,
}

/// Everything the rules read.
#[derive(Debug, Clone)]
pub struct Situation<'a> {
    pub today: NaiveDate,
    pub plan: &'a Plan,
    /// Each action's latest update and milestones marked done, by action id.
    pub tracking: &'a HashMap<String, Tracking>,
    /// The day the plan was first loaded: an action never updated is stale counted from it.
    pub tracked_since: NaiveDate,
    pub periods: &'a [PeriodReturns],
    /// Organisations archived (no longer owing returns).
    pub archived: &'a [OdsCode],
    pub waiting_assessments: &'a [WaitingAssessment],
    pub settings: &'a Settings,
}

/// What a lead may read beside the status they gave an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DerivedStatus {
    /// Its delivery date has passed.
    Overdue {
        due: NaiveDate,
        last_update: Option<NaiveDate>,
    },
    /// Milestones have passed while the action is not complete.
    AtRisk { milestones_passed: usize },
    /// No update for the stale interval.
    Stale {
        last_update: Option<NaiveDate>,
        days: i64,
    },
}

impl DerivedStatus {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Overdue { .. } => "Overdue",
            Self::AtRisk { .. } => "At risk",
            Self::Stale { .. } => "No recent update",
        }
    }

    pub fn colour(&self) -> &'static str {
        match self {
            Self::Overdue { .. } => "red",
            Self::AtRisk { .. } => "orange",
            Self::Stale { .. } => "grey",
        }
    }

    /// The sentence shown beside the lead's status.
    pub fn explain(&self) -> String {
        match self {
            Self::Overdue { due, last_update } => {
                format!("overdue: due {}, {}", long_date(*due), since(*last_update))
            }
            Self::AtRisk { milestones_passed } => format!(
                "at risk: {milestones_passed} milestone{} passed",
                if *milestones_passed == 1 { "" } else { "s" }
            ),
            Self::Stale { last_update, days } => {
                format!("{}: more than {days} days", since(*last_update))
            }
        }
    }
}

fn since(last: Option<NaiveDate>) -> String {
    last.map_or_else(
        || "no update yet".to_string(),
        |d| format!("no update since {}", long_date(d)),
    )
}

/// "31 March 2026".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The status the dates give an action that is not complete, if they give one: overdue
/// before at risk (milestones passed and not marked done) before stale.
pub fn derived_status(
    action: &Action,
    tracking: &Tracking,
    tracked_since: NaiveDate,
    today: NaiveDate,
    settings: &Settings,
) -> Option<DerivedStatus> {
    if action.status == ActionStatus::Complete {
        return None;
    }
    let last_update = tracking.last_update;
    if action.delivery.is_overdue(today) {
        let due = action.delivery.period.end()?;
        return Some(DerivedStatus::Overdue { due, last_update });
    }
    let passed = action
        .milestones
        .iter()
        .enumerate()
        .filter(|(i, m)| !tracking.milestones_done.contains(i) && m.delivery.is_overdue(today))
        .count();
    if passed > 0 {
        return Some(DerivedStatus::AtRisk {
            milestones_passed: passed,
        });
    }
    let from = last_update.unwrap_or(tracked_since);
    ((today - from).num_days() > settings.stale_after_days).then_some(DerivedStatus::Stale {
        last_update,
        days: settings.stale_after_days,
    })
}

/// A member of `organisation` with at least `role` there (a system admin elsewhere does not
/// count: they hear about the system's returns, not every organisation's actions).
fn member_of(access: &Access, organisation: &OdsCode, role: Role) -> bool {
    access
        .memberships
        .iter()
        .any(|m| &m.organisation == organisation && m.role >= role)
}

/// Whether this person hears about `action`: a contributor of one of its lead organisations,
/// or of the ICB when it names none.
pub fn hears_about(access: &Access, action: &Action, plan: &Plan) -> bool {
    if action.lead_organisations.is_empty() {
        return member_of(access, &plan.info.icb, Role::Contributor);
    }
    action
        .lead_organisations
        .iter()
        .any(|o| member_of(access, o, Role::Contributor))
}

/// Organisations that owe a return: every organisation of the plan but partners and the
/// archived.
pub fn owing_returns<'p>(plan: &'p Plan, archived: &[OdsCode]) -> Vec<&'p OdsCode> {
    plan.organisations
        .iter()
        .filter(|o| o.kind != OrganisationKind::Partner && !archived.contains(&o.code))
        .map(|o| &o.code)
        .collect()
}

/// Everything this person should do now, most pressing first.
pub fn tasks_for(access: &Access, s: &Situation<'_>) -> Vec<Task> {
    let mut tasks = Vec::new();
    let quarter = Quarter::containing(s.today);
    let meeting = s.settings.meetings.around(s.today);
    for action in s
        .plan
        .actions
        .iter()
        .filter(|a| hears_about(access, a, s.plan))
    {
        action_tasks(action, s, quarter, meeting, &mut tasks);
    }
    let owing = owing_returns(s.plan, s.archived);
    for p in s.periods {
        return_tasks(access, p, &owing, s, &mut tasks);
    }
    for a in s.waiting_assessments {
        if access.can_review_for(&a.organisation) {
            tasks.push(Task {
                kind: TaskKind::SiaToReview,
                key: format!("sia-review/{}", a.id),
                fingerprint: a.submitted_on.to_string(),
                title: format!("{} ({})", a.title, a.organisation),
                detail: format!("submitted on {}", long_date(a.submitted_on)),
                path: format!("/tools/sias/{}", a.id),
            });
        }
    }
    tasks.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    tasks
}

fn action_tasks(
    action: &Action,
    s: &Situation<'_>,
    quarter: Quarter,
    meeting: Option<(Option<NaiveDate>, NaiveDate)>,
    tasks: &mut Vec<Task>,
) {
    if action.status == ActionStatus::Complete {
        return;
    }
    let none = Tracking::default();
    let tracking = s.tracking.get(&action.id).unwrap_or(&none);
    let last = tracking.last_update;
    let title = format!("{} {}", action.id, action.title);
    let path = format!("/actions/{}", action.id);
    let due = action
        .delivery
        .period
        .end()
        .filter(|_| !action.delivery.ongoing);
    let task = |kind, key: String, fingerprint: String, detail: String| Task {
        kind,
        key,
        fingerprint,
        title: title.clone(),
        detail,
        path: path.clone(),
    };
    match derived_status(action, tracking, s.tracked_since, s.today, s.settings) {
        Some(DerivedStatus::Overdue { due, .. }) => tasks.push(task(
            TaskKind::ActionOverdue,
            format!("action-overdue/{}", action.id),
            due.to_string(),
            format!(
                "due by {} ({}); {}",
                long_date(due),
                action.delivery.written,
                since(last)
            ),
        )),
        Some(DerivedStatus::Stale { .. }) => tasks.push(task(
            TaskKind::ActionStale,
            format!("action-stale/{}", action.id),
            last.map_or_else(|| "never".into(), |d| d.to_string()),
            format!(
                "{} (reminded after {} days)",
                since(last),
                s.settings.stale_after_days
            ),
        )),
        _ => {}
    }
    if let Some(due) = due
        && Quarter::containing(due) == quarter
        && due >= s.today
    {
        tasks.push(task(
            TaskKind::ActionDueThisQuarter,
            format!("action-due/{}", action.id),
            due.to_string(),
            format!("due by {} ({})", long_date(due), action.delivery.written),
        ));
    }
    for (i, m) in action.milestones.iter().enumerate() {
        if tracking.milestones_done.contains(&i) {
            continue;
        }
        let Some(end) = m.delivery.period.end().filter(|_| !m.delivery.ongoing) else {
            continue;
        };
        let name = m
            .title
            .clone()
            .unwrap_or_else(|| m.delivery.written.clone());
        let (kind, key) = if end < s.today {
            (TaskKind::MilestoneOverdue, "milestone-overdue")
        } else if Quarter::containing(end) == quarter {
            (TaskKind::MilestoneDue, "milestone-due")
        } else {
            continue;
        };
        tasks.push(task(
            kind,
            format!("{key}/{}/{}", action.id, i + 1),
            end.to_string(),
            format!("milestone “{name}”: due by {}", long_date(end)),
        ));
    }
    if let Some((previous, next)) = meeting
        && (next - s.today).num_days() <= MEETING_NOTICE_DAYS
        && previous.is_none_or(|p| last.is_none_or(|l| l < p))
    {
        tasks.push(task(
            TaskKind::UpdateForMeeting,
            format!("meeting-update/{}/{next}", action.id),
            next.to_string(),
            format!(
                "post an update before the Delivery Group on {} ({})",
                long_date(next),
                since(last)
            ),
        ));
    }
}

fn return_tasks(
    access: &Access,
    p: &PeriodReturns,
    owing: &[&OdsCode],
    s: &Situation<'_>,
    tasks: &mut Vec<Task>,
) {
    let q = p.period.quarter;
    let slug = q.slug();
    let due = p.period.due_on;
    let days_left = (due - s.today).num_days();
    for org in owing {
        if !member_of(access, org, Role::Contributor) {
            continue;
        }
        let status = p.period.status_of(org, &p.submissions, s.today);
        let kind = match status {
            ReturnStatus::Late => TaskKind::ReturnLate,
            ReturnStatus::Awaited if days_left == 0 => TaskKind::ReturnDueToday,
            ReturnStatus::Awaited if days_left <= s.settings.return_warning_days => {
                TaskKind::ReturnDueSoon
            }
            _ => continue,
        };
        tasks.push(Task {
            kind,
            key: format!("return/{slug}/{org}"),
            fingerprint: format!("{}/{due}", kind_slug(kind)),
            title: format!("{org}'s data return for {q}"),
            detail: format!("due by {}", long_date(due)),
            path: "/returns".into(),
        });
    }
    if !access.is_system_admin() {
        return;
    }
    let late: Vec<&OdsCode> = owing
        .iter()
        .copied()
        .filter(|o| p.period.status_of(o, &p.submissions, s.today) == ReturnStatus::Late)
        .collect();
    if !late.is_empty() {
        let names: Vec<String> = late.iter().map(|o| o.to_string()).collect();
        tasks.push(Task {
            kind: TaskKind::ReturnLate,
            key: format!("returns-late/{slug}"),
            fingerprint: names.join(","),
            title: format!("{} of {} returns for {q} are late", late.len(), owing.len()),
            detail: format!(
                "due by {}; not received from {}",
                long_date(due),
                names.join(", ")
            ),
            path: format!("/returns/periods/{slug}"),
        });
    }
    let waiting: Vec<&Submission> = p.submissions.iter().filter(|s| !s.approved).collect();
    if !waiting.is_empty() {
        let mut names: Vec<String> = waiting.iter().map(|s| s.organisation.to_string()).collect();
        names.sort();
        names.dedup();
        tasks.push(Task {
            kind: TaskKind::ReturnToApprove,
            key: format!("returns-approve/{slug}"),
            fingerprint: waiting
                .iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
                .join(","),
            title: format!(
                "{} return file{} for {q} to approve",
                waiting.len(),
                if waiting.len() == 1 { "" } else { "s" }
            ),
            detail: format!("from {}", names.join(", ")),
            path: format!("/returns/periods/{slug}"),
        });
    }
}

fn kind_slug(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::ReturnLate => "late",
        TaskKind::ReturnDueToday => "today",
        _ => "soon",
    }
}

/// When a task was last sent to a person, and what it said then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentBefore {
    pub fingerprint: String,
    pub sent_on: NaiveDate,
}

/// The tasks a digest carries now: those never sent to this person, changed since, or last
/// sent at least the repeat interval ago.
pub fn due_to_send<'t>(
    tasks: &'t [Task],
    sent: &HashMap<String, SentBefore>,
    today: NaiveDate,
    settings: &Settings,
) -> Vec<&'t Task> {
    tasks
        .iter()
        .filter(|t| match sent.get(&t.key) {
            None => true,
            Some(before) => {
                before.fingerprint != t.fingerprint
                    || (today - before.sent_on).num_days() >= settings.repeat_after_days
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Membership;
    use crate::period::DeliveryDate;
    use crate::plan::Milestone;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn track(last: Option<&str>) -> Tracking {
        Tracking {
            last_update: last.map(d),
            milestones_done: vec![],
        }
    }

    fn code(c: &str) -> OdsCode {
        OdsCode::parse(c).unwrap()
    }

    fn org(c: &str, kind: OrganisationKind) -> crate::plan::Organisation {
        crate::plan::Organisation {
            code: code(c),
            name: format!("{c} organisation"),
            short_name: None,
            kind,
            description: None,
            reference: None,
        }
    }

    fn action(id: &str, leads: &[&str], delivery: &str) -> Action {
        Action {
            id: id.into(),
            area: "travel-and-transport".into(),
            title: format!("{id} title"),
            leads: vec![],
            lead_organisations: leads.iter().map(|c| code(c)).collect(),
            delivery: DeliveryDate::parse(delivery).unwrap(),
            success_measure: String::new(),
            milestones: vec![],
            shifts: vec![],
            guiding_policies: vec![],
            sdgs: vec![],
            metrics: vec![],
            status: ActionStatus::NotStarted,
            reference: None,
        }
    }

    /// The shape of the built-in plan: the ICB, two trusts and a partner; TT3 led by the ICB
    /// and due in 2025/26, TT4 led by the trusts and due in 2027.
    fn plan() -> Plan {
        use crate::period::FinancialYear;
        Plan {
            info: crate::plan::PlanInfo {
                id: "test".into(),
                title: "Test plan".into(),
                system: "Test ICS".into(),
                icb: code("QJ2"),
                first_year: FinancialYear(2025),
                last_year: FinancialYear(2027),
                source: None,
                foreword: None,
                introduction: None,
                governance: None,
            },
            organisations: vec![
                org("QJ2", OrganisationKind::Icb),
                org("RFS", OrganisationKind::Acute),
                org("RTG", OrganisationKind::Acute),
                org("PARTNER", OrganisationKind::Partner),
            ],
            places: vec![],
            shifts: vec![],
            guiding_policies: vec![],
            sdgs: vec![],
            areas: vec![],
            actions: vec![
                action("TT3", &["QJ2"], "2025/26"),
                action("TT4", &["RFS", "RTG"], "2027"),
            ],
            metrics: vec![],
            data_points: vec![],
            case_studies: vec![],
            visions: vec![],
        }
    }

    fn access(org: &str, role: Role) -> Access {
        Access::new(vec![Membership {
            organisation: code(org),
            role,
        }])
    }

    fn situation<'a>(
        plan: &'a Plan,
        today: NaiveDate,
        updates: &'a HashMap<String, Tracking>,
        periods: &'a [PeriodReturns],
        waiting: &'a [WaitingAssessment],
        settings: &'a Settings,
    ) -> Situation<'a> {
        Situation {
            today,
            plan,
            tracking: updates,
            tracked_since: today,
            periods,
            archived: &[],
            waiting_assessments: waiting,
            settings,
        }
    }

    #[test]
    fn the_icb_hears_of_tt3_overdue_and_a_trust_does_not() {
        let plan = plan();
        let settings = Settings::default();
        let none = HashMap::new();
        let s = situation(&plan, d("2026-12-04"), &none, &[], &[], &settings);
        let icb = tasks_for(&access("QJ2", Role::Contributor), &s);
        let tt3 = icb
            .iter()
            .find(|t| t.key == "action-overdue/TT3")
            .expect("TT3 is overdue for the ICB");
        assert!(tt3.detail.contains("31 March 2026"), "{}", tt3.detail);
        assert_eq!(tt3.path, "/actions/TT3");
        let trust = tasks_for(&access("RFS", Role::Contributor), &s);
        assert!(trust.iter().all(|t| !t.key.ends_with("/TT3")));
        // A viewer is told nothing.
        assert!(tasks_for(&access("QJ2", Role::Viewer), &s).is_empty());
        // Tasks come most pressing first.
        assert!(icb.windows(2).all(|w| w[0].kind <= w[1].kind));
    }

    #[test]
    fn derived_status_overdue_then_at_risk_then_stale() {
        let plan = plan();
        let settings = Settings::default();
        let tt3 = plan.actions.iter().find(|a| a.id == "TT3").unwrap();
        let status = derived_status(
            tt3,
            &track(Some("2026-05-04")),
            d("2025-04-01"),
            d("2026-12-04"),
            &settings,
        )
        .unwrap();
        assert_eq!(
            status.explain(),
            "overdue: due 31 March 2026, no update since 4 May 2026"
        );
        let mut later = tt3.clone();
        later.delivery = DeliveryDate::parse("2027/28").unwrap();
        later.milestones = vec![
            Milestone {
                title: Some("Pilot".into()),
                delivery: DeliveryDate::parse("Q1 2026/27").unwrap(),
                success_measure: None,
            },
            Milestone {
                title: None,
                delivery: DeliveryDate::parse("Q2 2026/27").unwrap(),
                success_measure: None,
            },
        ];
        let status = derived_status(
            &later,
            &track(None),
            d("2025-04-01"),
            d("2026-12-04"),
            &settings,
        )
        .unwrap();
        assert_eq!(status.explain(), "at risk: 2 milestones passed");
        // A milestone marked done no longer counts.
        let one_done = Tracking {
            last_update: None,
            milestones_done: vec![0],
        };
        let status = derived_status(
            &later,
            &one_done,
            d("2025-04-01"),
            d("2026-12-04"),
            &settings,
        )
        .unwrap();
        assert_eq!(status.explain(), "at risk: 1 milestone passed");
        later.milestones.clear();
        // 90 days without an update is not yet stale; 91 is.
        assert_eq!(
            derived_status(
                &later,
                &track(Some("2026-09-05")),
                d("2025-04-01"),
                d("2026-12-04"),
                &settings
            ),
            None
        );
        let stale = derived_status(
            &later,
            &track(Some("2026-09-04")),
            d("2025-04-01"),
            d("2026-12-04"),
            &settings,
        )
        .unwrap();
        assert_eq!(
            stale.explain(),
            "no update since 4 September 2026: more than 90 days"
        );
        later.status = ActionStatus::Complete;
        assert_eq!(
            derived_status(
                &later,
                &track(None),
                d("2025-04-01"),
                d("2030-01-01"),
                &settings
            ),
            None
        );
    }

    #[test]
    fn returns_due_soon_today_and_late_go_to_the_owing_organisation_and_admins() {
        let plan = plan();
        let settings = Settings::default();
        let none = HashMap::new();
        let q = Quarter::parse("Q2 2026/27").unwrap();
        let periods = vec![PeriodReturns {
            period: ReportingPeriod {
                quarter: q,
                due_on: d("2026-11-30"),
            },
            submissions: vec![Submission {
                id: 7,
                organisation: code("RTG"),
                submitted_on: d("2026-11-20"),
                approved: false,
            }],
        }];
        let on = |day: &str, who: &Access| {
            let s = situation(&plan, d(day), &none, &periods, &[], &settings);
            tasks_for(who, &s)
                .into_iter()
                .filter(|t| t.key.starts_with("return"))
                .map(|t| (t.kind, t.key))
                .collect::<Vec<_>>()
        };
        let rfs = access("RFS", Role::Contributor);
        assert_eq!(on("2026-11-15", &rfs), vec![]);
        assert_eq!(
            on("2026-11-16", &rfs),
            vec![(TaskKind::ReturnDueSoon, "return/2026-27-Q2/RFS".to_string())]
        );
        assert_eq!(
            on("2026-11-30", &rfs),
            vec![(
                TaskKind::ReturnDueToday,
                "return/2026-27-Q2/RFS".to_string()
            )]
        );
        assert_eq!(
            on("2026-12-01", &rfs),
            vec![(TaskKind::ReturnLate, "return/2026-27-Q2/RFS".to_string())]
        );
        // RTG has sent its return: nothing to chase.
        assert_eq!(on("2026-12-01", &access("RTG", Role::Contributor)), vec![]);
        let admin = on("2026-12-01", &access("QJ2", Role::SystemAdmin));
        assert!(admin.contains(&(TaskKind::ReturnLate, "returns-late/2026-27-Q2".to_string())));
        assert!(admin.contains(&(
            TaskKind::ReturnToApprove,
            "returns-approve/2026-27-Q2".to_string()
        )));
    }

    #[test]
    fn sent_tasks_wait_for_a_change_or_the_repeat_interval() {
        let task = Task {
            kind: TaskKind::ActionOverdue,
            key: "action-overdue/TT3".into(),
            fingerprint: "2026-03-31".into(),
            title: "TT3".into(),
            detail: String::new(),
            path: "/actions/TT3".into(),
        };
        let settings = Settings::default();
        let tasks = vec![task];
        let mut sent = HashMap::new();
        assert_eq!(
            due_to_send(&tasks, &sent, d("2026-12-04"), &settings).len(),
            1
        );
        sent.insert(
            "action-overdue/TT3".to_string(),
            SentBefore {
                fingerprint: "2026-03-31".into(),
                sent_on: d("2026-12-04"),
            },
        );
        assert!(due_to_send(&tasks, &sent, d("2026-12-04"), &settings).is_empty());
        assert!(due_to_send(&tasks, &sent, d("2026-12-10"), &settings).is_empty());
        assert_eq!(
            due_to_send(&tasks, &sent, d("2026-12-11"), &settings).len(),
            1
        );
        sent.get_mut("action-overdue/TT3").unwrap().fingerprint = "2025-12-31".into();
        assert_eq!(
            due_to_send(&tasks, &sent, d("2026-12-04"), &settings).len(),
            1
        );
    }

    #[test]
    fn frequency_spaces_digests() {
        assert!(Frequency::Daily.allows(None, d("2026-12-04")));
        assert!(!Frequency::Daily.allows(Some(d("2026-12-04")), d("2026-12-04")));
        assert!(Frequency::Daily.allows(Some(d("2026-12-03")), d("2026-12-04")));
        assert!(!Frequency::Weekly.allows(Some(d("2026-11-28")), d("2026-12-04")));
        assert!(Frequency::Weekly.allows(Some(d("2026-11-27")), d("2026-12-04")));
        assert!(!Frequency::Off.allows(None, d("2026-12-04")));
        assert_eq!("Weekly".parse::<Frequency>(), Ok(Frequency::Weekly));
        assert!(
            "monthly"
                .parse::<Frequency>()
                .unwrap_err()
                .contains("daily, weekly or off")
        );
    }

    #[test]
    fn meetings_quarterly_and_on_dates() {
        let q = Meetings::LastMonthOfEachQuarter;
        // Q3 2026/27 (October-December): the update is wanted by 1 December.
        assert_eq!(
            q.around(d("2026-11-20")),
            Some((Some(d("2026-09-01")), d("2026-12-01")))
        );
        assert_eq!(
            q.around(d("2026-12-04")),
            Some((Some(d("2026-12-01")), d("2027-03-01")))
        );
        let on = Meetings::parse("2026-12-10, 2026-09-10").unwrap();
        assert_eq!(on.code(), "2026-09-10, 2026-12-10");
        assert_eq!(
            on.around(d("2026-12-04")),
            Some((Some(d("2026-09-10")), d("2026-12-10")))
        );
        assert_eq!(on.around(d("2026-12-11")), None);
        // Dates as people write them in the UK read too; words that are no date do not.
        assert_eq!(Meetings::parse("10/12/2026").unwrap().code(), "2026-12-10");
        assert!(Meetings::parse("the second Thursday").is_err());
    }
}
