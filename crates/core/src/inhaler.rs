//! Inhaler products: what a BNF presentation code is (device, carbon per inhaler, doses per
//! inhaler, where each figure comes from) and how many inhalers a prescription line stands for.
//!
//! The table itself is data (`data/inhalers/inhaler-products.csv`, read by `greenplan-ingest`)
//! so that a medicines lead can correct or extend it without a new release; this module only
//! holds the rules that every figure built from it follows.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// The BNF chemical substance code of salbutamol: OpenPrescribing's salbutamol measure and the
/// "excluding salbutamol" in its MDI-share measure both use it.
pub const SALBUTAMOL: &str = "0301011R0";

/// Above this quantity per item, a prescription's quantity is doses, not inhalers
/// (OpenPrescribing's rule: nobody is given ten inhalers on one item).
pub const MAX_INHALERS_PER_ITEM: Decimal = Decimal::from_parts(9, 0, 0, false, 0);

/// Decimal places kept when doses are turned into inhalers (per month, organisation and
/// product), so that totals are exact sums of figures that can be shown.
pub const INHALER_DECIMALS: u32 = 6;

/// How an inhaler delivers its medicine: what decides its carbon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Device {
    /// Pressurised metered-dose inhaler: the propellant (HFA-134a, HFA-227ea) is the carbon.
    #[serde(rename = "MDI")]
    Mdi,
    /// Dry powder inhaler: no propellant.
    #[serde(rename = "DPI")]
    Dpi,
    /// Soft mist inhaler: no propellant.
    #[serde(rename = "SMI")]
    Smi,
    /// Anything else inhaled (e.g. a spacer-only or nebuliser presentation kept for totals).
    #[serde(rename = "other")]
    Other,
}

impl Device {
    pub const ALL: [Device; 4] = [Device::Mdi, Device::Dpi, Device::Smi, Device::Other];

    pub fn label(self) -> &'static str {
        match self {
            Self::Mdi => "MDI",
            Self::Dpi => "DPI",
            Self::Smi => "SMI",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An unknown device type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a device type: write MDI, DPI, SMI or other")]
pub struct DeviceError(pub String);

impl FromStr for Device {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mdi" | "pmdi" => Ok(Self::Mdi),
            "dpi" => Ok(Self::Dpi),
            "smi" => Ok(Self::Smi),
            "other" => Ok(Self::Other),
            _ => Err(DeviceError(s.trim().to_string())),
        }
    }
}

/// One BNF presentation in the inhaler product table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InhalerProduct {
    /// The 15-character BNF presentation code, as the English Prescribing Dataset writes it.
    pub bnf_code: String,
    pub description: String,
    pub device: Device,
    /// HFA-134a, HFA-227ea, HFA-152a…, where known.
    pub propellant: Option<String>,
    pub kgco2e_per_inhaler: Decimal,
    /// Doses in one inhaler; needed when prescriptions give doses rather than inhalers.
    pub doses_per_inhaler: Option<Decimal>,
    /// Where the figures come from.
    pub source: String,
    /// True when the carbon figure is a class default, not a published figure for this product.
    pub class_default: bool,
}

impl InhalerProduct {
    /// True for salbutamol presentations (BNF 0301011R0).
    pub fn is_salbutamol(&self) -> bool {
        self.bnf_code.starts_with(SALBUTAMOL)
    }
}

/// The inhaler product table: products by BNF code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InhalerTable {
    products: Vec<InhalerProduct>,
    index: HashMap<String, usize>,
}

impl InhalerTable {
    /// A table of these products; a later row for the same code replaces an earlier one.
    pub fn new(products: impl IntoIterator<Item = InhalerProduct>) -> Self {
        let mut table = Self::default();
        table.extend(products);
        table
    }

    /// Adds products, replacing any with the same BNF code (a user's file over the shipped one).
    pub fn extend(&mut self, products: impl IntoIterator<Item = InhalerProduct>) {
        for p in products {
            match self.index.get(&p.bnf_code) {
                Some(&i) => self.products[i] = p,
                None => {
                    self.index.insert(p.bnf_code.clone(), self.products.len());
                    self.products.push(p);
                }
            }
        }
    }

    pub fn get(&self, bnf_code: &str) -> Option<&InhalerProduct> {
        self.index.get(bnf_code).map(|&i| &self.products[i])
    }

    pub fn products(&self) -> &[InhalerProduct] {
        &self.products
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
}

/// Prescribed quantities of one product, split by the quantity-as-doses rule, so that the
/// rule is applied once per product (exactly) rather than once per prescription line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrescribedQuantity {
    pub items: i64,
    /// Total quantity of lines whose quantity per item is at most 9: inhalers.
    pub as_inhalers: Decimal,
    /// Total quantity of lines whose quantity per item is above 9: doses.
    pub as_doses: Decimal,
}

impl PrescribedQuantity {
    /// One prescription line (an EPD row): `quantity` per item, `total_quantity` over all its
    /// items.
    pub fn line(items: i64, quantity: Decimal, total_quantity: Decimal) -> Self {
        if quantity > MAX_INHALERS_PER_ITEM {
            Self {
                items,
                as_inhalers: Decimal::ZERO,
                as_doses: total_quantity,
            }
        } else {
            Self {
                items,
                as_inhalers: total_quantity,
                as_doses: Decimal::ZERO,
            }
        }
    }

    pub fn add(&mut self, other: &Self) {
        self.items += other.items;
        self.as_inhalers += other.as_inhalers;
        self.as_doses += other.as_doses;
    }

    /// Inhalers: quantities given as inhalers, plus doses ÷ doses per inhaler rounded
    /// half-to-even to [`INHALER_DECIMALS`] places. Without a dose count, doses cannot be
    /// turned into inhalers: `None` when there are any.
    pub fn inhalers(&self, doses_per_inhaler: Option<Decimal>) -> Option<Decimal> {
        if self.as_doses.is_zero() {
            return Some(self.as_inhalers);
        }
        let doses = doses_per_inhaler.filter(|d| *d > Decimal::ZERO)?;
        let from_doses = (self.as_doses / doses).round_dp_with_strategy(
            INHALER_DECIMALS,
            rust_decimal::RoundingStrategy::MidpointNearestEven,
        );
        Some(self.as_inhalers + from_doses)
    }
}

/// Words in a BNF description that name an inhaled device. Used only to find inhalers that
/// the product table is missing, so that they are reported rather than silently dropped.
const INHALER_WORDS: &[&str] = &[
    "inhaler",
    "inhalation powder",
    "inhalation solution",
    "haler",
    "respimat",
    "ellipta",
    "genuair",
    "breezhaler",
    "easi-breathe",
    "rotacaps",
    // Diskhaler devices and their refill disks ("Ventodisks 200microgram").
    "disk",
    "novolizer",
    "forspiro",
    "aerosphere",
    "spiromax",
    "inhal",
];
/// Inhaled but not inhalers (nebules, nebuliser liquids, capsules for nebulisers).
const NOT_INHALER_WORDS: &[&str] = &["nebul", "respules", "steri-neb", "vial", "tablet", "oral"];

/// True when a BNF code and description look like an inhaler presentation: BNF chapter 3,
/// sections 3.1 (bronchodilators) or 3.2 (corticosteroids), with a device word in its name.
pub fn looks_like_inhaler(bnf_code: &str, description: &str) -> bool {
    if !(bnf_code.starts_with("0301") || bnf_code.starts_with("0302")) {
        return false;
    }
    let d = description.to_ascii_lowercase();
    INHALER_WORDS.iter().any(|w| d.contains(w)) && !NOT_INHALER_WORDS.iter().any(|w| d.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn quantity_above_nine_per_item_is_doses() {
        // Two items of one inhaler each: 2 inhalers.
        let q = PrescribedQuantity::line(2, d("1"), d("2"));
        assert_eq!(q.inhalers(Some(d("200"))), Some(d("2")));
        // Nine per item is still inhalers.
        let q = PrescribedQuantity::line(1, d("9"), d("9"));
        assert_eq!(q.inhalers(Some(d("200"))), Some(d("9")));
        // Three items of 200 doses: 600 doses of a 200-dose inhaler = 3 inhalers.
        let q = PrescribedQuantity::line(3, d("200"), d("600"));
        assert_eq!(q.as_doses, d("600"));
        assert_eq!(q.inhalers(Some(d("200"))), Some(d("3")));
        // 10 per item is doses: 10 doses of 120 = 0.083333 (rounded half to even).
        let q = PrescribedQuantity::line(1, d("10"), d("10"));
        assert_eq!(q.inhalers(Some(d("120"))), Some(d("0.083333")));
        // Doses without a dose count cannot be counted.
        assert_eq!(q.inhalers(None), None);
    }

    #[test]
    fn doses_are_divided_once_per_product() {
        let mut q = PrescribedQuantity::default();
        for _ in 0..3 {
            q.add(&PrescribedQuantity::line(1, d("40"), d("40")));
        }
        q.add(&PrescribedQuantity::line(2, d("1"), d("2")));
        // 120 doses of a 120-dose inhaler is exactly one, plus two inhalers.
        assert_eq!(q.items, 5);
        assert_eq!(q.inhalers(Some(d("120"))), Some(d("3")));
    }

    #[test]
    fn a_later_product_row_replaces_an_earlier_one() {
        let p = |kg: &str| InhalerProduct {
            bnf_code: "0301011R0AAAPAP".into(),
            description: "Salbutamol".into(),
            device: Device::Mdi,
            propellant: None,
            kgco2e_per_inhaler: d(kg),
            doses_per_inhaler: Some(d("200")),
            source: "test".into(),
            class_default: false,
        };
        let table = InhalerTable::new([p("25.24"), p("20")]);
        assert_eq!(table.len(), 1);
        assert_eq!(
            table.get("0301011R0AAAPAP").unwrap().kgco2e_per_inhaler,
            d("20")
        );
        assert!(table.get("0301011R0AAAPAP").unwrap().is_salbutamol());
    }

    #[test]
    fn inhalers_are_told_from_other_chapter_3_products() {
        assert!(looks_like_inhaler(
            "0301020Q0BBACAC",
            "Spiriva Respimat 2.5micrograms/dose inhalation solution cartridge with device"
        ));
        assert!(looks_like_inhaler(
            "0301011R0AAAPAP",
            "Salbutamol 100micrograms/dose inhaler CFC free"
        ));
        assert!(looks_like_inhaler(
            "0301011R0BLABAK",
            "Ventodisks 200microgram"
        ));
        assert!(!looks_like_inhaler(
            "0301011R0AAAXAX",
            "Salbutamol 2.5mg/2.5ml nebuliser liquid unit dose vials"
        ));
        assert!(!looks_like_inhaler(
            "0301011R0AAAAAA",
            "Salbutamol 4mg tablets"
        ));
        assert!(!looks_like_inhaler(
            "0407010H0AAAMAM",
            "Paracetamol inhaler"
        ));
        assert_eq!("dpi".parse::<Device>(), Ok(Device::Dpi));
        assert!("spray".parse::<Device>().is_err());
    }
}
