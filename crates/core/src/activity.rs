//! Activity data: what an organisation used or did in a period (12,500 kWh of gas at a site in
//! April 2024), the raw material of a footprint.

use crate::category::NhsCategory;
use crate::ods::OdsCode;
use crate::period::FinancialYear;
use crate::unit::Unit;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a figure came from: the file (or import) and its row, for tracing every total back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RowRef {
    /// Shared by every row of a file: cloning it per row costs a counter, not a copy.
    pub source: std::sync::Arc<str>,
    /// 1-based row number as a spreadsheet shows it (the header is row 1).
    pub row: u64,
}

/// A problem with one column of an activity row, found when it meets the factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub column: &'static str,
    pub message: String,
}

impl RowProblem {
    /// The column of a row whose quantity is too large to convert or sum (issue 21): no other
    /// problem found when a row meets the factors is against the quantity.
    pub const TOO_LARGE: &'static str = "quantity";

    /// A row left out because its figures are too large to compute or sum.
    pub fn is_too_large(&self) -> bool {
        self.column == Self::TOO_LARGE
    }
}

/// One row of activity data, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub origin: RowRef,
    pub organisation: OdsCode,
    pub site: Option<String>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Factor path, alias or custom activity name, as written.
    pub activity: String,
    pub quantity: Decimal,
    pub unit: Unit,
    /// Factor edition pinned by the row; otherwise chosen from the period.
    pub edition: Option<String>,
    /// NHS category overriding the factor's default.
    pub category: Option<NhsCategory>,
    /// A custom factor for market-based Scope 2 (a supplier's tariff), if the row has one.
    pub market_factor: Option<String>,
    pub notes: Option<String>,
}

/// Why an activity row is not acceptable, independent of the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    #[error("the period ends ({end}) before it starts ({start}): swap the dates")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error(
        "the period {start} to {end} crosses the end of a financial year (31 March): split it into one row per financial year"
    )]
    CrossesFinancialYear { start: NaiveDate, end: NaiveDate },
    #[error(
        "negative quantity {0}: a correction must say so — write `correction` in notes — otherwise enter the amount used as a positive number"
    )]
    NegativeNotCorrection(Decimal),
    #[error(transparent)]
    TooLarge(#[from] crate::quantity::TooLarge),
}

impl Activity {
    /// The financial year the activity is reported in.
    pub fn financial_year(&self) -> FinancialYear {
        FinancialYear::containing(self.period_start)
    }

    /// Checks the rules that do not depend on factors: a forward period within one financial
    /// year, and no negative amount unless it is marked as a correction.
    pub fn check(&self) -> Result<(), ActivityError> {
        self.borrowed().check()
    }

    /// The row as an [`ActivityRef`], for the code that serves both forms.
    pub fn borrowed(&self) -> ActivityRef<'_> {
        ActivityRef {
            source: &self.origin.source,
            row: self.origin.row,
            organisation: &self.organisation,
            site: self.site.as_deref(),
            period_start: self.period_start,
            period_end: self.period_end,
            activity: &self.activity,
            quantity: self.quantity,
            unit: &self.unit,
            edition: self.edition.as_deref(),
            category: self.category,
            market_factor: self.market_factor.as_deref(),
            notes: self.notes.as_deref(),
        }
    }
}

/// An activity row that borrows its text from wherever it was read: the same fields as
/// [`Activity`], so that a file can be checked, converted and summed without allocating for
/// every row (`greenplan footprint --from` over millions of rows). The rules and the
/// arithmetic are written once, against this type; [`Activity`] lends itself through
/// [`Activity::borrowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityRef<'a> {
    /// The file (or import) the row came from, shared as in [`RowRef`].
    pub source: &'a std::sync::Arc<str>,
    /// 1-based row number as a spreadsheet shows it.
    pub row: u64,
    pub organisation: &'a OdsCode,
    pub site: Option<&'a str>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub activity: &'a str,
    pub quantity: Decimal,
    pub unit: &'a Unit,
    pub edition: Option<&'a str>,
    pub category: Option<NhsCategory>,
    pub market_factor: Option<&'a str>,
    pub notes: Option<&'a str>,
}

impl ActivityRef<'_> {
    /// The financial year the activity is reported in.
    pub fn financial_year(&self) -> FinancialYear {
        FinancialYear::containing(self.period_start)
    }

    /// As [`Activity::check`].
    pub fn check(&self) -> Result<(), ActivityError> {
        check_period(self.period_start, self.period_end)?;
        check_quantity(self.quantity, self.notes)?;
        // The one bound on every quantity an activity row can carry, whatever it came from.
        crate::quantity::check_bound(self.quantity, self.unit)?;
        Ok(())
    }

    /// An owned copy.
    pub fn to_activity(&self) -> Activity {
        Activity {
            origin: RowRef {
                source: self.source.clone(),
                row: self.row,
            },
            organisation: self.organisation.clone(),
            site: self.site.map(str::to_string),
            period_start: self.period_start,
            period_end: self.period_end,
            activity: self.activity.to_string(),
            quantity: self.quantity,
            unit: self.unit.clone(),
            edition: self.edition.map(str::to_string),
            category: self.category,
            market_factor: self.market_factor.map(str::to_string),
            notes: self.notes.map(str::to_string),
        }
    }
}

/// A period must run forwards and sit within one financial year, so each figure lands in
/// exactly one year of the footprint without apportioning.
pub fn check_period(start: NaiveDate, end: NaiveDate) -> Result<(), ActivityError> {
    if end < start {
        return Err(ActivityError::EndBeforeStart { start, end });
    }
    if FinancialYear::containing(start) != FinancialYear::containing(end) {
        return Err(ActivityError::CrossesFinancialYear { start, end });
    }
    Ok(())
}

/// Negative amounts are only allowed as marked corrections (e.g. a re-read meter).
pub fn check_quantity(quantity: Decimal, notes: Option<&str>) -> Result<(), ActivityError> {
    let is_correction = notes.is_some_and(|n| n.to_lowercase().contains("correction"));
    if quantity.is_sign_negative() && !quantity.is_zero() && !is_correction {
        return Err(ActivityError::NegativeNotCorrection(quantity));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_run_forwards_within_a_year() {
        assert!(check_period(d(2024, 4, 1), d(2024, 4, 30)).is_ok());
        assert!(matches!(
            check_period(d(2024, 4, 30), d(2024, 4, 1)),
            Err(ActivityError::EndBeforeStart { .. })
        ));
        assert!(matches!(
            check_period(d(2025, 3, 1), d(2025, 4, 30)),
            Err(ActivityError::CrossesFinancialYear { .. })
        ));
    }

    #[test]
    fn negative_only_as_correction() {
        assert!(check_quantity(Decimal::from(-5), None).is_err());
        assert!(check_quantity(Decimal::from(-5), Some("Correction: meter re-read")).is_ok());
        assert!(check_quantity(Decimal::ZERO, None).is_ok());
    }

    #[test]
    fn borrowed_and_owned_rows_agree() {
        let a = Activity {
            origin: RowRef {
                source: "a.csv".into(),
                row: 7,
            },
            organisation: OdsCode::parse("RTG").unwrap(),
            site: Some("Main".into()),
            period_start: d(2024, 4, 1),
            period_end: d(2024, 4, 30),
            activity: "natural-gas".into(),
            quantity: Decimal::from(-5),
            unit: "kWh".parse().unwrap(),
            edition: None,
            category: None,
            market_factor: Some("tariff".into()),
            notes: Some("correction".into()),
        };
        assert_eq!(a.borrowed().to_activity(), a);
        assert_eq!(a.borrowed().financial_year(), a.financial_year());
        assert!(a.check().is_ok());
        let b = Activity { notes: None, ..a };
        assert!(matches!(
            b.check(),
            Err(ActivityError::NegativeNotCorrection(_))
        ));
    }
}
