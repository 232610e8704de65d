//! A quantity is an exact decimal with its unit.

use crate::unit::{Unit, UnitError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of something, e.g. 12,500 kWh (Gross CV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantity {
    pub value: Decimal,
    pub unit: Unit,
}

impl Quantity {
    pub fn new(value: Decimal, unit: Unit) -> Self {
        Self { value, unit }
    }

    /// The same amount expressed in `unit`.
    pub fn to(&self, unit: &Unit) -> Result<Quantity, UnitError> {
        let factor = self.unit.conversion_to(unit)?;
        Ok(Quantity::new(self.value * factor, unit.clone()))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value.normalize(), self.unit)
    }
}

/// `str::trim`, quicker for the usual cell: text that starts and ends with a printable ASCII
/// character (`!` to `~`, none of them whitespace) is returned as it is without decoding
/// characters from both ends. Cells are trimmed several times a row on the way to a figure,
/// and Unicode-aware trimming was a tenth of the time of `footprint --from` (measured).
#[inline]
pub fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Parses a decimal as people type it in spreadsheets: `12500`, `12,500.5`, ` 3.2 `, `1e3`.
/// Thousands separators are accepted only in their proper places.
pub fn parse_decimal(raw: &str) -> Option<Decimal> {
    let t = trim(raw);
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = Decimal::from_str_exact(t) {
        return Some(d);
    }
    if t.contains(',') && thousands_grouped(t) {
        return Decimal::from_str_exact(&t.replace(',', "")).ok();
    }
    if t.contains(['e', 'E']) {
        return Decimal::from_scientific(t).ok();
    }
    None
}

fn thousands_grouped(t: &str) -> bool {
    let int_part = t.split('.').next().unwrap_or("");
    let int_part = int_part.trim_start_matches(['-', '+']);
    let groups: Vec<&str> = int_part.split(',').collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
}

/// Formats tonnes or other figures with thousands separators, as the NHS prints them.
pub fn with_thousands(value: Decimal, decimals: u32) -> String {
    let rounded = value.round_dp(decimals);
    let text = format!("{:.*}", decimals as usize, rounded);
    let (sign, rest) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_as_typed() {
        assert_eq!(parse_decimal("12,500.5"), Decimal::from_str("12500.5").ok());
        assert_eq!(parse_decimal(" 3.2 "), Decimal::from_str("3.2").ok());
        assert_eq!(parse_decimal("1e3"), Some(Decimal::from(1000)));
        assert_eq!(parse_decimal("12,50"), None);
        assert_eq!(parse_decimal("abc"), None);
        assert_eq!(parse_decimal(""), None);
    }

    #[test]
    fn trims_like_str_trim() {
        for s in [
            "",
            " ",
            "RTG",
            " RTG ",
            "\tkWh\r",
            "\u{a0}12\u{a0}",
            "£",
            " £5 ",
            "a b",
            "\u{3000}x",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(with_thousands(Decimal::from(1234567), 0), "1,234,567");
        assert_eq!(with_thousands(Decimal::new(-12345, 1), 1), "-1,234.5");
        assert_eq!(with_thousands(Decimal::from(999), 0), "999");
    }

    #[test]
    fn quantity_conversion() {
        let q = Quantity::new(Decimal::from(2), "MWh".parse().unwrap());
        assert_eq!(
            q.to(&"kWh".parse().unwrap()).unwrap().value,
            Decimal::from(2000)
        );
    }
}
