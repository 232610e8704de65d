//! Reporting periods: the ICB opens a quarter for returns with a due date, sees which
//! organisations have submitted, which are late, and approves what it receives. Anyone
//! signed in may see where returns stand; only a system admin opens periods and approves.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::{
    Chrome, PageError, PageResult, html, long_date, not_found_error, plan, quarter_of_slug,
    quarter_slug, when,
};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use greenplan_core::Decimal;
use greenplan_core::period::Quarter;
use greenplan_core::plan::OrganisationKind;
use greenplan_core::quantity::with_thousands;
use greenplan_core::returns::{ReportingPeriod, ReturnStatus};
use greenplan_store::StoreError;

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

#[derive(Template)]
#[template(path = "periods.html")]
struct PeriodsPage {
    title: String,
    chrome: Chrome,
    /// (slug, quarter, due date, received, expected)
    periods: Vec<(String, String, String, usize, usize)>,
    can_open: bool,
    /// The next quarter to open, and its usual due date (ISO, for the date field).
    suggested_quarter: String,
    suggested_due: String,
}

/// Organisations expected to make a return: the system's NHS organisations, not partners.
fn expected(plan: &greenplan_core::plan::Plan, archived: &[String]) -> Vec<(String, String)> {
    plan.organisations
        .iter()
        .filter(|o| o.kind != OrganisationKind::Partner && !archived.contains(&o.code.to_string()))
        .map(|o| (o.code.to_string(), o.name.clone()))
        .collect()
}

pub async fn periods_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to see data returns.".into()))?;
    let plan = plan(&state).await?;
    let archived = state.store.archived_organisations().await?;
    let expected = expected(&plan, &archived);
    let mut rows = Vec::new();
    let periods = state.store.reporting_periods().await?;
    for p in &periods {
        let returns = state.store.returns_for(p.quarter).await?;
        let received = expected
            .iter()
            .filter(|(code, _)| returns.iter().any(|r| r.organisation.as_str() == code))
            .count();
        rows.push((
            quarter_slug(p.quarter),
            p.quarter.to_string(),
            long_date(p.due_on),
            received,
            expected.len(),
        ));
    }
    let next = periods
        .first()
        .map_or_else(|| Quarter::containing(today()), |p| next_quarter(p.quarter));
    html(PeriodsPage {
        title: "Data returns by quarter".into(),
        chrome: Chrome::of(&viewer),
        periods: rows,
        can_open: user.access.can_run_the_plan(),
        suggested_quarter: next.to_string(),
        suggested_due: ReportingPeriod::default_due_on(next).to_string(),
    })
}

fn next_quarter(q: Quarter) -> Quarter {
    if q.number >= 4 {
        Quarter {
            year: q.year.next(),
            number: 1,
        }
    } else {
        Quarter {
            year: q.year,
            number: q.number + 1,
        }
    }
}

#[derive(serde::Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    csrf_token: String,
    quarter: String,
    due_on: String,
}

pub async fn open_period(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<OpenForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "open a reporting period")?;
    if !user.access.can_run_the_plan() {
        return Err(PageError::Forbidden(
            "Only the ICB's system administrators open reporting periods.".into(),
        ));
    }
    let unprocessable = |m: String| PageError::Unprocessable(m);
    let quarter = Quarter::parse(form.quarter.trim())
        .map_err(|e| unprocessable(format!("Quarter: {e}; write it as \"Q3 2025/26\".")))?;
    let due_on = form
        .due_on
        .trim()
        .parse()
        .map_err(|_| unprocessable("Due date: give a date such as 2026-01-31.".into()))?;
    if due_on < quarter.end() {
        return Err(unprocessable(format!(
            "The due date must be after {quarter} ends ({}).",
            long_date(quarter.end())
        )));
    }
    match state
        .store
        .open_reporting_period(&user.email, &ReportingPeriod { quarter, due_on })
        .await
    {
        Ok(()) => {}
        Err(StoreError::Rejected(m)) => return Err(unprocessable(m)),
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/returns/periods/{}", quarter_slug(quarter))).into_response())
}

#[derive(Template)]
#[template(path = "period.html")]
struct PeriodPage {
    title: String,
    chrome: Chrome,
    quarter: String,
    due: String,
    /// (code, name, status label, status colour)
    standing: Vec<(String, String, String, String)>,
    late: usize,
    submissions: Vec<SubmissionRow>,
    can_approve: bool,
}

struct SubmissionRow {
    id: i64,
    organisation: String,
    file: String,
    rows: String,
    tco2e: String,
    by: String,
    when: String,
    approved: String,
}

pub async fn period_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to see data returns.".into()))?;
    let quarter = quarter_of_slug(&slug).ok_or_else(|| not_found_error("reporting period"))?;
    let period = state
        .store
        .reporting_periods()
        .await?
        .into_iter()
        .find(|p| p.quarter == quarter)
        .ok_or_else(|| not_found_error("reporting period"))?;
    let plan = plan(&state).await?;
    let archived = state.store.archived_organisations().await?;
    let returns = state.store.returns_for(quarter).await?;
    let submissions: Vec<_> = returns.iter().map(|r| r.submission()).collect();
    let mut standing: Vec<(ReturnStatus, String, String)> = expected(&plan, &archived)
        .into_iter()
        .map(|(code, name)| {
            let org = greenplan_core::ods::OdsCode::parse(&code).ok();
            let status = org.map_or(ReturnStatus::Awaited, |o| {
                period.status_of(&o, &submissions, today())
            });
            (status, code, name)
        })
        .collect();
    standing.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let late = standing
        .iter()
        .filter(|s| s.0 == ReturnStatus::Late)
        .count();
    let name_of = |code: &greenplan_core::ods::OdsCode| {
        plan.organisation(code)
            .map_or_else(|| code.to_string(), |o| o.name.clone())
    };
    html(PeriodPage {
        title: format!("Returns for {quarter}"),
        chrome: Chrome::of(&viewer),
        quarter: quarter.to_string(),
        due: long_date(period.due_on),
        standing: standing
            .into_iter()
            .map(|(s, code, name)| (code, name, s.label().to_string(), s.colour().to_string()))
            .collect(),
        late,
        submissions: returns
            .iter()
            .map(|r| SubmissionRow {
                id: r.id,
                organisation: name_of(&r.organisation),
                file: r.file.clone(),
                rows: with_thousands(Decimal::from(r.row_count), 0),
                tco2e: with_thousands(r.kgco2e / Decimal::ONE_THOUSAND, 3),
                by: r.submitted_by.clone(),
                when: when(r.submitted_at),
                approved: match (&r.approved_by, r.approved_at) {
                    (Some(by), Some(at)) => format!("Approved by {by}, {}", when(at)),
                    _ => String::new(),
                },
            })
            .collect(),
        can_approve: user.access.can_run_the_plan(),
    })
}

#[derive(serde::Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn approve(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ApproveForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "approve a return")?;
    if !user.access.can_run_the_plan() {
        return Err(PageError::Forbidden(
            "Only the ICB's system administrators approve returns.".into(),
        ));
    }
    let record = match state.store.approve_return(&user.email, id).await {
        Ok(r) => r,
        Err(StoreError::Rejected(m)) => return Err(PageError::Unprocessable(m)),
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!(
        "/returns/periods/{}#submissions",
        quarter_slug(record.quarter)
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_read_back_from_their_web_address() {
        let q = Quarter::parse("Q3 2025/26").unwrap();
        assert_eq!(quarter_slug(q), "2025-26-Q3");
        assert_eq!(quarter_of_slug("2025-26-Q3"), Some(q));
        let q = Quarter::parse("Q4 2030/31").unwrap();
        assert_eq!(quarter_of_slug(&quarter_slug(q)), Some(q));
        assert_eq!(quarter_of_slug("nonsense"), None);
    }
}
