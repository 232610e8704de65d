//! The scheme register's list, with its filters.

use super::*;

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
pub(crate) struct ListPage {
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

pub(crate) fn row_of(plan: &Plan, s: &Scheme) -> SchemeRow {
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

pub(crate) async fn list_page(
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
        figures: crate::kit::links::consideration_rows(&all, year),
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
