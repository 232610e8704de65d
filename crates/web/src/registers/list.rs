//! The registers' index and a register's list, with its figures and carbon.

use super::*;

/// One register on the index.
pub struct IndexRow {
    pub slug: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub area: String,
    pub records: usize,
}

#[derive(Template)]
#[template(path = "registers.html")]
pub(crate) struct IndexPage {
    title: String,
    chrome: Chrome,
    rows: Vec<IndexRow>,
}

pub async fn index(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let plan = crate::kit::plan(&state).await?;
    let mut rows = Vec::new();
    for r in register::ALL.iter().copied() {
        rows.push(IndexRow {
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            area: area_name(&plan, r.area),
            records: state.store.register_records(r, false).await?.len(),
        });
    }
    html(IndexPage {
        title: "Registers".into(),
        chrome: Chrome::of(&viewer),
        rows,
    })
}

pub(crate) fn area_name(plan: &Plan, code: &str) -> String {
    plan.areas
        .iter()
        .find(|a| a.code == code)
        .map_or_else(|| code.to_string(), |a| a.name.clone())
}

#[derive(Deserialize, Default)]
pub struct ListFilter {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    choice: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    archived: String,
}

/// A record as a row of the list.
pub struct ListRow {
    pub id: i64,
    pub cells: Vec<String>,
    pub archived: bool,
    pub editable: bool,
}

/// A figure as a row of the metrics table.
pub struct FigureRow {
    pub label: &'static str,
    pub period: String,
    pub scope: String,
    pub value: String,
    pub working: String,
    pub plan_metric: String,
}

#[derive(Template)]
#[template(path = "register.html")]
pub(crate) struct ListPage {
    title: String,
    chrome: Chrome,
    register: &'static Register,
    columns: Vec<&'static str>,
    rows: Vec<ListRow>,
    organisations: Vec<(String, String, bool)>,
    choice_label: String,
    choices: Vec<(String, String, bool)>,
    q: String,
    archived: bool,
    figures: Vec<FigureRow>,
    carbon: Option<CarbonView>,
    /// The estate pipeline only: lines of the comparison with the gap to target, or why
    /// there is none.
    against_gap: Option<Result<Vec<(String, String)>, String>>,
    can_write: bool,
}

/// The estate pipeline against the gap, as label and value lines.
pub(crate) fn against_gap_lines(
    p: Option<PipelineAgainstGap>,
) -> Result<Vec<(String, String)>, String> {
    let p = p.ok_or_else(|| {
        "There is no NHS Carbon Footprint data yet: once activity for a year is imported (returns, registers), the pipeline is set against the gap to the national trajectory.".to_string()
    })?;
    let t = |v: Decimal| format!("{} tCO2e", with_thousands(v, 1));
    Ok(vec![
        (
            format!("NHS Carbon Footprint, {} (baseline)", p.baseline.0),
            t(p.baseline.1),
        ),
        (
            format!("NHS Carbon Footprint, {} (latest)", p.latest.0),
            t(p.latest.1),
        ),
        (
            format!(
                "National trajectory for {} (80% below the baseline)",
                p.milestone.0
            ),
            t(p.milestone.1),
        ),
        ("Gap still to close, a year".to_string(), t(p.gap)),
        (
            format!(
                "Expected annual saving of {} projects due by then (not cancelled, not yet in the footprint)",
                p.projects
            ),
            t(p.pipeline),
        ),
        (
            "Share of the gap the pipeline would close".to_string(),
            p.share_of_gap()
                .map_or_else(|| "no gap to close".to_string(), |s| format!("{s}%")),
        ),
    ])
}

/// The register's emissions (fleet, waste, spend), as the page shows them.
pub struct CarbonView {
    /// Year, tCO2e, rows, rows not converted, tonnes, tCO2e per tonne.
    pub years: Vec<[String; 6]>,
    /// Waste: year, route, tonnes, tCO2e, tCO2e per tonne, the factor (when missing).
    pub routes: Vec<[String; 6]>,
    pub not_converted: Vec<String>,
    pub notes: Vec<String>,
    /// How many example records (not counted in the footprint) the figures include.
    pub examples: usize,
    pub waste: bool,
}

impl CarbonView {
    fn of(carbon: RegisterCarbon, examples: usize, waste: bool) -> Self {
        let t = |kg: Decimal| with_thousands(kg / Decimal::ONE_THOUSAND, 1);
        let per_tonne = |v: Option<Decimal>| v.map_or_else(String::new, |v| with_thousands(v, 3));
        Self {
            years: carbon
                .years
                .iter()
                .map(|y| {
                    [
                        y.year.to_string(),
                        t(y.kgco2e),
                        y.rows.to_string(),
                        y.not_converted.to_string(),
                        y.tonnes.map_or_else(String::new, number),
                        per_tonne(y.tco2e_per_tonne),
                    ]
                })
                .collect(),
            routes: carbon
                .routes
                .iter()
                .map(|r| {
                    [
                        r.year.to_string(),
                        r.route.to_string(),
                        number(r.tonnes),
                        r.kgco2e.map_or_else(|| "no factor".to_string(), t),
                        per_tonne(r.tco2e_per_tonne()),
                        // A route with an official factor needs the official files loaded,
                        // not a factor of its own.
                        if r.kgco2e.is_none()
                            && !register::waste::OFFICIAL_ROUTE_FACTORS.contains(&r.factor.as_str())
                        {
                            r.factor.clone()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect(),
            not_converted: carbon.not_converted,
            notes: carbon.notes,
            examples,
            waste,
        }
    }
}

/// How many fields the list shows (the rest are on the edit page and in exports).
pub(crate) const LIST_COLUMNS: usize = 7;

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(filter): Query<ListFilter>,
) -> PageResult {
    let register = find(&slug)?;
    let plan = crate::kit::plan(&state).await?;
    let archived = !filter.archived.is_empty();
    let stored = state.store.register_records(register, archived).await?;
    let access = access_of(&viewer);
    let organisation = OdsCode::parse(&filter.organisation).ok();
    let choice_field = register.filter_field.and_then(|k| register.field(k));
    let shown: Vec<&StoredRecord> = stored
        .iter()
        .filter(|s| organisation.is_none() || s.record.organisation() == organisation)
        .filter(|s| {
            filter.choice.is_empty()
                || choice_field
                    .is_some_and(|f| s.record.choice(f.key) == Some(filter.choice.as_str()))
        })
        .filter(|s| s.record.matches(&filter.q))
        .collect();
    let fields = &register.fields[..register.fields.len().min(LIST_COLUMNS)];
    let rows = shown
        .iter()
        .map(|s| ListRow {
            id: s.id,
            cells: fields
                .iter()
                .map(|f| {
                    s.record
                        .text(f.key)
                        .map_or_else(String::new, |v| shown_value(f, v))
                })
                .collect(),
            archived: s.archived_at.is_some(),
            editable: s.archived_at.is_none() && may_write(access.as_ref(), &s.record),
        })
        .collect();
    let live: Vec<Record> = stored
        .iter()
        .filter(|s| s.archived_at.is_none())
        .map(|s| s.record.clone())
        .collect();
    let figures = figure_rows(register, &live, organisation.as_ref());
    let examples = stored
        .iter()
        .filter(|s| s.archived_at.is_none() && s.created_by == EXAMPLE_DATA_ACTOR)
        .filter(|s| organisation.is_none() || s.record.organisation() == organisation)
        .count();
    let factors = crate::kit::factors(&state).await?;
    let carbon = register_carbon(&state.store, &factors, register, organisation.as_ref())
        .await?
        .map(|c| {
            CarbonView::of(
                c,
                examples,
                std::ptr::eq(register, &register::waste::STREAMS),
            )
        });
    let against_gap = if std::ptr::eq(register, &register::estates::PIPELINE) {
        Some(against_gap_lines(
            estate_pipeline_against_gap(&state.store, organisation.as_ref()).await?,
        ))
    } else {
        None
    };
    let choices = choice_field
        .map(|f| match f.kind {
            FieldKind::Choice(cs) => cs
                .iter()
                .map(|c| {
                    (
                        c.slug.to_string(),
                        c.label.to_string(),
                        c.slug == filter.choice,
                    )
                })
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    html(ListPage {
        title: register.title.into(),
        chrome: Chrome::of(&viewer),
        register,
        columns: fields.iter().map(|f| f.label).collect(),
        rows,
        organisations: plan
            .organisations
            .iter()
            .map(|o| {
                (
                    o.code.to_string(),
                    o.name.clone(),
                    Some(&o.code) == organisation.as_ref(),
                )
            })
            .collect(),
        choice_label: choice_field.map_or_else(String::new, |f| f.label.to_string()),
        choices,
        q: filter.q,
        archived,
        figures,
        carbon,
        against_gap,
        can_write: access
            .as_ref()
            .is_some_and(|a| !a.contributing_organisations(&plan).is_empty()),
    })
}

/// A value as the list shows it: a choice's words, Yes/No, or the value with its unit.
pub(crate) fn shown_value(f: &register::Field, canonical: &str) -> String {
    match (f.kind, f.unit()) {
        (FieldKind::Decimal { .. } | FieldKind::Percent, Some(unit)) => {
            let n = canonical
                .parse()
                .map_or_else(|_| canonical.to_string(), number);
            if unit == "£" {
                format!("£{n}")
            } else {
                format!("{n} {unit}")
            }
        }
        _ => f.display(canonical),
    }
}

/// The register's figures for the system (or one organisation), latest period first.
pub(crate) fn figure_rows(
    register: &'static Register,
    records: &[Record],
    organisation: Option<&OdsCode>,
) -> Vec<FigureRow> {
    let figures = register.figures_of(records, organisation);
    figures
        .into_iter()
        .map(|f| FigureRow {
            label: f.label,
            period: f.period.to_string(),
            scope: f
                .organisation
                .map_or_else(|| "System".to_string(), |o| o.to_string()),
            value: if f.unit == "%" {
                format!("{}%", number(f.value))
            } else {
                format!("{} {}", number(f.value), f.unit)
            },
            working: f.working,
            plan_metric: f.plan_metric.unwrap_or("").to_string(),
        })
        .collect()
}
