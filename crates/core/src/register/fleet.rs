//! Fleet and business travel: the vehicles an organisation owns or leases and their use, staff
//! lease and salary-sacrifice cars, and EV charge points.
//!
//! **Definitions** (tailpipe gCO2/km as on the V5C or the lease quote):
//! - *zero emission*: 0 g/km at the tailpipe: battery electric and hydrogen vehicles;
//! - *ultra-low emission* (ULEV): under 75 g/km, the UK Government's definition (zero emission
//!   vehicles included);
//! - *low emission*: under 100 g/km, or any hybrid. Neither the NHS Long Term Plan ("90% of
//!   fleet low-emission by 2028") nor the Derbyshire plan defines it; this is greenplan's
//!   reading, shown on the register page, and ULEVs are included.
//!
//! The fleet of a period is the vehicles in service on its last day; its new vehicles are those
//! that entered service within it. Lease cars count in the period their agreement starts; the
//! plan's DCHS case counts "ultra-low" apart from the fully electric, and so does
//! [`LeaseCarCounts::ultra_low_not_electric`].

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, end_not_before_start, share, years_and_quarters, years_of,
};
use crate::quantity::with_thousands;
use rust_decimal::Decimal;

pub const VEHICLE_TYPES: &[Choice] = &[
    Choice {
        slug: "car",
        label: "Car",
    },
    Choice {
        slug: "van",
        label: "Van",
    },
    Choice {
        slug: "ambulance",
        label: "Ambulance",
    },
    Choice {
        slug: "patient-transport",
        label: "Patient transport vehicle",
    },
    Choice {
        slug: "hgv",
        label: "HGV",
    },
];

pub const POWERTRAINS: &[Choice] = &[
    Choice {
        slug: "petrol",
        label: "Petrol",
    },
    Choice {
        slug: "diesel",
        label: "Diesel",
    },
    Choice {
        slug: "hybrid",
        label: "Hybrid",
    },
    Choice {
        slug: "plug-in-hybrid",
        label: "Plug-in hybrid",
    },
    Choice {
        slug: "battery-electric",
        label: "Battery electric",
    },
    Choice {
        slug: "hydrogen",
        label: "Hydrogen",
    },
];

pub const OWNERSHIP: &[Choice] = &[
    Choice {
        slug: "owned",
        label: "Owned",
    },
    Choice {
        slug: "leased",
        label: "Leased",
    },
];

/// Ultra-low emission: under this many gCO2/km.
pub const ULEV_BELOW: Decimal = Decimal::from_parts(75, 0, 0, false, 0);
/// Low emission: under this many gCO2/km (or a hybrid).
pub const LOW_BELOW: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// How clean a vehicle is, from its powertrain and tailpipe gCO2/km.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EmissionClass {
    Other,
    Low,
    UltraLow,
    Zero,
}

impl EmissionClass {
    pub fn of(powertrain: &str, gco2_km: Decimal) -> Self {
        if matches!(powertrain, "battery-electric" | "hydrogen") || gco2_km.is_zero() {
            Self::Zero
        } else if gco2_km < ULEV_BELOW {
            Self::UltraLow
        } else if gco2_km < LOW_BELOW || matches!(powertrain, "hybrid" | "plug-in-hybrid") {
            Self::Low
        } else {
            Self::Other
        }
    }
}

pub static VEHICLES: Register = Register {
    slug: "fleet-vehicles",
    title: "Fleet: vehicles",
    area: "travel-and-transport",
    summary: "Vehicles an organisation owns or leases: type, powertrain, tailpipe gCO2/km and when each entered and left service.",
    fields: &[
        ORGANISATION,
        Field::new("identifier", "Vehicle", FieldKind::Text).hint("Registration or fleet number"),
        Field::new("vehicle_type", "Type", FieldKind::Choice(VEHICLE_TYPES)),
        Field::new(
            "powertrain",
            "Fuel or powertrain",
            FieldKind::Choice(POWERTRAINS),
        ),
        Field::new(
            "gco2_km",
            "Tailpipe emissions",
            FieldKind::Decimal { unit: "gCO2/km" },
        )
        .hint("From the V5C; 0 for battery electric"),
        Field::new("ownership", "Owned or leased", FieldKind::Choice(OWNERSHIP)),
        Field::new("in_service", "In service from", FieldKind::Date),
        Field::new("out_of_service", "Out of service from", FieldKind::Date).optional(),
    ],
    name_field: "identifier",
    filter_field: Some("powertrain"),
    cross_check: Some(vehicle_check),
    metrics: vehicle_metrics,
    periods: vehicle_periods,
};

fn vehicle_check(r: &Record) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = end_not_before_start(r, "in_service", "out_of_service")
        .into_iter()
        .collect();
    let zero_powertrain = matches!(
        r.choice("powertrain"),
        Some("battery-electric" | "hydrogen")
    );
    if zero_powertrain && r.decimal("gco2_km").is_some_and(|g| !g.is_zero()) {
        errors.push(FieldError {
            field: "gco2_km",
            message:
                "a battery electric or hydrogen vehicle emits 0 gCO2/km at the tailpipe: write 0"
                    .into(),
        });
    }
    errors
}

/// A vehicle, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vehicle<'r> {
    pub identifier: &'r str,
    pub vehicle_type: &'r str,
    pub powertrain: &'r str,
    pub gco2_km: Decimal,
    pub in_service: Option<chrono::NaiveDate>,
    pub out_of_service: Option<chrono::NaiveDate>,
}

impl<'r> Vehicle<'r> {
    pub fn of(r: &'r Record) -> Self {
        Self {
            identifier: r.name(),
            vehicle_type: r.choice("vehicle_type").unwrap_or(""),
            powertrain: r.choice("powertrain").unwrap_or(""),
            gco2_km: r.decimal("gco2_km").unwrap_or_default(),
            in_service: r.date("in_service"),
            out_of_service: r.date("out_of_service"),
        }
    }

    pub fn class(&self) -> EmissionClass {
        EmissionClass::of(self.powertrain, self.gco2_km)
    }

    /// In service on `day`.
    pub fn in_service_on(&self, day: chrono::NaiveDate) -> bool {
        self.in_service.is_some_and(|d| d <= day) && self.out_of_service.is_none_or(|d| d > day)
    }
}

fn typed<'r>(records: &[&'r Record]) -> Vec<Vehicle<'r>> {
    records.iter().map(|r| Vehicle::of(r)).collect()
}

fn vehicle_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "in_service")
}

const LOW_OR_ZERO: FigureMaker = FigureMaker::new(
    "low-or-zero-share",
    "Fleet that is low, ultra-low or zero emission",
    "%",
)
.feeds("fleet-low-zero-emission");
const ULTRA_LOW: FigureMaker = FigureMaker::new(
    "ultra-low-share",
    "Fleet that is ultra-low or zero emission (under 75 g/km)",
    "%",
);
const ZERO: FigureMaker = FigureMaker::new("zero-share", "Fleet that is zero emission", "%");
const NEW_ZERO: FigureMaker = FigureMaker::new(
    "new-zero-share",
    "New vehicles that are zero emission (all from 2027)",
    "%",
)
.feeds("new-fleet-vehicles-zev");

fn class_share(
    vehicles: &[Vehicle<'_>],
    at_least: EmissionClass,
    of_what: &str,
) -> Option<(Decimal, String)> {
    let n = vehicles.iter().filter(|v| v.class() >= at_least).count();
    let value = share(Decimal::from(n), Decimal::from(vehicles.len()))?;
    Some((value, format!("{n} of {} {of_what}", vehicles.len())))
}

fn vehicle_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let end = period.end();
    let in_fleet: Vec<&Record> = records
        .iter()
        .filter(|r| Vehicle::of(r).in_service_on(end))
        .collect();
    let new: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("in_service").is_some_and(|d| period.contains(d)))
        .collect();
    let on_day = format!("vehicles in service on {end}");
    let mut out = LOW_OR_ZERO.each_scope(&in_fleet, period, |rs| {
        class_share(&typed(rs), EmissionClass::Low, &on_day)
    });
    out.extend(ULTRA_LOW.each_scope(&in_fleet, period, |rs| {
        class_share(&typed(rs), EmissionClass::UltraLow, &on_day)
    }));
    out.extend(ZERO.each_scope(&in_fleet, period, |rs| {
        class_share(&typed(rs), EmissionClass::Zero, &on_day)
    }));
    out.extend(NEW_ZERO.each_scope(&new, period, |rs| {
        class_share(
            &typed(rs),
            EmissionClass::Zero,
            &format!("vehicles entering service in {period}"),
        )
    }));
    out
}

pub static MILEAGE: Register = Register {
    slug: "fleet-mileage",
    title: "Fleet: mileage and fuel",
    area: "travel-and-transport",
    summary: "What each fleet vehicle travelled or burned in a period: miles, or litres of fuel. These rows feed the footprint (fleet and business travel).",
    fields: &[
        ORGANISATION,
        Field::new("vehicle", "Vehicle", FieldKind::Text).hint("As in the vehicles register"),
        Field::new("period_start", "Period start", FieldKind::Date),
        Field::new("period_end", "Period end", FieldKind::Date)
            .hint("Within the same financial year as the start"),
        Field::new("miles", "Distance", FieldKind::Decimal { unit: "miles" }).optional(),
        Field::new("fuel_litres", "Fuel", FieldKind::Decimal { unit: "litres" })
            .optional()
            .hint("When fuel cards are the source; leave distance blank"),
    ],
    name_field: "vehicle",
    filter_field: None,
    cross_check: Some(mileage_check),
    metrics: mileage_metrics,
    periods: mileage_periods,
};

fn mileage_check(r: &Record) -> Vec<FieldError> {
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
    match (r.decimal("miles"), r.decimal("fuel_litres")) {
        (None, None) => errors.push(FieldError {
            field: "miles",
            message: "give the distance in miles or the fuel in litres".into(),
        }),
        (Some(_), Some(_)) => errors.push(FieldError {
            field: "fuel_litres",
            message: "give miles or litres, not both: the same journeys would be counted twice"
                .into(),
        }),
        _ => {}
    }
    errors
}

fn mileage_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "period_start")
}

const MILES: FigureMaker = FigureMaker::new("fleet-miles", "Fleet miles travelled", "miles");

fn mileage_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let rows: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("period_start").is_some_and(|d| period.contains(d)))
        .collect();
    MILES.each_scope(&rows, period, |rs| {
        let miles: Decimal = rs.iter().filter_map(|r| r.decimal("miles")).sum();
        (!miles.is_zero()).then(|| (miles, format!("{} rows", rs.len())))
    })
}

/// The conversion factor (path in the official files) for a vehicle's miles, by type and
/// powertrain: cars and vans under "Passenger vehicles" / "Delivery vehicles" (Scope 1 for
/// an organisation's own fleet); ambulances and patient transport vehicles are van-based.
pub fn mileage_factor(vehicle_type: &str, powertrain: &str) -> String {
    let fuel = match powertrain {
        "petrol" => "Petrol",
        "hybrid" => "Hybrid",
        "plug-in-hybrid" => "Plug-in Hybrid Electric Vehicle",
        "battery-electric" | "hydrogen" => "Battery Electric Vehicle",
        _ => "Diesel",
    };
    match vehicle_type {
        "car" => format!("Passenger vehicles > Cars (by size) > Average car > {fuel}"),
        "hgv" => "Delivery vehicles > HGV (all diesel) > All HGVs > Average laden".to_string(),
        _ => {
            let van_fuel = match powertrain {
                "petrol" => "Petrol",
                "battery-electric" | "hydrogen" => "Battery Electric Vehicle",
                _ => "Diesel",
            };
            format!("Delivery vehicles > Vans > Average (up to 3.5 tonnes) > {van_fuel}")
        }
    }
}

/// The fuel alias for litres burned by a vehicle of this powertrain.
pub fn fuel_alias(powertrain: &str) -> &'static str {
    match powertrain {
        "petrol" | "hybrid" | "plug-in-hybrid" => "petrol",
        _ => "diesel",
    }
}

pub const SCHEMES: &[Choice] = &[
    Choice {
        slug: "lease",
        label: "Lease car",
    },
    Choice {
        slug: "salary-sacrifice",
        label: "Salary sacrifice",
    },
];

pub static LEASE_CARS: Register = Register {
    slug: "fleet-lease-cars",
    title: "Fleet: staff lease and salary-sacrifice cars",
    area: "travel-and-transport",
    summary: "New staff lease and salary-sacrifice car agreements: when each started, the powertrain and the car's gCO2/km.",
    fields: &[
        ORGANISATION,
        Field::new("agreement", "Agreement reference", FieldKind::Text),
        Field::new("scheme", "Scheme", FieldKind::Choice(SCHEMES)),
        Field::new("start_date", "Agreement start", FieldKind::Date),
        Field::new(
            "powertrain",
            "Fuel or powertrain",
            FieldKind::Choice(POWERTRAINS),
        ),
        Field::new(
            "gco2_km",
            "Tailpipe emissions",
            FieldKind::Decimal { unit: "gCO2/km" },
        ),
        Field::new("used_vehicle", "Used vehicle", FieldKind::YesNo).optional(),
    ],
    name_field: "agreement",
    filter_field: Some("powertrain"),
    cross_check: None,
    metrics: lease_metrics,
    periods: lease_periods,
};

/// The plan's counts of new lease cars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseCarCounts {
    pub new: u64,
    pub electric: u64,
    /// Ultra-low emission (under 75 g/km) and not fully electric.
    pub ultra_low_not_electric: u64,
    pub total_gco2_km: Decimal,
}

impl LeaseCarCounts {
    pub fn of(records: &[&Record]) -> Self {
        let mut c = Self::default();
        for r in records {
            let g = r.decimal("gco2_km").unwrap_or_default();
            let powertrain = r.choice("powertrain").unwrap_or("");
            c.new += 1;
            c.total_gco2_km += g;
            match EmissionClass::of(powertrain, g) {
                EmissionClass::Zero => c.electric += 1,
                EmissionClass::UltraLow => c.ultra_low_not_electric += 1,
                _ => {}
            }
        }
        c
    }

    /// Mean gCO2/km, to one decimal place.
    pub fn average_gco2_km(&self) -> Option<Decimal> {
        (self.new > 0).then(|| (self.total_gco2_km / Decimal::from(self.new)).round_dp(1))
    }
}

fn lease_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "start_date")
}

const DCHS: &str = "RY8";
const LEASE_NEW: FigureMaker = FigureMaker::new("new-lease-cars", "New lease cars", "cars")
    .feeds_for("dchs-new-lease-cars", DCHS);
const LEASE_ELECTRIC: FigureMaker = FigureMaker::new(
    "new-lease-cars-electric",
    "New lease cars fully electric",
    "cars",
)
.feeds_for("dchs-new-lease-cars-electric", DCHS);
const LEASE_ULEV: FigureMaker = FigureMaker::new(
    "new-lease-cars-ulev",
    "New lease cars ultra-low emission (not fully electric)",
    "cars",
)
.feeds_for("dchs-new-lease-cars-ulev", DCHS);
const LEASE_ELECTRIC_SHARE: FigureMaker = FigureMaker::new(
    "new-lease-cars-electric-share",
    "New lease cars fully electric (share)",
    "%",
)
.feeds_for("dchs-new-lease-cars-electric-share", DCHS);
const LEASE_ULEV_SHARE: FigureMaker = FigureMaker::new(
    "new-lease-cars-ulev-share",
    "New lease cars ultra-low emission, not electric (share)",
    "%",
)
.feeds_for("dchs-new-lease-cars-ulev-share", DCHS);
const LEASE_AVERAGE: FigureMaker = FigureMaker::new(
    "new-lease-cars-average",
    "Average emissions of new lease cars",
    "gCO2/km",
)
.feeds_for("dchs-new-lease-car-average-emissions", DCHS);

fn lease_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let new: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("start_date").is_some_and(|d| period.contains(d)))
        .collect();
    let of = |rs: &[&Record]| LeaseCarCounts::of(rs);
    let working = |c: &LeaseCarCounts| {
        format!(
            "{} new agreements: {} fully electric, {} other ultra-low; {} gCO2/km in all",
            c.new,
            c.electric,
            c.ultra_low_not_electric,
            with_thousands(c.total_gco2_km, 1)
        )
    };
    let mut out = LEASE_NEW.each_scope(&new, period, |rs| {
        let c = of(rs);
        Some((Decimal::from(c.new), working(&c)))
    });
    out.extend(LEASE_ELECTRIC.each_scope(&new, period, |rs| {
        let c = of(rs);
        Some((Decimal::from(c.electric), working(&c)))
    }));
    out.extend(LEASE_ULEV.each_scope(&new, period, |rs| {
        let c = of(rs);
        Some((Decimal::from(c.ultra_low_not_electric), working(&c)))
    }));
    out.extend(LEASE_ELECTRIC_SHARE.each_scope(&new, period, |rs| {
        let c = of(rs);
        Some((
            share(Decimal::from(c.electric), Decimal::from(c.new))?,
            working(&c),
        ))
    }));
    out.extend(LEASE_ULEV_SHARE.each_scope(&new, period, |rs| {
        let c = of(rs);
        Some((
            share(
                Decimal::from(c.ultra_low_not_electric),
                Decimal::from(c.new),
            )?,
            working(&c),
        ))
    }));
    out.extend(LEASE_AVERAGE.each_scope(&new, period, |rs| {
        let c = of(rs);
        Some((c.average_gco2_km()?, working(&c)))
    }));
    out
}

pub static CHARGE_POINTS: Register = Register {
    slug: "fleet-charge-points",
    title: "Fleet: EV charge points",
    area: "travel-and-transport",
    summary: "Electric vehicle charge points at each site for a financial year: sockets, rapid sockets able to charge an electric ambulance between jobs, and the energy delivered.",
    fields: &[
        ORGANISATION,
        Field::new("site", "Site", FieldKind::Text),
        Field::new("as_at", "Financial year", FieldKind::FinancialYear),
        Field::new("sockets", "Sockets", FieldKind::Whole),
        Field::new(
            "rapid_sockets",
            "Rapid sockets (50 kW or more)",
            FieldKind::Whole,
        )
        .hint("Sockets that can recharge an electric ambulance between jobs"),
        Field::new(
            "kwh_delivered",
            "Energy delivered in the year",
            FieldKind::Decimal { unit: "kWh" },
        )
        .optional(),
    ],
    name_field: "site",
    filter_field: None,
    cross_check: Some(charge_point_check),
    metrics: charge_point_metrics,
    periods: charge_point_periods,
};

fn charge_point_check(r: &Record) -> Vec<FieldError> {
    match (r.whole("sockets"), r.whole("rapid_sockets")) {
        (Some(all), Some(rapid)) if rapid > all => vec![FieldError {
            field: "rapid_sockets",
            message: format!(
                "{rapid} rapid sockets is more than the {all} sockets in all: rapid sockets are counted within sockets"
            ),
        }],
        _ => Vec::new(),
    }
}

fn charge_point_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_of(records, "as_at")
}

const EMAS: &str = "RX9";
const SOCKETS: FigureMaker = FigureMaker::new("sockets", "EV charging sockets", "sockets")
    .feeds_for("emas-ev-charging-sockets", EMAS);
const CHARGED: FigureMaker = FigureMaker::new("kwh-delivered", "EV charging delivered", "kWh")
    .feeds_for("emas-ev-charging-energy", EMAS);
const READY: FigureMaker = FigureMaker::new(
    "ambulance-ready-sites",
    "Sites ready for electric ambulances (a rapid socket)",
    "%",
);

fn charge_point_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let of_year: Vec<&Record> = records
        .iter()
        .filter(|r| r.year("as_at") == Some(period.year()))
        .collect();
    let mut out = SOCKETS.each_scope(&of_year, period, |rs| {
        let n: u64 = rs.iter().filter_map(|r| r.whole("sockets")).sum();
        Some((Decimal::from(n), format!("{} sites", rs.len())))
    });
    out.extend(CHARGED.each_scope(&of_year, period, |rs| {
        let kwh: Decimal = rs.iter().filter_map(|r| r.decimal("kwh_delivered")).sum();
        Some((kwh, format!("{} sites", rs.len())))
    }));
    out.extend(READY.each_scope(&of_year, period, |rs| {
        let ready: Vec<&str> = rs
            .iter()
            .filter(|r| r.whole("rapid_sockets").unwrap_or(0) > 0)
            .map(|r| r.name())
            .collect();
        let value = share(Decimal::from(ready.len()), Decimal::from(rs.len()))?;
        Some((
            value,
            format!(
                "{} of {} sites: {}",
                ready.len(),
                rs.len(),
                if ready.is_empty() {
                    "none".to_string()
                } else {
                    ready.join(", ")
                }
            ),
        ))
    }));
    out
}
