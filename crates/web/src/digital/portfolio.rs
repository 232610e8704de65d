//! The portfolio of digital schemes.

use super::*;

// ---------------------------------------------------------------- the portfolio

pub(crate) struct PortfolioRow {
    id: i64,
    name: String,
    organisation: String,
    benefits: String,
    costs: String,
    net: String,
    payback: String,
}

#[derive(Template)]
#[template(path = "digital_portfolio.html")]
pub(crate) struct PortfolioPage {
    title: String,
    chrome: Chrome,
    rows: Vec<PortfolioRow>,
    /// Schemes that cannot be assessed: (id, name, why).
    unassessed: Vec<(i64, String, String)>,
    totals: (String, String, String),
    chart: String,
    can_add: bool,
}

/// Every digital scheme, largest net saving first, with totals.
pub async fn portfolio_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = plan(&state).await?;
    let f = factors(&state).await?;
    let mut lines = Vec::new();
    let mut unassessed = Vec::new();
    for s in state.store.digital_schemes().await? {
        match f.assess(&s) {
            Ok(a) => lines.push(PortfolioLine {
                id: s.id,
                name: s.name.clone(),
                organisation: organisation_name(&plan, &s.organisation),
                benefits_kgco2e: a.benefits_kgco2e,
                costs_kgco2e: a.costs_kgco2e,
                net_kgco2e: a.net_kgco2e,
                payback: a.payback,
            }),
            Err(why) => unassessed.push((s.id, s.name.clone(), why)),
        }
    }
    let p = portfolio(lines);
    let bars: Vec<Bar> = p
        .lines
        .iter()
        .map(|l| Bar {
            label: l.name.clone(),
            value: l.net_kgco2e.max(Decimal::ZERO) / Decimal::ONE_THOUSAND,
            display: format!("{} tCO2e net", tonnes(l.net_kgco2e)),
        })
        .collect();
    let can_add = viewer
        .user
        .as_ref()
        .is_some_and(|u| !u.access.contributing_organisations(&plan).is_empty());
    html(PortfolioPage {
        title: "Green digital benefits".into(),
        chrome: Chrome::of(&viewer),
        chart: if bars.is_empty() {
            String::new()
        } else {
            bar_chart("Net saving a year by digital scheme (tCO2e)", &bars)
        },
        rows: p
            .lines
            .iter()
            .map(|l| PortfolioRow {
                id: l.id,
                name: l.name.clone(),
                organisation: l.organisation.clone(),
                benefits: tonnes(l.benefits_kgco2e),
                costs: tonnes(l.costs_kgco2e),
                net: tonnes(l.net_kgco2e),
                payback: payback_text(l.payback),
            })
            .collect(),
        totals: (
            tonnes(p.benefits_kgco2e),
            tonnes(p.costs_kgco2e),
            tonnes(p.net_kgco2e),
        ),
        unassessed,
        can_add,
    })
}
