//! Waste: tonnes of each waste stream by disposal route, and the miles driven to take it
//! away, per period. Emissions go through conversion factors: the official files' waste
//! disposal factors where they publish one (energy from waste = "Combustion", landfill), and
//! the HGV mileage factor for transport. The official files publish **no** factor for clinical
//! waste by high-temperature incineration or alternative treatment, nor for commercial waste
//! recycled or reused; those routes resolve against custom factors named
//! `waste-<route>` (imported by the user with their source), and stay unresolved, visibly,
//! until there is one.

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, end_not_before_start, share, years_and_quarters,
};
use rust_decimal::Decimal;

pub const STREAMS_LIST: &[Choice] = &[
    Choice {
        slug: "clinical-infectious",
        label: "Clinical: infectious",
    },
    Choice {
        slug: "clinical-offensive",
        label: "Clinical: offensive",
    },
    Choice {
        slug: "clinical-pharmaceutical",
        label: "Clinical: pharmaceutical and anatomical",
    },
    Choice {
        slug: "domestic",
        label: "Domestic (general)",
    },
    Choice {
        slug: "dry-mixed-recycling",
        label: "Dry mixed recycling",
    },
    Choice {
        slug: "food",
        label: "Food",
    },
    Choice {
        slug: "weee",
        label: "Waste electrical and electronic equipment",
    },
    Choice {
        slug: "confidential",
        label: "Confidential paper",
    },
];

pub const ROUTES: &[Choice] = &[
    Choice {
        slug: "high-temperature-incineration",
        label: "High-temperature incineration",
    },
    Choice {
        slug: "alternative-treatment",
        label: "Alternative treatment",
    },
    Choice {
        slug: "energy-from-waste",
        label: "Energy from waste",
    },
    Choice {
        slug: "recycling",
        label: "Recycling",
    },
    Choice {
        slug: "landfill",
        label: "Landfill",
    },
    Choice {
        slug: "reuse",
        label: "Reuse",
    },
];

pub static STREAMS: Register = Register {
    slug: "waste-streams",
    title: "Waste: streams and routes",
    area: "estates-and-facilities",
    summary: "Tonnes of each waste stream by disposal route in a period, and the miles driven to collect it.",
    fields: &[
        ORGANISATION,
        Field::new("site", "Site", FieldKind::Text).optional(),
        Field::new("period_start", "Period start", FieldKind::Date),
        Field::new("period_end", "Period end", FieldKind::Date)
            .hint("Within the same financial year as the start"),
        Field::new("stream", "Waste stream", FieldKind::Choice(STREAMS_LIST)),
        Field::new("route", "Disposal route", FieldKind::Choice(ROUTES)),
        Field::new("tonnes", "Weight", FieldKind::Decimal { unit: "tonnes" }),
        Field::new(
            "transport_miles",
            "Collection mileage",
            FieldKind::Decimal { unit: "miles" },
        )
        .optional()
        .hint("Miles driven by the contractor's vehicles to collect and deliver this waste"),
        Field::new("contractor", "Contractor", FieldKind::Text).optional(),
    ],
    name_field: "stream",
    filter_field: Some("route"),
    cross_check: Some(waste_check),
    metrics: waste_metrics,
    periods: waste_periods,
};

fn waste_check(r: &Record) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = end_not_before_start(r, "period_start", "period_end")
        .into_iter()
        .collect();
    if let (Some(s), Some(e)) = (r.date("period_start"), r.date("period_end"))
        && crate::period::FinancialYear::containing(s)
            != crate::period::FinancialYear::containing(e)
    {
        errors.push(FieldError {
            field: "period_end",
            message: "the period crosses 31 March: split it into one row per financial year".into(),
        });
    }
    errors
}

fn waste_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "period_start")
}

/// The factor a route's tonnes resolve against: an official path, or the custom factor name
/// the user supplies for routes the official files do not cover.
pub fn route_factor(route: &str) -> String {
    match route {
        "energy-from-waste" => "waste-combustion".to_string(),
        "landfill" => "waste-landfill".to_string(),
        other => format!("waste-{other}"),
    }
}

/// The route factors the official files publish (through greenplan's aliases); the other
/// routes need a custom factor.
pub const OFFICIAL_ROUTE_FACTORS: [&str; 2] = ["waste-combustion", "waste-landfill"];

/// The official factor for collection mileage: an average laden diesel HGV, per mile.
pub const TRANSPORT_FACTOR: &str =
    "Delivery vehicles > HGV (all diesel) > All HGVs > Average laden";

const TONNES: FigureMaker = FigureMaker::new("tonnes", "Waste", "tonnes");
const MILES: FigureMaker = FigureMaker::new("collection-miles", "Collection mileage", "miles")
    .feeds_for("crhft-clinical-waste-mileage", "RFS");

/// Share of tonnes by route (one figure per route).
const ROUTE_FIGURES: &[(&str, FigureMaker)] = &[
    (
        "high-temperature-incineration",
        FigureMaker::new(
            "share-high-temperature-incineration",
            "Share to high-temperature incineration",
            "%",
        ),
    ),
    (
        "alternative-treatment",
        FigureMaker::new(
            "share-alternative-treatment",
            "Share to alternative treatment",
            "%",
        ),
    ),
    (
        "energy-from-waste",
        FigureMaker::new("share-energy-from-waste", "Share to energy from waste", "%"),
    ),
    (
        "recycling",
        FigureMaker::new("share-recycling", "Share recycled", "%"),
    ),
    (
        "landfill",
        FigureMaker::new("share-landfill", "Share to landfill", "%"),
    ),
    (
        "reuse",
        FigureMaker::new("share-reuse", "Share reused", "%"),
    ),
];

fn waste_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let rows: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("period_start").is_some_and(|d| period.contains(d)))
        .collect();
    let tonnes =
        |rs: &[&Record]| -> Decimal { rs.iter().filter_map(|r| r.decimal("tonnes")).sum() };
    let mut out = TONNES.each_scope(&rows, period, |rs| {
        Some((tonnes(rs), format!("{} rows", rs.len())))
    });
    out.extend(MILES.each_scope(&rows, period, |rs| {
        let miles: Decimal = rs.iter().filter_map(|r| r.decimal("transport_miles")).sum();
        (!miles.is_zero()).then(|| (miles, format!("{} rows", rs.len())))
    }));
    for (route, maker) in ROUTE_FIGURES {
        out.extend(maker.each_scope(&rows, period, |rs| {
            let on_route: Vec<&Record> = rs
                .iter()
                .copied()
                .filter(|r| r.choice("route") == Some(*route))
                .collect();
            let value = share(tonnes(&on_route), tonnes(rs))?;
            (!on_route.is_empty()).then(|| {
                (
                    value,
                    format!("{} of {} tonnes", tonnes(&on_route), tonnes(rs)),
                )
            })
        }));
    }
    out
}

/// The plan's clinical waste case (CRHFT, Veolia contract): collection mileage fell from
/// 28,276 to 4,117 miles a year, and the plan states a saving of 198 tCO2e a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicalWasteCase {
    pub miles_before: Decimal,
    pub miles_after: Decimal,
    /// kgCO2e per mile of the transport factor used.
    pub kg_per_mile: Decimal,
    /// tCO2e saved by the shorter journeys alone.
    pub mileage_saving_t: Decimal,
    /// The plan's stated saving.
    pub stated_saving_t: Decimal,
    /// What the mileage does not explain: the change of route (from high-temperature
    /// incineration to energy recovery at Sheffield) the case also describes, for which the
    /// official files publish no factor.
    pub unexplained_t: Decimal,
}

impl ClinicalWasteCase {
    /// Works the case out with a transport factor (kgCO2e per mile).
    pub fn with_factor(miles_before: Decimal, miles_after: Decimal, kg_per_mile: Decimal) -> Self {
        let stated = Decimal::from(198);
        let saving =
            ((miles_before - miles_after) * kg_per_mile / Decimal::ONE_THOUSAND).round_dp(1);
        Self {
            miles_before,
            miles_after,
            kg_per_mile,
            mileage_saving_t: saving,
            stated_saving_t: stated,
            unexplained_t: stated - saving,
        }
    }

    /// The factor per mile that would make the mileage alone give the stated saving.
    pub fn implied_kg_per_mile(&self) -> Decimal {
        (self.stated_saving_t * Decimal::ONE_THOUSAND / (self.miles_before - self.miles_after))
            .round_dp(3)
    }
}
