//! Procurement and supply chain: contracts (with the PPN 06/20 and PPN 06/21 tests applied to
//! them) and spend by category for spend-based (Carbon Footprint Plus) emissions.
//!
//! - **PPN 06/20**: every new procurement carries a net zero and social value weighting of at
//!   least 10%. A contract complies when the weighting was applied at 10% or more.
//! - **PPN 06/21**: a supplier Carbon Reduction Plan is required for new contracts over £5m a
//!   year. "Required" is derived from the annual value, never typed; a contract complies when
//!   the plan was received.
//!
//! Both are measured over contracts that **start** in the period (new procurements), per
//! organisation and for the system, against the plan's 100% targets.
//!
//! Spend-based emissions use a spend factor set (kgCO2e per £, at a stated price year)
//! imported as a factor edition (`greenplan factors import-spend`, which stores the price
//! year with it), one factor per category named `spend-<category>`; a spend row names the
//! edition it uses. Spend of a year other than the set's price year is counted and noted.

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, end_not_before_start, share, years_and_quarters, years_of,
};
use crate::category::NhsCategory;
use rust_decimal::Decimal;

/// Carbon Footprint Plus supply-chain categories a contract or spend line falls in.
pub const CATEGORIES: &[Choice] = &[
    Choice {
        slug: "medicines-and-chemicals",
        label: "Medicines and chemicals",
    },
    Choice {
        slug: "medical-equipment",
        label: "Medical equipment",
    },
    Choice {
        slug: "non-medical-equipment",
        label: "Non-medical equipment",
    },
    Choice {
        slug: "business-services",
        label: "Business services",
    },
    Choice {
        slug: "construction",
        label: "Construction",
    },
    Choice {
        slug: "freight",
        label: "Freight",
    },
    Choice {
        slug: "food-and-catering",
        label: "Food and catering",
    },
    Choice {
        slug: "ict",
        label: "ICT",
    },
    Choice {
        slug: "commissioned-health-services",
        label: "Commissioned health services",
    },
];

pub const EVERGREEN: &[Choice] = &[
    Choice {
        slug: "not-assessed",
        label: "Not assessed",
    },
    Choice {
        slug: "level-1",
        label: "Level 1",
    },
    Choice {
        slug: "level-2",
        label: "Level 2",
    },
    Choice {
        slug: "level-3",
        label: "Level 3",
    },
];

/// PPN 06/21 applies to contracts over this annual value (£).
pub const CRP_THRESHOLD: Decimal = Decimal::from_parts(5_000_000, 0, 0, false, 0);
/// PPN 06/20's minimum net zero and social value weighting (%).
pub const MIN_WEIGHTING: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

pub static CONTRACTS: Register = Register {
    slug: "procurement-contracts",
    title: "Procurement: contracts",
    area: "procurement-and-supply-chain",
    summary: "Contracts awarded: supplier, category, annual value, dates, the PPN 06/20 weighting and PPN 06/21 Carbon Reduction Plan, sustainability KPIs and the supplier's Evergreen level.",
    fields: &[
        ORGANISATION,
        Field::new("contract", "Contract", FieldKind::Text).hint("Title or reference"),
        Field::new("supplier", "Supplier", FieldKind::Text),
        Field::new("category", "Category", FieldKind::Choice(CATEGORIES)),
        Field::new(
            "annual_value",
            "Annual value",
            FieldKind::Decimal { unit: "£" },
        ),
        Field::new("start_date", "Start", FieldKind::Date),
        Field::new("end_date", "End", FieldKind::Date).optional(),
        Field::new(
            "ppn_0620_applied",
            "PPN 06/20 weighting applied",
            FieldKind::YesNo,
        ),
        Field::new(
            "ppn_0620_weighting",
            "PPN 06/20 weighting",
            FieldKind::Percent,
        )
        .optional()
        .hint("Net zero and social value weighting in the evaluation; at least 10%"),
        Field::new(
            "crp_received",
            "Carbon Reduction Plan received",
            FieldKind::YesNo,
        )
        .hint("Required (PPN 06/21) when the annual value is over £5 million"),
        Field::new(
            "sustainability_kpis",
            "Sustainability KPIs in the contract",
            FieldKind::YesNo,
        ),
        Field::new(
            "evergreen_level",
            "Evergreen assessment",
            FieldKind::Choice(EVERGREEN),
        ),
    ],
    name_field: "contract",
    filter_field: Some("category"),
    cross_check: Some(contract_check),
    metrics: contract_metrics,
    periods: contract_periods,
};

fn contract_check(r: &Record) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = end_not_before_start(r, "start_date", "end_date")
        .into_iter()
        .collect();
    if r.yes("ppn_0620_applied") && r.decimal("ppn_0620_weighting").is_none() {
        errors.push(FieldError {
            field: "ppn_0620_weighting",
            message: "the weighting was applied: give its percentage".into(),
        });
    }
    if !r.yes("ppn_0620_applied")
        && r.decimal("ppn_0620_weighting")
            .is_some_and(|w| !w.is_zero())
    {
        errors.push(FieldError {
            field: "ppn_0620_applied",
            message:
                "a weighting is given but marked not applied: write yes, or clear the weighting"
                    .into(),
        });
    }
    errors
}

/// A contract, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract<'r> {
    pub name: &'r str,
    pub annual_value: Decimal,
    pub weighting: Option<Decimal>,
    pub crp_received: bool,
    pub kpis: bool,
}

impl<'r> Contract<'r> {
    pub fn of(r: &'r Record) -> Self {
        Self {
            name: r.name(),
            annual_value: r.decimal("annual_value").unwrap_or_default(),
            weighting: r
                .yes("ppn_0620_applied")
                .then(|| r.decimal("ppn_0620_weighting"))
                .flatten(),
            crp_received: r.yes("crp_received"),
            kpis: r.yes("sustainability_kpis"),
        }
    }

    /// PPN 06/21 applies: over £5m a year.
    pub fn crp_required(&self) -> bool {
        self.annual_value > CRP_THRESHOLD
    }

    /// PPN 06/20 is met: at least a 10% weighting applied.
    pub fn meets_ppn_0620(&self) -> bool {
        self.weighting.is_some_and(|w| w >= MIN_WEIGHTING)
    }
}

fn typed<'r>(records: &[&'r Record]) -> Vec<Contract<'r>> {
    records.iter().map(|r| Contract::of(r)).collect()
}

fn contract_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "start_date")
}

const PPN_0620: FigureMaker = FigureMaker::new(
    "ppn-06-20-compliance",
    "New contracts with a net zero and social value weighting of 10% or more (PPN 06/20)",
    "%",
)
.feeds("ppn-06-20-compliance");
const PPN_0621: FigureMaker = FigureMaker::new(
    "ppn-06-21-compliance",
    "New contracts over £5m a year with a Carbon Reduction Plan (PPN 06/21)",
    "%",
)
.feeds("ppn-06-21-compliance");
const KPIS: FigureMaker = FigureMaker::new(
    "contracts-with-kpis",
    "New contracts with sustainability KPIs from inception",
    "contracts",
)
.feeds("contracts-with-sustainability-kpis");

fn contract_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let new: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("start_date").is_some_and(|d| period.contains(d)))
        .collect();
    let mut out = PPN_0620.each_scope(&new, period, |rs| {
        let cs = typed(rs);
        let met = cs.iter().filter(|c| c.meets_ppn_0620()).count();
        Some((
            share(Decimal::from(met), Decimal::from(cs.len()))?,
            format!("{met} of {} new contracts", cs.len()),
        ))
    });
    out.extend(PPN_0621.each_scope(&new, period, |rs| {
        let required: Vec<Contract<'_>> = typed(rs)
            .into_iter()
            .filter(Contract::crp_required)
            .collect();
        let met = required.iter().filter(|c| c.crp_received).count();
        let value = share(Decimal::from(met), Decimal::from(required.len()))?;
        Some((
            value,
            format!("{met} of {} new contracts over £5m a year", required.len()),
        ))
    }));
    out.extend(KPIS.each_scope(&new, period, |rs| {
        let cs = typed(rs);
        let n = cs.iter().filter(|c| c.kpis).count();
        Some((
            Decimal::from(n),
            format!("{n} of {} new contracts", cs.len()),
        ))
    }));
    out
}

pub static SPEND: Register = Register {
    slug: "procurement-spend",
    title: "Procurement: spend by category",
    area: "procurement-and-supply-chain",
    summary: "Non-pay spend by Carbon Footprint Plus category for a financial year, turned into tCO2e with an imported spend factor set (kgCO2e per £ at its price year).",
    fields: &[
        ORGANISATION,
        Field::new("financial_year", "Financial year", FieldKind::FinancialYear),
        Field::new("category", "Category", FieldKind::Choice(CATEGORIES)),
        Field::new("spend", "Spend", FieldKind::Decimal { unit: "£" }).hint("Excluding VAT"),
        Field::new("factor_edition", "Spend factor set", FieldKind::Text)
            .hint("The edition the spend factors were imported as, e.g. spend-2021-prices"),
    ],
    name_field: "category",
    filter_field: Some("category"),
    cross_check: None,
    metrics: spend_metrics,
    periods: spend_periods,
};

fn spend_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_of(records, "financial_year")
}

const SPEND_TOTAL: FigureMaker = FigureMaker::new("spend", "Non-pay spend", "£");

fn spend_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let rows: Vec<&Record> = records
        .iter()
        .filter(|r| r.year("financial_year") == Some(period.year()))
        .collect();
    SPEND_TOTAL.each_scope(&rows, period, |rs| {
        Some((
            rs.iter().filter_map(|r| r.decimal("spend")).sum(),
            format!("{} category lines", rs.len()),
        ))
    })
}

/// The spend factor a spend line uses: `spend-<category>` in its factor set.
pub fn spend_factor_name(category: &str) -> String {
    format!("spend-{category}")
}

/// The Carbon Footprint Plus category of a spend category slug.
pub fn nhs_category(category: &str) -> Option<NhsCategory> {
    category.parse().ok()
}
