//! The footprint CSV, organisations and the visions (Appendix 2).

use super::*;

pub async fn footprint_csv(State(state): State<AppState>) -> PageResult {
    let table = footprint(&state).await?;
    let lines = table.as_ref().map(|t| t.lines.clone()).unwrap_or_default();
    // Rows that could not be summed get a line of their own per organisation, saying so.
    let unsummed = table
        .as_ref()
        .map(|t| t.unsummed.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            vec![
                u.organisation,
                format!(
                    "not summed: {} row{} too large to sum (left out)",
                    u.rows,
                    if u.rows == 1 { "" } else { "s" }
                ),
                String::new(),
                String::new(),
            ]
        });
    let body = csv_bytes(
        &["organisation", "category", "tco2e", "tco2e_market_based"],
        lines
            .into_iter()
            .map(|l| {
                let mut r = l.key.clone();
                r.push(
                    (l.kgco2e / Decimal::ONE_THOUSAND)
                        .round_dp(6)
                        .normalize()
                        .to_string(),
                );
                r.push(
                    (l.market_kgco2e / Decimal::ONE_THOUSAND)
                        .round_dp(6)
                        .normalize()
                        .to_string(),
                );
                r
            })
            .chain(unsummed),
    )?;
    Ok(csv_response("footprint.csv", body))
}

#[derive(Template)]
#[template(path = "organisations.html")]
pub(crate) struct OrganisationsPage {
    title: String,
    chrome: Chrome,
    plan: Arc<Plan>,
    population: String,
}

pub async fn organisations(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let population = number(plan.places.iter().map(|p| p.population).sum());
    html(OrganisationsPage {
        chrome: Chrome::of(&viewer),
        title: "Organisations and places".into(),
        plan,
        population,
    })
}

#[derive(Template)]
#[template(path = "organisation.html")]
pub(crate) struct OrganisationPage {
    title: String,
    chrome: Chrome,
    history: Vec<HistoryRow>,
    organisation: greenplan_core::plan::Organisation,
    kind: String,
    actions: Vec<ActionRow>,
    values: Vec<(String, String, String, String)>,
}

pub async fn organisation(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let plan = plan(&state).await?;
    let code =
        greenplan_core::ods::OdsCode::parse(&code).map_err(|_| not_found_error("organisation"))?;
    let organisation = plan
        .organisation(&code)
        .cloned()
        .ok_or_else(|| not_found_error("organisation"))?;
    let actions = plan
        .actions
        .iter()
        .filter(|a| a.lead_organisations.contains(&code))
        .map(|a| action_row(a, &plan))
        .collect();
    let values = plan
        .data_points
        .iter()
        .filter(|d| d.organisation.as_ref() == Some(&code))
        .map(|d| {
            let m = plan.metric(&d.metric);
            (
                d.metric.clone(),
                m.map_or_else(|| d.metric.clone(), |m| m.name.clone()),
                d.period.to_string(),
                format!("{} {}", number(d.value), m.map_or("", |m| m.unit.as_str())),
            )
        })
        .collect();
    html(OrganisationPage {
        history: history_of(&state, "organisation", organisation.code.as_str()).await?,
        chrome: Chrome::of(&viewer),
        title: organisation.name.clone(),
        kind: organisation.kind.label().into(),
        organisation,
        actions,
        values,
    })
}

#[derive(Template)]
#[template(path = "visions.html")]
pub(crate) struct VisionsPage {
    title: String,
    chrome: Chrome,
    plan: Arc<Plan>,
}

pub async fn visions(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    html(VisionsPage {
        chrome: Chrome::of(&viewer),
        title: "Progress on the 2022-2025 visions".into(),
        plan,
    })
}
