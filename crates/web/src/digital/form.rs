//! Adding and editing a digital scheme.

use super::*;

// ---------------------------------------------------------------- adding and editing

/// The scheme form as typed.
#[derive(Default, Clone)]
pub(crate) struct SchemeForm {
    csrf_token: String,
    organisation: String,
    name: String,
    description: String,
    start_date: String,
    /// (mode, journeys, km each)
    journeys: [(String, String, String); JOURNEY_ROWS],
    letters: String,
    sheets_each: String,
    bed_days: String,
    bed_day_factor: String,
    /// (count, kg each, life years, source)
    devices: [(String, String, String, String); DEVICE_ROWS],
    hosting_kwh: String,
    data_gb: String,
    data_kwh_per_gb: String,
    data_source: String,
    /// The revision the form was drawn from (`crate::kit::stale`; unused for a new scheme).
    revision: String,
}

/// A number of 0 or more, or the problem recorded (and 0 returned, so every problem is found).
pub(crate) fn number_or_problem(text: &str, what: &str, problems: &mut Vec<String>) -> Decimal {
    match greenplan_core::quantity::parse_decimal(text.trim()) {
        Some(v) if !v.is_sign_negative() || v.is_zero() => v,
        _ => {
            problems.push(format!(
                "{what}: `{}` is not a number of 0 or more; write a number, e.g. 1200",
                text.trim()
            ));
            Decimal::ZERO
        }
    }
}

pub(crate) fn row_index(key: &str, prefix: &str) -> Option<usize> {
    key.strip_prefix(prefix)?.parse().ok()
}

impl SchemeForm {
    fn parse(body: &[u8]) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            let k = k.as_ref();
            let j = |p| row_index(k, p).filter(|i| *i < JOURNEY_ROWS);
            let d = |p| row_index(k, p).filter(|i| *i < DEVICE_ROWS);
            if let Some(i) = j("journey_mode_") {
                f.journeys[i].0 = v;
            } else if let Some(i) = j("journey_count_") {
                f.journeys[i].1 = v;
            } else if let Some(i) = j("journey_km_") {
                f.journeys[i].2 = v;
            } else if let Some(i) = d("device_count_") {
                f.devices[i].0 = v;
            } else if let Some(i) = d("device_kg_") {
                f.devices[i].1 = v;
            } else if let Some(i) = d("device_life_") {
                f.devices[i].2 = v;
            } else if let Some(i) = d("device_source_") {
                f.devices[i].3 = v;
            } else {
                let slot = match k {
                    "csrf_token" => &mut f.csrf_token,
                    "organisation" => &mut f.organisation,
                    "name" => &mut f.name,
                    "description" => &mut f.description,
                    "start_date" => &mut f.start_date,
                    "letters" => &mut f.letters,
                    "sheets_each" => &mut f.sheets_each,
                    "bed_days" => &mut f.bed_days,
                    "bed_day_factor" => &mut f.bed_day_factor,
                    "hosting_kwh" => &mut f.hosting_kwh,
                    "data_gb" => &mut f.data_gb,
                    "data_kwh_per_gb" => &mut f.data_kwh_per_gb,
                    "data_source" => &mut f.data_source,
                    "revision" => &mut f.revision,
                    _ => continue,
                };
                *slot = v;
            }
        }
        f
    }

    /// The form filled from a stored scheme (empty rows left for more lines).
    fn of(s: &DigitalScheme) -> Self {
        let mut f = Self {
            organisation: s.organisation.to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            start_date: s.start_date.to_string(),
            revision: s.revision.to_string(),
            ..Self::default()
        };
        let (mut j, mut d) = (0, 0);
        let t = |v: &Decimal| v.normalize().to_string();
        for line in &s.lines {
            match line {
                DigitalLine::AvoidedJourneys {
                    mode,
                    journeys,
                    km_each,
                } if j < JOURNEY_ROWS => {
                    f.journeys[j] = (mode.slug().into(), t(journeys), t(km_each));
                    j += 1;
                }
                DigitalLine::LettersAvoided {
                    letters,
                    sheets_each,
                } => (f.letters, f.sheets_each) = (t(letters), t(sheets_each)),
                DigitalLine::BedDaysAvoided {
                    days,
                    care_activity,
                } => (f.bed_days, f.bed_day_factor) = (t(days), care_activity.clone()),
                DigitalLine::Devices {
                    count,
                    kgco2e_each,
                    life_years,
                    source,
                } if d < DEVICE_ROWS => {
                    f.devices[d] = (t(count), t(kgco2e_each), t(life_years), source.clone());
                    d += 1;
                }
                DigitalLine::Hosting { kwh } => f.hosting_kwh = t(kwh),
                DigitalLine::DataTransfer {
                    gb,
                    kwh_per_gb,
                    source,
                } => {
                    (f.data_gb, f.data_kwh_per_gb, f.data_source) =
                        (t(gb), t(kwh_per_gb), source.clone())
                }
                _ => {}
            }
        }
        f
    }

    /// The scheme, or every problem in words.
    fn scheme(&self) -> Result<NewDigitalScheme, Vec<String>> {
        let mut problems = Vec::new();
        let filled = |fields: &[&String]| fields.iter().any(|f| !f.trim().is_empty());
        let mut lines = Vec::new();
        for (mode, count, km) in &self.journeys {
            if !filled(&[count, km]) {
                continue;
            }
            let journeys = number_or_problem(count, "Journeys avoided a year", &mut problems);
            let km_each = number_or_problem(
                km,
                "Distance of each journey (km, there and back)",
                &mut problems,
            );
            match Mode::parse(mode) {
                Ok(mode) => lines.push(DigitalLine::AvoidedJourneys {
                    mode,
                    journeys,
                    km_each,
                }),
                Err(e) => problems.push(format!("Mode of the journeys avoided: {e}")),
            }
        }
        if filled(&[&self.letters]) {
            let letters = number_or_problem(&self.letters, "Letters avoided a year", &mut problems);
            let sheets_each = match self.sheets_each.trim() {
                "" => Decimal::ONE,
                s => number_or_problem(s, "Sheets in each letter", &mut problems),
            };
            lines.push(DigitalLine::LettersAvoided {
                letters,
                sheets_each,
            });
        }
        if filled(&[&self.bed_days]) {
            lines.push(DigitalLine::BedDaysAvoided {
                days: number_or_problem(&self.bed_days, "Bed days avoided a year", &mut problems),
                care_activity: self.bed_day_factor.trim().to_string(),
            });
        }
        for (count, kg, life, source) in &self.devices {
            if !filled(&[count, kg, life, source]) {
                continue;
            }
            lines.push(DigitalLine::Devices {
                count: number_or_problem(count, "Number of devices", &mut problems),
                kgco2e_each: number_or_problem(
                    kg,
                    "Embodied carbon of each device (kgCO2e)",
                    &mut problems,
                ),
                life_years: number_or_problem(life, "Life of the devices (years)", &mut problems),
                source: source.trim().to_string(),
            });
        }
        if filled(&[&self.hosting_kwh]) {
            lines.push(DigitalLine::Hosting {
                kwh: number_or_problem(
                    &self.hosting_kwh,
                    "Hosting energy (kWh a year)",
                    &mut problems,
                ),
            });
        }
        if filled(&[&self.data_gb]) {
            lines.push(DigitalLine::DataTransfer {
                gb: number_or_problem(&self.data_gb, "Data transfer (GB a year)", &mut problems),
                kwh_per_gb: number_or_problem(
                    &self.data_kwh_per_gb,
                    "Energy per gigabyte (kWh per GB)",
                    &mut problems,
                ),
                source: self.data_source.trim().to_string(),
            });
        }
        for line in &lines {
            if let Err(e) = line.check() {
                problems.push(e.to_string());
            }
        }
        let organisation = OdsCode::parse(self.organisation.trim())
            .map_err(|e| problems.push(format!("Organisation: {e}")))
            .ok();
        let start_date = greenplan_core::period::parse_date(self.start_date.trim())
            .map_err(|e| problems.push(format!("Start date: {e}")))
            .ok();
        if self.name.trim().is_empty() {
            problems.push("Give the scheme a name.".into());
        }
        match (organisation, start_date) {
            (Some(organisation), Some(start_date)) if problems.is_empty() => Ok(NewDigitalScheme {
                organisation,
                name: self.name.trim().to_string(),
                description: self.description.trim().to_string(),
                start_date,
                lines,
            }),
            _ => Err(problems),
        }
    }
}

/// A row of journeys avoided on the form.
pub(crate) struct JourneyRow {
    i: usize,
    n: usize,
    count: String,
    km: String,
    /// (value, label, chosen)
    modes: Vec<(&'static str, &'static str, bool)>,
}

/// A row of devices on the form.
pub(crate) struct DeviceRow {
    i: usize,
    n: usize,
    count: String,
    kg: String,
    life: String,
    source: String,
}

#[derive(Template)]
#[template(path = "digital_form.html")]
pub(crate) struct FormPage {
    title: String,
    chrome: Chrome,
    post_to: String,
    is_new: bool,
    form: SchemeForm,
    /// (code, name, chosen)
    organisations: Vec<(String, String, bool)>,
    journeys: Vec<JourneyRow>,
    devices: Vec<DeviceRow>,
    /// (id, label, chosen)
    bed_day_factors: Vec<(String, String, bool)>,
    problems: Vec<String>,
    stale: Option<StaleNotice>,
}

pub(crate) async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    post_to: String,
    form: SchemeForm,
    problems: Vec<String>,
) -> Result<FormPage, PageError> {
    let plan = plan(state).await?;
    let f = factors(state).await?;
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to add or edit digital schemes.".into()))?;
    let is_new = post_to == "/tools/digital-benefits";
    let organisations = if is_new {
        user.access
            .contributing_organisations(&plan)
            .into_iter()
            .map(|c| {
                (
                    c.to_string(),
                    organisation_name(&plan, c),
                    form.organisation == c.as_str(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let chosen_bed = if form.bed_day_factor.is_empty() {
        "inpatient-bed-day-low".to_string()
    } else {
        form.bed_day_factor.clone()
    };
    Ok(FormPage {
        title: if is_new {
            "Add a digital scheme".into()
        } else {
            format!("Edit {}", form.name)
        },
        chrome: Chrome::of(viewer),
        journeys: form
            .journeys
            .iter()
            .enumerate()
            .map(|(i, (m, count, km))| JourneyRow {
                i,
                n: i + 1,
                count: count.clone(),
                km: km.clone(),
                modes: Mode::ALL
                    .iter()
                    .filter(|x| x.factor_path().is_some())
                    .map(|x| (x.slug(), x.label(), x.slug() == m))
                    .collect(),
            })
            .collect(),
        devices: form
            .devices
            .iter()
            .enumerate()
            .map(|(i, (count, kg, life, source))| DeviceRow {
                i,
                n: i + 1,
                count: count.clone(),
                kg: kg.clone(),
                life: life.clone(),
                source: source.clone(),
            })
            .collect(),
        bed_day_factors: f
            .bed_days()
            .into_iter()
            .map(|(id, label)| {
                let chosen = id == chosen_bed;
                (id, label, chosen)
            })
            .collect(),
        post_to,
        is_new,
        form,
        organisations,
        problems,
        stale: None,
    })
}

/// The form for a new scheme.
pub async fn new_scheme_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let form = SchemeForm {
        sheets_each: "1".into(),
        ..SchemeForm::default()
    };
    html(
        form_page(
            &viewer,
            &state,
            "/tools/digital-benefits".into(),
            form,
            Vec::new(),
        )
        .await?,
    )
}

pub(crate) async fn rejected(
    viewer: &Viewer,
    state: &AppState,
    post_to: String,
    form: SchemeForm,
    problems: Vec<String>,
) -> PageResult {
    let mut page = html(form_page(viewer, state, post_to, form, problems).await?)?;
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page)
}

/// Adds a scheme for an organisation the person contributes for.
pub async fn add_scheme(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let form = SchemeForm::parse(&body);
    let user = viewer.form_writer(&headers, &form.csrf_token, "add a digital scheme")?;
    let new = match form.scheme() {
        Ok(n) => n,
        Err(p) => {
            return rejected(&viewer, &state, "/tools/digital-benefits".into(), form, p).await;
        }
    };
    if !user.access.can_contribute_for(&new.organisation) {
        return Err(cannot_manage(&new.organisation));
    }
    let id = state
        .store
        .add_digital_scheme(&user.email, &new)
        .await
        .map_err(PageError::from)?;
    Ok(Redirect::to(&format!("/tools/digital-benefits/{id}")).into_response())
}

pub(crate) fn cannot_manage(organisation: &OdsCode) -> PageError {
    PageError::Forbidden(format!(
        "Only contributors and admins of {organisation} can add or edit its digital schemes. Ask your organisation admin if you should."
    ))
}

pub(crate) async fn scheme_for_editing(
    viewer: &Viewer,
    state: &AppState,
    id: i64,
) -> Result<DigitalScheme, PageError> {
    let scheme = state
        .store
        .digital_scheme(id)
        .await?
        .ok_or_else(|| not_found_error("digital scheme"))?;
    if viewer.user.is_none() {
        return Err(PageError::SignInNeeded(
            "Sign in to edit digital schemes.".into(),
        ));
    }
    if !organiser_of(viewer, &scheme.organisation) {
        return Err(cannot_manage(&scheme.organisation));
    }
    Ok(scheme)
}

/// The form for editing a scheme.
pub async fn edit_scheme_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let scheme = scheme_for_editing(&viewer, &state, id).await?;
    let post_to = format!("/tools/digital-benefits/{id}");
    html(
        form_page(
            &viewer,
            &state,
            post_to,
            SchemeForm::of(&scheme),
            Vec::new(),
        )
        .await?,
    )
}

/// Saves an edited scheme (its organisation stays).
pub async fn edit_scheme(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let mut form = SchemeForm::parse(&body);
    let user = viewer.form_writer(&headers, &form.csrf_token, "edit a digital scheme")?;
    let scheme = scheme_for_editing(&viewer, &state, id).await?;
    let revision = revision_of(Some(&form.revision))?;
    form.organisation = scheme.organisation.to_string();
    let post_to = format!("/tools/digital-benefits/{id}");
    let new = match form.scheme() {
        Ok(n) => n,
        Err(p) => return rejected(&viewer, &state, post_to, form, p).await,
    };
    if let Err(e) = state
        .store
        .update_digital_scheme(&user.email, id, revision, &new)
        .await
    {
        let stale = stale_of(e).map_err(PageError::from)?;
        form.revision = stale.current.to_string();
        let mut page = form_page(&viewer, &state, post_to, form, Vec::new()).await?;
        page.stale = Some(StaleNotice::plain(&stale));
        return shown_stale(page);
    }
    Ok(Redirect::to(&post_to).into_response())
}
