//! A digital scheme's page: its lines, net a year and payback.

use super::*;

// ---------------------------------------------------------------- one scheme

pub(crate) struct LineRow {
    side: &'static str,
    description: String,
    quantity: String,
    factor: String,
    source: String,
    tco2e: String,
}

#[derive(Template)]
#[template(path = "digital_scheme.html")]
pub(crate) struct SchemePage {
    title: String,
    chrome: Chrome,
    scheme: DigitalScheme,
    organisation: String,
    start: String,
    lines: Vec<LineRow>,
    error: String,
    benefits: String,
    costs: String,
    net: String,
    embodied: String,
    payback: String,
    can_edit: bool,
}

/// A scheme: the breakdown with each factor, net tCO2e a year and payback.
pub async fn scheme_page(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let scheme = state
        .store
        .digital_scheme(id)
        .await?
        .ok_or_else(|| not_found_error("digital scheme"))?;
    let plan = plan(&state).await?;
    let f = factors(&state).await?;
    let mut page = SchemePage {
        title: scheme.name.clone(),
        chrome: Chrome::of(&viewer),
        organisation: organisation_name(&plan, &scheme.organisation),
        start: long_date(scheme.start_date),
        lines: Vec::new(),
        error: String::new(),
        benefits: String::new(),
        costs: String::new(),
        net: String::new(),
        embodied: String::new(),
        payback: String::new(),
        can_edit: organiser_of(&viewer, &scheme.organisation),
        scheme,
    };
    match f.assess(&page.scheme) {
        Ok(a) => {
            page.lines = a
                .lines
                .iter()
                .map(|l| LineRow {
                    side: match l.side {
                        Side::Benefit => "Benefit",
                        Side::Cost => "Cost",
                    },
                    description: l.description.clone(),
                    quantity: format!("{} {}", number(l.quantity.round_dp(6)), l.unit),
                    factor: format!(
                        "{} kgCO2e per {}",
                        number(l.factor.kgco2e_per_unit.round_dp(6)),
                        singular(l.unit)
                    ),
                    source: l.factor.source.clone(),
                    tco2e: tonnes(l.kgco2e_a_year),
                })
                .collect();
            page.benefits = tonnes(a.benefits_kgco2e);
            page.costs = tonnes(a.costs_kgco2e);
            page.net = tonnes(a.net_kgco2e);
            page.embodied = tonnes(a.embodied_kgco2e);
            page.payback = payback_text(a.payback);
        }
        Err(why) => page.error = format!("This scheme cannot be assessed: {why}"),
    }
    html(page)
}

/// "km" stays, "tonnes" → "tonne", "bed days" → "bed day".
pub(crate) fn singular(unit: &str) -> &str {
    match unit {
        "tonnes" => "tonne",
        "bed days" => "bed day",
        "device-years" => "device-year",
        other => other,
    }
}
