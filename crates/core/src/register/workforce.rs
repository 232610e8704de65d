//! Workforce and leadership: training sessions (lunch and learn, Board level, carbon
//! literacy), Greener NHS core training completions against staff headcount, and green
//! champions.
//!
//! The plan's success measures (WL1, WL2) are "number of staff attending live sessions",
//! "number of watches after the event", "increase in JUCD staff accessing Greener NHS Core
//! Training" and "training sessions delivered" (Board level); each is a figure here.
//!
//! Core training and champions are stocks, not flows: a return says how many staff *have
//! completed* the training (as ESR reports compliance) on a date, with the headcount then. A
//! period's figure is each organisation's latest return within it, summed across
//! organisations; adding one organisation's returns together would count the same people twice.

use super::{
    Choice, Field, FieldError, FieldKind, Figure, FigureMaker, MetricPeriod, ORGANISATION, Record,
    Register, latest_each, part_of_whole, share, years_and_quarters,
};
use crate::ods::OdsCode;
use crate::quantity::with_thousands;
use chrono::NaiveDate;

pub const TRAINING_KINDS: &[Choice] = &[
    Choice {
        slug: "lunch-and-learn",
        label: "Lunch and learn",
    },
    Choice {
        slug: "board",
        label: "Board level training",
    },
    Choice {
        slug: "carbon-literacy",
        label: "Carbon literacy",
    },
    Choice {
        slug: "other",
        label: "Other training",
    },
];

pub const SESSIONS: Register = Register {
    slug: "training-sessions",
    title: "Workforce: training sessions",
    area: "workforce-and-leadership",
    summary: "Sustainability training delivered: lunch and learn sessions, Board level training and carbon literacy, with the staff who attended live and the watches of the recording afterwards.",
    fields: &[
        ORGANISATION,
        Field::new("date", "Date", FieldKind::Date),
        Field::new(
            "kind",
            "Kind of training",
            FieldKind::Choice(TRAINING_KINDS),
        ),
        Field::new("title", "Title", FieldKind::Text)
            .hint("e.g. Greener NHS: what it means for your role"),
        Field::new("live_attendees", "Staff attending live", FieldKind::Whole),
        Field::new("later_views", "Watches after the event", FieldKind::Whole)
            .optional()
            .hint("Views of the recording; leave blank if it was not recorded"),
    ],
    name_field: "title",
    filter_field: Some("kind"),
    cross_check: None,
    metrics: session_metrics,
    periods: session_periods,
};

/// A training session, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session<'r> {
    pub kind: &'r str,
    pub live_attendees: u64,
    pub later_views: u64,
}

impl<'r> Session<'r> {
    pub fn of(r: &'r Record) -> Self {
        Self {
            kind: r.choice("kind").unwrap_or(""),
            live_attendees: r.whole("live_attendees").unwrap_or(0),
            later_views: r.whole("later_views").unwrap_or(0),
        }
    }
}

fn session_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "date")
}

/// Sessions of `kind`: (sessions, staff attending live, watches after), `None` when there
/// were none (no figure rather than a misleading 0 for every organisation).
pub fn sessions_of(sessions: &[Session<'_>], kind: &str) -> Option<(u64, u64, u64)> {
    let of_kind: Vec<_> = sessions.iter().filter(|s| s.kind == kind).collect();
    (!of_kind.is_empty()).then(|| {
        (
            of_kind.len() as u64,
            of_kind.iter().map(|s| s.live_attendees).sum(),
            of_kind.iter().map(|s| s.later_views).sum(),
        )
    })
}

const LIVE: FigureMaker = FigureMaker::new(
    "lunch-and-learn-live",
    "Staff attending live 'lunch and learn' sessions",
    "people",
)
.feeds("lunch-and-learn-live-attendance");
const WATCHES: FigureMaker = FigureMaker::new(
    "lunch-and-learn-watches",
    "Watches of 'lunch and learn' sessions after the event",
    "count",
)
.feeds("lunch-and-learn-watches");
const BOARD: FigureMaker = FigureMaker::new(
    "board-sessions",
    "Board level training sessions delivered",
    "count",
)
.feeds("board-training-sessions");
const CARBON_LITERACY: FigureMaker = FigureMaker::new(
    "carbon-literacy-attendance",
    "Staff attending carbon literacy training",
    "people",
);

fn session_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let held: Vec<&Record> = records
        .iter()
        .filter(|r| r.date("date").is_some_and(|d| period.contains(d)))
        .collect();
    let of = |rs: &[&Record], kind: &str| {
        let typed: Vec<Session<'_>> = rs.iter().map(|r| Session::of(r)).collect();
        sessions_of(&typed, kind)
    };
    let mut out = LIVE.each_scope(&held, period, |rs| {
        let (n, live, _) = of(rs, "lunch-and-learn")?;
        Some((live.into(), format!("{live} staff at {n} live sessions")))
    });
    out.extend(WATCHES.each_scope(&held, period, |rs| {
        let (n, _, views) = of(rs, "lunch-and-learn")?;
        Some((
            views.into(),
            format!("{views} watches of {n} recorded sessions"),
        ))
    }));
    out.extend(BOARD.each_scope(&held, period, |rs| {
        let (n, live, _) = of(rs, "board")?;
        Some((n.into(), format!("{n} sessions, {live} attending")))
    }));
    out.extend(CARBON_LITERACY.each_scope(&held, period, |rs| {
        let (n, live, _) = of(rs, "carbon-literacy")?;
        Some((live.into(), format!("{live} staff at {n} sessions")))
    }));
    out
}

pub const CORE_TRAINING: Register = Register {
    slug: "greener-nhs-core-training",
    title: "Workforce: Greener NHS core training",
    area: "workforce-and-leadership",
    summary: "How many staff have completed the Greener NHS core training (from ESR) on a date, against the organisation's staff headcount then.",
    fields: &[
        ORGANISATION,
        Field::new("as_at", "As at", FieldKind::Date)
            .hint("The date of the ESR report, e.g. the last day of the quarter: 2025-12-31"),
        Field::new(
            "completed",
            "Staff who have completed the training",
            FieldKind::Whole,
        ),
        Field::new("headcount", "Staff headcount", FieldKind::Whole)
            .hint("The whole organisation's headcount on the same date"),
    ],
    name_field: "as_at",
    filter_field: None,
    cross_check: Some(core_training_check),
    metrics: core_training_metrics,
    periods: core_training_periods,
};

fn core_training_check(r: &Record) -> Vec<FieldError> {
    part_of_whole(
        r,
        "completed",
        "headcount",
        "the whole organisation on the same date",
    )
}

fn core_training_periods(records: &[Record]) -> Vec<MetricPeriod> {
    years_and_quarters(records, "as_at")
}

/// A dated count of an organisation's staff (a core training return, a champions count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub organisation: OdsCode,
    pub as_at: NaiveDate,
    pub count: u64,
    /// The headcount on the same date, where there is one.
    pub of: u64,
}

/// Each organisation's latest count within `period`, summed across organisations:
/// (count, of).
pub fn latest_per_organisation(counts: &[Count], period: MetricPeriod) -> Option<(u64, u64)> {
    let within = counts.iter().filter(|c| period.contains(c.as_at));
    let latest = latest_each(within, |c| &c.organisation, |c| Some(c.as_at));
    (!latest.is_empty()).then(|| {
        (
            latest.iter().map(|c| c.count).sum(),
            latest.iter().map(|c| c.of).sum(),
        )
    })
}

fn counts(rs: &[&Record], key: &str, of: Option<&str>) -> Vec<Count> {
    rs.iter()
        .filter_map(|r| {
            Some(Count {
                organisation: r.organisation()?,
                as_at: r.date("as_at")?,
                count: r.whole(key)?,
                of: of.and_then(|k| r.whole(k)).unwrap_or(0),
            })
        })
        .collect()
}

const COMPLETED: FigureMaker = FigureMaker::new(
    "core-training-completed",
    "Staff who have completed the Greener NHS core training",
    "people",
)
.feeds("greener-nhs-core-training-uptake");
const COMPLETED_SHARE: FigureMaker = FigureMaker::new(
    "core-training-share",
    "Share of staff who have completed the Greener NHS core training",
    "%",
);

fn core_training_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let all: Vec<&Record> = records.iter().collect();
    let totals = |rs: &[&Record]| {
        latest_per_organisation(&counts(rs, "completed", Some("headcount")), period)
    };
    let working = |done: u64, staff: u64| {
        format!(
            "{} of {} staff (each organisation's latest return in the period)",
            with_thousands(done.into(), 0),
            with_thousands(staff.into(), 0)
        )
    };
    let mut out = COMPLETED.each_scope(&all, period, |rs| {
        let (done, staff) = totals(rs)?;
        Some((done.into(), working(done, staff)))
    });
    out.extend(COMPLETED_SHARE.each_scope(&all, period, |rs| {
        let (done, staff) = totals(rs)?;
        Some((share(done.into(), staff.into())?, working(done, staff)))
    }));
    out
}

pub const CHAMPIONS: Register = Register {
    slug: "green-champions",
    title: "Workforce: green champions",
    area: "workforce-and-leadership",
    summary: "How many green (or environmental) champions each organisation's network has on a date.",
    fields: &[
        ORGANISATION,
        Field::new("as_at", "As at", FieldKind::Date),
        Field::new("network", "Network", FieldKind::Text).hint("e.g. Environmental Champions"),
        Field::new("champions", "Champions", FieldKind::Whole),
    ],
    name_field: "network",
    filter_field: None,
    cross_check: None,
    metrics: champion_metrics,
    periods: core_training_periods,
};

const CHAMPION_COUNT: FigureMaker =
    FigureMaker::new("green-champions", "Green champions", "people");

fn champion_metrics(records: &[Record], period: MetricPeriod) -> Vec<Figure> {
    let all: Vec<&Record> = records.iter().collect();
    CHAMPION_COUNT.each_scope(&all, period, |rs| {
        let (n, _) = latest_per_organisation(&counts(rs, "champions", None), period)?;
        Some((
            n.into(),
            "each organisation's latest count in the period".into(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::{FinancialYear, Quarter};
    use rust_decimal::Decimal;

    fn record(register: &'static Register, row: &[(&str, &str)]) -> Record {
        register
            .parse(|k| row.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
            .unwrap()
    }

    fn session(org: &str, date: &str, kind: &str, live: &str, views: &str) -> Record {
        record(
            &SESSIONS,
            &[
                ("organisation", org),
                ("date", date),
                ("kind", kind),
                ("title", "Greener NHS"),
                ("live_attendees", live),
                ("later_views", views),
            ],
        )
    }

    fn value(figures: &[Figure], key: &str, org: Option<&str>) -> Option<Decimal> {
        figures
            .iter()
            .find(|f| f.key == key && f.organisation.as_ref().map(OdsCode::as_str) == org)
            .map(|f| f.value)
    }

    fn q(raw: &str) -> MetricPeriod {
        MetricPeriod::Quarter(Quarter::parse(raw).unwrap())
    }

    const YEAR: MetricPeriod = MetricPeriod::Year(FinancialYear(2025));

    #[test]
    fn lunch_and_learn_attendance_and_watches_by_quarter_and_year() {
        let s = vec![
            session("QJ2", "2025-10-14", "lunch-and-learn", "42", "118"),
            session("RTG", "2025-11-11", "Lunch and learn", "35", "64"),
            session("RY8", "2026-01-20", "lunch-and-learn", "28", "51"),
            session("QJ2", "2026-04-09", "lunch-and-learn", "30", "12"),
            session("QJ2", "2025-12-02", "board", "14", ""),
            session("RFS", "2025-12-05", "carbon-literacy", "12", ""),
        ];
        let q3 = session_metrics(&s, q("Q3 2025/26"));
        // October to December: 42 + 35 live, 118 + 64 watches.
        assert_eq!(value(&q3, "lunch-and-learn-live", None), Some(77.into()));
        assert_eq!(
            value(&q3, "lunch-and-learn-watches", None),
            Some(182.into())
        );
        let year = session_metrics(&s, YEAR);
        // The year adds January's DCHS session (28, 51) but not April 2026's.
        assert_eq!(value(&year, "lunch-and-learn-live", None), Some(105.into()));
        assert_eq!(
            value(&year, "lunch-and-learn-watches", None),
            Some(233.into())
        );
        assert_eq!(
            value(&year, "lunch-and-learn-live", Some("RTG")),
            Some(35.into())
        );
        assert_eq!(value(&year, "board-sessions", None), Some(1.into()));
        assert_eq!(
            value(&year, "carbon-literacy-attendance", None),
            Some(12.into())
        );
        // DHcFT held no session: no figure rather than a 0.
        assert_eq!(value(&year, "lunch-and-learn-live", Some("RFS")), None);
        let system = year
            .iter()
            .find(|f| f.key == "lunch-and-learn-live" && f.organisation.is_none());
        assert_eq!(
            system.and_then(|f| f.plan_metric),
            Some("lunch-and-learn-live-attendance")
        );
    }

    fn ret(
        org: &str,
        as_at: &str,
        completed: &str,
        headcount: &str,
    ) -> Result<Record, Vec<FieldError>> {
        let row = [
            ("organisation", org),
            ("as_at", as_at),
            ("completed", completed),
            ("headcount", headcount),
        ];
        CORE_TRAINING.parse(|k| row.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    #[test]
    fn core_training_takes_each_organisations_latest_return() {
        let returns: Vec<Record> = [
            ("RXM", "2025-09-30", "1000", "2400"),
            ("RXM", "2026-03-31", "1320", "2400"),
            ("QJ2", "2025-12-31", "540", "600"),
        ]
        .iter()
        .map(|(o, d, c, h)| ret(o, d, c, h).unwrap())
        .collect();
        // 1,320 (RXM's March return, not September's too) + 540 = 1,860 of 3,000 = 62.0%.
        let year = core_training_metrics(&returns, YEAR);
        assert_eq!(
            value(&year, "core-training-completed", None),
            Some(1860.into())
        );
        assert_eq!(value(&year, "core-training-share", None), Some(62.into()));
        // 1,000 of 2,400 = 41.666…% → 41.7%.
        let q2 = core_training_metrics(&returns, q("Q2 2025/26"));
        assert_eq!(
            value(&q2, "core-training-share", Some("RXM")),
            Some(Decimal::new(417, 1))
        );
        assert_eq!(value(&q2, "core-training-share", Some("QJ2")), None);
    }

    #[test]
    fn a_return_with_more_completions_than_staff_is_refused() {
        let errors = ret("RXM", "2025-09-30", "2500", "2400").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "completed");
        assert!(
            errors[0]
                .message
                .contains("is more than Staff headcount (2400)")
        );
        assert_eq!(
            ret("RXM", "2025-09-30", "0", "0").unwrap_err()[0].field,
            "headcount"
        );
    }

    #[test]
    fn champions_are_the_latest_count_per_organisation() {
        let c = |org: &str, date: &str, n: &str| {
            record(
                &CHAMPIONS,
                &[
                    ("organisation", org),
                    ("as_at", date),
                    ("network", "Champions"),
                    ("champions", n),
                ],
            )
        };
        let records = vec![
            c("RTG", "2025-04-30", "80"),
            c("RTG", "2026-03-01", "120"),
            c("RFS", "2025-09-01", "45"),
        ];
        assert_eq!(
            value(&champion_metrics(&records, YEAR), "green-champions", None),
            Some(165.into())
        );
        assert_eq!(
            value(
                &champion_metrics(&records, q("Q1 2025/26")),
                "green-champions",
                None
            ),
            Some(80.into())
        );
    }
}
