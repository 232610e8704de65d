//! GHG scopes and the categories of the NHS Carbon Footprint and Carbon Footprint Plus.
//!
//! Every emission greenplan computes lands in one scope and one NHS category. The default
//! category comes from the factor's Level 1 heading ([`default_category`]); an activity row can
//! override it (diesel burnt in an ambulance is fleet, not building energy).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A Greenhouse Gas Protocol scope, as the conversion factor files label them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Scope1,
    Scope2,
    Scope3,
    /// Biogenic CO2 from biofuels: reported beside the footprint, never added to it.
    OutsideOfScopes,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Self::Scope1 => "Scope 1",
            Self::Scope2 => "Scope 2",
            Self::Scope3 => "Scope 3",
            Self::OutsideOfScopes => "Outside of scopes",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a scope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`: use 1, 2, 3 (or Scope 1 / Scope 2 / Scope 3) or `outside`")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let t = raw.trim().to_lowercase();
        let t = t.strip_prefix("scope").unwrap_or(&t).trim();
        match t {
            "1" => Ok(Self::Scope1),
            "2" => Ok(Self::Scope2),
            "3" => Ok(Self::Scope3),
            _ if t.starts_with("outside") => Ok(Self::OutsideOfScopes),
            _ => Err(UnknownScope(raw.to_string())),
        }
    }
}

/// Which national footprint a category belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Footprint {
    /// Emissions the NHS controls directly: net zero by 2040.
    CarbonFootprint,
    /// Adds the supply chain, travel and commissioned services: net zero by 2045.
    CarbonFootprintPlus,
    /// Reported beside the footprints (biogenic CO2).
    Outside,
}

impl Footprint {
    pub fn label(self) -> &'static str {
        match self {
            Self::CarbonFootprint => "NHS Carbon Footprint",
            Self::CarbonFootprintPlus => "NHS Carbon Footprint Plus",
            Self::Outside => "Outside of scopes",
        }
    }
}

macro_rules! categories {
    ($( $variant:ident => $slug:literal, $label:literal, $footprint:ident; )*) => {
        /// A category of the NHS Carbon Footprint or Carbon Footprint Plus.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum NhsCategory { $( $variant, )* }

        impl NhsCategory {
            /// Every category, in the order NHS England lists them.
            pub const ALL: &'static [NhsCategory] = &[ $( NhsCategory::$variant, )* ];

            /// The identifier used in files and URLs.
            pub fn slug(self) -> &'static str {
                match self { $( Self::$variant => $slug, )* }
            }

            /// The name NHS England uses.
            pub fn label(self) -> &'static str {
                match self { $( Self::$variant => $label, )* }
            }

            pub fn footprint(self) -> Footprint {
                match self { $( Self::$variant => Footprint::$footprint, )* }
            }
        }
    };
}

categories! {
    BuildingEnergy => "building-energy", "Building energy", CarbonFootprint;
    AnaestheticGases => "anaesthetic-gases", "Anaesthetic gases", CarbonFootprint;
    Inhalers => "inhalers", "Metered-dose inhalers", CarbonFootprint;
    FleetAndBusinessTravel => "fleet-and-business-travel", "Fleet and business travel", CarbonFootprint;
    Waste => "waste", "Waste", CarbonFootprint;
    Water => "water", "Water", CarbonFootprint;
    Refrigerants => "refrigerants", "Refrigerants and other direct emissions", CarbonFootprint;
    MedicinesAndChemicals => "medicines-and-chemicals", "Medicines and chemicals", CarbonFootprintPlus;
    MedicalEquipment => "medical-equipment", "Medical equipment", CarbonFootprintPlus;
    NonMedicalEquipment => "non-medical-equipment", "Non-medical equipment", CarbonFootprintPlus;
    BusinessServices => "business-services", "Business services", CarbonFootprintPlus;
    Construction => "construction", "Construction", CarbonFootprintPlus;
    Freight => "freight", "Freight", CarbonFootprintPlus;
    FoodAndCatering => "food-and-catering", "Food and catering", CarbonFootprintPlus;
    Ict => "ict", "ICT", CarbonFootprintPlus;
    CommissionedHealthServices => "commissioned-health-services", "Commissioned health services", CarbonFootprintPlus;
    StaffCommuting => "staff-commuting", "Staff commuting", CarbonFootprintPlus;
    PatientAndVisitorTravel => "patient-and-visitor-travel", "Patient and visitor travel", CarbonFootprintPlus;
    BiogenicOutsideOfScopes => "outside-of-scopes", "Biogenic CO2 (outside of scopes)", Outside;
}

impl fmt::Display for NhsCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a category could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown NHS category `{0}`: use one of building-energy, anaesthetic-gases, inhalers, fleet-and-business-travel, waste, water, refrigerants, medicines-and-chemicals, medical-equipment, non-medical-equipment, business-services, construction, freight, food-and-catering, ict, commissioned-health-services, staff-commuting, patient-and-visitor-travel"
)]
pub struct UnknownCategory(pub String);

impl FromStr for NhsCategory {
    type Err = UnknownCategory;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let t = raw.trim().to_lowercase().replace([' ', '_'], "-");
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.slug() == t || c.label().to_lowercase().replace(' ', "-") == t)
            .ok_or_else(|| UnknownCategory(raw.to_string()))
    }
}

/// The documented default: which NHS category a conversion factor's emissions belong to,
/// from its scope and Level 1 heading. Activity rows override it with their `category`.
///
/// | Level 1 | category |
/// |---|---|
/// | Fuels, Bioenergy, UK electricity, Heat and steam, WTT- fuels / electricity / heat, Transmission and distribution | building energy |
/// | Passenger vehicles, Delivery vehicles, SECR kWh…, UK electricity for EVs, Business travel-…, Hotel stay, Managed assets- vehicles, WTT- pass vehs / business travel | fleet and business travel |
/// | Refrigerant & other | refrigerants and other direct emissions |
/// | Waste disposal | waste |
/// | Water supply, Water treatment | water |
/// | Material use | non-medical equipment |
/// | Freighting goods, WTT- delivery vehs & freight | freight |
/// | Homeworking | staff commuting |
/// | Outside of scopes | biogenic CO2, outside the footprints |
pub fn default_category(scope: Scope, level1: &str) -> NhsCategory {
    if scope == Scope::OutsideOfScopes {
        return NhsCategory::BiogenicOutsideOfScopes;
    }
    let l1 = level1.trim().to_lowercase();
    let has = |s: &str| l1.contains(s);
    if has("waste") {
        NhsCategory::Waste
    } else if has("water") {
        NhsCategory::Water
    } else if has("refrigerant") {
        NhsCategory::Refrigerants
    } else if has("material") {
        NhsCategory::NonMedicalEquipment
    } else if has("freight") || has("delivery vehs") {
        NhsCategory::Freight
    } else if has("homeworking") {
        NhsCategory::StaffCommuting
    } else if has("vehicle")
        || has("vehs")
        || has("travel")
        || has("hotel")
        || has("for evs")
        || has("managed assets- vehicles")
    {
        NhsCategory::FleetAndBusinessTravel
    } else {
        NhsCategory::BuildingEnergy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mapping_of_level_1_headings() {
        use NhsCategory::*;
        let cases = [
            (Scope::Scope1, "Fuels", BuildingEnergy),
            (Scope::Scope2, "UK electricity", BuildingEnergy),
            (Scope::Scope3, "WTT- fuels", BuildingEnergy),
            (
                Scope::Scope3,
                "Transmission and distribution",
                BuildingEnergy,
            ),
            (Scope::Scope1, "Passenger vehicles", FleetAndBusinessTravel),
            (
                Scope::Scope3,
                "Business travel- land",
                FleetAndBusinessTravel,
            ),
            (Scope::Scope3, "Hotel stay", FleetAndBusinessTravel),
            (
                Scope::Scope2,
                "UK electricity for EVs",
                FleetAndBusinessTravel,
            ),
            (Scope::Scope3, "Waste disposal", Waste),
            (Scope::Scope3, "Water supply", Water),
            (Scope::Scope3, "Freighting goods", Freight),
            (Scope::Scope3, "WTT- delivery vehs & freight", Freight),
            (Scope::Scope1, "Refrigerant & other", Refrigerants),
            (Scope::Scope3, "Material use", NonMedicalEquipment),
            (Scope::Scope3, "Homeworking", StaffCommuting),
            (
                Scope::OutsideOfScopes,
                "Outside of scopes",
                BiogenicOutsideOfScopes,
            ),
        ];
        for (scope, l1, want) in cases {
            assert_eq!(default_category(scope, l1), want, "{l1}");
        }
    }

    #[test]
    fn categories_parse_by_slug_or_label() {
        assert_eq!(
            "Anaesthetic gases".parse::<NhsCategory>().unwrap(),
            NhsCategory::AnaestheticGases
        );
        assert_eq!(
            "staff-commuting".parse::<NhsCategory>().unwrap(),
            NhsCategory::StaffCommuting
        );
        assert!("canteen".parse::<NhsCategory>().is_err());
        assert_eq!(
            NhsCategory::Inhalers.footprint(),
            Footprint::CarbonFootprint
        );
        assert_eq!(
            NhsCategory::Freight.footprint(),
            Footprint::CarbonFootprintPlus
        );
    }

    #[test]
    fn scopes_parse() {
        assert_eq!("Scope 2".parse::<Scope>().unwrap(), Scope::Scope2);
        assert_eq!("3".parse::<Scope>().unwrap(), Scope::Scope3);
        assert_eq!(
            "Outside of Scopes".parse::<Scope>().unwrap(),
            Scope::OutsideOfScopes
        );
        assert!("4".parse::<Scope>().is_err());
    }
}
