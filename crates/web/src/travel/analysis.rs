//! A survey's analysis: mode share, emissions, answers per hour, excluding a burst, the CSVs.

use super::*;

// ---------------------------------------------------------------- analysis

/// Mode share of one group (an organisation and site), as table rows.
pub(crate) struct ShareRow {
    organisation: String,
    site: String,
    respondents: u32,
    mode: &'static str,
    days: u32,
    share: String,
}

/// Emissions of one mode.
pub(crate) struct EmissionRow {
    mode: &'static str,
    distance: String,
    unit: &'static str,
    factor: String,
    tco2e: String,
}

/// The analysis of one or more surveys.
pub(crate) struct Analysis {
    respondents: u32,
    days: u32,
    /// (mode, days, share) of all respondents.
    overall_rows: Vec<(&'static str, u32, String)>,
    chart: String,
    by_site: Vec<ShareRow>,
    emissions: Vec<EmissionRow>,
    total_tco2e: String,
    respondents_tco2e: String,
    notes: Vec<String>,
    rankings: Vec<(&'static str, Vec<(&'static str, u32)>)>,
}

pub(crate) fn group_shares(
    plan: &greenplan_core::plan::Plan,
    surveys: &[(TravelSurvey, Vec<TravelResponse>)],
) -> Vec<ShareRow> {
    let mut groups: BTreeMap<(String, String), Vec<&greenplan_core::travel::Answers>> =
        BTreeMap::new();
    for (s, responses) in surveys {
        for r in responses {
            let site = r
                .answers
                .site
                .clone()
                .unwrap_or_else(|| "Site not given".into());
            groups
                .entry((organisation_name(plan, &s.organisation), site))
                .or_default()
                .push(&r.answers);
        }
    }
    let mut rows = Vec::new();
    for ((organisation, site), answers) in groups {
        let share = mode_share(answers.iter().copied());
        for line in share.lines {
            rows.push(ShareRow {
                organisation: organisation.clone(),
                site: site.clone(),
                respondents: share.respondents,
                mode: line.mode.label(),
                days: line.days,
                share: percent_of(line.share),
            });
        }
    }
    rows
}

pub(crate) async fn analyse(
    state: &AppState,
    surveys: &[(TravelSurvey, Vec<TravelResponse>)],
) -> Result<Analysis, PageError> {
    let plan = plan(state).await?;
    let all: Vec<&greenplan_core::travel::Answers> = surveys
        .iter()
        .flat_map(|(_, rs)| rs.iter().map(|r| &r.answers))
        .collect();
    let overall = mode_share(all.iter().copied());
    let bars: Vec<Bar> = overall
        .lines
        .iter()
        .map(|l| Bar {
            label: l.mode.label().to_string(),
            value: l.share * Decimal::ONE_HUNDRED,
            display: format!("{} ({} days)", percent_of(l.share), l.days),
        })
        .collect();
    let chart = if bars.is_empty() {
        String::new()
    } else {
        bar_chart("Mode share: days on site by main mode", &bars)
    };
    let (emissions, total, respondents_total, mut notes) = emissions(state, surveys).await?;
    let no_distance = all.iter().filter(|a| a.distance.is_none()).count();
    if no_distance > 0 {
        notes.push(format!(
            "{no_distance} respondent{} gave no distance (perhaps only a postcode district): they count in the mode share but not in the emissions.",
            if no_distance == 1 { "" } else { "s" }
        ));
    }
    let rank = |q: &Question| {
        ranked(
            q,
            all.iter().map(|a| match q.name {
                "active_barriers" => a.active_barriers.as_slice(),
                "public_barriers" => a.public_barriers.as_slice(),
                _ => a.interests.as_slice(),
            }),
        )
        .into_iter()
        .map(|(c, n)| (c.label, n))
        .collect::<Vec<_>>()
    };
    Ok(Analysis {
        respondents: overall.respondents,
        days: overall.days,
        chart,
        by_site: group_shares(&plan, surveys),
        emissions,
        total_tco2e: number(total.round_dp(2)),
        respondents_tco2e: number(respondents_total.round_dp(2)),
        notes,
        overall_rows: overall
            .lines
            .iter()
            .map(|l| (l.mode.label(), l.days, percent_of(l.share)))
            .collect(),
        rankings: vec![
            (ACTIVE_TRAVEL_BARRIERS.text, rank(&ACTIVE_TRAVEL_BARRIERS)),
            (
                PUBLIC_TRANSPORT_BARRIERS.text,
                rank(&PUBLIC_TRANSPORT_BARRIERS),
            ),
            (SCHEME_INTERESTS.text, rank(&SCHEME_INTERESTS)),
        ],
    })
}

pub(crate) type EmissionsOf = (Vec<EmissionRow>, Decimal, Decimal, Vec<String>);

/// Commuting emissions by mode from the surveys' activity rows (the rows the footprint
/// takes), each with the factor, its path and edition; in tCO2e a year, scaled to the
/// headcounts, and as the respondents alone.
pub(crate) async fn emissions(
    state: &AppState,
    surveys: &[(TravelSurvey, Vec<TravelResponse>)],
) -> Result<EmissionsOf, PageError> {
    let set = state.store.factor_set(None).await?;
    let mut resolver = Resolver::new(&set, state.store.edition_years().await?);
    let mut by_mode: BTreeMap<Mode, (Decimal, Decimal, String)> = BTreeMap::new();
    let (mut total, mut respondents_total) = (Decimal::ZERO, Decimal::ZERO);
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    for (survey, responses) in surveys {
        let scale = survey_scale(survey, responses);
        let scaled = survey.headcount.filter(|_| scale_applies(responses));
        notes.push(format!(
            "{}: a typical week × {} weeks a year{}.",
            survey.title,
            number(survey.weeks_per_year),
            match scaled {
                Some(h) => format!(
                    "; scaled from the respondents who gave a distance to a headcount of {} (× {})",
                    number(Decimal::from(h)),
                    number(scale.round_dp(3))
                ),
                None => "; not scaled (no headcount given, or nobody gave a distance): the figures are the respondents' own".into(),
            }
        ));
        for (mode, a) in survey_activities(survey, responses) {
            match resolver.emission(&a) {
                Ok(e) => {
                    let factor = &set.factors()[e.factor];
                    let entry = by_mode.entry(mode).or_insert_with(|| {
                        (
                            Decimal::ZERO,
                            Decimal::ZERO,
                            format!(
                                "{} [{}], {}: {} kgCO2e",
                                factor.path(),
                                factor.unit_text,
                                factor.edition,
                                factor.kgco2e.normalize()
                            ),
                        )
                    });
                    entry.0 += a.quantity;
                    entry.1 += e.kgco2e;
                    total += e.kgco2e;
                    respondents_total += e.kgco2e / scale;
                }
                Err(p) => problems.push(format!("{}: {}", mode.label(), p.message)),
            }
        }
    }
    problems.sort();
    problems.dedup();
    for p in problems {
        notes.push(format!(
            "Not in the emissions — {p} (import the conversion factors with `greenplan factors import`)."
        ));
    }
    let rows = by_mode
        .into_iter()
        .map(|(mode, (distance, kg, factor))| EmissionRow {
            mode: mode.label(),
            distance: number(distance.round_dp(0)),
            unit: mode.factor_unit().symbol(),
            factor,
            tco2e: number((kg / Decimal::ONE_THOUSAND).round_dp(3)),
        })
        .collect();
    Ok((
        rows,
        total / Decimal::ONE_THOUSAND,
        respondents_total / Decimal::ONE_THOUSAND,
        notes,
    ))
}

pub(crate) fn scale_applies(responses: &[TravelResponse]) -> bool {
    responses.iter().any(|r| r.answers.distance.is_some())
}

pub(crate) fn survey_scale(survey: &TravelSurvey, responses: &[TravelResponse]) -> Decimal {
    let with_distance = responses
        .iter()
        .filter(|r| r.answers.distance.is_some())
        .count() as u32;
    greenplan_core::travel::scaling(with_distance, survey.headcount).factor
}

#[derive(Template)]
#[template(path = "travel_analysis.html")]
pub(crate) struct AnalysisPage {
    title: String,
    chrome: Chrome,
    heading: String,
    back: (String, String),
    csv: String,
    a: Analysis,
    feeds: String,
    /// One survey's answers by hour and its exclusions (empty for an organisation's).
    arrivals: Option<Arrivals>,
}

/// When a survey's answers arrived, hour by hour, and the ranges an organiser left out.
pub(crate) struct Arrivals {
    /// (hour, on the form, imported, excluded).
    hours: Vec<(String, i64, i64, i64)>,
    /// (from, until, answers, reason, by whom, when).
    exclusions: Vec<(String, String, i64, String, String, String)>,
    /// Where the exclusion form posts (empty: the viewer does not organise the survey).
    exclude_action: String,
    excluded: i64,
}

/// A time as the exclusion form takes it: `YYYY-MM-DD HH:MM`, UTC.
pub(crate) fn utc_minute(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Reads `YYYY-MM-DD HH:MM` (or with a `T`, as a browser's datetime-local field sends it)
/// as UTC Unix seconds.
pub(crate) fn parse_utc_minute(field: &str, raw: &str) -> Result<i64, String> {
    let t = raw.trim().replace('T', " ");
    chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M")
        .ok()
        .filter(|t| (2000..=2200).contains(&chrono::Datelike::year(t)))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| {
            format!(
                "{field}: `{}` is not a time: write it as YYYY-MM-DD HH:MM (UTC), e.g. 2025-06-03 14:00",
                greenplan_core::travel::shown(raw)
            )
        })
}

pub(crate) async fn arrivals(
    viewer: &Viewer,
    state: &AppState,
    survey: &TravelSurvey,
) -> Result<Arrivals, PageError> {
    let is_organiser = viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_contribute_for(&survey.organisation));
    let hours = state
        .store
        .travel_answers_per_hour(survey.id)
        .await?
        .into_iter()
        .map(|h| {
            (
                format!(
                    "{} to {} UTC",
                    utc_minute(h.hour_start),
                    utc_minute(h.hour_start + 3600)
                        .rsplit(' ')
                        .next()
                        .unwrap_or_default()
                ),
                h.on_form,
                h.imported,
                h.excluded,
            )
        })
        .collect();
    let exclusions = state
        .store
        .travel_response_exclusions(survey.id)
        .await?
        .into_iter()
        .map(|e| {
            (
                utc_minute(e.from_at),
                utc_minute(e.until_at),
                e.answers,
                e.reason,
                e.created_by,
                crate::kit::when(e.created_at),
            )
        })
        .collect();
    Ok(Arrivals {
        hours,
        exclusions,
        exclude_action: if is_organiser {
            format!("/tools/travel-surveys/{}/exclusions", survey.id)
        } else {
            String::new()
        },
        excluded: survey.excluded,
    })
}

#[derive(Default)]
pub(crate) struct ExclusionForm {
    csrf_token: String,
    from: String,
    until: String,
    reason: String,
}

/// Leaves the answers made on the form in a time range (a burst) out of the survey's
/// figures and the footprint, audited. The answers stay stored, and the page lists each
/// exclusion with its reason.
pub async fn exclude_answers(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let mut form = ExclusionForm::default();
    for (k, v) in form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf_token" => form.csrf_token = v,
            "from" => form.from = v,
            "until" => form.until = v,
            "reason" => form.reason = v,
            _ => {}
        }
    }
    let survey = survey_or_404(&state, id).await?;
    let user = viewer.form_writer(&headers, &form.csrf_token, "exclude answers")?;
    organiser(&viewer, &survey.organisation)?;
    let unprocessable = |m: String| PageError::Unprocessable(m);
    let from = parse_utc_minute("From", &form.from).map_err(unprocessable)?;
    let until = parse_utc_minute("Until", &form.until).map_err(unprocessable)?;
    if form.reason.chars().count() > 500 {
        return Err(unprocessable(
            "Reason: write it in at most 500 characters.".into(),
        ));
    }
    state
        .store
        .exclude_travel_responses(&user.email, id, from, until, &form.reason)
        .await
        .map_err(PageError::from)?;
    Ok(Redirect::to(&format!("/tools/travel-surveys/{id}/analysis#arrivals")).into_response())
}

pub(crate) async fn load(
    state: &AppState,
    surveys: Vec<TravelSurvey>,
) -> Result<Vec<(TravelSurvey, Vec<TravelResponse>)>, PageError> {
    let mut out = Vec::new();
    for s in surveys {
        let rs = state.store.travel_responses(s.id).await?;
        out.push((s, rs));
    }
    Ok(out)
}

/// What the footprint takes of these surveys, in words.
pub(crate) async fn feeds(state: &AppState, surveys: &[TravelSurvey]) -> Result<String, PageError> {
    let counted = state.store.counted_travel_surveys(None).await?;
    let names: Vec<String> = surveys
        .iter()
        .filter(|s| counted.iter().any(|c| c.id == s.id))
        .map(|s| {
            format!(
                "{} ({}, {})",
                s.title,
                s.respondents.category().label(),
                s.financial_year
            )
        })
        .collect();
    Ok(if names.is_empty() {
        "Nothing here feeds the footprint yet: a survey's results are added to NHS Carbon Footprint Plus once it is closed.".into()
    } else {
        format!(
            "In the footprint (NHS Carbon Footprint Plus): {}. Only closed surveys count, and of several of one organisation, respondents and year, the last closed.",
            names.join("; ")
        )
    })
}

/// The analysis of one survey.
pub async fn survey_analysis(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    let feeds = feeds(&state, std::slice::from_ref(&survey)).await?;
    let data = load(&state, vec![survey.clone()]).await?;
    html(AnalysisPage {
        title: format!("Analysis: {}", survey.title),
        chrome: Chrome::of(&viewer),
        heading: format!("Analysis: {}", survey.title),
        back: (format!("/tools/travel-surveys/{id}"), survey.title.clone()),
        csv: format!("/tools/travel-surveys/{id}/mode-share.csv"),
        a: analyse(&state, &data).await?,
        feeds,
        arrivals: Some(arrivals(&viewer, &state, &survey).await?),
    })
}

pub(crate) async fn organisation_surveys(
    state: &AppState,
    code: &str,
) -> Result<(OdsCode, Vec<TravelSurvey>), PageError> {
    let code = OdsCode::parse(code).map_err(|_| not_found_error("organisation"))?;
    let surveys = state.store.travel_surveys(Some(&code)).await?;
    if surveys.is_empty() {
        return Err(not_found_error("travel survey of this organisation"));
    }
    Ok((code, surveys))
}

/// The analysis across every survey of an organisation.
pub async fn organisation_analysis(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let (code, surveys) = organisation_surveys(&state, &code).await?;
    let plan = plan(&state).await?;
    let name = organisation_name(&plan, &code);
    let feeds = feeds(&state, &surveys).await?;
    let data = load(&state, surveys).await?;
    html(AnalysisPage {
        title: format!("Travel surveys of {name}"),
        chrome: Chrome::of(&viewer),
        heading: format!("Travel surveys of {name}: analysis"),
        back: ("/tools/travel-surveys".into(), "Travel surveys".into()),
        csv: format!("/tools/travel-surveys/organisations/{code}/mode-share.csv"),
        a: analyse(&state, &data).await?,
        feeds,
        arrivals: None,
    })
}

pub(crate) fn share_csv(
    plan: &greenplan_core::plan::Plan,
    data: &[(TravelSurvey, Vec<TravelResponse>)],
    name: &str,
) -> PageResult {
    let all = mode_share(
        data.iter()
            .flat_map(|(_, rs)| rs.iter().map(|r| &r.answers)),
    );
    let overall = all.lines.iter().map(|l| {
        vec![
            "All".to_string(),
            "All sites".to_string(),
            all.respondents.to_string(),
            l.mode.slug().to_string(),
            l.days.to_string(),
            percent_of(l.share).trim_end_matches('%').to_string(),
        ]
    });
    let groups = group_shares(plan, data).into_iter().map(|r| {
        vec![
            r.organisation,
            r.site,
            r.respondents.to_string(),
            Mode::ALL
                .iter()
                .find(|m| m.label() == r.mode)
                .map_or(r.mode, |m| m.slug())
                .to_string(),
            r.days.to_string(),
            r.share.trim_end_matches('%').to_string(),
        ]
    });
    let body = csv_bytes(
        &[
            "organisation",
            "site",
            "respondents",
            "mode",
            "days",
            "share_percent",
        ],
        overall.collect::<Vec<_>>().into_iter().chain(groups),
    )?;
    Ok(csv_response(name, body))
}

/// Mode share of one survey as CSV (overall, then by organisation and site).
pub async fn survey_share_csv(State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let survey = survey_or_404(&state, id).await?;
    let plan = plan(&state).await?;
    let data = load(&state, vec![survey]).await?;
    share_csv(&plan, &data, &format!("travel-survey-{id}-mode-share.csv"))
}

/// Mode share across an organisation's surveys as CSV.
pub async fn organisation_share_csv(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let (code, surveys) = organisation_surveys(&state, &code).await?;
    let plan = plan(&state).await?;
    let data = load(&state, surveys).await?;
    share_csv(
        &plan,
        &data,
        &format!("travel-surveys-{code}-mode-share.csv"),
    )
}
