//! A quantity is an exact decimal with its unit.

use crate::unit::{Dimension, Unit, UnitError};
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
        let value = self
            .value
            .checked_mul(factor)
            .ok_or_else(|| UnitError::TooLarge(self.to_string(), unit.to_string()))?;
        Ok(Quantity::new(value, unit.clone()))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value.normalize(), self.unit)
    }
}

/// The largest amount one row of data may hold, per dimension, in the unit people write it
/// in (issue 21, class 2: `79228162514264337593543950335` kWh, the largest decimal, was
/// accepted, and once summed every footprint page panicked). Each bound is far above anything
/// one NHS record can be, so no real row is refused, and far enough below the limit of a
/// decimal (7.9 × 10^28) that a row times any factor, summed over billions of rows, still fits:
/// - energy 10^12 kWh (1,000 TWh): the whole NHS in England uses about 11 TWh a year, and the
///   UK's entire final energy use is about 1,600 TWh;
/// - volume 10^12 litres (1 km³): NHS water use is about 40 billion litres a year;
/// - mass 10^12 kg (a billion tonnes): NHS waste is under a million tonnes a year;
/// - distance 10^12 km (and passenger-km, tonne-km): NHS travel of every kind is about 15
///   billion km a year;
/// - money £10^12: the NHS budget is about £190 billion a year;
/// - counts, room nights and FTE hours 10^12: 1.5 million staff work about 3 × 10^9 hours.
pub fn largest(dimension: Dimension) -> Quantity {
    use crate::unit::UnitKind;
    let kind = match dimension {
        Dimension::Energy => UnitKind::KilowattHour,
        Dimension::Volume => UnitKind::Litre,
        Dimension::Mass => UnitKind::Kilogram,
        Dimension::Distance => UnitKind::Kilometre,
        Dimension::PassengerDistance => UnitKind::PassengerKilometre,
        Dimension::FreightDistance => UnitKind::TonneKilometre,
        Dimension::Money => UnitKind::Pound,
        Dimension::Count => UnitKind::Count,
        Dimension::RoomNights => UnitKind::RoomNight,
        Dimension::FteHours => UnitKind::FteHour,
    };
    Quantity::new(Decimal::from(1_000_000_000_000i64), Unit::new(kind))
}

/// A quantity above [`largest`] for its dimension.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{value} {unit}` is more than one row can hold: the largest is {largest} ({dimension}); check the figure and its unit"
)]
pub struct TooLarge {
    pub value: Decimal,
    pub unit: String,
    pub largest: String,
    pub dimension: Dimension,
}

/// Refuses a quantity (negative or positive) whose size is above [`largest`] for its
/// dimension. Every importer checks each quantity with this.
pub fn check_bound(value: Decimal, unit: &Unit) -> Result<(), TooLarge> {
    let bound = largest(unit.dimension());
    let fits = value
        .abs()
        .checked_mul(unit.kind.scale())
        .zip(bound.value.checked_mul(bound.unit.kind.scale()))
        .is_some_and(|(v, b)| v <= b);
    if fits {
        Ok(())
    } else {
        Err(TooLarge {
            value: value.normalize(),
            unit: unit.to_string(),
            largest: format!("{} {}", with_thousands(bound.value, 0), bound.unit),
            dimension: unit.dimension(),
        })
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

#[cfg(test)]
mod bound_tests {
    use super::*;
    use crate::unit::UnitKind;

    #[test]
    fn quantities_are_bounded_per_dimension() {
        let kwh = Unit::new(UnitKind::KilowattHour);
        let mwh = Unit::new(UnitKind::MegawattHour);
        assert!(check_bound(Decimal::from(1_000_000_000_000i64), &kwh).is_ok());
        assert!(check_bound(Decimal::from(1_000_000_000i64), &mwh).is_ok());
        assert!(check_bound(Decimal::from(1_000_000_001i64), &mwh).is_err());
        let e = check_bound(Decimal::MAX, &kwh).unwrap_err().to_string();
        assert!(
            e.contains("79228162514264337593543950335") && e.contains("1,000,000,000,000 kWh"),
            "{e}"
        );
        assert!(
            check_bound(Decimal::MIN, &mwh).is_err(),
            "no overflow on the way"
        );
        assert!(check_bound(Decimal::new(-5, 0), &kwh).is_ok());
    }
}
