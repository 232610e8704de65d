//! Data returns: a trust's data owner uploads activity data (CSV or XLSX), sees every bad row
//! against its row and column or, when the file is clean, the footprint it adds; then confirms,
//! and the file is imported whole. Nothing is stored until the file is clean and confirmed.
//! The upload waits in the database between preview and confirmation, so any server can
//! confirm it.

pub mod periods;
use crate::AppState;
use crate::kit::auth::{Viewer, same_origin};
use crate::kit::forbidden_form;
use crate::kit::long_date;
use crate::kit::{Chrome, PageError, PageResult, html};
use crate::kit::{Routes, Write};
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use greenplan_core::Decimal;
use greenplan_core::period::Quarter;
use greenplan_core::quantity::with_thousands;
use greenplan_ingest::RowError;
use greenplan_service::{ImportReport, import_activity_file};
use std::io::Write as _;

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

#[derive(Template)]
#[template(path = "returns.html")]
struct ReturnsPage {
    title: String,
    chrome: Chrome,
    organisations: Vec<String>,
    error: String,
    file_name: String,
    row_errors: Vec<RowError>,
    more_errors: usize,
    preview: Vec<(String, String, String)>,
    total: String,
    confirm_token: String,
    imported: String,
    /// Reporting periods to submit for: (value, label, selected); the first is "none".
    periods: Vec<(String, String, bool)>,
    /// The chosen period, as sent back with the confirmation.
    period: String,
}

impl ReturnsPage {
    fn new(viewer: &Viewer) -> Self {
        let organisations = viewer
            .user
            .as_ref()
            .map(|u| {
                u.access
                    .memberships
                    .iter()
                    .filter(|m| m.role >= greenplan_core::access::Role::Contributor)
                    .map(|m| m.organisation.to_string())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            title: "Submit activity data".into(),
            chrome: Chrome::of(viewer),
            organisations,
            error: String::new(),
            file_name: String::new(),
            row_errors: Vec::new(),
            more_errors: 0,
            preview: Vec::new(),
            total: String::new(),
            confirm_token: String::new(),
            imported: String::new(),
            periods: Vec::new(),
            period: String::new(),
        }
    }

    /// Offers the open reporting periods, the latest chosen unless `chosen` says otherwise.
    async fn with_periods(
        mut self,
        state: &AppState,
        chosen: Option<&str>,
    ) -> Result<Self, PageError> {
        let periods = state.store.reporting_periods().await?;
        let chosen = chosen.map_or_else(
            || {
                periods
                    .first()
                    .map(|p| p.quarter.to_string())
                    .unwrap_or_default()
            },
            str::to_string,
        );
        self.periods = std::iter::once((String::new(), "Not a quarterly return".to_string()))
            .chain(periods.iter().map(|p| {
                (
                    p.quarter.to_string(),
                    format!("{} (due {})", p.quarter, long_date(p.due_on)),
                )
            }))
            .map(|(v, l)| {
                let selected = v == chosen;
                (v, l, selected)
            })
            .collect();
        self.period = chosen;
        Ok(self)
    }
}

/// The reporting period chosen in a form, checked to be open.
async fn chosen_period(state: &AppState, text: &str) -> Result<Option<Quarter>, PageError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let quarter = Quarter::parse(text.trim())
        .map_err(|e| PageError::Unprocessable(format!("Reporting period: {e}")))?;
    let open = state.store.reporting_periods().await?;
    if !open.iter().any(|p| p.quarter == quarter) {
        return Err(PageError::Unprocessable(format!(
            "{quarter} is not open for returns. Choose an open reporting period."
        )));
    }
    Ok(Some(quarter))
}

/// The signed-in person, or the redirect to the sign-in page.
fn signed_in(viewer: &Viewer) -> Result<&greenplan_store::SignedIn, Redirect> {
    viewer.user.as_ref().ok_or_else(|| Redirect::to("/login"))
}

pub async fn returns_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    if let Err(r) = signed_in(&viewer) {
        return Ok(r.into_response());
    }
    html(ReturnsPage::new(&viewer).with_periods(&state, None).await?)
}

/// Receives the file, checks it fully (permissions per row included) and shows the problems
/// or the preview; a clean file is staged for confirmation.
pub async fn preview(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult {
    let user = match signed_in(&viewer) {
        Ok(u) => u.clone(),
        Err(r) => return Ok(r.into_response()),
    };
    let (mut csrf, mut file_name, mut contents) = (String::new(), String::new(), Vec::new());
    let mut period = String::new();
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("csrf_token") => csrf = field.text().await.map_err(upload_error)?,
            Some("period") => {
                period = crate::kit::text_input::field(
                    "period",
                    field.text().await.map_err(upload_error)?,
                )?;
            }
            Some("file") => {
                file_name = crate::kit::text_input::field(
                    "file",
                    field.file_name().unwrap_or("upload.csv").to_string(),
                )?;
                contents = field.bytes().await.map_err(upload_error)?.to_vec();
            }
            _ => {}
        }
    }
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&csrf) {
        return Err(forbidden_form());
    }
    let quarter = chosen_period(&state, &period).await?;
    let mut page = ReturnsPage::new(&viewer)
        .with_periods(&state, Some(&period))
        .await?;
    page.file_name = file_name.clone();
    let extension = extension_of(&file_name);
    if contents.is_empty() || extension.is_none() {
        page.error = if file_name.to_lowercase().ends_with(".xls") {
            "Save the workbook as an Excel Workbook (.xlsx) or as CSV, then upload it: the old .xls format is not accepted here.".into()
        } else {
            "Choose a CSV or XLSX file to upload.".into()
        };
        return unprocessable(page);
    }
    let report = check(&state, &viewer, &file_name, &contents, true, quarter).await?;
    match report {
        ImportReport::Rejected { errors, total } => {
            page.more_errors = total.saturating_sub(errors.len());
            page.error = format!(
                "{total} row{} cannot be used, so nothing has been stored. Fix {} in your file and upload it again.",
                plural(total),
                if total == 1 { "it" } else { "them" }
            );
            page.row_errors = errors;
            unprocessable(page)
        }
        ImportReport::Checked { adds, .. } => {
            fill_preview(&mut page, &adds);
            page.confirm_token = state
                .store
                .stage_upload(user.user_id, &file_name, &contents)
                .await?;
            html(page)
        }
        ImportReport::Imported { .. } | ImportReport::AlreadyImported { .. } => html(page),
    }
}

#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf_token: String,
    upload: String,
    #[serde(default)]
    period: String,
}

/// Imports a previewed upload, checking it again (data or permissions may have changed).
pub async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ConfirmForm>,
) -> PageResult {
    let user = match signed_in(&viewer) {
        Ok(u) => u.clone(),
        Err(r) => return Ok(r.into_response()),
    };
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&form.csrf_token) {
        return Err(forbidden_form());
    }
    let quarter = chosen_period(&state, &form.period).await?;
    let mut page = ReturnsPage::new(&viewer)
        .with_periods(&state, Some(&form.period))
        .await?;
    let Some(staged) = state
        .store
        .take_staged_upload(user.user_id, &form.upload)
        .await?
    else {
        page.error =
            "That upload has already been imported or has expired. Upload the file again.".into();
        return unprocessable(page);
    };
    page.file_name = staged.file_name.clone();
    match check(
        &state,
        &viewer,
        &staged.file_name,
        &staged.contents,
        false,
        quarter,
    )
    .await?
    {
        ImportReport::Imported {
            import_id,
            rows,
            adds,
        } => {
            fill_preview(&mut page, &adds);
            page.imported = format!(
                "{} rows imported from {} (import {import_id}){}.",
                with_thousands(Decimal::from(rows), 0),
                staged.file_name,
                quarter.map_or_else(String::new, |q| format!(
                    ", submitted as your return for {q}"
                ))
            );
            html(page)
        }
        ImportReport::AlreadyImported { import_id, .. } => {
            page.imported = format!(
                "This file was already imported (import {import_id}); nothing was stored twice."
            );
            html(page)
        }
        ImportReport::Rejected { errors, total } => {
            page.error = format!(
                "{total} row{} cannot be used, so nothing has been stored.",
                plural(total)
            );
            page.row_errors = errors;
            unprocessable(page)
        }
        ImportReport::Checked { .. } => html(page),
    }
}

async fn check(
    state: &AppState,
    viewer: &Viewer,
    file_name: &str,
    contents: &[u8],
    dry_run: bool,
    quarter: Option<Quarter>,
) -> Result<ImportReport, PageError> {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to submit data.".into()))?;
    let suffix = format!(".{}", extension_of(file_name).unwrap_or("csv"));
    let fail = |e: std::io::Error| {
        PageError::Internal(format!("The upload could not be saved for checking: {e}"))
    };
    let mut temp = tempfile::Builder::new()
        .prefix("greenplan-return-")
        .suffix(&suffix)
        .tempfile()
        .map_err(fail)?;
    temp.write_all(contents).map_err(fail)?;
    let access = user.access.clone();
    import_activity_file(
        &state.store,
        temp.path(),
        Some(file_name),
        &user.email,
        dry_run,
        quarter,
        move |org| access.can_contribute_for(org),
        |_| {},
    )
    .await
    .map_err(|e| match e {
        // Named as the person named it, not by the temporary file it was checked in.
        greenplan_service::ImportError::File(e) => PageError::Unprocessable(
            e.to_string()
                .replace(&temp.path().display().to_string(), file_name),
        ),
        other => {
            tracing::error!(error = %other, "import failed");
            PageError::Internal(
                "The file could not be imported. Nothing was stored; please try again.".into(),
            )
        }
    })
}

fn fill_preview(page: &mut ReturnsPage, adds: &greenplan_core::footprint::FootprintTable) {
    let t = |kg: Decimal| with_thousands(kg / Decimal::ONE_THOUSAND, 3);
    page.preview = adds
        .lines
        .iter()
        .map(|l| (l.key[0].clone(), l.key[1].clone(), t(l.kgco2e)))
        .collect();
    page.total = adds.total_kgco2e().map_or_else(|e| e.to_string(), t);
}

/// The kinds of file a return may be. Not the old binary `.xls`: its reader holds the
/// whole area a sheet spans in memory (up to 16.7 million cells from a small file), where
/// an XLSX is read cell by cell.
fn extension_of(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    ["csv", "xlsx"]
        .into_iter()
        .find(|e| lower.ends_with(&format!(".{e}")))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn unprocessable(page: ReturnsPage) -> PageResult {
    let mut r = html(page)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> PageError {
    PageError::rejected(
        e.status(),
        format!(
            "The upload could not be read: {}. Files may be at most 20 MB.",
            e.body_text()
        ),
    )
}

/// A return template: the header, a frozen first row, and example rows for the signed-in
/// person's organisation, as an XLSX file.
pub async fn template(viewer: Viewer) -> Response {
    let org = viewer
        .user
        .as_ref()
        .and_then(|u| u.access.memberships.first())
        .map_or_else(|| "RTG".to_string(), |m| m.organisation.to_string());
    match template_xlsx(&org) {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"greenplan-activity-return.xlsx\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            PageError::Internal(format!("The template could not be made: {e}")).into_response()
        }
    }
}

fn template_xlsx(org: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Activity")?;
    let bold = Format::new().set_bold();
    let headers = greenplan_ingest::activity::REQUIRED
        .iter()
        .chain(&["category", "notes"])
        .copied()
        .collect::<Vec<_>>();
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        sheet.set_column_width(c as u16, 22)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let examples = [
        [
            "Main site",
            "2025-04-01",
            "2025-04-30",
            "natural-gas",
            "250000",
            "kWh",
            "",
            "",
        ],
        [
            "Main site",
            "2025-04-01",
            "2025-04-30",
            "grid-electricity",
            "120000",
            "kWh",
            "",
            "",
        ],
        [
            "",
            "2025-04-01",
            "2025-04-30",
            "diesel",
            "900",
            "litres",
            "fleet-and-business-travel",
            "ambulance fleet",
        ],
    ];
    for (r, row) in examples.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, org)?;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16 + 1;
            match v.parse::<f64>() {
                Ok(n) if c == 5 => sheet.write_number(r, c, n)?,
                _ => sheet.write_string(r, c, *v)?,
            };
        }
    }
    book.save_to_buffer()
}

/// Quarterly returns: uploading a return, and the ICB's reporting periods and approvals.
pub fn routes() -> Routes {
    Routes::new()
        .get("/returns", returns_page)
        .post_up_to(
            "/returns/preview",
            Write::Contributors,
            MAX_UPLOAD_BYTES,
            preview,
        )
        .post("/returns/confirm", Write::Contributors, confirm)
        .get("/returns/template.xlsx", template)
        .get("/returns/periods", periods::periods_page)
        .post(
            "/returns/periods",
            Write::SystemAdmins,
            periods::open_period,
        )
        .get("/returns/periods/{quarter}", periods::period_page)
        .post(
            "/returns/{id}/approve",
            Write::SystemAdmins,
            periods::approve,
        )
}
