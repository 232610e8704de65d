//! Estates and facilities: the sites an organisation occupies (floor area, heating, heat
//! decarbonisation plan, LED lighting, on-site generation) and its net zero estate pipeline.
//!
//! Site figures describe one financial year (`as_at`, as the ERIC return does): a year's
//! metrics are computed over the sites recorded for that year, so keeping last year's records
//! keeps last year's figures. Shares are **by gross internal floor area**, as ERIC reports
//! them ("44.6% of the estate has LED lighting").

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, share, years_and_quarters, years_of,
};
use crate::period::FinancialYear;
use crate::quantity::with_thousands;
use rust_decimal::Decimal;

/// Primary heating, as the Green Plan guidance lists it.
pub const HEATING: &[Choice] = &[
    Choice {
        slug: "gas",
        label: "Gas",
    },
    Choice {
        slug: "oil",
        label: "Oil",
    },
    Choice {
        slug: "lpg",
        label: "LPG",
    },
    Choice {
        slug: "coal",
        label: "Coal",
    },
    Choice {
        slug: "biomass",
        label: "Biomass",
    },
    Choice {
        slug: "heat-pump",
        label: "Heat pump",
    },
    Choice {
        slug: "district-heat",
        label: "District heat",
    },
    Choice {
        slug: "direct-electric",
        label: "Direct electric",
    },
];

/// Heating that burns fossil fuel on site: to be phased out as primary heating by 2032.
pub const FOSSIL_HEATING: &[&str] = &["gas", "oil", "lpg", "coal"];

pub const SITE_TYPES: &[Choice] = &[
    Choice {
        slug: "acute-hospital",
        label: "Acute hospital",
    },
    Choice {
        slug: "community-hospital",
        label: "Community hospital",
    },
    Choice {
        slug: "mental-health-unit",
        label: "Mental health inpatient unit",
    },
    Choice {
        slug: "health-centre",
        label: "Health centre or clinic",
    },
    Choice {
        slug: "ambulance-station",
        label: "Ambulance station",
    },
    Choice {
        slug: "office",
        label: "Office",
    },
    Choice {
        slug: "other",
        label: "Other",
    },
];

pub const HDP_STATUS: &[Choice] = &[
    Choice {
        slug: "none",
        label: "None",
    },
    Choice {
        slug: "in-development",
        label: "In development",
    },
    Choice {
        slug: "in-place",
        label: "In place",
    },
];

pub const TENURE: &[Choice] = &[
    Choice {
        slug: "freehold",
        label: "Freehold (owned)",
    },
    Choice {
        slug: "leasehold",
        label: "Leasehold",
    },
    Choice {
        slug: "pfi",
        label: "PFI",
    },
    Choice {
        slug: "nhs-property-services",
        label: "NHS Property Services",
    },
    Choice {
        slug: "community-health-partnerships",
        label: "Community Health Partnerships",
    },
];

pub static SITES: Register = Register {
    slug: "estates-sites",
    title: "Estates: sites",
    area: "estates-and-facilities",
    summary: "Each site an organisation occupies: floor area, primary heating, heat decarbonisation plan, LED lighting and on-site generation, for a financial year (as in ERIC).",
    fields: &[
        ORGANISATION,
        Field::new("site", "Site name", FieldKind::Text),
        Field::new("site_type", "Type of site", FieldKind::Choice(SITE_TYPES)),
        Field::new("as_at", "Financial year", FieldKind::FinancialYear)
            .hint("The year these figures describe, e.g. 2023/24 for the ERIC return of 2023/24"),
        Field::new(
            "floor_area",
            "Gross internal floor area",
            FieldKind::Decimal { unit: "m²" },
        ),
        Field::new(
            "primary_heating",
            "Primary heating",
            FieldKind::Choice(HEATING),
        ),
        Field::new(
            "hdp_status",
            "Heat decarbonisation plan",
            FieldKind::Choice(HDP_STATUS),
        ),
        Field::new(
            "hdp_date",
            "Heat decarbonisation plan date",
            FieldKind::Date,
        )
        .optional()
        .hint("When the plan was approved (or is due)"),
        Field::new("led_coverage", "LED lighting coverage", FieldKind::Percent)
            .hint("Share of the site's floor area lit by LED"),
        Field::new(
            "solar_pv_kwp",
            "Solar PV",
            FieldKind::Decimal { unit: "kWp" },
        )
        .optional(),
        Field::new(
            "battery_kwh",
            "Battery storage",
            FieldKind::Decimal { unit: "kWh" },
        )
        .optional(),
        Field::new("tenure", "Tenure", FieldKind::Choice(TENURE)),
    ],
    name_field: "site",
    filter_field: Some("primary_heating"),
    cross_check: None,
    metrics: site_metrics,
    periods: site_periods,
};

/// A site, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site<'r> {
    pub name: &'r str,
    pub floor_area: Decimal,
    pub heating: &'r str,
    pub hdp_in_place: bool,
    pub led_coverage: Decimal,
}

impl<'r> Site<'r> {
    pub fn of(r: &'r Record) -> Self {
        Self {
            name: r.name(),
            floor_area: r.decimal("floor_area").unwrap_or_default(),
            heating: r.choice("primary_heating").unwrap_or(""),
            hdp_in_place: r.choice("hdp_status") == Some("in-place"),
            led_coverage: r.decimal("led_coverage").unwrap_or_default(),
        }
    }

    pub fn is_fossil(&self) -> bool {
        FOSSIL_HEATING.contains(&self.heating)
    }
}

fn typed<'r>(records: &[&'r Record]) -> Vec<Site<'r>> {
    records.iter().map(|r| Site::of(r)).collect()
}

fn site_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_of(records, "as_at")
}

fn m2(v: Decimal) -> String {
    format!("{} m²", with_thousands(v, 0))
}

/// Floor area where `pick` holds over total floor area.
fn area_share(
    sites: &[Site<'_>],
    pick: impl Fn(&Site<'_>) -> Decimal,
) -> Option<(Decimal, String)> {
    let total: Decimal = sites.iter().map(|s| s.floor_area).sum();
    let part: Decimal = sites.iter().map(&pick).sum();
    let value = share(part, total)?;
    Some((
        value,
        format!("{} of {} over {} sites", m2(part), m2(total), sites.len()),
    ))
}

/// Sites where `pick` holds: (count, area, working).
fn sites_where(
    sites: &[Site<'_>],
    pick: impl Fn(&Site<'_>) -> bool,
    year: FinancialYear,
    deadline: i32,
) -> (Decimal, Decimal, String) {
    let chosen: Vec<&Site<'_>> = sites.iter().filter(|s| pick(s)).collect();
    let area: Decimal = chosen.iter().map(|s| s.floor_area).sum();
    let names: Vec<&str> = chosen.iter().map(|s| s.name).collect();
    let rating = DeadlineRating::of(chosen.len(), year, deadline);
    let working = if chosen.is_empty() {
        format!("none: {rating}")
    } else {
        format!("{} ({}): {rating}", names.join(", "), m2(area))
    };
    (Decimal::from(chosen.len()), area, working)
}

/// Where sites still on a fuel stand against its phase-out deadline (a calendar year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineRating {
    /// None remain.
    Met { deadline: i32 },
    /// Some remain, with whole financial years left before the deadline.
    Open { deadline: i32, years_left: i32 },
    /// Some remain and the deadline has passed.
    Missed { deadline: i32 },
}

impl DeadlineRating {
    pub fn of(remaining: usize, year: FinancialYear, deadline: i32) -> Self {
        match (remaining, years_to_deadline(year, deadline)) {
            (0, _) => Self::Met { deadline },
            (_, Some(years_left)) => Self::Open {
                deadline,
                years_left,
            },
            (_, None) => Self::Missed { deadline },
        }
    }
}

impl std::fmt::Display for DeadlineRating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Met { deadline } => write!(f, "the {deadline} deadline is met"),
            Self::Open {
                deadline,
                years_left,
            } => write!(
                f,
                "to end by {deadline}, {years_left} financial year{} left",
                if *years_left == 1 { "" } else { "s" }
            ),
            Self::Missed { deadline } => write!(f, "the {deadline} deadline is missed"),
        }
    }
}

const HDP: FigureMaker = FigureMaker::new(
    "hdp-share",
    "Floor area with a heat decarbonisation plan in place",
    "%",
)
.feeds("heat-decarbonisation-plans-coverage");
const LED: FigureMaker =
    FigureMaker::new("led-share", "Floor area with LED lighting", "%").feeds("estate-led-lighting");
const FOSSIL_SITES: FigureMaker = FigureMaker::new(
    "fossil-heated-sites",
    "Sites still on fossil-fuel primary heating (phase out by 2032)",
    "sites",
);
const FOSSIL_AREA: FigureMaker = FigureMaker::new(
    "fossil-heated-area",
    "Floor area still on fossil-fuel primary heating (phase out by 2032)",
    "m²",
);
const OIL_SITES: FigureMaker = FigureMaker::new(
    "oil-heated-sites",
    "Sites still heated by oil (phase out by 2028)",
    "sites",
);
const OIL_AREA: FigureMaker = FigureMaker::new(
    "oil-heated-area",
    "Floor area still heated by oil (phase out by 2028)",
    "m²",
);

fn site_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let MetricPeriod::Year(year) = period else {
        return Vec::new();
    };
    let of_year: Vec<&Record> = records
        .iter()
        .filter(|r| r.year("as_at") == Some(year))
        .collect();
    let mut out = HDP.each_scope(&of_year, period, |rs| {
        area_share(&typed(rs), |s| {
            if s.hdp_in_place {
                s.floor_area
            } else {
                Decimal::ZERO
            }
        })
    });
    out.extend(LED.each_scope(&of_year, period, |rs| {
        let (value, working) = area_share(&typed(rs), |s| {
            s.floor_area * s.led_coverage / Decimal::ONE_HUNDRED
        })?;
        Some((value, format!("LED-lit {working}")))
    }));
    let fossil = |s: &Site<'_>| s.is_fossil();
    let oil = |s: &Site<'_>| s.heating == "oil";
    out.extend(FOSSIL_SITES.each_scope(&of_year, period, |rs| {
        let (n, _, w) = sites_where(&typed(rs), fossil, year, 2032);
        Some((n, w))
    }));
    out.extend(FOSSIL_AREA.each_scope(&of_year, period, |rs| {
        let (_, a, w) = sites_where(&typed(rs), fossil, year, 2032);
        Some((a, w))
    }));
    out.extend(OIL_SITES.each_scope(&of_year, period, |rs| {
        let (n, _, w) = sites_where(&typed(rs), oil, year, 2028);
        Some((n, w))
    }));
    out.extend(OIL_AREA.each_scope(&of_year, period, |rs| {
        let (_, a, w) = sites_where(&typed(rs), oil, year, 2028);
        Some((a, w))
    }));
    out
}

/// Whole financial years after `year` that end before the deadline calendar year is out
/// (2023/24 to 2028: 2024/25 … 2027/28, four); `None` once it has passed.
pub fn years_to_deadline(year: FinancialYear, deadline_calendar_year: i32) -> Option<i32> {
    let left = deadline_calendar_year - year.0 - 1;
    (left >= 0).then_some(left)
}

pub const MEASURES: &[Choice] = &[
    Choice {
        slug: "heat-pump",
        label: "Heat pump",
    },
    Choice {
        slug: "led-lighting",
        label: "LED lighting",
    },
    Choice {
        slug: "solar-pv",
        label: "Solar PV",
    },
    Choice {
        slug: "battery-storage",
        label: "Battery storage",
    },
    Choice {
        slug: "fabric",
        label: "Insulation and fabric",
    },
    Choice {
        slug: "controls",
        label: "Building management and controls",
    },
    Choice {
        slug: "other",
        label: "Other",
    },
];

pub const FUNDING: &[Choice] = &[
    Choice {
        slug: "psds",
        label: "Public Sector Decarbonisation Scheme",
    },
    Choice {
        slug: "nhs-capital",
        label: "NHS national capital",
    },
    Choice {
        slug: "own-capital",
        label: "Organisation's own capital",
    },
    Choice {
        slug: "salix-loan",
        label: "Salix loan",
    },
    Choice {
        slug: "energy-performance-contract",
        label: "Energy performance contract",
    },
    Choice {
        slug: "other",
        label: "Other",
    },
];

pub const PROJECT_STATUS: &[Choice] = &[
    Choice {
        slug: "idea",
        label: "Idea",
    },
    Choice {
        slug: "feasibility",
        label: "Feasibility",
    },
    Choice {
        slug: "business-case",
        label: "Business case",
    },
    Choice {
        slug: "funded",
        label: "Funded",
    },
    Choice {
        slug: "in-delivery",
        label: "In delivery",
    },
    Choice {
        slug: "complete",
        label: "Complete",
    },
    Choice {
        slug: "cancelled",
        label: "Cancelled",
    },
];

pub static PIPELINE: Register = Register {
    slug: "estates-pipeline",
    title: "Estates: net zero pipeline",
    area: "estates-and-facilities",
    summary: "Net zero estate projects: the measure, what it costs, the tCO2e and money it is expected to save each year, how it is funded and where it stands.",
    fields: &[
        ORGANISATION,
        Field::new("project", "Project", FieldKind::Text),
        Field::new("site", "Site", FieldKind::Text).optional(),
        Field::new("measure", "Measure", FieldKind::Choice(MEASURES)),
        Field::new(
            "capital_cost",
            "Capital cost",
            FieldKind::Decimal { unit: "£" },
        ),
        Field::new(
            "annual_tco2e_saving",
            "Expected annual saving (carbon)",
            FieldKind::Decimal { unit: "tCO2e" },
        ),
        Field::new(
            "annual_cost_saving",
            "Expected annual saving (money)",
            FieldKind::Decimal { unit: "£" },
        )
        .optional(),
        Field::new("funding_route", "Funding route", FieldKind::Choice(FUNDING)),
        Field::new("status", "Status", FieldKind::Choice(PROJECT_STATUS)),
        Field::new("target_date", "Target date", FieldKind::Date).hint("When the saving starts"),
    ],
    name_field: "project",
    filter_field: Some("status"),
    cross_check: Some(pipeline_check),
    metrics: pipeline_metrics,
    periods: pipeline_periods,
};

fn pipeline_check(r: &Record) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if r.choice("status") == Some("complete") && r.decimal("annual_tco2e_saving").is_none() {
        errors.push(FieldError {
            field: "annual_tco2e_saving",
            message: "a complete project needs its annual saving".into(),
        });
    }
    errors
}

fn pipeline_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "target_date")
        .into_iter()
        .filter(|p| matches!(p, MetricPeriod::Year(_)))
        .collect()
}

const PIPELINE_SAVING: FigureMaker = FigureMaker::new(
    "pipeline-saving",
    "Expected annual saving of projects due in the year (not cancelled)",
    "tCO2e",
);
const PIPELINE_CAPITAL: FigureMaker = FigureMaker::new(
    "pipeline-capital",
    "Capital cost of projects due in the year (not cancelled)",
    "£",
);

fn pipeline_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let due: Vec<&Record> = records
        .iter()
        .filter(|r| r.choice("status") != Some("cancelled"))
        .filter(|r| r.date("target_date").is_some_and(|d| period.contains(d)))
        .collect();
    let sum =
        |rs: &[&Record], key: &str| -> Decimal { rs.iter().filter_map(|r| r.decimal(key)).sum() };
    let mut out = PIPELINE_SAVING.each_scope(&due, period, |rs| {
        Some((
            sum(rs, "annual_tco2e_saving"),
            format!("{} projects", rs.len()),
        ))
    });
    out.extend(PIPELINE_CAPITAL.each_scope(&due, period, |rs| {
        Some((sum(rs, "capital_cost"), format!("{} projects", rs.len())))
    }));
    out
}

/// The net zero estate pipeline against the gap it has to close: the latest year's NHS Carbon
/// Footprint against the national trajectory's next milestone (80% below the baseline by
/// 2032), and the expected annual savings of the projects not yet in that footprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineAgainstGap {
    /// The baseline (the first year with footprint data, as the reports take it).
    pub baseline: (FinancialYear, Decimal),
    /// The latest year with footprint data, and its tCO2e.
    pub latest: (FinancialYear, Decimal),
    /// The milestone: its year and the tCO2e the trajectory allows then.
    pub milestone: (FinancialYear, Decimal),
    /// tCO2e a year still to cut from the latest year to reach the milestone (0 when below).
    pub gap: Decimal,
    /// Expected annual tCO2e saving of the projects counted, and how many.
    pub pipeline: Decimal,
    pub projects: usize,
}

impl PipelineAgainstGap {
    /// The share of the gap the pipeline would close, in percent; `None` with no gap.
    pub fn share_of_gap(&self) -> Option<Decimal> {
        share(self.pipeline, self.gap)
    }
}

/// Works out [`PipelineAgainstGap`] from the pipeline's records (already for one organisation,
/// or all) and that organisation's (or the system's) Carbon Footprint by year, in tCO2e.
///
/// A project counts when it is not cancelled, its saving is not already in the latest year's
/// footprint (it is not complete by then), and it is due by the milestone's year end.
pub fn pipeline_against_gap(
    projects: &[Record],
    footprint: &[(FinancialYear, Decimal)],
) -> Option<PipelineAgainstGap> {
    use crate::category::Footprint;
    use crate::period::Period;
    use crate::target::{Baseline, national_targets, trajectory};
    let baseline = *footprint.iter().min_by_key(|(y, _)| *y)?;
    let latest = *footprint.iter().max_by_key(|(y, _)| *y)?;
    let targets = national_targets(Footprint::CarbonFootprint);
    let milestone_year = targets
        .iter()
        .filter_map(|t| match t {
            crate::target::Target::PercentVsBaseline { period, .. } => period.financial_year(),
            _ => None,
        })
        .find(|y| *y > latest.0)?;
    let path = trajectory(
        Some(&Baseline {
            period: Period::FinancialYear { year: baseline.0 },
            value: baseline.1,
        }),
        &targets,
    )
    .ok()?;
    let allowed = path.at(milestone_year)?;
    let counted: Vec<&Record> = projects
        .iter()
        .filter(|r| r.choice("status") != Some("cancelled"))
        .filter(|r| {
            let due = r.date("target_date");
            let landed =
                r.choice("status") == Some("complete") && due.is_some_and(|d| d <= latest.0.end());
            !landed && due.is_some_and(|d| d <= milestone_year.end())
        })
        .collect();
    Some(PipelineAgainstGap {
        baseline,
        latest,
        milestone: (milestone_year, allowed),
        gap: (latest.1 - allowed).max(Decimal::ZERO),
        pipeline: counted
            .iter()
            .filter_map(|r| r.decimal("annual_tco2e_saving"))
            .sum(),
        projects: counted.len(),
    })
}
