//! Adding, editing and archiving a record.

use super::*;

pub(crate) fn access_of(viewer: &Viewer) -> Option<Access> {
    viewer.user.as_ref().map(|u| u.access.clone())
}

pub(crate) fn may_write(access: Option<&Access>, record: &Record) -> bool {
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
pub(crate) struct FormPage {
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

pub(crate) fn form_fields(
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

pub(crate) fn signed_in_access(viewer: &Viewer) -> Result<Access, PageError> {
    access_of(viewer).ok_or_else(|| PageError::SignInNeeded("Sign in to change a register.".into()))
}

pub(crate) fn cannot_write(register: &Register) -> PageError {
    PageError::Forbidden(format!(
        "You can change records of \"{}\" only for an organisation you contribute for. Ask its organisation admin for the contributor role.",
        register.title
    ))
}

pub async fn new_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> PageResult {
    let register = find(&slug)?;
    let access = signed_in_access(&viewer)?;
    let plan = crate::kit::plan(&state).await?;
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
pub(crate) fn form_values(body: &[u8]) -> (String, HashMap<String, String>) {
    let mut values: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let csrf = values.remove("csrf_token").unwrap_or_default();
    (csrf, values)
}

/// Validates a submitted form against the register and the plan's organisations.
pub(crate) fn validate(
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
pub(crate) fn form_again(
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
    let plan = crate::kit::plan(&state).await?;
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
    Ok(Redirect::to(&format!("/registers/{}", register.slug)).into_response())
}

pub(crate) async fn live(
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
    let plan = crate::kit::plan(&state).await?;
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
pub(crate) fn field_label(register: &'static Register, field: &str) -> String {
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
    let plan = crate::kit::plan(&state).await?;
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
    Ok(Redirect::to(&format!("/registers/{}", register.slug)).into_response())
}
