//! Units of measure, checked at run time.
//!
//! Activity files and factor files name units as text ("kWh (Gross CV)", "litres",
//! "passenger.km"), so units are parsed into a closed set with a conversion table rather than
//! typed at compile time. A unit has a [`Dimension`]; conversion is allowed within a dimension
//! and refused across one. Qualifiers such as `Gross CV` and `Net CV` are part of the unit:
//! a kWh measured on a gross calorific value basis is never treated as a net one.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dimension {
    Energy,
    Volume,
    Mass,
    Distance,
    PassengerDistance,
    FreightDistance,
    Money,
    Count,
    RoomNights,
    FteHours,
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Energy => "energy",
            Self::Volume => "volume",
            Self::Mass => "mass",
            Self::Distance => "distance",
            Self::PassengerDistance => "passenger distance",
            Self::FreightDistance => "freight distance",
            Self::Money => "money",
            Self::Count => "count",
            Self::RoomNights => "room nights",
            Self::FteHours => "FTE working hours",
        })
    }
}

/// The units greenplan knows, each with its dimension and its size in the dimension's base
/// unit (MJ, litre, kg, metre, passenger-km, tonne-km, £, one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    WattHour,
    KilowattHour,
    MegawattHour,
    GigawattHour,
    Megajoule,
    Gigajoule,
    Therm,
    Millilitre,
    Litre,
    CubicMetre,
    MillionLitres,
    Gram,
    Kilogram,
    Tonne,
    Metre,
    Kilometre,
    Mile,
    PassengerKilometre,
    PassengerMile,
    TonneKilometre,
    Pound,
    Count,
    RoomNight,
    FteHour,
}

impl UnitKind {
    pub fn dimension(self) -> Dimension {
        use UnitKind::*;
        match self {
            WattHour | KilowattHour | MegawattHour | GigawattHour | Megajoule | Gigajoule
            | Therm => Dimension::Energy,
            Millilitre | Litre | CubicMetre | MillionLitres => Dimension::Volume,
            Gram | Kilogram | Tonne => Dimension::Mass,
            Metre | Kilometre | Mile => Dimension::Distance,
            PassengerKilometre | PassengerMile => Dimension::PassengerDistance,
            TonneKilometre => Dimension::FreightDistance,
            Pound => Dimension::Money,
            Count => Dimension::Count,
            RoomNight => Dimension::RoomNights,
            FteHour => Dimension::FteHours,
        }
    }

    /// Size in the dimension's base unit. Every entry is an exact decimal (energy is based on
    /// the MJ so that kWh = 3.6 MJ is exact; a mile is 1,609.344 m by definition; a therm is
    /// 105.505585 MJ).
    pub fn scale(self) -> Decimal {
        use UnitKind::*;
        let (mantissa, exp): (i64, u32) = match self {
            WattHour => (36, 4),
            KilowattHour => (36, 1),
            MegawattHour => (3600, 0),
            GigawattHour => (3_600_000, 0),
            Megajoule => (1, 0),
            Gigajoule => (1000, 0),
            Therm => (105_505_585, 6),
            Millilitre => (1, 3),
            Litre => (1, 0),
            CubicMetre => (1000, 0),
            MillionLitres => (1_000_000, 0),
            Gram => (1, 3),
            Kilogram => (1, 0),
            Tonne => (1000, 0),
            Metre => (1, 0),
            Kilometre => (1000, 0),
            Mile => (1_609_344, 3),
            PassengerKilometre => (1, 0),
            PassengerMile => (1_609_344, 6),
            TonneKilometre => (1, 0),
            Pound => (1, 0),
            Count => (1, 0),
            RoomNight => (1, 0),
            FteHour => (1, 0),
        };
        Decimal::new(mantissa, exp)
    }

    /// The symbol greenplan writes.
    pub fn symbol(self) -> &'static str {
        use UnitKind::*;
        match self {
            WattHour => "Wh",
            KilowattHour => "kWh",
            MegawattHour => "MWh",
            GigawattHour => "GWh",
            Megajoule => "MJ",
            Gigajoule => "GJ",
            Therm => "therms",
            Millilitre => "ml",
            Litre => "litres",
            CubicMetre => "cubic metres",
            MillionLitres => "million litres",
            Gram => "g",
            Kilogram => "kg",
            Tonne => "tonnes",
            Metre => "m",
            Kilometre => "km",
            Mile => "miles",
            PassengerKilometre => "passenger.km",
            PassengerMile => "passenger.miles",
            TonneKilometre => "tonne.km",
            Pound => "GBP",
            Count => "count",
            RoomNight => "room nights",
            FteHour => "FTE hours",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        use UnitKind::*;
        let trimmed = crate::quantity::trim(name);
        // This runs once per activity row, and most units are short ASCII (`kWh`, `litres`):
        // those are lowered in a buffer on the stack rather than in a new `String`. For ASCII
        // text `to_ascii_lowercase` and `to_lowercase` agree, so the match below sees the same.
        let mut buf = [0u8; 24];
        let lowered;
        let n = if trimmed.is_ascii() && trimmed.len() <= buf.len() {
            let b = &mut buf[..trimmed.len()];
            // Byte by byte: a copy of variable length would call memcpy.
            for (to, from) in b.iter_mut().zip(trimmed.bytes()) {
                *to = from.to_ascii_lowercase();
            }
            // ASCII in, ASCII out: never the fallback.
            std::str::from_utf8(b).unwrap_or_default()
        } else {
            lowered = trimmed.to_lowercase();
            lowered.as_str()
        };
        Some(match n {
            "wh" => WattHour,
            "kwh" | "kilowatt hours" | "kilowatt-hours" | "kilowatt hour" => KilowattHour,
            "mwh" | "megawatt hours" => MegawattHour,
            "gwh" => GigawattHour,
            "mj" => Megajoule,
            "gj" => Gigajoule,
            "therm" | "therms" => Therm,
            "ml" | "millilitres" | "milliliters" => Millilitre,
            "l" | "litre" | "litres" | "liter" | "liters" => Litre,
            "m3" | "m³" | "cubic metre" | "cubic metres" | "cubic meter" | "cubic meters" => {
                CubicMetre
            }
            "million litres" | "megalitres" | "megaliters" => MillionLitres,
            "g" | "grams" => Gram,
            "kg" | "kilograms" | "kilogram" => Kilogram,
            "t" | "tonne" | "tonnes" | "metric tons" => Tonne,
            "m" | "metres" | "meters" => Metre,
            "km" | "kilometres" | "kilometers" => Kilometre,
            "mile" | "miles" => Mile,
            "passenger.km" | "passenger km" | "passenger-km" | "pkm" => PassengerKilometre,
            "passenger.mile" | "passenger.miles" | "passenger miles" => PassengerMile,
            "tonne.km" | "tonne km" | "tonne-km" | "tkm" => TonneKilometre,
            "£" | "gbp" | "pounds" => Pound,
            "count" | "unit" | "units" | "each" | "items" | "number" => Count,
            "room per night" | "room nights" | "room night" => RoomNight,
            "per fte working hour" | "fte hours" | "fte working hours" => FteHour,
            _ => return None,
        })
    }
}

/// A unit with its qualifier, e.g. `kWh (Gross CV)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unit {
    pub kind: UnitKind,
    /// Basis of the measurement (`Gross CV`, `Net CV`), kept so it is never confused.
    pub qualifier: Option<String>,
}

/// Why a unit could not be read or converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error(
        "unknown unit `{0}`: use one of kWh, MWh, GJ, litres, cubic metres, kg, tonnes, km, miles, passenger.km, tonne.km, GBP, count (add `(Gross CV)` or `(Net CV)` to energy where it matters)"
    )]
    Unknown(String),
    #[error("cannot convert {from} ({from_dim}) to {to} ({to_dim}): they measure different things")]
    AcrossDimensions {
        from: String,
        from_dim: Dimension,
        to: String,
        to_dim: Dimension,
    },
    #[error("cannot convert {from} to {to}: the calorific value bases differ")]
    QualifierMismatch { from: String, to: String },
    #[error("{0} is too large to express in {1}")]
    TooLarge(String, String),
}

impl Unit {
    pub fn new(kind: UnitKind) -> Self {
        Self {
            kind,
            qualifier: None,
        }
    }

    pub fn with_qualifier(kind: UnitKind, qualifier: &str) -> Self {
        Self {
            kind,
            qualifier: Some(normalise_qualifier(qualifier)),
        }
    }

    pub fn dimension(&self) -> Dimension {
        self.kind.dimension()
    }

    /// As [`Unit::conversion_to`], but a unit given without a basis takes the basis of `to`
    /// (used once a factor has been chosen unambiguously for it).
    pub fn conversion_to_assuming_basis(&self, to: &Unit) -> Result<Decimal, UnitError> {
        if self.qualifier.is_none() && to.qualifier.is_some() {
            if self.dimension() != to.dimension() {
                return self.conversion_to(to);
            }
            return Ok(if self.kind == to.kind {
                Decimal::ONE
            } else {
                self.kind.scale() / to.kind.scale()
            });
        }
        self.conversion_to(to)
    }

    /// The factor by which a value in `self` is multiplied to express it in `to`.
    pub fn conversion_to(&self, to: &Unit) -> Result<Decimal, UnitError> {
        if self.dimension() != to.dimension() {
            return Err(UnitError::AcrossDimensions {
                from: self.to_string(),
                from_dim: self.dimension(),
                to: to.to_string(),
                to_dim: to.dimension(),
            });
        }
        if self.qualifier != to.qualifier {
            return Err(UnitError::QualifierMismatch {
                from: self.to_string(),
                to: to.to_string(),
            });
        }
        if self.kind == to.kind {
            return Ok(Decimal::ONE);
        }
        Ok(self.kind.scale() / to.kind.scale())
    }
}

impl FromStr for Unit {
    type Err = UnitError;

    /// Reads `kWh`, `kWh (Gross CV)`, `cubic metres`, `£`…
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let text = crate::quantity::trim(raw);
        let (name, qualifier) = match text.split_once('(') {
            Some((name, rest)) => (name.trim(), Some(rest.trim_end_matches(')').trim())),
            None => (text, None),
        };
        let kind = UnitKind::from_name(name).ok_or_else(|| UnitError::Unknown(raw.to_string()))?;
        Ok(match qualifier {
            Some(q) if !q.is_empty() => Self::with_qualifier(kind, q),
            _ => Self::new(kind),
        })
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.qualifier {
            Some(q) => write!(f, "{} ({q})", self.kind.symbol()),
            None => f.write_str(self.kind.symbol()),
        }
    }
}

/// `gross cv` and `Gross CV` are the same basis; the published spelling is kept.
fn normalise_qualifier(q: &str) -> String {
    let lower = q.trim().to_lowercase();
    match lower.as_str() {
        "gross cv" | "gross" => "Gross CV".to_string(),
        "net cv" | "net" => "Net CV".to_string(),
        _ => q.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Unit {
        s.parse().unwrap()
    }

    #[test]
    fn conversions_within_a_dimension_are_exact() {
        assert_eq!(
            u("MWh").conversion_to(&u("kWh")).unwrap(),
            Decimal::from(1000)
        );
        assert_eq!(
            u("miles").conversion_to(&u("km")).unwrap(),
            Decimal::new(1_609_344, 6)
        );
        assert_eq!(
            u("litres").conversion_to(&u("m3")).unwrap(),
            Decimal::new(1, 3)
        );
        assert_eq!(
            u("kWh").conversion_to(&u("GJ")).unwrap(),
            Decimal::new(36, 4)
        );
        assert_eq!(
            u("tonnes").conversion_to(&u("kg")).unwrap(),
            Decimal::from(1000)
        );
    }

    #[test]
    fn across_dimensions_is_an_error() {
        let err = u("litres").conversion_to(&u("kWh")).unwrap_err();
        assert!(err.to_string().contains("different things"), "{err}");
    }

    #[test]
    fn gross_and_net_are_never_confused() {
        let gross = u("kWh (Gross CV)");
        let net = u("kWh (net cv)");
        assert_eq!(gross.qualifier.as_deref(), Some("Gross CV"));
        assert_eq!(net.to_string(), "kWh (Net CV)");
        assert!(matches!(
            gross.conversion_to(&net),
            Err(UnitError::QualifierMismatch { .. })
        ));
        assert_eq!(
            u("MWh (Gross CV)").conversion_to(&gross).unwrap(),
            Decimal::from(1000)
        );
    }

    #[test]
    fn unknown_units_name_the_fix() {
        let err = "furlongs".parse::<Unit>().unwrap_err();
        assert!(err.to_string().contains("furlongs"));
        assert!(err.to_string().contains("kWh"));
    }
}
