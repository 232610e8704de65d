//! Importing a register file, exporting and the template.

use super::*;

#[derive(Template)]
#[template(path = "register_import.html")]
pub(crate) struct ImportPage {
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
                file_name = crate::kit::text_input::field(
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
        .ok_or_else(|| PageError::SignInNeeded("Sign in to import.".into()))?;
    if !same_origin(&headers, &state.config) || !viewer.check_csrf(&csrf) {
        return Err(crate::kit::forbidden_form());
    }
    let mut page = ImportPage::new(&viewer, register);
    page.file_name = file_name.clone();
    let Some(extension) = extension_of(&file_name).filter(|_| !contents.is_empty()) else {
        page.error = "Choose a CSV or XLSX file to import.".into();
        return unprocessable(page);
    };
    let plan = crate::kit::plan(&state).await?;
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
    page.imported = format!(
        "{} record{} imported from {file_name}.",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    );
    html(page)
}

/// Saves the upload under its extension (the reader tells CSV from XLSX by it) and imports it
/// through the same function as `greenplan registers import`, with the importer's rights.
pub(crate) async fn import_upload(
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

pub(crate) fn extension_of(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    ["csv", "xlsx"]
        .into_iter()
        .find(|e| lower.ends_with(&format!(".{e}")))
}

pub(crate) fn unprocessable(page: ImportPage) -> PageResult {
    let mut r = html(page)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

pub(crate) fn upload_error(e: axum::extract::multipart::MultipartError) -> PageError {
    PageError::rejected(
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
    Ok(crate::kit::csv_response(
        &format!("{}.csv", register.slug),
        body,
    ))
}

pub async fn export_xlsx(State(state): State<AppState>, Path(slug): Path<String>) -> PageResult {
    let register = find(&slug)?;
    let records = live_records(&state, register).await?;
    let bytes = register_files::workbook(register, &records).map_err(|e| file_error(&e))?;
    Ok(crate::kit::xlsx_response(
        &format!("{}.xlsx", register.slug),
        bytes,
    ))
}

pub async fn template(Path(slug): Path<String>) -> PageResult {
    let register = find(&slug)?;
    let bytes = register_files::workbook(register, &[]).map_err(|e| file_error(&e))?;
    Ok(crate::kit::xlsx_response(
        &format!("{}-template.xlsx", register.slug),
        bytes,
    ))
}

pub(crate) async fn live_records(
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

pub(crate) fn file_error(e: &dyn std::error::Error) -> PageError {
    tracing::error!(error = %e, "register file");
    PageError::Internal("The file could not be made.".into())
}
