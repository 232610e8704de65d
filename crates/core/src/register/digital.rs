//! Digital: NHS App registration and Patient Engagement Portal sign-up as a share of the
//! eligible population by place, and what became of old devices (repurposed, recycled,
//! disposed of) per organisation.
//!
//! Sign-up is a stock counted on a date ("59% of Derbyshire residents over the age of 13
//! registered, as of December 2024"), so a period's figure is each place's latest count within
//! it, and the system's share is the summed registrations over the summed eligible population:
//! not an average of the places' percentages, which would weigh Derbyshire Dales as heavily as
//! Derby City. Devices are flows: a period's figure sums the returns ending within it.

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, end_not_before_start, latest_each, part_of_whole, share, years_and_quarters,
};
use crate::quantity::with_thousands;
use chrono::NaiveDate;

pub const SERVICES: &[Choice] = &[
    Choice {
        slug: "nhs-app",
        label: "NHS App",
    },
    Choice {
        slug: "patient-engagement-portal",
        label: "Patient Engagement Portal",
    },
];

pub const SIGN_UP: Register = Register {
    slug: "digital-sign-up",
    title: "Digital: NHS App and portal sign-up",
    area: "digital-transformation",
    summary: "People registered for the NHS App, or signed up to a Patient Engagement Portal, in each place on a date, against the people eligible (for the NHS App, residents aged 13 and over).",
    fields: &[
        ORGANISATION,
        Field::new("service", "Service", FieldKind::Choice(SERVICES)),
        Field::new("place", "Place", FieldKind::Text)
            .hint("The Place Alliance as the plan names it, e.g. Derby City"),
        Field::new("as_at", "As at", FieldKind::Date).hint("e.g. 2024-12-31"),
        Field::new("registered", "People registered", FieldKind::Whole),
        Field::new("eligible", "People eligible", FieldKind::Whole)
            .hint("For the NHS App: residents aged 13 and over"),
    ],
    name_field: "place",
    filter_field: Some("service"),
    cross_check: Some(sign_up_check),
    metrics: sign_up_metrics,
    periods: sign_up_periods,
};

fn sign_up_check(r: &Record) -> Vec<FieldError> {
    part_of_whole(r, "registered", "eligible", "the same place and date")
}

fn sign_up_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "as_at")
}

/// Sign-up in a place on a date, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUp<'r> {
    pub service: &'r str,
    pub place: &'r str,
    pub as_at: NaiveDate,
    pub registered: u64,
    pub eligible: u64,
}

impl<'r> SignUp<'r> {
    pub fn of(r: &'r Record) -> Option<Self> {
        Some(Self {
            service: r.choice("service")?,
            place: r.text("place")?,
            as_at: r.date("as_at")?,
            registered: r.whole("registered")?,
            eligible: r.whole("eligible")?,
        })
    }
}

/// Sign-up to `service` in `period`: each place's latest count within the period, summed:
/// (registered, eligible, places).
pub fn sign_up(
    counts: &[SignUp<'_>],
    service: &str,
    period: MetricPeriod,
) -> Option<(u64, u64, usize)> {
    let within = counts
        .iter()
        .filter(|c| c.service == service && period.contains(c.as_at));
    let latest = latest_each(within, |c| c.place.trim().to_lowercase(), |c| Some(c.as_at));
    (!latest.is_empty()).then(|| {
        (
            latest.iter().map(|c| c.registered).sum(),
            latest.iter().map(|c| c.eligible).sum(),
            latest.len(),
        )
    })
}

const NHS_APP: FigureMaker = FigureMaker::new(
    "nhs-app-share",
    "Eligible residents registered for the NHS App",
    "%",
)
.feeds("nhs-app-registration");
const PORTAL: FigureMaker = FigureMaker::new(
    "portal-share",
    "Patients signed up to a Patient Engagement Portal",
    "%",
)
.feeds("patient-engagement-portal-signup");

fn sign_up_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let all: Vec<&Record> = records.iter().collect();
    let figure = |service: &'static str| {
        move |rs: &[&Record]| {
            let typed: Vec<SignUp<'_>> = rs.iter().filter_map(|r| SignUp::of(r)).collect();
            let (registered, eligible, places) = sign_up(&typed, service, period)?;
            let value = share(registered.into(), eligible.into())?;
            Some((
                value,
                format!(
                    "{} of {} eligible in {places} places (each place's latest count in the period)",
                    with_thousands(registered.into(), 0),
                    with_thousands(eligible.into(), 0)
                ),
            ))
        }
    };
    let mut out = NHS_APP.each_scope(&all, period, figure("nhs-app"));
    out.extend(PORTAL.each_scope(&all, period, figure("patient-engagement-portal")));
    out
}

pub const DEVICES: Register = Register {
    slug: "digital-devices",
    title: "Digital: old devices",
    area: "digital-transformation",
    summary: "What became of an organisation's old laptops, desktops, tablets and phones in a period: repurposed (wiped and reused or donated), recycled (WEEE) or disposed of.",
    fields: &[
        ORGANISATION,
        Field::new("period_start", "Period start", FieldKind::Date),
        Field::new("period_end", "Period end", FieldKind::Date)
            .hint("e.g. the quarter's last day, 2025-06-30"),
        Field::new("repurposed", "Devices repurposed", FieldKind::Whole)
            .hint("Wiped and reused within the NHS, or donated"),
        Field::new("recycled", "Devices recycled", FieldKind::Whole)
            .hint("Sent to a WEEE recycler"),
        Field::new("disposed", "Devices disposed of", FieldKind::Whole)
            .hint("Destroyed or disposed of without recycling"),
    ],
    name_field: "period_end",
    filter_field: None,
    cross_check: Some(device_check),
    metrics: device_metrics,
    periods: device_periods,
};

fn device_check(r: &Record) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = end_not_before_start(r, "period_start", "period_end")
        .into_iter()
        .collect();
    let total: u64 = ["repurposed", "recycled", "disposed"]
        .iter()
        .filter_map(|k| r.whole(k))
        .sum();
    if total == 0 {
        errors.push(FieldError {
            field: "repurposed",
            message: "Devices repurposed: a return with no devices says nothing; give the devices repurposed, recycled or disposed of, or leave the period out".into(),
        });
    }
    errors
}

fn device_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "period_end")
}

/// Devices by route: (repurposed, recycled, disposed).
pub fn routes(rs: &[&Record], period: MetricPeriod) -> Option<[u64; 3]> {
    let within: Vec<&&Record> = rs
        .iter()
        .filter(|r| r.date("period_end").is_some_and(|d| period.contains(d)))
        .collect();
    (!within.is_empty()).then(|| {
        ["repurposed", "recycled", "disposed"]
            .map(|k| within.iter().filter_map(|r| r.whole(k)).sum())
    })
}

const ROUTE_FIGURES: [FigureMaker; 3] = [
    FigureMaker::new("devices-repurposed-share", "Old devices repurposed", "%"),
    FigureMaker::new("devices-recycled-share", "Old devices recycled", "%"),
    FigureMaker::new("devices-disposed-share", "Old devices disposed of", "%"),
];

fn device_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let all: Vec<&Record> = records.iter().collect();
    let mut out = Vec::new();
    for (i, maker) in ROUTE_FIGURES.iter().enumerate() {
        out.extend(maker.each_scope(&all, period, |rs| {
            let by = routes(rs, period)?;
            let total: u64 = by.iter().sum();
            Some((
                share(by[i].into(), total.into())?,
                format!("{} of {total} devices", by[i]),
            ))
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ods::OdsCode;
    use crate::period::{FinancialYear, Quarter};
    use rust_decimal::Decimal;

    fn parse(register: &'static Register, row: &[(&str, &str)]) -> Result<Record, Vec<FieldError>> {
        register.parse(|k| row.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    fn app(
        place: &str,
        as_at: &str,
        registered: &str,
        eligible: &str,
    ) -> Result<Record, Vec<FieldError>> {
        parse(
            &SIGN_UP,
            &[
                ("organisation", "QJ2"),
                ("service", "NHS App"),
                ("place", place),
                ("as_at", as_at),
                ("registered", registered),
                ("eligible", eligible),
            ],
        )
    }

    fn value(figures: &[Figure], key: &str, org: Option<&str>) -> Option<Decimal> {
        figures
            .iter()
            .find(|f| f.key == key && f.organisation.as_ref().map(OdsCode::as_str) == org)
            .map(|f| f.value)
    }

    #[test]
    fn system_share_weighs_places_by_population() {
        let records = vec![
            app("Derby City", "2024-11-30", "100000", "220000").unwrap(),
            app("Derby City", "2024-12-31", "132000", "220000").unwrap(),
            app("High Peak", "2024-12-31", "40000", "80000").unwrap(),
        ];
        let q3 = MetricPeriod::Quarter(Quarter::parse("Q3 2024/25").unwrap());
        // Latest count per place: 132,000 + 40,000 = 172,000 of 300,000 = 57.333…% → 57.3%,
        // not the mean of 60% and 50%.
        let figures = sign_up_metrics(&records, q3);
        assert_eq!(
            value(&figures, "nhs-app-share", None),
            Some(Decimal::new(573, 1))
        );
        assert_eq!(value(&figures, "portal-share", None), None);
        let f = figures
            .iter()
            .find(|f| f.key == "nhs-app-share" && f.organisation.is_none())
            .unwrap();
        assert_eq!(f.plan_metric, Some("nhs-app-registration"));
        assert!(
            f.working
                .starts_with("172,000 of 300,000 eligible in 2 places")
        );
    }

    #[test]
    fn more_registered_than_eligible_is_refused() {
        let errors = app("Erewash", "2024-12-31", "9", "8").unwrap_err();
        assert_eq!(errors[0].field, "registered");
        assert!(
            errors[0]
                .message
                .contains("9 is more than People eligible (8)")
        );
        assert_eq!(
            app("Erewash", "2024-12-31", "0", "0").unwrap_err()[0].field,
            "eligible"
        );
    }

    fn devices(
        org: &str,
        start: &str,
        end: &str,
        counts: [&str; 3],
    ) -> Result<Record, Vec<FieldError>> {
        parse(
            &DEVICES,
            &[
                ("organisation", org),
                ("period_start", start),
                ("period_end", end),
                ("repurposed", counts[0]),
                ("recycled", counts[1]),
                ("disposed", counts[2]),
            ],
        )
    }

    #[test]
    fn device_shares_by_route() {
        let records = vec![
            devices("RTG", "2025-04-01", "2025-06-30", ["120", "60", "20"]).unwrap(),
            devices("RTG", "2025-07-01", "2025-09-30", ["80", "100", "20"]).unwrap(),
        ];
        // 200 repurposed, 160 recycled, 40 disposed of, of 400: 50%, 40%, 10%.
        let year = device_metrics(&records, MetricPeriod::Year(FinancialYear(2025)));
        assert_eq!(
            value(&year, "devices-repurposed-share", None),
            Some(50.into())
        );
        assert_eq!(
            value(&year, "devices-recycled-share", Some("RTG")),
            Some(40.into())
        );
        assert_eq!(
            value(&year, "devices-disposed-share", None),
            Some(10.into())
        );
        assert!(device_metrics(&records, MetricPeriod::Year(FinancialYear(2024))).is_empty());
    }

    #[test]
    fn an_empty_or_backwards_device_return_is_refused() {
        let errors = devices("RTG", "2025-07-01", "2025-06-30", ["0", "0", "0"]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["period_end", "repurposed"]);
    }
}
