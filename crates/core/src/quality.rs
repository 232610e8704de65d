//! Data-quality checks on figures as a source printed them.
//!
//! Plans and dashboards mix carbon units: the Derbyshire plan prints its inhaler footprint as
//! "14,666 KtCO₂e" in one place and "14.399kgCO₂e" in another, where tonnes are meant. Such a
//! figure is recorded as interpreted, with the printed text kept; this check finds every
//! figure whose printed unit disagrees with the unit it is recorded in, and says what the
//! printed figure would mean taken literally, so a reader can see the discrepancy and nobody
//! "fixes" the source silently.

use crate::Decimal;
use crate::plan::{DataPoint, Plan};
use serde::Serialize;

/// A figure whose printed unit disagrees with its recorded unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitFlag {
    pub metric: String,
    pub period: String,
    pub organisation: Option<String>,
    /// As printed, e.g. `14.399kgCO ₂ e`.
    pub printed: String,
    /// What greenplan records, e.g. `14399 tCO2e`.
    pub recorded: String,
    /// The printed figure taken literally, in the recorded unit.
    pub literal: String,
    pub message: String,
}

/// kg per unit of a carbon mass unit (`kgCO2e`, `tCO2e`, `KtCO₂e`…), if `text` is one.
fn carbon_scale(text: &str) -> Option<Decimal> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '₂' => '2',
            c => c,
        })
        .collect::<String>()
        .to_lowercase();
    let prefix = t.strip_suffix("co2e").or_else(|| t.strip_suffix("co2"))?;
    Some(match prefix {
        "g" => Decimal::new(1, 3),
        "kg" => Decimal::ONE,
        "t" | "tonnes" | "tonne" => Decimal::ONE_THOUSAND,
        "kt" => Decimal::from(1_000_000),
        "mt" => Decimal::from(1_000_000_000),
        _ => return None,
    })
}

/// Splits `14,666 KtCO₂e` into its number (as printed) and unit.
fn split_printed(printed: &str) -> Option<(Decimal, String)> {
    let start = printed.find(|c: char| c.is_ascii_digit())?;
    let rest = &printed[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .unwrap_or(rest.len());
    let number = rest[..end].trim_end_matches(['.', ',']);
    let value = crate::quantity::parse_decimal(number)
        .or_else(|| crate::quantity::parse_decimal(&number.replace(',', "")))?;
    Some((value, rest[end..].trim().to_string()))
}

fn flag(d: &DataPoint, unit: &str) -> Option<UnitFlag> {
    let recorded_scale = carbon_scale(unit)?;
    let printed = d.as_written.as_deref()?;
    let (printed_value, printed_unit) = split_printed(printed)?;
    let printed_scale = carbon_scale(&printed_unit)?;
    if printed_scale == recorded_scale {
        return None;
    }
    let literal = (printed_value * printed_scale / recorded_scale).normalize();
    Some(UnitFlag {
        metric: d.metric.clone(),
        period: d.period.to_string(),
        organisation: d.organisation.as_ref().map(|o| o.to_string()),
        printed: printed.to_string(),
        recorded: format!("{} {unit}", d.value.normalize()),
        literal: format!("{literal} {unit}"),
        message: format!(
            "printed as \"{printed}\", which taken literally is {literal} {unit}; recorded as {} {unit}",
            d.value.normalize()
        ),
    })
}

/// Every figure of the plan whose printed carbon unit differs from its metric's unit.
pub fn unit_flags(plan: &Plan) -> Vec<UnitFlag> {
    plan.data_points
        .iter()
        .filter_map(|d| flag(d, &plan.metric(&d.metric)?.unit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;

    fn point(value: i64, printed: &str) -> DataPoint {
        DataPoint {
            metric: "inhaler-carbon".into(),
            organisation: None,
            period: Period::parse("2024/25").unwrap(),
            value: Decimal::from(value),
            as_written: Some(printed.into()),
            note: None,
            reference: None,
        }
    }

    #[test]
    fn derbyshire_inhaler_figures_are_flagged() {
        let f = flag(&point(14399, "14.399kgCO ₂ e"), "tCO2e").unwrap();
        assert_eq!(f.literal, "0.014399 tCO2e");
        let f = flag(&point(14666, "14,666 KtCO₂e"), "tCO2e").unwrap();
        assert_eq!(f.literal, "14666000 tCO2e");
        assert!(f.message.contains("recorded as 14666 tCO2e"));
    }

    #[test]
    fn consistent_figures_are_not() {
        assert!(flag(&point(5846, "5,846 tCO₂e"), "tCO2e").is_none());
        assert!(flag(&point(90, "90%"), "%").is_none());
        assert!(flag(&point(12909, "12909 tCO₂e"), "tCO2e").is_none());
    }
}
