//! Quarterly data returns: the ICB opens a reporting period (a quarter, with a date returns are
//! due), each organisation submits its activity data for it, and the ICB approves what it
//! receives. This module says where each organisation stands; the store keeps the records.

use crate::ods::OdsCode;
use crate::period::Quarter;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

/// A quarter open for returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportingPeriod {
    pub quarter: Quarter,
    /// Returns received after this day are late.
    pub due_on: NaiveDate,
}

/// One submission: an imported file that carried an organisation's data for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub id: i64,
    pub organisation: OdsCode,
    pub submitted_on: NaiveDate,
    pub approved: bool,
}

/// Where an organisation's return for a period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnStatus {
    /// Nothing received and the due date has passed.
    Late,
    /// Nothing received yet; not due yet.
    Awaited,
    /// Received, waiting for the ICB to approve it.
    Submitted,
    /// Received after the due date, waiting for approval.
    SubmittedLate,
    /// Approved by the ICB.
    Approved,
}

impl ReturnStatus {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Late => "late",
            Self::Awaited => "awaited",
            Self::Submitted => "submitted",
            Self::SubmittedLate => "submitted-late",
            Self::Approved => "approved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Late => "Late",
            Self::Awaited => "Not yet received",
            Self::Submitted => "Submitted",
            Self::SubmittedLate => "Submitted late",
            Self::Approved => "Approved",
        }
    }

    /// The colour of its tag, as the action RAG colours.
    pub fn colour(self) -> &'static str {
        match self {
            Self::Late => "red",
            Self::Awaited => "grey",
            Self::Submitted => "amber",
            Self::SubmittedLate => "amber",
            Self::Approved => "green",
        }
    }
}

impl fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl ReportingPeriod {
    /// The standing of `organisation` on `today`, from everything it has submitted for this
    /// period: approved if any submission is; otherwise submitted (late if the first came after
    /// the due date); otherwise late or awaited by the date.
    pub fn status_of(
        &self,
        organisation: &OdsCode,
        submissions: &[Submission],
        today: NaiveDate,
    ) -> ReturnStatus {
        let own = submissions
            .iter()
            .filter(|s| &s.organisation == organisation);
        let mut first: Option<NaiveDate> = None;
        for s in own {
            if s.approved {
                return ReturnStatus::Approved;
            }
            first = Some(first.map_or(s.submitted_on, |f| f.min(s.submitted_on)));
        }
        match first {
            Some(on) if on > self.due_on => ReturnStatus::SubmittedLate,
            Some(_) => ReturnStatus::Submitted,
            None if today > self.due_on => ReturnStatus::Late,
            None => ReturnStatus::Awaited,
        }
    }

    /// The usual due date: one month after the quarter ends (NHS returns are typically due in
    /// the month after the quarter).
    pub fn default_due_on(quarter: Quarter) -> NaiveDate {
        quarter
            .end()
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or_else(|| quarter.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> OdsCode {
        OdsCode::parse(c).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn period() -> ReportingPeriod {
        ReportingPeriod {
            quarter: Quarter::parse("Q3 2025/26").unwrap(),
            due_on: d("2026-01-31"),
        }
    }

    fn sub(id: i64, org: &str, on: &str, approved: bool) -> Submission {
        Submission {
            id,
            organisation: code(org),
            submitted_on: d(on),
            approved,
        }
    }

    #[test]
    fn standing_follows_submissions_and_the_due_date() {
        let p = period();
        let subs = vec![
            sub(1, "RTG", "2026-01-10", false),
            sub(2, "RFS", "2026-02-03", false),
            sub(3, "RY8", "2026-01-05", false),
            sub(4, "RY8", "2026-01-06", true),
        ];
        let before = d("2026-01-20");
        let after = d("2026-02-10");
        assert_eq!(
            p.status_of(&code("RTG"), &subs, after),
            ReturnStatus::Submitted
        );
        assert_eq!(
            p.status_of(&code("RFS"), &subs, after),
            ReturnStatus::SubmittedLate
        );
        assert_eq!(
            p.status_of(&code("RY8"), &subs, after),
            ReturnStatus::Approved
        );
        assert_eq!(
            p.status_of(&code("RX1"), &subs, before),
            ReturnStatus::Awaited
        );
        assert_eq!(p.status_of(&code("RX1"), &subs, after), ReturnStatus::Late);
        // On the due date itself a return is not yet late.
        assert_eq!(
            p.status_of(&code("RX1"), &subs, d("2026-01-31")),
            ReturnStatus::Awaited
        );
    }

    #[test]
    fn returns_are_due_a_month_after_the_quarter() {
        let q = Quarter::parse("Q4 2025/26").unwrap();
        assert_eq!(ReportingPeriod::default_due_on(q), d("2026-04-30"));
        let q = Quarter::parse("Q3 2025/26").unwrap();
        assert_eq!(ReportingPeriod::default_due_on(q), d("2026-01-31"));
    }
}
