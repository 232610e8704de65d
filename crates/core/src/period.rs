//! NHS periods: financial years (`2025/26`), quarters (`Q3 2025/26`), months and ranges, and
//! the delivery dates plans write in prose ("Training developed during Q3 2025/26",
//! "Aug 27 – March 28", "Ongoing", "2032").
//!
//! The financial year runs 1 April to 31 March; Q1 is April to June. A delivery date keeps the
//! text as written (that is what the board approved) next to the period we parsed from it, so
//! the two can always be compared.
//!
//! Every period, month, quarter, financial year and date greenplan reads from outside goes
//! through the constructors here, and every constructor checks the year against one range,
//! [`YEARS`] (issue 21, class 0: the prose reader took `Jan 2262`, the canonical reader that
//! reads it back from the database refused it, and every page failed). What one reader
//! accepts, every other reader reads back: each type has a property test of that.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The years greenplan reads, in every reader: far enough back for any baseline (the NHS was
/// founded in 1948) and forward for any trajectory (net zero by 2045; 2200 leaves room), and
/// narrow enough that every date inside a period of these years exists in `chrono`.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// The financial years that hold a day of [`YEARS`]: 1899/00 (January to March 1900) to
/// 2200/01, so the financial year of every accepted date is itself accepted.
pub const FINANCIAL_YEARS: std::ops::RangeInclusive<i32> = 1899..=2200;

fn check_financial_year(start: i32, raw: &str) -> Result<FinancialYear, PeriodError> {
    if FINANCIAL_YEARS.contains(&start) {
        Ok(FinancialYear(start))
    } else {
        Err(PeriodError::OutOfRange {
            raw: raw.to_string(),
            year: start,
        })
    }
}

/// Refuses a year outside [`YEARS`], naming the text it came from.
pub fn check_year(year: i32, raw: &str) -> Result<i32, PeriodError> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(PeriodError::OutOfRange {
            raw: raw.to_string(),
            year,
        })
    }
}

/// Refuses a date whose year is outside [`YEARS`].
pub fn check_date(date: NaiveDate) -> Result<NaiveDate, PeriodError> {
    check_year(date.year(), &date.to_string()).map(|_| date)
}

/// Reads a date: `2025-04-01`, or `01/04/2025` as UK spreadsheets write it, within [`YEARS`].
/// Every date read from a form, a file or the database goes through here, and what it accepts
/// reads back from its stored form (`2025-04-01`).
pub fn parse_date(raw: &str) -> Result<NaiveDate, PeriodError> {
    let t = raw.trim();
    let date = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map_err(|_| PeriodError::NotADate(raw.to_string()))?;
    check_year(date.year(), raw).map(|_| date)
}

/// A financial year, named by the calendar year it starts in: `FinancialYear(2025)` is 2025/26.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i32")]
pub struct FinancialYear(pub i32);

impl TryFrom<i32> for FinancialYear {
    type Error = PeriodError;
    fn try_from(start: i32) -> Result<Self, PeriodError> {
        Self::new(start)
    }
}

/// A quarter of a financial year: Q1 April–June … Q4 January–March.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "QuarterFields")]
pub struct Quarter {
    pub year: FinancialYear,
    pub number: u8,
}

/// A quarter as JSON holds it, checked on the way in.
#[derive(Deserialize)]
struct QuarterFields {
    year: FinancialYear,
    number: u8,
}

impl TryFrom<QuarterFields> for Quarter {
    type Error = PeriodError;
    fn try_from(q: QuarterFields) -> Result<Self, PeriodError> {
        if (1..=4).contains(&q.number) {
            Ok(Self {
                year: q.year,
                number: q.number,
            })
        } else {
            Err(PeriodError::Unrecognised(format!(
                "Q{} {}",
                q.number, q.year
            )))
        }
    }
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "YearMonthFields")]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

/// A month as JSON holds it, checked on the way in.
#[derive(Deserialize)]
struct YearMonthFields {
    year: i32,
    month: u32,
}

impl TryFrom<YearMonthFields> for YearMonth {
    type Error = PeriodError;
    fn try_from(m: YearMonthFields) -> Result<Self, PeriodError> {
        Self::checked(m.year, m.month, &format!("{}-{:02}", m.year, m.month))
    }
}

/// Any period a plan, a target or a figure can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Period {
    FinancialYear {
        year: FinancialYear,
    },
    Quarter {
        quarter: Quarter,
    },
    Month {
        month: YearMonth,
    },
    MonthRange {
        from: YearMonth,
        to: YearMonth,
    },
    FinancialYearRange {
        from: FinancialYear,
        to: FinancialYear,
    },
    CalendarYear {
        year: i32,
    },
    /// Continuous work with no end date.
    Ongoing,
}

/// Why a period could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error(
        "`{0}` is not a period: write a financial year (2025/26), a quarter (Q3 2025/26), a month (2024-12 or Dec 2024), a range (2025-08..2028-03), a year (2032) or `ongoing`"
    )]
    Unrecognised(String),
    #[error(
        "`{0}` is not a financial year: the second part must be the year after the first, as in 2025/26"
    )]
    NotConsecutive(String),
    #[error("the range `{0}` ends before it starts")]
    Backwards(String),
    #[error("`{raw}` names the year {year}: greenplan reads years from 1900 to 2200")]
    OutOfRange { raw: String, year: i32 },
    #[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2025-04-01")]
    NotADate(String),
}

impl FinancialYear {
    /// The financial year starting in April of `start`, within [`FINANCIAL_YEARS`].
    pub fn new(start: i32) -> Result<Self, PeriodError> {
        check_financial_year(start, &start.to_string())
    }

    /// The financial year that contains `date`.
    pub fn containing(date: NaiveDate) -> Self {
        if date.month() >= 4 {
            Self(date.year())
        } else {
            Self(date.year() - 1)
        }
    }

    /// Parses `2025/26`, `2025/2026`, `25/26` or `FY2025/26`.
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let text = raw.trim();
        let text = text
            .strip_prefix("FY")
            .or_else(|| text.strip_prefix("fy"))
            .unwrap_or(text)
            .trim();
        let (a, b) = text
            .split_once('/')
            .ok_or_else(|| PeriodError::Unrecognised(raw.to_string()))?;
        let start = parse_year(a).ok_or_else(|| PeriodError::Unrecognised(raw.to_string()))?;
        let end = parse_year(b).ok_or_else(|| PeriodError::Unrecognised(raw.to_string()))?;
        // `2099/00`, as Display writes 2099/00, is consecutive: two digits are the end year's
        // last two.
        let consecutive = if b.trim().len() == 2 {
            (end - 2000) == (start + 1).rem_euclid(100)
        } else {
            end == start + 1
        };
        if !consecutive {
            return Err(PeriodError::NotConsecutive(raw.to_string()));
        }
        check_financial_year(start, raw)
    }

    pub fn start(self) -> NaiveDate {
        date(self.0, 4, 1)
    }

    pub fn end(self) -> NaiveDate {
        date(self.0 + 1, 3, 31)
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The financial year in which a calendar year's targets fall due: "by 2028" means by the
    /// end of 2027/28, the financial year that ends in that calendar year.
    pub fn ending_in(calendar_year: i32) -> Self {
        Self(calendar_year - 1)
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.0, (self.0 + 1).rem_euclid(100))
    }
}

impl Quarter {
    /// The form a web address uses: `2025-26-Q3`.
    pub fn slug(self) -> String {
        format!(
            "{}-{:02}-Q{}",
            self.year.0,
            (self.year.0 + 1).rem_euclid(100),
            self.number
        )
    }

    /// Parses `Q3 2025/26` (also `2025/26 Q3`).
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let tokens: Vec<&str> = raw.split_whitespace().collect();
        let err = || PeriodError::Unrecognised(raw.to_string());
        let (q, fy) = match tokens.as_slice() {
            [q, fy] if is_quarter_token(q) => (q, fy),
            [fy, q] if is_quarter_token(q) => (q, fy),
            _ => return Err(err()),
        };
        let number = q[1..]
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=4).contains(n))
            .ok_or_else(err)?;
        Ok(Self {
            year: FinancialYear::parse(fy)?,
            number,
        })
    }

    /// The quarter that contains `date`.
    pub fn containing(date: NaiveDate) -> Self {
        let year = FinancialYear::containing(date);
        let number = match date.month() {
            4..=6 => 1,
            7..=9 => 2,
            10..=12 => 3,
            _ => 4,
        };
        Self { year, number }
    }

    pub fn start(self) -> NaiveDate {
        let (y, m) = self.first_month();
        date(y, m, 1)
    }

    pub fn end(self) -> NaiveDate {
        let (y, m) = self.first_month();
        YearMonth {
            year: y,
            month: m + 2,
        }
        .end()
    }

    fn first_month(self) -> (i32, u32) {
        match self.number {
            1 => (self.year.0, 4),
            2 => (self.year.0, 7),
            3 => (self.year.0, 10),
            _ => (self.year.0 + 1, 1),
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Q{} {}", self.number, self.year)
    }
}

impl YearMonth {
    /// A month, when `month` is 1–12 and `year` within [`YEARS`].
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && YEARS.contains(&year)).then_some(Self { year, month })
    }

    /// [`YearMonth::new`] with the reason it was refused, naming `raw`.
    pub fn checked(year: i32, month: u32, raw: &str) -> Result<Self, PeriodError> {
        check_year(year, raw)?;
        Self::new(year, month).ok_or_else(|| PeriodError::Unrecognised(raw.to_string()))
    }

    /// Parses `2024-12` or `202412` (the English Prescribing Dataset's `YEAR_MONTH`).
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let t = raw.trim();
        let err = || PeriodError::Unrecognised(raw.to_string());
        let (y, m) = if let Some((y, m)) = t.split_once('-') {
            (y, m)
        } else if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
            t.split_at(4)
        } else {
            return Err(err());
        };
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year = y.parse::<i32>().map_err(|_| err())?;
        let month = m.parse::<u32>().map_err(|_| err())?;
        Self::checked(year, month, raw)
    }

    pub fn start(self) -> NaiveDate {
        date(self.year, self.month, 1)
    }

    pub fn end(self) -> NaiveDate {
        let next = if self.month == 12 {
            date(self.year + 1, 1, 1)
        } else {
            date(self.year, self.month + 1, 1)
        };
        next.pred_opt().unwrap_or(next)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            MONTH_NAMES[(self.month - 1) as usize],
            self.year
        )
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Period {
    /// Parses the canonical forms: `2025/26`, `Q3 2025/26`, `2024-12`, `2025-08..2028-03`,
    /// `2025/26..2027/28`, `2032`, `ongoing`. Prose belongs to [`DeliveryDate::parse`].
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("ongoing") {
            return Ok(Self::Ongoing);
        }
        if let Some((a, b)) = t.split_once("..") {
            return match (Self::parse(a)?, Self::parse(b)?) {
                (Self::Month { month: from }, Self::Month { month: to }) if from <= to => {
                    Ok(Self::MonthRange { from, to })
                }
                (Self::FinancialYear { year: from }, Self::FinancialYear { year: to })
                    if from <= to =>
                {
                    Ok(Self::FinancialYearRange { from, to })
                }
                (Self::Month { .. }, Self::Month { .. })
                | (Self::FinancialYear { .. }, Self::FinancialYear { .. }) => {
                    Err(PeriodError::Backwards(raw.to_string()))
                }
                _ => Err(PeriodError::Unrecognised(raw.to_string())),
            };
        }
        if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
            let year = t
                .parse()
                .map_err(|_| PeriodError::Unrecognised(raw.to_string()))?;
            return Ok(Self::CalendarYear {
                year: check_year(year, raw)?,
            });
        }
        match Quarter::parse(t) {
            Ok(quarter) => return Ok(Self::Quarter { quarter }),
            Err(e @ PeriodError::OutOfRange { .. }) => return Err(e),
            Err(_) => {}
        }
        if t.contains('/') {
            return FinancialYear::parse(t).map(|year| Self::FinancialYear { year });
        }
        match YearMonth::parse(t) {
            Ok(month) => return Ok(Self::Month { month }),
            Err(e @ PeriodError::OutOfRange { .. }) => return Err(e),
            Err(_) => {}
        }
        let tokens = tokenize(t);
        if let Some((Self::Month { month }, used)) = month_at(&tokens, 0)
            && used == tokens.len()
        {
            check_year(month.year, raw)?;
            return Ok(Self::Month { month });
        }
        Err(PeriodError::Unrecognised(raw.to_string()))
    }

    /// Refuses a period with a year outside [`YEARS`] (one built by hand or read from JSON).
    pub fn check(&self) -> Result<(), PeriodError> {
        self.check_named(&self.code())
    }

    /// [`Period::check`], naming `raw` (the text the period was read from) in the error.
    pub fn check_named(&self, raw: &str) -> Result<(), PeriodError> {
        let code = raw.to_string();
        let (years, financial_years): (&[i32], &[i32]) = match *self {
            Self::FinancialYear { year } => (&[], &[year.0]),
            Self::Quarter { quarter } => (&[], &[quarter.year.0]),
            Self::Month { month } => (&[month.year], &[]),
            Self::MonthRange { from, to } => (&[from.year, to.year], &[]),
            Self::FinancialYearRange { from, to } => (&[], &[from.0, to.0]),
            Self::CalendarYear { year } => (&[year], &[]),
            Self::Ongoing => (&[], &[]),
        };
        for &y in years {
            check_year(y, raw)?;
        }
        for &y in financial_years {
            check_financial_year(y, raw)?;
        }
        if let Self::Month { month } | Self::MonthRange { from: month, .. } = *self
            && !(1..=12).contains(&month.month)
        {
            return Err(PeriodError::Unrecognised(code));
        }
        if let Self::MonthRange { to, .. } = *self
            && !(1..=12).contains(&to.month)
        {
            return Err(PeriodError::Unrecognised(code));
        }
        if let Self::Quarter { quarter } = *self
            && !(1..=4).contains(&quarter.number)
        {
            return Err(PeriodError::Unrecognised(code));
        }
        Ok(())
    }

    /// First day of the period (`None` for ongoing work).
    pub fn start(&self) -> Option<NaiveDate> {
        Some(match *self {
            Self::FinancialYear { year } => year.start(),
            Self::Quarter { quarter } => quarter.start(),
            Self::Month { month } => month.start(),
            Self::MonthRange { from, .. } => from.start(),
            Self::FinancialYearRange { from, .. } => from.start(),
            Self::CalendarYear { year } => date(year, 1, 1),
            Self::Ongoing => return None,
        })
    }

    /// Last day of the period, inclusive (`None` for ongoing work): the date it is due by.
    pub fn end(&self) -> Option<NaiveDate> {
        Some(match *self {
            Self::FinancialYear { year } => year.end(),
            Self::Quarter { quarter } => quarter.end(),
            Self::Month { month } => month.end(),
            Self::MonthRange { to, .. } => to.end(),
            Self::FinancialYearRange { to, .. } => to.end(),
            Self::CalendarYear { year } => date(year, 12, 31),
            Self::Ongoing => return None,
        })
    }

    /// The financial year a figure for this period is reported in, where there is one: the
    /// year containing the period's last day.
    pub fn financial_year(&self) -> Option<FinancialYear> {
        match *self {
            Self::FinancialYear { year } => Some(year),
            Self::CalendarYear { year } => Some(FinancialYear::ending_in(year)),
            _ => self.end().map(FinancialYear::containing),
        }
    }

    /// The canonical text form, which [`Period::parse`] reads back.
    pub fn code(&self) -> String {
        match *self {
            Self::FinancialYear { year } => year.to_string(),
            Self::Quarter { quarter } => quarter.to_string(),
            Self::Month { month } => format!("{}-{:02}", month.year, month.month),
            Self::MonthRange { from, to } => format!(
                "{}-{:02}..{}-{:02}",
                from.year, from.month, to.year, to.month
            ),
            Self::FinancialYearRange { from, to } => format!("{from}..{to}"),
            Self::CalendarYear { year } => year.to_string(),
            Self::Ongoing => "ongoing".to_string(),
        }
    }
}

impl fmt::Display for Period {
    /// Plain English, as the NHS writes periods: "Q3 2025/26", "August 2027 to March 2028".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FinancialYear { year } => write!(f, "{year}"),
            Self::Quarter { quarter } => write!(f, "{quarter}"),
            Self::Month { month } => write!(f, "{month}"),
            Self::MonthRange { from, to } => write!(f, "{from} to {to}"),
            Self::FinancialYearRange { from, to } => write!(f, "{from} to {to}"),
            Self::CalendarYear { year } => write!(f, "{year}"),
            Self::Ongoing => f.write_str("Ongoing"),
        }
    }
}

/// A delivery date as a plan writes it, with the period it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryDate {
    /// The words the plan uses, kept verbatim.
    pub written: String,
    /// The period those words name.
    pub period: Period,
    /// True when the plan calls the work ongoing, even if it also names a period
    /// ("Ongoing Aug 27 – March 28").
    pub ongoing: bool,
}

impl DeliveryDate {
    /// Reads the period out of a delivery date written in prose. The first period found wins,
    /// in this order of precedence: a quarter, a month range, a financial year, a single month,
    /// a calendar year; "ongoing" anywhere marks the work as ongoing.
    pub fn parse(written: &str) -> Result<Self, PeriodError> {
        let lower = written.to_lowercase();
        let ongoing = lower.contains("ongoing");
        let period = find_period(written);
        if let Some(p) = &period {
            p.check_named(written)?;
        }
        match (period, ongoing) {
            (Some(period), _) => Ok(Self {
                written: written.to_string(),
                period,
                ongoing,
            }),
            (None, true) => Ok(Self {
                written: written.to_string(),
                period: Period::Ongoing,
                ongoing,
            }),
            (None, false) => Err(PeriodError::Unrecognised(written.to_string())),
        }
    }

    /// A delivery date whose period was stated separately from the prose.
    pub fn with_period(written: &str, period: Period) -> Self {
        Self {
            written: written.to_string(),
            ongoing: period == Period::Ongoing || written.to_lowercase().contains("ongoing"),
            period,
        }
    }

    /// Due, and not yet delivered, on `today`? Ongoing work is never overdue.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        !self.ongoing && self.period.end().is_some_and(|end| end < today)
    }
}

fn find_period(text: &str) -> Option<Period> {
    let tokens = tokenize(text);
    // A quarter: `Q3` followed by a financial year.
    for w in tokens.windows(2) {
        if is_quarter_token(&w[0])
            && let Ok(q) = Quarter::parse(&format!("{} {}", w[0], w[1]))
        {
            return Some(Period::Quarter { quarter: q });
        }
    }
    // A month range: `Aug 27 – March 28`.
    for i in 0..tokens.len() {
        if let Some((Period::Month { month: from }, used)) = month_at(&tokens, i) {
            let j = i + used;
            if tokens.get(j).is_some_and(|t| is_dash(t) || t == "to")
                && let Some((Period::Month { month: to }, _)) = month_at(&tokens, j + 1)
                && from <= to
            {
                return Some(Period::MonthRange { from, to });
            }
        }
    }
    // A financial year: `2027/28`, `2025/2026`.
    for t in &tokens {
        if t.contains('/')
            && let Ok(year) = FinancialYear::parse(t)
        {
            return Some(Period::FinancialYear { year });
        }
    }
    // A single month: `August 26`.
    for i in 0..tokens.len() {
        if let Some((p, _)) = month_at(&tokens, i) {
            return Some(p);
        }
    }
    // A calendar year: `2032`, `by 2028`.
    tokens.iter().find_map(|t| {
        (t.len() == 4 && t.starts_with("20") && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
            .map(|year| Period::CalendarYear { year })
    })
}

/// Splits prose into words, keeping `2025/26` whole and dashes as their own tokens.
fn tokenize(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '–' | '—' | '-' => spaced.push_str(" - "),
            ',' | ';' | '(' | ')' | ':' => spaced.push(' '),
            _ => spaced.push(c),
        }
    }
    spaced
        .split_whitespace()
        .map(|t| t.trim_end_matches('.').to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn is_dash(t: &str) -> bool {
    t == "-"
}

fn is_quarter_token(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 2 && (b[0] == b'Q' || b[0] == b'q') && (b'1'..=b'4').contains(&b[1])
}

/// A month name at `tokens[i]` followed by a year (`Aug 27`, `March 2028`).
fn month_at(tokens: &[String], i: usize) -> Option<(Period, usize)> {
    let month = month_number(tokens.get(i)?)?;
    let year = parse_year(tokens.get(i + 1)?)?;
    Some((
        Period::Month {
            month: YearMonth { year, month },
        },
        2,
    ))
}

fn month_number(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    let names = [
        ("jan", "january"),
        ("feb", "february"),
        ("mar", "march"),
        ("apr", "april"),
        ("may", "may"),
        ("jun", "june"),
        ("jul", "july"),
        ("aug", "august"),
        ("sep", "september"),
        ("oct", "october"),
        ("nov", "november"),
        ("dec", "december"),
    ];
    names
        .iter()
        .position(|(short, long)| w == *short || w == *long || (w == "sept" && *short == "sep"))
        .map(|i| i as u32 + 1)
}

/// `2027` or `27` (read as 2027; plans are written this century).
fn parse_year(t: &str) -> Option<i32> {
    let t = t.trim();
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match t.len() {
        2 => t.parse::<i32>().ok().map(|y| 2000 + y),
        4 => t.parse::<i32>().ok(),
        _ => None,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    // Callers only build first/last days of valid months, so this never falls back.
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(y: i32) -> FinancialYear {
        FinancialYear(y)
    }

    #[test]
    fn financial_years() {
        assert_eq!(FinancialYear::parse("2025/26").unwrap(), fy(2025));
        assert_eq!(FinancialYear::parse("2025/2026").unwrap(), fy(2025));
        assert_eq!(FinancialYear::parse("25/26").unwrap(), fy(2025));
        assert_eq!(fy(2099).to_string(), "2099/00");
        assert!(matches!(
            FinancialYear::parse("2025/27"),
            Err(PeriodError::NotConsecutive(_))
        ));
        let d = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        assert_eq!(FinancialYear::containing(d), fy(2025));
        let d = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(FinancialYear::containing(d), fy(2026));
    }

    #[test]
    fn quarters_run_april_to_march() {
        let q = Quarter::parse("Q3 2025/26").unwrap();
        assert_eq!(q.start(), NaiveDate::from_ymd_opt(2025, 10, 1).unwrap());
        assert_eq!(q.end(), NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
        let q4 = Quarter::parse("Q4 2025/26").unwrap();
        assert_eq!(q4.start(), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(q4.end(), NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        assert_eq!(q4.to_string(), "Q4 2025/26");
        let feb = NaiveDate::from_ymd_opt(2026, 2, 14).unwrap();
        assert_eq!(Quarter::containing(feb), q4);
    }

    #[test]
    fn delivery_dates_from_the_derbyshire_plan() {
        let cases = [
            ("Training developed during Q3 2025/26", "Q3 2025/26", false),
            ("2027/28", "2027/28", false),
            ("Aug 27 – March 28", "2027-08..2028-03", false),
            ("Ongoing Aug 27 – March 28", "2027-08..2028-03", true),
            ("August 26", "2026-08", false),
            ("2032", "2032", false),
            ("Ongoing", "ongoing", true),
            ("Exercise to take place during 2026/27", "2026/27", false),
            (
                "50% reduction in carbon footprint of inhalers by 2028",
                "2028",
                false,
            ),
            ("Q4 2025/26", "Q4 2025/26", false),
        ];
        for (written, code, ongoing) in cases {
            let d = DeliveryDate::parse(written).unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(d.period.code(), code, "{written}");
            assert_eq!(d.ongoing, ongoing, "{written}");
            assert_eq!(d.written, written);
        }
    }

    #[test]
    fn prose_without_a_period_is_refused() {
        assert!(DeliveryDate::parse("To be tagged in all new schemes").is_err());
    }

    #[test]
    fn canonical_codes_round_trip() {
        for code in [
            "2025/26",
            "Q1 2026/27",
            "2024-12",
            "2025-08..2028-03",
            "2025/26..2027/28",
            "2040",
            "ongoing",
        ] {
            assert_eq!(Period::parse(code).unwrap().code(), code);
        }
        assert!(matches!(
            Period::parse("2028-03..2025-08"),
            Err(PeriodError::Backwards(_))
        ));
        assert_eq!(
            Period::parse("Dec 2024").unwrap().code(),
            "2024-12",
            "month names are accepted"
        );
    }

    #[test]
    fn overdue_means_past_the_last_day() {
        let d = DeliveryDate::parse("Q3 2025/26").unwrap();
        assert!(!d.is_overdue(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()));
        assert!(d.is_overdue(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()));
        let ongoing = DeliveryDate::parse("Ongoing").unwrap();
        assert!(!ongoing.is_overdue(NaiveDate::from_ymd_opt(2040, 1, 1).unwrap()));
    }

    #[test]
    fn financial_year_of_a_period() {
        assert_eq!(
            Period::parse("2028").unwrap().financial_year(),
            Some(fy(2027))
        );
        assert_eq!(
            Period::parse("2024-12").unwrap().financial_year(),
            Some(fy(2024))
        );
        assert_eq!(
            Period::parse("Q4 2025/26").unwrap().financial_year(),
            Some(fy(2025))
        );
    }

    #[test]
    fn years_outside_the_range_are_refused_by_every_reader() {
        for raw in [
            "Jan 2262",
            "Dec 1899",
            "2262-01",
            "2262",
            "2262/63",
            "Q1 2262/63",
            "1898/99",
        ] {
            assert!(
                matches!(Period::parse(raw), Err(PeriodError::OutOfRange { .. })),
                "{raw}: {:?}",
                Period::parse(raw)
            );
        }
        assert!(DeliveryDate::parse("Jan 2262").is_err());
        assert!(DeliveryDate::parse("Ongoing, Aug 2262 – Sep 2263").is_err());
        assert!(parse_date("2262-01-01").is_err());
        assert!(parse_date("31/12/1899").is_err());
        assert!(serde_json::from_str::<YearMonth>(r#"{"year":2262,"month":1}"#).is_err());
        assert!(serde_json::from_str::<FinancialYear>("1898").is_err());
        assert!(Period::parse("Jan 2200").is_ok() && Period::parse("Jan 1900").is_ok());
    }

    mod read_back {
        //! What each reader accepts reads back, unchanged, from the form it is stored in.
        use super::super::*;
        use proptest::prelude::*;

        /// Text shaped like the periods people write, with years well outside [`YEARS`].
        fn period_text() -> impl Strategy<Value = String> {
            let year = -20_000i32..20_000;
            let names = prop::sample::select(vec![
                "Jan", "february", "Mar", "Sept", "DEC", "May", "Q1", "Q4", "q3", "ongoing", "to",
                "–", "-", "..", "/", "FY", "by",
            ]);
            let piece = prop_oneof![
                year.clone().prop_map(|y| y.to_string()),
                (0i32..100).prop_map(|y| format!("{y:02}")),
                (year.clone(), 0u32..14).prop_map(|(y, m)| format!("{y}-{m:02}")),
                year.prop_map(|y| format!("{y}/{:02}", (y + 1).rem_euclid(100))),
                names.prop_map(str::to_string),
                "[ -~]{0,4}",
            ];
            prop::collection::vec(piece, 1..5).prop_map(|p| p.join(" "))
        }

        proptest! {
            #[test]
            fn periods(raw in period_text()) {
                if let Ok(p) = Period::parse(&raw) {
                    prop_assert_eq!(Period::parse(&p.code()), Ok(p));
                    prop_assert!(p.check().is_ok());
                    let json = serde_json::to_string(&p).unwrap_or_default();
                    prop_assert_eq!(serde_json::from_str::<Period>(&json).ok(), Some(p));
                }
            }

            #[test]
            fn delivery_dates(raw in period_text()) {
                if let Ok(d) = DeliveryDate::parse(&raw) {
                    prop_assert_eq!(Period::parse(&d.period.code()), Ok(d.period));
                    let json = serde_json::to_string(&d).unwrap_or_default();
                    prop_assert_eq!(serde_json::from_str::<DeliveryDate>(&json).ok(), Some(d));
                }
            }

            #[test]
            fn financial_years(raw in period_text()) {
                if let Ok(y) = FinancialYear::parse(&raw) {
                    prop_assert_eq!(FinancialYear::parse(&y.to_string()), Ok(y));
                    prop_assert_eq!(FinancialYear::new(y.0), Ok(y));
                }
            }

            #[test]
            fn quarters(raw in period_text()) {
                if let Ok(q) = Quarter::parse(&raw) {
                    prop_assert_eq!(Quarter::parse(&q.to_string()), Ok(q));
                }
            }

            #[test]
            fn months(raw in period_text(), y in -20_000i32..20_000, m in 0u32..14) {
                for raw in [raw, format!("{y}-{m:02}"), format!("{y:04}{m:02}")] {
                    if let Ok(month) = YearMonth::parse(&raw) {
                        let stored = format!("{:04}-{:02}", month.year, month.month);
                        prop_assert_eq!(YearMonth::parse(&stored), Ok(month));
                    }
                }
            }

            #[test]
            fn dates(y in -20_000i32..20_000, m in 0u32..14, d in 0u32..33, uk in any::<bool>()) {
                let raw = if uk { format!("{d:02}/{m:02}/{y}") } else { format!("{y}-{m:02}-{d:02}") };
                if let Ok(date) = parse_date(&raw) {
                    prop_assert_eq!(parse_date(&date.to_string()), Ok(date));
                    let q = Quarter::containing(date);
                    prop_assert_eq!(Quarter::parse(&q.to_string()), Ok(q));
                }
            }
        }
    }
}
