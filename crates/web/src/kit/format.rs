//! How figures, dates and periods are written on every page.

use chrono::NaiveDate;
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::Quarter;
use greenplan_core::plan::Plan;
use greenplan_core::quantity::with_thousands;

/// "31 March 2026".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// "29 November 2026 at 14:05" from Unix seconds.
pub fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.with_timezone(&chrono::Local))
        .map_or_else(String::new, |t| t.format("%-d %B %Y at %H:%M").to_string())
}

/// A figure with thousands separators and no needless decimals.
pub fn number(v: Decimal) -> String {
    let v = v.normalize();
    with_thousands(v, v.scale().min(3))
}

/// A quarter in a web address: `2025-26-Q3` for "Q3 2025/26".
pub fn quarter_slug(q: Quarter) -> String {
    q.slug()
}

/// The quarter of a web address written by [`quarter_slug`].
pub fn quarter_of_slug(slug: &str) -> Option<Quarter> {
    let (year, q) = slug.rsplit_once("-Q")?;
    let (start, end) = year.split_once('-')?;
    Quarter::parse(&format!("Q{q} {start}/{end}")).ok()
}

/// An organisation's name for a list: the short name the plan gives it, else its code.
pub fn organisation_name(plan: &Plan, code: &OdsCode) -> String {
    plan.organisation(code)
        .map_or_else(|| code.to_string(), |o| o.display_name().to_string())
}

/// An organisation's full name as the plan gives it (its code if the plan does not know it):
/// for headings that name one organisation.
pub fn organisation_full_name(plan: &Plan, code: &OdsCode) -> String {
    plan.organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

/// An API token as a row of a table (own tokens here, a person's on the admin page).
pub struct TokenRow {
    pub id: i64,
    pub label: String,
    pub created: String,
    pub expires: String,
    /// "Live", "Expired" or "Revoked".
    pub state: &'static str,
    pub live: bool,
}

impl TokenRow {
    pub fn of(t: &greenplan_store::ApiTokenSummary, now: i64) -> Self {
        let day = |at: i64| {
            chrono::DateTime::from_timestamp(at, 0)
                .map_or_else(String::new, |d| d.format("%-d %B %Y").to_string())
        };
        let state = match t.state(now) {
            "live" => "Live",
            "expired" => "Expired",
            _ => "Revoked",
        };
        Self {
            id: t.id,
            label: t.label.clone(),
            created: day(t.created_at),
            expires: day(t.expires_at),
            state,
            live: state == "Live",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_survives_its_web_address() {
        let q = Quarter::parse("Q3 2025/26").unwrap();
        assert_eq!(quarter_slug(q), "2025-26-Q3");
        assert_eq!(quarter_of_slug("2025-26-Q3"), Some(q));
        assert_eq!(quarter_of_slug("2025-Q3"), None);
    }

    #[test]
    fn numbers_have_separators_and_no_needless_decimals() {
        assert_eq!(number(Decimal::new(12345000, 3)), "12,345");
        assert_eq!(
            long_date(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()),
            "31 March 2026"
        );
    }
}
