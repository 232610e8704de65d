//! The scheme register: list with filters, add, edit, archive, the "Greener NHS" tag (a
//! reviewed SIA tags a scheme when it is reviewed; a recorded reason here), CSV import (all or
//! nothing, through `greenplan_service::tools`) and CSV/XLSX export. Contributors of a
//! scheme's organisation change it; everyone else reads.

use crate::AppState;
use crate::auth::Viewer;
use crate::pages::{
    Chrome, HistoryRow, PageError, PageResult, csv_bytes, csv_response, history_of, html,
    not_found_error, plan, when,
};
use crate::stale::{StaleNotice, revision_of, shown_stale, stale_of};
use crate::tools::{
    action_ids, can_edit, field, form_pairs, organisation_choices, organisation_name, refused,
    require_contributor, see_other, sentence, shown_again, signed_in, writer,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::plan::Plan;
use greenplan_core::scheme::{
    Consideration, Scheme, SchemeDetails, Stage, due_consideration_in_year,
};
use greenplan_service::ImportError;

/// Largest register CSV accepted.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

/// The register's columns, in export order (an export can be imported again: the import
/// ignores `id`, `greener_nhs` and `considered`).
const COLUMNS: [&str; 11] = [
    "id",
    "name",
    "owner",
    "organisation",
    "stage",
    "start",
    "end",
    "actions",
    "description",
    "greener_nhs",
    "considered",
];

/// The metric's rows for a year: (period, new, considered, by SIA, share).
pub fn consideration_rows(
    schemes: &[Scheme],
    year: FinancialYear,
) -> Vec<(String, u32, u32, u32, String)> {
    due_consideration_in_year(schemes, year)
        .into_iter()
        .map(|f| {
            (
                f.period,
                f.new_schemes,
                f.considered,
                f.by_assessment,
                f.share
                    .map_or_else(|| "No new schemes".into(), |s| format!("{s}%")),
            )
        })
        .collect()
}

/// How a scheme's impact was considered, in words.
fn considered_text(c: &Option<Consideration>) -> String {
    match c {
        Some(Consideration::Assessed { sia }) => format!("Reviewed SIA {sia}"),
        Some(Consideration::Reason { by, at, why }) => {
            format!("Reason recorded by {by} on {}: {why}", when(*at))
        }
        None => String::new(),
    }
}

/// A scheme as a row of the register.
pub struct SchemeRow {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub owner: String,
    pub stage: String,
    pub dates: String,
    pub actions: Vec<String>,
    pub greener: bool,
}

fn dates_text(start: Option<NaiveDate>, end: Option<NaiveDate>) -> String {
    let d = |x: Option<NaiveDate>| x.map_or_else(|| "not set".to_string(), crate::pages::long_date);
    match (start, end) {
        (None, None) => String::new(),
        _ => format!("{} to {}", d(start), d(end)),
    }
}

/// The list's filters (query string).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filters {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    archived: String,
}

impl Filters {
    fn keeps(&self, s: &Scheme) -> bool {
        (self.organisation.is_empty() || s.details.organisation.as_str() == self.organisation)
            && (self.stage.is_empty() || s.details.stage.slug() == self.stage)
            && match self.tag.as_str() {
                "greener" => s.is_greener_nhs(),
                "not" => !s.is_greener_nhs(),
                _ => true,
            }
            && (self.archived == "yes" || !s.archived)
    }
}

#[derive(Template)]
#[template(path = "schemes.html")]
struct ListPage {
    title: String,
    chrome: Chrome,
    rows: Vec<SchemeRow>,
    total: usize,
    organisations: Vec<(String, String, bool)>,
    stages: Vec<(String, String, bool)>,
    tag: String,
    archived: bool,
    year: String,
    years: Vec<(String, bool)>,
    figures: Vec<(String, u32, u32, u32, String)>,
    can_add: bool,
    import_error: Vec<String>,
    imported: String,
}

fn row_of(plan: &Plan, s: &Scheme) -> SchemeRow {
    SchemeRow {
        id: s.id,
        name: s.details.name.clone(),
        organisation: organisation_name(plan, &s.details.organisation),
        owner: s.details.owner.clone(),
        stage: s.details.stage.label().into(),
        dates: dates_text(s.details.start, s.details.end),
        actions: s.details.actions.clone(),
        greener: s.is_greener_nhs(),
    }
}

async fn list_page(
    viewer: &Viewer,
    state: &AppState,
    filters: &Filters,
    import_error: Vec<String>,
    imported: String,
) -> Result<ListPage, PageError> {
    let plan = plan(state).await?;
    let all = state.store.schemes(true).await?;
    let this_year = FinancialYear::containing(chrono::Local::now().date_naive());
    let year = FinancialYear::parse(&filters.year).unwrap_or(this_year);
    let years = (plan.info.first_year.0.min(year.0)..=plan.info.last_year.0.max(this_year.0))
        .map(|y| (FinancialYear(y).to_string(), y == year.0))
        .collect();
    let rows: Vec<SchemeRow> = all
        .iter()
        .filter(|s| filters.keeps(s))
        .map(|s| row_of(&plan, s))
        .collect();
    Ok(ListPage {
        title: "Scheme register".into(),
        chrome: Chrome::of(viewer),
        total: rows.len(),
        rows,
        organisations: plan
            .organisations
            .iter()
            .map(|o| {
                (
                    o.code.to_string(),
                    o.display_name().to_string(),
                    o.code.as_str() == filters.organisation,
                )
            })
            .collect(),
        stages: Stage::ALL
            .iter()
            .map(|s| {
                (
                    s.slug().to_string(),
                    s.label().to_string(),
                    s.slug() == filters.stage,
                )
            })
            .collect(),
        tag: filters.tag.clone(),
        archived: filters.archived == "yes",
        year: year.to_string(),
        years,
        figures: consideration_rows(&all, year),
        can_add: viewer
            .user
            .as_ref()
            .is_some_and(|u| !u.access.contributing_organisations(&plan).is_empty()),
        import_error,
        imported,
    })
}

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(filters): Query<Filters>,
) -> PageResult {
    html(list_page(&viewer, &state, &filters, Vec::new(), String::new()).await?)
}

#[derive(Template)]
#[template(path = "scheme.html")]
struct ShowPage {
    title: String,
    chrome: Chrome,
    scheme: Scheme,
    row: SchemeRow,
    considered: String,
    tagged_by_sia: bool,
    /// (id, title, status label, colour)
    sias: Vec<(i64, String, String, String)>,
    /// (id, name)
    scenarios: Vec<(i64, String)>,
    can_edit: bool,
    error: String,
    history: Vec<HistoryRow>,
    /// The scheme's revision, sent by its forms (`crate::stale`).
    revision: i64,
    stale: Option<StaleNotice>,
    /// What the person wrote in the reason and archive forms (kept when a save is refused).
    why: String,
    reason: String,
}

async fn scheme_of(state: &AppState, id: i64) -> Result<Scheme, PageError> {
    state
        .store
        .scheme(id)
        .await?
        .ok_or_else(|| not_found_error("scheme"))
}

async fn show_page(
    viewer: &Viewer,
    state: &AppState,
    id: i64,
    error: String,
) -> Result<ShowPage, PageError> {
    let plan = plan(state).await?;
    // The revision before the record (see `Store::revision`).
    let revision = scheme_revision(state, id).await?;
    let scheme = scheme_of(state, id).await?;
    let sias = state
        .store
        .sias()
        .await?
        .into_iter()
        .filter(|a| a.scheme == Some(id))
        .map(|a| {
            (
                a.id,
                a.title,
                a.status.label().to_string(),
                a.status.colour().to_string(),
            )
        })
        .collect();
    let scenarios = state
        .store
        .pathway_scenarios()
        .await?
        .into_iter()
        .filter(|s| s.scheme == Some(id))
        .map(|s| (s.id, s.scenario.name))
        .collect();
    Ok(ShowPage {
        title: scheme.details.name.clone(),
        chrome: Chrome::of(viewer),
        row: row_of(&plan, &scheme),
        considered: considered_text(&scheme.consideration),
        tagged_by_sia: matches!(scheme.consideration, Some(Consideration::Assessed { .. })),
        can_edit: !scheme.archived && can_edit(viewer, &scheme.details.organisation),
        history: history_of(state, "scheme", &id.to_string()).await?,
        sias,
        scenarios,
        scheme,
        error,
        revision,
        stale: None,
        why: String::new(),
        reason: String::new(),
    })
}

async fn scheme_revision(state: &AppState, id: i64) -> Result<i64, PageError> {
    state
        .store
        .revision(greenplan_store::Revised::Scheme, &id.to_string())
        .await?
        .ok_or_else(|| not_found_error("scheme"))
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    html(show_page(&viewer, &state, id, String::new()).await?)
}

/// The scheme form as sent.
#[derive(Debug, Clone, Default)]
pub struct SchemeForm {
    pub name: String,
    pub owner: String,
    pub organisation: String,
    pub stage: String,
    pub start: String,
    pub end: String,
    pub actions: String,
    pub description: String,
    /// The revision the form was drawn from (`crate::stale`; unused for a new scheme).
    pub revision: String,
}

impl SchemeForm {
    fn of(s: &Scheme) -> Self {
        let d = &s.details;
        Self {
            name: d.name.clone(),
            owner: d.owner.clone(),
            organisation: d.organisation.to_string(),
            stage: d.stage.slug().into(),
            start: d.start.map(|x| x.to_string()).unwrap_or_default(),
            end: d.end.map(|x| x.to_string()).unwrap_or_default(),
            actions: d.actions.join(", "),
            description: d.description.clone(),
            revision: String::new(),
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let f = |n: &str| field(pairs, n).to_string();
        Self {
            name: f("name"),
            owner: f("owner"),
            organisation: f("organisation"),
            stage: f("stage"),
            start: f("start"),
            end: f("end"),
            actions: f("actions"),
            description: f("description"),
            revision: f("revision"),
        }
    }

    /// The details the form describes, or what to fix.
    fn details(&self, plan: &Plan, organisation: OdsCode) -> Result<SchemeDetails, String> {
        let date = |label: &str, t: &str| -> Result<Option<NaiveDate>, String> {
            match t.trim() {
                "" => Ok(None),
                t => greenplan_ingest::activity::parse_date(t)
                    .map(Some)
                    .ok_or_else(|| {
                        format!(
                            "{label}: `{t}` is not a date. Write it as 2025-04-01 or 01/04/2025."
                        )
                    }),
            }
        };
        let details = SchemeDetails {
            name: self.name.clone(),
            owner: self.owner.clone(),
            organisation,
            stage: self
                .stage
                .parse::<Stage>()
                .map_err(|e| sentence(&e.to_string()))?,
            start: date("Start date", &self.start)?,
            end: date("End date", &self.end)?,
            actions: action_ids(&self.actions, plan)?,
            description: self.description.clone(),
        };
        details.checked().map_err(|e| sentence(&e.to_string()))
    }
}

#[derive(Template)]
#[template(path = "scheme_form.html")]
struct FormPage {
    title: String,
    chrome: Chrome,
    post_to: String,
    is_new: bool,
    form: SchemeForm,
    organisations: Vec<(String, String, bool)>,
    stages: Vec<(String, String, bool)>,
    error: String,
    stale: Option<StaleNotice>,
}

async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    id: Option<i64>,
    form: SchemeForm,
    error: String,
) -> Result<FormPage, PageError> {
    let user = signed_in(viewer, "add a scheme")?;
    let plan = plan(state).await?;
    Ok(FormPage {
        title: if id.is_some() {
            format!("Edit {}", form.name)
        } else {
            "Add a scheme".into()
        },
        chrome: Chrome::of(viewer),
        post_to: id.map_or_else(
            || "/tools/schemes".into(),
            |i| format!("/tools/schemes/{i}"),
        ),
        is_new: id.is_none(),
        organisations: organisation_choices(&plan, user, &form.organisation),
        stages: Stage::ALL
            .iter()
            .map(|s| {
                (
                    s.slug().to_string(),
                    s.label().to_string(),
                    s.slug() == form.stage,
                )
            })
            .collect(),
        form,
        error,
        stale: None,
    })
}

pub async fn new_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let form = SchemeForm {
        stage: Stage::Idea.slug().into(),
        ..SchemeForm::default()
    };
    html(form_page(&viewer, &state, None, form, String::new()).await?)
}

pub async fn edit_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let user = signed_in(&viewer, "edit a scheme")?;
    let revision = scheme_revision(&state, id).await?;
    let scheme = scheme_of(&state, id).await?;
    require_contributor(user, &scheme.details.organisation, "the schemes")?;
    let mut form = SchemeForm::of(&scheme);
    form.revision = revision.to_string();
    html(form_page(&viewer, &state, Some(id), form, String::new()).await?)
}

pub async fn create(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    save(viewer, state, headers, body, None).await
}

pub async fn update(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    save(viewer, state, headers, body, Some(id)).await
}

async fn save(
    viewer: Viewer,
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    id: Option<i64>,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "change the scheme register")?;
    let mut form = SchemeForm::read(&pairs);
    let organisation = match id {
        Some(id) => scheme_of(&state, id).await?.details.organisation,
        None => match OdsCode::parse(&form.organisation) {
            Ok(o) => o,
            Err(_) => {
                let page = form_page(
                    &viewer,
                    &state,
                    id,
                    form,
                    "Choose the organisation the scheme belongs to.".into(),
                )
                .await?;
                return shown_again(page);
            }
        },
    };
    require_contributor(&user, &organisation, "the schemes")?;
    let revision = match id {
        Some(_) => revision_of(Some(&form.revision))?,
        None => 0,
    };
    let plan = plan(&state).await?;
    let details = match form.details(&plan, organisation) {
        Ok(d) => d,
        Err(e) => return shown_again(form_page(&viewer, &state, id, form, e).await?),
    };
    let saved = match id {
        Some(id) => state
            .store
            .update_scheme(&user.email, id, revision, &details)
            .await
            .map(|_| id),
        None => state
            .store
            .add_schemes(&user.email, std::slice::from_ref(&details))
            .await
            .map(|ids| ids[0]),
    };
    match saved {
        Ok(id) => {
            state.cache.invalidate().await;
            see_other(&format!("/tools/schemes/{id}"))
        }
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(form_page(&viewer, &state, id, form, sentence(&m)).await?)
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            form.revision = stale.current.to_string();
            let mut page = form_page(&viewer, &state, id, form, String::new()).await?;
            page.stale = Some(StaleNotice::plain(&stale));
            shown_stale(page)
        }
    }
}

/// The scheme page again after a stale save, with the person's input and the changes since.
async fn show_stale(
    viewer: &Viewer,
    state: &AppState,
    id: i64,
    stale: &greenplan_store::StaleEdit,
    why: &str,
    reason: &str,
) -> PageResult {
    let mut page = show_page(viewer, state, id, String::new()).await?;
    page.revision = stale.current;
    page.stale = Some(StaleNotice::plain(stale));
    page.why = why.to_string();
    page.reason = reason.to_string();
    shown_stale(page)
}

/// Archives a scheme, with a reason.
pub async fn archive(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "archive a scheme")?;
    let scheme = scheme_of(&state, id).await?;
    require_contributor(&user, &scheme.details.organisation, "the schemes")?;
    let revision = revision_of(Some(field(&pairs, "revision")))?;
    let reason = field(&pairs, "reason");
    match state
        .store
        .archive_scheme(&user.email, id, revision, reason)
        .await
    {
        Ok(()) => {
            state.cache.invalidate().await;
            see_other("/tools/schemes")
        }
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(show_page(&viewer, &state, id, sentence(&m)).await?)
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            show_stale(&viewer, &state, id, &stale, "", reason).await
        }
    }
}

/// Tags a scheme "Greener NHS" on a recorded reason.
pub async fn record_reason(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let user = writer(&viewer, &headers, &pairs, "tag a scheme")?;
    let scheme = scheme_of(&state, id).await?;
    require_contributor(&user, &scheme.details.organisation, "the schemes")?;
    let revision = revision_of(Some(field(&pairs, "revision")))?;
    let why = field(&pairs, "why");
    match state
        .store
        .record_scheme_reason(&user.email, id, revision, why)
        .await
    {
        Ok(()) => {
            state.cache.invalidate().await;
            see_other(&format!("/tools/schemes/{id}"))
        }
        Err(greenplan_store::StoreError::Rejected(m)) => {
            shown_again(show_page(&viewer, &state, id, sentence(&m)).await?)
        }
        Err(e) => {
            let stale = stale_of(e).map_err(refused)?;
            show_stale(&viewer, &state, id, &stale, why, "").await
        }
    }
}

/// Imports a register CSV (multipart: `csrf_token`, `file`), all or nothing.
pub async fn import(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(
            e.status(),
            format!(
                "The file could not be read: {}. Files may be at most 2 MB.",
                e.body_text()
            ),
        )
    };
    let (mut csrf, mut file_name, mut bytes) = (String::new(), String::new(), Vec::new());
    while let Some(f) = multipart.next_field().await.map_err(bad)? {
        match f.name().unwrap_or_default() {
            "csrf_token" => csrf = f.text().await.map_err(bad)?,
            "file" => {
                file_name = crate::text_input::field(
                    "file",
                    f.file_name().unwrap_or("schemes.csv").to_string(),
                )?;
                bytes = f.bytes().await.map_err(bad)?.to_vec();
            }
            _ => {}
        }
    }
    let user = viewer.form_writer(&headers, &csrf, "import schemes")?;
    let shown = |errors: Vec<String>| async {
        shown_again(list_page(&viewer, &state, &Filters::default(), errors, String::new()).await?)
    };
    if bytes.is_empty() {
        return shown(vec!["Choose a CSV file of schemes to import.".into()]).await;
    }
    let access = user.access.clone();
    match greenplan_service::tools::import_schemes(
        &state.store,
        &user.email,
        &file_name,
        &bytes,
        |o| access.can_contribute_for(o),
    )
    .await
    {
        Ok(ids) => {
            state.cache.invalidate().await;
            html(
                list_page(
                    &viewer,
                    &state,
                    &Filters::default(),
                    Vec::new(),
                    format!(
                        "Imported {} scheme{} from {file_name}.",
                        ids.len(),
                        if ids.len() == 1 { "" } else { "s" }
                    ),
                )
                .await?,
            )
        }
        Err(ImportError::File(e)) => {
            let mut lines: Vec<String> = e.row_errors().iter().map(ToString::to_string).collect();
            if lines.is_empty() {
                lines.push(e.to_string());
            } else {
                lines.insert(
                    0,
                    e.to_string().lines().next().unwrap_or_default().to_string(),
                );
            }
            shown(lines).await
        }
        Err(ImportError::Store(greenplan_store::StoreError::Rejected(m))) => {
            shown(vec![format!("Nothing was imported: {}", sentence(&m))]).await
        }
        Err(e) => {
            tracing::error!(error = %e, "scheme import failed");
            Err(PageError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The import failed; nothing was stored.".into(),
            ))
        }
    }
}

fn export_rows(schemes: &[Scheme]) -> Vec<Vec<String>> {
    schemes
        .iter()
        .map(|s| {
            let d = &s.details;
            vec![
                s.id.to_string(),
                d.name.clone(),
                d.owner.clone(),
                d.organisation.to_string(),
                d.stage.slug().to_string(),
                d.start.map(|x| x.to_string()).unwrap_or_default(),
                d.end.map(|x| x.to_string()).unwrap_or_default(),
                d.actions.join("; "),
                d.description.clone(),
                if s.is_greener_nhs() { "yes" } else { "no" }.to_string(),
                considered_text(&s.consideration),
            ]
        })
        .collect()
}

/// The register (not archived) as CSV.
pub async fn export_csv(State(state): State<AppState>) -> PageResult {
    let schemes = state.store.schemes(false).await?;
    let body = csv_bytes(&COLUMNS, export_rows(&schemes).into_iter())?;
    Ok(csv_response("greenplan-schemes.csv", body))
}

/// The register (not archived) as a workbook: one sheet, header frozen, text cells.
pub async fn export_xlsx(State(state): State<AppState>) -> PageResult {
    let schemes = state.store.schemes(false).await?;
    let bytes = xlsx(&export_rows(&schemes)).map_err(|e| {
        tracing::error!(error = %e, "scheme workbook");
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The workbook could not be made.".into(),
        )
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"greenplan-schemes.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

fn xlsx(rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Schemes")?;
    let bold = Format::new().set_bold();
    for (c, h) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        sheet.set_column_width(c as u16, if c == 0 { 6 } else { 20 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    use greenplan_reports::xlsx::{cell_text, rows_left_out, rows_that_fit};
    for (r, row) in rows.iter().take(rows_that_fit(rows.len())).enumerate() {
        for (c, v) in row.iter().enumerate() {
            if c == 0
                && let Ok(n) = v.parse::<f64>()
            {
                sheet.write_number(r as u32 + 1, 0, n)?;
            } else {
                sheet.write_string(r as u32 + 1, c as u16, cell_text(v))?;
            }
        }
    }
    if let Some(line) = rows_left_out(rows.len()) {
        sheet.write_string(1 + rows_that_fit(rows.len()) as u32, 0, &line)?;
    }
    book.save_to_buffer()
}
