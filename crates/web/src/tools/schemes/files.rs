//! Importing the scheme register, and its CSV and workbook exports.

use super::*;

/// Imports a register CSV (multipart: `csrf_token`, `file`), all or nothing.
pub async fn import(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError::rejected(
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
                file_name = crate::kit::text_input::field(
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
        Ok(ids) => html(
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
        ),
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
            Err(PageError::Internal(
                "The import failed; nothing was stored.".into(),
            ))
        }
    }
}

pub(crate) fn export_rows(schemes: &[Scheme]) -> Vec<Vec<String>> {
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
        PageError::Internal("The workbook could not be made.".into())
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

pub(crate) fn xlsx(rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
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
