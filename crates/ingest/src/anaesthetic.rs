//! Anaesthetic gas returns (CSV or XLSX) with the header
//! `organisation,month,agent,quantity,unit` and optional `supply,basis`: one line per trust,
//! month and agent, e.g. `RTG,2025-04,nitrous-oxide,3,cylinder-J,piped,purchased`. Every bad
//! row is reported; a file with any is refused whole.

use crate::error::{IngestError, RowError};
use crate::table;
use greenplan_core::anaesthetic::{Basis, GasUse, Supply};
use greenplan_core::period::YearMonth;
use greenplan_core::quantity::parse_decimal;
use rust_decimal::Decimal;
use std::path::Path;

pub const REQUIRED: &[&str] = &["organisation", "month", "agent", "quantity", "unit"];
pub const OPTIONAL: &[&str] = &["supply", "basis"];

/// Reads a gas return: its lines with their row numbers, or every problem in it.
pub fn read_gas_returns(path: &Path) -> Result<Vec<(u64, GasUse)>, IngestError> {
    let file = crate::activity::file_name(path);
    let (header, rows) = table::open(
        path,
        crate::source::FileKind::AnaestheticGases,
        REQUIRED,
        OPTIONAL,
    )?;
    let mut uses = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        let row = row?;
        if row.is_blank() {
            continue;
        }
        let mut fail = |column: &str, message: String| {
            errors.push(RowError {
                file: file.clone(),
                row: row.number,
                column: Some(column.into()),
                message,
            })
        };
        let cell = |n: &str| row.get(&header, n).unwrap_or_default();
        let organisation = cell("organisation").to_ascii_uppercase();
        if organisation.is_empty() {
            fail(
                "organisation",
                "is empty: give the trust's ODS code, e.g. RTG".into(),
            );
        }
        let month = YearMonth::parse(cell("month"))
            .map_err(|_| {
                fail(
                    "month",
                    format!("`{}` is not a month: write 2025-04", cell("month")),
                )
            })
            .ok();
        let agent = cell("agent")
            .parse()
            .map_err(|e| fail("agent", format!("{e}")))
            .ok();
        let quantity = match parse_decimal(cell("quantity")) {
            Some(q) if q >= Decimal::ZERO => Some(q),
            _ => {
                fail(
                    "quantity",
                    format!(
                        "`{}` is not a quantity: enter a number, 0 or more",
                        cell("quantity")
                    ),
                );
                None
            }
        };
        let unit = cell("unit")
            .parse()
            .map_err(|e| fail("unit", format!("{e}")))
            .ok();
        let supply = match cell("supply").to_ascii_lowercase().as_str() {
            "" => Some(None),
            "piped" => Some(Some(Supply::Piped)),
            "portable" | "cylinder" | "cylinders" => Some(Some(Supply::Portable)),
            other => {
                fail(
                    "supply",
                    format!(
                        "`{other}` is not a supply: write piped or portable, or leave it empty"
                    ),
                );
                None
            }
        };
        let basis = match cell("basis").to_ascii_lowercase().as_str() {
            "" | "purchased" | "bought" => Some(Basis::Purchased),
            "clinical-use" | "clinical use" | "used" => Some(Basis::ClinicalUse),
            other => {
                fail(
                    "basis",
                    format!("`{other}` is not a basis: write purchased or clinical-use"),
                );
                None
            }
        };
        if let (
            false,
            Some(month),
            Some(agent),
            Some(quantity),
            Some(unit),
            Some(supply),
            Some(basis),
        ) = (
            organisation.is_empty(),
            month,
            agent,
            quantity,
            unit,
            supply,
            basis,
        ) {
            let u = GasUse {
                organisation,
                month,
                agent,
                quantity,
                unit,
                supply,
                basis,
            };
            match u.kg() {
                Ok(_) => uses.push((row.number, u)),
                Err(e @ greenplan_core::anaesthetic::GasError::TooLarge { .. }) => {
                    fail("quantity", e.to_string())
                }
                Err(e) => fail("unit", e.to_string()),
            }
        }
    }
    if errors.is_empty() {
        Ok(uses)
    } else {
        Err(IngestError::rows(errors))
    }
}
