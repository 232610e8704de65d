//! Register pages, all driven by the register descriptions in `greenplan_core::register`:
//! the index, a list with filters and the register's metrics, add and edit forms, archive,
//! import (CSV or XLSX, all-or-nothing), exports and the XLSX template.
//!
//! Every write is checked against `greenplan_core::access`: contributors and admins of the
//! record's organisation (before and after an edit), or a system admin; CSRF-checked by
//! `Viewer::form_writer`; the store audits it in the same transaction.

use crate::AppState;
use crate::auth::{Viewer, same_origin};
use crate::pages::{Chrome, PageError, PageResult, html, not_found_error, number};
use crate::stale::{self, StaleNotice, revision_of, stale_of};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::access::Access;
use greenplan_core::ods::OdsCode;
use greenplan_core::plan::Plan;
use greenplan_core::quantity::with_thousands;
use greenplan_core::register::estates::PipelineAgainstGap;
use greenplan_core::register::footprint::RegisterCarbon;
use greenplan_core::register::{self, FieldKind, Record, Register};
use greenplan_ingest::{IngestError, RowError};
use greenplan_reports::register_files;
use greenplan_service::ImportError;
use greenplan_service::registers::{
    estate_pipeline_against_gap, import_register_file, register_carbon,
};
use greenplan_store::{EXAMPLE_DATA_ACTOR, StoredRecord};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Write;

/// Largest import accepted.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

fn find(slug: &str) -> Result<&'static Register, PageError> {
    register::find(slug).ok_or_else(|| not_found_error("register"))
}

/// One register on the index.
pub struct IndexRow {
    pub slug: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub area: String,
    pub records: usize,
}

#[derive(Template)]
#[template(path = "registers.html")]
struct IndexPage {
    title: String,
    chrome: Chrome,
    rows: Vec<IndexRow>,
}

pub async fn index(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = crate::pages::plan(&state).await?;
    let mut rows = Vec::new();
    for r in register::ALL.iter().copied() {
        rows.push(IndexRow {
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            area: area_name(&plan, r.area),
            records: state.store.register_records(r, false).await?.len(),
        });
    }
    html(IndexPage {
        title: "Registers".into(),
        chrome: Chrome::of(&viewer),
        rows,
    })
}

fn area_name(plan: &Plan, code: &str) -> String {
    plan.areas
        .iter()
        .find(|a| a.code == code)
        .map_or_else(|| code.to_string(), |a| a.name.clone())
}

#[derive(Deserialize, Default)]
pub struct ListFilter {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    choice: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    archived: String,
}

/// A record as a row of the list.
pub struct ListRow {
    pub id: i64,
    pub cells: Vec<String>,
    pub archived: bool,
    pub editable: bool,
}

/// A figure as a row of the metrics table.
pub struct FigureRow {
    pub label: &'static str,
    pub period: String,
    pub scope: String,
    pub value: String,
    pub working: String,
    pub plan_metric: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct ListPage {
    title: String,
    chrome: Chrome,
    register: &'static Register,
    columns: Vec<&'static str>,
    rows: Vec<ListRow>,
    organisations: Vec<(String, String, bool)>,
    choice_label: String,
    choices: Vec<(String, String, bool)>,
    q: String,
    archived: bool,
    figures: Vec<FigureRow>,
    carbon: Option<CarbonView>,
    /// The estate pipeline only: lines of the comparison with the gap to target, or why
    /// there is none.
    against_gap: Option<Result<Vec<(String, String)>, String>>,
    can_write: bool,
}

/// The estate pipeline against the gap, as label and value lines.
fn against_gap_lines(p: Option<PipelineAgainstGap>) -> Result<Vec<(String, String)>, String> {
    let p = p.ok_or_else(|| {
        "There is no NHS Carbon Footprint data yet: once activity for a year is imported (returns, registers), the pipeline is set against the gap to the national trajectory.".to_string()
    })?;
    let t = |v: Decimal| format!("{} tCO2e", with_thousands(v, 1));
    Ok(vec![
        (
            format!("NHS Carbon Footprint, {} (baseline)", p.baseline.0),
            t(p.baseline.1),
        ),
        (
            format!("NHS Carbon Footprint, {} (latest)", p.latest.0),
            t(p.latest.1),
        ),
        (
            format!(
                "National trajectory for {} (80% below the baseline)",
                p.milestone.0
            ),
            t(p.milestone.1),
        ),
        ("Gap still to close, a year".to_string(), t(p.gap)),
        (
            format!(
                "Expected annual saving of {} projects due by then (not cancelled, not yet in the footprint)",
                p.projects
            ),
            t(p.pipeline),
        ),
        (
            "Share of the gap the pipeline would close".to_string(),
            p.share_of_gap()
                .map_or_else(|| "no gap to close".to_string(), |s| format!("{s}%")),
        ),
    ])
}

/// The register's emissions (fleet, waste, spend), as the page shows them.
pub struct CarbonView {
    /// Year, tCO2e, rows, rows not converted, tonnes, tCO2e per tonne.
    pub years: Vec<[String; 6]>,
    /// Waste: year, route, tonnes, tCO2e, tCO2e per tonne, the factor (when missing).
    pub routes: Vec<[String; 6]>,
    pub not_converted: Vec<String>,
    pub notes: Vec<String>,
    /// How many example records (not counted in the footprint) the figures include.
    pub examples: usize,
    pub waste: bool,
}

impl CarbonView {
    fn of(carbon: RegisterCarbon, examples: usize, waste: bool) -> Self {
        let t = |kg: Decimal| with_thousands(kg / Decimal::ONE_THOUSAND, 1);
        let per_tonne = |v: Option<Decimal>| v.map_or_else(String::new, |v| with_thousands(v, 3));
        Self {
            years: carbon
                .years
                .iter()
                .map(|y| {
                    [
                        y.year.to_string(),
                        t(y.kgco2e),
                        y.rows.to_string(),
                        y.not_converted.to_string(),
                        y.tonnes.map_or_else(String::new, number),
                        per_tonne(y.tco2e_per_tonne),
                    ]
                })
                .collect(),
            routes: carbon
                .routes
                .iter()
                .map(|r| {
                    [
                        r.year.to_string(),
                        r.route.to_string(),
                        number(r.tonnes),
                        r.kgco2e.map_or_else(|| "no factor".to_string(), t),
                        per_tonne(r.tco2e_per_tonne()),
                        // A route with an official factor needs the official files loaded,
                        // not a factor of its own.
                        if r.kgco2e.is_none()
                            && !register::waste::OFFICIAL_ROUTE_FACTORS.contains(&r.factor.as_str())
                        {
                            r.factor.clone()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect(),
            not_converted: carbon.not_converted,
            notes: carbon.notes,
            examples,
            waste,
        }
    }
}

/// How many fields the list shows (the rest are on the edit page and in exports).
const LIST_COLUMNS: usize = 7;

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(filter): Query<ListFilter>,
) -> PageResult {
    let register = find(&slug)?;
    let plan = crate::pages::plan(&state).await?;
    let archived = !filter.archived.is_empty();
    let stored = state.store.register_records(register, archived).await?;
    let access = access_of(&viewer);
    let organisation = OdsCode::parse(&filter.organisation).ok();
    let choice_field = register.filter_field.and_then(|k| register.field(k));
    let shown: Vec<&StoredRecord> = stored
        .iter()
        .filter(|s| organisation.is_none() || s.record.organisation() == organisation)
        .filter(|s| {
            filter.choice.is_empty()
                || choice_field
                    .is_some_and(|f| s.record.choice(f.key) == Some(filter.choice.as_str()))
        })
        .filter(|s| s.record.matches(&filter.q))
        .collect();
    let fields = &register.fields[..register.fields.len().min(LIST_COLUMNS)];
    let rows = shown
        .iter()
        .map(|s| ListRow {
            id: s.id,
            cells: fields
                .iter()
                .map(|f| {
                    s.record
                        .text(f.key)
                        .map_or_else(String::new, |v| shown_value(f, v))
                })
                .collect(),
            archived: s.archived_at.is_some(),
            editable: s.archived_at.is_none() && may_write(access.as_ref(), &s.record),
        })
        .collect();
    let live: Vec<Record> = stored
        .iter()
        .filter(|s| s.archived_at.is_none())
        .map(|s| s.record.clone())
        .collect();
    let figures = figure_rows(register, &live, organisation.as_ref());
    let examples = stored
        .iter()
        .filter(|s| s.archived_at.is_none() && s.created_by == EXAMPLE_DATA_ACTOR)
        .filter(|s| organisation.is_none() || s.record.organisation() == organisation)
        .count();
    let factors = crate::pages::factors(&state).await?;
    let carbon = register_carbon(&state.store, &factors, register, organisation.as_ref())
        .await?
        .map(|c| {
            CarbonView::of(
                c,
                examples,
                std::ptr::eq(register, &register::waste::STREAMS),
            )
        });
    let against_gap = if std::ptr::eq(register, &register::estates::PIPELINE) {
        Some(against_gap_lines(
            estate_pipeline_against_gap(&state.store, organisation.as_ref()).await?,
        ))
    } else {
        None
    };
    let choices = choice_field
        .map(|f| match f.kind {
            FieldKind::Choice(cs) => cs
                .iter()
                .map(|c| {
                    (
                        c.slug.to_string(),
                        c.label.to_string(),
                        c.slug == filter.choice,
                    )
                })
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    html(ListPage {
        title: register.title.into(),
        chrome: Chrome::of(&viewer),
        register,
        columns: fields.iter().map(|f| f.label).collect(),
        rows,
        organisations: plan
            .organisations
            .iter()
            .map(|o| {
                (
                    o.code.to_string(),
                    o.name.clone(),
                    Some(&o.code) == organisation.as_ref(),
                )
            })
            .collect(),
        choice_label: choice_field.map_or_else(String::new, |f| f.label.to_string()),
        choices,
        q: filter.q,
        archived,
        figures,
        carbon,
        against_gap,
        can_write: access
            .as_ref()
            .is_some_and(|a| !a.contributing_organisations(&plan).is_empty()),
    })
}

/// A value as the list shows it: a choice's words, Yes/No, or the value with its unit.
fn shown_value(f: &register::Field, canonical: &str) -> String {
    match (f.kind, f.unit()) {
        (FieldKind::Decimal { .. } | FieldKind::Percent, Some(unit)) => {
            let n = canonical
                .parse()
                .map_or_else(|_| canonical.to_string(), number);
            if unit == "£" {
                format!("£{n}")
            } else {
                format!("{n} {unit}")
            }
        }
        _ => f.display(canonical),
    }
}

/// The register's figures for the system (or one organisation), latest period first.
fn figure_rows(
    register: &'static Register,
    records: &[Record],
    organisation: Option<&OdsCode>,
) -> Vec<FigureRow> {
    let figures = register.figures_of(records, organisation);
    figures
        .into_iter()
        .map(|f| FigureRow {
            label: f.label,
            period: f.period.to_string(),
            scope: f
                .organisation
                .map_or_else(|| "System".to_string(), |o| o.to_string()),
            value: if f.unit == "%" {
                format!("{}%", number(f.value))
            } else {
                format!("{} {}", number(f.value), f.unit)
            },
            working: f.working,
            plan_metric: f.plan_metric.unwrap_or("").to_string(),
        })
        .collect()
}

fn access_of(viewer: &Viewer) -> Option<Access> {
    viewer.user.as_ref().map(|u| u.access.clone())
}

fn may_write(access: Option<&Access>, record: &Record) -> bool {
    match (access, record.organisation()) {
        (Some(a), Some(o)) => a.can_contribute_for(&o),
        _ => false,
    }
}

/// A field of the form.
pub struct FormField {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: String,
    /// `text`, `date` or `select`.
    pub input: &'static str,
    pub numeric: bool,
    pub options: Vec<(String, String, bool)>,
    pub value: String,
    pub error: String,
    pub required: bool,
}

#[derive(Template)]
#[template(path = "register_form.html")]
struct FormPage {
    title: String,
    chrome: Chrome,
    register: &'static Register,
    /// Where the form posts.
    action: String,
    id: Option<i64>,
    /// The revision of the record being edited (sent back with the form).
    revision: i64,
    /// Set when a save was refused because the record changed since the form was drawn.
    stale: Option<StaleNotice>,
    fields: Vec<FormField>,
    errors: Vec<(String, String)>,
}

fn form_fields(
    register: &'static Register,
    plan: &Plan,
    access: &Access,
    values: &HashMap<String, String>,
    errors: &HashMap<&str, String>,
) -> Vec<FormField> {
    register
        .fields
        .iter()
        .map(|f| {
            let value = values.get(f.key).cloned().unwrap_or_default();
            let options = |list: Vec<(String, String)>| -> Vec<(String, String, bool)> {
                let blank = (!f.required)
                    .then(|| (String::new(), "Not given".to_string(), value.is_empty()));
                blank
                    .into_iter()
                    .chain(list.into_iter().map(|(v, l)| {
                        let selected = v == value;
                        (v, l, selected)
                    }))
                    .collect()
            };
            let (input, options) = match f.kind {
                FieldKind::Choice(cs) => (
                    "select",
                    options(
                        cs.iter()
                            .map(|c| (c.slug.to_string(), c.label.to_string()))
                            .collect(),
                    ),
                ),
                FieldKind::YesNo => (
                    "select",
                    options(vec![
                        ("yes".into(), "Yes".into()),
                        ("no".into(), "No".into()),
                    ]),
                ),
                FieldKind::Organisation => (
                    "select",
                    options(
                        access
                            .contributing_organisations(plan)
                            .into_iter()
                            .map(|c| {
                                let name = plan
                                    .organisations
                                    .iter()
                                    .find(|o| &o.code == c)
                                    .map_or_else(String::new, |o| o.name.clone());
                                (c.to_string(), format!("{name} ({c})"))
                            })
                            .collect(),
                    ),
                ),
                FieldKind::Date => ("date", Vec::new()),
                _ => ("text", Vec::new()),
            };
            let unit = f.unit().map_or_else(String::new, |u| format!("In {u}. "));
            FormField {
                key: f.key,
                label: f.label,
                hint: format!("{unit}{}", f.hint).trim().to_string(),
                input,
                numeric: matches!(
                    f.kind,
                    FieldKind::Decimal { .. } | FieldKind::Percent | FieldKind::Whole
                ),
                options,
                value,
                error: errors.get(f.key).cloned().unwrap_or_default(),
                required: f.required,
            }
        })
        .collect()
}

fn signed_in_access(viewer: &Viewer) -> Result<Access, PageError> {
    access_of(viewer).ok_or_else(|| {
        PageError(
            StatusCode::UNAUTHORIZED,
            "Sign in to change a register.".into(),
        )
    })
}

fn cannot_write(register: &Register) -> PageError {
    PageError(
        StatusCode::FORBIDDEN,
        format!(
            "You can change records of \"{}\" only for an organisation you contribute for. Ask its organisation admin for the contributor role.",
            register.title
        ),
    )
}

pub async fn new_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> PageResult {
    let register = find(&slug)?;
    let access = signed_in_access(&viewer)?;
    let plan = crate::pages::plan(&state).await?;
    if access.contributing_organisations(&plan).is_empty() {
        return Err(cannot_write(register));
    }
    html(FormPage {
        title: format!("Add to {}", register.title),
        chrome: Chrome::of(&viewer),
        register,
        action: format!("/registers/{}/new", register.slug),
        id: None,
        revision: 0,
        stale: None,
        fields: form_fields(register, &plan, &access, &HashMap::new(), &HashMap::new()),
        errors: Vec::new(),
    })
}

/// The submitted form: the CSRF token and every field by key.
fn form_values(body: &[u8]) -> (String, HashMap<String, String>) {
    let mut values: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let csrf = values.remove("csrf_token").unwrap_or_default();
    (csrf, values)
}

/// Validates a submitted form against the register and the plan's organisations.
fn validate(
    register: &'static Register,
    plan: &Plan,
    values: &HashMap<String, String>,
) -> Result<Record, Vec<register::FieldError>> {
    let record = register.parse(|k| values.get(k).map(String::as_str))?;
    match record
        .organisation()
        .filter(|o| plan.organisations.iter().any(|p| &p.code == o))
    {
        Some(_) => Ok(record),
        None => Err(vec![register::FieldError {
            field: "organisation",
            message: "Organisation: choose one of the plan's organisations".into(),
        }]),
    }
}

/// The form again, with each field's problem beside it and a summary linking to them.
#[allow(clippy::too_many_arguments)] // what the form page needs; a struct would only rename them
fn form_again(
    viewer: &Viewer,
    register: &'static Register,
    plan: &Plan,
    access: &Access,
    action: String,
    id: Option<i64>,
    revision: i64,
    values: &HashMap<String, String>,
    problems: &[register::FieldError],
) -> PageResult {
    let errors: HashMap<&str, String> = problems
        .iter()
        .map(|p| (p.field, p.message.clone()))
        .collect();
    let page = FormPage {
        title: format!("{} – check the form", register.title),
        chrome: Chrome::of(viewer),
        register,
        action,
        id,
        revision,
        stale: None,
        fields: form_fields(register, plan, access, values, &errors),
        errors: problems
            .iter()
            .map(|p| (p.field.to_string(), p.message.clone()))
            .collect(),
    };
    let mut r = html(page)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

pub async fn add(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let register = find(&slug)?;
    let (csrf, values) = form_values(&body);
    let user = viewer.form_writer(&headers, &csrf, "add a record")?;
    let plan = crate::pages::plan(&state).await?;
    let action = format!("/registers/{}/new", register.slug);
    let record = match validate(register, &plan, &values) {
        Ok(r) => r,
        Err(problems) => {
            return form_again(
                &viewer,
                register,
                &plan,
                &user.access,
                action,
                None,
                0,
                &values,
                &problems,
            );
        }
    };
    if !may_write(Some(&user.access), &record) {
        return Err(cannot_write(register));
    }
    state
        .store
        .add_register_record(&user.email, &record)
        .await?;
    state.cache.invalidate().await;
    Ok(Redirect::to(&format!("/registers/{}", register.slug)).into_response())
}

async fn live(
    state: &AppState,
    register: &'static Register,
    id: i64,
) -> Result<StoredRecord, PageError> {
    state
        .store
        .register_record(register, id)
        .await?
        .filter(|s| s.archived_at.is_none())
        .ok_or_else(|| not_found_error("record"))
}

pub async fn edit_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, i64)>,
) -> PageResult {
    let register = find(&slug)?;
    let access = signed_in_access(&viewer)?;
    let stored = live(&state, register, id).await?;
    if !may_write(Some(&access), &stored.record) {
        return Err(cannot_write(register));
    }
    let plan = crate::pages::plan(&state).await?;
    let revision = stored.revision;
    let values: HashMap<String, String> = stored
        .record
        .values()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    html(FormPage {
        title: format!("Edit {}", stored.record.name()),
        chrome: Chrome::of(&viewer),
        register,
        action: format!("/registers/{}/{id}/edit", register.slug),
        id: Some(id),
        revision,
        stale: None,
        fields: form_fields(register, &plan, &access, &values, &HashMap::new()),
        errors: Vec::new(),
    })
}

/// A register field's label for the changes a stale save is shown (`values.name` → "Name").
fn field_label(register: &'static Register, field: &str) -> String {
    let key = field.strip_prefix("values.").unwrap_or(field);
    register
        .fields
        .iter()
        .find(|f| f.key == key)
        .map_or_else(|| key.replace('_', " "), |f| f.label.to_string())
}

pub async fn edit(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, i64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let register = find(&slug)?;
    let (csrf, mut values) = form_values(&body);
    let user = viewer.form_writer(&headers, &csrf, "edit a record")?;
    let stored = live(&state, register, id).await?;
    // The record's present owner must be yours, and so must its new one.
    if !may_write(Some(&user.access), &stored.record) {
        return Err(cannot_write(register));
    }
    // Read once the person may write; required once the new owner is checked too.
    let sent = values.remove(stale::FIELD);
    let shown = sent.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
    let plan = crate::pages::plan(&state).await?;
    let action = format!("/registers/{}/{id}/edit", register.slug);
    let record = match validate(register, &plan, &values) {
        Ok(r) => r,
        Err(problems) => {
            return form_again(
                &viewer,
                register,
                &plan,
                &user.access,
                action,
                Some(id),
                shown,
                &values,
                &problems,
            );
        }
    };
    if !may_write(Some(&user.access), &record) {
        return Err(cannot_write(register));
    }
    let revision = revision_of(sent.as_deref())?;
    let saved = state
        .store
        .update_register_record(&user.email, id, revision, &record)
        .await;
    if let Err(e) = saved {
        let stale = stale_of(e)?;
        // The person's input, with what changed since and the record's revision now.
        let page = FormPage {
            title: format!("{} – changed since you opened it", register.title),
            chrome: Chrome::of(&viewer),
            register,
            action,
            id: Some(id),
            revision: stale.current,
            stale: Some(StaleNotice::of(&stale, &|f| field_label(register, f))),
            fields: form_fields(register, &plan, &user.access, &values, &HashMap::new()),
            errors: Vec::new(),
        };
        let mut r = html(page)?;
        *r.status_mut() = StatusCode::CONFLICT;
        return Ok(r);
    }
    state.cache.invalidate().await;
    Ok(Redirect::to(&format!("/registers/{}", register.slug)).into_response())
}

pub async fn archive(
    viewer: Viewer,
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, i64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let register = find(&slug)?;
    let (csrf, mut values) = form_values(&body);
    let user = viewer.form_writer(&headers, &csrf, "archive a record")?;
    let stored = live(&state, register, id).await?;
    if !may_write(Some(&user.access), &stored.record) {
        return Err(cannot_write(register));
    }
    let revision = revision_of(values.remove(stale::FIELD).as_deref())?;
    // A stale archive is refused with a 409 naming the changes (PageError from StoreError).
    state
        .store
        .archive_register_record(&user.email, register, id, revision)
        .await?;
    state.cache.invalidate().await;
    Ok(Redirect::to(&format!("/registers/{}", register.slug)).into_response())
}

#[derive(Template)]
#[template(path = "register_import.html")]
struct ImportPage {
    title: String,
    chrome: Chrome,
    register: &'static Register,
    columns: String,
    file_name: String,
    error: String,
    row_errors: Vec<RowError>,
    more_errors: usize,
    imported: String,
}

impl ImportPage {
    fn new(viewer: &Viewer, register: &'static Register) -> Self {
        Self {
            title: format!("Import into {}", register.title),
            chrome: Chrome::of(viewer),
            register,
            columns: register.columns().join(", "),
            file_name: String::new(),
            error: String::new(),
            row_errors: Vec::new(),
            more_errors: 0,
            imported: String::new(),
        }
    }
}

pub async fn import_page(viewer: Viewer, Path(slug): Path<String>) -> PageResult {
    let register = find(&slug)?;
    if viewer.user.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    html(ImportPage::new(&viewer, register))
}

/// Checks an uploaded file whole (every row, the organisation and the importer's right to
/// write for it) and stores it in one transaction, or stores nothing and lists the problems.
pub async fn import(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult {
    let register = find(&slug)?;
    let (mut csrf, mut file_name, mut contents) = (String::new(), String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("csrf_token") => csrf = field.text().await.map_err(upload_error)?,
            Some("file") => {
                file_name = crate::text_input::field(
                    "file",
                    field.file_name().unwrap_or("upload.csv").to_string(),
                )?;
                contents = field.bytes().await.map_err(upload_error)?.to_vec();
            }
            _ => {}
        }
    }
    let user = viewer
        .user
        .clone()
        .ok_or_else(|| PageError(StatusCode::UNAUTHORIZED, "Sign in to import.".into()))?;
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&csrf) {
        return Err(crate::account::forbidden());
    }
    let mut page = ImportPage::new(&viewer, register);
    page.file_name = file_name.clone();
    let Some(extension) = extension_of(&file_name).filter(|_| !contents.is_empty()) else {
        page.error = "Choose a CSV or XLSX file to import.".into();
        return unprocessable(page);
    };
    let plan = crate::pages::plan(&state).await?;
    let ids = match import_upload(
        &state, register, &plan, &user, &file_name, extension, &contents,
    )
    .await
    {
        Ok(ids) => ids,
        Err(ImportError::File(IngestError::Rows { errors, total })) => {
            page.more_errors = total.saturating_sub(errors.len());
            page.error = format!(
                "{total} problem{} found, so nothing has been stored. Fix {} in your file and import it again.",
                if total == 1 { "" } else { "s" },
                if total == 1 { "it" } else { "them" }
            );
            page.row_errors = errors;
            return unprocessable(page);
        }
        Err(ImportError::Store(e)) => return Err(e.into()),
        Err(other) => {
            page.error = format!("{other}. Nothing has been stored.");
            return unprocessable(page);
        }
    };
    state.cache.invalidate().await;
    page.imported = format!(
        "{} record{} imported from {file_name}.",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    );
    html(page)
}

/// Saves the upload under its extension (the reader tells CSV from XLSX by it) and imports it
/// through the same function as `greenplan registers import`, with the importer's rights.
async fn import_upload(
    state: &AppState,
    register: &'static Register,
    plan: &Plan,
    user: &greenplan_store::SignedIn,
    file_name: &str,
    extension: &str,
    contents: &[u8],
) -> Result<Vec<i64>, ImportError> {
    let io = |source| IngestError::Io {
        path: file_name.into(),
        source,
    };
    let mut temp = tempfile::Builder::new()
        .prefix("greenplan-register-")
        .suffix(&format!(".{extension}"))
        .tempfile()
        .map_err(io)?;
    temp.write_all(contents).map_err(io)?;
    import_register_file(
        &state.store,
        plan,
        register,
        temp.path(),
        file_name,
        &user.email,
        |org| user.access.can_contribute_for(org),
    )
    .await
}

fn extension_of(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    ["csv", "xlsx"]
        .into_iter()
        .find(|e| lower.ends_with(&format!(".{e}")))
}

fn unprocessable(page: ImportPage) -> PageResult {
    let mut r = html(page)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> PageError {
    PageError(
        e.status(),
        format!(
            "The upload could not be read: {}. Files may be at most 10 MB.",
            e.body_text()
        ),
    )
}

/// Every live record as CSV, in the template's columns (canonical values, so the file imports
/// back as it is).
pub async fn export_csv(State(state): State<AppState>, Path(slug): Path<String>) -> PageResult {
    let register = find(&slug)?;
    let records = live_records(&state, register).await?;
    let body = register_files::csv(register, &records).map_err(|e| file_error(&e))?;
    Ok(crate::pages::csv_response(
        &format!("{}.csv", register.slug),
        body,
    ))
}

pub async fn export_xlsx(State(state): State<AppState>, Path(slug): Path<String>) -> PageResult {
    let register = find(&slug)?;
    let records = live_records(&state, register).await?;
    let bytes = register_files::workbook(register, &records).map_err(|e| file_error(&e))?;
    Ok(crate::pages::xlsx_response(
        &format!("{}.xlsx", register.slug),
        bytes,
    ))
}

pub async fn template(Path(slug): Path<String>) -> PageResult {
    let register = find(&slug)?;
    let bytes = register_files::workbook(register, &[]).map_err(|e| file_error(&e))?;
    Ok(crate::pages::xlsx_response(
        &format!("{}-template.xlsx", register.slug),
        bytes,
    ))
}

async fn live_records(
    state: &AppState,
    register: &'static Register,
) -> Result<Vec<Record>, PageError> {
    Ok(state
        .store
        .register_records(register, false)
        .await?
        .into_iter()
        .map(|s| s.record)
        .collect())
}

fn file_error(e: &dyn std::error::Error) -> PageError {
    tracing::error!(error = %e, "register file");
    PageError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The file could not be made.".into(),
    )
}
